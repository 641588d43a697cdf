// Many seeds in the app: "all runs (mean ± spread)" in the learning-dynamics
// view and "all pairs of runs (mean)" in the across-runs view. A job here is a sequence of the
// worker's ordinary grid jobs (one per run, each against its own reference; or one per unordered
// pair of runs at one step), so the worker's factor cache serves every run and pair; the views
// aggregate the finished results with analysis/seeds.ts (pure, cheap: changing the freeze threshold
// re-aggregates without recomputing). Exports (CSV, JSON) carry every run's values and the aggregate
// with bundle, runs, options, input hashes and the app's version.

import type { CrossExport, DynamicsExport } from '../analysis/provenance';
import { aggregateCross, aggregateDynamics, runPairs, type SeedsCross, type SeedsDynamics, type Spread } from '../analysis/seeds';
import type { AnalysisOptions } from '../analysis/types';
import { APP_NAME, APP_VERSION } from '../version';
import type { BundleInfo } from '../worker/protocol';
import { appStore, getAnalysisClient, isAbort, message, onReset, type AppState, type SeedsJob } from './appStore';
import { activeBundle } from './explorer';
import { filePart, stem } from './exportInfo';
import { hasConvLayers, relevantOptions } from './jobKey';
import { stepsOfRun } from './preview';

type SeedsKind = 'dynamics' | 'cross';

const get = appStore.getState;
const set = appStore.setState;
const controllers: Record<SeedsKind, AbortController | null> = { dynamics: null, cross: null };

onReset(() => {
  for (const kind of ['dynamics', 'cross'] as const) {
    controllers[kind]?.abort();
    controllers[kind] = null;
  }
});

/** Shows the mean over runs (or run pairs) in a view, or one run (pair) again. */
export function setSeedsView(kind: SeedsKind, on: boolean): void {
  set({ seedsView: { ...get().seedsView, [kind]: on } });
  if (!on) controllers[kind]?.abort();
}

interface SeedsPlan {
  key: string;
  bundle: BundleInfo;
  runs: (string | null)[];
  dropped: string[];
  options: AnalysisOptions;
  /** Cross: the step every run has (the view's step if all have it, else the last they share). */
  step: number | null;
}

function keyOf(kind: SeedsKind, info: BundleInfo, runs: (string | null)[], dropped: string[], options: AnalysisOptions, step: number | null): string {
  return JSON.stringify([kind, info.id, info.entries.length, runs, dropped, step, relevantOptions(options, hasConvLayers(info, dropped))]);
}

/** Runs of the active bundle with two or more checkpoints (learning dynamics needs them), when there are at least two. */
export function seedsDynamicsPlan(s: AppState): SeedsPlan | null {
  const info = activeBundle(s);
  if (!info || !s.confirmed[info.id]) return null;
  const runs = info.runs.filter((r) => stepsOfRun(info, r).length >= 2);
  if (runs.length < 2) return null;
  const dropped = s.dropped[info.id] ?? [];
  return { key: keyOf('dynamics', info, runs, dropped, s.options, null), bundle: info, runs, dropped, options: s.options, step: null };
}

/** Every run of the active bundle at one step they all have (the across-runs view's, else the last shared). */
export function seedsCrossPlan(s: AppState): SeedsPlan | null {
  const info = activeBundle(s);
  if (!info || !s.confirmed[info.id] || info.runs.length < 2) return null;
  const perRun = info.runs.map((r) => stepsOfRun(info, r));
  const shared = perRun[0].filter((step) => perRun.every((steps) => steps.includes(step)));
  if (shared.length === 0) return null;
  const step = s.crossStep !== null && shared.includes(s.crossStep) ? s.crossStep : shared[shared.length - 1];
  const dropped = s.dropped[info.id] ?? [];
  return { key: keyOf('cross', info, info.runs, dropped, s.options, step), bundle: info, runs: info.runs, dropped, options: s.options, step };
}

/** Whether the active bundle offers the many-seeds choice in a view. */
export function seedsAvailable(s: AppState, kind: SeedsKind): boolean {
  return (kind === 'dynamics' ? seedsDynamicsPlan(s) : seedsCrossPlan(s)) !== null;
}

const jobField = (kind: SeedsKind) => (kind === 'dynamics' ? 'seedsDynamics' : 'seedsCross');

