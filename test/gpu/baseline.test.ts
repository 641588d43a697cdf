// The chance level on Dawn: a dynamics job's baseline on the WebGPU backend matches the float64
// backend's, for CCA, SVCCA through the DFT and CKA. Permutation null: the permuted factors are
// float64 twins re-indexed on the host, so the permuted pairs run in float64 and the provenance says
// so. Gaussian null (the default for CCA and SVCCA): drawn from the GPU pairs' kept dimensions alone,
// the same draws as the float64 backend's and nothing computed in float64.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend, registerGpuBackend, resolveBackend } from '../../src/analysis/backend';
import { computeDynamics } from '../../src/analysis/engine';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import { DEFAULT_OPTIONS, type Metric } from '../../src/analysis/types';
import { nodeGpu } from '../../src/gpu/node';
import { randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { TOL, expectClose } from '../helpers/tolerance';

let backend: GpuBackend;
beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  backend = (await resolveBackend('webgpu')).backend as GpuBackend;
}, 60_000);

const conv = (seed: number) => ({ shape: [40, 3, 3, 2], dtype: '<f8' as const, data: randn(seed, 1, 40 * 18).data });

describe('chance level on Dawn', () => {
  for (const [metric, kind] of [
    ['cca', 'dense'],
    ['svcca', 'conv'],
    ['cka', 'dense'],
  ] as [Metric, string][]) {
    it(`${metric} (${kind}): the GPU job's baseline matches the float64 backend's`, async () => {
      const arrays = [0, 1].flatMap((step) =>
        ['a', 'b'].map((layer, i) => ({
          step,
          layer,
          array: kind === 'conv' ? conv(10 * step + i + 1) : storedDatapointsFirst(randn(10 * step + i + 1, 5, 50)),
        })),
      );
      const options = { ...DEFAULT_OPTIONS, metric, ...(kind === 'conv' ? { convLayout: 'nhwc' as const } : {}) };
      const request = () => ({ bundle: memoryBundle('b.npz', arrays), baseline: { permutations: 6, seed: 3, null: 'permutation' as const } });
      const cpu = await computeDynamics(request(), options, {}, cpuBackend);
      const gpu = await computeDynamics(request(), options, {}, backend);
      expectClose(gpu.values.flat(2), cpu.values.flat(2), TOL.f32Mean, `${metric} values`);
      const means = (r: typeof cpu) => r.baseline!.flat(2).map((b) => b!.mean);
      const sds = (r: typeof cpu) => r.baseline!.flat(2).map((b) => b!.sd);
      expectClose(means(gpu), means(cpu), TOL.f32Mean, `${metric} chance mean`);
      expectClose(sds(gpu), sds(cpu), TOL.f32Mean, `${metric} chance sd`);
      expect(gpu.provenance!.float64.some((s) => s.startsWith('chance level: computed in float64'))).toBe(true);

      // The default null: Gaussian for CCA and SVCCA (the GPU pairs' kept dimensions), permutations for CKA.
      const auto = () => ({ bundle: memoryBundle('b.npz', arrays), baseline: { permutations: 6, seed: 3 } });
      const cpuAuto = await computeDynamics(auto(), options, {}, cpuBackend);
      const gpuAuto = await computeDynamics(auto(), options, {}, backend);
      const kinds = gpuAuto.baseline!.flat(2).map((b) => b!.null);
      expect(new Set(kinds)).toEqual(new Set([metric === 'cka' ? 'permutation' : 'gaussian']));
      expectClose(means(gpuAuto), means(cpuAuto), TOL.f32Mean, `${metric} auto chance mean`);
      if (metric !== 'cka') {
        // Same kept dimensions on both backends: the very same draws.
        expectClose(means(gpuAuto), means(cpuAuto), TOL.f64Identity, `${metric} gaussian chance mean`);
        expectClose(sds(gpuAuto), sds(cpuAuto), TOL.f64Identity, `${metric} gaussian chance sd`);
        expect(gpuAuto.provenance!.float64.some((s) => s.startsWith('chance level'))).toBe(false);
      }
    }, 120_000);
  }
});
