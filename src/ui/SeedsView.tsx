// Many seeds: the learning-dynamics heatmap and convergence curves as mean ±
// spread over runs (each run against its own reference), with each layer's freeze step per run;
// and the across-runs matrix averaged over every pair of runs (paper Figure 1), with the same layer
// across seeds (the diagonal) and its spread. With the chance level on (the app's one switch), the
// freeze steps get the chance at each run's freeze step, and the diagonal whether each layer agrees
// across seeds more than chance (analysis/seedsChance.ts). Tooltips give mean, sd, min, max and n;
// CSV and JSON carry every run's (pair's) values beside the aggregate; PNG and SVG the same fields.

import { crossBadCellWhy, drawsOf, undecidedText } from '../analysis/chanceDefs';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useAppStore } from '../state/hooks';
import { setThreshold } from '../state/store';
import {
  cancelSeeds,
  failedText,
  runSeeds,
  seedsCrossCsv,
  seedsCrossOf,
  seedsDynamicsCsv,
  seedsDynamicsOf,
  seedsExportInfo,
  seedsJson,
  setSeedsChance,
  setSeedsView,
} from '../state/seeds';
import { APP_BASELINE } from '../state/explorer';
import { formatP, SEEDS_ALPHA, type CombinedChance } from '../analysis/seedsChance';
import { footerLine } from '../state/exportInfo';
import type { Spread } from '../analysis/seeds';
import { metricLabel } from '../analysis/metricDefs';
import { ChartFigure } from './ChartFigure';
import { ErrorBoundary } from './ErrorBoundary';
import { WarningList } from './WarningList';
import { download } from './exportChart';
import { ConvergenceChart } from './charts/ConvergenceChart';
import { compactStep } from './charts/convergenceLayout';
import { Heatmap } from './charts/Heatmap';
import { shownName } from './format';

/** "1 pair of runs", "3 pairs of runs". */
const pairsOfRuns = (count: number) => `${count} ${count === 1 ? 'pair' : 'pairs'} of runs`;

const FIXED: [number, number] = [0, 1];
const NO_SELECTION = () => {};

/** "mean 0.912 · sd 0.031 · min 0.88 · max 0.94 · n 3 runs" for a tooltip. */
function spreadLines(s: Spread, unit: string): string[] {
  if (s.mean === null) return ['not computed'];
  return [
    `mean ${s.mean.toFixed(4)}${s.sd === null ? '' : ` ± sd ${s.sd.toFixed(4)}`}`,
    `min ${s.min!.toFixed(4)} · max ${s.max!.toFixed(4)} · n = ${s.n} ${unit}`,
  ];
}

/** "0.912 ± 0.031", "0.912" (one value) or "—". */
function meanSd(s: Spread, digits = 3): string {
  if (s.mean === null) return '—';
  return s.sd === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;
}

/** A cell's chance over pairs in a tooltip: "chance 0.21 ± 0.01 over pairs · Z 41.2, p < 1e-300". */
function chanceTip(c: CombinedChance | null | undefined): string[] {
  if (!c) return [];
  return [`chance ${meanSd(c.chance, 4)} over pairs · combined z ${c.combinedZ?.toFixed(1) ?? '—'}, p ${formatP(c.p)}`];
}

/** The app's chance-level switch, in the many-seeds views. */
function ChanceCheck({ kind }: { kind: 'dynamics' | 'cross' }) {
  const chance = useAppStore((s) => s.chance);
  const what =
    kind === 'dynamics'
      ? "each run's convergence curves against unrelated data: the chance level at each run's freeze step"
      : 'each pair of runs against unrelated data, layer i against layer i: whether a layer agrees across seeds more than chance';
  return (
    <label
      className="check"
      title={`Chance level of ${what}; ${APP_BASELINE.permutations} ${drawsOf('auto')} (seed ${APP_BASELINE.seed}) per run${kind === 'cross' ? ' pair' : ''}`}
    >
      <input type="checkbox" checked={chance} onChange={(e) => setSeedsChance(e.currentTarget.checked)} />
      Chance level
    </label>
  );
}

/** "chance level: 20 permutations of the datapoints per pair, seed 1; …" for the export header. */
function chanceField(kind: 'dynamics' | 'cross'): [string, string] {
  return [
    'chance level',
    kind === 'dynamics'
      ? `per run, ${APP_BASELINE.permutations} ${drawsOf('auto')} (seed ${APP_BASELINE.seed}), the convergence curves' cells; at each run's freeze step: is the threshold above chance mean + 2 sd`
      : `per pair of runs, ${APP_BASELINE.permutations} ${drawsOf('auto')} (seed ${APP_BASELINE.seed}), the diagonal; combined over pairs by Stouffer, Holm over the layers, alpha ${SEEDS_ALPHA}`,
  ];
}

