// PWCCA on the GPU, the twin of src/math/pwcca.ts: all pairs' T = Z_a Z_bᵀ from one product; per
// pair the small SVD, the side with fewer kept neurons and its rotation on the host in float64.
// 'reference' weights come from the factor in float64 (src/math/pwccaFactor.ts: no GPU pass);
// 'paper' weights need the directions D over the datapoints: on the GPU D, G = D Dᵀ and M = D Xcᵀ,
// then α = row sums of |L⁻¹ M| (G = L Lᵀ: Gram–Schmidt in order) back in float64. D's rows have
// zero mean, so M against centred neurons equals the reference's against uncentred ones.
//
// Shapes: Z_i is r_i × m, Xc_i is n_i × m (row-major, f32).

import { checkAborted } from '../../cancel';
import { runProducts } from '../../gpu/ops';
import { summarize, svdOfCross, type CcaSvd } from '../../math/cca';
import { weightsFromGram } from '../../math/pwcca';
import { referenceWeights, weightedSimilarity } from '../../math/pwccaFactor';
import { compareFactors, type PairNumbers } from '../metrics';
import { pwccaPairVerdict } from '../precision';
import { stackedCross } from './pairs';
import type { GpuCcaFactor, GpuJob } from './types';

/** PWCCA of every pair (a[i], b[j]); a pair whose weights float32 cannot settle runs in float64 and says why. */
export async function comparePwcca(job: GpuJob, a: GpuCcaFactor[], b: GpuCcaFactor[]): Promise<PairNumbers[][]> {
  const { t, rowsA, rowsB, offsetsA, offsetsB, release } = stackedCross(job, a, b, (f) => f.z.buffer, 'pwcca');
  const cross = await job.rt.read(t, Math.max(1, rowsA * rowsB) * 4, 'pwcca.cross');
  release();
  const grid: PairNumbers[][] = a.map(() => []);
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      checkAborted(job.signal);
      const block = { rows: a[i].rows, cols: b[j].rows, data: new Float64Array(a[i].rows * b[j].rows) };
      for (let r = 0; r < block.rows; r++)
        for (let c = 0; c < block.cols; c++) block.data[r * block.cols + c] = cross[(offsetsA[i] + r) * rowsB + offsetsB[j] + c];
      const svd = svdOfCross(block);
      const verdict = pwccaPairVerdict(svd.values, Math.min(a[i].keptDims, b[j].keptDims), a[i].datapoints);
      grid[i][j] = verdict.gpu
        ? await pwccaPair(job, a[i], b[j], svd)
        : { ...compareFactors(job.twin(a[i]), job.twin(b[j]), job.options), fallbackPair: verdict.reason };
    }
  }
  return grid;
}

async function pwccaPair(job: GpuJob, fa: GpuCcaFactor, fb: GpuCcaFactor, svd: CcaSvd): Promise<PairNumbers> {
  const { rt, own } = job;
  const m = fa.datapoints;
  const side = fa.keptDims <= fb.keptDims ? 'x' : 'y';
  const ownFactor = side === 'x' ? fa : fb;
  const extras = ownFactor.pwcca!;
  const count = ownFactor.keptDims;
  const r = svd.values.length;
  const rho = new Array<number>(Math.min(fa.keptDims, fb.keptDims)).fill(0);
  for (let i = 0; i < Math.min(r, rho.length); i++) rho[i] = svd.values[i];
  const summary = summarize(rho);
  const base: PairNumbers = {
    similarity: 0,
    mean98: summary.mean98,
    meanSquared: summary.meanSquared,
    rho,
    kept: [fa.keptDims, fb.keptDims],
    neurons: [fa.neurons, fb.neurons],
    dropped: [fa.dropped, fb.dropped],
    clipped: [fa.clipped, fb.clipped],
    spectra: null,
    frequencies: null,
  };
  if (count === 0 || rho.length === 0) return base;
  const ownVectors = side === 'x' ? svd.left : svd.right; // r × ownFactor.rows
  if (job.options.pwccaVariant === 'reference') {
    return { ...base, similarity: weightedSimilarity(referenceWeights(ownVectors, extras, ownFactor.rows, r), rho) };
  }
  // 'paper': D = R · Z over the datapoints (R: the first r rows of the rotation).
  const n = ownFactor.neurons;
  const rotation = own.upload(Float32Array.from(ownVectors.data.subarray(0, r * ownFactor.rows)), 'pwcca.rotation');
  const directions = own.zeros(r * m * 4, 'pwcca.directions');
  const gram = own.zeros(r * r * 4, 'pwcca.gram');
  const projections = own.zeros(r * n * 4, 'pwcca.projections');
  try {
    runProducts(
      rt,
      rotation,
      ownFactor.z.buffer,
      directions,
      [{ aOffset: 0, bOffset: ownFactor.rowOffset * m, cOffset: 0, p: r, q: m, k: ownFactor.rows, lda: ownFactor.rows, ldb: m, ldc: m, transB: true }],
      'pwcca.directions',
    );
    runProducts(rt, directions, directions, gram, [{ aOffset: 0, bOffset: 0, cOffset: 0, p: r, q: r, k: m, lda: m, ldb: m, ldc: r }], 'pwcca.gram');
    runProducts(
      rt,
      directions,
      extras.x.buffer,
      projections,
      [{ aOffset: 0, bOffset: extras.xRow * m, cOffset: 0, p: r, q: n, k: m, lda: m, ldb: m, ldc: n }],
      'pwcca.projections',
    );
    const g = await rt.read(gram, r * r * 4, 'pwcca.gram');
    const mAll = await rt.read(projections, r * n * 4, 'pwcca.projections');
    const keptProjections = { rows: r, cols: count, data: new Float64Array(r * count) };
    for (let i = 0; i < r; i++) for (let t = 0; t < count; t++) keptProjections.data[i * count + t] = mAll[i * n + extras.kept[t]];
    const weights = weightsFromGram({ rows: r, cols: r, data: Float64Array.from(g) }, keptProjections);
    return { ...base, similarity: weightedSimilarity(weights, rho) };
  } finally {
    for (const buffer of [rotation, directions, gram, projections]) own.release(buffer);
  }
}
