// Descriptors of the conv-layer kernels: one DFT axis pass, per-frequency channel means, and the
// centred real embedding of per-frequency blocks (shaders/dft-axis.wgsl, frequency-means.wgsl,
// embed-frequency-blocks.wgsl).
import axisSource from '../../../shaders/dft-axis.wgsl?raw';
import embedSource from '../../../shaders/embed-frequency-blocks.wgsl?raw';
import meansSource from '../../../shaders/frequency-means.wgsl?raw';
import blockParamsSource from '../../../shaders/common/frequency-blocks-params.wgsl?raw';
import { ceilDiv, type Kernel } from '../kernel';

export const dftAxisKernel: Kernel = {
  name: 'dft-axis',
  source: axisSource,
  overrides: { WG: 64 },
  bindings: ['read-only-storage', 'storage', 'uniform'],
};

export const frequencyMeansKernel: Kernel = {
  name: 'frequency-means',
  source: `${meansSource}\n${blockParamsSource}`,
  overrides: { WG: 64 },
  bindings: ['read-only-storage', 'read-only-storage', 'storage', 'uniform'],
};

export const embedBlocksKernel: Kernel = {
  name: 'embed-frequency-blocks',
  source: `${embedSource}\n${blockParamsSource}`,
  overrides: { WG: 16 },
  bindings: ['read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'uniform'],
};

/** 1-D work of `count` threads in workgroups of 64, folded into y past the 65535-workgroup limit. */
export function linearWorkgroups(count: number): [number, number, number] {
  const groups = ceilDiv(count, 64);
  return groups <= 65535 ? [groups, 1, 1] : [65535, ceilDiv(groups, 65535), 1];
}

export function embedWorkgroups(n: number, c: number, blocks: number): [number, number, number] {
  return [ceilDiv(2 * n, 16), ceilDiv(2 * c, 16), blocks];
}
