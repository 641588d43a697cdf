// Batched parallel-ordered Jacobi, one workgroup per symmetric N × N matrix, up to
// `params.sweep_budget` whole sweeps in one dispatch, with the convergence test of every sweep done
// in the shader: no host round trip per sweep or per rotation step. Composed with one of
// shaders/common/jacobi-matrix-{workgroup,storage}.wgsl, which say where the matrix lives while it
// is rotated (workgroup memory when it fits, else the storage buffer itself) through
// matrix_load/matrix_store/matrix_barrier/matrix_begin/matrix_end, and with
// shaders/common/jacobi-rotation.wgsl (rotation_of, shared with jacobi-rotate.wgsl).
//
// Ordering and rotations are those of jacobi-rotate.wgsl (round-robin: position 0 holds index 0,
// position k > 0 holds ((k − 1 + s) mod (N − 1)) + 1 at step s; positions k and N − 1 − k pair up,
// the lower position being p). Each step: the N/2 disjoint rotations are computed, then
// A ← Jᵀ A J by 2 × 2 blocks (one thread per block, the upper triangle of blocks mirrored: half the
// arithmetic of a row pass and a column pass) and Vᵀ ← Jᵀ Vᵀ with each thread owning whole columns
// of Vᵀ, so no two threads write one element between barriers. The matrices must be symmetric.
// The state persists in buffers between dispatches (bounded chunks: the host checks for
// cancellation and convergence between them), so a matrix picks up where it stopped.

