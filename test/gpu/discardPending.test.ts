// Work a failed or cancelled GPU job recorded and did not submit is dropped (GpuRuntime.discardPending),
// on Dawn: it does not run with the next job's first submission. Shown here:
//  - the runtime: abandoned work stays recorded while a buffer it writes is held, and is dropped
//    (counted as discarded under its pass labels, its released buffers back in the pool) once none is;
//  - a grid cancelled after its cross product was recorded (GpuBackend's job wrapper) and a dynamics
//    job cancelled while checkpoint t + 1 is factored beside t's pairs (the checkpoint pipeline):
//    nothing left pending, no buffer handed out, and the next job's submissions carry the same passes
//    as on a runtime that never saw the failed job, with the same numbers bit for bit;
//  - a grid that meets a limit (its pairs go to float64, the job goes on) beside recorded work whose
//    results are still held (the reference's refined Z): that work is kept and submitted, and every
//    later grid is the clean run's bit for bit (a discard that ignored what is held would lose it).
// Layers are n neurons × m datapoints.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { computeDynamics } from '../../src/analysis/engine';
import type { GpuBackend, GpuFactor } from '../../src/analysis/gpu';
import { DEFAULT_OPTIONS, type AnalysisOptions, type DynamicsResult } from '../../src/analysis/types';
import { GpuLimitError, type GpuRuntime } from '../../src/gpu/runtime';
import type { Bundle } from '../../src/io/types';
import { randn } from '../../src/math/random';
import type { Representation } from '../../src/math/reduce';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { nodeBackend } from '../helpers/gpu';
import { TOL, expectClose } from '../helpers/tolerance';

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

/** Two layers (16 and 24 neurons × 120 datapoints) at four checkpoints, each of its own noise (from `seed`). */
function driftBundle(seed = 700): Bundle {
  const steps = [0, 10, 20, 30];
  const datapoints = 120;
  return memoryBundle(
    'drift.npz',
    [16, 24].flatMap((n, l) =>
      steps.map((step, t) => {
        const x = randn(seed + 10 * l + t, n, datapoints);
        return { step, layer: `layer${l}`, array: storedDatapointsFirst({ rows: n, cols: datapoints, data: x.data }) };
      }),
    ),
  );
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

  it('a grid that meets a limit beside work whose results are held: that work is kept, the later grids bit for bit', async () => {
    const bundle = driftBundle();
    runtime.flush();
    const clean = await computeDynamics({ bundle, reference: 0 }, DEFAULT_OPTIONS, {}, backend);
    // Other numbers in the pooled buffers the job will reuse: work of the job lost (not run) would show.
    await computeDynamics({ bundle: driftBundle(1700) }, DEFAULT_OPTIONS, {}, backend);
    const live = runtime.liveBuffers;
    runtime.resetTraffic();
    // Checkpoint 0 is the reference: its grid (the reference against itself) meets a limit after its
    // cross product is recorded (the float64 path takes its pairs), with the reference's own last
    // factoring pass (its refined Z, which every later grid reads) still recorded in the same encoder,
    // and checkpoint 1 factored beside it.
    const acquire = runtime.acquire.bind(runtime);
    let grids = 0;
    const spy = vi.spyOn(runtime, 'acquire').mockImplementation((size, usage, label) => {
      if (label === 'pairs.gram' && ++grids === 1) throw new GpuLimitError(`${label}: injected limit error`);
      return acquire(size, usage, label);
    });
    // What the failed grid's job wrapper found recorded when it gave its work up, and what it dropped.
    const discard = runtime.discardPending.bind(runtime);
    const calls: { recorded: number; dropped: number }[] = [];
    const discardSpy = vi.spyOn(runtime, 'discardPending').mockImplementation(() => {
      const recorded = runtime.pendingPasses;
      const dropped = discard();
      calls.push({ recorded, dropped });
      return dropped;
    });
    let result: DynamicsResult;
    try {
      result = await computeDynamics({ bundle, reference: 0 }, DEFAULT_OPTIONS, {}, backend);
    } finally {
      spy.mockRestore();
      discardSpy.mockRestore();
    }
    expect(grids).toBeGreaterThan(1);
    // The grid's cross product and the reference's refinement were recorded; the reference's Z is
    // held, so nothing was dropped (the grid's pass ran with the refinement).
    expect(calls[0].recorded).toBeGreaterThan(1);
    expect(calls[0].dropped).toBe(0);
    expect(result.values.slice(1)).toEqual(clean.values.slice(1));
    expectClose(result.values[0].flat(), clean.values[0].flat(), TOL.f32Mean, 'checkpoint 0 in float64');
    expect(runtime.pendingPasses).toBe(0);
    expect(runtime.liveBuffers).toBe(live);
  }, 300_000);

  it('a dynamics job cancelled after checkpoint t + 1 was factored beside t’s pairs: nothing pending, the next job as on a fresh start', async () => {
    const bundle = driftBundle();
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
