// Descriptors of the conv-layer kernels: one DFT axis pass, per-frequency channel means, and the
// centred real embedding of per-frequency blocks (shaders/dft-axis.wgsl, frequency-means.wgsl,
// embed-frequency-blocks.wgsl).
import axisSource from '../../../shaders/dft-axis.wgsl?raw';
import embedSource from '../../../shaders/embed-frequency-blocks.wgsl?raw';
import meansSource from '../../../shaders/frequency-means.wgsl?raw';
import blockParamsSource from '../../../shaders/common/frequency-blocks-params.wgsl?raw';
import { ceilDiv, encodeStruct, MAX_WORKGROUPS_PER_DIMENSION, structLayout, type Kernel } from '../kernel';

/** An NHWC conv tensor's sizes: n datapoints, h × w positions, c channels. */
export interface ConvDims {
  n: number;
  h: number;
  w: number;
  c: number;
}

/** 1-D work of `count` threads in workgroups of `wg`, folded into y past the per-dimension limit
 *  (the shader rebuilds the index from num_workgroups). */
function foldedWorkgroups(count: number, wg: number): [number, number, number] {
  const groups = ceilDiv(count, wg);
  return groups <= MAX_WORKGROUPS_PER_DIMENSION ? [groups, 1, 1] : [MAX_WORKGROUPS_PER_DIMENSION, ceilDiv(groups, MAX_WORKGROUPS_PER_DIMENSION), 1];
}

const DFT_AXIS_WG = 64; // threads per workgroup, one output element each

/** shaders/dft-axis.wgsl `Params`. */
const dftAxisParams = structLayout('Params', [
  ['n', 'u32'],
  ['h', 'u32'],
  ['w', 'u32'],
  ['c', 'u32'],
  ['axis', 'u32'],
  ['_pad0', 'u32'],
  ['_pad1', 'u32'],
  ['_pad2', 'u32'],
]);

/** One axis pass over a conv tensor: 0 along W, 1 along H. */
export type DftAxisSizes = ConvDims & { axis: 0 | 1 };

export const dftAxisKernel: Kernel<DftAxisSizes> = {
  name: 'dft-axis',
  source: axisSource,
  overrides: { WG: DFT_AXIS_WG },
  bindings: ['read-only-storage', 'storage', 'uniform'],
  params: dftAxisParams,
  workgroups: (s) => foldedWorkgroups(s.n * s.h * s.w * s.c, DFT_AXIS_WG),
  encodeUniforms: (s) => encodeStruct(dftAxisParams, s),
};

/** shaders/common/frequency-blocks-params.wgsl `Params`, shared by the two per-frequency kernels. */
const frequencyBlocksParams = structLayout('Params', [
  ['n', 'u32'],
  ['h', 'u32'],
  ['w', 'u32'],
  ['c', 'u32'],
  ['blocks', 'u32'],
  ['_pad0', 'u32'],
  ['_pad1', 'u32'],
  ['_pad2', 'u32'],
]);

/** A conv tensor and the number of frequencies listed for it. */
export type FrequencyBlockSizes = ConvDims & { blocks: number };

const MEANS_WG = 64; // threads per workgroup, one (frequency, channel) each

export const frequencyMeansKernel: Kernel<FrequencyBlockSizes> = {
  name: 'frequency-means',
  source: `${meansSource}\n${blockParamsSource}`,
  overrides: { WG: MEANS_WG },
  bindings: ['read-only-storage', 'read-only-storage', 'storage', 'uniform'],
  params: frequencyBlocksParams,
  // x only: the shader indexes by gid.x (the runtime refuses more than the limit).
  workgroups: (s) => [ceilDiv(s.blocks * s.c, MEANS_WG), 1, 1],
  encodeUniforms: (s) => encodeStruct(frequencyBlocksParams, s),
};

const EMBED_WG = 16; // workgroup edge: WG × WG threads over (column of 2N, row of 2C)

export const embedBlocksKernel: Kernel<FrequencyBlockSizes> = {
  name: 'embed-frequency-blocks',
  source: `${embedSource}\n${blockParamsSource}`,
  overrides: { WG: EMBED_WG },
  bindings: ['read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'uniform'],
  params: frequencyBlocksParams,
  workgroups: (s) => [ceilDiv(2 * s.n, EMBED_WG), ceilDiv(2 * s.c, EMBED_WG), s.blocks],
  encodeUniforms: (s) => encodeStruct(frequencyBlocksParams, s),
};
