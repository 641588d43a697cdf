// One grid side (one checkpoint's layers) factored on the GPU, the twin of src/analysis/metrics.ts
// `factorize` for a batch: centre every layer on the host in float64 while converting to f32
// (src/math/stack.ts), upload the stacked rows, form every layer's Gram G_i = Xc_i Xc_iᵀ in one
// batched product (f32: each entry's round-off is relative to ‖x_a‖‖x_b‖, so neuron scales cost
// nothing here), then hand the side to its metric's factors (cca.ts, cka.ts; dft.ts through the DFT).
// Layers wider than their datapoints, mixed datapoint counts and CKA/PWCCA beyond one binding run on
// the float64 path: each such factor carries the reason, which the engine turns into a warning.
//
// Shapes: every representation is n neurons × m datapoints, row-major.

import { runProducts } from '../../gpu/ops';
import type { GpuRuntime } from '../../gpu/runtime';
import { reduceToMatrix, type Representation } from '../../math/reduce';
import { centreAndStack } from '../../math/stack';
import { factorize } from '../metrics';
import { ccaFactors } from './cca';
import { ckaFactors } from './cka';
import { dftFactors } from './dft';
import { even, unreachableMetric, type CentredSide, type DataChunk, type GpuFactor, type GpuJob } from './types';

/** Every representation on the float64 path, for `reason`. */
function onCpu(job: GpuJob, reps: Representation[], dft: boolean, reason: string): GpuFactor[] {
  return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, job.options, dft), rep, reason }));
}

/** Uploads `rows` × `m` data as column chunks of at most `perChunk` columns (one chunk: no copy). */
function uploadChunks(job: GpuJob, data: Float32Array, rows: number, m: number, perChunk: number): DataChunk[] {
  if (perChunk >= m) return [{ buffer: job.own.upload(data, 'factor.centred'), column0: 0, columns: m }];
  const chunks: DataChunk[] = [];
  for (let column0 = 0; column0 < m; column0 += perChunk) {
    const columns = Math.min(perChunk, m - column0);
    const part = new Float32Array(rows * columns);
    for (let r = 0; r < rows; r++) part.set(data.subarray(r * m + column0, r * m + column0 + columns), r * columns);
    chunks.push({ buffer: job.own.upload(part, `factor.centred-chunk-${chunks.length}`), column0, columns });
  }
  return chunks;
}

/**
 * The factors of one grid side. `dft`: the pairs go through the per-frequency DFT path.
 * `chunkLimit`: the largest buffer of stacked datapoints uploaded at once; beyond it the datapoints
 * stream in column chunks (Gram matrices accumulate over chunks, Z's columns are written chunk by
 * chunk), so m is bounded by GPU memory rather than by the binding limit.
 */
export async function factorizeSide(job: GpuJob, reps: Representation[], dft: boolean, chunkLimit: number): Promise<GpuFactor[]> {
  const { options } = job;
  job.rt.checkAlive();
  if (dft) {
    switch (options.metric) {
      case 'svcca':
      case 'cca':
        return dftFactors(job, reps);
      case 'pwcca':
      case 'cka':
      case 'cka-debiased':
        return onCpu(job, reps, true, 'the DFT path with this metric');
      default:
        return unreachableMetric(options.metric);
    }
  }
  if (reps.length === 0) return [];
  const reduction = options.convReduction === 'dft' ? 'flatten' : options.convReduction;
  const matrices = reps.map((rep) => reduceToMatrix(rep, reduction));
  const m = matrices[0].cols;
  if (matrices.some((x) => x.cols !== m) || matrices.some((x) => x.rows > m) || m < 2) {
    // Wide layers (n > m) and mixed datapoint counts: degenerate or refused later; float64 handles them.
    return onCpu(job, reps, false, 'layers with more neurons than datapoints run in float64');
  }
  const stack = centreAndStack(matrices);
  const totalRows = stack.data.length / m;
  const columnsPerChunk = Math.max(1, Math.floor(chunkLimit / (totalRows * 4))); // rows × 4 bytes per datapoint column
  // CKA's cross products and PWCCA's directions need whole rows; past the binding limit the float64 path takes them.
  const wholeRows = (): boolean => {
    switch (options.metric) {
      case 'cka':
      case 'cka-debiased':
      case 'pwcca':
        return true;
      case 'svcca':
      case 'cca':
        return false;
      default:
        return unreachableMetric(options.metric);
    }
  };
  if (wholeRows() && columnsPerChunk < m) return onCpu(job, reps, false, 'datapoints beyond one GPU binding');
  const chunks = uploadChunks(job, stack.data, totalRows, m, columnsPerChunk);
  const padded = even(Math.max(...matrices.map((mat) => mat.rows)));
  const gram = job.own.zeros(matrices.length * padded * padded * 4, 'factor.gram'); // matrices × padded² f32
  chunks.forEach((chunk, index) =>
    runProducts(
      job.rt,
      chunk.buffer,
      chunk.buffer,
      gram,
      matrices.map((mat, i) => ({
        aOffset: stack.rowOffsets[i] * chunk.columns,
        bOffset: stack.rowOffsets[i] * chunk.columns,
        cOffset: i * padded * padded,
        p: mat.rows,
        q: mat.rows,
        k: chunk.columns,
        lda: chunk.columns,
        ldb: chunk.columns,
        ldc: padded,
        accumulate: index > 0, // Σ over datapoint chunks
      })),
      'factor.gram',
    ),
  );
  const side: CentredSide = { reps, matrices, stack, chunks, gram, m, padded };
  switch (options.metric) {
    case 'cka':
    case 'cka-debiased':
      return ckaFactors(job, side);
    case 'pwcca':
      return ccaFactors(job, side, true);
    case 'svcca':
    case 'cca':
      return ccaFactors(job, side, false);
    default:
      return unreachableMetric(options.metric);
  }
}

/** Frees what factors hold on the GPU: shared buffers when their last factor goes, a DFT factor's spectrum and blocks. */
export function releaseFactors(rt: GpuRuntime, factors: GpuFactor[]): void {
  const drop = (shared: { buffer: GPUBuffer; references: number }) => {
    shared.references--;
    if (shared.references === 0) rt.release(shared.buffer);
  };
  for (const f of factors) {
    switch (f.kind) {
      case 'gpu-dft':
        for (const buffer of [f.spectrum, ...[...f.blockSets.values()].map((set) => set.z)]) rt.release(buffer);
        f.blockSets.clear();
        break;
      case 'gpu-cca':
        if (f.pwcca) drop(f.pwcca.x);
        drop(f.z);
        break;
      case 'gpu-cka':
        drop(f.x);
        break;
      case 'cpu':
        break;
    }
  }
}
