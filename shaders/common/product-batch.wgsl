// One entry of the product kernels' batch table (binding 3 of product-batched.wgsl and
// product-tiled.wgsl): 12 words, 48 bytes (src/gpu/kernels/product.ts batchLayout, encodeBatches).
// A split-K slice (product-tiled) is an entry of its own.
struct Batch {
  a_offset: u32,   // first element of A[b] in `a` (f32 words)
  b_offset: u32,   // first element of B[b] in `b`
  c_offset: u32,   // first element of C[b] in `c`
  p: u32,          // rows of C
  q: u32,          // columns of C
  k: u32,          // contracted dimension
  lda: u32,        // leading dimension (row stride) of A as stored
  ldb: u32,        // leading dimension of B as stored
  ldc: u32,        // leading dimension of C
  flags: u32,      // bit 0: accumulate into C; bit 1: transA; bit 2: transB; bit 3: symmetric (op(A) = op(B))
  alpha: f32,      // scale of the product
  _pad: u32,
}
