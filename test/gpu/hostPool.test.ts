// The GPU backend's float64 host step (whitening.ts step 3) on the registered CPU pool's threads, on
// Dawn: a learning-dynamics job with a 2-thread pool registered gives exactly the numbers of the job
// without one (W₀ is bit for bit the same, so is everything the GPU computes from it), for SVCCA on
// whole layers (each matrix's own 99% rule) and through the DFT (one rule over every frequency
// block); the pool really ran the step, and provenance says on how many threads.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerCpuBackend, registerGpuBackend, resolveBackend } from '../../src/analysis/backend';
import { computeDynamics } from '../../src/analysis/engine';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import { createNodePool } from '../../src/analysis/pool/node';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import { nodeGpu } from '../../src/gpu/node';
import { randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';

const pool = createNodePool(2);
let backend: GpuBackend;
beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  backend = (await resolveBackend('webgpu')).backend as GpuBackend;
}, 60_000);
afterAll(() => {
  registerCpuBackend(null);
  pool.close();
});

/** Columns of rows with a decaying spectrum (row i scaled by 1/(i+1)), so the 99% rule cuts well inside. */
function decaying(seed: number, n: number, m: number) {
  const x = randn(seed, n, m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) x.data[i * m + j] /= i + 1;
  return x;
}

/** The same job without and with the pool registered; the pool's runTasks calls counted. */
async function bothWays(bundle: () => ReturnType<typeof memoryBundle>, options: AnalysisOptions) {
  registerCpuBackend(null);
  const single = await computeDynamics({ bundle: bundle() }, options, {}, backend);
  registerCpuBackend(pool);
  const run = vi.spyOn(pool, 'runTasks');
  try {
    const pooled = await computeDynamics({ bundle: bundle() }, options, {}, backend);
    return { single, pooled, calls: run.mock.calls.length };
  } finally {
    run.mockRestore();
    registerCpuBackend(null);
  }
}

describe('the GPU host step on 2 CPU threads on Dawn', () => {
  // Three widths whose Grams are enough work for the pool (Σ n³ > POOL_MIN_WORK), m > n.
  const layers = () =>
    memoryBundle(
      'layers.npz',
      [0, 1].flatMap((step) =>
        [150, 130, 110].map((n, l) => ({ step, layer: `layer${l}`, array: storedDatapointsFirst(decaying(700 + 10 * step + l, n, 200)) })),
      ),
    );

  // CCA's host step takes the same road (gramValues); test/analysis/gramHost.test.ts checks its drafts on 2 threads.
  it('SVCCA of whole layers: the numbers of the one-thread job, bit for bit', async () => {
    const { single, pooled, calls } = await bothWays(layers, { ...DEFAULT_OPTIONS, metric: 'svcca', backend: 'webgpu' });
    expect(calls).toBeGreaterThan(0);
    expect(pooled.provenance?.backend).toBe('webgpu');
    expect(single.provenance?.threads).toBe(1);
    expect(pooled.provenance?.threads).toBe(2);
    expect(pooled.provenance?.float64 ?? []).toEqual([]); // every pair on the GPU
    expect({ ...pooled, provenance: { ...pooled.provenance, threads: 1 } }).toEqual(single);
  }, 240_000);

  it('SVCCA through the DFT (the global rule between the two phases): bit for bit', async () => {
    // NHWC (datapoints, height, width, channels): 4 × 4 frequencies of 2c × 2c blocks, c = 40.
    const conv = () =>
      memoryBundle(
        'conv.npz',
        // One checkpoint (its layers against themselves): the pairs' Jacobi on SwiftShader is the slow part.
        [0].flatMap((step) =>
          [0, 1].map((l) => {
            const shape = [60, 4, 4, 40];
            const x = randn(800 + 10 * step + l, 1, 60 * 4 * 4 * 40);
            return { step, layer: `conv${l}`, array: { shape, dtype: '<f8' as const, data: x.data } };
          }),
        ),
      );
    const options = { ...DEFAULT_OPTIONS, metric: 'svcca' as const, backend: 'webgpu' as const, convLayout: 'nhwc' as const, convReduction: 'dft' as const };
    const { single, pooled, calls } = await bothWays(conv, options);
    expect(calls).toBeGreaterThan(0);
    expect(pooled.provenance?.float64 ?? []).toEqual([]);
    expect({ ...pooled, provenance: { ...pooled.provenance, threads: 1 } }).toEqual(single);
  }, 300_000);
});
