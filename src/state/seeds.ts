// Many seeds in the app: "all runs (mean ± spread)" in the learning-dynamics
// view and "all pairs of runs (mean)" in the across-runs view. A job here is a sequence of the
// worker's ordinary grid jobs (one per run, each against its own reference; or one per unordered
// pair of runs at one step), so the worker's factor cache serves every run and pair; the views
// aggregate the finished results with analysis/seeds.ts (pure, cheap: changing the freeze threshold
// re-aggregates without recomputing). Exports (CSV, JSON) carry every run's values and the aggregate
// with bundle, runs, options, input hashes and the app's version.

import type { CrossExport, DynamicsExport } from '../analysis/provenance';
import {
  aggregateCross,
  aggregateDynamics,
  failedText,
  mergeProvenance,
  pairsBadArrays,
  runPairs,
  runSeedUnits,
  seedUnitName,
  type SeedsCross,
  type SeedsDynamics,
  type SeedsKind,
  type Spread,
} from '../analysis/seeds';
import type { AnalysisOptions, BaselineRequest } from '../analysis/types';
import { csvComment, csvNumber, csvText } from '../io/csv';
import { APP_NAME, APP_VERSION } from '../version';
import type { BundleInfo } from '../worker/protocol';
import { appStore, getAnalysisClient, isAbort, message, onReset, type AppState, type SeedsJob } from './appStore';
import { activeBundle, APP_BASELINE } from './explorer';
import { computedPart, filePart, optionParts, stem } from './exportInfo';
import { hasConvLayers, relevantOptions } from './jobKey';
import { stepsOfRun } from './preview';

// "run b failed: …; … (left out of the mean over runs)": the view, the export header and the CLI say it alike.
export { failedText };

const get = appStore.getState;
const set = appStore.setState;
const controllers: Record<SeedsKind, AbortController | null> = { dynamics: null, cross: null };

onReset(() => {
  for (const kind of ['dynamics', 'cross'] as const) {
    controllers[kind]?.abort();
    controllers[kind] = null;
  }
});

/**
 * The app's one chance-level switch (`chance`, also the convergence curves'): on, every run (pair)
 * of a many-seeds job computes the chance level of the convergence curves' cells (dynamics) or of
 * the diagonal (cross), with the app's request (explorer.APP_BASELINE); the views rerun on it.
 */
export function setSeedsChance(on: boolean): void {
  set({ chance: on });
}

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
  /** Every run's (pair's) chance level, when the chance switch is on. */
  baseline: BaselineRequest | null;
}

function keyOf(
  kind: SeedsKind,
  info: BundleInfo,
  runs: (string | null)[],
  dropped: string[],
  options: AnalysisOptions,
  step: number | null,
  baseline: BaselineRequest | null,
): string {
  return JSON.stringify([kind, info.id, info.entries.length, runs, dropped, step, relevantOptions(options, hasConvLayers(info, dropped)), baseline]);
}

const chanceOf = (s: AppState) => (s.chance ? APP_BASELINE : null);

/** Runs of the active bundle with two or more checkpoints (learning dynamics needs them), when there are at least two. */
export function seedsDynamicsPlan(s: AppState): SeedsPlan | null {
  const info = activeBundle(s);
  if (!info || !s.confirmed[info.id]) return null;
  const runs = info.runs.filter((r) => stepsOfRun(info, r).length >= 2);
  if (runs.length < 2) return null;
  const dropped = s.dropped[info.id] ?? [];
  const baseline = chanceOf(s);
  return { key: keyOf('dynamics', info, runs, dropped, s.options, null, baseline), bundle: info, runs, dropped, options: s.options, step: null, baseline };
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
  const baseline = chanceOf(s);
  return {
    key: keyOf('cross', info, info.runs, dropped, s.options, step, baseline),
    bundle: info,
    runs: info.runs,
    dropped,
    options: s.options,
    step,
    baseline,
  };
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
  // A run (pair) that fails at compute time costs only itself: it is named with why, the others go on (analysis/seeds.ts runSeedUnits).
  const name = (unit: (string | null)[]) => seedUnitName(kind, unit);
  try {
    const { done, failed } = await runSeedUnits<(string | null)[], DynamicsExport | CrossExport>(units, {
      name,
      signal: controller.signal,
      onSettled: (done, failed) => update({ results: done.map((d) => d.result), ...(failed.length > 0 ? { failed: failed.slice() } : {}) }),
      compute: async (unit, k) => {
        const onProgress = (p: { done: number; total: number; stage: string }) =>
          update({
            progress: { done: k * p.total + p.done, total: units.length * p.total, stage: `${name(unit)} (${k + 1} of ${units.length}): ${p.stage}` },
          });
        if (kind === 'dynamics') {
          const res = await client.dynamics(
            { bundle: plan.bundle.id, run: unit[0], reference: 'last', dropped: plan.dropped, options: plan.options, baseline: plan.baseline },
            { signal: controller.signal, onProgress },
          );
          return res.result;
        }
        const res = await client.cross(
          {
            a: { bundle: plan.bundle.id, run: unit[0], dropped: plan.dropped },
            b: { bundle: plan.bundle.id, run: unit[1], dropped: plan.dropped },
            step: plan.step,
            options: plan.options,
            baseline: plan.baseline,
          },
          { signal: controller.signal, onProgress },
        );
        return res.result;
      },
    });
    if (done.length === 0) update({ status: 'error', error: failedText(failed, kind), progress: null });
    else update({ status: 'done', progress: null });
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
    job.results.map((r) => ({ run: r.run, steps: r.steps, reference: r.reference, values: r.values, baseline: r.baseline, badArrays: r.badArrays })),
    job.results[0].layers,
    threshold,
  );
}