struct Params {
  n: u32,             // padded size N (even), N ≤ MAX_N: the storage layout of every matrix
  count: u32,         // matrices in the batch (one workgroup each)
  vectors: u32,       // 1: accumulate Vᵀ; 0: eigenvalues only (vt is a placeholder)
  sweep_budget: u32,  // sweeps this dispatch may run per matrix
  max_sweeps: u32,    // a matrix stops after this many sweeps in all
  tolerance: f32,     // converged when ‖offdiag(A)‖_F / ‖A‖_F ≤ tolerance
  first: u32,         // 1 on the first dispatch: set Vᵀ = I and the state to "not started"
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;      // count × N × N, row-major: the matrices, rotated in place
@group(0) @binding(1) var<storage, read_write> vt: array<f32>;     // count × N × N: Vᵀ, row i = eigenvector estimate i
@group(0) @binding(2) var<storage, read_write> state: array<f32>;  // count × (4 + N): done, sweeps, previous ratio, ratio, diagonal
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read> sizes: array<u32>;       // count: matrix b's own size (even, ≤ N); the rest is zero padding

override WG: u32 = 64u;      // threads per workgroup (one matrix)
override MAX_N: u32 = 64u;   // largest N this pipeline takes (sizes the workgroup arrays)

var<workgroup> pair_p: array<u32, MAX_N / 2u>;     // step's pairs (p < q by position)
var<workgroup> pair_q: array<u32, MAX_N / 2u>;
var<workgroup> rotation: array<vec2f, MAX_N / 2u>; // (c, s) of each pair
var<workgroup> sums: array<vec2f, WG>;             // per-thread (off², total²) for the convergence test
var<workgroup> keep_going: u32;                    // thread 0's decision, read uniformly by all
var<workgroup> active_size: u32;                   // sizes[matrix], read uniformly by all

var<private> matrix_base: u32;  // matrix · N · N
var<private> stride: u32;       // N: the row stride of every matrix

fn index_at(position: u32, step: u32, n: u32) -> u32 {
  if (position == 0u) { return 0u; }
  return ((position - 1u + step) % (n - 1u)) + 1u;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) thread: u32, @builtin(workgroup_id) workgroup: vec3u) {
  stride = params.n;
  let matrix = workgroup.x;
  let s0 = matrix * (4u + stride);  // this matrix's state
  matrix_base = matrix * stride * stride;
  if (params.first == 1u && params.vectors == 1u) {
    for (var j = thread; j < stride; j += WG) {
      for (var i = 0u; i < stride; i++) { vt[matrix_base + i * stride + j] = select(0.0, 1.0, i == j); }
    }
  }
  if (thread == 0u) {
    active_size = sizes[matrix];
    if (params.first == 1u) {
      state[s0] = 0.0;
      state[s0 + 1u] = 0.0;
      state[s0 + 2u] = 3.0e38;
      state[s0 + 3u] = 0.0;
    }
    keep_going = select(1u, 0u, state[s0] != 0.0);
  }
  if (workgroupUniformLoad(&keep_going) == 0u) { return; }
  // Rotations run over the matrix's own size n: its zero padding would never rotate anyway.
  let n = workgroupUniformLoad(&active_size);
  let half = n / 2u;
  matrix_begin(thread, stride);
  matrix_barrier();
  var budget = params.sweep_budget;
  loop {
    // Convergence test of the matrix as it stands.
    var off = 0.0;
    var total = 0.0;
    for (var i = thread; i < n; i += WG) {
      for (var j = 0u; j < n; j++) {
        let v = matrix_load(i * stride + j);
        total += v * v;
        if (i != j) { off += v * v; }
      }
    }
    sums[thread] = vec2f(off, total);
    workgroupBarrier();
    if (thread == 0u) {
      var s = vec2f(0.0, 0.0);
      for (var k = 0u; k < WG; k++) { s += sums[k]; }
      let ratio = select(0.0, sqrt(s.x / s.y), s.y > 0.0);
      let sweeps = u32(state[s0 + 1u]);
      let previous = state[s0 + 2u];
      // Converged; or stagnating at round-off after a reasonable number of sweeps; or out of sweeps.
      let done = ratio <= params.tolerance || (sweeps >= 6u && ratio > 0.5 * previous && ratio < 1e-5) || sweeps >= params.max_sweeps;
      state[s0] = select(0.0, 1.0, done);
      state[s0 + 3u] = ratio;
      keep_going = select(select(1u, 0u, budget == 0u), 0u, done);
      if (!done && budget > 0u) {
        state[s0 + 1u] = f32(sweeps + 1u);
        state[s0 + 2u] = ratio;
      }
    }
    if (workgroupUniformLoad(&keep_going) == 0u) { break; }
    budget -= 1u;
    for (var step = 0u; step < n - 1u; step++) {
      for (var k = thread; k < half; k += WG) {
        let lower = index_at(k, step, n);           // p: the lower position of the pair
        let upper = index_at(n - 1u - k, step, n);  // q
        pair_p[k] = lower;
        pair_q[k] = upper;
        rotation[k] = rotation_of(matrix_load(lower * stride + lower), matrix_load(upper * stride + upper), matrix_load(lower * stride + upper));
      }
      workgroupBarrier();
      // A ← Jᵀ A J, one 2 × 2 block per pair of pairs (P1 = (p, q), P2 = (r, s)): rows p, q mix
      // by P1's rotation and columns r, s by P2's. Blocks are disjoint, so each is read and written
      // by one thread; A stays symmetric, so only blocks with P1 ≤ P2 are computed and the
      // off-diagonal ones are also written transposed.
      for (var flat = thread; flat < half * half; flat += WG) {
        let k1 = flat / half;
        let k2 = flat % half;
        if (k1 > k2) { continue; }
        let p = pair_p[k1];
        let q = pair_q[k1];
        let r = pair_p[k2];
        let s = pair_q[k2];
        let j1 = rotation[k1];
        let j2 = rotation[k2];
        let a_pr = matrix_load(p * stride + r);
        let a_ps = matrix_load(p * stride + s);
        let a_qr = matrix_load(q * stride + r);
        let a_qs = matrix_load(q * stride + s);
        // Rows: p' = c·p − s·q, q' = s·p + c·q (Jᵀ from the left).
        let t_pr = j1.x * a_pr - j1.y * a_qr;
        let t_ps = j1.x * a_ps - j1.y * a_qs;
        let t_qr = j1.y * a_pr + j1.x * a_qr;
        let t_qs = j1.y * a_ps + j1.x * a_qs;
        // Columns: r' = c·r − s·s, s' = s·r + c·s (J from the right).
        let b_pr = j2.x * t_pr - j2.y * t_ps;
        let b_ps = j2.y * t_pr + j2.x * t_ps;
        let b_qr = j2.x * t_qr - j2.y * t_qs;
        let b_qs = j2.y * t_qr + j2.x * t_qs;
        matrix_store(p * stride + r, b_pr);
        matrix_store(p * stride + s, b_ps);
        matrix_store(q * stride + r, b_qr);
        matrix_store(q * stride + s, b_qs);
        if (k1 != k2) {
          matrix_store(r * stride + p, b_pr);
          matrix_store(s * stride + p, b_ps);
          matrix_store(r * stride + q, b_qr);
          matrix_store(s * stride + q, b_qs);
        }
      }
      // Vᵀ ← Jᵀ Vᵀ: rows p and q mix; this thread owns columns thread, thread + WG, … of Vᵀ.
      if (params.vectors == 1u) {
        for (var col = thread; col < n; col += WG) {
          for (var k = 0u; k < half; k++) {
            let p = pair_p[k];
            let q = pair_q[k];
            let cs = rotation[k];
            let vp = vt[matrix_base + p * stride + col];
            let vq = vt[matrix_base + q * stride + col];
            vt[matrix_base + p * stride + col] = cs.x * vp - cs.y * vq;
            vt[matrix_base + q * stride + col] = cs.y * vp + cs.x * vq;
          }
        }
      }
      matrix_barrier();
    }
  }
  for (var i = thread; i < stride; i += WG) { state[s0 + 4u + i] = matrix_load(i * stride + i); }
  matrix_end(thread, stride);
}
