// CCA and SVCCA in float64, following google/svcca's cca_core.get_cca_similarity where it is right.
//
// Shapes: X is n neurons × m datapoints (row-major, one neuron per row), as in cca_core.
//
// Every representation is factored once, independently of whom it is compared with:
//   Σ̃ = (Xc Xcᵀ / (m−1)) / xmax              (cca_core's rescaling, xmax = max |Σ|)
//   prune neurons with Σ̃_ii < ε               (cca_core.remove_small)
//   Σ̃ = V Λ Vᵀ, keep λ_i > tol·λ_max          (pseudo-inverse clipping: our change, never NaN)
//   Z = (Λ + εI)^-½ Vᵀ Xc / sqrt((m−1)·xmax)   (r × m; Z Zᵀ = I when ε = 0)
// Then for a pair, cca_core's T = Σ̃xx^-½ Σ̃xy Σ̃yy^-½ equals V_x (Zx Zyᵀ) V_yᵀ, so the canonical
// correlations are the singular values of the small product Zx Zyᵀ (r1 × r2). Learning dynamics
// reuses each factor for every pair it takes part in.

import { centerRows, multiply, multiplyABt, orthonormalizeRows, selectRows, transpose, WASM_MIN_WORK, zeros, type Matrix } from './matrix';
import { symmetricEigen, symmetricEigenvalues } from './eigen';
import { symmetricTopEigen, topEigenValues } from './eigenTop';
import { scratchFloat64 } from './scratch';
import { productKernel, wasmResident, wasmStreamedGram, wasmStreamedLeftMultiply, type StreamedLayer } from './wasmProducts';

/** Relative eigenvalue floor below which whitening treats a direction as null (float64). */
export const CLIP_TOLERANCE_F64 = 1e-12;

export interface CcaFactor {
  /** m: datapoints (columns). */
  datapoints: number;
  /** Rows handed to CCA (n neurons for cca, k SVD directions for svcca). */
  inputDims: number;
  /** Rows left after the ε pruning: min over both sides is the number of canonical correlations. */
  keptDims: number;
  /** Rows removed by the ε pruning (inputDims − keptDims). */
  dropped: number;
  /** Indices (into the input rows) that survived pruning, ascending. */
  keptIndices: number[];
  /** r × m whitened data (r ≤ keptDims: clipped null directions omitted). */
  z: Matrix;
  /**
   * Z row i times principalScales[i] is v_iᵀ Xc_kept, the i-th principal component of the kept
   * centred rows over the datapoints (s_i w_iᵀ; v_i: eigenvector i of Σ̃, i < r). Length r. PWCCA's
   * directions are combinations of these rows (math/pwcca.ts), so no keptDims × keptDims eigenbasis
   * is kept: sqrt(λ_i + ε) · sqrt((m−1)·xmax).
   */
  principalScales: Float64Array;
  /** Directions with λ ≤ tol·λmax, treated as null by the pseudo-inverse. */
  clipped: number;
  /** sqrt((m−1)·xmax): multiplies Z rows back to cca_core's direction scale (Uᵀ Σ̃^-½ (X − μ)). */
  directionScale: number;
  /** Row means of the kept input rows (length keptDims). */
  means: Float64Array;
  /** What PWCCA weighs against, where the factor was made for it (ccaFactor's `forPwcca`). */
  pwcca?: NeuronCoordinates;
}

/**
 * A layer's kept neurons in an orthonormal basis B (r × m, rows = Gram–Schmidt of Z's rows) of Z's
 * row space, where every PWCCA direction lies: with Z = R·B, a direction d = a·Z is (a·R)·B, its
 * Gram–Schmidt happens in r coordinates, and ⟨q, c_j⟩ = q̃·(B c_j). Per pair PWCCA then costs r³ +
 * r²·n' instead of r²·m + r·n'·m, for n'·r·m once per factor, and the factor keeps n'·r numbers
 * instead of its n' × m centred rows. Where r is more than half of m (a layer wider than its
 * datapoints: r ≈ m) a basis would save little per pair for what it costs, and the datapoints are
 * the basis (B = I): Z and the centred rows as they are.
 */
export interface NeuronCoordinates {
  /** 'rows': B from Z's rows (r columns; permuting the datapoints permutes B's columns with Z's, so
   *  none of these change); 'datapoints': B = I (m columns, permuted with the datapoints). */
  basis: 'rows' | 'datapoints';
  /** R = Z·Bᵀ: Z's rows in the basis (r × r, or Z itself). */
  z: Matrix;
  /** C·Bᵀ: the kept centred neurons in the basis (keptDims × r, or keptDims × m). */
  neurons: Matrix;
  /** B·1: the all-ones datapoint vector in the basis (the uncentred neurons are c_j + μ_j·1). */
  ones: Float64Array;
}

/** NeuronCoordinates of whitened rows Z (r × m) and the kept centred rows (keptDims × m). */
function neuronCoordinates(z: Matrix, centered: Matrix): NeuronCoordinates {
  if (2 * z.rows > z.cols) return { basis: 'datapoints', z, neurons: centered, ones: new Float64Array(z.cols).fill(1) };
  const basis = orthonormalizeRows(z);
  const ones = new Float64Array(basis.rows);
  for (let a = 0; a < basis.rows; a++) for (let t = 0; t < basis.cols; t++) ones[a] += basis.data[a * basis.cols + t];
  return { basis: 'rows', z: multiplyABt(z, basis), neurons: multiplyABt(centered, basis), ones };
}

