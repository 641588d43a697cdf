// A learning-dynamics grid on Dawn where some steps cannot run on the GPU (a layer with more neurons
// than datapoints sends its step's batch to the float64 path): every grid mixes GPU and float64
// factors, matches the float64 backend, says so, and makes each GPU factor's float64 twin once.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { cpuBackend, registerGpuBackend, resolveBackend } from '../../src/analysis/backend';
import { computeDynamics } from '../../src/analysis/engine';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import * as metrics from '../../src/analysis/metrics';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { nodeGpu } from '../../src/gpu/node';
import { randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { TOL, expectClose } from '../helpers/tolerance';

// Counts float64 factorisations while delegating to the real ones.
vi.mock('../../src/analysis/metrics', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/analysis/metrics')>();
  return { ...actual, factorize: vi.fn(actual.factorize) };
});

let backend: GpuBackend;
beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  backend = (await resolveBackend('webgpu')).backend as GpuBackend;
}, 60_000);

describe('a grid of GPU and float64 pairs on Dawn', () => {
  it('matches the float64 backend, and each GPU factor is factored in float64 at most once', async () => {
    const m = 60; // datapoints
    // Steps 0 and 1 have a layer wider than its datapoints, so their whole batch is factored in
    // float64; the reference step 2 runs on the GPU. Every step's grid is then GPU × float64.
    const arrays = [0, 1, 2].flatMap((step) => [
      { step, layer: 'narrow', array: storedDatapointsFirst(randn(500 + step, 6, m)) },
      { step, layer: 'wide', array: storedDatapointsFirst(randn(600 + step, step === 2 ? 10 : 80, m)) },
    ]);
    const options = { ...DEFAULT_OPTIONS, metric: 'cca' as const };
    const cpu = await computeDynamics({ bundle: memoryBundle('mixed.npz', arrays) }, options, {}, cpuBackend);
    const factorize = vi.mocked(metrics.factorize);
    factorize.mockClear();
    const gpu = await computeDynamics({ bundle: memoryBundle('mixed.npz', arrays) }, options, {}, backend);
    expectClose(gpu.values.flat(2), cpu.values.flat(2), TOL.f32Mean, 'mixed grid');
    expect(gpu.warnings.some((w) => /float64 on the CPU instead of WebGPU/.test(w))).toBe(true);
    // Steps 0 and 1 in float64 (2 layers each), and the reference step's 2 GPU factors' float64
    // twins once for the job, not once per step (which would make 8).
    expect(factorize.mock.calls.length).toBe(6);
  }, 120_000);
});
