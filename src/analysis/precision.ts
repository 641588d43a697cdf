// The precision contract, in one place: which metric, on a representation of which conditioning, the
// GPU's float32 path may compute, and when the float64 path takes over.
//
// The contract: every number a job returns (similarity, each ρ, each kept count) is within
// PRECISION_CONTRACT of what the float64 path (src/math) returns for the same inputs and options,
// whichever backend computed it. The GPU path (src/analysis/gpu/) factors a representation
// as: Gram G = Xc Xcᵀ in f32 on the GPU (each entry's round-off is relative to ‖x_i‖‖x_j‖, so neuron
// scales do not matter); on the host in float64 the eigendecomposition (CCA: of the equilibrated
// correlation matrix R = D⁻¹ G D⁻¹ plus cca_core's ε as a diagonal, exact for every CCA-family
// metric; SVCCA: of G itself); Z₀ = W₀ Xc in f32 on the GPU; then a refinement: C = Z₀ Z₀ᵀ (f32,
// well-conditioned by construction) factored by Cholesky in float64, Z = L⁻¹ Z₀. What is left is the
// round-off of Z₀ = W₀ Xc, about u/√μ_min for the smallest kept direction μ_min (relative to the
// largest), and the decisions that need more digits than float32 holds: which directions are null
// (float64 clips at 1e-12 of λ_max), which neurons ε prunes, where SVCCA's 99% cut falls and whether
// the kept subspace is separated from the rest. `gpuVerdict` reads those off quantities float32
// resolves (computed while factoring) and says, per representation, whether the GPU's numbers keep
// the contract; when not, that representation runs in float64 and the reason is shown.
//
// Shapes: a representation is n neurons × m datapoints.

import type { GramConditioning } from '../math/gramFactor';

/** Every number any backend returns is within this of the float64 path. */
export const PRECISION_CONTRACT = 1e-4;

/** Unit round-off of float32 (2⁻²⁴). */
export const F32_UNIT_ROUNDOFF = 2 ** -24;

/** The GPU path must estimate its error at most this fraction of the contract (a 10× margin). */
export const CONTRACT_MARGIN = 0.1;

/** float64's null-direction floor (src/math/cca.ts CLIP_TOLERANCE_F64), mirrored here so the rule can keep clear of it. */
const F64_CLIP = 1e-12;

/** Conditioning of one representation, measured while the GPU path factors it (all relative, float64 on the host). */
export interface Conditioning extends GramConditioning {
  /** The refinement's Cholesky pivot ratio (smallest / largest); 1 when not refined. */
  refinementPivot: number;
}

export type Verdict = { gpu: true; estimatedError: number } | { gpu: false; estimatedError: number; reason: string };

/** Estimated worst |Δρ| of the GPU path for this representation (see the module comment). */
export function estimatedError(c: Conditioning): number {
  const u = F32_UNIT_ROUNDOFF;
  // Calibrated on the digits CNN (conv layers flattened, every reduction, CCA and SVCCA) and on the
  // stress cases of test/gpu/precisionParity.test.ts: measured |Δρ| ≈ 0.08·u/√μ_min + 1e-7, so these
  // constants overestimate by about 3×.
  const whitening = (0.25 * u) / Math.sqrt(Math.max(c.smallestKept, Number.MIN_VALUE));
  const accumulation = 0.5 * u * Math.sqrt(c.datapoints);
  return whitening + accumulation;
}

/**
 * metric × conditioning → backend. The GPU path keeps the contract when its estimated error stays
 * under CONTRACT_MARGIN · PRECISION_CONTRACT and every discrete decision (pruning, clipping, the 99%
 * cut, the kept subspace) is far from where float32's round-off could flip it. The reason completes
 * "CCA on conv1: computed in float64, …" (the engine names the metric and the layer).
 */
