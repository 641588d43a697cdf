// The float64 parts of PWCCA on the GPU path (src/analysis/gpu/pwcca.ts), beside the float64 twin
// src/math/pwcca.ts: a whitened factor Z = L⁻¹ W₀ Xc lives on the GPU; its kept centred neurons are
// expressed here in an orthonormal basis of Z's row space, so that the 'reference' weights need no
// GPU pass and no f32 Gram of the neurons.
//
// Shapes: W₀ is r × size (size = the layer's n neurons, of which `kept` survive ε pruning; `live`
// of those are not identically zero); L⁻¹ is r × r lower-triangular.

import { multiply, multiplyABt, orthonormalizeRows, type Matrix } from './matrix';
import type { Whitening } from './gramFactor';
import { completeRotation } from './pwcca';
import { cholesky, invert, polarFactor } from './whitening';

export interface PwccaCoordinates {
  /** kept × kept orthogonal: row a maps Z's coordinate a to the symmetric whitening's (cca_core's) coordinates. */
  basis: Matrix;
  /** kept × r: the kept centred neurons in an orthonormal basis of Z's row space (Xc_kept = F·Z̃, Z̃ Z̃ᵀ = I). */
  neurons: Matrix;
}

/**
 * cca_core's rotation lives in the symmetric whitening's coordinates: Σ̃^-½ = Qᵀ B with B = L⁻¹ W₀
 * (live kept coordinates) and Q its orthogonal polar factor. Identically zero rows are float64's
 * clipped directions: their unit vectors complete the basis. Null when the whitened layer is
 * numerically rank-deficient (B not invertible, or I − ridge·B Bᵀ not positive definite).
 */
export function pwccaCoordinates(lInverse: Matrix, w: Whitening, size: number): PwccaCoordinates | null {
  const r = w.rows;
  const kept = w.kept.length;
  const live = w.live;
  if (r === 0 || live.length !== r) return null;
  const bMatrix: Matrix = { rows: r, cols: r, data: new Float64Array(r * r) };
  for (let i = 0; i < r; i++) {
    for (let t = 0; t < r; t++) {
      let v = 0;
      for (let s = 0; s <= i; s++) v += lInverse.data[i * r + s] * w.projection[s * size + w.kept[live[t]]];
      bMatrix.data[i * r + t] = v;
    }
  }
  const q = polarFactor(bMatrix);
  const inverse = invert(bMatrix);
  // Z Zᵀ = I − ridge·B Bᵀ = N Nᵀ, so Z̃ = N⁻¹ Z is orthonormal and Xc_live = B⁻¹ N Z̃.
  const shrink: Matrix = { rows: r, cols: r, data: new Float64Array(r * r) };
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let dot = 0;
      for (let t = 0; t < r; t++) dot += bMatrix.data[i * r + t] * bMatrix.data[j * r + t];
      shrink.data[i * r + j] = (i === j ? 1 : 0) - w.ridge * dot;
    }
  }
  const n = cholesky(shrink).l;
  if (!q || !inverse || !n) return null;
  const basis: Matrix = { rows: kept, cols: kept, data: new Float64Array(kept * kept) };
  for (let i = 0; i < r; i++) for (let t = 0; t < r; t++) basis.data[i * kept + live[t]] = q.data[i * r + t];
  let row = r;
  for (let t = 0; t < kept; t++) if (!live.includes(t)) basis.data[row++ * kept + t] = 1;
  const neurons: Matrix = { rows: kept, cols: r, data: new Float64Array(kept * r) };
  for (let t = 0; t < r; t++) {
    for (let j = 0; j < r; j++) {
      let v = 0;
      for (let s = j; s < r; s++) v += inverse.data[t * r + s] * n.data[s * r + j];
      neurons.data[live[t] * r + j] = v;
    }
  }
  return { basis, neurons };
}

/**
 * The 'reference' variant's weights (not normalised) from the factor alone: the directions
 * D = U·Xc_kept are A·Z̃ with A = U·F and Z̃ orthonormal, so Gram–Schmidt of D's rows is
 * Gram–Schmidt of A's, and ⟨q_i, x_j⟩ = (GS(A)·Fᵀ)_ij. D's rows have zero mean: uncentred neurons
 * give the same weights as centred ones. `vectors`: the canonical rotation (r × whitened rows).
 */
export function referenceWeights(vectors: Matrix, coordinates: PwccaCoordinates, whitenedRows: number, r: number): number[] {
  const f = coordinates.neurons; // count × rows
  const count = f.rows;
  const complete = completeRotation(vectors, coordinates.basis, whitenedRows, r); // count × count, kept-neuron coordinates
  const q = orthonormalizeRows(multiply(complete, f));
  const projections = multiplyABt(q, f); // count × count: ⟨q_i, x_j⟩, the product kernel as the float64 path's (math/pwcca.ts)
  const weights = new Array<number>(count).fill(0);
  for (let i = 0; i < count; i++) for (let j = 0; j < count; j++) weights[i] += Math.abs(projections.data[i * count + j]);
  return weights;
}

/** PWCCA = Σ α_i ρ_i with α the weights normalised to sum 1 (0 when they are all 0). */
export function weightedSimilarity(weights: readonly number[], rho: readonly number[]): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let similarity = 0;
  weights.forEach((w, i) => (similarity += (total > 0 ? w / total : 0) * (rho[i] ?? 0)));
  return similarity;
}