/** The "Run" choice of the learning-dynamics view: one run, or all runs (mean ± spread). */
export function RunChoice({
  runs,
  runIndex,
  all,
  onRun,
}: {
  runs: readonly (string | null)[];
  runIndex: number;
  all: boolean;
  onRun: (index: number) => void;
}) {
  return (
    <label className="field">
      <span>Run</span>
      <select
        value={all ? 'all' : String(Math.min(runIndex, runs.length - 1))}
        onChange={(e) => {
          const v = e.currentTarget.value;
          if (v === 'all') setSeedsView('dynamics', true);
          else {
            setSeedsView('dynamics', false);
            onRun(Number(v));
          }
        }}
      >
        {runs.map((r, k) => (
          <option key={String(r)} value={k}>
            {String(r)}
          </option>
        ))}
        <option value="all">all runs (mean ± spread)</option>
      </select>
    </label>
  );
}

/** The across-runs view's choice: the pair of runs picked, or the mean over all pairs of the active bundle's runs. */
export function AllPairsCheck() {
  const on = useAppStore((s) => s.seedsView.cross);
  return (
    <label className="check">
      <input type="checkbox" checked={on} onChange={(e) => setSeedsView('cross', e.currentTarget.checked)} />
      All pairs of runs (mean)
    </label>
  );
}

function SeedsProgress({ kind }: { kind: 'dynamics' | 'cross' }) {
  const job = useAppStore((s) => (kind === 'dynamics' ? s.seedsDynamics : s.seedsCross));
  if (!job) return null;
  if (job.status === 'error')
    return (
      <p className="error" role="alert">
        {job.error}
      </p>
    );
  // Runs (pairs) that failed: named with why, above the others' results (which stand).
  const failed =
    job.failed && job.failed.length > 0 ? (
      <p className="error" role="alert" data-testid={`seeds-failed-${kind}`}>
        {failedText(job.failed, kind)}
      </p>
    ) : null;
  if (failed && job.status === 'done') return failed;
  if (job.status === 'cancelled') {
    return (
      <p className="hint">
        Cancelled after {job.results.length} {kind === 'dynamics' ? 'runs' : 'pairs'}.{' '}
        <button type="button" className="button small" onClick={() => void runSeeds(kind, true)}>
          Recompute
        </button>
      </p>
    );
  }
  if (job.status !== 'running' || !job.progress) return failed;
  return (
    <div className="job-status" role="status" data-testid={`seeds-progress-${kind}`}>
      {failed}
      <progress max={job.progress.total} value={job.progress.done} /> <span>{job.progress.stage}</span>{' '}
      <button type="button" className="button small" onClick={() => cancelSeeds(kind)}>
        Cancel
      </button>
    </div>
  );
}

function ExportButtons({ csv, json, base }: { csv: () => string; json: () => unknown; base: string }) {
  return (
    <>
      <button
        type="button"
        className="button small"
        aria-label="Export CSV of every run's values and the mean over runs"
        onClick={() => download(new Blob([csv()], { type: 'text/csv' }), `${base}.csv`)}
      >
        CSV
      </button>
      <button type="button" className="button small" onClick={() => download(new Blob([JSON.stringify(json())], { type: 'application/json' }), `${base}.json`)}>
        Export JSON
      </button>
    </>
  );
}

