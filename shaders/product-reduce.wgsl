// The second pass of a split-K product (product-tiled.wgsl, src/gpu/kernels/product.ts): sums the
// partial products of the contracted dimension's slices into C,
//   C[e] (p × q)  =  Σ_s partials[e][s]  (+ C[e] when accumulate = 1).
// Slice s of entry e is a p × q row-major block (leading dimension q) at s_offset + s·p·q; alpha
// was applied by the first pass. WGSL has no float atomics, hence a pass of its own; the slices are
// summed in order, so the result does not depend on scheduling.
// Workgroup (x, y, z) sums a WG × WG block (columns x·WG.., rows y·WG..) of entry z.

struct Reduce {
  c_offset: u32,   // first element of C[e] in `c` (f32 words)
  ldc: u32,        // leading dimension of C
  p: u32,          // rows
  q: u32,          // columns
  s_offset: u32,   // first element of slice 0 in `partials`
  splits: u32,     // slices to sum
  flags: u32,      // bit 0: accumulate into C (the product table's accumulate bit)
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> partials: array<f32>;    // splits × p × q per entry, f32
@group(0) @binding(1) var<storage, read_write> c: array<f32>;     // C matrices, f32
@group(0) @binding(2) var<storage, read> entries: array<Reduce>;  // one entry per workgroup z

override WG: u32 = 16u;

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = entries[gid.z];
  let row = gid.y;
  let col = gid.x;
  if (row >= e.p || col >= e.q) { return; }
  let block = e.p * e.q;
  var sum = 0.0;
  for (var s = 0u; s < e.splits; s++) { sum += partials[e.s_offset + s * block + row * e.q + col]; }
  let index = e.c_offset + row * e.ldc + col;
  if ((e.flags & 1u) != 0u) { sum += c[index]; }
  c[index] = sum;
}
