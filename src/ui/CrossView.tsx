// Across runs / networks (paper Figure 1): the layers of run A × the layers of run B at one step.

import { useCallback, useMemo } from 'react';
import { useAppStore } from '../state/hooks';
import { bundleById, notComputedReason, openPair, setCrossSide, setCrossStep, sideName } from '../state/store';
import type { CrossSide } from '../state/store';
import { sharedSteps, stepsOfRun } from '../state/preview';
import { footerLine, gridExportInfo } from '../state/exportInfo';
import { ChartFigure } from './ChartFigure';
import { DrillDown } from './DrillDown';
import { ErrorBoundary } from './ErrorBoundary';
import { ComputedOn, JobStatus } from './JobStatus';
import { ChanceControls, FitColoursCheck, MatrixExportButtons, StepSelect } from './ViewControls';
import { cellLines, shownHeat } from './chanceHeat';
import type { BadArray, CrossResult } from '../analysis/types';
import { crossBadCellWhy } from '../analysis/chanceDefs';
import { WarningList } from './WarningList';
import { AllPairsCheck, SeedsCrossView } from './SeedsView';
import { seedsAvailable } from '../state/seeds';
import { Heatmap } from './charts/Heatmap';
import { metricDef, metricLabel } from '../analysis/metricDefs';
import { pair, shownName } from './format';

/** What a heatmap cell without a chance level says (only the diagonal was asked for). */
const NO_CHANCE = "no chance level: only the diagonal cells (A's layer i against B's layer i) have one; choose “Chance of: every cell”";
const sideValue = (s: CrossSide) => JSON.stringify([s.bundle, s.run]);

/** The shown blanks with every bad array's cells added (A's: its row; B's: its column), each saying which array and why. */
function withCrossBadCells(
  blank: readonly (readonly (string | null)[])[] | null,
  badArrays: readonly BadArray[] | undefined,
  rows: readonly string[],
  cols: readonly string[],
): (string | null)[][] | null {
  if (!badArrays || badArrays.length === 0) return blank ? blank.map((r) => r.slice()) : null;
  return rows.map((row, i) => cols.map((col, j) => crossBadCellWhy(badArrays, row, col) ?? blank?.[i]?.[j] ?? null));
}