export function SeedsDynamicsView({ runs, runIndex, onRun }: { runs: readonly (string | null)[]; runIndex: number; onRun: (index: number) => void }) {
  const job = useAppStore((s) => s.seedsDynamics);
  const bundles = useAppStore((s) => s.bundles);
  const threshold = useAppStore((s) => s.threshold);
  const plannedKey = useAppStore((s) => JSON.stringify([s.activeBundle, s.dropped, s.options, s.confirmed, s.chance]));
  const [t, setT] = useState<number | null>(null);
  useEffect(() => {
    void runSeeds('dynamics');
  }, [plannedKey]);
  const agg = useMemo(() => (job ? seedsDynamicsOf(job, threshold) : null), [job, threshold]);
  const metric = job?.results[0] ? metricLabel(job.results[0].metric) : '';
  const step = agg ? Math.min(t ?? agg.steps.length - 1, agg.steps.length - 1) : 0;
  const describe = useCallback(
    (i: number, j: number) =>
      agg
        ? [
            `${agg.layers[i]} at step ${agg.steps[step]} × ${agg.layers[j]} at each run's reference step`,
            ...spreadLines(agg.cells[step][i][j], agg.runs.length === 1 ? 'run' : 'runs'),
          ]
        : [],
    [agg, step],
  );
  const info = useMemo(
    () =>
      job && agg
        ? seedsExportInfo('dynamics', job, bundles, [
            ['reference steps', agg.runs.map((r, k) => `${String(r)}: ${agg.references[k]}`).join(', ')],
            ['freeze threshold', String(threshold)],
            ...(agg.chanceCells ? [chanceField('dynamics')] : []),
          ])
        : null,
    [job, agg, bundles, threshold],
  );
  const stamp = info ? { footer: footerLine(info), fields: info.fields } : null;
  const series = useMemo(() => (agg ? agg.layers.map((layer, i) => ({ layer, values: agg.curves[i].map((s) => s.mean) })) : []), [agg]);
  const bands = useMemo(
    () =>
      agg
        ? agg.curves.map((curve) => ({
            lo: curve.map((s) => (s.mean === null ? null : s.mean - (s.sd ?? 0))),
            hi: curve.map((s) => (s.mean === null ? null : s.mean + (s.sd ?? 0))),
          }))
        : [],
    [agg],
  );
  const runNames = job ? job.runs.map(String).join(', ') : '';
  const withChance = !!agg && agg.freeze.every((f) => f.chance);

  return (
    <section className="card view" aria-labelledby="dynamics-heading" data-status={job?.status ?? 'idle'} data-testid="seeds-dynamics">
      <div className="card-head">
        <h2 id="dynamics-heading">Learning dynamics</h2>
        <p className="sub">{`all runs (mean ± spread) · ${runNames}${metric ? ` · ${metric}` : ''}`}</p>
      </div>
      <div className="view-controls">
        <RunChoice runs={runs} runIndex={runIndex} all onRun={onRun} />
        {agg && agg.steps.length > 0 && (
          <label className="field">
            <span>Checkpoint</span>
            <select value={step} onChange={(e) => setT(Number(e.currentTarget.value))}>
              {agg.steps.map((s, k) => (
                <option key={s} value={k}>
                  {compactStep(s)}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="field inline-field">
          <span>Freeze threshold</span>
          <input
            type="number"
            min={0}
            max={1}
            step={0.01}
            value={threshold}
            onChange={(e) => setThreshold(Number(e.currentTarget.value))}
            style={{ width: '8ch' }}
          />
        </label>
        <ChanceCheck kind="dynamics" />
      </div>
      <SeedsProgress kind="dynamics" />
      {agg && info && job && (
        <div className="dynamics-grid">
          <ErrorBoundary name="heatmap">
            <ChartFigure
              title="mean heatmap"
              caption={`Mean ${metric} over ${agg.runs.length} runs (${runNames}) of each layer at step ${agg.steps[step]} (rows) against each layer at the run's own reference step (columns; ${agg.references.join(', ')}). Hover a cell for sd, min, max and n.`}
              file={`${info.base}-step-${agg.steps[step]}`}
              stamp={stamp}
              extra={
                <ExportButtons base={info.base} csv={() => seedsDynamicsCsv(agg, info.fields)} json={() => seedsJson('dynamics', job, agg, info.fields)} />
              }
            >
              <Heatmap
                values={agg.cells[step].map((row) => row.map((c) => c.mean))}
                rows={agg.layers}
                cols={agg.layers}
                domain={FIXED}
                label={`Learning dynamics heatmap, mean over ${agg.runs.length} runs: ${metric} of each layer at step ${agg.steps[step]} against each layer at the reference step`}
                xTitle="layer at the reference step"
                yTitle={`layer at step ${agg.steps[step]}`}
                legendTitle={`mean ${metric}`}
                describe={describe}
                selected={null}
                onSelect={NO_SELECTION}
              />
            </ChartFigure>
          </ErrorBoundary>
          <section className="convergence-section" aria-label="Convergence curves over runs">
            <ErrorBoundary name="convergence">
              <ChartFigure
                title="convergence curves over runs"
                caption={`Convergence over ${agg.runs.length} runs: each layer's mean ${metric} to itself at its run's reference step, the band mean ± sd over runs; ◆ marks where the mean stays at or above ${threshold} (each run's own freeze step is in the table below).`}
                file={`${info.base}-convergence`}
                stamp={stamp}
              >
                <ConvergenceChart
                  series={series}
                  bands={bands}
                  steps={agg.steps}
                  threshold={threshold}
                  label={`Convergence curves, mean ± sd over ${agg.runs.length} runs: each layer's ${metric} to its own representation at the reference step, against the training step`}
                  yLabel={`mean ${metric} to itself at the reference`}
                />
              </ChartFigure>
              <table className="seeds-freeze" aria-label="Freeze steps per run">
                <caption>{`Freeze step per run: from which step each layer stays ≥ ${threshold} (each run on its own checkpoints)${withChance ? `; chance: each run's chance level at its freeze step (mean ± sd over runs), and in how many runs the threshold lies above chance + 2 sd there` : ''}`}</caption>
                <thead>
                  <tr>
                    <th scope="col">layer</th>
                    {agg.runs.map((r) => (
                      <th scope="col" key={String(r)}>
                        {String(r)}
                      </th>
                    ))}
                    <th scope="col">mean ± sd</th>
                    <th scope="col">min–max</th>
                    {withChance && <th scope="col">chance at freeze</th>}
                    {withChance && <th scope="col">above chance + 2 sd</th>}
                  </tr>
                </thead>
                <tbody>
                  {agg.freeze.map((f) => (
                    <tr key={f.layer}>
                      <th scope="row">{shownName(f.layer)}</th>
                      {f.steps.map((s, k) => {
                        // A bad array's missing value could change this run's freeze step: say so and why, never "not yet".
                        const u = f.undecided?.[k] ?? null;
                        return u ? (
                          <td key={k} className="undecided" title={undecidedText(u)} data-testid="freeze-undecidable">
                            undecidable
                          </td>
                        ) : (
                          <td key={k}>{s === null ? 'not yet' : s}</td>
                        );
                      })}
                      <td>{f.spread.mean === null ? '—' : `${f.spread.mean.toFixed(0)}${f.spread.sd === null ? '' : ` ± ${f.spread.sd.toFixed(0)}`}`}</td>
                      <td>
                        {f.spread.mean === null
                          ? '—'
                          : `${f.spread.min === f.spread.max ? f.spread.min : `${f.spread.min}–${f.spread.max}`}${f.spread.n < agg.runs.length ? ` (${f.spread.n} of ${agg.runs.length} runs${f.undecided?.some((u) => u) ? `; ${f.undecided.filter((u) => u).length} undecidable` : ''})` : ''}`}
                      </td>
                      {withChance && <td>{f.chance && f.chance.frozen > 0 ? meanSd(f.chance.chance) : '—'}</td>}
                      {withChance && <td>{f.chance && f.chance.frozen > 0 ? `${f.chance.aboveChanceRuns} of ${f.chance.frozen} runs` : '—'}</td>}
                    </tr>
                  ))}
                </tbody>
              </table>
            </ErrorBoundary>
          </section>
        </div>
      )}
      {job && agg && (
        // Each run's own warnings (a bad array: its cells are left out of the mean) beside the aggregate's notes, as the export's header lists them.
        <WarningList warnings={[...new Set([...job.results.flatMap((r) => r.warnings), ...agg.notes])]} />
      )}
    </section>
  );
}

export function SeedsCrossView() {
  const job = useAppStore((s) => s.seedsCross);
  const bundles = useAppStore((s) => s.bundles);
  const plannedKey = useAppStore((s) => JSON.stringify([s.activeBundle, s.dropped, s.options, s.confirmed, s.crossStep, s.chance]));
  useEffect(() => {
    void runSeeds('cross');
  }, [plannedKey]);
  const agg = useMemo(() => (job ? seedsCrossOf(job) : null), [job]);
  const first = job?.results[0];
  const metric = first ? metricLabel(first.metric) : '';
  // Per cell, why pairs lack it (a bad array of one of their runs): the mean is over the others;
  // a cell no pair has is drawn hatched with the reason.
  const missing = useMemo(() => {
    if (!job || !first || !job.results.some((r) => r.badArrays && r.badArrays.length > 0)) return null;
    return first.layersA.map((row) => first.layersB.map((col) => [...new Set(job.results.flatMap((r) => crossBadCellWhy(r.badArrays, row, col) ?? []))]));
  }, [job, first]);
  const blank = useMemo(
    () => (missing && agg ? missing.map((row, i) => row.map((why, j) => (why.length > 0 && agg.cells[i][j].n === 0 ? why.join('; ') : null))) : null),
    [missing, agg],
  );
  const describe = useCallback(
    (i: number, j: number) =>
      agg && first
        ? [
            `A ${first.layersA[i]} × B ${first.layersB[j]} at step ${first.step}, over pairs of runs`,
            ...spreadLines(agg.cells[i][j], agg.pairs.length === 1 ? 'pair' : 'pairs'),
            ...(missing?.[i][j] ?? []),
            ...chanceTip(agg.chance?.[i][j]),
          ]
        : [],
    [agg, first, missing],
  );
  const info = useMemo(
    () =>
      job && first && agg ? seedsExportInfo('cross', job, bundles, [['step', String(first.step)], ...(agg.chanceTest ? [chanceField('cross')] : [])]) : null,
    [job, first, agg, bundles],
  );
  const test = agg?.chanceTest;
  const stamp = info ? { footer: footerLine(info), fields: info.fields } : null;

  return (
    <div data-testid="seeds-cross" data-status={job?.status ?? 'idle'}>
      <ChanceCheck kind="cross" />
      <SeedsProgress kind="cross" />
      {agg && info && job && first && (
        <>
          <ErrorBoundary name="heatmap">
            <ChartFigure
              title="mean over pairs heatmap"
              caption={`Mean ${metric} over ${pairsOfRuns(agg.pairs.length)} (${agg.pairs.map((p) => `${String(p.a)}×${String(p.b)}`).join(', ')}) at step ${first.step}: A's layer i (rows, the earlier run) against B's layer j (columns). Hover a cell for sd, min, max and n.`}
              file={`${info.base}-step-${first.step}`}
              stamp={stamp}
              extra={
                <ExportButtons
                  base={info.base}
                  csv={() => seedsCrossCsv(agg, first.layersA, first.layersB, info.fields)}
                  json={() => seedsJson('cross', job, agg, info.fields)}
                />
              }
            >
              <Heatmap
                values={agg.cells.map((row) => row.map((c) => c.mean))}
                blank={blank}
                rows={first.layersA}
                cols={first.layersB}
                domain={FIXED}
                label={`Across-runs heatmap, mean over ${pairsOfRuns(agg.pairs.length)}: ${metric} of A's layers against B's layers at step ${first.step}`}
                xTitle="B's layer"
                yTitle="A's layer"
                legendTitle={`mean ${metric}`}
                describe={describe}
                selected={null}
                onSelect={NO_SELECTION}
              />
            </ChartFigure>
          </ErrorBoundary>
          <table className="seeds-diagonal" aria-label="The same layer across seeds">
            <caption>
              {`The same layer across seeds: ${metric} of a layer with itself in another run, over ${pairsOfRuns(agg.pairs.length)}`}
              {test &&
                `; against chance: each pair's chance level (${APP_BASELINE.permutations} ${drawsOf('auto')}), combined over the pairs by Stouffer (Z = Σz/√K, one-sided p), Holm over ${test.layers} layers, α = ${test.alpha}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">layer</th>
                <th scope="col">mean</th>
                <th scope="col">sd</th>
                <th scope="col">min–max</th>
                {test && (
                  <>
                    <th scope="col">chance</th>
                    <th scope="col">z per pair</th>
                    <th scope="col">combined z</th>
                    <th scope="col">p</th>
                    <th scope="col">p (Holm)</th>
                    <th scope="col">above chance across seeds</th>
                  </>
                )}
              </tr>
            </thead>
            <tbody>
              {agg.diagonal.map((d) => (
                <tr key={d.layer}>
                  <th scope="row">{shownName(d.layer)}</th>
                  <td>{d.spread.mean?.toFixed(3) ?? '—'}</td>
                  <td>{d.spread.sd?.toFixed(3) ?? '—'}</td>
                  <td>{d.spread.mean === null ? '—' : `${d.spread.min!.toFixed(3)}–${d.spread.max!.toFixed(3)}`}</td>
                  {test && (
                    <>
                      <td>{d.chance ? meanSd(d.chance.chance) : '—'}</td>
                      <td>{d.chance ? meanSd(d.chance.z, 1) : '—'}</td>
                      <td>{d.chance?.combinedZ?.toFixed(1) ?? '—'}</td>
                      <td>{formatP(d.chance?.p ?? null)}</td>
                      <td>{formatP(d.chance?.pHolm ?? null)}</td>
                      <td className={d.chance?.aboveChance ? 'above-chance' : undefined}>
                        {d.chance?.aboveChance === null || d.chance?.aboveChance === undefined ? '—' : d.chance.aboveChance ? 'yes' : 'no'}
                      </td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          <WarningList warnings={[...new Set(job.results.flatMap((r) => r.warnings))]} />
        </>
      )}
    </div>
  );
}
