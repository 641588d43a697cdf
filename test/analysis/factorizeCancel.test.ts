// A cancel reaches backend.factorize: a learning-dynamics job cancelled while a checkpoint's layers
// are being factored stops before the next layer, not after the checkpoint's last. Counted, not
// timed: every float64 factorisation goes through metrics.ts `factorize`, wrapped here to count the
// calls and to cancel the job from inside the second one; no factorisation may start after it.
// Through the engine (an AbortSignal; learning dynamics and across runs) and through the app's
// worker core (the client's cancel message).

import { zipSync } from 'fflate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cpuBackend } from '../../src/analysis/backend';
import { computeCross, computeDynamics } from '../../src/analysis/engine';
import { nodePoolPort } from '../../src/analysis/pool/node';
import { CpuPool } from '../../src/analysis/pool/pool';
import type { Representation } from '../../src/math/reduce';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { encodeNpy } from '../../src/io/npy';
import type { NdArray } from '../../src/io/types';
import { memoryBundle } from '../helpers/bundle';
import { inProcessClient } from '../helpers/worker';

/** Factorisations started, and what to do at the `at`-th. */
const counter = vi.hoisted(() => ({ calls: 0, at: Infinity, onCall: () => {} }));

vi.mock('../../src/analysis/metrics', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/analysis/metrics')>();
  return {
    ...original,
    factorize: (...args: Parameters<typeof original.factorize>) => {
      counter.calls++;
      const factor = original.factorize(...args);
      if (counter.calls === counter.at) counter.onCall();
      return factor;
    },
  };
});

afterEach(() => {
  counter.calls = 0;
  counter.at = Infinity;
  counter.onCall = () => {};
});

const LAYERS = 6;
const M = 80;

/** One dense layer, datapoints first (M × 20), float32. */
function layerArray(seed: number): NdArray {
  let s = seed;
  const data = Float32Array.from({ length: M * 20 }, () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
  return { shape: [M, 20], dtype: '<f4', data };
}

const arrays = [0, 100].flatMap((step) => Array.from({ length: LAYERS }, (_, l) => ({ step, layer: `fc${l}`, array: layerArray(step + l + 1) })));

describe('cancelling a dynamics job while a checkpoint is factored', () => {
  it('the engine: no layer is factored after the abort (the reference step has 6 layers in one batch)', async () => {
    const bundle = memoryBundle('six.npz', arrays);
    // Uncancelled, the job factors every array once.
    await computeDynamics({ bundle }, DEFAULT_OPTIONS, {}, cpuBackend);
    expect(counter.calls).toBe(2 * LAYERS);

    counter.calls = 0;
    const controller = new AbortController();
    counter.at = 2;
    counter.onCall = () => controller.abort();
    await expect(computeDynamics({ bundle }, DEFAULT_OPTIONS, { signal: controller.signal }, cpuBackend)).rejects.toMatchObject({ name: 'AbortError' });
    expect(counter.calls).toBe(2); // the reference step's batch stopped after its second layer
  });

  it('across runs: a cancel while side A is factored stops before its next layer, and side B is never factored', async () => {
    const bundle = memoryBundle('six.npz', arrays);
    const request = { a: { bundle }, b: { bundle }, step: 100 };
    await computeCross(request, DEFAULT_OPTIONS, {}, cpuBackend);
    expect(counter.calls).toBe(2 * LAYERS);

    counter.calls = 0;
    const controller = new AbortController();
    counter.at = 2;
    counter.onCall = () => controller.abort();
    await expect(computeCross(request, DEFAULT_OPTIONS, { signal: controller.signal }, cpuBackend)).rejects.toMatchObject({ name: 'AbortError' });
    expect(counter.calls).toBe(2);
  });

  it("the app's worker: the client's cancel reaches the job between two layers of a checkpoint", async () => {
    const client = inProcessClient();
    const members = Object.fromEntries(arrays.map((a) => [`step_${a.step}/${a.layer}.npy`, encodeNpy(a.array.shape, a.array.data as Float32Array)]));
    const file = new File([zipSync(members, { level: 0 })], 'six.npz');
    const added = await client.addInput([{ path: 'six.npz', file }], 'six.npz');
    expect(added.bundle?.layers).toHaveLength(LAYERS);

    const controller = new AbortController();
    counter.calls = 0;
    counter.at = 2;
    counter.onCall = () => controller.abort();
    const job = client.dynamics(
      { bundle: added.bundle!.id, run: null, reference: 'last', dropped: [], options: { ...DEFAULT_OPTIONS, backend: 'cpu' } },
      { signal: controller.signal },
    );
    // The client rejects when the worker answers 'aborted', which it does once its job has stopped.
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    expect(counter.calls).toBe(2);
  });

  it('the CPU pool: an abort while its workers factor a batch rejects at once and stops them; the next batch starts fresh', async () => {
    const ports: { posted: number; terminated: boolean }[] = [];
    const controller = new AbortController();
    const pool = new CpuPool({
      threads: 2,
      shared: true,
      spawn: (index) => {
        const port = nodePoolPort(index);
        const record = { posted: 0, terminated: false };
        ports.push(record);
        return {
          ...port,
          post: (request) => {
            record.posted++;
            port.post(request);
            if (ports.reduce((n, p) => n + p.posted, 0) === 1) queueMicrotask(() => controller.abort());
          },
          terminate: () => {
            record.terminated = true;
            port.terminate();
          },
        };
      },
    });
    let s = 7;
    const reps: Representation[] = Array.from({ length: 12 }, () => ({
      kind: 'dense',
      x: { rows: 120, cols: 400, data: Float64Array.from({ length: 120 * 400 }, () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) },
    }));
    await expect(pool.factorize(reps, DEFAULT_OPTIONS, false, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.every((p) => p.terminated)).toBe(true);
    // Fewer tasks went out than the batch has: the rest were never sent.
    expect(ports.reduce((n, p) => n + p.posted, 0)).toBeLessThan(reps.length);
    // An aborted signal: nothing is sent at all.
    const before = ports.reduce((n, p) => n + p.posted, 0);
    await expect(pool.factorize(reps, DEFAULT_OPTIONS, false, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(ports.reduce((n, p) => n + p.posted, 0)).toBe(before);
    // Afterwards the pool factors as the in-process path does.
    expect(await pool.factorize(reps.slice(0, 2), DEFAULT_OPTIONS, false)).toEqual(await cpuBackend.factorize(reps.slice(0, 2), DEFAULT_OPTIONS, false));
    pool.close();
  });
});
