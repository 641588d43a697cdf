// Batched matrix product for hardware GPUs, tiled through workgroup memory:
//   C[b] (p × q)  =  alpha · op(A[b]) · op(B[b])ᵀ  (+ C[b] when accumulate = 1)
// The same batch table, flags and conventions as product-batched.wgsl: op(A) is p × k (A row-major
// with leading dimension lda, or stored k × p when transA = 1), op(B) is q × k likewise. With X =
// neurons × datapoints (row-major), X·Xᵀ is the Gram (k = datapoints) and W·X is op(B) = Xᵀ (transB).
//
// Design (the classic SGEMM blocking): a workgroup of 16 × 16 threads computes one 128 × 128 tile
// of C; each thread holds 8 × 8 outputs in registers (rows ty·4 + 0..3 and 64 + ty·4 + 0..3, columns
// likewise from tx), so one vec4 read of each operand's slice feeds 4 × 4 FMAs per half. The
// contracted dimension is walked in slices of BK = 8: the workgroup stages the 128 × 8 slices of
// op(A) and op(B) in workgroup memory (k-major, so the inner loop reads vec4 along the tile's rows
// and columns), 8.4 KiB in all, well within the default 16 KiB. While it computes on one slice, each
// thread already holds its share of the next one in registers (prefetch), so the global loads'
// latency hides behind the arithmetic. Global loads are vec4 where the operand's offset and leading
// dimension are multiples of 4 and the vector lies inside the matrix; otherwise, and at the edges,
// scalar loads that read zeros outside it.
//
// Split-K (the host's planner, src/gpu/kernels/product.ts): a product with few output tiles is
// expanded into several table entries, each over one slice of the contracted dimension, written
// (alpha applied, no accumulate) to a scratch buffer; product-reduce.wgsl then sums the slices into
// C. This kernel does not know: every entry is a plain product.
// Workgroup (x, y, z) computes tile (rows y·128.., columns x·128..) of entry z. A symmetric entry (a
// Gram, op(A) = op(B)) computes only tiles on and above the diagonal and writes those above it
// transposed as well.

// struct Batch: shaders/common/product-batch.wgsl (composed in src/gpu/kernels/product.ts).

// A and B as vec4 words: vec4 loads where aligned, single components elsewhere (element i is
// a[i / 4][i % 4]). The buffers' sizes are multiples of 16 bytes (the runtime's pool rounds them).
@group(0) @binding(0) var<storage, read> a: array<vec4f>;        // A matrices, f32
@group(0) @binding(1) var<storage, read> b: array<vec4f>;        // B matrices, f32
@group(0) @binding(2) var<storage, read_write> c: array<f32>;    // C matrices (or split-K partials), f32
@group(0) @binding(3) var<storage, read> batches: array<Batch>;  // one entry per workgroup z

override WG: u32 = 16u;      // threads per workgroup edge (the tile mapping below assumes 16)
const TILE: u32 = 128u;      // output tile edge: WG threads × 8 outputs
const HALF: u32 = 64u;       // each thread's rows (columns) are two groups of 4, HALF apart
const BK: u32 = 8u;          // contracted-dimension slice staged per step
const STRIDE: u32 = 132u;    // words per k-row of a staged slice: TILE + 4, so the transposing
                             // stores of neighbouring threads fall in different banks
const STRIDE4: u32 = 33u;    // STRIDE in vec4 words

// Staged slices, k-major: element (row r, slice column kk) at kk·STRIDE + r. 2 × 8 × 132 × 4 B.
var<workgroup> tile_a: array<vec4f, 264>;  // BK · STRIDE4
var<workgroup> tile_b: array<vec4f, 264>;

// Element i of operand `which` (0: A, 1: B), and the vec4 of elements 4i..4i+3.
fn element(which: u32, i: u32) -> f32 {
  if (which == 0u) { return a[i >> 2u][i & 3u]; }
  return b[i >> 2u][i & 3u];
}
fn vector(which: u32, i4: u32) -> vec4f {
  if (which == 0u) { return a[i4]; }
  return b[i4];
}

// One thread's share of a 128 × 8 slice of op(A) (which = 0) or op(B) (which = 1) starting at k0:
// four consecutive elements along the operand's contiguous axis. Stored transposed (row-major
// operand: the 4 are along k, thread t holds row t / 2, slice columns (t % 2)·4 + 0..3) or as
// they are (transposed operand: along the rows, slice column t / 32, rows (t % 32)·4 + 0..3).
fn load_slice(which: u32, offset: u32, ld: u32, rows: u32, k: u32, trans: bool, row0: u32, k0: u32, t: u32) -> vec4f {
  var row: u32;
  var kk: u32;
  if (trans) {
    row = row0 + (t % 32u) * 4u;
    kk = k0 + t / 32u;
  } else {
    row = row0 + t / 2u;
    kk = k0 + (t % 2u) * 4u;
  }
  let aligned = ((offset | ld) & 3u) == 0u;
  if (trans) {
    // Elements (row + i, kk), i = 0..3, contiguous at offset + kk·ld + row.
    if (kk >= k) { return vec4f(0.0); }
    let start = offset + kk * ld + row;
    if (aligned && row + 4u <= rows) { return vector(which, start >> 2u); }
    var v = vec4f(0.0);
    for (var i = 0u; i < 4u; i++) {
      if (row + i < rows) { v[i] = element(which, start + i); }
    }
    return v;
  }
  // Elements (row, kk + i), contiguous at offset + row·ld + kk.
  if (row >= rows) { return vec4f(0.0); }
  let start = offset + row * ld + kk;
  if (aligned && kk + 4u <= k) { return vector(which, start >> 2u); }
  var v = vec4f(0.0);
  for (var i = 0u; i < 4u; i++) {
    if (kk + i < k) { v[i] = element(which, start + i); }
  }
  return v;
}

