// Many seeds: R runs of the same architecture, each its own learning dynamics
// or compared with each other, summarised per cell as mean ± spread over runs (or run pairs).
// Pure: numbers in, numbers out; the engine's grids come from computeDynamics / computeCross
// (analysis/seedJobs.ts in the worker and the CLI; the app's state runs one job per run and calls
// the same aggregation here), and the loop over runs (pairs) both share: a run whose job fails is
// named with why and left out, the others go on (runSeedUnits, at the end). Runs the main thread
// may use (no engine, no backend).
//
// Shapes: a dynamics grid is values[t][i][j] = similarity of layer i at steps[t] with layer j at
// the run's own reference step; a cross grid is values[i][j] = similarity of run A's layer i with
// run B's layer j at one step. null: a pair the positions reduction cannot compare.

import { curveGaps, freezeIndex, freezeStep, type UndecidedFreeze } from './chanceDefs';
import { combineChance, freezeChance, layerVerdicts, SEEDS_CHANCE_TEST, type CombinedChance, type FreezeChance, type LayerChance } from './seedsChance';
import { matrixSpread, spreadOf, type Spread } from './spread';
import type { BadArray, Baseline, Provenance } from './types';

export { formatSpread, matrixSpread, spreadOf, type Spread } from './spread';

// The Freeze Training step (paper §4.2): one definition, in chanceDefs.ts.
export { freezeIndex };

type Grid<T> = readonly (readonly T[])[];

/** One run's learning dynamics, as computeDynamics returns it (values over that run's own steps). */
export interface RunDynamics {
  run: string | null;
  steps: readonly number[];
  reference: number;
  values: readonly Grid<number | null>[];
  /** baseline[t][i][j] on the run's own steps, when the job computed a chance level. */
  baseline?: readonly Grid<Baseline | null>[];
  /** Arrays the run's job left out: their cells are null for good (not "not yet"), see chanceDefs.curveGaps. */
  badArrays?: readonly BadArray[];
}

/** A layer's freeze step in each run, and their spread over the runs where it freezes. */
export interface FreezeSpread {
  layer: string;
  /** Per run, in run order: the step from which the layer stays ≥ threshold in that run (null: never, or undecidable). */
  steps: (number | null)[];
  /** Per run, when some run's freeze step is undecidable (a bad array's missing value could change it): its range, else null. */
  undecided?: (UndecidedFreeze | null)[];
  /** Over the runs where it freezes (n of them; undecidable runs are not among them); mean/min/max null when it freezes in none. */
  spread: Spread;
  /** With a chance level: the chance at each run's freeze step and whether the threshold lies above it (+ 2 sd). */
  chance?: FreezeChance;
}

export interface SeedsDynamics {
  runs: (string | null)[];
  /** Steps every run has (the aggregate's time axis); each run's own dynamics may have more. */
  steps: number[];
  layers: string[];
  /** Each run's own reference step (its last unless another was asked for). */
  references: number[];
  /** perRun[r][t][i][j]: run r's values on the shared steps (the aggregate's inputs). */
  perRun: (number | null)[][][][];
  /** cells[t][i][j]: spread over runs of values[t][i][j]. */
  cells: Spread[][][];
  /** curves[i][t]: spread over runs of layer i's diagonal values[t][i][i] (the convergence curve with its band). */
  curves: Spread[][];
  threshold: number;
  /** Per layer: its freeze step in each run (on that run's own steps) and their spread. */
  freeze: FreezeSpread[];
  /** With a chance level: perRunBaseline[r][t][i][j] on the shared steps (null where not computed). */
  perRunBaseline?: (Baseline | null)[][][][];
  /** With a chance level: chanceCells[t][i][j] = spread over runs of each run's chance mean there. */
  chanceCells?: Spread[][][];
  /** Plain sentences: steps some runs lack, and so are left out of the aggregate. */
  notes: string[];
}

/**
 * Aggregates per-run learning dynamics (each against its own reference) over runs, on the steps
 * all runs share, with each layer's freeze step per run (computed on the run's own steps) and,
 * when every run has a chance level, the chance at each run's freeze step.
 * `layers` are the grid's rows and columns, the same in every run.
 */
