// The chance level over many seeds (pure, main thread or engine): each run pair's (or run's)
// chance level as analysis/baseline.ts gives it, combined into "more than chance across seeds".
//
// Combination (Stouffer): over the K run pairs of one cell, Z = Σₖ zₖ / √K with zₖ = (observedₖ −
// chance meanₖ) / chance sdₖ, one-sided p = P(N(0, 1) ≥ Z). Its assumptions: (1) the null is that
// the runs' datapoints correspond no more than chance, i.e. each run's datapoints could be relabelled
// independently; then for any two pairs of runs the relabellings relating them are independent
// (pairs (a, b) and (a, c) are related by σ_b·σ_a⁻¹ and σ_c·σ_a⁻¹), so the zₖ are pairwise
// uncorrelated although the pairs share runs and Var(Σ zₖ) = K; (2) each pair's permuted
// similarities are close to normal, so zₖ is a standard score (its sd estimated from P
// permutations). It uses only each pair's Baseline {mean, sd, z}, whatever null produced it, and is
// not limited by a permutation p's floor 1/(P + 1). Pairs whose chance has sd = 0 (no z) are left out.
//
// Verdict per layer (the diagonal: layer i of run a against layer i of run b): above chance across
// seeds when its Holm-adjusted p ≤ α = 0.05, Holm over the diagonal's layers: family-wise error
// ≤ α under any dependence between the layers (layers of one network are far from independent).

import { normalUpperTail } from '../math/normal';
import { spreadOf, type Spread } from './spread';
import type { Baseline } from './types';

/** The significance level of "more than chance across seeds", family-wise over the layers. */
export const SEEDS_ALPHA = 0.05;

/** What was asked of the chance level (Baseline without its statistics: permutations, seed, …). */
export type ChanceRequestOf = Omit<Baseline, 'mean' | 'sd' | 'z' | 'p'>;

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
  /** One-sided p of combinedZ under the standard normal (0 where it underflows). */
  p: number | null;
  /** Pairs with a chance level here, and how many of them have no z (sd = 0, left out of combinedZ). */
  pairs: number;
  withoutZ: number;
  /** The first pair's request (permutations, seed…): the same for every pair of one job. */
  request: ChanceRequestOf;
}

/** The chance level of one cell over run pairs: null when no pair has one. */
export function combineChance(baselines: readonly (Baseline | null | undefined)[]): CombinedChance | null {
  const present = baselines.filter((b): b is Baseline => !!b);
  if (present.length === 0) return null;
  const zs = present.map((b) => b.z).filter((z): z is number => z !== null && Number.isFinite(z));
  const combinedZ = zs.length === 0 ? null : zs.reduce((s, z) => s + z, 0) / Math.sqrt(zs.length);
  const { mean: _mean, sd: _sd, z: _z, p: _p, ...request } = present[0];
  return {
    chance: spreadOf(present.map((b) => b.mean)),
    chanceSd: present.reduce((s, b) => s + b.sd, 0) / present.length,
    z: spreadOf(zs),
    combinedZ,
    p: combinedZ === null ? null : normalUpperTail(combinedZ),
    pairs: present.length,
    withoutZ: present.length - zs.length,
    request,
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
    "under the null each run's datapoints are relabelled independently, so the pairs' z are pairwise uncorrelated although pairs share runs; each pair's permuted similarities are close to normal",
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

/** "p 0.0123", "p 3.2e-9", "p < 1e-300" (a combined p in one phrase). */
export function formatP(p: number | null): string {
  if (p === null) return '—';
  if (p === 0) return '< 1e-300';
  return p >= 0.001 ? p.toFixed(4) : p.toExponential(1);
}
