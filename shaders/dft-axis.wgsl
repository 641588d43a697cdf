// One axis of the 2-D DFT of conv activations, complex in and out, NHWC order:
//   axis 0 (W): out[i, y, v, c] = Σ_x in[i, y, x, c] · e^{−2πi·v·x/W}
//   axis 1 (H): out[i, u, x, c] = Σ_y in[i, y, x, c] · e^{−2πi·u·y/H}
// Running axis 0 then axis 1 gives F[i, u, v, c]. Any size (a direct DFT, not an FFT: the spatial
// sizes of conv layers are small). Complex values are interleaved (re, im) f32 pairs.

struct Params {
  n: u32,      // datapoints
  h: u32,      // height
  w: u32,      // width
  c: u32,      // channels
  axis: u32,   // 0: along W, 1: along H
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> input: array<vec2f>;          // n × h × w × c complex
@group(0) @binding(1) var<storage, read_write> output: array<vec2f>;   // same shape
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 64u;

const TAU: f32 = 6.283185307179586;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let total = params.n * params.h * params.w * params.c;
  let index = gid.x + gid.y * groups.x * WG;
  if (index >= total) { return; }
  let ch = index % params.c;
  let x = (index / params.c) % params.w;
  let y = (index / (params.c * params.w)) % params.h;
  let i = index / (params.c * params.w * params.h);
  var sum = vec2f(0.0, 0.0);
  if (params.axis == 0u) {
    for (var t = 0u; t < params.w; t++) {
      // Reduce the angle's integer part exactly before converting to f32.
      let angle = -TAU * f32((x * t) % params.w) / f32(params.w);
      let value = input[((i * params.h + y) * params.w + t) * params.c + ch];
      let tw = vec2f(cos(angle), sin(angle));
      sum += vec2f(value.x * tw.x - value.y * tw.y, value.x * tw.y + value.y * tw.x);
    }
  } else {
    for (var t = 0u; t < params.h; t++) {
      let angle = -TAU * f32((y * t) % params.h) / f32(params.h);
      let value = input[((i * params.h + t) * params.w + x) * params.c + ch];
      let tw = vec2f(cos(angle), sin(angle));
      sum += vec2f(value.x * tw.x - value.y * tw.y, value.x * tw.y + value.y * tw.x);
    }
  }
  output[index] = sum;
}
