// Dense float64 matrices, row-major. The convention everywhere in src/math:
// a representation X is n neurons × m datapoints, row-major, so each neuron's activations over
// the datapoints are one contiguous row (as google/svcca's cca_core takes them). Products of two
// representations therefore contract over their rows: X Yᵀ is a table of row dot products, which
// keeps both operands' inner loops contiguous.

import { wasmMultiplyAB, wasmMultiplyABt } from './wasmProducts';

export interface Matrix {
  rows: number;
  cols: number;
  /** rows·cols values, row-major: element (i, j) at i·cols + j. */
  data: Float64Array;
}

export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function transpose(a: Matrix): Matrix {
  const out = zeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  }
  return out;
}

/** Selects rows (in the given order) of a. */
export function selectRows(a: Matrix, rowIndices: readonly number[]): Matrix {
  const out = zeros(rowIndices.length, a.cols);
  rowIndices.forEach((r, i) => out.data.set(a.data.subarray(r * a.cols, (r + 1) * a.cols), i * a.cols));
  return out;
}

/**
 * Centres every row (neuron) over its columns (datapoints). Returns the centred copy and the row
 * means. `into`: the array the copy is written to (rows × cols elements; a scratch buffer), else a
 * new one.
 */
export function centerRows(x: Matrix, into?: Float64Array): { centered: Matrix; means: Float64Array } {
  const { rows, cols } = x;
  const centered = into ? { rows, cols, data: into } : zeros(rows, cols);
  const means = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const offset = i * cols;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += x.data[offset + j];
    const mean = sum / cols;
    means[i] = mean;
    for (let j = 0; j < cols; j++) centered.data[offset + j] = x.data[offset + j] - mean;
  }
  return { centered, means };
}

// Tile sizes of the row-dot-product kernels: a tile of the shared dimension keeps 4+4 rows'
// slices in L1/L2 while the 4×4 block of accumulators stays in registers.
const INNER_TILE = 512;

/** Below this many multiply-adds (p·q·k) the copies into WebAssembly memory cost more than they save. */
export const WASM_MIN_WORK = 16384;

/**
 * C = A Bᵀ: A is p × k, B is q × k (both row-major, contracting over their columns) → C is p × q.
 * With A = B (same object) only the upper triangle is computed and mirrored. Runs the WebAssembly
 * SIMD kernel (src/math/wasmProducts.ts) where the engine has one, else the plain-JS kernel below.
 */
export function multiplyABt(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.cols) throw new Error(`multiplyABt: inner sizes differ (${a.cols} vs ${b.cols})`);
  if (a.rows * b.rows * a.cols >= WASM_MIN_WORK) {
    const c = zeros(a.rows, b.rows);
    if (wasmMultiplyABt(a.data, b.data, c.data, a.rows, b.rows, a.cols, a === b)) return c;
  }
  return multiplyABtJs(a, b);
}

/** multiplyABt's plain-JS kernel: the fallback without WebAssembly SIMD, and the tests' reference. */
export function multiplyABtJs(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.cols) throw new Error(`multiplyABt: inner sizes differ (${a.cols} vs ${b.cols})`);
  const p = a.rows;
  const q = b.rows;
  const k = a.cols;
  const symmetric = a === b;
  const c = zeros(p, q);
  const A = a.data;
  const B = b.data;
  const C = c.data;
  for (let k0 = 0; k0 < k; k0 += INNER_TILE) {
    const k1 = Math.min(k, k0 + INNER_TILE);
    for (let i = 0; i < p; i += 4) {
      const iCount = Math.min(4, p - i);
      const jStart = symmetric ? i : 0;
      for (let j = jStart; j < q; j += 4) {
        const jCount = Math.min(4, q - j);
        if (iCount === 4 && jCount === 4) {
          dot4x4(A, B, C, i, j, k, q, k0, k1);
        } else {
          for (let ii = i; ii < i + iCount; ii++) {
            for (let jj = j; jj < j + jCount; jj++) {
              let s = 0;
              const ao = ii * k;
              const bo = jj * k;
              for (let t = k0; t < k1; t++) s += A[ao + t] * B[bo + t];
              C[ii * q + jj] += s;
            }
          }
        }
      }
    }
  }
  if (symmetric) {
    for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) C[i * q + j] = C[j * q + i];
  }
  return c;
}

/** 4 rows of A against 4 rows of B over t ∈ [k0, k1): 16 dot products accumulated into C. */
function dot4x4(A: Float64Array, B: Float64Array, C: Float64Array, i: number, j: number, k: number, q: number, k0: number, k1: number): void {
  const a0 = i * k,
    a1 = a0 + k,
    a2 = a1 + k,
    a3 = a2 + k;
  const b0 = j * k,
    b1 = b0 + k,
    b2 = b1 + k,
    b3 = b2 + k;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let t = k0; t < k1; t++) {
    const x0 = A[a0 + t],
      x1 = A[a1 + t],
      x2 = A[a2 + t],
      x3 = A[a3 + t];
    const y0 = B[b0 + t],
      y1 = B[b1 + t],
      y2 = B[b2 + t],
      y3 = B[b3 + t];
    c00 += x0 * y0;
    c01 += x0 * y1;
    c02 += x0 * y2;
    c03 += x0 * y3;
    c10 += x1 * y0;
    c11 += x1 * y1;
    c12 += x1 * y2;
    c13 += x1 * y3;
    c20 += x2 * y0;
    c21 += x2 * y1;
    c22 += x2 * y2;
    c23 += x2 * y3;
    c30 += x3 * y0;
    c31 += x3 * y1;
    c32 += x3 * y2;
    c33 += x3 * y3;
  }
  const r0 = i * q + j,
    r1 = r0 + q,
    r2 = r1 + q,
    r3 = r2 + q;
  C[r0] += c00;
  C[r0 + 1] += c01;
  C[r0 + 2] += c02;
  C[r0 + 3] += c03;
  C[r1] += c10;
  C[r1 + 1] += c11;
  C[r1 + 2] += c12;
  C[r1 + 3] += c13;
  C[r2] += c20;
  C[r2 + 1] += c21;
  C[r2 + 2] += c22;
  C[r2 + 3] += c23;
  C[r3] += c30;
  C[r3 + 1] += c31;
  C[r3 + 2] += c32;
  C[r3 + 3] += c33;
}

