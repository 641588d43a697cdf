// The chance level's facts the main thread needs as well as the engine (pure, types only): its
// defaults and the Freeze Training step with its chance level. The
// permutations and statistics themselves: analysis/baseline.ts.

import type { Baseline, BaselineNull, DynamicsResult } from './types';

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
): FreezeStep {
  const t = freezeIndex(values, threshold);
  if (t === null) return { t: null, step: null, similarity: null, baseline: null, aboveChance: null };
  const b = baseline?.[t] ?? null;
  return { t, step: steps[t], similarity: values[t], baseline: b, aboveChance: b ? threshold > b.mean + 2 * b.sd : null };
}

/** Every layer's freeze step on a dynamics result's convergence curves (layer i at each step against layer i at the reference). */
export function freezeSteps(result: DynamicsResult, threshold: number): (FreezeStep & { layer: string })[] {
  return result.layers.map((layer, i) => {
    const curve = result.values.map((grid) => grid[i]?.[i] ?? null);
    const chance = result.baseline ? result.baseline.map((grid) => grid[i]?.[i] ?? null) : null;
    return { layer, ...freezeStep(curve, chance, result.steps, threshold) };
  });
}
