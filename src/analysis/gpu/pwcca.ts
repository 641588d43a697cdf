// PWCCA on the GPU, the twin of src/math/pwcca.ts: all pairs' T = Z_a Z_bᵀ from one product; per
// pair the small SVD, the side with fewer kept neurons and its rotation on the host in float64.
// The 'paper' pass below runs for all pairs of the grid together (one readback, not two per pair).
// 'reference' weights come from the factor in float64 (src/math/pwccaFactor.ts: no GPU pass);
// 'paper' weights need the directions D over the datapoints: on the GPU D, G = D Dᵀ and M = D Xcᵀ,
// then α = row sums of |L⁻¹ M| (G = L Lᵀ: Gram–Schmidt in order) back in float64. D's rows have
// zero mean, so M against centred neurons equals the reference's against uncentred ones.
//
// Shapes: Z_i is r_i × m, Xc_i is n_i × m (row-major, f32).

import { checkAborted } from '../../cancel';
import type { ProductBatch } from '../../gpu/kernels/product';
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
  const paperPairs: PaperPair[] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      checkAborted(job.signal);
      const block = { rows: a[i].rows, cols: b[j].rows, data: new Float64Array(a[i].rows * b[j].rows) };
      for (let r = 0; r < block.rows; r++)
        for (let c = 0; c < block.cols; c++) block.data[r * block.cols + c] = cross[(offsetsA[i] + r) * rowsB + offsetsB[j] + c];
      const svd = svdOfCross(block);
      const verdict = pwccaPairVerdict(svd.values, Math.min(a[i].keptDims, b[j].keptDims), a[i].datapoints);
      if (!verdict.gpu) {
        grid[i][j] = { ...compareFactors(job.twin(a[i]), job.twin(b[j]), job.options), fallbackPair: verdict.reason };
        continue;
      }
      const pair = pwccaPair(job, a[i], b[j], svd);
      if ('numbers' in pair) grid[i][j] = pair.numbers;
      else paperPairs.push({ ...pair, i, j });
    }
  }
  // The paper variant's GPU pass for every pair that needs it, in as few batches as memory allows.
  const directionsLimit = Math.min(PAPER_DIRECTIONS_BYTES, job.rt.maxStorageBindingBytes);
  for (const group of boundedGroups(paperPairs, (p) => p.r * p.own.datapoints * 4, directionsLimit)) {
    checkAborted(job.signal);
    const weights = await paperWeights(job, group);
    group.forEach((p, index) => (grid[p.i][p.j] = { ...p.base, similarity: weightedSimilarity(weights[index], p.base.rho) }));
  }
  return grid;
}

/** The most bytes of directions (r × m f32 per pair) one batch of the paper pass holds. */
const PAPER_DIRECTIONS_BYTES = 256 * 2 ** 20;

/** A pair whose 'paper' weights need the directions over the datapoints (computed on the GPU). */
interface PaperPair {
  i: number;
  j: number;
  base: PairNumbers;
  /** The side with fewer kept neurons: its whitened rows and PWCCA extras. */
  own: GpuCcaFactor;
  /** r × own.rows: the first r rows of that side's rotation (f32, row-major). */
  rotation: Float32Array;
  r: number;
}

/** The pair's numbers, or (paper variant) what its GPU pass needs. */
function pwccaPair(job: GpuJob, fa: GpuCcaFactor, fb: GpuCcaFactor, svd: CcaSvd): { numbers: PairNumbers } | Omit<PaperPair, 'i' | 'j'> {
  const side = fa.keptDims <= fb.keptDims ? 'x' : 'y';
  const own = side === 'x' ? fa : fb;
  const extras = own.pwcca!;
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
  if (own.keptDims === 0 || rho.length === 0) return { numbers: base };
  const ownVectors = side === 'x' ? svd.left : svd.right; // r × own.rows
  if (job.options.pwccaVariant === 'reference') {
    return { numbers: { ...base, similarity: weightedSimilarity(referenceWeights(ownVectors, extras, own.rows, r), rho) } };
  }
  return { base, own, rotation: Float32Array.from(ownVectors.data.subarray(0, r * own.rows)), r };
}

/** Consecutive groups whose `bytes` add up to at most `limit` (a larger item goes alone). */
function boundedGroups<T>(items: T[], bytes: (item: T) => number, limit: number): T[][] {
  const groups: T[][] = [];
  let total = Infinity;
  for (const item of items) {
    if (total + bytes(item) > limit) {
      groups.push([]);
      total = 0;
    }
    groups[groups.length - 1].push(item);
    total += bytes(item);
  }
  return groups;
}