export function gpuVerdict(c: Conditioning): Verdict {
  const error = estimatedError(c);
  const fallback = (why: string): Verdict => ({ gpu: false, estimatedError: error, reason: why });
  const decisionFloor = 1e-4; // float32 Gram entries carry ~u·√m ≈ 1e-6 relative: decisions closer than this may flip
  if (c.metric === 'cca') {
    if (c.nullNeurons > 0)
      return fallback(`${c.nullNeurons === 1 ? 'a neuron is' : `${c.nullNeurons} neurons are`} constant (float32 cannot tell round-off from variance there)`);
    if (c.epsilonMargin < decisionFloor) return fallback("a neuron's variance sits at ε, where float32 cannot decide whether it is pruned");
    // float64 treats directions below 1e-12 of λ_max as null; the GPU must be clear of that floor.
    if (c.floorRatio < 1e3 * F64_CLIP) return fallback("the layer is too ill-conditioned for the GPU's float32 (directions near float64's null floor)");
  } else {
    // The cumulative variance fractions carry about u·√m of round-off from the f32 Gram.
    if (c.cutMargin < 10 * F32_UNIT_ROUNDOFF * Math.sqrt(c.datapoints)) return fallback("the 99% variance cut falls within float32's round-off");
    if (c.gap < 1e-3) return fallback('the last kept direction and the first dropped one have variances too close for float32 to separate');
    if (c.floorRatio < 1e3 * F64_CLIP) return fallback("kept directions near float64's null floor");
  }
  if (!(c.refinementPivot > 1e-6)) return fallback('the whitened layer is numerically rank-deficient in float32');
  if (error > CONTRACT_MARGIN * PRECISION_CONTRACT) return fallback("the layer is too ill-conditioned for the GPU's float32");
  return { gpu: true, estimatedError: error };
}

/**
 * PWCCA weighs each canonical correlation by Σ_j |⟨q_i, x_j⟩|, which is not invariant under a rotation
 * of directions whose correlations nearly coincide: float32's round-off in T = Z_x Z_yᵀ (about u·√m)
 * turns such directions by about that over the gap, and the weights with them. The estimate adds, over
 * consecutive ρ, min(1, round-off / gap) · |ρ − mean ρ| / (weighted directions); a run of coinciding ρ that covers every
 * weighted direction is exempt (identical layers, ρ ≡ 1: every weight multiplies the same value).
 * `rho`: the pair's canonical correlations, descending; `weighted`: the directions that carry weights
 * (the side with fewer kept neurons); `datapoints`: m.
 */
export function pwccaPairVerdict(rho: ArrayLike<number>, weighted: number, datapoints: number): Verdict {
  const roundoff = 2 * F32_UNIT_ROUNDOFF * Math.sqrt(datapoints);
  let allTogether = rho.length >= weighted && weighted > 0;
  for (let i = 0; i + 1 < weighted && allTogether; i++) if (rho[i] - rho[i + 1] > 10 * roundoff) allTogether = false;
  if (allTogether) return { gpu: true, estimatedError: roundoff };
  let mean = 0;
  for (let i = 0; i < rho.length; i++) mean += rho[i] / rho.length;
  let estimate = 0;
  for (let i = 0; i + 1 < rho.length; i++) {
    if (rho[i + 1] > 1e-3) estimate += (Math.min(1, roundoff / Math.max(rho[i] - rho[i + 1], 1e-300)) * Math.abs(rho[i] - mean)) / Math.max(1, weighted);
  }
  // Calibrated on the digits CNN (meanpool, flatten) and the stress suite: this overestimates the
  // measured |Δ| by ~50× where directions are well separated, so half the contract leaves a margin.
  if (estimate > 0.5 * PRECISION_CONTRACT) {
    return {
      gpu: false,
      estimatedError: estimate,
      reason: "canonical correlations that coincide to within float32's round-off leave PWCCA's weights to the choice of directions",
    };
  }
  return { gpu: true, estimatedError: estimate };
}

/**
 * |a − b| for two backends' values of one cell: 0 when both left it empty (a pair the positions
 * reduction cannot compare), Infinity when only one did (a disagreement no tolerance covers).
 */
export function cellDelta(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : Infinity;
  return Math.abs(a - b);
}

/** The largest cellDelta over two grids of the same shape (values[t][i][j], or a cross grid wrapped in [ ]). */
export function gridMaxDelta(a: readonly (readonly (readonly (number | null)[])[])[], b: readonly (readonly (readonly (number | null)[])[])[]): number {
  let max = 0;
  a.forEach((grid, t) => grid.forEach((row, i) => row.forEach((v, j) => (max = Math.max(max, cellDelta(v, b[t]?.[i]?.[j] ?? null))))));
  return max;
}
