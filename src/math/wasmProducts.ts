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
  centreBlock: (src: number, means: number, dst: number, n: number, len: number, neuronsFirst: number, wide: number) => void;
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

/** Bytes of the module's linear memory in this thread (0 before its first use): it grows to the largest operands seen and stays. */
export function wasmMemoryBytes(): number {
  return loaded ? loaded.memory.buffer.byteLength : 0;
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

/**
 * A dense layer as stored (float32 or float64; neurons-first (n, m) or datapoints-first (m, n)) with
 * its row means (the n neurons' means over the m datapoints, as centerRows computes them): what the
 * streamed products below read, a block of datapoints at a time.
 */
export interface StreamedLayer {
  data: Float32Array | Float64Array;
  neurons: number;
  datapoints: number;
  neuronsFirst: boolean;
  means: Float64Array;
}

/**
 * Datapoints per block of the streamed products: one tile of the Gram kernel (so the Gram's tiles,
 * and with them its order of summation, are those of one call over all the datapoints) and whole
 * 64-column tiles of the A·B kernel.
 */
const STREAM_BLOCK = KERNEL_TILE;

/**
 * Streams the centred layer (n neurons × m datapoints) through the module in blocks of STREAM_BLOCK
 * datapoints: each block of the stored array is copied in, centred and widened into an n × block
 * float64 block by `centreBlock`, and handed to `onBlock` (addresses in float64
 * elements). `extra` float64 elements are reserved above the block for the caller (from `extraAt`).
 * So the centred n × m float64 matrix never exists: the module's memory holds ~n·block·12 bytes
 * instead of n·m·8, which a fresh process would otherwise fault in page by page before any work.
 * Returns false without WebAssembly SIMD or when it does not fit.
 */
function streamBlocks(
  layer: StreamedLayer,
  extra: number,
  onBlock: (wasm: LoadedKernels, heap: Float64Array, blockAt: number, extraAt: number, t0: number, len: number) => void,
): boolean {
  const wasm = kernels();
  if (!wasm) return false;
  const { data, neurons: n, datapoints: m, neuronsFirst } = layer;
  const wide = data instanceof Float64Array;
  const meansAt = freeStart; // in float64 elements; every region starts 64-byte aligned
  const stagingAt = meansAt + roundUp8(n);
  const blockAt = stagingAt + roundUp8(STREAM_BLOCK * n); // room for a float64 block (a float32 one takes half)
  const extraAt = blockAt + roundUp8(n * STREAM_BLOCK);
  const heap = heapOf(wasm, extraAt + extra);
  if (!heap) return false;
  heap.set(layer.means.subarray(0, n), meansAt);
  const staging = wide
    ? new Float64Array(wasm.memory.buffer, stagingAt * 8, STREAM_BLOCK * n)
    : new Float32Array(wasm.memory.buffer, stagingAt * 8, STREAM_BLOCK * n);
  for (let t0 = 0; t0 < m; t0 += STREAM_BLOCK) {
    const len = Math.min(STREAM_BLOCK, m - t0);
    if (neuronsFirst) for (let i = 0; i < n; i++) staging.set(data.subarray(i * m + t0, i * m + t0 + len), i * len);
    else staging.set(data.subarray(t0 * n, (t0 + len) * n));
    wasm.centreBlock(stagingAt * 8, meansAt * 8, blockAt * 8, n, len, neuronsFirst ? 1 : 0, wide ? 1 : 0);
    onBlock(wasm, heap, blockAt, extraAt, t0, len);
  }
  return true;
}

const roundUp8 = (elements: number) => Math.ceil(elements / 8) * 8;

/**
 * Xc·Xcᵀ (n × n, symmetric, a new array) of the streamed centred layer: the Gram kernel called once
 * per block, adding into the same C, so every entry is summed over the same tiles in the same order
 * as wasmResident's gram() over the whole centred matrix: bit for bit its result. Null where
 * streamBlocks cannot run.
 */
export function wasmStreamedGram(layer: StreamedLayer): Float64Array | null {
  const n = layer.neurons;
  let gram: Float64Array | null = null;
  const ran = streamBlocks(layer, n * n, (wasm, heap, blockAt, cAt, t0, len) => {
    if (t0 === 0) heap.fill(0, cAt, cAt + n * n);
    wasm.abt(blockAt * 8, blockAt * 8, cAt * 8, n, n, len, 1);
    if (t0 + len === layer.datapoints) gram = heap.slice(cAt, cAt + n * n);
  });
  if (!ran || !gram) return null;
  mirrorUpper(gram, n);
  return gram;
}

/**
 * A·Xc (p × m, a new array) for A p × n and the streamed centred layer: the A·B kernel on each
 * block's columns. Each column of the product is summed over the neurons in the same order whatever
 * the columns around it, and the blocks are whole column tiles of the kernel: bit for bit
 * wasmResident's leftMultiply. Null where streamBlocks cannot run.
 */
export function wasmStreamedLeftMultiply(layer: StreamedLayer, a: Float64Array, p: number): Float64Array | null {
  const { neurons: n, datapoints: m } = layer;
  const out = new Float64Array(p * m);
  const aSize = roundUp8(p * n);
  const ran = streamBlocks(layer, aSize + p * STREAM_BLOCK, (wasm, heap, blockAt, aAt, t0, len) => {
    const cAt = aAt + aSize;
    if (t0 === 0) heap.set(a.subarray(0, p * n), aAt);
    heap.fill(0, cAt, cAt + p * len);
    wasm.ab(aAt * 8, blockAt * 8, cAt * 8, p, len, n);
    for (let r = 0; r < p; r++) out.set(heap.subarray(cAt + r * len, cAt + (r + 1) * len), r * m + t0);
  });
  return ran ? out : null;
}