export interface CcaSummary {
  /** Canonical correlations, descending, min(n1', n2') of them (null directions contribute 0). */
  rho: number[];
  /** mean ρ: the paper's ρ̄. */
  mean: number;
  /** cca_core's "mean": mean of ρ[0:idx], idx = first i with Σ_{j<i} ρ_j ≥ 0.98·Σρ. */
  mean98: number;
  /** mean ρ²: Kornblith et al.'s R²_CCA. */
  meanSquared: number;
}

/**
 * Factors a neurons × datapoints representation for CCA (see the module comment). X: a float64
 * Matrix or a CentringSource (its centred rows are bit for bit centerRows of its matrix).
 * `forPwcca`: the factor also keeps its kept neurons in the coordinates PWCCA weighs them in (NeuronCoordinates).
 *
 * A layer with more kept neurons than datapoints (n' > m) is whitened from the m × m Gram
 * Xc'ᵀ Xc' = W S² Wᵀ instead of the n' × n' covariance: Σ̃'s nonzero eigenvalues are
 * s_i² / ((m−1)·xmax) and Vᵀ Xc' = S Wᵀ, so Z's rows are s_i w_iᵀ / (sqrt(λ_i + ε)·sqrt((m−1)·xmax))
 * (mathematically the narrow formula; the n' − rank null directions, clipped there, are never
 * formed). xmax is the largest row variance (the largest |entry| of a covariance is on its diagonal).
 */
export function ccaFactor(x: Matrix | CentringSource, epsilon: number, forPwcca = false): CcaFactor {
  const n = x.rows;
  const m = x.cols;
  if (m < 2) throw new Error(`CCA needs at least 2 datapoints, got ${m}`);
  if (n > m) return wideCcaFactor(x, epsilon, forPwcca);
  const { centered, means } = isMatrix(x) ? centerRows(x) : centredSourceRows(x);
  const covariance = multiplyABt(centered, centered);
  const scale = 1 / (m - 1);
  for (let i = 0; i < covariance.data.length; i++) covariance.data[i] *= scale;
  // For a covariance the largest |entry| is on the diagonal, but follow cca_core literally.
  let xmax = 0;
  for (let i = 0; i < covariance.data.length; i++) xmax = Math.max(xmax, Math.abs(covariance.data[i]));
  const keptIndices = prunedRows(
    Float64Array.from({ length: n }, (_, i) => covariance.data[i * n + i]),
    xmax,
    epsilon,
  );
  const kept = keptIndices.length;
  const rescaled = zeros(kept, kept);
  keptIndices.forEach((a, i) => keptIndices.forEach((b, j) => (rescaled.data[i * kept + j] = covariance.data[a * n + b] / xmax)));
  const keptCentered = kept === n ? centered : selectRows(centered, keptIndices);
  return whitenedFactor(rescaled, keptCentered, { n, xmax, keptIndices, means }, epsilon, forPwcca);
}

/** A CentringSource's centred rows (n × m) and row means, into `into` where given. */
function centredSourceRows(x: CentringSource, into?: Float64Array): { centered: Matrix; means: Float64Array } {
  const centered = { rows: x.rows, cols: x.cols, data: into ?? new Float64Array(x.rows * x.cols) };
  return { centered, means: x.centerRowsInto(centered.data) };
}

/** What the ε pruning decided for a layer of n rows: xmax, the kept rows, and every row's mean. */
interface Pruning {
  n: number;
  xmax: number;
  keptIndices: number[];
  means: Float64Array;
}

/** Each row's Σ_j x_j² / (m − 1), summed over the columns in order (the rows are centred), and the largest. */
function rowVariances(x: Matrix): { variances: Float64Array; xmax: number } {
  const { rows: n, cols: m } = x;
  const variances = new Float64Array(n);
  let xmax = 0;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = i * m; j < (i + 1) * m; j++) sum += x.data[j] * x.data[j];
    variances[i] = sum / (m - 1);
    xmax = Math.max(xmax, variances[i]);
  }
  return { variances, xmax };
}

/** cca_core.remove_small: the rows whose variance is at least ε·xmax (none when xmax is 0). */
function prunedRows(variances: Float64Array, xmax: number, epsilon: number): number[] {
  const keptIndices: number[] = [];
  for (let i = 0; i < variances.length; i++) {
    const variance = xmax > 0 ? variances[i] / xmax : 0;
    if (xmax > 0 && Math.abs(variance) >= epsilon) keptIndices.push(i);
  }
  return keptIndices;
}

/**
 * ccaFactor of n > m: the centred rows are read once for their variances (the pruning) and copied,
 * kept rows only and transposed (m × n'), as the Gram's operand. With n' ≤ m after the pruning the
 * kept covariance is small and the narrow path's whitening runs on it.
 */
