// The chance level over many seeds (pure, main thread or engine): each run pair's (or run's)
// chance level as analysis/baseline.ts gives it, combined into "more than chance across seeds".
//
// Combination: over the K run pairs of one cell, Stouffer's Z = Σₖ zₖ / √K with zₖ = (observedₖ −
// chance meanₖ) / chance sdₖ, and the one-sided p bounded by Cantelli's inequality (one-sided
// Chebyshev), p = 1 / (1 + Z² / v) for Z > 0 (else 1), which holds whatever the shape of the null
// distribution. Its assumptions: (1) the null is that the runs' datapoints correspond no more than
// chance, i.e. each run's datapoints could be relabelled independently; then any two pairs of runs
// are related by independent relabellings ((a, b) and (a, c) by σ_b·σ_a⁻¹ and σ_c·σ_a⁻¹), so the
// zₖ are pairwise uncorrelated although the pairs share runs; (2) Var(Z) ≤ v = (1 + K/P)·(P − 1)/(P − 3):
// a new value standardised by the mean and sd of P others (Student's t with P − 1 degrees of freedom,
// for a normal null; with P ≤ 3 there is no bound, p = 1), where the K pairs' null means may be one
// and the same estimate (the Gaussian null's draws are memoised per block shape and seed, so pairs
// of equal kept dimensions share them): its error then adds K/P to Var(Z) instead of 1/P.
// A normal tail would be sharper but is not safe: the permuted similarities are skewed (CCA of
// unrelated data) and their sd comes from a few permutations; on independent random seeds (3 runs,
// 48 datapoints, 4 neurons, P = 20) a normal p ≤ 0.05 came out in 10% of the layers, Var(zₖ) was
// 1.26 against v = 1.17, and Cantelli's p ≤ 0.05 in none (test/analysis/seeds.test.ts). Only each
// pair's Baseline {mean, sd, z, permutations} is used, whatever null produced it; pairs with
// sd = 0 (no z) are left out.
//
// Verdict per layer (the diagonal: layer i of run a against layer i of run b): above chance across
// seeds when its Holm-adjusted p ≤ α = 0.05, Holm over the diagonal's layers: family-wise error
// ≤ α under any dependence between the layers (layers of one network are far from independent).

import { spreadOf, type Spread } from './spread';
import type { Baseline } from './types';

/** The significance level of "more than chance across seeds", family-wise over the layers. */
export const SEEDS_ALPHA = 0.05;

/** What was asked of the chance level (Baseline without its statistics: permutations, seed, …). */
export type ChanceRequestOf = Omit<Baseline, 'mean' | 'sd' | 'z' | 'p'>;

/** What was asked of a chance level: the Baseline without its statistics. */
export function requestOf(b: Baseline): ChanceRequestOf {
  const { mean: _mean, sd: _sd, z: _z, p: _p, ...request } = b;
  return request;
}

/** One cell's chance level over run pairs (or runs) and the combined test. */
export interface CombinedChance {
  /** Spread over run pairs of each pair's chance mean. */
  chance: Spread;
  /** Mean over run pairs of each pair's chance sd (the width of chance for one pair). */
  chanceSd: number | null;
  /** Spread over run pairs of each pair's z = (observed − chance mean) / chance sd. */
  z: Spread;
  /** Stouffer: Σ z / √K over the K pairs with a z; null when none has one. */
  combinedZ: number | null;
  /** One-sided p, Cantelli's bound 1 / (1 + Z²/v) (see above); 1 when Z ≤ 0. */
  p: number | null;
  /** Pairs with a chance level here, and how many of them have no z (sd = 0, left out of combinedZ). */
  pairs: number;
  withoutZ: number;
  /** The first pair's request (permutations, seed…): the same for every pair of one job. */
  request: ChanceRequestOf;
}

/**
 * Bound on the variance of Z = Σₖ (xₖ − mean) / sd / √K for K new values xₖ against the mean and
 * sample sd of P others from the same normal distribution, whether the K share one (mean, sd) or
 * each has its own: (1 + K/P)·(P − 1)/(P − 3) (K = 1: Student's t with P − 1 degrees of freedom
 * scaled by the new value's own spread); Infinity for P ≤ 3 (no finite variance).
 */
export function standardisedVariance(permutations: number, combined = 1): number {
  return permutations > 3 ? ((1 + combined / permutations) * (permutations - 1)) / (permutations - 3) : Infinity;
}

/** Cantelli's one-sided bound P(Z ≥ z) ≤ v / (v + z²) for a mean-0 variable of variance v; 1 for z ≤ 0. */
export function cantelliP(z: number, variance: number): number {
  if (!(z > 0) || !Number.isFinite(variance)) return 1;
  return variance / (variance + z * z);
}

