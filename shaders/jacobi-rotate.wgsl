// One step of parallel-ordered Jacobi on a batch of symmetric N × N matrices (N even; smaller
// matrices are zero-padded, and a zero off-diagonal entry never rotates, so padding stays inert).
// Round-robin (circle) ordering: at step s, position 0 holds index 0 and position k > 0 holds index
// ((k − 1 + s) mod (N − 1)) + 1; positions k and N − 1 − k form a pair, the lower position being p.
// Over N − 1 steps every (p, q) meets once: one sweep. The N/2 rotations of a step are disjoint, so
// A' = Jᵀ A J and Vᵀ' = Jᵀ Vᵀ are computed element-wise from the previous matrices (ping-pong).
// Every thread recomputes the rotations of its row's and column's pairs from a_in: no extra pass.
// Composed with shaders/common/jacobi-rotation.wgsl (rotation_of) and jacobi-step-params.wgsl (Params).

// struct Params: shaders/common/jacobi-step-params.wgsl (composed in src/gpu/kernels/jacobi.ts).

@group(0) @binding(0) var<storage, read> a_in: array<f32>;         // count × N × N, row-major
@group(0) @binding(1) var<storage, read> v_in: array<f32>;         // count × N × N, row i = eigenvector estimate i
@group(0) @binding(2) var<storage, read_write> a_out: array<f32>;  // A after the step
@group(0) @binding(3) var<storage, read_write> v_out: array<f32>;  // Vᵀ after the step
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 16u;  // workgroup edge: WG × WG threads cover a WG × WG block of entries

fn index_at(position: u32) -> u32 {
  if (position == 0u) { return 0u; }
  return ((position - 1u + params.step) % (params.n - 1u)) + 1u;
}

fn position_of(index: u32) -> u32 {
  if (index == 0u) { return 0u; }
  let m = params.n - 1u;
  return ((index - 1u + m - (params.step % m)) % m) + 1u;
}

struct Coefficients {
  partner: u32,
  alpha: f32,  // weight of the element's own row/column
  beta: f32,   // weight of its partner's
}

// For index i in pair (p, q) with rotation (c, s): row/column i of the rotated matrix is
// alpha·(own) + beta·(partner), alpha = c, beta = −s if i = p else s.
fn coefficients(base: u32, i: u32) -> Coefficients {
  let position = position_of(i);
  let partner = index_at(params.n - 1u - position);
  let is_p = position < params.n / 2u;
  let p = select(partner, i, is_p);
  let q = select(i, partner, is_p);
  let n = params.n;
  let cs = rotation_of(a_in[base + p * n + p], a_in[base + q * n + q], a_in[base + p * n + q]);
  return Coefficients(partner, cs.x, select(cs.y, -cs.y, is_p));
}

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = params.n;
  let col = gid.x;
  let row = gid.y;
  let matrix = select(gid.z, gid.z / 2u, params.vectors == 1u);  // z = 2·matrix + (0: A, 1: Vᵀ)
  let which = select(0u, gid.z % 2u, params.vectors == 1u);
  if (row >= n || col >= n || matrix >= params.count) { return; }
  let base = matrix * n * n;
  let r = coefficients(base, row);
  if (which == 1u) {
    // Vᵀ' = Jᵀ Vᵀ: rows combine.
    v_out[base + row * n + col] = r.alpha * v_in[base + row * n + col] + r.beta * v_in[base + r.partner * n + col];
    return;
  }
  let c = coefficients(base, col);
  let own = c.alpha * a_in[base + row * n + col] + c.beta * a_in[base + row * n + c.partner];
  let other = c.alpha * a_in[base + r.partner * n + col] + c.beta * a_in[base + r.partner * n + c.partner];
  a_out[base + row * n + col] = r.alpha * own + r.beta * other;
}