function wideCcaFactor(x: Matrix | CentringSource, epsilon: number, forPwcca: boolean): CcaFactor {
  const n = x.rows;
  const m = x.cols;
  if (!forPwcca && !isMatrix(x) && x.centredDatapointRowsInto) return datapointMajorCcaFactor(x, x.centredDatapointRowsInto, epsilon);
  // CCA keeps nothing of the n × m centred copy: it goes to the scratch buffer. PWCCA's coordinates
  // in the datapoints' basis are the kept centred rows themselves, so its copy is its own.
  const into = forPwcca ? undefined : scratchFloat64(n * m);
  const { centered, means } = isMatrix(x) ? centerRows(x, into) : centredSourceRows(x, into);
  const { variances, xmax } = rowVariances(centered);
  const keptIndices = prunedRows(variances, xmax, epsilon);
  const kept = keptIndices.length;
  const keptCentered = !forPwcca || kept === n ? null : selectRows(centered, keptIndices);
  const pruning: Pruning = { n, xmax, keptIndices, means };
  if (kept <= m) return keptCovarianceFactor(keptCentered ?? selectRows(centered, keptIndices), pruning, epsilon, forPwcca);
  // Xc'ᵀ (m × n'), then its Gram (m × m).
  const operand = zeros(m, kept);
  keptIndices.forEach((row, a) => {
    for (let j = 0; j < m; j++) operand.data[j * kept + a] = centered.data[row * m + j];
  });
  const factor = gramWhitenedFactor(multiplyABt(operand, operand), pruning, epsilon);
  return forPwcca ? { ...factor, pwcca: neuronCoordinates(factor.z, keptCentered ?? centered) } : factor;
}

/**
 * wideCcaFactor of a source that lies datapoint-major (a stored conv layer flattened, a
 * datapoints-first dense array), for a factor without its centred rows: the rows are centred as they
 * lie into the scratch buffer (m × n, bit for bit the transpose of centerRowsInto's), the pruned
 * neurons' columns squeezed out in place, and that is the Gram's operand: no neurons × datapoints
 * copy and no transpose. The same numbers in the same order as from the matrix, so the same factor.
 */
function datapointMajorCcaFactor(x: CentringSource, centredDatapointRowsInto: (into: Float64Array) => Float64Array, epsilon: number): CcaFactor {
  const n = x.rows;
  const m = x.cols;
  const rows = scratchFloat64(n * m);
  const means = centredDatapointRowsInto(rows);
  // Each neuron's Σ_j c_j² over the datapoints in order, as rowVariances sums a row.
  const variances = new Float64Array(n);
  for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) variances[i] += rows[j * n + i] * rows[j * n + i];
  let xmax = 0;
  for (let i = 0; i < n; i++) {
    variances[i] /= m - 1;
    xmax = Math.max(xmax, variances[i]);
  }
  const keptIndices = prunedRows(variances, xmax, epsilon);
  const kept = keptIndices.length;
  const pruning: Pruning = { n, xmax, keptIndices, means };
  if (kept <= m) {
    const keptRows = zeros(kept, m);
    keptIndices.forEach((i, a) => {
      for (let j = 0; j < m; j++) keptRows.data[a * m + j] = rows[j * n + i];
    });
    return keptCovarianceFactor(keptRows, pruning, epsilon, false);
  }
  // Squeeze the pruned columns out, row by row: every write lands at or before the read it copies.
  if (kept < n) for (let j = 0; j < m; j++) for (let a = 0; a < kept; a++) rows[j * kept + a] = rows[j * n + keptIndices[a]];
  const operand: Matrix = { rows: m, cols: kept, data: rows.subarray(0, m * kept) };
  return gramWhitenedFactor(multiplyABt(operand, operand), pruning, epsilon);
}

/** A wide layer pruned to n' ≤ m kept rows (n' × m, centred): whitenedFactor of their rescaled covariance. */
function keptCovarianceFactor(rows: Matrix, pruning: Pruning, epsilon: number, forPwcca: boolean): CcaFactor {
  const rescaled = multiplyABt(rows, rows);
  const scale = 1 / (rows.cols - 1);
  for (let i = 0; i < rescaled.data.length; i++) rescaled.data[i] = (rescaled.data[i] * scale) / pruning.xmax;
  return whitenedFactor(rescaled, rows, pruning, epsilon, forPwcca);
}

/**
 * The whitened factor of n' > m kept rows from their Gram Xc'ᵀ Xc' (m × m), as the module comment
 * and ccaFactor's derive it: every eigenpair (s_i², w_i), the clipping, Z's rows s_i w_iᵀ / (sqrt(λ_i + ε)·sqrt((m−1)·xmax)).
 */
function gramWhitenedFactor(gram: Matrix, { n, xmax, keptIndices, means }: Pruning, epsilon: number): CcaFactor {
  const m = gram.rows;
  const kept = keptIndices.length;
  const eig = symmetricEigen(gram);
  const scale = (m - 1) * xmax;
  const lambdaMax = Math.max(eig.values[0] / scale, 0);
  let r = 0;
  while (r < m && eig.values[r] / scale > CLIP_TOLERANCE_F64 * lambdaMax) r++;
  const directionScale = Math.sqrt(scale);
  const z = zeros(r, m);
  const principalScales = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    principalScales[i] = Math.sqrt(eig.values[i] / scale + epsilon) * directionScale;
    const w = Math.sqrt(eig.values[i]) / principalScales[i];
    for (let j = 0; j < m; j++) z.data[i * m + j] = w * eig.vectors.data[i * m + j];
  }
  return whitenedRecord(
    n,
    keptIndices,
    z,
    principalScales,
    directionScale,
    Float64Array.from(keptIndices, (i) => means[i]),
  );
}

