// The uniform of one round-robin Jacobi step (jacobi-rotate.wgsl, jacobi-measure.wgsl): one layout,
// so one uniform entry per step serves both. 4 u32 words (src/gpu/kernels/jacobi.ts stepParams).
struct Params {
  n: u32,        // padded size N (even)
  step: u32,     // round-robin step s in [0, N − 1) (jacobi-measure: unused)
  count: u32,    // matrices in the batch
  vectors: u32,  // 1: also rotate Vᵀ (z = 2·matrix + which); 0: eigenvalues only (z = matrix) (jacobi-measure: unused)
}
