// The WebGPU backend: the same contract as the float64 CPU backend (src/analysis/backend.ts), in f32.
//
// Shapes: every representation is n neurons × m datapoints, row-major. Per grid side (one checkpoint's
// layers) the work is batched:
//   1. centre on the CPU in float64 while converting to f32 (exact means, one pass), stack all layers
//      into one buffer;
//   2. Gram matrices G_i = Xc_i Xc_iᵀ of every layer in one batched product dispatch;
//   3. (cca only) read G back, apply cca_core's rescaling and ε pruning, upload Σ̃;
//   4. eigendecomposition of every layer at once by batched parallel-ordered Jacobi;
//   5. on the CPU: sort, choose k (99% of Σs² or fixed), re-orthonormalise the kept vectors in
//      float64 (f32 Jacobi drifts from orthogonality by ~1e-6), scale them into whitening rows P_i;
//   6. Z_i = P_i Xc_i for every layer in one batched product: the factor, kept on the GPU.
// A grid of pairs is then one product T = [Z_a1; Z_a2; …] [Z_b1; Z_b2; …]ᵀ, one batched Gram of the
// pair blocks (T_ij T_ijᵀ, the smaller side) and one batched Jacobi for all pairs' singular values.
// CKA uses the centred data itself: one product for all pairs' cross-covariances.
// PWCCA and the DFT path run on the float64 CPU path (the result says so).

import { jacobiEigenBatch, runProducts } from '../gpu/ops';
import type { ProductBatch } from '../gpu/kernels/product';
import { chooseK, summarize } from '../math/cca';
import type { Matrix } from '../math/matrix';
import { reduceToMatrix, type Representation } from '../math/reduce';
import { checkAborted, forgetGpuBackend, type ComputeBackend, type GpuBackendFactory } from './backend';
import { compareFactors, factorize, type Factor, type PairNumbers } from './metrics';
import type { AnalysisOptions } from './types';
import { acquireDevice } from '../gpu/device';
import { GpuRuntime } from '../gpu/runtime';

/** Relative eigenvalue floor below which f32 whitening treats a direction as null. */
export const CLIP_TOLERANCE_F32 = 1e-6;

/** A buffer shared by the factors of one batch, freed when the last of them is released. */
interface SharedBuffer {
  buffer: GPUBuffer;
  references: number;
}

interface GpuCcaFactor {
  kind: 'gpu-cca';
  /** Z rows (r × m) at `rowOffset` of `z` (rows of length m). */
  z: SharedBuffer;
  rowOffset: number;
  rows: number;
  keptDims: number;
  dropped: number;
  clipped: number;
  spectrum: number[] | null;
  neurons: number;
  datapoints: number;
  rep: Representation;
}

interface GpuCkaFactor {
  kind: 'gpu-cka';
  /** Centred rows (n × m) at `rowOffset` of `x`. */
  x: SharedBuffer;
  rowOffset: number;
  rows: number;
  selfDot: number;
  rowNorms: Float64Array;
  squaredNorm: number;
  neurons: number;
  datapoints: number;
  rep: Representation;
}

/** Work this backend hands to the float64 path (PWCCA, the DFT reduction, n > m). */
interface CpuFallbackFactor {
  kind: 'cpu';
  factor: Factor;
  rep: Representation;
  reason: string;
}

export type GpuFactor = GpuCcaFactor | GpuCkaFactor | CpuFallbackFactor;

const even = (n: number) => n + (n % 2);

/** Centres rows in float64 and stacks them as f32: rows of every matrix one after another. */
function centreAndStack(matrices: Matrix[]): { data: Float32Array; rowOffsets: number[]; rowNorms: Float64Array[]; squaredNorms: number[] } {
  const m = matrices[0].cols;
  const totalRows = matrices.reduce((s, x) => s + x.rows, 0);
  const data = new Float32Array(totalRows * m);
  const rowOffsets: number[] = [];
  const rowNorms: Float64Array[] = [];
  const squaredNorms: number[] = [];
  let row = 0;
  for (const x of matrices) {
    rowOffsets.push(row);
    const norms = new Float64Array(m);
    let squared = 0;
    for (let i = 0; i < x.rows; i++, row++) {
      let sum = 0;
      for (let j = 0; j < m; j++) sum += x.data[i * m + j];
      const mean = sum / m;
      for (let j = 0; j < m; j++) {
        const v = x.data[i * m + j] - mean;
        data[row * m + j] = v;
        norms[j] += v * v;
        squared += v * v;
      }
    }
    rowNorms.push(norms);
    squaredNorms.push(squared);
  }
  return { data, rowOffsets, rowNorms, squaredNorms };
}

