// Learning dynamics (paper Figure 4): the layers × layers heatmap of sim(layer i at step t, layer j
// at the reference step) one checkpoint at a time (slider, play, ← / →) or all side by side, on one
// shared colour scale; and the convergence curves (the diagonal over time) with the Freeze
// Training steps. Clicking a cell (or Enter on it) opens the pair's drill-down.

import { drawsOf } from '../analysis/chanceDefs';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useAppStore } from '../state/hooks';
import {
  activeBundle,
  notComputedReason,
  openPair,
  setMultiples,
  setPlaying,
  setReference,
  setRunIndex,
  setShowFreeze,
  setStepIndex,
  setThreshold,
  stepBy,
} from '../state/store';
import { stepsOfRun } from '../state/preview';
import { dynamicsExport } from '../state/dynamicsExport';
import { footerLine, gridExportInfo } from '../state/exportInfo';
import { ChartFigure } from './ChartFigure';
import { DrillDown } from './DrillDown';
import { ErrorBoundary } from './ErrorBoundary';
import { ComputedOn, JobStatus } from './JobStatus';
import { ChanceControls, FitColoursCheck, MatrixExportButtons, StepSelect } from './ViewControls';
import { cellLines, chanceCsv, shownHeat, type ShownHeat } from './chanceHeat';
import { download } from './exportChart';
import { WarningList } from './WarningList';
import { RunChoice, SeedsDynamicsView } from './SeedsView';
import { seedsAvailable } from '../state/seeds';
import { ConvergenceChart } from './charts/ConvergenceChart';
import { compactStep, convergenceSeries, type ChanceBand } from './charts/convergenceLayout';
import { badCellWhy, curveGaps, freezeStep, undecidedText, type UndecidedFreeze } from '../analysis/chanceDefs';
import type { BadArray, Baseline, DynamicsResult } from '../analysis/types';
import { APP_BASELINE } from '../state/explorer';
import { Heatmap } from './charts/Heatmap';
import { SmallMultiples } from './charts/SmallMultiples';
import { metricDef, metricLabel } from '../analysis/metricDefs';
import { freezeText, pair, shownName } from './format';

/** What a heatmap cell without a chance level says (only the diagonal was asked for). */
const NO_CHANCE = 'no chance level: only the diagonal cells (each layer against itself at the reference step) have one; choose “Chance of: every cell”';

/** Each layer's curve's chance band (mean ± 2 sd per step), from baseline[t][i][j]. */
function chanceBands(baseline: (Baseline | null)[][][], rows: readonly string[], cols: readonly string[]): ChanceBand[] {
  return rows.flatMap((layer, i) => {
    const j = cols.indexOf(layer);
    if (j < 0) return [];
    return [
      {
        layer,
        band: baseline.map((grid) => {
          const b = grid[i]?.[j] ?? null;
          return b ? { lo: b.mean - 2 * b.sd, hi: b.mean + 2 * b.sd } : null;
        }),
      },
    ];
  });
}

/** Per checkpoint: the shown blanks with every bad array's cells added (missing for good, with the file, array and why). */
function withBadCells(
  blanks: ShownHeat['blanks'],
  badArrays: readonly BadArray[] | undefined,
  steps: readonly number[],
  reference: number,
  rows: readonly string[],
  cols: readonly string[],
): ShownHeat['blanks'] {
  if (!badArrays || badArrays.length === 0) return blanks;
  return steps.map((step, t) => {
    const why = rows.map((row, i) => cols.map((col, j) => badCellWhy(badArrays, step, reference, row, col) ?? blanks[t]?.[i]?.[j] ?? null));
    return why.some((r) => r.some((w) => w !== null)) ? why : (blanks[t] ?? null);
  });
}

/** ← / → step through checkpoints when the focus is not in a control that uses them. */
function useArrowStepping(enabled: boolean) {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest('input, select, textarea, [role="tablist"], .heatmap-wrap, [contenteditable]')) return;
      e.preventDefault();
      stepBy(e.key === 'ArrowLeft' ? -1 : 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}

