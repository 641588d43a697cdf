// The chance level's facts the main thread needs as well as the engine (pure, types only): its
// defaults and the Freeze Training step with its chance level. The
// permutations and statistics themselves: analysis/baseline.ts.

import type { BadArray, Baseline, BaselineNull, DynamicsResult } from './types';

/** What the draws of a chance level are, in words: "20 " + drawsOf(…) (the CLI's and the app's text). */
export function drawsOf(nullUsed: BaselineNull): string {
  switch (nullUsed) {
    case 'gaussian':
      return 'draws of the Gaussian null (independent data, same kept dimensions)';
    case 'permutation':
      return "permutations of B's datapoints";
    case 'auto':
      return "draws of the default null (the Gaussian null for CCA and SVCCA, permutations of B's datapoints otherwise)";
  }
}

/**
 * A chance level's p as the CLI and the app print it ("0.048"). Where no draw reached the value, p is
 * 1/(P + 1), the least P draws can give, and the text says so ("0.048, the least 20 draws give"):
 * beside "z 103.6" a bare "p 0.048" reads as a borderline result, where more draws give a smaller p.
 */
export function pText(b: Pick<Baseline, 'p' | 'permutations'>, digits: number): string {
  const text = b.p.toFixed(digits);
  return Math.round(b.p * (b.permutations + 1)) === 1 ? `${text}, the least ${b.permutations} draws give` : text;
}

/** The default freeze threshold: a layer has converged from the step it stays at or above it (app and CLI). */
export const DEFAULT_FREEZE_THRESHOLD = 0.95;

/** Default number of permutations and seed. */
export const DEFAULT_PERMUTATIONS = 20;
export const DEFAULT_BASELINE_SEED = 1;
/** More permutations than this are refused: p can never go below 1/(P + 1) and the cost is P grids. */
export const MAX_PERMUTATIONS = 10_000;

/**
 * The step from which a convergence curve stays at or above `threshold` (Freeze Training), with
 * the chance level there: `values` and `baseline` are one layer's curve over the steps.
 * `aboveChance`: whether the threshold itself lies above mean + 2 sd of the chance level at that
 * step (null without a baseline there), so that "converged" cannot be a property of the shapes alone.
 */
export interface FreezeStep {
  t: number | null;
  step: number | null;
  similarity: number | null;
  baseline: Baseline | null;
  aboveChance: boolean | null;
  /** Set (and t null) when missing values (bad arrays) leave the freeze step undecidable; in steps. */
  undecided?: UndecidedFreeze;
}

/**
 * A freeze step that missing values make undecidable (checkpoint indices from freezeWithGaps,
 * steps in FreezeStep): it is `earliest` if every missing value
 * after the last known one below the threshold was at or above it, else as late as `latest`
 * (null: it may never freeze). `missing`: the steps whose values are missing there, ascending.
 */
export interface UndecidedFreeze {
  earliest: number;
  latest: number | null;
  missing: number[];
}

/** "undecidable (step 200 missing): from step 100 if it was at or above the threshold, else from step 300". */
export function undecidedText(u: UndecidedFreeze): string {
  const one = u.missing.length === 1;
  const late = u.latest === null ? 'not yet' : `from step ${u.latest}`;
  return `undecidable (step${one ? '' : 's'} ${u.missing.join(', ')} missing): from step ${u.earliest} if ${one ? 'it was' : 'they were'} at or above the threshold, else ${late}`;
}

/**
 * The freeze step of a curve with missing values (`missing[t]`: the value at t is missing for
 * good, a bad array's cell; null without missing[t] is a value not computed yet). Decided from the
 * values that exist when the missing ones cannot change it (they lie before the last value below
 * the threshold), else undecided with the range the missing ones leave.
 */
