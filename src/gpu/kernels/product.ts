// Descriptors of the product kernels and the host-side encoding of their tables:
// - shaders/product-batched.wgsl: no workgroup memory, 4 × 4 outputs per thread (software adapters);
// - shaders/product-tiled.wgsl + product-reduce.wgsl: 128 × 128 tiles through workgroup memory,
//   8 × 8 outputs per thread, split-K for products with few tiles (hardware GPUs);
// and planProducts, the pure choice between them.
import source from '../../../shaders/product-batched.wgsl?raw';
import tiledSource from '../../../shaders/product-tiled.wgsl?raw';
import reduceSource from '../../../shaders/product-reduce.wgsl?raw';
import batchSource from '../../../shaders/common/product-batch.wgsl?raw';
import { ceilDiv, encodeStruct, MAX_WORKGROUPS_PER_DIMENSION, structLayout, type Kernel } from '../kernel';

/** Threads per tile edge: 16 (64 × 64 output tiles) or 8 (32 × 32, for small outputs). */
export type ProductEdge = 8 | 16;
const RB = 4; // each thread computes RB × RB outputs

/** shaders/common/product-batch.wgsl `Batch`, composed into product-batched.wgsl and product-tiled.wgsl: one entry of the batch table (binding 3). */
const batchLayout = structLayout('Batch', [
  ['a_offset', 'u32'],
  ['b_offset', 'u32'],
  ['c_offset', 'u32'],
  ['p', 'u32'],
  ['q', 'u32'],
  ['k', 'u32'],
  ['lda', 'u32'],
  ['ldb', 'u32'],
  ['ldc', 'u32'],
  ['flags', 'u32'],
  ['alpha', 'f32'],
  ['_pad', 'u32'],
]);

/** The products of one dispatch: its sizes are its batch table. */
export function productKernel(edge: ProductEdge = 16): Kernel<ProductBatch[]> {
  return {
    name: 'product-batched',
    source: `${source}\n${batchSource}`,
    overrides: { WG: edge },
    bindings: ['read-only-storage', 'read-only-storage', 'storage', 'read-only-storage'],
    params: batchLayout,
    workgroups: (batches) => productWorkgroups(batches, edge),
    encodeUniforms: encodeBatches,
  };
}

/** One product C = alpha·op(A)·op(B)ᵀ (+C). Offsets and leading dimensions in f32 words. */
export interface ProductBatch {
  aOffset: number;
  bOffset: number;
  cOffset: number;
  p: number;
  q: number;
  k: number;
  lda: number;
  ldb: number;
  ldc: number;
  accumulate?: boolean;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** op(A) and op(B) are the same matrix (a Gram): only tiles on and above the diagonal are
   *  computed and mirrored. runProducts sets it when it sees one. */
  symmetric?: boolean;
}

/** Bits of Batch.flags. */
export const PRODUCT_FLAGS = { accumulate: 1, transA: 2, transB: 4, symmetric: 8 } as const;

/** Encodes the batch table (u32 words, alpha as f32 bits), one `Batch` per product. */
export function encodeBatches(batches: ProductBatch[]): Uint32Array<ArrayBuffer> {
  const perBatch = batchLayout.fields.length;
  const words = new Uint32Array(batches.length * perBatch);
  batches.forEach((b, i) => {
    const flags = (Object.keys(PRODUCT_FLAGS) as (keyof typeof PRODUCT_FLAGS)[]).reduce((bits, flag) => bits | (b[flag] ? PRODUCT_FLAGS[flag] : 0), 0);
    const entry = {
      a_offset: b.aOffset,
      b_offset: b.bOffset,
      c_offset: b.cOffset,
      p: b.p,
      q: b.q,
      k: b.k,
      lda: b.lda,
      ldb: b.ldb,
      ldc: b.ldc,
      flags,
      alpha: b.alpha ?? 1,
    };
    encodeStruct(batchLayout, entry, words, i * perBatch);
  });
  return words;
}

/**
 * The tile edge that wastes the least work on this table: outputs are computed in whole tiles, so
 * a 32 × 32 Gram in a 64 × 64 tile would do 4× its arithmetic; a symmetric product computes only
 * the tiles on and above the diagonal, so smaller tiles also waste less of the diagonal. Each
 * thread computes 4 × 4 outputs either way; ties go to the larger tile.
 */
export function productEdge(batches: ProductBatch[]): ProductEdge {
  const work = (edge: ProductEdge) => {
    const tile = edge * RB;
    return batches.reduce((sum, b) => {
      const rows = ceilDiv(b.p, tile);
      const cols = ceilDiv(b.q, tile);
      const tiles = b.symmetric ? (rows * (rows + 1)) / 2 : rows * cols;
      return sum + tiles * tile * tile;
    }, 0);
  };
  return work(8) < work(16) ? 8 : 16;
}