/**
 * A factor from its whitened rows Z (r × m) over `keptIndices` of n input rows; the rest are
 * clipped. `pwccaRows`: the kept centred rows (keptDims × m), for a factor made for PWCCA.
 */
function whitenedRecord(
  n: number,
  keptIndices: number[],
  z: Matrix,
  principalScales: Float64Array,
  directionScale: number,
  keptMeans: Float64Array,
  pwccaRows?: Matrix,
): CcaFactor {
  const kept = keptIndices.length;
  return {
    datapoints: z.cols,
    inputDims: n,
    keptDims: kept,
    dropped: n - kept,
    keptIndices,
    z,
    principalScales,
    clipped: kept - z.rows,
    directionScale,
    means: keptMeans,
    ...(pwccaRows && { pwcca: neuronCoordinates(z, pwccaRows) }),
  };
}

/**
 * The whitening of the module comment from the rescaled covariance Σ̃ of the kept rows (n' × n')
 * and those rows centred (n' × m): eigendecomposition, clipping, Z = (Λ_r + εI)^-½ V_rᵀ Xc' / sqrt((m−1)·xmax).
 */
function whitenedFactor(rescaled: Matrix, keptCentered: Matrix, { n, xmax, keptIndices, means }: Pruning, epsilon: number, forPwcca: boolean): CcaFactor {
  const kept = keptIndices.length;
  const m = keptCentered.cols;
  const keptMeans = Float64Array.from(keptIndices, (i) => means[i]);
  if (kept === 0) return emptyFactor(m, n, forPwcca ? keptCentered : undefined, keptMeans);
  const eig = symmetricEigen(rescaled);
  const lambdaMax = Math.max(eig.values[0], 0);
  let r = 0;
  while (r < kept && eig.values[r] > CLIP_TOLERANCE_F64 * lambdaMax) r++;
  const directionScale = Math.sqrt((m - 1) * xmax);
  // W = (Λ_r + εI)^-½ V_rᵀ / sqrt((m−1)·xmax): r × kept, then Z = W · Xc_kept.
  const whitening = zeros(r, kept);
  for (let i = 0; i < r; i++) {
    const w = 1 / (Math.sqrt(eig.values[i] + epsilon) * directionScale);
    for (let j = 0; j < kept; j++) whitening.data[i * kept + j] = w * eig.vectors.data[i * kept + j];
  }
  return whitenedRecord(
    n,
    keptIndices,
    multiply(whitening, keptCentered),
    Float64Array.from({ length: r }, (_, i) => Math.sqrt(eig.values[i] + epsilon) * directionScale),
    directionScale,
    keptMeans,
    forPwcca ? keptCentered : undefined,
  );
}

function emptyFactor(m: number, n: number, pwccaRows: Matrix | undefined, means: Float64Array): CcaFactor {
  return {
    datapoints: m,
    inputDims: n,
    keptDims: 0,
    dropped: n,
    keptIndices: [],
    z: zeros(0, m),
    principalScales: new Float64Array(0),
    clipped: 0,
    directionScale: 0,
    means,
    ...(pwccaRows && { pwcca: neuronCoordinates(zeros(0, m), pwccaRows) }),
  };
}

/** How SVCCA's SVD step chooses k. */
export type KeepRule = { kind: 'variance'; fraction: number } | { kind: 'dims'; k: number };

export interface SvccaFactor {
  /** Variance spectrum λ_i = s_i²/(m−1) of the centred representation, descending (length min(n, m)). */
  spectrum: number[];
  /** Directions kept by the SVD step. */
  k: number;
  /** The CCA factor of the reduced k × m representation. */
  cca: CcaFactor;
}

/** Smallest k whose cumulative Σλ reaches `fraction` of the total (sklearn PCA(n_components=0.99) semantics, ≥). */
export function chooseK(spectrum: ArrayLike<number>, rule: KeepRule): number {
  const count = spectrum.length;
  if (rule.kind === 'dims') return Math.max(0, Math.min(rule.k, count));
  let total = 0;
  for (let i = 0; i < count; i++) total += Math.max(spectrum[i], 0);
  if (total === 0) return 0;
  let cumulative = 0;
  for (let i = 0; i < count; i++) {
    cumulative += Math.max(spectrum[i], 0);
    if (cumulative >= rule.fraction * total * (1 - 1e-12)) return i + 1;
  }
  return count;
}

/** SVCCA's SVD step, before k is chosen: the eigendecomposition of the smaller Gram matrix. */
export interface SvdStep {
  /**
   * Centred n × m representation; its shape alone (data empty) where svdStepTop read a wide source
   * datapoint-major (CentringSource.centredDatapointRowsInto): a wide step's factor does not read it.
   */
  centered: Matrix;
  /** λ_i = s_i²/(m−1), descending, length min(n, m). */
  spectrum: number[];
  /** Eigenvectors of the Gram matrix used (rows): u_i (n-dim) when !wide, v_i (m-dim) when wide; all of them (svdStep) or the kept k (svdStepTop). */
  vectors: Matrix;
  /** s_i² (eigenvalues of the Gram matrix). */
  gramValues: Float64Array;
  /** True when n > m and the m × m Gram Xcᵀ Xc was used. */
  wide: boolean;
}

