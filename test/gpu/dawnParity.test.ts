// The WebGPU engine in Node, on Dawn (the npm `webgpu` package): parity with the float64 oracle on
// the self-check's seeded cases (tall, rank-deficient, dead neuron, decaying spectrum, conv shapes
// with odd sizes through complex per-frequency blocks), batched learning-dynamics grids, datapoints
// streamed in column chunks, work beyond the device's limits, and device loss mid-job.
// The same checks run in headless Chromium (e2e/gpu.spec.ts). On a machine without a GPU the
// adapter is SwiftShader (vite.config.ts points Vulkan at Chromium's ICD), ~0.2 GFLOP/s: the
// shapes are small and the timeouts generous.
import { beforeAll, describe, expect, it } from 'vitest';
import { forgetGpuBackend, registerGpuBackend, resolveBackend } from '../../src/analysis/backend';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import { runDeviceLossCheck, runGpuSelfCheck, type GpuSelfCheck } from '../../src/analysis/selfCheck';
import { deviceLossFailures, selfCheckFailures } from '../../src/analysis/selfCheckVerdict';
import { cpuBackend } from '../../src/analysis/backend';
import { computeDynamics } from '../../src/analysis/engine';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { nodeGpu, nodeGpuFailure } from '../../src/gpu/node';
import { randn } from '../../src/math/random';
import { memoryBundle } from '../helpers/bundle';
import { TOL, expectClose } from '../helpers/tolerance';

const lost: string[] = [];
let backend: GpuBackend;
let reason: string;

async function acquire(): Promise<GpuBackend> {
  return (await resolveBackend('webgpu')).backend as GpuBackend;
}

beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu, (message) => lost.push(message)));
  try {
    const choice = await resolveBackend('webgpu');
    backend = choice.backend as GpuBackend;
    reason = choice.reason;
  } catch (error) {
    const loading = nodeGpuFailure();
    throw new Error(
      `no WebGPU device in Node: ${(error as Error).message}${loading ? `; the webgpu package did not load: ${loading}` : ''}. ` +
        "Install Debian's chromium (its SwiftShader Vulkan driver) or point VK_ICD_FILENAMES at a Vulkan driver.",
    );
  }
}, 60_000);

describe('WebGPU on Dawn (Node) against the float64 CPU path', () => {
  let check: GpuSelfCheck;

  beforeAll(async () => {
    check = await runGpuSelfCheck(backend);
  }, 600_000);

  it('finds an adapter and says which', () => {
    expect(reason).toMatch(/^WebGPU \(float32\) on .*as chosen/);
  });

  it('every seeded case and metric agrees within the f32 tolerances, with identical kept dimensions', () => {
    expect(selfCheckFailures(check).rows).toEqual([]);
  });

  it('reproduces the semantics doc reference values (CCA 0.658407, PWCCA 0.661973)', () => {
    expect(selfCheckFailures(check).reference).toEqual([]);
  });

  it('batched learning-dynamics grids (one product per checkpoint) match', () => {
    expect(selfCheckFailures(check).grids).toEqual([]);
  });

  it('datapoints streamed in column chunks give the same numbers', () => {
    expect(selfCheckFailures(check).chunked).toEqual([]);
  });

  it('work beyond the device limits is computed in float64 and says so', () => {
    expect(selfCheckFailures(check).limited).toEqual([]);
  });
});

describe('conv layers through the DFT in a learning-dynamics job on Dawn', () => {
  it("matches the float64 path at every checkpoint (the reference side's blocks are cut once and reused)", async () => {
    // NHWC activations (datapoints, height, width, channels) of two conv layers over three
    // checkpoints, each step a noisier copy of the last.
    const shapes: Record<string, [number, number, number, number]> = { conv1: [80, 5, 4, 3], conv2: [80, 3, 2, 4] };
    const arrays = [0, 1, 2].flatMap((step) =>
      Object.entries(shapes).map(([layer, shape], l) => {
        const size = shape.reduce((x, y) => x * y, 1);
        const final = randn(300 + l, 1, size).data;
        const noise = randn(400 + 10 * step + l, 1, size).data;
        return { step, layer, array: { shape, dtype: '<f8' as const, data: final.map((v, i) => v + ((2 - step) / 2) * noise[i]) } };
      }),
    );
    const options = { ...DEFAULT_OPTIONS, convLayout: 'nhwc' as const, convReduction: 'dft' as const };
    const cpu = await computeDynamics({ bundle: memoryBundle('conv.npz', arrays) }, options, {}, cpuBackend);
    // Count the block cuts (embedFrequencyBlocks submits one 'blocks' pass per cut).
    const rt = backend.runtime;
    const submit = rt.submit.bind(rt);
    let cuts = 0;
    rt.submit = (label, record) => {
      if (label === 'blocks') cuts++;
      submit(label, record);
    };
    let gpu;
    try {
      gpu = await computeDynamics({ bundle: memoryBundle('conv.npz', arrays) }, options, {}, backend);
    } finally {
      rt.submit = submit;
    }
    expectClose(gpu.values.flat(2), cpu.values.flat(2), TOL.f32Mean, 'DFT dynamics grid');
    // Each checkpoint cuts its own 2 layers for its 2 partners (4); the reference layers are cut
    // once for the job (4 more), not again at every checkpoint (which would make 8 per checkpoint).
    expect(cuts).toBeLessThanOrEqual(3 * 4 + 4);
    expectClose(gpu.values[2][0][0], 1, TOL.f32Mean, 'a layer against itself at the reference step');
  }, 300_000);
});

describe('device loss on Dawn', () => {
  it('a device lost mid-job keeps the finished checkpoints and a fresh adapter recomputes', async () => {
    lost.length = 0;
    const r = await runDeviceLossCheck(acquire);
    expect(deviceLossFailures(r, lost.length)).toEqual([]);
    forgetGpuBackend();
  }, 300_000);
});