/** Workgroups covering the largest product of the table; z = batch index. */
export function productWorkgroups(batches: ProductBatch[], edge: ProductEdge): [number, number, number] {
  const tile = edge * RB;
  const maxP = Math.max(...batches.map((b) => b.p));
  const maxQ = Math.max(...batches.map((b) => b.q));
  return [ceilDiv(maxQ, tile), ceilDiv(maxP, tile), batches.length];
}

// ---------------------------------------------------------------------------------------------
// The tiled kernel for hardware GPUs and its split-K reduction.

/** Output tile edge of product-tiled.wgsl (16 × 16 threads × 8 × 8 outputs each). */
export const TILED_TILE = 128;
/** Contracted-dimension slice product-tiled.wgsl stages per step: split-K slices start at multiples
 *  of it, so a vec4-aligned operand stays aligned in every slice. */
export const TILED_BK = 8;
const TILED_WG = 16;
const REDUCE_WG = 16;

/** The tiled products of one dispatch (the same table as product-batched; split-K slices are
 *  entries of their own, written to the scratch buffer bound as C). */
export const productTiledKernel: Kernel<ProductBatch[]> = {
  name: 'product-tiled',
  source: `${tiledSource}\n${batchSource}`,
  overrides: { WG: TILED_WG },
  bindings: ['read-only-storage', 'read-only-storage', 'storage', 'read-only-storage'],
  params: batchLayout,
  workgroups: (batches) => {
    const maxP = Math.max(...batches.map((b) => b.p));
    const maxQ = Math.max(...batches.map((b) => b.q));
    return [ceilDiv(maxQ, TILED_TILE), ceilDiv(maxP, TILED_TILE), batches.length];
  },
  encodeUniforms: encodeBatches,
};

/** One product whose contracted dimension was split: C = Σ slices (+C). Offsets in f32 words. */
export interface ReduceEntry {
  cOffset: number;
  ldc: number;
  p: number;
  q: number;
  /** Slice 0 in the scratch buffer; slice s is the p × q block (leading dimension q) at sOffset + s·p·q. */
  sOffset: number;
  splits: number;
  accumulate: boolean;
}

/** shaders/product-reduce.wgsl `Reduce`. */
const reduceLayout = structLayout('Reduce', [
  ['c_offset', 'u32'],
  ['ldc', 'u32'],
  ['p', 'u32'],
  ['q', 'u32'],
  ['s_offset', 'u32'],
  ['splits', 'u32'],
  ['flags', 'u32'],
  ['_pad', 'u32'],
]);

export const productReduceKernel: Kernel<ReduceEntry[]> = {
  name: 'product-reduce',
  source: reduceSource,
  overrides: { WG: REDUCE_WG },
  bindings: ['read-only-storage', 'storage', 'read-only-storage'],
  params: reduceLayout,
  workgroups: (entries) => [ceilDiv(Math.max(...entries.map((e) => e.q)), REDUCE_WG), ceilDiv(Math.max(...entries.map((e) => e.p)), REDUCE_WG), entries.length],
  encodeUniforms: (entries) => {
    const perEntry = reduceLayout.fields.length;
    const words = new Uint32Array(entries.length * perEntry);
    entries.forEach((e, i) =>
      encodeStruct(
        reduceLayout,
        { c_offset: e.cOffset, ldc: e.ldc, p: e.p, q: e.q, s_offset: e.sOffset, splits: e.splits, flags: e.accumulate ? PRODUCT_FLAGS.accumulate : 0 },
        words,
        i * perEntry,
      ),
    );
    return words;
  },
};

// ---------------------------------------------------------------------------------------------
// Which kernel, which split: the planner.

/** Which product kernel runs: 'auto' lets planProducts choose by adapter. */
export type ProductKernelChoice = 'auto' | 'batched' | 'tiled';

/**
 * Workgroups a split-K product aims to fill by default: about two resident 256-thread
 * workgroups (≈ 110 registers per thread) on each of ~128 compute units, the size of the largest
 * GPUs (an H200 has 132 SMs). A smaller GPU runs them in more than one wave, which costs little:
 * the only price of splitting is the scratch traffic of the reduction (slices × p × q words,
 * against p·q·k FMAs). A parameter of planProducts, so a bench can try others.
 */
export const TARGET_WORKGROUPS = 256;
/** No split-K slice contracts fewer terms than this: shorter ones would spend more on writing and
 *  reducing their p × q partial block than on the product. */
export const MIN_SLICE_K = 256;
/** Scratch for split-K partials at most this many bytes (and within one storage binding). */
export const MAX_SCRATCH_BYTES = 256 * 2 ** 20;

