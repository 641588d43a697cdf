// Descriptor of shaders/product-batched.wgsl and the host-side encoding of its batch table.
import source from '../../../shaders/product-batched.wgsl?raw';
import { ceilDiv, encodeStruct, structLayout, type Kernel } from '../kernel';

/** Threads per tile edge: 16 (64 × 64 output tiles) or 8 (32 × 32, for small outputs). */
export type ProductEdge = 8 | 16;
const RB = 4; // each thread computes RB × RB outputs

/** shaders/product-batched.wgsl `Batch`: one entry of the batch table (binding 3). */
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
    source,
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
