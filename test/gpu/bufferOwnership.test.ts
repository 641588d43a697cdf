// GPU jobs own their buffers, on Dawn: a job that fails halfway (a limit error at any one of its
// acquisitions, a cancel between chunks, a device loss) releases exactly what it acquired, so the
// next job starts from a clean pool. Faults are injected at the runtime (a GpuRuntime whose k-th
// acquisition throws the GpuLimitError a real limit throws, or whose k-th readback is followed by a
// cancel), so every failure point of the real code path is exercised, with real buffers.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/analysis/backend';
import { GpuBackend, type GpuFactor } from '../../src/analysis/gpu';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Metric } from '../../src/analysis/types';
import { GpuLimitError, GpuRuntime } from '../../src/gpu/runtime';
import { randn } from '../../src/math/random';
import type { Representation } from '../../src/math/reduce';
import { TOL, expectClose } from '../helpers/tolerance';
import { nodeRuntime } from '../helpers/gpu';

/**
 * A runtime that throws a limit error at its `failAt`-th acquisition, and aborts `cancel` at its
 * `cancelAt`-th acquisition or after its `cancelAfterRead`-th readback (the job sees the cancel at
 * its next check between chunks).
 */
class FaultyRuntime extends GpuRuntime {
  acquisitions = 0;
  reads = 0;
  failAt = 0;
  cancelAt = 0;
  cancelAfterRead = 0;
  cancel: AbortController | null = null;

  override acquire(size: number, usage: number, label: string): GPUBuffer {
    if (++this.acquisitions === this.failAt) throw new GpuLimitError(`${label}: injected limit error`);
    if (this.acquisitions === this.cancelAt) this.cancel?.abort();
    return super.acquire(size, usage, label);
  }

  override async read(buffer: GPUBuffer, bytes: number, label: string): Promise<Float32Array> {
    const out = await super.read(buffer, bytes, label);
    if (++this.reads === this.cancelAfterRead) this.cancel?.abort();
    return out;
  }

  arm(faults: { failAt?: number; cancelAt?: number; cancelAfterRead?: number; cancel?: AbortController }): void {
    this.acquisitions = 0;
    this.reads = 0;
    this.failAt = faults.failAt ?? 0;
    this.cancelAt = faults.cancelAt ?? 0;
    this.cancelAfterRead = faults.cancelAfterRead ?? 0;
    this.cancel = faults.cancel ?? null;
  }
}

let runtime: FaultyRuntime;
let backend: GpuBackend;

beforeAll(async () => {
  runtime = await nodeRuntime((device) => new FaultyRuntime(device));
  backend = new GpuBackend(runtime);
}, 60_000);

// Two grid sides of small dense layers (n neurons × m = 40 datapoints), and conv layers for the DFT path.
const dense = (seed: number): Representation[] => [4, 6, 5].map((n, i) => ({ kind: 'dense', x: randn(seed + i, n, 40) }));
const conv = (seed: number): Representation[] =>
  [2, 3].map((c, i) => {
    const x = randn(seed + i, 1, 12 * 3 * 3 * c); // n = 12 datapoints, 3 × 3 positions, c channels (NHWC)
    return { kind: 'conv', conv: { datapoints: 12, height: 3, width: 3, channels: c, data: x.data } };
  });

interface Job {
  name: string;
  options: AnalysisOptions;
  a: Representation[];
  b: Representation[];
  dft: boolean;
}

const metricJob = (metric: Metric, extra: Partial<AnalysisOptions> = {}): Job => ({
  name: metric,
  options: { ...DEFAULT_OPTIONS, metric, convReduction: 'flatten', ...extra },
  a: dense(10),
  b: dense(20),
  dft: false,
});
const JOBS: Job[] = [
  metricJob('svcca'),
  metricJob('cca'),
  metricJob('pwcca', { pwccaVariant: 'paper' }),
  metricJob('cka-debiased'),
  { name: 'svcca through the DFT', options: { ...DEFAULT_OPTIONS, metric: 'svcca', convReduction: 'dft' }, a: conv(30), b: conv(40), dft: true },
];

/** One whole job as the engine runs it: both sides factored, the grid, the factors released. */
async function runJob(job: Job, signal?: AbortSignal): Promise<number[]> {
  const held: GpuFactor[] = [];
  try {
    const fa = await backend.factorize(job.a, job.options, job.dft);
    held.push(...fa);
    const fb = await backend.factorize(job.b, job.options, job.dft);
    held.push(...fb);
    const grid = await backend.compareGrid(fa, fb, job.options, undefined, signal);
    return grid.flat().map((pair) => pair.similarity);
  } finally {
    backend.release(held);
  }
}