/**
 * `centred`: x's rows already have mean zero (the DFT's embedded blocks, centred in the complex
 * domain): used as they are, not centred again. `solver`: symmetricEigen's method ('auto': Jacobi up
 * to SMALL_N, the most accurate and cheap for one matrix; the DFT's hundreds of blocks per layer
 * take 'tridiagonal', see dft.ts sideFactors).
 */
export function svdStep(x: Matrix, { centred = false, solver = 'auto' }: { centred?: boolean; solver?: 'auto' | 'tridiagonal' } = {}): SvdStep {
  const { centered, gram, wide } = centredGram(x, false, centred);
  const eig = symmetricEigen(gram, solver);
  return { centered, spectrum: spectrumOf(eig.values, x.cols), vectors: eig.vectors, gramValues: eig.values, wide };
}

/**
 * svdStep with only the kept directions: every eigenvalue of the Gram matrix (the keep rule reads
 * the whole spectrum), then the eigenvectors of the k = chooseK(spectrum, rule) largest only
 * (symmetricTopEigen: O(n²k) after the reduction instead of O(n³)). `vectors` has k rows.
 */
export function svdStepTop(x: Matrix | CentringSource, rule: KeepRule, scratch = false): SvdStep & { k: number } {
  const { centered, gram, wide } = centredGram(x, scratch);
  const m = x.cols;
  const eig = symmetricTopEigen(gram, (values) => chooseK(spectrumOf(values, m), rule));
  return { centered, spectrum: spectrumOf(eig.values, m), vectors: eig.vectors, gramValues: eig.values, wide, k: eig.vectors.rows };
}

/**
 * svdStep's spectrum alone, bit for bit (topEigenValues: the same reduction and QL, without the
 * eigenvectors, whose accumulation is most of a full solve), for a caller that reads only the
 * variance (k99). The centred copy goes to the scratch buffer: nothing of it is kept.
 */
export function varianceSpectrum(x: Matrix | CentringSource): number[] {
  const { gram } = centredGram(x, true);
  return spectrumOf(topEigenValues(gram).values, x.cols);
}

/**
 * The Gram of SVCCA's SVD step (also CKA's factor, math/cka.ts): Xc Xcᵀ (n × n) for n ≤ m, else
 * Xcᵀ Xc (m × m). `scratch`: the centred copy goes to the thread's scratch buffer (math/scratch.ts),
 * for a caller that drops it before returning.
 */
export function centredGram(x: Matrix | CentringSource, scratch = false, alreadyCentred = false): { centered: Matrix; gram: Matrix; wide: boolean } {
  const n = x.rows;
  const m = x.cols;
  if (m < 2) throw new Error(`SVCCA needs at least 2 datapoints, got ${m}`);
  const into = scratch ? scratchFloat64(n * m) : undefined;
  if (n > m && !isMatrix(x) && x.centredDatapointRowsInto) {
    // Wide, and the source lies datapoint-major: the m × m Gram's operand transpose(Xc) written
    // straight (no n × m centred copy, no transpose); `centered` then keeps only its shape, which is
    // all a wide step's reader takes (svccaFactorFromStep builds X' from the Gram's vectors).
    const rows: Matrix = { rows: m, cols: n, data: into ?? new Float64Array(n * m) };
    x.centredDatapointRowsInto(rows.data);
    return { centered: { rows: n, cols: m, data: new Float64Array(0) }, gram: multiplyABt(rows, rows), wide: true };
  }
  let centered: Matrix;
  if (isMatrix(x) && alreadyCentred) centered = x;
  else if (isMatrix(x)) centered = centerRows(x, into).centered;
  else {
    centered = { rows: n, cols: m, data: into ?? new Float64Array(n * m) };
    x.centerRowsInto(centered.data);
  }
  const wide = n > m;
  // n ≤ m: eigen of the n × n Gram Xc Xcᵀ (rows of `vectors` = left singular vectors u_i);
  // n > m: eigen of the m × m Gram Xcᵀ Xc (rows = right singular vectors v_i).
  const gramOperand = wide ? transpose(centered) : centered;
  return { centered, gram: multiplyABt(gramOperand, gramOperand), wide };
}

/** The variances λ_i = max(g_i, 0)/(m − 1) of a Gram's eigenvalues g_i over m datapoints: SVCCA's spectrum. */
export function spectrumOf(gramValues: Float64Array, m: number): number[] {
  return Array.from(gramValues, (g) => Math.max(g, 0) / (m - 1));
}

/**
 * The CCA factor of X' = U_kᵀ (X − μ) (k × m). Its covariance is diag(λ_1..λ_k), so no second
 * eigendecomposition is needed: Z_i = X'_i / sqrt((m−1)(λ_i + ε·λ_max)) with λ read off the rows.
 */