/** Modified Gram–Schmidt (twice) on the rows of `vectors` (count × n, float64), in place. */
function reorthonormalize(vectors: Float64Array, count: number, n: number): void {
  for (let i = 0; i < count; i++) {
    const vi = vectors.subarray(i * n, (i + 1) * n);
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const vj = vectors.subarray(j * n, (j + 1) * n);
        let dot = 0;
        for (let t = 0; t < n; t++) dot += vi[t] * vj[t];
        for (let t = 0; t < n; t++) vi[t] -= dot * vj[t];
      }
    }
    let norm = 0;
    for (let t = 0; t < n; t++) norm += vi[t] * vi[t];
    norm = Math.sqrt(norm);
    if (norm > 0) for (let t = 0; t < n; t++) vi[t] /= norm;
  }
}

/** Sorted (descending) eigenpairs of matrix `b` of a Jacobi batch, restricted to its first `size` coordinates. */
function sortedEigen(values: Float32Array, vectors: Float32Array | null, b: number, padded: number, size: number) {
  const order = Array.from({ length: padded }, (_, i) => i).sort((i, j) => values[b * padded + j] - values[b * padded + i]);
  const sortedValues = order.slice(0, size).map((i) => values[b * padded + i]);
  let sortedVectors: Float64Array | null = null;
  if (vectors) {
    sortedVectors = new Float64Array(size * size);
    order.slice(0, size).forEach((from, to) => {
      for (let t = 0; t < size; t++) sortedVectors![to * size + t] = vectors[b * padded * padded + from * padded + t];
    });
  }
  return { values: sortedValues, vectors: sortedVectors };
}

export class GpuBackend implements ComputeBackend<GpuFactor> {
  readonly kind = 'webgpu' as const;
  readonly precision = 'float32' as const;
  constructor(readonly runtime: GpuRuntime) {}

  datapointsOf(f: GpuFactor): number {
    return f.kind === 'cpu' ? f.factor.datapoints : f.datapoints;
  }

  release(factors: GpuFactor[]): void {
    for (const f of factors) {
      const shared = f.kind === 'gpu-cca' ? f.z : f.kind === 'gpu-cka' ? f.x : null;
      if (!shared) continue;
      shared.references--;
      if (shared.references === 0 && !this.runtime.lost) this.runtime.release(shared.buffer);
    }
  }

