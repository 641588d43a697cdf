// Projection-weighted CCA (Morcos et al. 2018) in float64.
// Shapes: X is n1 neurons × m datapoints, Y is n2 × m (row-major).
//
// 'reference' follows google/svcca pwcca.compute_pwcca: take the side that keeps fewer neurons after
// ε pruning; its directions D = Uᵀ (X_kept − μ) use the CCA rotation U WITHOUT whitening (as the
// reference does); orthonormalise Dᵀ (QR) to P; α_i = Σ_j |⟨p_i, x_j⟩| over that side's kept,
// uncentred neuron rows; α normalised to sum 1; PWCCA = Σ α_i ρ_i.
// Three deliberate differences from the reference code:
//  - it adds μ back after rotating (D = Uᵀ(X − μ) + μ), which makes its value depend on the arbitrary
//    sign LAPACK gives each singular vector (on the semantics doc's case: 0.662012 with LAPACK's signs,
//    0.662013 with one sign flipped). We drop the + μ: 0.661973, independent of signs.
//  - when Y is the smaller side we use Y's activations (the reference indexes acts1 with Y's mask and
//    crashes or computes nonsense).
//  - U's rows for the directions the pseudo-inverse clips (null directions of Σ̃; every direction
//    beyond the datapoints of a layer wider than them) are left out: they carry no data, so they
//    get no weight. The reference's QR turns their rounding noise into unit vectors that do get
//    weight (a value that depends on the rounding), and with more neurons than datapoints its QR
//    has room for m directions only and its weights and correlations no longer line up.
// 'paper' uses the whitened canonical variates H = Uᵀ Σ̃^-½ (X − μ) and centred neurons.

import { ccaFactor, crossSvd, type CcaFactor } from './cca';
import { multiply, multiplyABt, orthonormalizeRows, zeros, type Matrix } from './matrix';

export interface PwccaResult {
  similarity: number;
  /** Canonical correlations of the chosen side, descending (length = its kept neurons). */
  rho: number[];
  /** Projection weights α (sum 1), aligned with rho. */
  weights: number[];
  /** Which side's neurons weight the correlations. */
  side: 'x' | 'y';
  factors: [CcaFactor, CcaFactor];
}

export function pwcca(x: Matrix, y: Matrix, epsilon: number, variant: 'reference' | 'paper' = 'reference'): PwccaResult {
  return pwccaFromFactors(ccaFactor(x, epsilon, true), ccaFactor(y, epsilon, true), variant);
}

