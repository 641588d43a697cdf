// Complex channel means over datapoints for a list of frequencies: means[f][c] = (1/N) Σ_i F[i, u_f, v_f, c].
// Composed with shaders/common/frequency-blocks-params.wgsl (struct Params).

@group(0) @binding(0) var<storage, read> spectrum: array<vec2f>;      // n × h × w × c complex
@group(0) @binding(1) var<storage, read> frequencies: array<vec2u>;   // (u, v) of each block
@group(0) @binding(2) var<storage, read_write> means: array<vec2f>;   // blocks × c
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let index = gid.x;
  if (index >= params.blocks * params.c) { return; }
  let block = index / params.c;
  let channel = index % params.c;
  let f = frequencies[block];
  var sum = vec2f(0.0, 0.0);
  for (var i = 0u; i < params.n; i++) {
    sum += spectrum[((i * params.h + f.x) * params.w + f.y) * params.c + channel];
  }
  means[index] = sum / f32(params.n);
}
