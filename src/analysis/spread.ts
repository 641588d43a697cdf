// Mean ± spread of a cell over runs (or run pairs): the one summary every many-seeds number uses
// (analysis/seeds.ts, analysis/seedsChance.ts). Pure.

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

/** "0.912 ± 0.031 (n = 3)", or "0.912 (n = 1)", or "—" for an empty cell. */
export function formatSpread(s: Spread, digits = 3): string {
  if (s.mean === null) return '—';
  return s.sd === null ? `${s.mean.toFixed(digits)} (n = ${s.n})` : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} (n = ${s.n})`;
}