  async factorize(reps: Representation[], options: AnalysisOptions, dft: boolean): Promise<GpuFactor[]> {
    this.runtime.checkAlive();
    const cpuReason = dft ? 'the DFT reduction' : options.metric === 'pwcca' ? 'PWCCA' : null;
    if (cpuReason || reps.length === 0) {
      return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, options, dft), rep, reason: cpuReason ?? '' }));
    }
    const reduction = options.convReduction === 'dft' ? 'flatten' : options.convReduction;
    const matrices = reps.map((rep) => reduceToMatrix(rep, reduction));
    const m = matrices[0].cols;
    if (matrices.some((x) => x.cols !== m) || matrices.some((x) => x.rows > m) || m < 2) {
      // Wide layers (n > m) and mixed datapoint counts: degenerate or refused later; float64 handles them.
      return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, options, false), rep, reason: 'layers wider than their datapoints' }));
    }
    const stacked = centreAndStack(matrices);
    const x = this.runtime.upload(stacked.data, 'factor.centred');
    const padded = even(Math.max(...matrices.map((mat) => mat.rows)));
    const gram = this.runtime.zeros(matrices.length * padded * padded * 4, 'factor.gram');
    runProducts(
      this.runtime,
      x,
      x,
      gram,
      matrices.map((mat, i) => ({
        aOffset: stacked.rowOffsets[i] * m,
        bOffset: stacked.rowOffsets[i] * m,
        cOffset: i * padded * padded,
        p: mat.rows,
        q: mat.rows,
        k: m,
        lda: m,
        ldb: m,
        ldc: padded,
      })),
      'factor.gram',
    );
    if (options.metric === 'cka' || options.metric === 'cka-debiased') {
      const grams = await this.runtime.read(gram, matrices.length * padded * padded * 4, 'factor.gram');
      this.runtime.release(gram);
      const shared: SharedBuffer = { buffer: x, references: matrices.length };
      return matrices.map((mat, i) => {
        let selfDot = 0;
        for (let r = 0; r < mat.rows; r++) for (let c = 0; c < mat.rows; c++) selfDot += grams[i * padded * padded + r * padded + c] ** 2;
        return {
          kind: 'gpu-cka',
          x: shared,
          rowOffset: stacked.rowOffsets[i],
          rows: mat.rows,
          selfDot,
          rowNorms: stacked.rowNorms[i],
          squaredNorm: stacked.squaredNorms[i],
          neurons: mat.rows,
          datapoints: m,
          rep: reps[i],
        };
      });
    }
    try {
      return await this.factorCca(reps, matrices, stacked.rowOffsets, x, gram, padded, options);
    } finally {
      this.runtime.release(x);
    }
  }

  /** Steps 3–6 of the module comment, for svcca and cca. */
  private async factorCca(
    reps: Representation[],
    matrices: Matrix[],
    rowOffsets: number[],
    x: GPUBuffer,
    gram: GPUBuffer,
    padded: number,
    options: AnalysisOptions,
  ): Promise<GpuFactor[]> {
    const rt = this.runtime;
    const m = matrices[0].cols;
    const count = matrices.length;
    // Per layer: which input rows CCA sees (all for svcca; ε-pruned for cca) and the rescaling.
    const kept: number[][] = matrices.map((mat) => Array.from({ length: mat.rows }, (_, i) => i));
    const xmax: number[] = matrices.map(() => 1);
    let eigenInput = gram;
    if (options.metric === 'cca') {
      const grams = await rt.read(gram, count * padded * padded * 4, 'factor.gram');
      rt.release(gram);
      const rescaled = new Float32Array(count * padded * padded);
      matrices.forEach((mat, b) => {
        const base = b * padded * padded;
        let max = 0;
        for (let i = 0; i < mat.rows; i++) for (let j = 0; j < mat.rows; j++) max = Math.max(max, Math.abs(grams[base + i * padded + j]) / (m - 1));
        xmax[b] = max;
        kept[b] = max > 0 ? kept[b].filter((i) => grams[base + i * padded + i] / (m - 1) / max >= options.epsilon) : [];
        kept[b].forEach((a, i) => kept[b].forEach((c, j) => (rescaled[base + i * padded + j] = grams[base + a * padded + c] / (m - 1) / max)));
      });
      eigenInput = rt.upload(rescaled, 'factor.rescaled');
    }
    const eig = await jacobiEigenBatch(rt, eigenInput, padded, count, { vectors: true });
    // Whitening rows P (r_b × n_b) for every layer, stacked; Z = P·Xc.
    const plans = matrices.map((mat, b) => {
      const size = options.metric === 'cca' ? kept[b].length : mat.rows;
      const { values, vectors } = sortedEigen(eig.values, eig.vectors, b, padded, size);
      let spectrum: number[] | null = null;
      let rows: number;
      let dropped = 0;
      let clipped = 0;
      let keptDims: number;
      const scales: number[] = [];
      if (options.metric === 'svcca') {
        spectrum = values.map((g) => Math.max(g, 0) / (m - 1));
        const k = chooseK(spectrum, options.keep);
        const top = Math.max(spectrum[0] ?? 0, 0);
        // ε pruning and clipping on the SVD directions' variances (cca_core on the reduced data).
        const prunedCount = spectrum.slice(0, k).filter((l) => !(top > 0 && l / top >= options.epsilon)).length;
        keptDims = k - prunedCount;
        dropped = prunedCount;
        rows = 0;
        while (rows < keptDims && spectrum[rows] / top > CLIP_TOLERANCE_F32) rows++;
        clipped = keptDims - rows;
        for (let i = 0; i < rows; i++) scales.push(1 / Math.sqrt(Math.max(values[i], 0) + options.epsilon * Math.max(values[0], 0)));
      } else {
        keptDims = kept[b].length;
        dropped = mat.rows - keptDims;
        const top = Math.max(values[0] ?? 0, 0);
        rows = 0;
        while (rows < keptDims && values[rows] > CLIP_TOLERANCE_F32 * top) rows++;
        clipped = keptDims - rows;
        for (let i = 0; i < rows; i++) scales.push(1 / (Math.sqrt(values[i] + options.epsilon) * Math.sqrt((m - 1) * xmax[b])));
      }
      if (vectors) reorthonormalize(vectors, rows, size);
      // P rows over the layer's n input rows (pruned rows get weight 0).
      const projection = new Float32Array(rows * mat.rows);
      for (let i = 0; i < rows; i++) {
        for (let t = 0; t < size; t++) {
          const column = options.metric === 'cca' ? kept[b][t] : t;
          projection[i * mat.rows + column] = scales[i] * vectors![i * size + t];
        }
      }
      return { rows, keptDims, dropped, clipped, spectrum, projection };
    });
    const totalRows = plans.reduce((s, p) => s + p.rows, 0);
    const projectionData = new Float32Array(Math.max(1, plans.reduce((s, p, b) => s + p.rows * matrices[b].rows, 0)));
    const projectionOffsets: number[] = [];
    const zOffsets: number[] = [];
    let pOffset = 0;
    let zRow = 0;
    plans.forEach((plan) => {
      projectionOffsets.push(pOffset);
      zOffsets.push(zRow);
      projectionData.set(plan.projection, pOffset);
      pOffset += plan.projection.length;
      zRow += plan.rows;
    });
    const projection = rt.upload(projectionData, 'factor.projection');
    const z = rt.zeros(Math.max(1, totalRows) * m * 4, 'factor.whitened');
    const batches: ProductBatch[] = plans
      .map((plan, b) => ({
        aOffset: projectionOffsets[b],
        bOffset: rowOffsets[b] * m,
        cOffset: zOffsets[b] * m,
        p: plan.rows,
        q: m,
        k: matrices[b].rows,
        lda: matrices[b].rows,
        ldb: m,
        ldc: m,
        transB: true, // op(B) = Xcᵀ (m × n): Z = P · Xc
      }))
      .filter((batch) => batch.p > 0);
    if (batches.length > 0) runProducts(rt, projection, x, z, batches, 'factor.whiten');
    rt.release(projection);
    await rt.settle();
    const shared: SharedBuffer = { buffer: z, references: count };
    return plans.map((plan, b) => ({
      kind: 'gpu-cca',
      z: shared,
      rowOffset: zOffsets[b],
      rows: plan.rows,
      keptDims: plan.keptDims,
      dropped: plan.dropped,
      clipped: plan.clipped,
      spectrum: plan.spectrum,
      neurons: matrices[b].rows,
      datapoints: m,
      rep: reps[b],
    }));
  }

  async compareGrid(a: GpuFactor[], b: GpuFactor[], options: AnalysisOptions, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]> {
    this.runtime.checkAlive();
    if (a.every((f) => f.kind === 'gpu-cca') && b.every((f) => f.kind === 'gpu-cca')) {
      const grid = await this.compareCca(a as GpuCcaFactor[], b as GpuCcaFactor[], signal);
      onPairs?.(a.length * b.length);
      return grid;
    }
    if (a.every((f) => f.kind === 'gpu-cka') && b.every((f) => f.kind === 'gpu-cka')) {
      const grid = await this.compareCka(a as GpuCkaFactor[], b as GpuCkaFactor[], options);
      onPairs?.(a.length * b.length);
      return grid;
    }
    // Mixed or CPU factors: the float64 path, pair by pair.
    const cpuFactor = (f: GpuFactor): Factor => (f.kind === 'cpu' ? f.factor : factorize(f.rep, options, false));
    const fa = a.map(cpuFactor);
    const fb = b.map(cpuFactor);
    const grid: PairNumbers[][] = [];
    for (const x of fa) {
      checkAborted(signal);
      grid.push(fb.map((y) => compareFactors(x, y, options)));
      onPairs?.(fb.length);
    }
    return grid;
  }

  /** Copies the factors' rows into one stacked buffer (unless they already are one, in order). */
  private stack<F extends { rowOffset: number; rows: number; datapoints: number }>(factors: F[], bufferOf: (f: F) => GPUBuffer, label: string): { buffer: GPUBuffer; offsets: number[]; owned: boolean } {
    const m = factors[0].datapoints;
    const first = bufferOf(factors[0]);
    let contiguous = factors.every((f) => bufferOf(f) === first);
    let row = factors[0].rowOffset;
    for (const f of factors) {
      if (f.rowOffset !== row) contiguous = false;
      row += f.rows;
    }
    if (contiguous) return { buffer: first, offsets: factors.map((f) => f.rowOffset - factors[0].rowOffset), owned: false };
    const total = factors.reduce((s, f) => s + f.rows, 0);
    const buffer = this.runtime.zeros(Math.max(1, total) * m * 4, label);
    const encoder = this.runtime.device.createCommandEncoder({ label: `${label}.encoder` });
    const offsets: number[] = [];
    let at = 0;
    for (const f of factors) {
      offsets.push(at);
      if (f.rows > 0) encoder.copyBufferToBuffer(bufferOf(f), f.rowOffset * m * 4, buffer, at * m * 4, f.rows * m * 4);
      at += f.rows;
    }
    this.runtime.device.queue.submit([encoder.finish()]);
    return { buffer, offsets, owned: true };
  }

  private async compareCca(a: GpuCcaFactor[], b: GpuCcaFactor[], signal?: AbortSignal): Promise<PairNumbers[][]> {
    const rt = this.runtime;
    const m = a[0].datapoints;
    const sa = this.stack(a, (f) => f.z.buffer, 'pairs.stack-a');
    const sb = this.stack(b, (f) => f.z.buffer, 'pairs.stack-b');
    const rowsA = a.reduce((s, f) => s + f.rows, 0);
    const rowsB = b.reduce((s, f) => s + f.rows, 0);
    const firstA = sa.owned ? 0 : a[0].rowOffset;
    const firstB = sb.owned ? 0 : b[0].rowOffset;
    const t = rt.zeros(Math.max(1, rowsA * rowsB) * 4, 'pairs.cross');
    try {
      if (rowsA > 0 && rowsB > 0) {
        runProducts(rt, sa.buffer, sb.buffer, t, [{ aOffset: firstA * m, bOffset: firstB * m, cOffset: 0, p: rowsA, q: rowsB, k: m, lda: m, ldb: m, ldc: rowsB }], 'pairs.cross');
      }
      checkAborted(signal);
      // Gram of every pair block, of its smaller side: G = T Tᵀ (ka ≤ kb) or Tᵀ T.
      const pairs = a.flatMap((fa, i) => b.map((fb, j) => ({ i, j, small: Math.min(fa.rows, fb.rows), leftSmaller: fa.rows <= fb.rows })));
      const padded = even(Math.max(2, ...pairs.map((p) => p.small)));
      const grams = rt.zeros(pairs.length * padded * padded * 4, 'pairs.gram');
      const batches: ProductBatch[] = pairs
        .filter((p) => p.small > 0)
        .map((p) => {
          const offset = sa.offsets[p.i] * rowsB + sb.offsets[p.j]; // block (i, j) of T, row stride rowsB
          const index = pairs.indexOf(p);
          return p.leftSmaller
            ? { aOffset: offset, bOffset: offset, cOffset: index * padded * padded, p: a[p.i].rows, q: a[p.i].rows, k: b[p.j].rows, lda: rowsB, ldb: rowsB, ldc: padded }
            : { aOffset: offset, bOffset: offset, cOffset: index * padded * padded, p: b[p.j].rows, q: b[p.j].rows, k: a[p.i].rows, lda: rowsB, ldb: rowsB, ldc: padded, transA: true, transB: true };
        });
      if (batches.length > 0) runProducts(rt, t, t, grams, batches, 'pairs.gram');
      const eig = await jacobiEigenBatch(rt, grams, padded, pairs.length, { vectors: false, signal });
      const grid: PairNumbers[][] = a.map(() => []);
      pairs.forEach((p, index) => {
        const fa = a[p.i];
        const fb = b[p.j];
        const count = Math.min(fa.keptDims, fb.keptDims);
        const rho = new Array<number>(count).fill(0);
        const values = Array.from(eig.values.subarray(index * padded, (index + 1) * padded))
          .sort((x, y) => y - x)
          .slice(0, p.small)
          .map((g) => Math.sqrt(Math.max(g, 0)));
        for (let r = 0; r < Math.min(count, values.length); r++) rho[r] = values[r];
        const s = summarize(rho);
        grid[p.i][p.j] = {
          similarity: s.mean,
          mean98: s.mean98,
          meanSquared: s.meanSquared,
          rho: s.rho,
          kept: [fa.keptDims, fb.keptDims],
          neurons: [fa.neurons, fb.neurons],
          dropped: [fa.dropped, fb.dropped],
          clipped: [fa.clipped, fb.clipped],
          spectra: fa.spectrum && fb.spectrum ? [fa.spectrum, fb.spectrum] : null,
          frequencies: null,
        };
      });
      return grid;
    } finally {
      if (!rt.lost) {
        rt.release(t);
        if (sa.owned) rt.release(sa.buffer);
        if (sb.owned) rt.release(sb.buffer);
      }
    }
  }

  private async compareCka(a: GpuCkaFactor[], b: GpuCkaFactor[], options: AnalysisOptions): Promise<PairNumbers[][]> {
    const rt = this.runtime;
    const m = a[0].datapoints;
    const sa = this.stack(a, (f) => f.x.buffer, 'cka.stack-a');
    const sb = this.stack(b, (f) => f.x.buffer, 'cka.stack-b');
    const rowsA = a.reduce((s, f) => s + f.rows, 0);
    const rowsB = b.reduce((s, f) => s + f.rows, 0);
    const cross = rt.zeros(rowsA * rowsB * 4, 'cka.cross');
    try {
      runProducts(
        rt,
        sa.buffer,
        sb.buffer,
        cross,
        [{ aOffset: (sa.owned ? 0 : a[0].rowOffset) * m, bOffset: (sb.owned ? 0 : b[0].rowOffset) * m, cOffset: 0, p: rowsA, q: rowsB, k: m, lda: m, ldb: m, ldc: rowsB }],
        'cka.cross',
      );
      const values = await rt.read(cross, rowsA * rowsB * 4, 'cka.cross');
      const debiased = options.metric === 'cka-debiased';
      return a.map((fa, i) =>
        b.map((fb, j) => {
          let crossDot = 0;
          for (let r = 0; r < fa.rows; r++) {
            for (let c = 0; c < fb.rows; c++) crossDot += values[(sa.offsets[i] + r) * rowsB + sb.offsets[j] + c] ** 2;
          }
          return {
            similarity: ckaValue(crossDot, fa, fb, debiased),
            mean98: null,
            meanSquared: null,
            rho: [],
            kept: [fa.neurons, fb.neurons],
            neurons: [fa.neurons, fb.neurons],
            dropped: [0, 0],
            clipped: [0, 0],
            spectra: null,
            frequencies: null,
          };
        }),
      );
    } finally {
      if (!rt.lost) {
        rt.release(cross);
        if (sa.owned) rt.release(sa.buffer);
        if (sb.owned) rt.release(sb.buffer);
      }
    }
  }
}