/** PWCCA of two CCA factors (each representation factored once, e.g. for a learning-dynamics grid). */
export function pwccaFromFactors(fx: CcaFactor, fy: CcaFactor, variant: 'reference' | 'paper' = 'reference'): PwccaResult {
  const side: 'x' | 'y' = fx.keptDims <= fy.keptDims ? 'x' : 'y';
  const own = side === 'x' ? fx : fy;
  const count = own.keptDims;
  if (count === 0 || Math.min(fx.keptDims, fy.keptDims) === 0) {
    return { similarity: 0, rho: [], weights: [], side, factors: [fx, fy] };
  }
  const svd = crossSvd(fx.z, fy.z);
  const ownVectors = side === 'x' ? svd.left : svd.right; // r × r_own, rows in the whitened eigenbasis
  const r = svd.values.length;
  const rho = new Array<number>(count).fill(0);
  for (let i = 0; i < r; i++) rho[i] = svd.values[i];

  const coordinates = own.pwcca;
  if (!coordinates) throw new Error('unreachable: a PWCCA factor is made with its neuron coordinates');
  // The directions (z.rows of them for 'reference': count − z.rows null ones are left out, see the
  // module comment; r for 'paper') in the factor's basis B of Z's row space (NeuronCoordinates):
  // Z = R·B, so a·Z is (a·R)·B and its Gram–Schmidt is that of a·R, in r_own coordinates.
  const w = own.z.rows;
  const directions =
    variant === 'reference'
      ? multiply(referenceRotation(ownVectors, own, r), coordinates.z)
      : multiply({ rows: r, cols: w, data: ownVectors.data.subarray(0, r * w) }, coordinates.z);
  const q = orthonormalizeRows(directions);
  // α_i = Σ_j |⟨q_i, x_j⟩| = Σ_j |q̃_i·(B x_j)|: a row sum of |Q̃ Fᵀ| (q.rows × count). 'reference'
  // weighs against the uncentred neurons x_j = c_j + μ_j·1, so B x_j = F_j + μ_j·(B·1); 'paper' against c_j.
  const projections = multiplyABt(q, coordinates.neurons);
  const weights = new Array<number>(q.rows).fill(0);
  for (let i = 0; i < q.rows; i++) {
    let onOnes = 0;
    if (variant === 'reference') for (let a = 0; a < q.cols; a++) onOnes += q.data[i * q.cols + a] * coordinates.ones[a];
    for (let j = 0; j < count; j++) weights[i] += Math.abs(projections.data[i * count + j] + own.means[j] * onOnes);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const normalized = weights.map((w) => (total > 0 ? w / total : 0));
  let similarity = 0;
  for (let i = 0; i < normalized.length; i++) similarity += normalized[i] * rho[i];
  const paddedWeights = new Array<number>(count).fill(0);
  normalized.forEach((w, i) => (paddedWeights[i] = w));
  return { similarity, rho, weights: paddedWeights, side, factors: [fx, fy] };
}

/**
 * cca_core's u (or v) for U's rows that are not null, as it acts on Z's rows: U = V_w · C with V_w
 * the unclipped eigenvectors of Σ̃ and C (w × w, w = z.rows) the canonical rotation P (r × w)
 * completed to an orthogonal matrix (zero correlations); V_wᵀ Xc is Z scaled back row by row
 * (CcaFactor.principalScales), so the directions U·Xc are C · diag(principalScales) · Z: this
 * returns C · diag(principalScales) (w × w).
 */
function referenceRotation(vectors: Matrix, own: CcaFactor, r: number): Matrix {
  const whitenedRows = own.z.rows;
  const rotation = completeRotation(vectors, null, whitenedRows, r);
  for (let i = 0; i < whitenedRows; i++) for (let a = 0; a < whitenedRows; a++) rotation.data[i * whitenedRows + a] *= own.principalScales[a];
  return rotation;
}

/**
 * The canonical rotation completed to an orthogonal matrix. `basis`: count × count, rows = the
 * eigenvectors of Σ̃ in kept-neuron coordinates (the GPU path's, math/pwccaFactor.ts): rows
 * 0..r−1 = (V_wᵀ p_i)ᵀ, then the remaining eigenbasis directions. Null: Z's own coordinates
 * (count = whitenedRows): rows 0..r−1 = p_i, then the orthogonal complement.
 */
export function completeRotation(vectors: Matrix, basis: Matrix | null, whitenedRows: number, r: number): Matrix {
  const count = basis ? basis.rows : whitenedRows;
  const out = zeros(count, count);
  // p_i lives in the r_own-dimensional whitened eigenbasis (rows 0..whitenedRows−1 of basis).
  if (!basis) out.data.set(vectors.data.subarray(0, r * whitenedRows));
  else
    for (let i = 0; i < r; i++) {
      for (let a = 0; a < whitenedRows; a++) {
        const p = vectors.data[i * whitenedRows + a];
        if (p === 0) continue;
        for (let b = 0; b < count; b++) out.data[i * count + b] += p * basis.data[a * count + b];
      }
    }
  // Singular vectors for zero correlations are arbitrary in the reference; take the unused
  // eigenbasis directions (the clipped ones and, when r < whitenedRows, the orthogonal complement).
  let row = r;
  for (let a = 0; a < count && row < count; a++) {
    const residual = basis ? Float64Array.from(basis.data.subarray(a * count, (a + 1) * count)) : new Float64Array(count);
    if (!basis) residual[a] = 1;
    for (let i = 0; i < row; i++) {
      let dot = 0;
      for (let b = 0; b < count; b++) dot += residual[b] * out.data[i * count + b];
      for (let b = 0; b < count; b++) residual[b] -= dot * out.data[i * count + b];
    }
    let norm = 0;
    for (let b = 0; b < count; b++) norm += residual[b] * residual[b];
    norm = Math.sqrt(norm);
    if (norm < 1e-8) continue;
    for (let b = 0; b < count; b++) out.data[row * count + b] = residual[b] / norm;
    row++;
  }
  return out;
}

/**
 * Projection weights from the Gram matrix G = D Dᵀ of the directions (rows of D, in order) and
 * M = D Nᵀ against the neuron rows N: with D = L Q (Cholesky, G = L Lᵀ), Q's rows are what
 * Gram–Schmidt of D's rows gives, and ⟨q_i, n_j⟩ = (L⁻¹ M)_ij. Rows whose residual vanishes get
 * weight 0. Returns α (not yet normalised). Used where D lives on a GPU and only G and M come back.
 */
export function weightsFromGram(g: Matrix, m: Matrix): number[] {
  const p = g.rows;
  const l = zeros(p, p);
  const alive: boolean[] = [];
  const scale = Math.max(...Array.from({ length: p }, (_, i) => Math.abs(g.data[i * p + i])), 0);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = g.data[i * p + j];
      for (let k = 0; k < j; k++) sum -= l.data[i * p + k] * l.data[j * p + k];
      if (i === j) {
        alive[i] = sum > 1e-12 * scale;
        l.data[i * p + i] = alive[i] ? Math.sqrt(sum) : 0;
      } else {
        l.data[i * p + j] = alive[j] ? sum / l.data[j * p + j] : 0;
      }
    }
  }
  const n = m.cols;
  const w = zeros(p, n); // L⁻¹ M by forward substitution
  for (let i = 0; i < p; i++) {
    if (!alive[i]) continue;
    for (let c = 0; c < n; c++) {
      let sum = m.data[i * n + c];
      for (let k = 0; k < i; k++) sum -= l.data[i * p + k] * w.data[k * n + c];
      w.data[i * n + c] = sum / l.data[i * p + i];
    }
  }
  return Array.from({ length: p }, (_, i) => {
    let total = 0;
    for (let c = 0; c < n; c++) total += Math.abs(w.data[i * n + c]);
    return total;
  });
}
