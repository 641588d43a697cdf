// Many seeds: R runs of the same architecture, each its own learning dynamics
// or compared with each other, summarised per cell as mean ± spread over runs (or run pairs).
// Pure: numbers in, numbers out; the engine's grids come from computeDynamics / computeCross
// (analysis/seedJobs.ts in the worker and the CLI; the app's state runs one job per run and calls
// the same aggregation here). Runs the main thread may use (no engine, no backend).
//
// Shapes: a dynamics grid is values[t][i][j] = similarity of layer i at steps[t] with layer j at
// the run's own reference step; a cross grid is values[i][j] = similarity of run A's layer i with
// run B's layer j at one step. null: a pair the positions reduction cannot compare.

import { freezeIndex } from './chanceDefs';

/** Mean and spread of one cell over runs (or run pairs); nulls are left out and `n` counts the rest. */
export interface Spread {
  /** null when no run has a value here. */
  mean: number | null;
  /** Sample standard deviation (n − 1 in the denominator, numpy's ddof=1); null when n < 2. */
  sd: number | null;
  min: number | null;
  max: number | null;
  /** How many runs (or run pairs) have a value in this cell. */
  n: number;
}

/** Mean, sample sd (ddof = 1), min and max of the non-null values. */
export function spreadOf(values: readonly (number | null | undefined)[]): Spread {
  const present = values.filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  const n = present.length;
  if (n === 0) return { mean: null, sd: null, min: null, max: null, n: 0 };
  let sum = 0;
  for (const v of present) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of present) squares += (v - mean) * (v - mean);
  return { mean, sd: n < 2 ? null : Math.sqrt(squares / (n - 1)), min: Math.min(...present), max: Math.max(...present), n };
}

/** Cell-wise spread of equally shaped matrices: out[i][j] = spreadOf(grids[·][i][j]). */
export function matrixSpread(grids: readonly (readonly (readonly (number | null)[])[])[]): Spread[][] {
  if (grids.length === 0) return [];
  return grids[0].map((row, i) => row.map((_, j) => spreadOf(grids.map((g) => g[i]?.[j] ?? null))));
}

// The Freeze Training step (paper §4.1): one definition, in chanceDefs.ts.
export { freezeIndex };

/** One run's learning dynamics, as computeDynamics returns it (values over that run's own steps). */
export interface RunDynamics {
  run: string | null;
  steps: readonly number[];
  reference: number;
  values: readonly (readonly (readonly (number | null)[])[])[];
}

/** A layer's freeze step in each run, and their spread over the runs where it freezes. */
export interface FreezeSpread {
  layer: string;
  /** Per run, in run order: the step from which the layer stays ≥ threshold in that run (null: never). */
  steps: (number | null)[];
  /** Over the runs where it freezes (n of them); mean/min/max null when it freezes in none. */
  spread: Spread;
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
  /** Plain sentences: steps some runs lack, and so are left out of the aggregate. */
  notes: string[];
}

/**
 * Aggregates per-run learning dynamics (each against its own reference) over runs, on the steps
 * all runs share, with each layer's freeze step per run (computed on the run's own steps).
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
  const perRun = runs.map((r) => shared.map((s) => r.values[r.steps.indexOf(s)].map((row) => row.slice())));
  const cells = shared.map((_, t) => matrixSpread(perRun.map((grid) => grid[t])));
  const curves = layers.map((_, i) => shared.map((__, t) => cells[t][i][i]));
  const freeze = layers.map((layer, i) => {
    const steps = runs.map((r) => {
      const t = freezeIndex(
        r.values.map((grid) => grid[i]?.[i] ?? null),
        threshold,
      );
      return t === null ? null : r.steps[t];
    });
    return { layer, steps, spread: spreadOf(steps) };
  });
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
  values: readonly (readonly (number | null)[])[];
}

export interface SeedsCross {
  pairs: { a: string | null; b: string | null; values: (number | null)[][] }[];
  /** cells[i][j]: spread over run pairs of values[i][j]. */
  cells: Spread[][];
  /**
   * Per layer present in both axes: the same layer across seeds (values[i][i]), its spread over run
   * pairs. How far this is above chance needs the permutation baseline (not part of this module).
   */
  diagonal: { layer: string; spread: Spread }[];
}

/** Aggregates the across-runs matrices of every pair of runs (paper Figure 1, averaged over pairs). */
export function aggregateCross(pairs: readonly PairGrid[], rows: readonly string[], cols: readonly string[]): SeedsCross {
  const cells = matrixSpread(pairs.map((p) => p.values));
  const diagonal = rows.flatMap((layer, i) => {
    const j = cols.indexOf(layer);
    return j < 0 ? [] : [{ layer, spread: spreadOf(pairs.map((p) => p.values[i]?.[j] ?? null)) }];
  });
  return { pairs: pairs.map((p) => ({ a: p.a, b: p.b, values: p.values.map((row) => row.slice()) })), cells, diagonal };
}

/** "0.912 ± 0.031 (n = 3)", or "0.912 (n = 1)", or "—" for an empty cell. */
export function formatSpread(s: Spread, digits = 3): string {
  if (s.mean === null) return '—';
  return s.sd === null ? `${s.mean.toFixed(digits)} (n = ${s.n})` : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} (n = ${s.n})`;
}