/** CKA from the f32 cross-product mass and float64 per-side statistics (see src/math/cka.ts). */
function ckaValue(crossDot: number, fa: GpuCkaFactor, fb: GpuCkaFactor, debiased: boolean): number {
  if (!debiased) {
    const denominator = Math.sqrt(fa.selfDot) * Math.sqrt(fb.selfDot);
    return denominator > 0 ? crossDot / denominator : 0;
  }
  const m = fa.datapoints;
  const debias = (dot: number, dx: Float64Array, dy: Float64Array, nx: number, ny: number) => {
    let c = 0;
    for (let j = 0; j < m; j++) c += dx[j] * dy[j];
    return dot - (m / (m - 2)) * c + (nx * ny) / ((m - 1) * (m - 2));
  };
  const xy = debias(crossDot, fa.rowNorms, fb.rowNorms, fa.squaredNorm, fb.squaredNorm);
  const xx = debias(fa.selfDot, fa.rowNorms, fa.rowNorms, fa.squaredNorm, fa.squaredNorm);
  const yy = debias(fb.selfDot, fb.rowNorms, fb.rowNorms, fb.squaredNorm, fb.squaredNorm);
  const denominator = Math.sqrt(Math.max(xx, 0) * Math.max(yy, 0));
  return denominator > 0 ? xy / denominator : 0;
}

/**
 * How the engine gets a WebGPU backend from a `GPU` object (navigator.gpu in the browser worker,
 * the `webgpu` package in Node). `onLost` hears about an unexpected device loss (not a destroy).
 */
export function webgpuBackendFactory(getGpu: () => Promise<GPU | undefined | null>, onLost?: (message: string) => void): GpuBackendFactory {
  return async () => {
    const outcome = await acquireDevice(await getGpu());
    if (outcome.kind !== 'ok') return { error: outcome.message };
    const runtime = new GpuRuntime(outcome.device, (message) => {
      forgetGpuBackend(); // the next job asks for a fresh adapter
      onLost?.(message);
    });
    return { backend: new GpuBackend(runtime), fallback: outcome.fallback, adapter: outcome.adapterName };
  };
}