async function float64(job: Job): Promise<number[]> {
  const fa = await cpuBackend.factorize(job.a, job.options, job.dft);
  const fb = await cpuBackend.factorize(job.b, job.options, job.dft);
  return (await cpuBackend.compareGrid(fa, fb, job.options)).flat().map((pair) => pair.similarity);
}

describe('GPU jobs own their buffers (Dawn)', () => {
  it.each(JOBS.map((job) => [job.name, job] as const))(
    '%s: a limit error at any acquisition leaves no buffer behind, and the numbers come from float64',
    async (_, job) => {
      const expected = await float64(job);
      runtime.arm({});
      await runJob(job);
      const acquisitions = runtime.acquisitions;
      expect(acquisitions).toBeGreaterThan(5);
      expect(runtime.liveBuffers).toBe(0);
      for (let k = 1; k <= acquisitions; k++) {
        runtime.arm({ failAt: k });
        const values = await runJob(job);
        expect(runtime.liveBuffers, `failure at acquisition ${k} of ${acquisitions}`).toBe(0);
        expectClose(values, expected, TOL.f32Mean, `${job.name}, failure at acquisition ${k}`);
      }
    },
    240_000,
  );

  it('a factorisation failing halfway, 50 times: no live buffer left, and the pool creates nothing new', async () => {
    const job = JOBS[1]; // CCA: Gram, host step, Z₀, refinement
    runtime.arm({});
    await runJob(job);
    const middle = Math.ceil(runtime.acquisitions / 4); // inside the first side's factorisation
    runtime.arm({ failAt: middle });
    await runJob(job);
    const created = runtime.createdBuffers;
    for (let i = 0; i < 50; i++) {
      runtime.arm({ failAt: middle });
      await runJob(job);
      expect(runtime.liveBuffers).toBe(0);
    }
    expect(runtime.createdBuffers).toBe(created);
  }, 240_000);

  it.each(JOBS.filter((job) => !job.dft).map((job) => [job.name, job] as const))(
    '%s: a grid cancelled at any of its acquisitions releases what it acquired',
    async (_, job) => {
      const fa = await backend.factorize(job.a, job.options, false);
      const fb = await backend.factorize(job.b, job.options, false);
      try {
        const factorBuffers = runtime.liveBuffers; // what the factors hold (theirs until released)
        runtime.arm({});
        await backend.compareGrid(fa, fb, job.options);
        const acquisitions = runtime.acquisitions;
        let cancelled = 0;
        for (let k = 1; k <= acquisitions; k++) {
          const cancel = new AbortController();
          runtime.arm({ cancelAt: k, cancel });
          try {
            await backend.compareGrid(fa, fb, job.options, undefined, cancel.signal);
          } catch (error) {
            expect((error as Error).name).toBe('AbortError');
            cancelled++;
          }
          expect(runtime.liveBuffers, `cancel at acquisition ${k} of ${acquisitions}`).toBe(factorBuffers);
        }
        expect(cancelled).toBeGreaterThan(0);
      } finally {
        backend.release([...fa, ...fb]);
      }
      expect(runtime.liveBuffers).toBe(0);
    },
    240_000,
  );

  it('a grid cancelled mid-way, 50 times (PWCCA, paper weights: a GPU pass after the pairs): the pool creates nothing new', async () => {
    const job = JOBS[2];
    const fa = await backend.factorize(job.a, job.options, false);
    const fb = await backend.factorize(job.b, job.options, false);
    try {
      const factorBuffers = runtime.liveBuffers;
      let created = 0;
      for (let i = 0; i <= 50; i++) {
        const cancel = new AbortController();
        runtime.arm({ cancelAfterRead: 1, cancel }); // the cross product read, the pairs' SVDs begun: cancelled before the grid's paper pass
        await expect(backend.compareGrid(fa, fb, job.options, undefined, cancel.signal)).rejects.toMatchObject({ name: 'AbortError' });
        expect(runtime.liveBuffers).toBe(factorBuffers);
        if (i === 0) created = runtime.createdBuffers;
      }
      expect(runtime.createdBuffers).toBe(created);
    } finally {
      backend.release([...fa, ...fb]);
    }
    expect(runtime.liveBuffers).toBe(0);
  }, 240_000);
});
