// Many seeds on the engine: each run's learning dynamics (computeDynamics, against its own
// reference) and every unordered pair of runs' across-runs matrix (computeCross), then the pure
// aggregation of analysis/seeds.ts. One FactorCache serves all runs and pairs, so each array is
// read and factored once however many pairs it takes part in (float64 backend).

import { InputError, type Bundle } from '../io/types';
import { cpuBackend, type ComputeBackend } from './backend';
import { computeCross, computeDynamics } from './engine';
import { FactorCache } from './factorCache';
import {
  aggregateCross,
  aggregateDynamics,
  failedText,
  mergeProvenance,
  pairsBadArrays,
  runPairs,
  runSeedUnits,
  seedUnitName,
  type FailedUnit,
  type SeedsCross,
  type SeedsDynamics,
  type SeedsKind,
} from './seeds';
import type { AnalysisOptions, BadArray, BaselineRequest, Conventions, JobControl, Metric, Provenance } from './types';

/** Runs the aggregates need at least. */
export const MIN_RUNS = 2;

/**
 * A many-seeds job where too few runs (pairs) succeeded for the aggregate: every failed one is
 * named with why. Not bad input (the runs' arrays were read): what failed is each unit's job.
 */
export class SeedsFailedError extends Error {
  readonly failed: readonly FailedUnit[];
  constructor(source: string, detail: string, failed: readonly FailedUnit[]) {
    super(`${source}: ${detail}`);
    this.name = 'SeedsFailedError';
    this.failed = failed;
  }
}

/** Throws a SeedsFailedError naming every failed run (pair) and why when fewer than `needed` succeeded. */
function checkSucceeded(kind: SeedsKind, bundle: Bundle, succeeded: number, total: number, needed: number, failed: readonly FailedUnit[]): void {
  if (succeeded >= needed) return;
  const what = kind === 'dynamics' ? 'runs' : 'pairs of runs';
  const need = kind === 'dynamics' ? `the mean over runs needs at least ${needed}` : `the mean over pairs needs at least ${needed} (${MIN_RUNS} runs)`;
  throw new SeedsFailedError(bundle.name, `${succeeded} of ${total} ${what} computed; ${need}: ${failedText(failed, kind)}`, failed);
}

/** One warning per failed run (pair): which one, why, and that the aggregate goes on without it. */
function failedWarning(kind: SeedsKind, failed: readonly FailedUnit[]): string[] {
  return failed.map((f) => failedText([f], kind));
}

export interface SeedsDynamicsResult extends SeedsDynamics {
  metric: Metric;
  /** Runs with two or more checkpoints whose job failed, each with why: left out of `runs` and the aggregate (absent when none did). */
  failedRuns?: { run: string | null; error: string }[];
  conventions: Conventions;
  warnings: string[];
  provenance?: Provenance;
}

export interface SeedsCrossResult extends SeedsCross {
  metric: Metric;
  step: number;
  runs: (string | null)[];
  layers: string[];
  /** Arrays left out (bad input), each once with its run: that run's layer is missing from every pair with the run. */
  badArrays?: BadArray[];
  /** Pairs of runs whose job failed, each with why: left out of `pairs` and the aggregate (absent when none did). */
  failedPairs?: { a: string | null; b: string | null; error: string }[];
  conventions: Conventions;
  warnings: string[];
  provenance?: Provenance;
}

function stepsOf(bundle: Bundle, run: string | null): number[] {
  return [...new Set(bundle.entries.filter((e) => e.run === run).map((e) => e.step))].sort((x, y) => x - y);
}

/**
 * Learning dynamics of every run with at least two checkpoints (each against its own reference:
 * its last step, or `reference` which every run must have), aggregated over runs. `baseline`:
 * each run's chance level (the same request, so the same permutations, for every run), and with it
 * the chance at each run's freeze step.
 */
export async function computeDynamicsAllRuns(
  request: { bundle: Bundle; reference?: 'last' | number; threshold: number; cache?: FactorCache; baseline?: Partial<BaselineRequest> | null },
  options: AnalysisOptions,
  control: JobControl = {},
  backend: ComputeBackend = cpuBackend,
): Promise<SeedsDynamicsResult> {
  const { bundle } = request;
  const runs = bundle.runs.filter((r) => stepsOf(bundle, r).length >= 2);
  const warnings: string[] = [];
  const single = bundle.runs.filter((r) => !runs.includes(r));
  if (single.length > 0)
    warnings.push(`run${single.length === 1 ? '' : 's'} ${single.join(', ')}: a single checkpoint, no learning dynamics; left out of the mean over runs`);
  if (runs.length < MIN_RUNS) {
    throw new InputError(
      bundle.name,
      `has ${runs.length} run${runs.length === 1 ? '' : 's'} with two or more checkpoints; the mean over runs needs at least ${MIN_RUNS} (runs: ${bundle.runs.join(', ')})`,
    );
  }
  const cache = request.cache ?? new FactorCache();
  // A run whose job fails (every array bad, a backend error) costs only itself, as in the app.
  const { done, failed, failedUnits } = await runSeedUnits(runs, {
    name: (run) => seedUnitName('dynamics', [run]),
    signal: control.signal,
    compute: (run, r) =>
      computeDynamics(
        { bundle, run, reference: request.reference, cache, baseline: request.baseline },
        options,
        {
          signal: control.signal,
          onProgress:
            control.onProgress && ((p) => control.onProgress!({ done: p.done + r * p.total, total: p.total * runs.length, stage: `run ${run}: ${p.stage}` })),
        },
        backend,
      ),
  });
  checkSucceeded('dynamics', bundle, done.length, runs.length, MIN_RUNS, failed);
  const results = done.map(({ unit, result }) => ({ run: unit, result }));
  warnings.push(...failedWarning('dynamics', failed));
  const aggregate = aggregateDynamics(
    results.map(({ run, result }) => ({
      run,
      steps: result.steps,
      reference: result.reference,
      values: result.values,
      baseline: result.baseline,
      badArrays: result.badArrays,
    })),
    bundle.layers,
    request.threshold,
  );
  for (const { result } of results) for (const w of result.warnings) if (!warnings.includes(w)) warnings.push(w);
  warnings.push(...aggregate.notes);
  const failedRuns = failed.map((f, k) => ({ run: failedUnits[k], error: f.error }));
  return {
    ...aggregate,
    metric: options.metric,
    ...(failedRuns.length > 0 ? { failedRuns } : {}),
    conventions: results[0].result.conventions,
    warnings,
    provenance: mergeProvenance(results.map(({ result }) => result.provenance)),
  };
}

