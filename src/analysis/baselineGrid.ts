// The chance level of a block of pairs on any backend: every permutation re-indexes the second
// side's factors once (backend.permuteDatapoints) and compares the block as usual, so a grid's
// chance level costs P cross products of the grid, never a factorisation (analysis/baseline.ts).
//
// Shapes: `a` and `b` are the factors of one grid block (rows × columns of the grid), all over the
// same m datapoints.

import { checkAborted, type ComputeBackend } from './backend';
import { baselineStatistics, datapointPermutations } from './baseline';
import type { AnalysisOptions, Baseline, BaselineRequest } from './types';

export interface ChanceBlock {
  /** baseline[r][c]; null where `observed` is null or the cell was not asked for. */
  baseline: (Baseline | null)[][];
  /** Why the permuted pairs ran in float64 (a GPU backend), once; null when they did not. */
  float64: string | null;
}

/**
 * `observed[r][c]`: the block's similarities (null: not compared); `wanted(r, c)`: which cells get a
 * chance level (a dynamics job may ask only for the convergence curves' cells). With every cell
 * wanted the block is one compareGrid per permutation; otherwise one per wanted cell.
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
): Promise<ChanceBlock> {
  const cells = a.map((_, r) => b.map((_, c) => observed[r][c] !== null && wanted(r, c)));
  const permuted: number[][][] = a.map(() => b.map(() => []));
  const baseline: (Baseline | null)[][] = a.map(() => b.map(() => null));
  const columns = b.flatMap((_, c) => (cells.some((row) => row[c]) ? [c] : []));
  if (columns.length === 0) return { baseline, float64: null };
  // The whole block in one product when most of it is wanted (cells not wanted are computed and dropped).
  const wantedCount = cells.reduce((s, row) => s + row.filter(Boolean).length, 0);
  const everyCell = 2 * wantedCount > a.length * columns.length;
  let float64: string | null = null;
  const m = backend.datapointsOfFactor(b[0]);
  for (const perm of datapointPermutations(request.seed, m, request.permutations)) {
    checkAborted(signal);
    const shuffled = backend.permuteDatapoints(columns.map((c) => b[c]), perm, options);
    try {
      if (everyCell) {
        const grid = await backend.compareGrid(a, shuffled, options, undefined, signal);
        grid.forEach((row, r) =>
          row.forEach((numbers, k) => {
            if (!cells[r][columns[k]]) return;
            permuted[r][columns[k]].push(numbers.similarity);
            float64 ??= numbers.fallback ?? null;
          }),
        );
      } else {
        for (const [r, row] of cells.entries()) {
          for (const [k, c] of columns.entries()) {
            if (!row[c]) continue;
            const [[numbers]] = await backend.compareGrid([a[r]], [shuffled[k]], options, undefined, signal);
            permuted[r][c].push(numbers.similarity);
            float64 ??= numbers.fallback ?? null;
          }
        }
      }
    } finally {
      backend.release(shuffled);
    }
  }
  cells.forEach((row, r) =>
    row.forEach((want, c) => {
      if (want) baseline[r][c] = baselineStatistics(observed[r][c]!, permuted[r][c], request.seed);
    }),
  );
  return { baseline, float64 };
}
