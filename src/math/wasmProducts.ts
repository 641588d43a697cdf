// The WebAssembly SIMD kernels (src/wasm/products.wat) behind multiplyABt, multiply,
// tridiagonalEigen and symmetricTopEigen's back-transformation: loading, the choice of variant, and the copies in and out of the module's
// linear memory. One module per thread (worker or process); calls are synchronous and never
// interleave, so every kernel may use the memory from address 0.
//
// Variants, best first: f64x2 SIMD with relaxed-SIMD FMA (Chromium ≥ 114, Node ≥ 22), f64x2 SIMD
// with separate multiply and add (Node 20, Firefox, Safari), and none (no WebAssembly SIMD, or
// WebAssembly disabled): then src/math/matrix.ts keeps its plain-JS kernel. The binaries are inlined
// as base64 (wasmProducts.generated.ts), so loading needs no fetch and no file path: the same code
// runs in the browser worker, in Node, in vitest and in the CLI bundle. The module is compiled
// synchronously on first use (it is ~3.3 KB, under the main thread's 4 KB limit for sync compiles).
//
// Shapes: A is p × k and B is q × k, row-major (neurons × datapoints: the shared dimension k is the
// datapoints, contiguous in each row); C = A·Bᵀ is p × q.

import { PRODUCTS_RELAXED_SIMD, PRODUCTS_SIMD } from './wasmProducts.generated';

/** Which kernel computes the float64 products A·Bᵀ in this process. */
export type ProductKernel = 'wasm-relaxed-simd' | 'wasm-simd' | 'js';

interface LoadedKernels {
  kind: Exclude<ProductKernel, 'js'>;
  memory: WebAssembly.Memory;
  abt: (a: number, b: number, c: number, p: number, q: number, k: number, symmetric: number) => void;
  ab: (a: number, b: number, c: number, p: number, q: number, k: number) => void;
  tredProduct: (w: number, d: number, e: number, n: number, i: number) => void;
  tredRank2: (w: number, d: number, e: number, n: number, i: number) => void;
  tredAccumulate: (w: number, d: number, n: number, i: number) => void;
  rotateRows: (ri: number, rj: number, n: number, c: number, s: number) => void;
  reflectRows: (r: number, h: number, z: number, rows: number, n: number) => void;
}

/** Bytes of linear memory the operand chunks may take: the shared dimension is copied in slices this wide. */
const CHUNK_BYTES = 32 * 1024 * 1024;
/** The kernel's cache tile of the shared dimension (KT in the .wat): chunks are whole tiles. */
const KERNEL_TILE = 256;
/** Linear memory is 32-bit: keep well under 4 GiB. It grows to the largest product seen and stays. */
const MAX_MEMORY_BYTES = 2 ** 31;
const PAGE_BYTES = 65536;

let loaded: LoadedKernels | null | undefined;
let enabled = true;

/** Bytes kept free at the start of memory: tredAccumulate's scratch for one dot product (address 0). */
const SCRATCH_BYTES = 64;
/**
 * First float64 element the kernels below may use for their operands: just above the scratch bytes,
 * or above a resident matrix while one is held (wasmResident).
 */
let freeStart = SCRATCH_BYTES / 8;
let residentHeld = false;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function load(): LoadedKernels | null {
  if (typeof WebAssembly !== 'object') return null;
  const variants: [LoadedKernels['kind'], string][] = [
    ['wasm-relaxed-simd', PRODUCTS_RELAXED_SIMD],
    ['wasm-simd', PRODUCTS_SIMD],
  ];
  for (const [kind, base64] of variants) {
    const bytes = decodeBase64(base64);
    if (!WebAssembly.validate(bytes)) continue;
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
      const exports = instance.exports as unknown as Omit<LoadedKernels, 'kind'>;
      return { kind, ...exports };
    } catch {
      // A validating module that will not instantiate (e.g. a memory limit): try the next one.
    }
  }
  return null;
}

function kernels(): LoadedKernels | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** The product kernel in use: what provenance and the benchmark report. */
export function productKernel(): ProductKernel {
  return kernels()?.kind ?? 'js';
}

/**
 * Turns the WebAssembly kernels off (false) or back on: for the benchmark's before/after in one
 * run and for tests that compare against the plain-JS kernel. Returns the previous setting.
 */
export function setWasmProductsEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/**
 * C = A·Bᵀ into `c` (p × q, overwritten) with the WebAssembly kernel; `symmetric` (A and B the same
 * rows) computes the upper triangle and mirrors it. Returns false, leaving `c` alone, when no
 * WebAssembly kernel is available or the operands do not fit in 32-bit linear memory.
 */
