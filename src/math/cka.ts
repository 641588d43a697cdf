// Linear CKA (Kornblith et al. 2019) in feature space, float64.
// Shapes: X is n1 neurons × m datapoints, Y is n2 × m (row-major). Kornblith writes datapoints ×
// features; with our transposed convention ‖YᵀX‖_F becomes ‖Yc Xcᵀ‖_F. Only n×n accumulators and
// per-datapoint sums are used, never the m × m Gram matrix.
//
// Debiased CKA replaces HSIC by the unbiased estimator of Song et al. 2012, written in feature space:
//   HSIC_u(K, L) ∝ ⟨K̃, L̃⟩ + (1ᵀK̃1)(1ᵀL̃1)/((m−1)(m−2)) − 2/(m−2)·1ᵀK̃L̃1,  K̃ = K with zero diagonal,
// which for linear kernels of centred features reduces to
//   ‖YᵀX‖² − m/(m−2)·⟨d_x, d_y⟩ + ‖X‖²‖Y‖²/((m−1)(m−2)),  d = per-datapoint squared norms
// (the common factor 1/(m(m−3)) cancels in the ratio).

import { centerRows, multiplyABt, type Matrix } from './matrix';

export interface CkaFactor {
  datapoints: number;
  /** Centred rows, n × m. */
  centered: Matrix;
  /** ‖Xc Xcᵀ‖²_F (biased self-similarity). */
  selfDot: number;
  /** Per-datapoint squared norms Σ_i Xc[i][j]², length m. */
  rowNorms: Float64Array;
  /** ‖Xc‖²_F. */
  squaredNorm: number;
}

export function ckaFactor(x: Matrix): CkaFactor {
  const { centered } = centerRows(x);
  const gram = multiplyABt(centered, centered);
  let selfDot = 0;
  for (let i = 0; i < gram.data.length; i++) selfDot += gram.data[i] * gram.data[i];
  const m = x.cols;
  const rowNorms = new Float64Array(m);
  let squaredNorm = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < m; j++) {
      const v = centered.data[i * m + j];
      rowNorms[j] += v * v;
      squaredNorm += v * v;
    }
  }
  return { datapoints: m, centered, selfDot, rowNorms, squaredNorm };
}

function debiasedDot(dot: number, dx: Float64Array, dy: Float64Array, nx: number, ny: number, m: number): number {
  let cross = 0;
  for (let j = 0; j < m; j++) cross += dx[j] * dy[j];
  return dot - (m / (m - 2)) * cross + (nx * ny) / ((m - 1) * (m - 2));
}

/** The per-side statistics CKA needs besides the cross term (CkaFactor's, or the GPU backend's). */
export interface CkaStatistics {
  datapoints: number;
  selfDot: number;
  rowNorms: Float64Array;
  squaredNorm: number;
}

/**
 * CKA from ‖Yc Xcᵀ‖²_F (`crossDot`) and both sides' statistics: the one formula the float64 and the
 * GPU paths share (the GPU computes the cross term, everything else stays float64).
 */
export function ckaFromStatistics(crossDot: number, fx: CkaStatistics, fy: CkaStatistics, debiased: boolean): number {
  if (!debiased) {
    const denominator = Math.sqrt(fx.selfDot) * Math.sqrt(fy.selfDot);
    return denominator > 0 ? crossDot / denominator : 0;
  }
  const m = fx.datapoints;
  if (m < 4) throw new Error(`debiased CKA needs at least 4 datapoints, got ${m}`);
  const xy = debiasedDot(crossDot, fx.rowNorms, fy.rowNorms, fx.squaredNorm, fy.squaredNorm, m);
  const xx = debiasedDot(fx.selfDot, fx.rowNorms, fx.rowNorms, fx.squaredNorm, fx.squaredNorm, m);
  const yy = debiasedDot(fy.selfDot, fy.rowNorms, fy.rowNorms, fy.squaredNorm, fy.squaredNorm, m);
  const denominator = Math.sqrt(Math.max(xx, 0) * Math.max(yy, 0));
  return denominator > 0 ? xy / denominator : 0;
}

export function ckaFromFactors(fx: CkaFactor, fy: CkaFactor, debiased: boolean): number {
  const cross = multiplyABt(fx.centered, fy.centered);
  let crossDot = 0;
  for (let i = 0; i < cross.data.length; i++) crossDot += cross.data[i] * cross.data[i];
  return ckaFromStatistics(crossDot, fx, fy, debiased);
}

export function cka(x: Matrix, y: Matrix, debiased = false): number {
  return ckaFromFactors(ckaFactor(x), ckaFactor(y), debiased);
}