export function freezeWithGaps(
  values: readonly (number | null)[],
  threshold: number,
  missing: readonly boolean[] | null,
): { t: number | null; undecided?: UndecidedFreeze } {
  const gaps: number[] = [];
  let below = -1;
  for (let t = values.length - 1; t >= 0; t--) {
    if (missing?.[t]) {
      gaps.push(t);
      continue;
    }
    const v = values[t];
    if (v === null || !(v >= threshold)) {
      below = t;
      break;
    }
  }
  if (gaps.length === 0) return { t: freezeIndex(values, threshold) };
  const latest = gaps[0] + 1;
  return { t: null, undecided: { earliest: below + 1, latest: latest < values.length ? latest : null, missing: gaps.reverse() } };
}

/** Why cell (t, row layer, column layer) of a dynamics grid is missing for good (a bad array), or null. */
export function badCellWhy(badArrays: readonly BadArray[] | undefined, step: number, reference: number, row: string, col: string): string | null {
  if (!badArrays || badArrays.length === 0) return null;
  const rowBad = badArrays.find((b) => b.step === step && b.layer === row);
  const colBad = badArrays.find((b) => b.step === reference && b.layer === col);
  const bad = rowBad ?? colBad;
  return bad ? `missing: ${bad.source}: ${bad.problem}` : null;
}

/** Why cell (A's layer row, B's layer col) of an across-runs grid is missing for good (a bad array on either side), or null. */
export function crossBadCellWhy(badArrays: readonly BadArray[] | undefined, row: string, col: string): string | null {
  if (!badArrays || badArrays.length === 0) return null;
  const bad = badArrays.find((b) => (b.side === 'B' ? b.layer === col : b.layer === row));
  return bad ? `missing: ${bad.source}: ${bad.problem}` : null;
}

/** missing[t] of layer's convergence curve (layer at step t against itself at the reference). */
export function curveGaps(badArrays: readonly BadArray[] | undefined, steps: readonly number[], reference: number, layer: string): boolean[] | null {
  if (!badArrays || badArrays.length === 0) return null;
  return steps.map((step) => badCellWhy(badArrays, step, reference, layer, layer) !== null);
}

/**
 * The first checkpoint index from which the series stays at or above `threshold` up to the last
 * checkpoint (null if it never does, or the last values are not computed yet).
 */
export function freezeIndex(values: readonly (number | null)[], threshold: number): number | null {
  let first: number | null = null;
  for (let t = values.length - 1; t >= 0; t--) {
    const v = values[t];
    if (v === null || !(v >= threshold)) break;
    first = t;
  }
  return first;
}

export function freezeStep(
  values: readonly (number | null)[],
  baseline: readonly (Baseline | null)[] | null,
  steps: readonly number[],
  threshold: number,
  missing: readonly boolean[] | null = null,
): FreezeStep {
  const { t, undecided } = freezeWithGaps(values, threshold, missing);
  if (undecided) {
    // In steps, as the freeze step itself is given.
    const inSteps = {
      earliest: steps[undecided.earliest],
      latest: undecided.latest === null ? null : steps[undecided.latest],
      missing: undecided.missing.map((k) => steps[k]),
    };
    return { t: null, step: null, similarity: null, baseline: null, aboveChance: null, undecided: inSteps };
  }
  if (t === null) return { t: null, step: null, similarity: null, baseline: null, aboveChance: null };
  const b = baseline?.[t] ?? null;
  return { t, step: steps[t], similarity: values[t], baseline: b, aboveChance: b ? threshold > b.mean + 2 * b.sd : null };
}

/** Every layer's freeze step on a dynamics result's convergence curves (layer i at each step against layer i at the reference). */
export function freezeSteps(result: DynamicsResult, threshold: number): (FreezeStep & { layer: string })[] {
  return result.layers.map((layer, i) => {
    const curve = result.values.map((grid) => grid[i]?.[i] ?? null);
    const chance = result.baseline ? result.baseline.map((grid) => grid[i]?.[i] ?? null) : null;
    return { layer, ...freezeStep(curve, chance, result.steps, threshold, curveGaps(result.badArrays, result.steps, result.reference, layer)) };
  });
}