/** Computes the view's many-seeds job unless the shown one answers the same question (`force`: again). */
export async function runSeeds(kind: SeedsKind, force = false): Promise<void> {
  const s = get();
  const plan = kind === 'dynamics' ? seedsDynamicsPlan(s) : seedsCrossPlan(s);
  const client = getAnalysisClient();
  if (!plan || !client) return;
  const current = s[jobField(kind)];
  if (!force && current && current.key === plan.key && current.status !== 'cancelled') return;
  controllers[kind]?.abort();
  const controller = new AbortController();
  controllers[kind] = controller;
  const live = () => controllers[kind] === controller;
  const units = kind === 'dynamics' ? plan.runs.map((r) => [r]) : runPairs(plan.runs.length).map(([a, b]) => [plan.runs[a], plan.runs[b]]);
  const job: SeedsJob<DynamicsExport | CrossExport> = {
    key: plan.key,
    status: 'running',
    bundle: plan.bundle.id,
    runs: plan.runs,
    results: [],
    progress: { done: 0, total: units.length, stage: 'starting' },
    error: null,
  };
  set({ [jobField(kind)]: job });
  const update = (patch: Partial<SeedsJob<DynamicsExport | CrossExport>>) => {
    if (live()) set({ [jobField(kind)]: { ...(get()[jobField(kind)] ?? job), ...patch } });
  };
  try {
    const results: (DynamicsExport | CrossExport)[] = [];
    for (const [k, unit] of units.entries()) {
      const name = kind === 'dynamics' ? `run ${String(unit[0])}` : `runs ${String(unit[0])} × ${String(unit[1])}`;
      const onProgress = (p: { done: number; total: number; stage: string }) =>
        update({ progress: { done: k * p.total + p.done, total: units.length * p.total, stage: `${name} (${k + 1} of ${units.length}): ${p.stage}` } });
      if (kind === 'dynamics') {
        const res = await client.dynamics(
          { bundle: plan.bundle.id, run: unit[0], reference: 'last', dropped: plan.dropped, options: plan.options },
          { signal: controller.signal, onProgress },
        );
        results.push(res.result);
      } else {
        const res = await client.cross(
          {
            a: { bundle: plan.bundle.id, run: unit[0], dropped: plan.dropped },
            b: { bundle: plan.bundle.id, run: unit[1], dropped: plan.dropped },
            step: plan.step,
            options: plan.options,
          },
          { signal: controller.signal, onProgress },
        );
        results.push(res.result);
      }
      update({ results: results.slice() });
    }
    update({ status: 'done', progress: null });
  } catch (e) {
    update(isAbort(e) ? { status: 'cancelled', progress: null } : { status: 'error', error: message(e), progress: null });
  } finally {
    if (live()) controllers[kind] = null;
  }
}

export function cancelSeeds(kind: SeedsKind): void {
  controllers[kind]?.abort();
}

/** The aggregate of a finished (or partly finished) dynamics job over the runs done so far. */
export function seedsDynamicsOf(job: SeedsJob<DynamicsExport>, threshold: number): SeedsDynamics | null {
  if (job.results.length === 0) return null;
  return aggregateDynamics(
    job.results.map((r) => ({ run: r.run, steps: r.steps, reference: r.reference, values: r.values })),
    job.results[0].layers,
    threshold,
  );
}

export function seedsCrossOf(job: SeedsJob<CrossExport>): SeedsCross | null {
  if (job.results.length === 0) return null;
  return aggregateCross(
    job.results.map((r) => ({ a: r.runA, b: r.runB, values: r.values })),
    job.results[0].layersA,
    job.results[0].layersB,
  );
}