export interface ProductPlanOptions {
  /** The adapter is a software fallback (rt.software): product-batched, unless forced. */
  software: boolean;
  /** Force a kernel (tests, the bench); 'auto' (default) chooses by `software`. */
  kernel?: ProductKernelChoice;
  /** See TARGET_WORKGROUPS. */
  targetWorkgroups?: number;
  /** f32 words of scratch the split may use (MAX_SCRATCH_BYTES and the storage-binding limit). */
  maxScratchWords: number;
}

export type ProductPlan =
  | { kernel: 'batched'; edge: ProductEdge; batches: ProductBatch[] }
  | {
      kernel: 'tiled';
      /** Entries computed straight into C. */
      direct: ProductBatch[];
      /** Split-K slices, written to the scratch buffer (their cOffset and ldc are into it). */
      partial: ProductBatch[];
      /** One per split product: sums its slices into C. */
      reduce: ReduceEntry[];
      /** f32 words of scratch the partial entries need (0 without a split). */
      scratchWords: number;
      /** The most slices any product was split into (1: no split). */
      split: number;
    };

/** Output tiles of the tiled kernel a product computes (a symmetric one: on and above the diagonal). */
export function tiledTiles(batch: ProductBatch): number {
  const rows = ceilDiv(batch.p, TILED_TILE);
  const cols = ceilDiv(batch.q, TILED_TILE);
  return batch.symmetric ? (rows * (rows + 1)) / 2 : rows * cols;
}

/** Slices of `k` for a split of at most `split`: each at least MIN_SLICE_K long, starting at
 *  multiples of TILED_BK. */
function slicesOf(k: number, split: number): { chunk: number; count: number } {
  const wanted = Math.min(split, Math.floor(k / MIN_SLICE_K));
  if (wanted <= 1) return { chunk: k, count: 1 };
  const chunk = ceilDiv(ceilDiv(k, wanted), TILED_BK) * TILED_BK;
  return { chunk, count: ceilDiv(k, chunk) };
}

/**
 * The plan of one dispatch's table (at most MAX_WORKGROUPS_PER_DIMENSION products).
 *
 * Kernel: product-tiled on hardware adapters, product-batched on software ones (SwiftShader runs a
 * workgroup on one CPU thread, where workgroup memory and barriers only cost), unless forced.
 *
 * Split: when the table's output tiles (× its products) are fewer than the target workgroup count,
 * each product's contracted dimension is cut into up to ⌈target / tiles⌉ slices of at least
 * MIN_SLICE_K terms (a 512 × 512 Gram over m = 5000: 10 tiles → 19 slices of 264 datapoints, 190
 * workgroups instead of 10). Products too short to split run directly; the split is halved until the
 * scratch fits maxScratchWords and the expanded table fits one dispatch.
 */
export function planProducts(batches: ProductBatch[], options: ProductPlanOptions): ProductPlan {
  const choice = options.kernel ?? 'auto';
  if (choice === 'batched' || (choice === 'auto' && options.software)) return { kernel: 'batched', edge: productEdge(batches), batches };
  const tiles = batches.reduce((sum, b) => sum + tiledTiles(b), 0);
  const target = options.targetWorkgroups ?? TARGET_WORKGROUPS;
  let split = Math.min(Math.max(1, Math.ceil(target / tiles)), Math.floor(MAX_WORKGROUPS_PER_DIMENSION / batches.length));
  for (; ; split = Math.floor(split / 2)) {
    const direct: ProductBatch[] = [];
    const partial: ProductBatch[] = [];
    const reduce: ReduceEntry[] = [];
    let scratchWords = 0;
    let most = 1;
    for (const batch of batches) {
      const { chunk, count } = slicesOf(batch.k, split);
      if (count === 1) {
        direct.push(batch);
        continue;
      }
      most = Math.max(most, count);
      const block = batch.p * batch.q;
      reduce.push({ cOffset: batch.cOffset, ldc: batch.ldc, p: batch.p, q: batch.q, sOffset: scratchWords, splits: count, accumulate: !!batch.accumulate });
      for (let s = 0; s < count; s++) {
        const start = s * chunk;
        partial.push({
          ...batch,
          // Slice s of the contracted dimension: along the rows of a stored-transposed operand.
          aOffset: batch.aOffset + start * (batch.transA ? batch.lda : 1),
          bOffset: batch.bOffset + start * (batch.transB ? batch.ldb : 1),
          k: Math.min(chunk, batch.k - start),
          cOffset: scratchWords + s * block,
          ldc: batch.q,
          accumulate: false,
        });
      }
      scratchWords += count * block;
    }
    if (split <= 1 || (scratchWords <= options.maxScratchWords && partial.length + direct.length <= MAX_WORKGROUPS_PER_DIMENSION)) {
      return { kernel: 'tiled', direct, partial, reduce, scratchWords, split: most };
    }
  }
}