/** Where each layer starts to stay above the threshold; the first 12 layers, then "Show all". */
function FreezeList({
  freeze,
  steps,
  reference,
}: {
  freeze: { layer: string; t: number | null; chance?: string; undecided?: UndecidedFreeze }[];
  steps: readonly number[];
  reference: number | null;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? freeze : freeze.slice(0, 12);
  return (
    <>
      <ul className="freeze-list" aria-label="Freeze steps">
        {shown.map((f) => (
          <li key={f.layer}>
            <span className="layer">{shownName(f.layer)}</span>
            <span>{f.undecided ? undecidedText(f.undecided) : freezeText(f.t, steps, reference)}</span>
            {f.chance && <span className="freeze-chance">{f.chance}</span>}
          </li>
        ))}
      </ul>
      {freeze.length > 12 && (
        <button type="button" className="link-button more" aria-expanded={all} onClick={() => setAll(!all)}>
          {all ? 'Show fewer layers' : `Show all ${freeze.length} layers`}
        </button>
      )}
    </>
  );
}

export function DynamicsView() {
  const job = useAppStore((s) => s.dynamics);
  const info = useAppStore(activeBundle);
  const confirmed = useAppStore((s) => (s.activeBundle ? !!s.confirmed[s.activeBundle] : false));
  const waiting = useAppStore((s) => notComputedReason(s, 'dynamics'));
  const stepIndex = useAppStore((s) => s.stepIndex);
  const multiples = useAppStore((s) => s.multiples);
  const domainMode = useAppStore((s) => s.domain);
  const threshold = useAppStore((s) => s.threshold);
  const showFreeze = useAppStore((s) => s.showFreeze);
  const chance = useAppStore((s) => s.chance);
  const heatMode = useAppStore((s) => s.heatMode);
  const selected = useAppStore((s) => s.selected);
  const playing = useAppStore((s) => s.playing);
  const runIndex = useAppStore((s) => s.runIndex);
  const reference = useAppStore((s) => s.reference);
  const bundles = useAppStore((s) => s.bundles);
  const allRunsOffered = useAppStore((s) => seedsAvailable(s, 'dynamics'));
  const allRuns = useAppStore((s) => s.seedsView.dynamics) && allRunsOffered;

  useArrowStepping(!!job);
  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => stepBy(1, true), 900);
    return () => clearInterval(timer);
  }, [playing]);

  const series = useMemo(() => {
    if (!job) return [];
    const plain = convergenceSeries(job.values, job.rows, job.cols);
    if (!job.badArrays || job.badArrays.length === 0) return plain;
    const reference = job.reference ?? job.steps[job.steps.length - 1];
    return plain.map((s) => ({ ...s, missing: job.steps.map((step) => badCellWhy(job.badArrays, step, reference, s.layer, s.layer)) }));
  }, [job]);
  // The chance level of each curve's cells, when the job computed one (analysis/baseline.ts).
  const baseline = job?.kind === 'dynamics' && job.result && 'baseline' in job.result ? ((job.result as DynamicsResult).baseline ?? null) : null;
  const bands = useMemo(() => (job && baseline ? chanceBands(baseline, job.rows, job.cols) : undefined), [job, baseline]);
  // Every cell's chance level costs little with the Gaussian null (CCA, SVCCA), P times the grid with permutations.
  const cheapChance = baseline?.flat(2).some((b) => b?.null === 'gaussian') ?? false;
  const t = job ? Math.max(0, Math.min(stepIndex, job.steps.length - 1)) : 0;
  const metric = job ? metricLabel(job.metric) : '';
  const heat = useMemo(() => {
    if (!job) return null;
    const shown = shownHeat(heatMode, metric, job.values, baseline, job.blank, domainMode, job.status === 'done', NO_CHANCE);
    return { ...shown, blanks: withBadCells(shown.blanks, job.badArrays, job.steps, job.reference ?? 0, job.rows, job.cols) };
  }, [job, heatMode, metric, baseline, domainMode]);
  const exportInfo = useMemo(() => gridExportInfo(job, bundles), [job, bundles]);
  const stamp = useMemo(() => (exportInfo ? { footer: footerLine(exportInfo), fields: exportInfo.fields } : null), [exportInfo]);

  const describe = useCallback(
    (i: number, j: number) => {
      if (!job) return [];
      const v = job.values[t]?.[i]?.[j] ?? null;
      const kept = job.kept[t]?.[i]?.[j] ?? null;
      const b = baseline?.[t]?.[i]?.[j] ?? null;
      return [
        `${job.rows[i]} at step ${job.steps[t]} × ${job.cols[j]} at step ${job.reference} (reference)`,
        ...cellLines(heatMode, metric, v, b, heat?.blanks[t]?.[i]?.[j] ?? null, job.status === 'done' || !chance ? NO_CHANCE : 'chance level: computing'),
        kept ? `${metricDef(job.metric).keptNoun}: ${pair(kept)}` : '',
      ].filter(Boolean);
    },
    [job, t, metric, baseline, heatMode, chance, heat],
  );
  const onSelect = useCallback((i: number, j: number) => openPair({ view: 'dynamics', t, i, j }), [t]);

  if (!info) return null;
  if (allRuns) return <SeedsDynamicsView runs={info.runs} runIndex={runIndex} onRun={setRunIndex} />;
  if (!job || !heat) {
    return (
      <section className="card view" aria-label="Learning dynamics">
        <p className="hint" data-testid="not-computed">
          {confirmed ? 'Preparing…' : (waiting ?? 'Check the preview above, then press Compute.')}
        </p>
      </section>
    );
  }

  const steps = job.steps;
  const runs = info.runs;
  const runSteps = stepsOfRun(info, runs[Math.min(runIndex, runs.length - 1)]);
  const step = steps[t];
  const hatched = heat.missing > 0 ? ' Hatched: no chance level (only the diagonal has one).' : '';
  const caption = `${metric} similarity of each layer at step ${step} (rows) to each layer at the reference step ${job.reference} (columns), ${job.names.a}. ${heat.colour}, shared by every checkpoint.${hatched}`;
  const multiCaption = `${metric} learning dynamics at all ${steps.length} checkpoints of ${job.names.a}: each panel is layers at that step (rows) against layers at the reference step ${job.reference} (columns). ${heat.colour}.${hatched}`;
  const freeze = series.map((s) => {
    const f = freezeStep(
      s.values,
      baseline ? baseline.map((g) => g[job.rows.indexOf(s.layer)]?.[job.cols.indexOf(s.layer)] ?? null) : null,
      steps,
      threshold,
      curveGaps(job.badArrays, steps, job.reference ?? steps[steps.length - 1], s.layer),
    );
    const chanceText = f.baseline
      ? `chance ${f.baseline.mean.toFixed(3)} ± ${f.baseline.sd.toFixed(3)}: threshold ${f.aboveChance ? 'above' : 'NOT above'} chance + 2 sd`
      : undefined;
    return { layer: s.layer, t: f.t, chance: chanceText, undecided: f.undecided };
  });
  const grid = job.values[t] ?? [];
  const selectedHere = selected?.view === 'dynamics' && selected.t === t ? { i: selected.i, j: selected.j } : null;

  const base = exportInfo?.base ?? `dynamics-${job.metric}`;
  const stepFields: [string, string][] = [...(exportInfo?.fields ?? []), ['step shown', String(step)]];
  const exportButtons = (
    <MatrixExportButtons
      matrix={{
        corner: `layer at step ${step} \\ layer at step ${job.reference}`,
        rows: job.rows,
        cols: job.cols,
        values: grid,
        file: `${base}-step-${step}.csv`,
        chance: baseline?.[t] ?? null,
        keys: [`layer at step ${step}`, `layer at step ${job.reference}`],
        metric: job.metric,
      }}
      json={{ result: job.result, ready: job.status === 'done', file: `${base}.json`, complete: () => dynamicsExport(job) }}
      fields={stepFields}
    />
  );
  // Nothing computed (a refused job): the error alone, no empty chart with export buttons under it.
  const anyValue = job.values.some((g) => g.some((row) => row.some((v) => v !== null)));
  const stepStamp = stamp && { ...stamp, fields: stepFields };
  // The convergence curves as a long CSV: one line per layer and step, with the chance level (empty when off).
  const curvesCsv = () =>
    chanceCsv(
      ['layer', 'step'],
      job.metric,
      series.flatMap((s) => {
        const i = job.rows.indexOf(s.layer);
        const j = job.cols.indexOf(s.layer);
        return steps.map((st, k) => ({ keys: [s.layer, String(st)], value: s.values[k] ?? null, baseline: baseline?.[k]?.[i]?.[j] ?? null }));
      }),
      [...(exportInfo?.fields ?? []), ['curves', `${job.metric} of each layer at each step against itself at the reference step ${job.reference}`]],
    );

  return (
    <section className="card view" aria-labelledby="dynamics-heading" data-status={job.status}>
      <div className="card-head">
        <h2 id="dynamics-heading">Learning dynamics</h2>
        <p className="sub">{`${shownName(job.names.a)} · ${metric} · reference step ${job.reference}`}</p>
      </div>
      <div className="view-controls">
        {allRunsOffered && <RunChoice runs={runs} runIndex={runIndex} all={false} onRun={setRunIndex} />}
        {runs.length > 1 && !allRunsOffered && (
          <label className="field">
            <span>Run</span>
            <select value={Math.min(runIndex, runs.length - 1)} onChange={(e) => setRunIndex(Number(e.currentTarget.value))}>
              {runs.map((r, k) => (
                <option key={String(r)} value={k}>
                  {String(r)}
                </option>
              ))}
            </select>
          </label>
        )}
        <StepSelect label="Reference step" value={reference} lastLabel={`last (${runSteps[runSteps.length - 1]})`} steps={runSteps} onChange={setReference} />
        <div className="field checkpoint">
          <span id="checkpoint-label">Checkpoint</span>
          <div className="inline">
            <input
              type="range"
              min={0}
              max={Math.max(0, steps.length - 1)}
              step={1}
              value={t}
              aria-labelledby="checkpoint-label"
              aria-valuetext={`step ${step}, ${t + 1} of ${steps.length}`}
              onChange={(e) => setStepIndex(Number(e.currentTarget.value))}
            />
            <output className="step-readout" data-testid="step-readout">{`step ${compactStep(step)} · ${t + 1}/${steps.length}`}</output>
            <button type="button" className="button small" aria-label={playing ? 'Pause' : 'Play through checkpoints'} onClick={() => setPlaying(!playing)}>
              {playing ? 'Pause' : 'Play'}
            </button>
          </div>
        </div>
        <label className="check">
          <input type="checkbox" checked={multiples} onChange={(e) => setMultiples(e.currentTarget.checked)} />
          All checkpoints
        </label>
        <FitColoursCheck />
        <ChanceControls diagonal="the convergence curves (layer i × layer i)" />
      </div>
      <JobStatus kind="dynamics" />
      {heat.missing > 0 && (
        <p className="hint" data-testid="chance-missing">
          Hatched cells have no chance level: it was computed for the diagonal only (each layer against itself at the reference step). Choose “Chance of: every
          cell” to compute it for every cell (
          {cheapChance ? 'a few percent more with the Gaussian null of CCA and SVCCA' : `${APP_BASELINE.permutations} times the whole grid with permutations`}
          ).
        </p>
      )}
      {(anyValue || job.status === 'running') && (
        <div className="dynamics-grid">
          <ErrorBoundary name="heatmap">
            {multiples ? (
              <ChartFigure
                title="small multiples"
                caption={multiCaption}
                file={`${base}-all-checkpoints`}
                extra={exportButtons}
                stamp={stamp}
                exportable={anyValue}
              >
                <SmallMultiples
                  grids={heat.values}
                  blanks={heat.blanks}
                  steps={steps}
                  rows={job.rows}
                  cols={job.cols}
                  domain={heat.domain}
                  scale={heat.scale}
                  label={`Learning dynamics heatmaps of all ${steps.length} checkpoints, side by side (small multiples)`}
                  legendTitle={heat.legendTitle}
                  current={t}
                  onPick={(k) => {
                    setStepIndex(k);
                    setMultiples(false);
                  }}
                />
              </ChartFigure>
            ) : (
              <ChartFigure
                title="heatmap"
                className="first-screen-heatmap"
                caption={caption}
                file={`${base}-step-${step}`}
                extra={exportButtons}
                stamp={stepStamp}
                exportable={anyValue}
              >
                <Heatmap
                  values={heat.values[t] ?? []}
                  blank={heat.blanks[t]}
                  rows={job.rows}
                  cols={job.cols}
                  domain={heat.domain}
                  scale={heat.scale}
                  label={`Learning dynamics heatmap: ${heat.legendTitle} of each layer at step ${step} against each layer at the reference step ${job.reference}`}
                  xTitle={`layer at step ${job.reference} (reference)`}
                  yTitle={`layer at step ${step}`}
                  legendTitle={heat.legendTitle}
                  describe={describe}
                  selected={selectedHere}
                  onSelect={onSelect}
                />
              </ChartFigure>
            )}
          </ErrorBoundary>
          <section className="convergence-section" aria-label="Convergence curves">
            <ErrorBoundary name="convergence">
              <ChartFigure
                title="convergence curves"
                caption={`Convergence: each layer's ${metric} to itself at the reference step ${job.reference}, against the training step${showFreeze ? `; ◆ marks where it stays at or above ${threshold}` : ''}${chance && bands ? `; shaded: chance level (${APP_BASELINE.permutations} ${drawsOf(baseline?.flat(2).find((b) => b !== null)?.null ?? 'auto')}), mean ± 2 sd` : ''}.`}
                file={`${base}-convergence`}
                stamp={stamp}
                exportable={anyValue}
                extra={
                  <button
                    type="button"
                    className="button small"
                    aria-label="Export CSV of the convergence curves"
                    onClick={() => download(new Blob([curvesCsv()], { type: 'text/csv' }), `${base}-convergence.csv`)}
                  >
                    CSV
                  </button>
                }
              >
                <ConvergenceChart
                  series={series}
                  steps={steps}
                  threshold={showFreeze ? threshold : null}
                  label={`Convergence curves: each layer's ${metric} to its own representation at the reference step, against the training step`}
                  yLabel={`${metric} to itself at step ${job.reference}`}
                  chance={chance ? bands : undefined}
                />
              </ChartFigure>
              <div className="freeze-controls">
                <label className="check">
                  <input type="checkbox" checked={showFreeze} onChange={(e) => setShowFreeze(e.currentTarget.checked)} />
                  Freeze steps
                </label>
                <label className="field inline-field">
                  <span>Threshold</span>
                  <input
                    type="number"
                    min={0}
                    max={1}
                    step={0.01}
                    value={threshold}
                    disabled={!showFreeze}
                    onChange={(e) => setThreshold(Number(e.currentTarget.value))}
                    style={{ width: '8ch' }}
                  />
                </label>
              </div>
              {showFreeze && <FreezeList freeze={freeze} steps={steps} reference={job.reference} />}
            </ErrorBoundary>
          </section>
        </div>
      )}
      <ComputedOn kind="dynamics" />
      {job.result && <WarningList warnings={job.result.warnings} />}
      <ErrorBoundary name="pair detail">
        <DrillDown view="dynamics" />
      </ErrorBoundary>
    </section>
  );
}