/** What a many-seeds export says about itself ("# key: value" in the CSV, SVG metadata, PNG text) and its file name base. */
export function seedsExportInfo(
  kind: SeedsKind,
  job: SeedsJob<DynamicsExport | CrossExport>,
  bundles: readonly BundleInfo[],
  extra: [string, string][] = [],
): { base: string; fields: [string, string][] } {
  const info = bundles.find((b) => b.id === job.bundle);
  const name = info?.name ?? job.bundle;
  const first = job.results[0];
  const fields: [string, string][] = [
    [
      'view',
      kind === 'dynamics'
        ? 'learning dynamics over runs: each run against its own reference step; mean, sd (n − 1), min, max per cell over runs'
        : "across runs, all pairs: values[i][j] = sim(run a's layer i, run b's layer j), a before b; mean, sd (n − 1), min, max per cell over pairs",
    ],
    ['bundle', name],
    ['runs', job.runs.map(String).join(' ')],
  ];
  if (first) {
    const used = first.options;
    fields.push(['metric', used.metric]);
    if (used.keep) fields.push(['keep', used.keep.kind === 'variance' ? `variance ${used.keep.fraction}` : `k = ${used.keep.k}`]);
    if (used.epsilon !== null && used.epsilon !== undefined) fields.push(['epsilon', String(used.epsilon)]);
    if (used.convReduction) fields.push(['conv reduction', used.convReduction]);
    if (first.leftOut.length > 0) fields.push(['left out', first.leftOut.join(' ')]);
    fields.push(['computed on', first.computed.reason]);
  }
  const hashes = job.results.map((r) => `${'runA' in r ? `${r.runA}×${r.runB}` : r.run}: ${r.inputHash}`);
  fields.push(['input hashes', `${hashes.join(', ')} (SHA-256 of the arrays each job read, first 12 hex digits)`]);
  if (job.status !== 'done') fields.push(['status', `not finished (${job.status}): ${job.results.length} ${kind === 'dynamics' ? 'runs' : 'pairs'} done`]);
  fields.push(...extra);
  fields.push(['app', `${APP_NAME} ${APP_VERSION}`]);
  const metric = first?.metric ?? 'svcca';
  return { base: filePart(`${stem(name)}-${kind === 'dynamics' ? 'dynamics-all-runs' : 'cross-all-pairs'}-${metric}`), fields };
}

const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(v));
const csvText = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const head = (fields: readonly [string, string][]) => fields.map(([k, v]) => `# ${k}: ${v.replace(/\n/g, ' ')}`);
const spreadCells = (s: Spread) => [num(s.mean), num(s.sd), num(s.min), num(s.max), String(s.n)];

/** Long CSV: one line per step × row layer × column layer: the aggregate, then each run's value. */
export function seedsDynamicsCsv(agg: SeedsDynamics, fields: readonly [string, string][]): string {
  const lines = [
    ...head(fields),
    ['step', 'layer', 'reference layer', 'mean', 'sd', 'min', 'max', 'n', ...agg.runs.map((r) => `run ${String(r)}`)].map(csvText).join(','),
  ];
  agg.steps.forEach((step, t) =>
    agg.layers.forEach((row, i) =>
      agg.layers.forEach((col, j) =>
        lines.push([String(step), csvText(row), csvText(col), ...spreadCells(agg.cells[t][i][j]), ...agg.perRun.map((g) => num(g[t][i][j]))].join(',')),
      ),
    ),
  );
  lines.push('', `# freeze step (stays >= ${agg.threshold} from this step on) per run`);
  lines.push(['layer', 'freeze mean', 'freeze min', 'freeze max', 'runs frozen', ...agg.runs.map((r) => `run ${String(r)}`)].map(csvText).join(','));
  for (const f of agg.freeze)
    lines.push([csvText(f.layer), num(f.spread.mean), num(f.spread.min), num(f.spread.max), String(f.spread.n), ...f.steps.map(num)].join(','));
  return `${lines.join('\n')}\n`;
}

/** Long CSV: one line per A layer × B layer: the aggregate, then each pair's value. */
export function seedsCrossCsv(agg: SeedsCross, rows: readonly string[], cols: readonly string[], fields: readonly [string, string][]): string {
  const lines = [
    ...head(fields),
    ["A's layer", "B's layer", 'mean', 'sd', 'min', 'max', 'n', ...agg.pairs.map((p) => `${String(p.a)}×${String(p.b)}`)].map(csvText).join(','),
  ];
  rows.forEach((row, i) =>
    cols.forEach((col, j) => lines.push([csvText(row), csvText(col), ...spreadCells(agg.cells[i][j]), ...agg.pairs.map((p) => num(p.values[i][j]))].join(','))),
  );
  return `${lines.join('\n')}\n`;
}

/** The JSON export: what it is, the aggregate, and every run's (pair's) full result with its provenance. */
export function seedsJson(
  kind: SeedsKind,
  job: SeedsJob<DynamicsExport | CrossExport>,
  aggregate: SeedsDynamics | SeedsCross,
  fields: readonly [string, string][],
) {
  return {
    analysis: kind === 'dynamics' ? 'dynamics over runs' : 'across runs, all pairs',
    about: Object.fromEntries(fields),
    status: job.status,
    aggregate,
    results: job.results,
  };
}
