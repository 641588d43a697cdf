// Convergence test of batched Jacobi, without barriers: one thread per row of each matrix writes
// that row's squared off-diagonal mass, its squared total mass and its diagonal entry; the host adds
// the rows up (count × N × 3 floats is small next to the matrices).

// struct Params: shaders/common/jacobi-step-params.wgsl (composed in src/gpu/kernels/jacobi.ts).

@group(0) @binding(0) var<storage, read> a: array<f32>;          // count × N × N
@group(0) @binding(1) var<storage, read_write> out: array<f32>;  // count × N × 3: off², total², diagonal
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 64u;  // rows per workgroup

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = params.n;
  let row = gid.x;
  let matrix = gid.y;
  if (row >= n || matrix >= params.count) { return; }
  let base = matrix * n * n + row * n;
  var off = 0.0;
  var total = 0.0;
  for (var col = 0u; col < n; col++) {
    let v = a[base + col];
    total += v * v;
    if (col != row) { off += v * v; }
  }
  let o = (matrix * n + row) * 3u;
  out[o] = off;
  out[o + 1u] = total;
  out[o + 2u] = a[base + row];
}