export function seedsCrossOf(job: SeedsJob<CrossExport>): SeedsCross | null {
  if (job.results.length === 0) return null;
  return aggregateCross(
    job.results.map((r) => ({ a: r.runA, b: r.runB, values: r.values, baseline: r.baseline })),
    job.results[0].layersA,
    job.results[0].layersB,
  );
}

const unitName = (r: DynamicsExport | CrossExport) => ('runA' in r ? `${String(r.runA)}×${String(r.runB)}` : String(r.run));

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
  const hashes = job.results.map((r) => `${unitName(r)}: ${r.inputHash}`);
  fields.push(['input hashes', `${hashes.join(', ')} (SHA-256 of the arrays each job read, first 12 hex digits)`]);
  if (job.failed && job.failed.length > 0) fields.push(['failed', failedText(job.failed, kind)]);
  if (job.status !== 'done') fields.push(['status', `not finished (${job.status}): ${job.results.length} ${kind === 'dynamics' ? 'runs' : 'pairs'} done`]);
  fields.push(...extra);
  fields.push(['app', `${APP_NAME} ${APP_VERSION}`]);
  // As a single grid's name (state/exportInfo): what tells two many-seeds exports of the bundle apart.
  const parts = [
    stem(name),
    kind === 'dynamics' ? 'dynamics-all-runs' : 'cross-all-pairs',
    first?.metric ?? 'svcca',
    ...(first ? [first.options.convReduction, ...optionParts(first.options), computedPart(first.computed.backend, first.computed.precision)] : []),
  ];
  return { base: filePart(parts.filter((p) => p !== null && p !== '').join('-')), fields };
}

const head = (fields: readonly [string, string][]) => fields.map(([k, v]) => csvComment(k, v));
const spreadCells = (s: Spread) => [csvNumber(s.mean), csvNumber(s.sd), csvNumber(s.min), csvNumber(s.max), String(s.n)];
const headerRow = (names: readonly string[]) => names.map(csvText).join(',');
const yesNo = (v: boolean | null | undefined) => (v === null || v === undefined ? '' : v ? 'yes' : 'no');

/**
 * Long CSV: one line per step × row layer × column layer: the aggregate, then each run's value (with
 * a chance level: each run's chance mean there, mean and sd over runs); then each layer's freeze
 * step per run, its mean ± sd over runs and, with a chance level, the chance at each run's freeze step.
 */
