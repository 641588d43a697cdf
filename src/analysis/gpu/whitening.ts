// Steps 3–6 of the GPU factorisation of CCA-family metrics, the GPU twin of src/math/whitening.ts
// and of the whitening in src/math/cca.ts (ccaFactor, svccaFactor). For matrices whose centred rows
// Xc are on the GPU and whose Gram matrices G = Xc Xcᵀ the GPU has just formed:
//   3. on the host in float64 (src/math/gramFactor.ts; on the CPU pool's threads when the job has
//      more than one, src/analysis/pool/gramHost.ts): cca_core's rescaling and ε pruning, and the
//      eigendecomposition of the equilibrated correlation matrix (CCA, PWCCA), or SVCCA's every
//      eigenvalue of G, k by 99% of Σs² or fixed, then the k kept eigenvectors only
//      (src/math/eigenTop.ts); whitening rows W₀;
//   4. Z₀ = W₀ Xc for every matrix in one batched product;
//   5. the refinement: C = Z₀ Z₀ᵀ (one batched product; well-conditioned by construction) plus the
//      ε term, C = L Lᵀ by Cholesky in float64, Z = L⁻¹ Z₀ (one batched product): Z Zᵀ = I to f32
//      round-off of a well-conditioned matrix, whatever the layer's conditioning;
//   6. the conditioning measured on the way (precision.ts) decides, per matrix, whether these
//      numbers keep the contract.
//
// Shapes: matrix b is sizes[b] rows × m datapoints; Gram blocks are padded × padded (f32).

import type { ProductBatch } from '../../gpu/kernels/product';
import { runProducts } from '../../gpu/ops';
import { chooseK } from '../../math/cca';
import { refinementFactor, whitenCca, whitenSvd, type CcaDraft, type SvdDraft, type SvdSpectrum } from '../../math/gramFactor';
import type { Matrix } from '../../math/matrix';
import { pwccaCoordinates } from '../../math/pwccaFactor';
import { gramValues, gramVectors } from '../pool/gramHost';
import { gpuVerdict, type Conditioning } from '../precision';
import type { AnalysisOptions, Metric } from '../types';
import { even, unreachableMetric, type DataChunk, type FactorPlan, type GpuJob, type StackedFactors } from './types';

/** Which host step a metric's factor takes: CCA's (ε pruning, equilibrated eigendecomposition) or SVCCA's (SVD step first). */
function hostStep(metric: Metric): 'cca' | 'svd' {
  switch (metric) {
    case 'svcca':
      return 'svd';
    case 'cca':
    case 'pwcca':
      return 'cca';
    case 'cka':
    case 'cka-debiased':
      throw new Error(`${metric} has no whitening step`);
    default:
      return unreachableMetric(metric);
  }
}

/**
 * Steps 3–6 for centred matrices stacked in `chunks` (each chunk: all rows, a range of datapoint
 * columns) whose Gram matrices are in `gram` (padded × padded each; consumed). `keeps`, when
 * given, chooses the SVD directions of every matrix at once from all their spectra (the DFT's
 * global 99% rule). `pwcca`: also the coordinates PWCCA's weights need (src/math/pwccaFactor.ts).
 * The returned `z` is held by the job's ledger: the caller hands it on to the factors that use it.
 */