// Writes a thread's loaded vec4 into a staged slice (see load_slice for the layout).
fn store_slice(tile: ptr<workgroup, array<vec4f, 264>>, v: vec4f, trans: bool, t: u32) {
  if (trans) {
    (*tile)[(t / 32u) * STRIDE4 + t % 32u] = v;
  } else {
    let row = t / 2u;
    let kk = (t % 2u) * 4u;
    for (var i = 0u; i < 4u; i++) { (*tile)[((kk + i) * STRIDE + row) >> 2u][row & 3u] = v[i]; }
  }
}

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let bt = batches[wid.z];
  let symmetric = (bt.flags & 8u) != 0u;
  let trans_a = (bt.flags & 2u) != 0u;
  let trans_b = (bt.flags & 4u) != 0u;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  // Whole workgroups leave together (before any barrier): tiles beyond this entry's own size
  // (a smaller product of a mixed batch) and, for a Gram, below the diagonal.
  if (row0 >= bt.p || col0 >= bt.q || (symmetric && wid.y > wid.x)) { return; }
  let t = lid.y * WG + lid.x;

  var acc: array<vec4f, 16>;  // acc[i·2 + h]: output row i of this thread, columns of half h
  var next_a = load_slice(0u, bt.a_offset, bt.lda, bt.p, bt.k, trans_a, row0, 0u, t);
  var next_b = load_slice(1u, bt.b_offset, bt.ldb, bt.q, bt.k, trans_b, col0, 0u, t);
  for (var k0 = 0u; k0 < bt.k; k0 += BK) {
    store_slice(&tile_a, next_a, trans_a, t);
    store_slice(&tile_b, next_b, trans_b, t);
    workgroupBarrier();
    // Prefetch the next slice into registers while this one is multiplied.
    if (k0 + BK < bt.k) {
      next_a = load_slice(0u, bt.a_offset, bt.lda, bt.p, bt.k, trans_a, row0, k0 + BK, t);
      next_b = load_slice(1u, bt.b_offset, bt.ldb, bt.q, bt.k, trans_b, col0, k0 + BK, t);
    }
    for (var kk = 0u; kk < BK; kk++) {
      let a0 = tile_a[kk * STRIDE4 + lid.y];
      let a1 = tile_a[kk * STRIDE4 + HALF / 4u + lid.y];
      let b0 = tile_b[kk * STRIDE4 + lid.x];
      let b1 = tile_b[kk * STRIDE4 + HALF / 4u + lid.x];
      acc[0] = fma(vec4f(a0.x), b0, acc[0]);
      acc[1] = fma(vec4f(a0.x), b1, acc[1]);
      acc[2] = fma(vec4f(a0.y), b0, acc[2]);
      acc[3] = fma(vec4f(a0.y), b1, acc[3]);
      acc[4] = fma(vec4f(a0.z), b0, acc[4]);
      acc[5] = fma(vec4f(a0.z), b1, acc[5]);
      acc[6] = fma(vec4f(a0.w), b0, acc[6]);
      acc[7] = fma(vec4f(a0.w), b1, acc[7]);
      acc[8] = fma(vec4f(a1.x), b0, acc[8]);
      acc[9] = fma(vec4f(a1.x), b1, acc[9]);
      acc[10] = fma(vec4f(a1.y), b0, acc[10]);
      acc[11] = fma(vec4f(a1.y), b1, acc[11]);
      acc[12] = fma(vec4f(a1.z), b0, acc[12]);
      acc[13] = fma(vec4f(a1.z), b1, acc[13]);
      acc[14] = fma(vec4f(a1.w), b0, acc[14]);
      acc[15] = fma(vec4f(a1.w), b1, acc[15]);
    }
    workgroupBarrier();
  }

  // Constant indices into acc only (a dynamically indexed private array may live in memory).
  let r0 = row0 + lid.y * 4u;
  let r1 = row0 + HALF + lid.y * 4u;
  write_row(bt, wid, lid, r0, acc[0], acc[1]);
  write_row(bt, wid, lid, r0 + 1u, acc[2], acc[3]);
  write_row(bt, wid, lid, r0 + 2u, acc[4], acc[5]);
  write_row(bt, wid, lid, r0 + 3u, acc[6], acc[7]);
  write_row(bt, wid, lid, r1, acc[8], acc[9]);
  write_row(bt, wid, lid, r1 + 1u, acc[10], acc[11]);
  write_row(bt, wid, lid, r1 + 2u, acc[12], acc[13]);
  write_row(bt, wid, lid, r1 + 3u, acc[14], acc[15]);
}

// Writes one output row of a thread: columns col0 + tx·4 + 0..3 (v0) and col0 + 64 + tx·4 + 0..3
// (v1), times alpha (+C when accumulating), and their mirror images for a Gram's upper tiles.
fn write_row(bt: Batch, wid: vec3u, lid: vec3u, row: u32, v0: vec4f, v1: vec4f) {
  if (row >= bt.p) { return; }
  let accumulate = (bt.flags & 1u) != 0u;
  let mirror = (bt.flags & 8u) != 0u && wid.y < wid.x;
  for (var j = 0u; j < 8u; j++) {
    let col = wid.x * TILE + (j / 4u) * HALF + lid.x * 4u + j % 4u;
    if (col >= bt.q) { continue; }
    let index = bt.c_offset + row * bt.ldc + col;
    var value = bt.alpha * select(v1[j % 4u], v0[j % 4u], j < 4u);
    if (accumulate) { value += c[index]; }
    c[index] = value;
    if (mirror) { c[bt.c_offset + col * bt.ldc + row] = value; }
  }
}
