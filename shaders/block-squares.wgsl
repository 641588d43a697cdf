// Sums of squares of rectangular blocks of one f32 matrix buffer, a table of blocks per dispatch:
// workgroup b sums block b's rows × cols entries (row stride ld, from word offset), each thread a
// strided share with compensated (Kahan) summation, and writes its partial sum; the host adds the
// WG partials of a block in float64. What CKA needs from a cross product T = Xc_a Xc_bᵀ per pair
// (‖T_ij‖²_F) and from a layer's Gram (‖G‖²_F), without reading the matrices back.

struct Block {
  offset: u32,  // first word of the block
  rows: u32,
  cols: u32,
  ld: u32,      // row stride in words
}

@group(0) @binding(0) var<storage, read> data: array<f32>;
@group(0) @binding(1) var<storage, read> blocks: array<Block>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;  // blocks × WG

override WG: u32 = 256u;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) thread: u32, @builtin(workgroup_id) workgroup: vec3u) {
  let block = blocks[workgroup.x];
  let count = block.rows * block.cols;
  var sum = 0.0;
  var compensation = 0.0;
  for (var e = thread; e < count; e += WG) {
    let row = e / block.cols;
    let v = data[block.offset + row * block.ld + (e - row * block.cols)];
    let y = v * v - compensation;
    let t = sum + y;
    compensation = (t - sum) - y;
    sum = t;
  }
  partials[workgroup.x * WG + thread] = sum;
}