export function CrossView() {
  const job = useAppStore((s) => s.cross);
  const bundles = useAppStore((s) => s.bundles);
  const crossA = useAppStore((s) => s.crossA);
  const crossB = useAppStore((s) => s.crossB);
  const crossStep = useAppStore((s) => s.crossStep);
  const domainMode = useAppStore((s) => s.domain);
  const heatMode = useAppStore((s) => s.heatMode);
  const chance = useAppStore((s) => s.chance);
  const selected = useAppStore((s) => s.selected);
  const confirmed = useAppStore((s) => s.confirmed);
  const waiting = useAppStore((s) => notComputedReason(s, 'cross'));
  const allPairsOffered = useAppStore((s) => seedsAvailable(s, 'cross'));
  const allPairs = useAppStore((s) => s.seedsView.cross) && allPairsOffered;

  const sides = useMemo(() => bundles.flatMap((b) => b.runs.map((run) => ({ bundle: b.id, run }))), [bundles]);
  const shared = useMemo(() => {
    if (!crossA || !crossB) return [];
    const a = bundleById({ bundles }, crossA.bundle);
    const b = bundleById({ bundles }, crossB.bundle);
    return a && b ? sharedSteps(stepsOfRun(a, crossA.run), stepsOfRun(b, crossB.run)) : [];
  }, [bundles, crossA, crossB]);
  const metric = job ? metricLabel(job.metric) : '';
  // The chance level of each cell, when the job computed one (analysis/baseline.ts).
  const baseline = job?.kind === 'cross' && job.result && 'baseline' in job.result ? ((job.result as CrossResult).baseline ?? null) : null;
  const heat = useMemo(() => {
    if (!job) return null;
    const shown = shownHeat(heatMode, metric, job.values, baseline ? [baseline] : null, job.blank, domainMode, job.status === 'done', NO_CHANCE);
    return { ...shown, blanks: [withCrossBadCells(shown.blanks[0] ?? null, job.badArrays, job.rows, job.cols)] };
  }, [job, heatMode, metric, baseline, domainMode]);
  const exportInfo = useMemo(() => gridExportInfo(job, bundles), [job, bundles]);
  const describe = useCallback(
    (i: number, j: number) => {
      if (!job) return [];
      const v = job.values[0]?.[i]?.[j] ?? null;
      const kept = job.kept[0]?.[i]?.[j] ?? null;
      const b = baseline?.[i]?.[j] ?? null;
      return [
        `A ${job.rows[i]} × B ${job.cols[j]} at step ${job.steps[0]}`,
        ...cellLines(heatMode, metric, v, b, heat?.blanks[0]?.[i]?.[j] ?? null, job.status === 'done' || !chance ? NO_CHANCE : 'chance level: computing'),
        kept ? `${metricDef(job.metric).keptNoun}: ${pair(kept)}` : '',
      ].filter(Boolean);
    },
    [job, metric, baseline, heatMode, chance, heat],
  );
  const onSelect = useCallback((i: number, j: number) => openPair({ view: 'cross', t: 0, i, j }), []);

  if (bundles.length === 0 || !crossA || !crossB) return null;
  const allConfirmed = confirmed[crossA.bundle] && confirmed[crossB.bundle];
  const sameRun = crossA.bundle === crossB.bundle && crossA.run === crossB.run;
  const pick = (side: 'a' | 'b', value: string) => {
    const [bundle, run] = JSON.parse(value) as [string, string | null];
    setCrossSide(side, { bundle, run });
  };
  const grid = job?.values[0] ?? [];
  const step = job?.steps[0];
  const base = exportInfo?.base ?? `cross-${job?.metric}`;
  const stamp = exportInfo ? { footer: footerLine(exportInfo), fields: exportInfo.fields } : null;
  // Nothing computed (a refused job): the error alone, no empty chart with export buttons under it.
  const anyValue = grid.some((row) => row.some((v) => v !== null));

  return (
    <section className="card view" aria-labelledby="cross-heading" data-status={job?.status ?? 'idle'}>
      <div className="card-head">
        <h2 id="cross-heading">Across runs</h2>
        {allPairs && <p className="sub">all pairs of runs (mean ± spread)</p>}
        {job && !allPairs && (
          <p className="sub">{`${shownName(job.names.a)} × ${shownName(job.names.b)} · ${metric}${step !== undefined ? ` · step ${step}` : ''}`}</p>
        )}
      </div>
      <div className="view-controls">
        {(['a', 'b'] as const).map((side) => (
          <label key={side} className="field">
            <span>{`Run ${side.toUpperCase()}`}</span>
            <select value={sideValue(side === 'a' ? crossA : crossB)} disabled={allPairs} onChange={(e) => pick(side, e.currentTarget.value)}>
              {sides.map((s) => (
                <option key={sideValue(s)} value={sideValue(s)}>
                  {sideName({ bundles }, s)}
                </option>
              ))}
            </select>
          </label>
        ))}
        <StepSelect
          label="Step"
          value={crossStep ?? 'last'}
          lastLabel={`last shared (${shared[shared.length - 1] ?? '—'})`}
          steps={shared}
          onChange={(s) => setCrossStep(s === 'last' ? null : s)}
        />
        <FitColoursCheck />
        {!allPairs && <ChanceControls diagonal="the same layer (A's i × B's i)" />}
        {allPairsOffered && <AllPairsCheck />}
      </div>
      {allPairs ? (
        <SeedsCrossView />
      ) : (
        <>
          {sameRun && <p className="hint">Both sides are the same run: load a second run or bundle (or pick another run) to compare networks.</p>}
          {!allConfirmed && (
            <p className="hint" data-testid="not-computed">
              {waiting ?? 'Check the preview above, then press Compute.'}
            </p>
          )}
          <JobStatus kind="cross" />
          {heat && heat.missing > 0 && (
            <p className="hint" data-testid="chance-missing">
              Hatched cells have no chance level: it was computed for the diagonal only (A&apos;s layer i against B&apos;s layer i). Choose “Chance of: every
              cell” to compute it for every cell.
            </p>
          )}
          {job && heat && job.rows.length > 0 && (anyValue || job.status === 'running') && (
            <ErrorBoundary name="heatmap">
              <ChartFigure
                title="heatmap"
                caption={`${metric} similarity of the layers of ${job.names.a} (rows) to the layers of ${job.names.b} (columns) at step ${step}. ${heat.colour}.${heat.missing > 0 ? ' Hatched: no chance level (only the diagonal has one).' : ''}`}
                file={`${base}-step-${step}`}
                stamp={stamp}
                exportable={anyValue}
                extra={
                  <MatrixExportButtons
                    matrix={{
                      corner: `A \\ B at step ${step}`,
                      rows: job.rows,
                      cols: job.cols,
                      values: grid,
                      file: `${base}-step-${step}.csv`,
                      chance: baseline,
                      keys: ["A's layer", "B's layer"],
                      metric: job.metric,
                    }}
                    json={{ result: job.result, ready: job.status === 'done', file: `${base}.json` }}
                    fields={exportInfo?.fields}
                  />
                }
              >
                <Heatmap
                  values={heat.values[0] ?? []}
                  blank={heat.blanks[0]}
                  rows={job.rows}
                  cols={job.cols}
                  domain={heat.domain}
                  scale={heat.scale}
                  label={`Across-runs heatmap: ${heat.legendTitle} of the layers of ${job.names.a} against the layers of ${job.names.b} at step ${step}`}
                  xTitle={`layer of ${job.names.b}`}
                  yTitle={`layer of ${job.names.a}`}
                  legendTitle={heat.legendTitle}
                  describe={describe}
                  selected={selected?.view === 'cross' ? { i: selected.i, j: selected.j } : null}
                  onSelect={onSelect}
                />
              </ChartFigure>
            </ErrorBoundary>
          )}
          <ComputedOn kind="cross" />
          {job?.result && <WarningList warnings={job.result.warnings} />}
          <ErrorBoundary name="pair detail">
            <DrillDown view="cross" />
          </ErrorBoundary>
        </>
      )}
    </section>
  );
}