export function aggregateDynamics(runs: readonly RunDynamics[], layers: readonly string[], threshold: number): SeedsDynamics {
  if (runs.length === 0) throw new Error('aggregateDynamics needs at least one run');
  const shared = runs[0].steps.filter((s) => runs.every((r) => r.steps.includes(s)));
  const notes: string[] = [];
  for (const r of runs) {
    const extra = r.steps.filter((s) => !shared.includes(s));
    if (extra.length > 0)
      notes.push(
        `run ${String(r.run)}: step${extra.length === 1 ? '' : 's'} ${extra.join(', ')} not in every run, left out of the mean (kept in its own freeze step)`,
      );
  }
  const onShared = <T>(r: RunDynamics, grids: readonly Grid<T>[]) => shared.map((s) => grids[r.steps.indexOf(s)].map((row) => row.slice()));
  const perRun = runs.map((r) => onShared(r, r.values));
  const cells = shared.map((_, t) => matrixSpread(perRun.map((grid) => grid[t])));
  const curves = layers.map((_, i) => shared.map((__, t) => cells[t][i][i]));
  const withChance = runs.every((r) => r.baseline !== undefined);
  const freeze = layers.map((layer, i): FreezeSpread => {
    const perRunFreeze = runs.map((r) =>
      freezeStep(
        r.values.map((grid) => grid[i]?.[i] ?? null),
        r.baseline ? r.baseline.map((grid) => grid[i]?.[i] ?? null) : null,
        r.steps,
        threshold,
        curveGaps(r.badArrays, r.steps, r.reference, layer),
      ),
    );
    const steps = perRunFreeze.map((f) => f.step);
    const undecided = perRunFreeze.some((f) => f.undecided) ? perRunFreeze.map((f) => f.undecided ?? null) : null;
    return {
      layer,
      steps,
      ...(undecided ? { undecided } : {}),
      spread: spreadOf(steps),
      ...(withChance
        ? {
            chance: freezeChance(
              perRunFreeze.map((f) => f.baseline),
              perRunFreeze.map((f) => f.aboveChance),
            ),
          }
        : {}),
    };
  });
  const chance: Pick<SeedsDynamics, 'perRunBaseline' | 'chanceCells'> = {};
  if (withChance) {
    chance.perRunBaseline = runs.map((r) => onShared(r, r.baseline!));
    chance.chanceCells = shared.map((_, t) => matrixSpread(chance.perRunBaseline!.map((grid) => grid[t].map((row) => row.map((b) => b?.mean ?? null)))));
  }
  return {
    runs: runs.map((r) => r.run),
    steps: shared,
    layers: [...layers],
    references: runs.map((r) => r.reference),
    perRun,
    cells,
    curves,
    threshold,
    freeze,
    ...chance,
    notes,
  };
}

/** Every unordered pair of runs (a before b in the bundle's order), as index pairs. */
export function runPairs(count: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let a = 0; a < count; a++) for (let b = a + 1; b < count; b++) pairs.push([a, b]);
  return pairs;
}

/** One pair of runs' across-runs matrix: values[i][j] = sim(run a's layer i, run b's layer j). */
export interface PairGrid {
  a: string | null;
  b: string | null;
  values: Grid<number | null>;
  /** baseline[i][j]: the pair's chance level (analysis/baseline.ts), when computed. */
  baseline?: Grid<Baseline | null>;
}

export interface SeedsCross {
  pairs: { a: string | null; b: string | null; values: (number | null)[][]; baseline?: (Baseline | null)[][] }[];
  /** cells[i][j]: spread over run pairs of values[i][j]. */
  cells: Spread[][];
  /**
   * Per layer present in both axes: the same layer across seeds (values[i][i]), its spread over run
   * pairs, and with a chance level whether it agrees across seeds more than chance (seedsChance.ts).
   */
  diagonal: { layer: string; spread: Spread; chance?: LayerChance | null }[];
  /** With a chance level: chance[i][j] over run pairs, combined (null where no pair has one). */
  chance?: (CombinedChance | null)[][];
  /** With a chance level: how the diagonal's verdict is reached (α, combination, correction). */
  chanceTest?: typeof SEEDS_CHANCE_TEST & { layers: number };
}

/**
 * Aggregates the across-runs matrices of every pair of runs (paper Figure 1, averaged over pairs)
 * and, when every pair has a chance level, combines them per cell and judges the diagonal.
 */
export function aggregateCross(pairs: readonly PairGrid[], rows: readonly string[], cols: readonly string[]): SeedsCross {
  const cells = matrixSpread(pairs.map((p) => p.values));
  const diagonalIndex = rows.flatMap((layer, i) => {
    const j = cols.indexOf(layer);
    return j < 0 ? [] : [[i, j] as const];
  });
  const diagonal: SeedsCross['diagonal'] = diagonalIndex.map(([i, j]) => ({ layer: rows[i], spread: spreadOf(pairs.map((p) => p.values[i]?.[j] ?? null)) }));
  const out: SeedsCross = {
    pairs: pairs.map((p) => ({
      a: p.a,
      b: p.b,
      values: p.values.map((row) => row.slice()),
      ...(p.baseline ? { baseline: p.baseline.map((row) => row.slice()) } : {}),
    })),
    cells,
    diagonal,
  };
  if (pairs.length > 0 && pairs.every((p) => p.baseline !== undefined)) {
    out.chance = rows.map((_, i) => cols.map((__, j) => combineChance(pairs.map((p) => p.baseline![i]?.[j] ?? null))));
    const verdicts = layerVerdicts(diagonalIndex.map(([i, j]) => out.chance![i][j]));
    diagonal.forEach((d, k) => (d.chance = verdicts[k]));
    out.chanceTest = { ...SEEDS_CHANCE_TEST, layers: verdicts.filter((v) => v?.pHolm != null).length };
  }
  return out;
}

