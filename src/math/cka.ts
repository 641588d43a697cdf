// Linear CKA (Kornblith et al. 2019), float64.
// Shapes: X is n1 neurons × m datapoints, Y is n2 × m (row-major). Kornblith writes datapoints ×
// features; with our transposed convention ‖YᵀX‖_F becomes ‖Yc Xcᵀ‖_F. Its cross term is taken in
// whichever space is smaller: a layer with at most as many neurons as datapoints keeps its centred
// rows (feature space: n × n accumulators and per-datapoint sums, never an m × m matrix); a wider one
// keeps its m × m kernel K = Xcᵀ Xc instead (datapoint space), since ‖Yc Xcᵀ‖²_F = ⟨K_x, K_y⟩_F =
// tr(K_x K_y): a conv layer flattened to 12 544 features over 1000 datapoints is then an 8 MB kernel
// and m² work per pair, not a 1.2 GB feature Gram and n1·n2·m per pair. The two spaces give the same
// numbers up to float64 rounding.
//
// Debiased CKA replaces HSIC by the unbiased estimator of Song et al. 2012, written in feature space:
//   HSIC_u(K, L) ∝ ⟨K̃, L̃⟩ + (1ᵀK̃1)(1ᵀL̃1)/((m−1)(m−2)) − 2/(m−2)·1ᵀK̃L̃1,  K̃ = K with zero diagonal,
// which for linear kernels of centred features reduces to
//   ‖YᵀX‖² − m/(m−2)·⟨d_x, d_y⟩ + ‖X‖²‖Y‖²/((m−1)(m−2)),  d = per-datapoint squared norms
// (the common factor 1/(m(m−3)) cancels in the ratio).

import { centredGram, spectrumOf, type CentringSource } from './cca';
import { topEigenValues } from './eigenTop';
import { multiplyABt, type Matrix } from './matrix';

export interface CkaFactor {
  datapoints: number;
  /** Centred rows, n × m: a layer with n ≤ m (feature space). Absent where `kernel` is there. */
  centered?: Matrix;
  /** K = Xcᵀ Xc, m × m (datapoint space): a layer with n > m. Absent where `centered` is there. */
  kernel?: Matrix;
  /** ‖Xc Xcᵀ‖²_F = ‖Xcᵀ Xc‖²_F (biased self-similarity). */
  selfDot: number;
  /** Per-datapoint squared norms Σ_i Xc[i][j]², length m (K's diagonal). */
  rowNorms: Float64Array;
  /** ‖Xc‖²_F. */
  squaredNorm: number;
  /**
   * Where asked for (ckaFactor's `withSpectrum`: k99 as the job reads): the variance spectrum
   * λ_i = s_i²/(m−1), every eigenvalue of the Gram this factor already formed (n × n, or the m × m
   * kernel), which is bit for bit math/cca.ts varianceSpectrum's Gram of the same centred matrix.
   */
  spectrum?: number[];
}

/**
 * X: n neurons × m datapoints, a float64 Matrix or a CentringSource (math/reduce.ts reduceToSource:
 * a wide stored layer then gives its centred datapoint-major rows, and no n × m copy is made).
 * `withSpectrum`: also the eigenvalues of the Gram it forms (CkaFactor.spectrum).
 */
export function ckaFactor(x: Matrix | CentringSource, withSpectrum = false): CkaFactor {
  const m = x.cols;
  // SVCCA's Gram (math/cca.ts centredGram): n × n of the centred rows, kept; or for a wide layer the
  // m × m kernel, its centred copy in the scratch buffer only. So `spectrum` is varianceSpectrum's.
  const { centered, gram, wide } = centredGram(x, x.rows > m);
  let selfDot = 0;
  for (let i = 0; i < gram.data.length; i++) selfDot += gram.data[i] * gram.data[i];
  const rowNorms = new Float64Array(m);
  let squaredNorm = 0;
  if (wide) {
    // The kernel's diagonal: K_jj = Σ_i Xc[i][j]².
    for (let j = 0; j < m; j++) {
      rowNorms[j] = gram.data[j * m + j];
      squaredNorm += rowNorms[j];
    }
  } else {
    for (let i = 0; i < x.rows; i++) {
      for (let j = 0; j < m; j++) {
        const v = centered.data[i * m + j];
        rowNorms[j] += v * v;
        squaredNorm += v * v;
      }
    }
  }
  const spectrum = withSpectrum ? { spectrum: spectrumOf(topEigenValues(gram).values, m) } : {};
  return wide
    ? { datapoints: m, kernel: gram, selfDot, rowNorms, squaredNorm, ...spectrum }
    : { datapoints: m, centered, selfDot, rowNorms, squaredNorm, ...spectrum };
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

/**
 * ‖Yc Xcᵀ‖²_F in the cheaper space the two factors allow: both centred rows, the n1 × n2 cross
 * product; both kernels, ⟨K_x, K_y⟩ (m² work); one of each, Σ_i y_i K_x y_iᵀ over the narrow side's
 * rows (n·m² work, less than the cross product's n1·n2·m since the wide side has n > m).
 */
export function ckaCrossDot(fx: CkaFactor, fy: CkaFactor): number {
  let crossDot = 0;
  if (fx.centered && fy.centered) {
    const cross = multiplyABt(fx.centered, fy.centered);
    for (let i = 0; i < cross.data.length; i++) crossDot += cross.data[i] * cross.data[i];
    return crossDot;
  }
  if (fx.kernel && fy.kernel) {
    for (let i = 0; i < fx.kernel.data.length; i++) crossDot += fx.kernel.data[i] * fy.kernel.data[i];
    return crossDot;
  }
  const [kernel, centered] = fx.kernel ? [fx.kernel, fy.centered!] : [fy.kernel!, fx.centered!];
  // Rows of Yc·K (K symmetric: Yc·Kᵀ), each dotted with its own row of Yc.
  const projected = multiplyABt(centered, kernel);
  for (let i = 0; i < centered.data.length; i++) crossDot += projected.data[i] * centered.data[i];
  return crossDot;
}

export function ckaFromFactors(fx: CkaFactor, fy: CkaFactor, debiased: boolean): number {
  return ckaFromStatistics(ckaCrossDot(fx, fy), fx, fy, debiased);
}

export function cka(x: Matrix, y: Matrix, debiased = false): number {
  return ckaFromFactors(ckaFactor(x), ckaFactor(y), debiased);
}