export function svccaFactorFromStep(step: SvdStep, k: number, epsilon: number, clipTolerance = CLIP_TOLERANCE_F64): SvccaFactor {
  const { centered, vectors, gramValues, spectrum } = step;
  const n = centered.rows;
  const m = centered.cols;
  const kept = Math.max(0, Math.min(k, spectrum.length));
  let reduced: Matrix;
  if (!step.wide) {
    // X' = U_kᵀ Xc (k × n · n × m): the A·B kernel, whose f64x2 lanes run along Xc's contiguous rows.
    // (Without WebAssembly, multiply's JS loop is slower than row dot products against a transposed
    // copy, so that path keeps the transpose.)
    const uk: Matrix = { rows: kept, cols: n, data: vectors.data.subarray(0, kept * n) };
    reduced = productKernel() === 'js' ? multiplyABt(uk, transpose(centered)) : multiply(uk, centered);
  } else {
    reduced = zeros(kept, m); // X'_i = s_i v_iᵀ
    for (let i = 0; i < kept; i++) {
      const s = Math.sqrt(Math.max(gramValues[i], 0));
      for (let j = 0; j < m; j++) reduced.data[i * m + j] = s * vectors.data[i * m + j];
    }
  }
  return { spectrum, k: kept, cca: diagonalCcaFactor(reduced, epsilon, clipTolerance) };
}

/**
 * X (n neurons × m datapoints) where it lies, when that is not a float64 Matrix (a stored float32 or
 * datapoints-first array: math/reduce.ts reduceToSource): it writes its centred rows into a given
 * n·m array (row-major, neurons × datapoints), bit for bit centerRows of its float64 matrix, and
 * returns the row means.
 */
export interface CentringSource {
  rows: number;
  cols: number;
  centerRowsInto(into: Float64Array): Float64Array;
  /**
   * Where the values lie datapoint-major (a datapoints-first dense array; a stored conv layer
   * flattened): the transpose of centerRowsInto's matrix, m datapoints × n neurons (row-major),
   * written into `into` (m·n elements), bit for bit, and the row means (as centerRowsInto's). A wide
   * layer's m × m Gram reads these rows.
   */
  centredDatapointRowsInto?(into: Float64Array): Float64Array;
  /** The stored array and its row means, for the factor's streamed products (a dense layer's source has it). */
  streamed?(): StreamedLayer;
}

const isMatrix = (x: Matrix | CentringSource): x is Matrix => 'data' in x;

/**
 * SVCCA's first step plus the CCA factor of the reduced representation. X: a float64 Matrix or a
 * CentringSource; the factor is bit for bit the same either way, and a source's matrix is never
 * built (it is centred into WebAssembly memory or into the scratch buffer).
 */
export function svccaFactor(x: Matrix | CentringSource, rule: KeepRule, epsilon: number, clipTolerance = CLIP_TOLERANCE_F64): SvccaFactor {
  const fused = residentSvccaFactor(x, rule, epsilon, clipTolerance);
  if (fused) return fused;
  // The centred copy lives in the scratch buffer: the factor keeps only the reduced rows built from it.
  const step = svdStepTop(x, rule, true);
  return svccaFactorFromStep(step, step.k, epsilon, clipTolerance);
}

/**
 * svccaFactor with the centred copy written once, straight into the WebAssembly module's memory
 * (wasmResident), where the Gram Xc·Xcᵀ and the projection U_kᵀ·Xc both read it in place: the
 * scratch copy and the two copies into linear memory of svdStepTop + svccaFactorFromStep become one
 * pass. Same kernels, same operands, same order of summation: the factor is bit for bit theirs
 * (test/math/residentFactor.test.ts). Null, and the caller takes the other path, where that path
 * would not run both products in WebAssembly (no SIMD, tiny products, n > m: the m × m Gram) or the
 * matrix does not fit in linear memory. X: n neurons × m datapoints, a Matrix or a CentringSource.
 */
function residentSvccaFactor(x: Matrix | CentringSource, rule: KeepRule, epsilon: number, clipTolerance: number): SvccaFactor | null {
  const n = x.rows;
  const m = x.cols;
  if (m < 2 || n > m || n * n * m < WASM_MIN_WORK) return null;
  if (!isMatrix(x) && x.streamed) {
    const streamed = streamedSvccaFactor(x, x.streamed(), rule, epsilon, clipTolerance);
    if (streamed) return streamed;
  }
  const resident = wasmResident(n, m);
  if (!resident) return null;
  try {
    // A source widens (and transposes) its stored array into the module's memory in the same pass.
    if (isMatrix(x)) centerRows(x, resident.data());
    else x.centerRowsInto(resident.data());
    // multiply() runs its JS kernel below WASM_MIN_WORK: the resident path does the same there, reading the resident copy.
    return factorFromGram(n, m, resident.gram(), rule, epsilon, clipTolerance, (uk, k) =>
      k * n * m >= WASM_MIN_WORK ? resident.leftMultiply(uk, k) : multiply({ rows: k, cols: n, data: uk }, { rows: n, cols: m, data: resident.data() }).data,
    );
  } finally {
    resident.release();
  }
}

