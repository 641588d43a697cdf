// Descriptor of shaders/product-batched.wgsl and the host-side encoding of its batch table.
import source from '../../../shaders/product-batched.wgsl?raw';
import { ceilDiv, type Kernel } from '../kernel';

/** Threads per tile edge: 16 (64 × 64 output tiles) or 8 (32 × 32, for small outputs). */
export type ProductEdge = 8 | 16;
const RB = 4; // each thread computes RB × RB outputs

export function productKernel(edge: ProductEdge = 16): Kernel {
  return {
    name: 'product-batched',
    source,
    overrides: { WG: edge },
    bindings: ['read-only-storage', 'read-only-storage', 'storage', 'read-only-storage'],
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

const WORDS_PER_BATCH = 12; // struct Batch: 12 × 4 bytes

/** Encodes the batch table (u32 words, alpha as f32 bits). */
export function encodeBatches(batches: ProductBatch[]): Uint32Array {
  const words = new Uint32Array(batches.length * WORDS_PER_BATCH);
  const floats = new Float32Array(words.buffer);
  batches.forEach((b, i) => {
    const o = i * WORDS_PER_BATCH;
    words.set([b.aOffset, b.bOffset, b.cOffset, b.p, b.q, b.k, b.lda, b.ldb, b.ldc], o);
    words[o + 9] = (b.accumulate ? 1 : 0) | (b.transA ? 2 : 0) | (b.transB ? 4 : 0) | (b.symmetric ? 8 : 0);
    floats[o + 10] = b.alpha ?? 1;
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