/**
 * C = A B for A p × k and B k × q (row-major): W·Xc and U_kᵀ·Xc (B a representation) and small
 * factor products. The WebAssembly SIMD kernel where the engine has one, else multiplyJs. `into`:
 * where the result goes (see productTarget), else a new matrix.
 */
export function multiply(a: Matrix, b: Matrix, into?: Float64Array): Matrix {
  if (a.cols !== b.rows) throw new Error(`multiply: inner sizes differ (${a.cols} vs ${b.rows})`);
  if (a.rows * b.cols * a.cols >= WASM_MIN_WORK) {
    const c = productTarget(a.rows, b.cols, into);
    if (wasmMultiplyAB(a.data, b.data, c.data, a.rows, b.cols, a.cols)) return c;
  }
  return multiplyJs(a, b, into);
}

/**
 * The p × q result of a product: over the first p·q elements of `into` (every one of them
 * overwritten; the caller's buffer, reused across many products, such as dft2's per chunk), else new.
 */
function productTarget(p: number, q: number, into?: Float64Array): Matrix {
  if (!into) return zeros(p, q);
  if (into.length < p * q) throw new Error(`a product of ${p} × ${q} into ${into.length} elements`);
  return { rows: p, cols: q, data: into.subarray(0, p * q) };
}

/** multiply's plain-JS kernel: the fallback without WebAssembly SIMD, and the tests' reference. */
export function multiplyJs(a: Matrix, b: Matrix, into?: Float64Array): Matrix {
  if (a.cols !== b.rows) throw new Error(`multiply: inner sizes differ (${a.cols} vs ${b.rows})`);
  const { rows: p, cols: k } = a;
  const q = b.cols;
  const c = productTarget(p, q, into);
  if (into) c.data.fill(0);
  for (let i = 0; i < p; i++) {
    const ci = i * q;
    for (let t = 0; t < k; t++) {
      const v = a.data[i * k + t];
      if (v === 0) continue;
      const bt = t * q;
      for (let j = 0; j < q; j++) c.data[ci + j] += v * b.data[bt + j];
    }
  }
  return c;
}

/** Columns of `x` re-indexed (a permutation of the datapoints, rows × m): out[:, j] = x[:, perm[j]]. */
export function permuteColumns(x: Matrix, perm: Int32Array): Matrix {
  const { rows, cols } = x;
  if (perm.length !== cols) throw new Error(`a permutation of ${perm.length} datapoints applied to ${cols}`);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const from = i * cols;
    for (let j = 0; j < cols; j++) data[from + j] = x.data[from + perm[j]];
  }
  return { rows, cols, data };
}

/** Rows orthonormalised together against the rows before them (orthonormalizeRows). */
const GRAM_SCHMIDT_BLOCK = 32;

/**
 * Rows orthonormalised in order: the Q of a QR of the transpose (rows that vanish stay zero). Block
 * Gram–Schmidt with reorthogonalisation (BCGS2): each block of GRAM_SCHMIDT_BLOCK rows is projected
 * off the rows already done with two products (the WebAssembly kernels: the r²·m of the work),
 * then orthonormalised within itself by modified Gram–Schmidt; both steps twice, so rounding left
 * by the first pass is removed by the second, as in modified Gram–Schmidt run twice row by row.
 */
export function orthonormalizeRows(a: Matrix): Matrix {
  const { rows, cols } = a;
  const q = { rows, cols, data: Float64Array.from(a.data) };
  for (let start = 0; start < rows; start += GRAM_SCHMIDT_BLOCK) {
    const end = Math.min(rows, start + GRAM_SCHMIDT_BLOCK);
    const block: Matrix = { rows: end - start, cols, data: q.data.subarray(start * cols, end * cols) };
    const done: Matrix = { rows: start, cols, data: q.data.subarray(0, start * cols) };
    for (let pass = 0; pass < 2; pass++) {
      if (start > 0) {
        const projection = multiply(multiplyABt(block, done), done); // (block·doneᵀ)·done, block.rows × cols
        for (let t = 0; t < block.data.length; t++) block.data[t] -= projection.data[t];
      }
      for (let i = 0; i < block.rows; i++) {
        const qi = block.data.subarray(i * cols, (i + 1) * cols);
        for (let j = 0; j < i; j++) {
          const qj = block.data.subarray(j * cols, (j + 1) * cols);
          let dot = 0;
          for (let t = 0; t < cols; t++) dot += qi[t] * qj[t];
          for (let t = 0; t < cols; t++) qi[t] -= dot * qj[t];
        }
        let norm = 0;
        for (let t = 0; t < cols; t++) norm += qi[t] * qi[t];
        norm = Math.sqrt(norm);
        if (norm > 0) for (let t = 0; t < cols; t++) qi[t] /= norm;
      }
    }
  }
  return q;
}