/**
 * The bad arrays of many pairs of runs, each once (an array of run r is met in every pair with r,
 * as A or B): without the side, which differs from pair to pair.
 */
export function pairsBadArrays(results: readonly { badArrays?: readonly BadArray[] }[]): BadArray[] {
  const out: BadArray[] = [];
  for (const r of results)
    for (const b of r.badArrays ?? [])
      if (!out.some((k) => k.source === b.source)) out.push({ step: b.step, layer: b.layer, source: b.source, problem: b.problem, run: b.run });
  return out;
}

/** One provenance for several jobs: the first's, with every job's float64 fallbacks and mixed arithmetic said. */
export function mergeProvenance(list: readonly (Provenance | undefined)[]): Provenance | undefined {
  const first = list.find((p) => p !== undefined);
  if (!first) return undefined;
  const float64 = [...new Set(list.flatMap((p) => p?.float64 ?? []))];
  const arithmetic = list.some((p) => p?.arithmetic !== first.arithmetic) ? 'float32 and float64' : first.arithmetic;
  return { ...first, arithmetic, float64 };
}

// The one loop of a many-seeds job, shared by the app (state/seeds.ts: one worker job per unit) and
// the CLI (seedJobs.ts: the engine in-process): its units (one run for the learning dynamics over
// runs, one unordered pair of runs for the across-runs matrix over pairs) run in turn, and a unit
// whose job fails at compute time costs only itself: it is named with why and the others go on, so
// the aggregate is over the units that succeeded. A cancel is not a failure: it stops the whole job.

/** Which many-seeds job: the learning dynamics over runs, or the across-runs matrix over pairs of runs. */
export type SeedsKind = 'dynamics' | 'cross';

/** A unit whose job failed: its name ("run b", "runs a × b") and the error's message. */
export interface FailedUnit {
  unit: string;
  error: string;
}

/** "run b" (dynamics: unit = [run]) or "runs a × b" (cross: unit = [run A, run B]). */
export function seedUnitName(kind: SeedsKind, unit: readonly (string | null)[]): string {
  return kind === 'dynamics' ? `run ${String(unit[0])}` : `runs ${String(unit[0])} × ${String(unit[1])}`;
}

/** "run b failed: …; run c failed: … (left out of the mean over runs)": why each failed run (pair) has no result. */
export function failedText(failed: readonly FailedUnit[], kind: SeedsKind): string {
  const what = kind === 'dynamics' ? 'runs' : 'pairs of runs';
  return `${failed.map((f) => `${f.unit} failed: ${f.error}`).join('; ')}${failed.length > 0 ? ` (left out of the mean over ${what})` : ''}`;
}

const isAbort = (e: unknown) => e instanceof Error && e.name === 'AbortError';
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs `compute` on each unit in turn. A unit that throws is recorded in `failed` (its `name` and
 * the error's message) and the next one runs; a cancel (an AbortError, or any error once `signal`
 * is aborted) is rethrown and ends the job. `onSettled` after each unit, with everything so far.
 * `failedUnits[k]` is the unit `failed[k]` names.
 */
export async function runSeedUnits<U, R>(
  units: readonly U[],
  job: {
    name: (unit: U, k: number) => string;
    compute: (unit: U, k: number) => Promise<R>;
    signal?: AbortSignal;
    onSettled?: (done: readonly { unit: U; result: R }[], failed: readonly FailedUnit[]) => void;
  },
): Promise<{ done: { unit: U; result: R }[]; failed: FailedUnit[]; failedUnits: U[] }> {
  const done: { unit: U; result: R }[] = [];
  const failed: FailedUnit[] = [];
  const failedUnits: U[] = [];
  for (const [k, unit] of units.entries()) {
    try {
      done.push({ unit, result: await job.compute(unit, k) });
    } catch (e) {
      if (isAbort(e) || job.signal?.aborted) throw e;
      failed.push({ unit: job.name(unit, k), error: messageOf(e) });
      failedUnits.push(unit);
    }
    job.onSettled?.(done, failed);
  }
  return { done, failed, failedUnits };
}