export async function factorStacked(
  job: GpuJob,
  chunks: DataChunk[],
  gram: GPUBuffer,
  sizes: number[],
  rowOffsets: number[],
  m: number,
  padded: number,
  options: AnalysisOptions,
  keeps?: (spectra: number[][]) => number[],
  pwcca = false,
): Promise<StackedFactors> {
  const { rt, own } = job;
  const count = sizes.length;
  const grams = await rt.read(gram, count * padded * padded * 4, 'factor.gram');
  own.release(gram);
  const step = hostStep(options.metric);
  const cca = step === 'cca';
  // Step 3 on the host in float64 (see the module comment), on the CPU pool's threads where the job
  // has them (pool/gramHost.ts, the same numbers bit for bit): CCA's pruning and the eigendecomposition
  // of the equilibrated correlation matrix; SVCCA's every eigenvalue of the Gram, the keep rule
  // (this matrix's own, or the DFT's global one over every block), then the k kept eigenvectors only.
  const eigenStarted = performance.now();
  const g64 = sizes.map((size, b) => {
    const g = new Float64Array(size * size);
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) g[i * size + j] = grams[b * padded * padded + i * padded + j];
    return g;
  });
  const first = await gramValues(job.hostPool, step, g64, sizes, m, options.epsilon, job.signal);
  let drafts: (CcaDraft | SvdDraft)[] = first as CcaDraft[];
  let ks: number[] = [];
  if (!cca) {
    const spectra = first as SvdSpectrum[];
    ks = keeps ? keeps(spectra.map((s) => s.spectrum)) : spectra.map((s) => chooseK(s.spectrum, options.keep));
    drafts = await gramVectors(job.hostPool, spectra, ks, job.signal);
  }
  job.precisionWork.hostEigenSeconds += (performance.now() - eigenStarted) / 1000;
  const whitenings = drafts.map((draft, b) =>
    cca ? whitenCca(draft as CcaDraft, options.epsilon) : whitenSvd(draft as SvdDraft, ks[b], options.epsilon, options.keep, keeps === undefined),
  );
  // Step 4: Z₀ = W₀ Xc for every matrix in one batched product.
  const projectionData = new Float32Array(
    Math.max(
      1,
      whitenings.reduce((s, w, b) => s + w.rows * sizes[b], 0),
    ),
  );
  const projectionOffsets: number[] = [];
  const zOffsets: number[] = [];
  let pOffset = 0;
  let zRow = 0;
  whitenings.forEach((w, b) => {
    projectionOffsets.push(pOffset);
    zOffsets.push(zRow);
    for (let i = 0; i < w.rows; i++) for (let t = 0; t < sizes[b]; t++) projectionData[pOffset + i * sizes[b] + t] = w.projection[i * sizes[b] + t];
    pOffset += w.rows * sizes[b];
    zRow += w.rows;
  });
  const projection = own.upload(projectionData, 'factor.projection');
  const z0 = own.zeros(Math.max(1, zRow) * m * 4, 'factor.whitened-draft');
  for (const chunk of chunks) {
    // Z₀'s columns [column0, column0 + columns) from this chunk of datapoints.
    const batches: ProductBatch[] = whitenings
      .map((w, b) => ({
        aOffset: projectionOffsets[b],
        bOffset: rowOffsets[b] * chunk.columns,
        cOffset: zOffsets[b] * m + chunk.column0,
        p: w.rows,
        q: chunk.columns,
        k: sizes[b],
        lda: sizes[b],
        ldb: chunk.columns,
        ldc: m,
        transB: true, // op(B) = Xcᵀ (columns × n): Z₀ = W₀ · Xc
      }))
      .filter((batch) => batch.p > 0);
    if (batches.length > 0) runProducts(rt, projection, chunk.buffer, z0, batches, 'factor.whiten');
  }
  own.release(projection);
  // Step 5 of the module comment, the refinement: C = Z₀ Z₀ᵀ (+ the ε term) in float64, C = L Lᵀ, Z = L⁻¹ Z₀.
  const refineStarted = performance.now();
  const refinePadded = even(Math.max(2, ...whitenings.map((w) => w.rows)));
  const cBuffer = own.zeros(count * refinePadded * refinePadded * 4, 'factor.refine-gram');
  const gramBatches: ProductBatch[] = whitenings
    .map((w, b) => ({
      aOffset: zOffsets[b] * m,
      bOffset: zOffsets[b] * m,
      cOffset: b * refinePadded * refinePadded,
      p: w.rows,
      q: w.rows,
      k: m,
      lda: m,
      ldb: m,
      ldc: refinePadded,
    }))
    .filter((batch) => batch.p > 0);
  if (gramBatches.length > 0) runProducts(rt, z0, z0, cBuffer, gramBatches, 'factor.refine-gram');
  const cs = await rt.read(cBuffer, count * refinePadded * refinePadded * 4, 'factor.refine-gram');
  own.release(cBuffer);
  const inverses: Float32Array[] = [];
  const plans: FactorPlan[] = whitenings.map((w, b) => {
    const r = w.rows;
    const c: Matrix = { rows: r, cols: r, data: new Float64Array(r * r) };
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) c.data[i * r + j] = cs[b * refinePadded * refinePadded + i * refinePadded + j];
    const { lInverse, pivotRatio } = refinementFactor(c, w, sizes[b]);
    inverses.push(Float32Array.from(lInverse.data));
    const conditioning: Conditioning = { ...w.conditioning, refinementPivot: r === 0 ? 1 : pivotRatio };
    let verdict = gpuVerdict(conditioning);
    const coordinates = pwcca && verdict.gpu && r > 0 ? pwccaCoordinates(lInverse, w, sizes[b]) : null;
    if (pwcca && verdict.gpu && r > 0 && !coordinates)
      verdict = { gpu: false, estimatedError: verdict.estimatedError, reason: 'the whitened layer is numerically rank-deficient in float32' };
    const empty: Matrix = { rows: 0, cols: 0, data: new Float64Array(0) };
    return {
      rowOffset: zOffsets[b],
      rows: r,
      keptDims: w.keptDims,
      dropped: w.dropped,
      clipped: w.keptDims - r,
      spectrum: w.spectrum,
      kept: w.kept,
      basis: coordinates?.basis ?? empty,
      neurons: coordinates?.neurons ?? empty,
      verdict,
    };
  });
  // Z = L⁻¹ Z₀ per matrix (one batched product), into the factor's buffer.
  const inverseData = new Float32Array(
    Math.max(
      1,
      inverses.reduce((s, x) => s + x.length, 0),
    ),
  );
  const inverseOffsets: number[] = [];
  let iOffset = 0;
  for (const x of inverses) {
    inverseOffsets.push(iOffset);
    inverseData.set(x, iOffset);
    iOffset += x.length;
  }
  const inverseBuffer = own.upload(inverseData, 'factor.refine-inverse');
  const z = own.zeros(Math.max(1, zRow) * m * 4, 'factor.whitened');
  const refineBatches: ProductBatch[] = whitenings
    .map((w, b) => ({
      aOffset: inverseOffsets[b],
      bOffset: zOffsets[b] * m,
      cOffset: zOffsets[b] * m,
      p: w.rows,
      q: m,
      k: w.rows,
      lda: w.rows,
      ldb: m,
      ldc: m,
      transB: true,
    }))
    .filter((batch) => batch.p > 0);
  if (refineBatches.length > 0) runProducts(rt, inverseBuffer, z0, z, refineBatches, 'factor.refine');
  own.release(inverseBuffer);
  own.release(z0);
  // No settle here: the refinement product stays recorded and reaches the GPU with the pairs' work
  // at the next readback (the runtime frees z0 and the inverses only after that submission), so
  // the GPU does not idle while the host waits for it. refineSeconds is the host's part: the
  // refinement Gram's readback, the Cholesky factors and the encoding.
  job.precisionWork.refineSeconds += (performance.now() - refineStarted) / 1000;
  return { z, plans };
}