/**
 * residentSvccaFactor for a stored dense layer without the resident matrix: the Gram and the
 * projection each stream the stored array through the module a block of datapoints at a time,
 * centring every block again (wasmStreamedGram, wasmStreamedLeftMultiply). Same kernels, same
 * operands, same order of summation: bit for bit the resident factor (test/math/streamedFactor.test.ts).
 * It trades one more centring pass over the stored array (cheap: a copy and a subtraction per
 * element, in WebAssembly) for never holding the centred n × m float64 matrix: a fresh process
 * otherwise faults in those n·m·8 bytes before its first product (~4 ms per MiB on a VM).
 * Null, and the caller takes the resident path, where a product does not fit.
 */
function streamedSvccaFactor(source: CentringSource, layer: StreamedLayer, rule: KeepRule, epsilon: number, clipTolerance: number): SvccaFactor | null {
  const { rows: n, cols: m } = source;
  return factorFromGram(n, m, wasmStreamedGram(layer), rule, epsilon, clipTolerance, (uk, k) => {
    if (k * n * m >= WASM_MIN_WORK) return wasmStreamedLeftMultiply(layer, uk, k);
    // multiply()'s JS kernel, as the resident path runs it below WASM_MIN_WORK, on the centred rows.
    const centred = { rows: n, cols: m, data: new Float64Array(n * m) };
    source.centerRowsInto(centred.data);
    return multiply({ rows: k, cols: n, data: uk }, centred).data;
  });
}

/**
 * The resident and streamed factors' common part, from the Gram Xc·Xcᵀ (n × n) on: every
 * eigenvalue, the keep rule, the k kept eigenvectors U_k, then `project(U_k (k × n, rows = u_i), k)`
 * = U_kᵀ·Xc (k × m) and its CCA factor. Null where the Gram or the projection did not fit.
 */
function factorFromGram(
  n: number,
  m: number,
  gramData: Float64Array | null,
  rule: KeepRule,
  epsilon: number,
  clipTolerance: number,
  project: (uk: Float64Array, k: number) => Float64Array | null,
): SvccaFactor | null {
  if (!gramData) return null;
  const eig = symmetricTopEigen({ rows: n, cols: n, data: gramData }, (values) => chooseK(spectrumOf(values, m), rule));
  const k = eig.vectors.rows;
  const reducedData = project(eig.vectors.data.subarray(0, k * n), k);
  if (!reducedData) return null;
  return { spectrum: spectrumOf(eig.values, m), k, cca: diagonalCcaFactor({ rows: k, cols: m, data: reducedData }, epsilon, clipTolerance) };
}

/** CCA factor of rows that are already centred and mutually uncorrelated (SVD directions). */
function diagonalCcaFactor(reduced: Matrix, epsilon: number, clipTolerance: number): CcaFactor {
  const { rows: k, cols: m } = reduced;
  const { variances, xmax } = rowVariances(reduced);
  const keptIndices = prunedRows(variances, xmax, epsilon);
  const kept = keptIndices.length;
  const keptRows = kept === k ? reduced : selectRows(reduced, keptIndices);
  if (kept === 0) return emptyFactor(m, k, undefined, new Float64Array(0));
  const directionScale = Math.sqrt((m - 1) * xmax);
  // Rows are in descending variance, so clipping keeps a prefix.
  let r = 0;
  while (r < kept && variances[keptIndices[r]] / xmax > clipTolerance) r++;
  const z = zeros(r, m);
  for (let i = 0; i < r; i++) {
    const w = 1 / (Math.sqrt(variances[keptIndices[i]] / xmax + epsilon) * directionScale);
    for (let j = 0; j < m; j++) z.data[i * m + j] = w * keptRows.data[i * m + j];
  }
  return {
    datapoints: m,
    inputDims: k,
    keptDims: kept,
    dropped: k - kept,
    keptIndices,
    z,
    principalScales: Float64Array.from({ length: r }, (_, i) => Math.sqrt(variances[keptIndices[i]] / xmax + epsilon) * directionScale),
    clipped: kept - r,
    directionScale,
    means: new Float64Array(kept),
  };
}

export interface CcaSvd {
  /** Singular values of T = Zx Zyᵀ, descending (r = min(r1, r2) of them). */
  values: Float64Array;
  /** r × r1: row i = left singular vector p_i of T. */
  left: Matrix;
  /** r × r2: row i = right singular vector q_i of T (zero rows where the singular value is 0). */
  right: Matrix;
}

/**
 * Singular values and vectors of the r1 × r2 matrix T = Zx Zyᵀ through the eigendecomposition of the
 * smaller Gram matrix (T Tᵀ or Tᵀ T); the other side's vectors follow as T q / σ or Tᵀ p / σ.
 */
export function crossSvd(zx: Matrix, zy: Matrix): CcaSvd {
  return svdOfCross(multiplyABt(zx, zy));
}

