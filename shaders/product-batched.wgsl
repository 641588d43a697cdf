// Batched, tiled, register-blocked matrix product for tall data:
//   C[b] (p × q)  =  alpha · op(A[b]) · op(B[b])ᵀ  (+ C[b] when accumulate = 1)
// op(A) is p × k: A row-major with leading dimension lda, or its transpose when transA = 1
// (A stored k × p). op(B) is q × k likewise. With X = neurons × datapoints (row-major), X Xᵀ is the
// covariance (transA = transB = 0) and P·X is op(B) = Xᵀ (transB = 1). k is usually the datapoint
// axis; callers accumulate over datapoint chunks with accumulate = 1.
// Workgroup (x, y, z) computes the output tile (rows y·TILE.., cols x·TILE..) of batch z, TILE = WG·4.
// A symmetric product (a Gram matrix, op(A) = op(B)) computes only the tiles on and above the
// diagonal and writes the ones above it transposed as well: half the arithmetic.

// struct Batch: shaders/common/product-batch.wgsl (composed in src/gpu/kernels/product.ts).

@group(0) @binding(0) var<storage, read> a: array<f32>;          // A matrices, f32
@group(0) @binding(1) var<storage, read> b: array<f32>;          // B matrices, f32
@group(0) @binding(2) var<storage, read_write> c: array<f32>;    // C matrices, f32
@group(0) @binding(3) var<storage, read> batches: array<Batch>;  // one entry per workgroup z

const RB: u32 = 4u;          // each thread computes an RB × RB block of C
override WG: u32 = 16u;      // threads per workgroup edge; a workgroup covers a (WG·RB)² tile of C

// Without workgroup memory or barriers: each thread streams its RB rows of op(A) and RB rows of
// op(B) over k from global memory (the caches do the sharing). The default on software adapters
// (SwiftShader, lavapipe), where its pipeline compiles in ~0.3 s; hardware GPUs run the
// workgroup-memory variant, product-tiled.wgsl (planProducts in src/gpu/kernels/product.ts chooses;
// on SwiftShader too the tiled one measured faster from n = 64 up, see docs/benchmarks.md).

fn load_a(bt: Batch, row: u32, kk: u32) -> f32 {
  if (row >= bt.p) { return 0.0; }
  if ((bt.flags & 2u) != 0u) { return a[bt.a_offset + kk * bt.lda + row]; }
  return a[bt.a_offset + row * bt.lda + kk];
}

fn load_b(bt: Batch, row: u32, kk: u32) -> f32 {
  if (row >= bt.q) { return 0.0; }
  if ((bt.flags & 4u) != 0u) { return b[bt.b_offset + kk * bt.ldb + row]; }
  return b[bt.b_offset + row * bt.ldb + kk];
}

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let bt = batches[wid.z];
  let symmetric = (bt.flags & 8u) != 0u;
  if (symmetric && wid.y > wid.x) { return; }  // below the diagonal: written by the mirror tile
  let tile = WG * RB;
  // Rows/columns interleaved by WG so that neighbouring threads touch neighbouring outputs.
  let row0 = wid.y * tile + lid.y;
  let col0 = wid.x * tile + lid.x;
  var acc: array<f32, 16>;  // RB · RB accumulators
  for (var kk = 0u; kk < bt.k; kk++) {
    var av: array<f32, 4>;
    var bv: array<f32, 4>;
    for (var i = 0u; i < RB; i++) {
      av[i] = load_a(bt, row0 + i * WG, kk);
      bv[i] = load_b(bt, col0 + i * WG, kk);
    }
    for (var i = 0u; i < RB; i++) {
      for (var j = 0u; j < RB; j++) {
        acc[i * RB + j] = fma(av[i], bv[j], acc[i * RB + j]);
      }
    }
  }
  for (var i = 0u; i < RB; i++) {
    let row = row0 + i * WG;
    for (var j = 0u; j < RB; j++) {
      let col = col0 + j * WG;
      if (row < bt.p && col < bt.q) {
        let index = bt.c_offset + row * bt.ldc + col;
        var value = bt.alpha * acc[i * RB + j];
        if ((bt.flags & 1u) != 0u) { value += c[index]; }
        c[index] = value;
        if (symmetric && wid.y < wid.x) { c[bt.c_offset + col * bt.ldc + row] = value; }
      }
    }
  }
}