/**
 * The 'paper' weights of a group of pairs, with one readback for all: D = R · Z over the
 * datapoints for every pair (R: the first r rows of its rotation), then G = D Dᵀ and M = D Xcᵀ per
 * pair, each stage one batched product per buffer its operands live in; α = row sums of |L⁻¹ M|
 * (G = L Lᵀ) back in float64.
 * Shapes: D_p is r_p × m; G_p r_p × r_p; M_p r_p × n_own (all f32, row-major, stacked).
 */
async function paperWeights(job: GpuJob, pairs: PaperPair[]): Promise<number[][]> {
  const { rt, own } = job;
  const m = pairs[0].own.datapoints;
  const rotationOffsets: number[] = [];
  const directionRows: number[] = [];
  const outOffsets: number[] = []; // per pair: G_p then M_p in the output buffer
  let rotationWords = 0;
  let rows = 0;
  let outWords = 0;
  for (const p of pairs) {
    rotationOffsets.push(rotationWords);
    directionRows.push(rows);
    outOffsets.push(outWords);
    rotationWords += p.r * p.own.rows;
    rows += p.r;
    outWords += p.r * p.r + p.r * p.own.neurons;
  }
  const rotationData = new Float32Array(rotationWords);
  pairs.forEach((p, index) => rotationData.set(p.rotation, rotationOffsets[index]));
  const rotation = own.upload(rotationData, 'pwcca.rotation');
  const directions = own.zeros(rows * m * 4, 'pwcca.directions');
  const out = own.zeros(outWords * 4, 'pwcca.gram-projections');
  try {
    // D = R · Z: one batched product per buffer holding the pairs' whitened rows.
    for (const [zBuffer, members] of groupBy(pairs, (p) => p.own.z.buffer)) {
      const batches: ProductBatch[] = members.map(({ p, index }) => ({
        aOffset: rotationOffsets[index],
        bOffset: p.own.rowOffset * m,
        cOffset: directionRows[index] * m,
        p: p.r,
        q: m,
        k: p.own.rows,
        lda: p.own.rows,
        ldb: m,
        ldc: m,
        transB: true,
      }));
      runProducts(rt, rotation, zBuffer, directions, batches, 'pwcca.directions');
    }
    const gramBatches: ProductBatch[] = pairs.map((p, index) => ({
      aOffset: directionRows[index] * m,
      bOffset: directionRows[index] * m,
      cOffset: outOffsets[index],
      p: p.r,
      q: p.r,
      k: m,
      lda: m,
      ldb: m,
      ldc: p.r,
    }));
    runProducts(rt, directions, directions, out, gramBatches, 'pwcca.gram');
    // M = D Xcᵀ against the centred neurons: one batched product per buffer holding them.
    for (const [xBuffer, members] of groupBy(pairs, (p) => p.own.pwcca!.x.buffer)) {
      const batches: ProductBatch[] = members.map(({ p, index }) => ({
        aOffset: directionRows[index] * m,
        bOffset: p.own.pwcca!.xRow * m,
        cOffset: outOffsets[index] + p.r * p.r,
        p: p.r,
        q: p.own.neurons,
        k: m,
        lda: m,
        ldb: m,
        ldc: p.own.neurons,
      }));
      runProducts(rt, directions, xBuffer, out, batches, 'pwcca.projections');
    }
    const values = await rt.read(out, Math.max(1, outWords) * 4, 'pwcca.gram-projections');
    return pairs.map((p, index) => {
      const { r } = p;
      const n = p.own.neurons;
      const { kept } = p.own.pwcca!;
      const count = p.own.keptDims;
      const at = outOffsets[index];
      const g = { rows: r, cols: r, data: Float64Array.from(values.subarray(at, at + r * r)) };
      const keptProjections = { rows: r, cols: count, data: new Float64Array(r * count) };
      for (let i = 0; i < r; i++) for (let t = 0; t < count; t++) keptProjections.data[i * count + t] = values[at + r * r + i * n + kept[t]];
      return weightsFromGram(g, keptProjections);
    });
  } finally {
    for (const buffer of [rotation, directions, out]) own.release(buffer);
  }
}

/** Items grouped by a key, in first-seen order, each with its index in `items`. */
function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, { p: T; index: number }[]> {
  const groups = new Map<K, { p: T; index: number }[]>();
  items.forEach((p, index) => {
    const k = key(p);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push({ p, index });
  });
  return groups;
}