/** The SVD of a cross matrix T = Zx Zyᵀ (r1 × r2) already formed (e.g. on the GPU). */
export function svdOfCross(t: Matrix): CcaSvd {
  const r1 = t.rows;
  const r2 = t.cols;
  const r = Math.min(r1, r2);
  if (r === 0) return { values: new Float64Array(0), left: zeros(0, r1), right: zeros(0, r2) };
  const leftSmaller = r1 <= r2;
  const tt = leftSmaller ? t : transpose(t); // the side with fewer rows first
  const eig = symmetricEigen(multiplyABt(tt, tt));
  const values = Float64Array.from(eig.values.subarray(0, r), (g) => Math.sqrt(Math.max(g, 0)));
  const small = eig.vectors; // r × r, rows = singular vectors of the smaller side
  // Other side: w_i = ttᵀ u_i / σ_i (rows of `other` = rows of U·tt, r × r · r × otherDim), zero where σ_i is ~0.
  const otherDim = leftSmaller ? r2 : r1;
  const other = multiply(small, tt);
  const sigmaFloor = values[0] * 1e-13;
  for (let i = 0; i < r; i++) {
    const row = other.data.subarray(i * otherDim, (i + 1) * otherDim);
    if (values[i] > sigmaFloor) for (let b = 0; b < otherDim; b++) row[b] /= values[i];
    else row.fill(0);
  }
  return leftSmaller ? { values, left: small, right: other } : { values, left: other, right: small };
}

/** cca_core.sum_threshold: first i with Σ_{j<i} a_j / Σ a ≥ threshold (len(a) when none). */
export function sumThreshold(values: readonly number[], threshold: number): number {
  let total = 0;
  for (const v of values) total += v;
  let partial = 0;
  for (let i = 0; i < values.length; i++) {
    if (partial / total >= threshold) return i;
    partial += values[i];
  }
  return values.length;
}

/** The three summaries of a ρ spectrum (descending). */
export function summarize(rho: readonly number[]): CcaSummary {
  if (rho.length === 0) return { rho: [], mean: 0, mean98: 0, meanSquared: 0 };
  let sum = 0;
  let sumSquares = 0;
  for (const r of rho) {
    sum += r;
    sumSquares += r * r;
  }
  const idx = sumThreshold(rho, 0.98);
  let head = 0;
  for (let i = 0; i < idx; i++) head += rho[i];
  return {
    rho: [...rho],
    mean: sum / rho.length,
    mean98: idx > 0 ? head / idx : 0,
    meanSquared: sumSquares / rho.length,
  };
}

/** Canonical correlations of two factors: min(n1', n2') values, null directions padded with 0. */
export function ccaFromFactors(fx: CcaFactor, fy: CcaFactor): CcaSummary {
  const count = Math.min(fx.keptDims, fy.keptDims);
  const rho = new Array<number>(count).fill(0);
  if (count > 0) {
    const values = singularValuesOfCross(fx.z, fy.z);
    for (let i = 0; i < Math.min(count, values.length); i++) rho[i] = values[i];
  }
  return summarize(rho);
}

/** Singular values only (no vectors): the hot path of learning dynamics. */
export function singularValuesOfCross(zx: Matrix, zy: Matrix): Float64Array {
  const t = multiplyABt(zx, zy);
  const tt = t.rows <= t.cols ? t : transpose(t);
  if (tt.rows === 0) return new Float64Array(0);
  // QL even for small k (6–13× faster than Jacobi at these sizes and just as accurate), and
  // without vectors: the reduction and the QL sweeps only.
  return Float64Array.from(symmetricEigenvalues(multiplyABt(tt, tt)), (g) => Math.sqrt(Math.max(g, 0)));
}

export interface CanonicalDirections {
  rho: number[];
  /** d × m: H_x = Uᵀ Σ̃xx^-½ (X − μ), cca_core's cca_dirns1 without the mean added back. */
  x: Matrix;
  /** d × m: likewise for Y. */
  y: Matrix;
}

/** The top `count` canonical direction pairs over the datapoints (for plots). */
export function canonicalDirections(fx: CcaFactor, fy: CcaFactor, count: number): CanonicalDirections {
  const svd = crossSvd(fx.z, fy.z);
  const d = Math.min(count, svd.values.length);
  const hx = multiply({ rows: d, cols: fx.z.rows, data: svd.left.data.subarray(0, d * fx.z.rows) }, fx.z);
  const hy = multiply({ rows: d, cols: fy.z.rows, data: svd.right.data.subarray(0, d * fy.z.rows) }, fy.z);
  for (let i = 0; i < hx.data.length; i++) hx.data[i] *= fx.directionScale;
  for (let i = 0; i < hy.data.length; i++) hy.data[i] *= fy.directionScale;
  return { rho: Array.from(svd.values.subarray(0, d)), x: hx, y: hy };
}

/** Plain CCA of two neurons × datapoints matrices (cca_core.get_cca_similarity). */
export function cca(x: Matrix, y: Matrix, epsilon: number): CcaSummary & { factors: [CcaFactor, CcaFactor] } {
  const fx = ccaFactor(x, epsilon);
  const fy = ccaFactor(y, epsilon);
  return { ...ccaFromFactors(fx, fy), factors: [fx, fy] };
}

/** SVCCA: SVD-reduce both sides, then CCA. */
export function svcca(x: Matrix, y: Matrix, rule: KeepRule, epsilon: number): CcaSummary & { factors: [SvccaFactor, SvccaFactor] } {
  const fx = svccaFactor(x, rule, epsilon);
  const fy = svccaFactor(y, rule, epsilon);
  return { ...ccaFromFactors(fx.cca, fy.cca), factors: [fx, fy] };
}
