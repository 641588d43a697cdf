// Work a failed or cancelled GPU job recorded and did not submit is dropped (GpuRuntime.discardPending),
// on Dawn: it does not run with the next job's first submission. Shown here:
//  - the runtime: abandoned work stays recorded while a buffer it writes is held, and is dropped
//    (counted as discarded under its pass labels, its released buffers back in the pool) once none is;
//  - a grid cancelled after its cross product was recorded (GpuBackend's job wrapper) and a dynamics
//    job cancelled while checkpoint t + 1 is factored beside t's pairs (the checkpoint pipeline):
//    nothing left pending, no buffer handed out, and the next job's submissions carry the same passes
//    as on a runtime that never saw the failed job, with the same numbers bit for bit.
// Layers are n neurons × m datapoints.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { computeDynamics } from '../../src/analysis/engine';
import type { GpuBackend, GpuFactor } from '../../src/analysis/gpu';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import type { GpuRuntime } from '../../src/gpu/runtime';
import type { Bundle } from '../../src/io/types';
import { randn } from '../../src/math/random';
import type { Representation } from '../../src/math/reduce';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { nodeBackend } from '../helpers/gpu';

let runtime: GpuRuntime;
let backend: GpuBackend;

beforeAll(async () => {
  ({ runtime, backend } = await nodeBackend());
}, 60_000);

/** Passes waiting in the encoder at each submission `run` makes (what each command buffer carries). */
async function passesPerSubmission<T>(run: () => Promise<T>): Promise<{ value: T; passes: number[] }> {
  const passes: number[] = [];
  const flush = runtime.flush.bind(runtime);
  const spy = vi.spyOn(runtime, 'flush').mockImplementation((label) => {
    if (runtime.pendingPasses > 0) passes.push(runtime.pendingPasses);
    flush(label);
  });
  try {
    return { value: await run(), passes };
  } finally {
    spy.mockRestore();
  }
}

const dense = (seed: number): Representation[] => [6, 9].map((n, i) => ({ kind: 'dense', x: randn(seed + i, n, 60) }));
const CCA: AnalysisOptions = { ...DEFAULT_OPTIONS, metric: 'cca', convReduction: 'flatten' };

