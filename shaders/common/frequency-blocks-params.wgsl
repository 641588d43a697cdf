// The uniform of the per-frequency block kernels (frequency-means.wgsl, embed-frequency-blocks.wgsl):
// 8 u32 words (32 bytes, src/gpu/kernels/dft.ts frequencyBlocksParams).
struct Params {
  n: u32,       // datapoints N
  h: u32,       // spectrum height
  w: u32,       // spectrum width
  c: u32,       // channels C
  blocks: u32,  // frequencies in the list
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}
