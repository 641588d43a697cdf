// Descriptor of shaders/product-batched.wgsl and the host-side encoding of its batch table.
import source from '../../../shaders/product-batched.wgsl?raw';
import { ceilDiv, type Kernel } from '../kernel';

export const PRODUCT_WG = 16; // threads per tile edge
export const PRODUCT_TILE = PRODUCT_WG * 4; // each thread computes 4 × 4 outputs

export const productKernel: Kernel = {
  name: 'product-batched',
  source,
  overrides: { WG: PRODUCT_WG },
  bindings: ['read-only-storage', 'read-only-storage', 'storage', 'read-only-storage'],
};

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
}

const WORDS_PER_BATCH = 12; // struct Batch: 12 × 4 bytes

/** Encodes the batch table (u32 words, alpha as f32 bits). */
export function encodeBatches(batches: ProductBatch[]): Uint32Array {
  const words = new Uint32Array(batches.length * WORDS_PER_BATCH);
  const floats = new Float32Array(words.buffer);
  batches.forEach((b, i) => {
    const o = i * WORDS_PER_BATCH;
    words.set([b.aOffset, b.bOffset, b.cOffset, b.p, b.q, b.k, b.lda, b.ldb, b.ldc], o);
    words[o + 9] = (b.accumulate ? 1 : 0) | (b.transA ? 2 : 0) | (b.transB ? 4 : 0);
    floats[o + 10] = b.alpha ?? 1;
  });
  return words;
}

/** Workgroups covering the largest product of the table; z = batch index. */
export function productWorkgroups(batches: ProductBatch[]): [number, number, number] {
  const maxP = Math.max(...batches.map((b) => b.p));
  const maxQ = Math.max(...batches.map((b) => b.q));
  return [ceilDiv(maxQ, PRODUCT_TILE), ceilDiv(maxP, PRODUCT_TILE), batches.length];
}
