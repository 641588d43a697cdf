// Per-frequency blocks of a spectrum, centred over datapoints and embedded as real matrices:
// for frequency f (spectrum row (u, v)) with C × N complex block X = A + iB (channels × datapoints),
// block f is R(X) = [[A, −B], [B, A]] (2C × 2N), rows stacked block after block. R(X)R(Y)ᵀ = R(X Yᴴ),
// so every complex canonical correlation appears twice among the real ones.
// Thread (column t of 2N, row r of 2C, block f).
// Composed with shaders/common/frequency-blocks-params.wgsl (struct Params).

@group(0) @binding(0) var<storage, read> spectrum: array<vec2f>;      // n × h × w × c complex
@group(0) @binding(1) var<storage, read> frequencies: array<vec2u>;   // (u, v) of each block
@group(0) @binding(2) var<storage, read> means: array<vec2f>;         // blocks × c complex channel means
@group(0) @binding(3) var<storage, read_write> out: array<f32>;       // blocks × 2c rows × 2n columns
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 16u;

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let column = gid.x;
  let row = gid.y;
  let block = gid.z;
  let n = params.n;
  let c = params.c;
  if (column >= 2u * n || row >= 2u * c || block >= params.blocks) { return; }
  let f = frequencies[block];
  let channel = row % c;
  let datapoint = column % n;
  let z = spectrum[((datapoint * params.h + f.x) * params.w + f.y) * c + channel] - means[block * c + channel];
  // [[A, −B], [B, A]]: top rows take (re, −im), bottom rows (im, re), by column half.
  let top = row < c;
  let left = column < n;
  var value: f32;
  if (top) { value = select(-z.y, z.x, left); } else { value = select(z.x, z.y, left); }
  out[(block * 2u * c + row) * 2u * n + column] = value;
}