export function wasmMultiplyABt(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  p: number,
  q: number,
  k: number,
  symmetric: boolean,
  chunkBytes = CHUNK_BYTES,
): boolean {
  const wasm = kernels();
  if (!wasm) return false;
  const rowsIn = symmetric ? p : p + q;
  // Chunk width of the shared dimension: whole kernel tiles, all of k when it fits.
  let width = k;
  if (rowsIn * k * 8 > chunkBytes) width = Math.max(KERNEL_TILE, Math.floor(chunkBytes / (8 * rowsIn) / KERNEL_TILE) * KERNEL_TILE);
  const aOffset = freeStart; // in float64 elements
  const bOffset = symmetric ? aOffset : aOffset + p * width;
  const cOffset = aOffset + rowsIn * width;
  const heap = heapOf(wasm, cOffset + p * q);
  if (!heap) return false;
  heap.fill(0, cOffset, cOffset + p * q);
  for (let t0 = 0; t0 < k; t0 += width) {
    const len = Math.min(width, k - t0);
    if (len === k) {
      heap.set(a.subarray(0, p * k), aOffset);
      if (!symmetric) heap.set(b.subarray(0, q * k), bOffset);
    } else {
      for (let i = 0; i < p; i++) heap.set(a.subarray(i * k + t0, i * k + t0 + len), aOffset + i * len);
      if (!symmetric) for (let j = 0; j < q; j++) heap.set(b.subarray(j * k + t0, j * k + t0 + len), bOffset + j * len);
    }
    wasm.abt(aOffset * 8, bOffset * 8, cOffset * 8, p, q, len, symmetric ? 1 : 0);
  }
  c.set(heap.subarray(cOffset, cOffset + p * q));
  if (symmetric) mirrorUpper(c, p);
  return true;
}

/** Copies the upper triangle of the p × p matrix c onto its lower triangle. */
function mirrorUpper(c: Float64Array, p: number): void {
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) c[i * p + j] = c[j * p + i];
}

/**
 * C = A·B into `c` (p × q, overwritten) for A p × k and B k × q, row-major: the products whose right
 * operand is a representation (W·Xc, U_kᵀ·Xc: B's rows are the contiguous datapoints). Returns false,
 * leaving `c` alone, when no WebAssembly kernel is available or the operands do not fit.
 */
export function wasmMultiplyAB(a: Float64Array, b: Float64Array, c: Float64Array, p: number, q: number, k: number): boolean {
  const wasm = kernels();
  if (!wasm) return false;
  const aOffset = freeStart; // in float64 elements
  const bOffset = aOffset + p * k;
  const cOffset = bOffset + k * q;
  const heap = heapOf(wasm, cOffset + p * q);
  if (!heap) return false;
  heap.set(a.subarray(0, p * k), aOffset);
  heap.set(b.subarray(0, k * q), bOffset);
  heap.fill(0, cOffset, cOffset + p * q);
  wasm.ab(aOffset * 8, bOffset * 8, cOffset * 8, p, q, k);
  c.set(heap.subarray(cOffset, cOffset + p * q));
  return true;
}

/** The module's memory as float64, grown to hold `elements` (null when that exceeds MAX_MEMORY_BYTES). */
function heapOf(wasm: LoadedKernels, elements: number): Float64Array | null {
  const bytes = elements * 8;
  if (bytes > MAX_MEMORY_BYTES) return null;
  const have = wasm.memory.buffer.byteLength;
  if (bytes > have) wasm.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
  return new Float64Array(wasm.memory.buffer);
}

/**
 * The inner loops of tridiagonalEigen (src/math/eigen.ts) on W = Vᵀ (n × n), d and e, all held in
 * the module's memory (the views below: valid until the next call into this module that is not one
 * of these). Step i of tred2: `product` (the symmetric product into e), `rank2` (W −= d eᵀ + e dᵀ on
 * the leading block), `accumulate` (the back-transformation); QL: `rotate` two adjacent rows.
 */
export interface TridiagonalKernels {
  w: Float64Array;
  d: Float64Array;
  e: Float64Array;
  product(i: number): void;
  rank2(i: number): void;
  accumulate(i: number): void;
  rotate(i: number, c: number, s: number): void;
}

/** W, d and e for an n × n tridiagonalisation in the module's memory; null without WebAssembly SIMD. */
export function wasmTridiagonalKernels(n: number): TridiagonalKernels | null {
  const wasm = kernels();
  if (!wasm) return null;
  const wAt = freeStart; // in float64 elements
  const dAt = wAt + n * n;
  const eAt = dAt + n;
  const heap = heapOf(wasm, eAt + n);
  if (!heap) return null;
  const [wBytes, dBytes, eBytes, rowBytes] = [wAt * 8, dAt * 8, eAt * 8, n * 8];
  return {
    w: heap.subarray(wAt, wAt + n * n),
    d: heap.subarray(dAt, dAt + n),
    e: heap.subarray(eAt, eAt + n),
    product: (i) => wasm.tredProduct(wBytes, dBytes, eBytes, n, i),
    rank2: (i) => wasm.tredRank2(wBytes, dBytes, eBytes, n, i),
    accumulate: (i) => wasm.tredAccumulate(wBytes, dBytes, n, i),
    rotate: (i, c, s) => wasm.rotateRows(wBytes + i * rowBytes, wBytes + (i + 1) * rowBytes, n, c, s),
  };
}

