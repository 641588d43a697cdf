// The chance level of a block of pairs on any backend. Cells the Gaussian null takes (CCA, SVCCA:
// analysis/baseline.ts chooseNull) are drawn from their kept dimensions alone, no backend call. For
// the others every permutation re-indexes the second side's factors once (backend.permuteDatapoints)
// and compares the block as usual, so their chance level costs P cross products of the grid, never
// a factorisation.
//
// Shapes: `a` and `b` are the factors of one grid block (rows × columns of the grid), all over the
// same m datapoints.

import { checkAborted, type ComputeBackend } from './backend';
import type { CanonicalShape } from '../math/canonicalNull';
import { baselineStatistics, chooseNull, gaussianChance, inputPermutations } from './baseline';
import type { PairNumbers } from './metrics';
import type { AnalysisOptions, Baseline, BaselineRequest } from './types';

/** Permuted factors compared in one backend call at most (bounds the memory of the copies). */
const FACTORS_PER_CALL = 128;

export interface ChanceBlock {
  /** baseline[r][c]; null where `observed` is null or the cell was not asked for. */
  baseline: (Baseline | null)[][];
  /** Why the permuted pairs ran in float64 (a GPU backend), once; null when they did not. */
  float64: string | null;
}

/**
 * `observed[r][c]`: the block's similarities (null: not compared); `wanted(r, c)`: which cells get a
 * chance level (a dynamics job may ask only for the convergence curves' cells).
 */
export async function chanceOfBlock<F>(
  backend: ComputeBackend<F>,
  a: F[],
  b: F[],
  observed: (number | null)[][],
  options: AnalysisOptions,
  request: BaselineRequest,
  wanted: (r: number, c: number) => boolean = () => true,
  signal?: AbortSignal,
  /** Datapoints per input: H·W for conv layers under the positions reduction (whole inputs are shuffled), else 1. */
  positionsPerInput = 1,
  /** canonical[r][c]: the pair's dimensions for the Gaussian null (PairNumbers.canonical); absent: permutations. */
  canonical: readonly (readonly (CanonicalShape | undefined)[])[] | null = null,
): Promise<ChanceBlock> {
  const cells = a.map((_, r) => b.map((_, c) => observed[r][c] !== null && wanted(r, c)));
  const permuted: number[][][] = a.map(() => b.map(() => []));
  const baseline: (Baseline | null)[][] = a.map(() => b.map(() => null));
  // The Gaussian null first: what it takes leaves the permuted grids.
  const notes: (string | null)[][] = a.map(() => b.map(() => null));
  cells.forEach((row, r) =>
    row.forEach((want, c) => {
      if (!want) return;
      const shape = canonical?.[r]?.[c];
      const choice = chooseNull(request, options, shape, positionsPerInput);
      if (choice.gaussian && shape) {
        baseline[r][c] = gaussianChance(observed[r][c]!, shape, request);
        row[c] = false;
      } else if (!choice.gaussian) notes[r][c] = choice.note;
    }),
  );
  const columns = b.flatMap((_, c) => (cells.some((row) => row[c]) ? [c] : []));
  if (columns.length === 0) return { baseline, float64: null };
  let float64: string | null = null;
  const record = (r: number, c: number, numbers: PairNumbers) => {
    permuted[r][c].push(numbers.similarity);
    float64 ??= numbers.fallback ?? null;
  };
  const datapoints = backend.datapointsOfFactor(b[0]);
  const perms = inputPermutations(request.seed, datapoints / positionsPerInput, positionsPerInput, request.permutations);
  const wantedCount = cells.reduce((s, row) => s + row.filter(Boolean).length, 0);
  if (2 * wantedCount > a.length * columns.length) {
    // Most of the block: every row against the permuted columns, several permutations per
    // compareGrid (cells not wanted are computed and dropped).
    const chunk = Math.max(1, Math.floor(FACTORS_PER_CALL / columns.length));
    for (let start = 0; start < perms.length; start += chunk) {
      checkAborted(signal);
      const shuffled = perms.slice(start, start + chunk).flatMap((perm) =>
        backend.permuteDatapoints(
          columns.map((c) => b[c]),
          perm,
          options,
        ),
      );
      try {
        const grid = await backend.compareGrid(a, shuffled, options, undefined, signal);
        grid.forEach((row, r) => row.forEach((numbers, q) => cells[r][columns[q % columns.length]] && record(r, columns[q % columns.length], numbers)));
      } finally {
        backend.release(shuffled);
      }
    }
  } else {
    // A few cells (the convergence curves' diagonal): per column, its wanted rows against all of
    // its permuted versions, one compareGrid.
    for (const c of columns) {
      checkAborted(signal);
      const rows = a.flatMap((_, r) => (cells[r][c] ? [r] : []));
      const shuffled = perms.flatMap((perm) => backend.permuteDatapoints([b[c]], perm, options));
      try {
        const grid = await backend.compareGrid(
          rows.map((r) => a[r]),
          shuffled,
          options,
          undefined,
          signal,
        );
        grid.forEach((row, k) => row.forEach((numbers) => record(rows[k], c, numbers)));
      } finally {
        backend.release(shuffled);
      }
    }
  }
  cells.forEach((row, r) =>
    row.forEach((want, c) => {
      if (!want) return;
      const note = notes[r][c];
      baseline[r][c] = { ...baselineStatistics(observed[r][c]!, permuted[r][c], request.seed), ...(note ? { nullNote: note } : {}) };
    }),
  );
  return { baseline, float64 };
}