export function seedsDynamicsCsv(agg: SeedsDynamics, fields: readonly [string, string][]): string {
  const chance = agg.chanceCells;
  const lines = [
    ...head(fields),
    headerRow([
      'step',
      'layer',
      'reference layer',
      'mean',
      'sd',
      'min',
      'max',
      'n',
      ...agg.runs.map((r) => `run ${String(r)}`),
      ...(chance ? ['chance mean', 'chance sd over runs'] : []),
    ]),
  ];
  agg.steps.forEach((step, t) =>
    agg.layers.forEach((row, i) =>
      agg.layers.forEach((col, j) =>
        lines.push(
          [
            String(step),
            csvText(row),
            csvText(col),
            ...spreadCells(agg.cells[t][i][j]),
            ...agg.perRun.map((g) => csvNumber(g[t][i][j])),
            ...(chance ? [csvNumber(chance[t][i][j].mean), csvNumber(chance[t][i][j].sd)] : []),
          ].join(','),
        ),
      ),
    ),
  );
  const withChance = agg.freeze.every((f) => f.chance);
  lines.push(
    '',
    `# freeze step (stays >= ${agg.threshold} from this step on) per run${withChance ? '; chance: at each run\'s freeze step, "above" = the threshold lies above chance mean + 2 sd there' : ''}`,
  );
  lines.push(
    headerRow([
      'layer',
      'freeze mean',
      'freeze sd',
      'freeze min',
      'freeze max',
      'runs frozen',
      ...agg.runs.map((r) => `run ${String(r)}`),
      ...(withChance
        ? [
            'chance at freeze mean',
            'chance at freeze sd',
            'runs above chance',
            ...agg.runs.flatMap((r) => [`run ${String(r)} chance`, `run ${String(r)} above chance`]),
          ]
        : []),
    ]),
  );
  for (const f of agg.freeze) {
    const c = f.chance;
    lines.push(
      [
        csvText(f.layer),
        csvNumber(f.spread.mean),
        csvNumber(f.spread.sd),
        csvNumber(f.spread.min),
        csvNumber(f.spread.max),
        String(f.spread.n),
        ...f.steps.map((step, r) => (f.undecided?.[r] ? 'undecidable' : csvNumber(step))),
        ...(c
          ? [
              csvNumber(c.chance.mean),
              csvNumber(c.chance.sd),
              `${c.aboveChanceRuns} of ${c.frozen}`,
              ...c.baselines.flatMap((b, r) => [csvNumber(b?.mean), yesNo(c.aboveChance[r])]),
            ]
          : []),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Long CSV: one line per A layer × B layer: the aggregate, then each pair's value (with a chance
 * level: the chance over pairs, Stouffer's Z and p); then, with a chance level, the same layer across
 * seeds against chance: similarity and chance over pairs, z, Z, p, Holm's p and the verdict.
 */
export function seedsCrossCsv(agg: SeedsCross, rows: readonly string[], cols: readonly string[], fields: readonly [string, string][]): string {
  const chance = agg.chance;
  const lines = [
    ...head(fields),
    headerRow([
      "A's layer",
      "B's layer",
      'mean',
      'sd',
      'min',
      'max',
      'n',
      ...agg.pairs.map((p) => `${String(p.a)}×${String(p.b)}`),
      ...(chance ? ['chance mean', 'chance sd over pairs', 'combined z', 'p'] : []),
    ]),
  ];
  rows.forEach((row, i) =>
    cols.forEach((col, j) => {
      const c = chance?.[i][j];
      lines.push(
        [
          csvText(row),
          csvText(col),
          ...spreadCells(agg.cells[i][j]),
          ...agg.pairs.map((p) => csvNumber(p.values[i][j])),
          ...(chance ? [csvNumber(c?.chance.mean), csvNumber(c?.chance.sd), csvNumber(c?.combinedZ), csvNumber(c?.p)] : []),
        ].join(','),
      );
    }),
  );
  if (agg.chanceTest) {
    const t = agg.chanceTest;
    lines.push('', `# the same layer across seeds against chance: ${t.combination}; ${t.correction}; alpha ${t.alpha}`);
    lines.push(
      headerRow([
        'layer',
        'mean',
        'sd',
        'n',
        'chance mean',
        'chance sd over pairs',
        'chance sd per pair (mean)',
        'z mean',
        'z sd',
        'combined z',
        'p',
        'p (Holm)',
        'above chance across seeds',
      ]),
    );
    for (const d of agg.diagonal) {
      const c = d.chance;
      lines.push(
        [
          csvText(d.layer),
          csvNumber(d.spread.mean),
          csvNumber(d.spread.sd),
          String(d.spread.n),
          csvNumber(c?.chance.mean),
          csvNumber(c?.chance.sd),
          csvNumber(c?.chanceSd),
          csvNumber(c?.z.mean),
          csvNumber(c?.z.sd),
          csvNumber(c?.combinedZ),
          csvNumber(c?.p),
          csvNumber(c?.pHolm),
          yesNo(c?.aboveChance),
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The JSON export: the CLI's `dynamics --all-runs --json` / `cross --all-pairs --json` object for
 * the same analysis (same keys, same numbers), except `inputHash` and `inputArrays` over every array
 * (the worker hashes each job's arrays: `inputHashes` per run or pair, as the CLI gives them too);
 * and with what only the app has: `about` (the export's header fields), `status` and `results`
 * (every run's or pair's full result with its provenance).
 */
export function seedsJson(
  kind: SeedsKind,
  job: SeedsJob<DynamicsExport | CrossExport>,
  aggregate: SeedsDynamics | SeedsCross,
  fields: readonly [string, string][],
) {
  const about = Object.fromEntries(fields);
  const first = job.results[0];
  const warnings = [...new Set([...job.results.flatMap((r) => r.warnings), ...('notes' in aggregate ? aggregate.notes : [])])];
  // As the CLI's: cross names every bad array once (seedJobs.computeCrossAllPairs), when there is one.
  const bad = kind === 'cross' ? pairsBadArrays(job.results) : [];
  const shape =
    kind === 'dynamics'
      ? { runs: job.runs }
      : {
          step: (first as CrossExport | undefined)?.step ?? null,
          runs: job.runs,
          layers: (first as CrossExport | undefined)?.layersA ?? [],
          ...(bad.length > 0 ? { badArrays: bad } : {}),
        };
  return {
    analysis: kind === 'dynamics' ? 'dynamics over runs' : 'across runs, all pairs',
    bundle: about.bundle,
    ...aggregate,
    metric: first?.metric ?? null,
    ...shape,
    conventions: first?.conventions ?? null,
    warnings,
    provenance: mergeProvenance(job.results.map((r) => r.provenance)),
    options: first?.options ?? null,
    computed: first?.computed ?? null,
    app: first?.app ?? null,
    inputHashes: Object.fromEntries(job.results.map((r) => [unitName(r), r.inputHash])),
    about,
    status: job.status,
    // App-only, as status: runs (pairs) whose job failed, each with why (absent when none did).
    ...(job.failed && job.failed.length > 0 ? { failed: job.failed } : {}),
    results: job.results,
  };
}