/**
 * The back-transformation of src/math/eigenTop.ts in WebAssembly: z (rows × n, row-major, rows =
 * vectors) ← rows of P_{n−1}(⋯(P_1 z)), P_i = I − u_i u_iᵀ / h_i on coordinates 0..i−1, u_i = the
 * first i entries of row i of `reflectors` (n × n). Returns false, leaving z alone, without
 * WebAssembly SIMD or when the operands do not fit.
 */
export function wasmReflectRows(reflectors: Float64Array, h: Float64Array, z: Float64Array, rows: number, n: number): boolean {
  const wasm = kernels();
  if (!wasm) return false;
  const rAt = freeStart; // in float64 elements
  const hAt = rAt + n * n;
  const zAt = hAt + n;
  const heap = heapOf(wasm, zAt + rows * n);
  if (!heap) return false;
  heap.set(reflectors.subarray(0, n * n), rAt);
  heap.set(h.subarray(0, n), hAt);
  heap.set(z.subarray(0, rows * n), zAt);
  wasm.reflectRows(rAt * 8, hAt * 8, zAt * 8, rows, n);
  z.set(heap.subarray(zAt, zAt + rows * n));
  return true;
}

/**
 * A rows × cols matrix (row-major; for SVCCA the centred representation, n neurons × m datapoints)
 * written once into the module's linear memory and used by several kernels in place, instead of
 * being copied in for each product: the Gram R·Rᵀ, then the projection A·R. While it is held, every
 * other kernel of this module places its operands above it, so the eigensolver's kernels may run
 * between the two products. One at a time per thread; `release` frees the place (the memory stays
 * grown, as after any product).
 */
export interface WasmResidentMatrix {
  rows: number;
  cols: number;
  /** The matrix in linear memory: fill it through this view. A view is invalid after any call that grows memory: ask again. */
  data(): Float64Array;
  /** R·Rᵀ (rows × rows, symmetric, a new array): the same kernel and order of summation as wasmMultiplyABt(R, R, …, true). Null if it does not fit. */
  gram(): Float64Array | null;
  /** A·R for A p × rows (a new p × cols array): the same kernel as wasmMultiplyAB(A, R, …). Null if it does not fit. */
  leftMultiply(a: Float64Array, p: number): Float64Array | null;
  release(): void;
}

/**
 * Reserves a resident rows × cols matrix in the module's memory; null without WebAssembly SIMD,
 * when one is already held, or when it does not fit in linear memory.
 */
export function wasmResident(rows: number, cols: number): WasmResidentMatrix | null {
  const wasm = kernels();
  if (!wasm || residentHeld) return null;
  const at = freeStart; // in float64 elements; 64-byte aligned
  const size = rows * cols;
  // Room for the matrix and its Gram up front: the Gram is written right above it.
  if (!heapOf(wasm, at + size + rows * rows)) return null;
  residentHeld = true;
  freeStart = at + size + (size % 8 === 0 ? 0 : 8 - (size % 8)); // keep the kernels' operands 64-byte aligned
  let held = true;
  const live = (): LoadedKernels => {
    if (!held) throw new Error('wasmResident: the matrix was released');
    return wasm;
  };
  return {
    rows,
    cols,
    data: () => new Float64Array(live().memory.buffer, at * 8, size),
    gram() {
      const w = live();
      const cOffset = freeStart;
      const heap = heapOf(w, cOffset + rows * rows);
      if (!heap) return null;
      heap.fill(0, cOffset, cOffset + rows * rows);
      w.abt(at * 8, at * 8, cOffset * 8, rows, rows, cols, 1);
      const c = heap.slice(cOffset, cOffset + rows * rows);
      mirrorUpper(c, rows);
      return c;
    },
    leftMultiply(a, p) {
      const w = live();
      const aOffset = freeStart;
      const cOffset = aOffset + p * rows;
      const heap = heapOf(w, cOffset + p * cols);
      if (!heap) return null;
      heap.set(a.subarray(0, p * rows), aOffset);
      heap.fill(0, cOffset, cOffset + p * cols);
      w.ab(aOffset * 8, at * 8, cOffset * 8, p, cols, rows);
      return heap.slice(cOffset, cOffset + p * cols);
    },
    release() {
      if (!held) return;
      held = false;
      residentHeld = false;
      freeStart = at;
    },
  };
}
