// What every grid of pairs on the GPU starts with: the rows of one side's factors against the
// other's in one product T = [A_1; A_2; …] [B_1; B_2; …]ᵀ over the datapoints, and the canonical
// correlations read off the eigenvalues of a pair block's Gram.
//
// Shapes: each factor is `rows` × m datapoints at `rowOffset` of its buffer (row-major, f32).

import type { ProductBatch } from '../../gpu/kernels/product';
import { runProducts } from '../../gpu/ops';
import type { GpuJob } from './types';

interface StackedRows {
  rowOffset: number;
  rows: number;
  datapoints: number;
}

/** Copies the factors' rows into one stacked buffer (unless they already are one, in order). */
export function stack<F extends StackedRows>(
  job: GpuJob,
  factors: F[],
  bufferOf: (f: F) => GPUBuffer,
  label: string,
): { buffer: GPUBuffer; offsets: number[]; owned: boolean } {
  const { rt, own } = job;
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
  const buffer = own.zeros(Math.max(1, total) * m * 4, label);
  const offsets: number[] = [];
  let at = 0;
  for (const f of factors) {
    offsets.push(at);
    // Recorded with the product that reads them: no submission of their own.
    if (f.rows > 0) rt.copy(bufferOf(f), f.rowOffset * m * 4, buffer, at * m * 4, f.rows * m * 4);
    at += f.rows;
  }
  return { buffer, offsets, owned: true };
}

/**
 * One product of two stacks of rows over the datapoints: T (rowsA × rowsB) with
 * T[offsetsA[i] + r][offsetsB[j] + c] = ⟨row r of a[i], row c of b[j]⟩. `release` frees T and any
 * copies (the job's ledger frees them anyway if the job fails first).
 */
export function stackedCross<F extends StackedRows>(job: GpuJob, a: F[], b: F[], bufferOf: (f: F) => GPUBuffer, label: string) {
  const { rt, own } = job;
  const m = a[0].datapoints;
  const sa = stack(job, a, bufferOf, `${label}.stack-a`);
  const sb = stack(job, b, bufferOf, `${label}.stack-b`);
  const rowsA = a.reduce((s, f) => s + f.rows, 0);
  const rowsB = b.reduce((s, f) => s + f.rows, 0);
  const t = own.zeros(Math.max(1, rowsA * rowsB) * 4, `${label}.cross`);
  if (rowsA > 0 && rowsB > 0) {
    const first = (stacked: typeof sa, factors: F[]) => (stacked.owned ? 0 : factors[0].rowOffset) * m;
    runProducts(
      rt,
      sa.buffer,
      sb.buffer,
      t,
      [{ aOffset: first(sa, a), bOffset: first(sb, b), cOffset: 0, p: rowsA, q: rowsB, k: m, lda: m, ldb: m, ldc: rowsB }],
      `${label}.cross`,
    );
  }
  const release = () => {
    own.release(t);
    if (sa.owned) own.release(sa.buffer);
    if (sb.owned) own.release(sb.buffer);
  };
  return { t, rowsA, rowsB, offsetsA: sa.offsets, offsetsB: sb.offsets, release };
}

/**
 * Canonical correlations of one pair block from the eigenvalues of its Gram (T Tᵀ of the smaller
 * side, at `index` of a Jacobi batch of padded × padded matrices): the `size` largest, as
 * correlations √λ clamped to [0, 1] (f32 round-off can push one past 1), placed in `count` slots.
 */
export function correlationsOf(eigenvalues: Float32Array, index: number, padded: number, size: number, count: number): number[] {
  const values = Array.from(eigenvalues.subarray(index * padded, (index + 1) * padded))
    .sort((x, y) => y - x)
    .slice(0, size)
    .map((g) => Math.min(1, Math.sqrt(Math.max(g, 0))));
  const rho = new Array<number>(count).fill(0);
  for (let r = 0; r < Math.min(count, values.length); r++) rho[r] = values[r];
  return rho;
}

/**
 * The Gram of one pair block of T (rowsA × rowsB at word `offset`, row stride `ld`) over its smaller
 * side, T Tᵀ (rowsA ≤ rowsB) or Tᵀ T, written at `cOffset` with leading dimension `padded`.
 */
export function blockGramBatch(offset: number, rowsA: number, rowsB: number, ld: number, cOffset: number, padded: number): ProductBatch {
  return rowsA <= rowsB
    ? { aOffset: offset, bOffset: offset, cOffset, p: rowsA, q: rowsA, k: rowsB, lda: ld, ldb: ld, ldc: padded }
    : { aOffset: offset, bOffset: offset, cOffset, p: rowsB, q: rowsB, k: rowsA, lda: ld, ldb: ld, ldc: padded, transA: true, transB: true };
}