/**
 * The one warning of a bad array in an all-pairs job: which run's layer is left out and from how
 * many pairs: those with its run that were computed (`computedPairs`; a failed pair has no cells).
 */
function seedsBadWarning(bad: BadArray, computedPairs: readonly (readonly [string | null, string | null])[], layers: number): string {
  const pairs = computedPairs.filter(([a, b]) => a === bad.run || b === bad.run).length;
  return `${bad.source}: ${bad.problem}; run ${String(bad.run)}'s layer ${bad.layer} at step ${bad.step} is left out: its ${layers} cells are missing ${pairs === 1 ? 'in the pair' : `in each of the ${pairs} pairs`} with run ${String(bad.run)} (as row or column); every other cell is computed`;
}

/**
 * The across-runs matrix of every unordered pair of runs (A = the earlier run in the bundle's
 * order) at one step: `step`, or the last step every run has. Aggregated over pairs; `baseline`:
 * every pair's chance level (the same request for each), combined per cell, and per layer whether
 * it agrees across seeds more than chance (analysis/seedsChance.ts).
 */
export async function computeCrossAllPairs(
  request: { bundle: Bundle; step?: number; cache?: FactorCache; baseline?: Partial<BaselineRequest> | null },
  options: AnalysisOptions,
  control: JobControl = {},
  backend: ComputeBackend = cpuBackend,
): Promise<SeedsCrossResult> {
  const { bundle } = request;
  const runs = bundle.runs;
  if (runs.length < MIN_RUNS)
    throw new InputError(
      bundle.name,
      `has ${runs.length} run; all pairs of runs need at least ${MIN_RUNS} (name arrays <run>/step_<N>/<layer>, or load one file per run)`,
    );
  let step = request.step;
  if (step === undefined) {
    const perRun = runs.map((r) => stepsOf(bundle, r));
    const shared = perRun[0].filter((s) => perRun.every((steps) => steps.includes(s)));
    if (shared.length === 0) throw new InputError(bundle.name, `its runs share no step; pass --step`);
    step = shared[shared.length - 1];
  } else {
    const missing = runs.filter((r) => !stepsOf(bundle, r).includes(step!));
    if (missing.length > 0) throw new InputError(bundle.name, `has no step ${step} in run${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
  }
  const cache = request.cache ?? new FactorCache();
  const pairs = runPairs(runs.length);
  // A pair whose job fails (a side whose every array is bad, a backend error) costs only itself, as in the app.
  const units = pairs.map(([a, b]) => [runs[a], runs[b]] as const);
  const { done, failed, failedUnits } = await runSeedUnits(units, {
    name: (unit) => seedUnitName('cross', unit),
    signal: control.signal,
    compute: ([a, b], k) =>
      computeCross(
        { a: { bundle, run: a }, b: { bundle, run: b }, step, cache, baseline: request.baseline },
        options,
        {
          signal: control.signal,
          onProgress:
            control.onProgress &&
            ((p) => control.onProgress!({ done: p.done + k * p.total, total: p.total * pairs.length, stage: `runs ${a} × ${b}: ${p.stage}` })),
        },
        backend,
      ),
  });
  // One pair is the least an aggregate over pairs needs (MIN_RUNS runs).
  checkSucceeded('cross', bundle, done.length, pairs.length, 1, failed);
  const results = done.map(({ unit: [a, b], result }) => ({ a, b, result }));
  const aggregate = aggregateCross(
    results.map(({ a, b, result }) => ({ a, b, values: result.values, baseline: result.baseline })),
    bundle.layers,
    bundle.layers,
  );
  // A bad array is one array of one run, met in every pair with that run (as A or B): reported once,
  // with the cells it leaves missing over all pairs; the pairs' own warnings about it are dropped.
  const badArrays = pairsBadArrays(results.map(({ result }) => result));
  const computedPairs = results.map(({ a, b }) => [a, b] as const);
  const warnings: string[] = badArrays.map((b) => seedsBadWarning(b, computedPairs, bundle.layers.length));
  const aboutBad = (w: string) => badArrays.some((b) => w.startsWith(`${b.source}: `));
  warnings.push(...failedWarning('cross', failed));
  for (const { result } of results) for (const w of result.warnings) if (!warnings.includes(w) && !aboutBad(w)) warnings.push(w);
  const failedPairs = failed.map((f, k) => ({ a: failedUnits[k][0], b: failedUnits[k][1], error: f.error }));
  return {
    ...aggregate,
    ...(badArrays.length > 0 ? { badArrays } : {}),
    ...(failedPairs.length > 0 ? { failedPairs } : {}),
    metric: options.metric,
    step,
    runs: [...runs],
    layers: [...bundle.layers],
    conventions: results[0].result.conventions,
    warnings,
    provenance: mergeProvenance(results.map(({ result }) => result.provenance)),
  };
}