describe('recorded work of a failed or cancelled GPU job is dropped, not submitted with the next (Dawn)', () => {
  it('the runtime: abandoned work waits for its last written buffer, then is dropped and counted', () => {
    runtime.flush();
    runtime.resetTraffic();
    const live = runtime.liveBuffers;
    const created = runtime.createdBuffers;
    const own = runtime.ledger();
    const kept = own.zeros(1024, 'test.kept'); // written by the recorded work (a clear)
    const scratch = own.zeros(2048, 'test.scratch');
    runtime.submit('test.pass', () => undefined);
    runtime.submit('test.pass', () => undefined);
    own.release(scratch); // released while the recorded work uses it: back to the pool only after that work
    // Another flow still holds a buffer the work writes: nothing is dropped yet.
    expect(runtime.discardPending()).toBe(0);
    expect(runtime.pendingPasses).toBe(2);
    // Its last written buffer let go: dropped unsubmitted.
    own.close();
    expect(runtime.pendingPasses).toBe(0);
    const traffic = runtime.traffic();
    expect(traffic.byLabel['test.pass']).toMatchObject({ passes: 2, discarded: 2, submits: 0 });
    expect(traffic.submits).toBe(0);
    expect(runtime.liveBuffers).toBe(live);
    // Both buffers are back in the pool: acquiring them again creates nothing.
    const again = runtime.ledger();
    again.zeros(1024, 'test.kept');
    again.zeros(2048, 'test.scratch');
    expect(runtime.createdBuffers).toBe(created + 2);
    again.close();
    runtime.discardPending();
    expect(runtime.pendingPasses).toBe(0);
  });

  it('with profiling: the dropped passes’ timestamp query set goes with them, the next timings read as usual', async () => {
    const fresh = (await nodeBackend()).runtime; // profiling stays on: not the shared runtime
    try {
      const profiling = fresh.enableProfiling(); // false where the adapter lacks timestamp-query
      const own = fresh.ledger();
      own.zeros(1024, 'test.dropped');
      fresh.submit('test.dropped', () => undefined);
      own.close();
      expect(fresh.discardPending()).toBe(1);
      expect(fresh.pendingPasses).toBe(0);
      const next = fresh.ledger();
      next.zeros(1024, 'test.next');
      fresh.submit('test.next', () => undefined);
      const times = await fresh.gpuTimes(); // submits the next work and reads its timestamps
      expect(fresh.traffic().byLabel['test.next']).toMatchObject({ passes: 1, submits: 0, discarded: 0 });
      expect(Object.keys(times)).toEqual(profiling ? ['test.next'] : []);
      expect(fresh.pendingPasses).toBe(0);
      next.close();
    } finally {
      fresh.destroy();
    }
  }, 60_000);

  it('a grid cancelled after recording its cross product: nothing left pending, the next grid’s submissions its own', async () => {
    const a = dense(300);
    const b = dense(400);
    const factors: GpuFactor[] = [];
    try {
      const fa = await backend.factorize(a, CCA, false);
      factors.push(...fa);
      const fb = await backend.factorize(b, CCA, false);
      factors.push(...fb);
      runtime.flush(); // the factoring's own trailing work is not the cancelled job's
      const clean = await passesPerSubmission(() => backend.compareGrid(fa, fb, CCA));
      expect(clean.passes.length).toBeGreaterThan(0);
      const live = runtime.liveBuffers;
      runtime.resetTraffic();
      const cancel = new AbortController();
      cancel.abort();
      // The cross product is recorded, then the job meets the cancel (src/analysis/gpu/cca.ts).
      await expect(backend.compareGrid(fa, fb, CCA, undefined, cancel.signal)).rejects.toMatchObject({ name: 'AbortError' });
      expect(runtime.pendingPasses).toBe(0);
      const traffic = runtime.traffic();
      expect(traffic.discarded).toBeGreaterThan(0);
      expect(traffic.byLabel['pairs.cross']?.discarded).toBeGreaterThan(0);
      expect(traffic.submits).toBe(0);
      expect(runtime.liveBuffers).toBe(live);
      const next = await passesPerSubmission(() => backend.compareGrid(fa, fb, CCA));
      expect(next.passes).toEqual(clean.passes);
      expect(next.value).toEqual(clean.value);
    } finally {
      backend.release(factors);
    }
  }, 120_000);

  it('a dynamics job cancelled after checkpoint t + 1 was factored beside t’s pairs: nothing pending, the next job as on a fresh start', async () => {
    const steps = [0, 10, 20, 30];
    const datapoints = 120;
    const bundle: Bundle = memoryBundle(
      'drift.npz',
      [16, 24].flatMap((n, l) =>
        steps.map((step, t) => {
          const x = randn(700 + 10 * l + t, n, datapoints);
          return { step, layer: `layer${l}`, array: storedDatapointsFirst({ rows: n, cols: datapoints, data: x.data }) };
        }),
      ),
    );
    runtime.flush();
    const clean = await passesPerSubmission(() => computeDynamics({ bundle }, DEFAULT_OPTIONS, {}, backend));
    const live = runtime.liveBuffers;
    runtime.resetTraffic();
    const controller = new AbortController();
    // Cancelled when checkpoint 0's values arrive: checkpoint 1, factored meanwhile, has its last
    // pass (the refinement) recorded and unsubmitted when the pipeline meets the cancel.
    const job = computeDynamics({ bundle }, DEFAULT_OPTIONS, { signal: controller.signal, onValues: () => controller.abort() }, backend);
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    expect(runtime.pendingPasses).toBe(0);
    expect(runtime.traffic().discarded).toBeGreaterThan(0);
    expect(runtime.liveBuffers).toBe(live);
    const next = await passesPerSubmission(() => computeDynamics({ bundle }, DEFAULT_OPTIONS, {}, backend));
    expect(next.passes).toEqual(clean.passes);
    expect(next.value.values).toEqual(clean.value.values);
  }, 300_000);
});