/** The chance level of one cell over run pairs: null when no pair has one. */
export function combineChance(baselines: readonly (Baseline | null | undefined)[]): CombinedChance | null {
  const present = baselines.filter((b): b is Baseline => !!b);
  if (present.length === 0) return null;
  const zs = present.map((b) => b.z).filter((z): z is number => z !== null && Number.isFinite(z));
  const combinedZ = zs.length === 0 ? null : zs.reduce((s, z) => s + z, 0) / Math.sqrt(zs.length);
  const variance = standardisedVariance(Math.min(...present.map((b) => b.permutations)), Math.max(1, zs.length));
  return {
    chance: spreadOf(present.map((b) => b.mean)),
    chanceSd: present.reduce((s, b) => s + b.sd, 0) / present.length,
    z: spreadOf(zs),
    combinedZ,
    p: combinedZ === null ? null : cantelliP(combinedZ, variance),
    pairs: present.length,
    withoutZ: present.length - zs.length,
    request: requestOf(present[0]),
  };
}

/**
 * Holm's step-down adjusted p-values, in the input's order (nulls stay null and do not count as
 * tests): p̃₍ₖ₎ = max over j ≤ k of min(1, (m − j + 1)·p₍ⱼ₎) for the sorted p₍₁₎ ≤ … ≤ p₍ₘ₎.
 */
export function holmAdjusted(ps: readonly (number | null)[]): (number | null)[] {
  const order = ps.flatMap((p, k) => (p === null ? [] : [k])).sort((x, y) => ps[x]! - ps[y]! || x - y);
  const m = order.length;
  const out: (number | null)[] = ps.map(() => null);
  let running = 0;
  order.forEach((k, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * ps[k]!));
    out[k] = running;
  });
  return out;
}

/** A layer's chance across seeds with its verdict. */
export interface LayerChance extends CombinedChance {
  /** Holm-adjusted p over the diagonal's layers. */
  pHolm: number | null;
  /** pHolm ≤ SEEDS_ALPHA; null when there is no p. */
  aboveChance: boolean | null;
}

/** Each diagonal layer's combined chance with its Holm-adjusted p and verdict. */
export function layerVerdicts(combined: readonly (CombinedChance | null)[]): (LayerChance | null)[] {
  const adjusted = holmAdjusted(combined.map((c) => c?.p ?? null));
  return combined.map((c, k) => {
    const pHolm = adjusted[k];
    return c === null ? null : { ...c, pHolm, aboveChance: pHolm === null ? null : pHolm <= SEEDS_ALPHA };
  });
}

/** How the many-seeds verdict is reached, for exports and the CLI's JSON. */
export const SEEDS_CHANCE_TEST = {
  alpha: SEEDS_ALPHA,
  combination: 'Stouffer: Z = Σ z / √K over the K run pairs, one-sided p = P(N(0,1) ≥ Z); z = (similarity − chance mean) / chance sd of each pair',
  correction: 'Holm over the layers of the diagonal (family-wise error ≤ α)',
  assumption:
    "under the null each run's datapoints are relabelled independently, so the pairs' z are pairwise uncorrelated although pairs share runs; a pair's z has variance at most v (exact for a normal null, whose sd is estimated from P permutations); no assumption on the null's shape",
} as const;

/** A layer's freeze step in each run with the chance level there (chanceDefs.freezeStep), over runs. */
export interface FreezeChance {
  /** Per run: the chance level at its freeze step (null: never frozen, or no chance level there). */
  baselines: (Baseline | null)[];
  /** Per run: whether the threshold lies above chance mean + 2 sd at its freeze step. */
  aboveChance: (boolean | null)[];
  /** Spread over the frozen runs of the chance mean at their freeze steps. */
  chance: Spread;
  /** Runs where the threshold lies above chance + 2 sd at the freeze step, out of `frozen` with a chance level. */
  aboveChanceRuns: number;
  frozen: number;
}

export function freezeChance(baselines: readonly (Baseline | null)[], aboveChance: readonly (boolean | null)[]): FreezeChance {
  return {
    baselines: [...baselines],
    aboveChance: [...aboveChance],
    chance: spreadOf(baselines.map((b) => b?.mean ?? null)),
    aboveChanceRuns: aboveChance.filter((a) => a === true).length,
    frozen: aboveChance.filter((a) => a !== null).length,
  };
}

/** "0.0123", "3.2e-5" or "—": a combined p in a table. */
export function formatP(p: number | null): string {
  if (p === null) return '—';
  return p >= 0.001 ? p.toFixed(4) : p.toExponential(1);
}
