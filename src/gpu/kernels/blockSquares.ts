// Descriptor of shaders/block-squares.wgsl: sums of squares of blocks of one matrix buffer, for a
// table of blocks per dispatch (one workgroup each).
import source from '../../../shaders/block-squares.wgsl?raw';
import { encodeStruct, structLayout, type Kernel } from '../kernel';

/** Threads per block: each writes one partial sum, which the host adds in float64. */
export const BLOCK_SQUARES_WG = 256;

/** One block: `rows` × `cols` f32 words from word `offset`, rows `ld` words apart. */
export interface SquaresBlock {
  offset: number;
  rows: number;
  cols: number;
  ld: number;
}

/** shaders/block-squares.wgsl `Block`: one entry of the block table (binding 1). */
const blockLayout = structLayout('Block', [
  ['offset', 'u32'],
  ['rows', 'u32'],
  ['cols', 'u32'],
  ['ld', 'u32'],
]);

export const blockSquaresKernel: Kernel<SquaresBlock[]> = {
  name: 'block-squares',
  source,
  overrides: { WG: BLOCK_SQUARES_WG },
  bindings: ['read-only-storage', 'read-only-storage', 'storage'],
  params: blockLayout,
  workgroups: (blocks) => [blocks.length, 1, 1],
  encodeUniforms: (blocks) => {
    const words = new Uint32Array(blocks.length * blockLayout.fields.length);
    blocks.forEach((b, index) => encodeStruct(blockLayout, b, words, index * blockLayout.fields.length));
    return words;
  },
};
