// How grid jobs hold memory (engine.ts loadSide): a checkpoint of ordinary layers is factored in
// one backend call (what a GPU batches), large arrays one call each so that their data goes before
// the next is read, and a load that fails after earlier batches releases what they acquired.
// Arrays are stored datapoints-first (m, n).
import { describe, expect, it } from 'vitest';
import { cpuBackend, type ComputeBackend } from '../../src/analysis/backend';
import { computeDynamics } from '../../src/analysis/engine';
import type { Factor } from '../../src/analysis/metrics';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { InputError, type Bundle, type BundleEntry, type NdArray } from '../../src/io/types';
import { TOL, expectClose } from '../helpers/tolerance';

/** The CPU backend, recording how many representations each factorize call got and what was released. */
function recordingBackend() {
  const calls: number[] = [];
  const live = new Set<Factor>();
  let released = 0;
  const backend: ComputeBackend<Factor> = {
    ...cpuBackend,
    async factorize(reps, options, dft) {
      calls.push(reps.length);
      const factors = await cpuBackend.factorize(reps, options, dft);
      for (const f of factors) live.add(f);
      return factors;
    },
    release(factors) {
      for (const f of factors) if (live.delete(f)) released++;
    },
  };
  return { backend, calls, live, released: () => released };
}

/** A (m, n) float32 array of distinct values, made when loaded (nothing is held by the bundle). */
function array(m: number, n: number, seed: number): NdArray {
  const data = new Float32Array(m * n);
  let s = seed;
  for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  return { shape: [m, n], dtype: '<f4', data };
}

function bundle(layers: { name: string; m: number; n: number; fail?: boolean }[], steps: number[]): Bundle {
  const entries: BundleEntry[] = steps.flatMap((step) =>
    layers.map((l, k) => ({
      run: null,
      step,
      layer: l.name,
      source: `b.npz:step_${step}/${l.name}`,
      shape: [l.m, l.n],
      dtype: '<f4',
      load: async () => {
        if (l.fail) throw new InputError(`b.npz:step_${step}/${l.name}`, 'CRC mismatch: the member is corrupt');
        return array(l.m, l.n, 1 + step * 10 + k);
      },
    })),
  );
  return { name: 'b.npz', runs: [null], steps, layers: layers.map((l) => l.name), entries, unmatched: [], labels: null, manifest: null };
}

describe('grid jobs and memory', () => {
  it('a checkpoint of ordinary layers is one factorize call', async () => {
    const r = recordingBackend();
    const b = bundle(
      [
        { name: 'a', m: 300, n: 8 },
        { name: 'b', m: 300, n: 6 },
        { name: 'c', m: 300, n: 4 },
      ],
      [0, 1, 2],
    );
    const result = await computeDynamics({ bundle: b }, DEFAULT_OPTIONS, {}, r.backend);
    expect(result.values).toHaveLength(3);
    expect(r.calls).toEqual([3, 3, 3]);
  });

  it('arrays of 64 MiB of float64 or more are factored one at a time', { timeout: 60_000 }, async () => {
    const r = recordingBackend();
    // 2 100 000 datapoints × 4 neurons: 8.4 M values, 67 MB as float64; one small layer between.
    const b = bundle(
      [
        { name: 'big1', m: 2_100_000, n: 4 },
        { name: 'small', m: 2_100_000, n: 1 },
        { name: 'big2', m: 2_100_000, n: 4 },
      ],
      [0],
    );
    const result = await computeDynamics({ bundle: b }, { ...DEFAULT_OPTIONS, metric: 'cka' }, {}, r.backend);
    expectClose(
      result.values[0].map((row, i) => row[i]),
      [1, 1, 1],
      TOL.f64Identity,
      'each layer against itself',
    );
    expect(r.calls).toEqual([1, 2]); // big1 alone; then small and big2 once their data passed the bound
  });

  // A corrupt member is bad input: since a bad array costs only its own cells, the job completes,
  // names the array, and still releases every factored batch.
  it('a load that fails after a factored batch releases that batch and names the array', { timeout: 60_000 }, async () => {
    const r = recordingBackend();
    const b = bundle(
      [
        { name: 'big', m: 2_100_000, n: 4 },
        { name: 'bad', m: 2_100_000, n: 4, fail: true },
      ],
      [0],
    );
    const result = await computeDynamics({ bundle: b }, { ...DEFAULT_OPTIONS, metric: 'cka' }, {}, r.backend);
    expect(result.badArrays).toEqual([expect.objectContaining({ source: 'b.npz:step_0/bad', problem: expect.stringMatching(/CRC mismatch/) })]);
    expect(r.calls).toEqual([1]);
    expect(r.released()).toBe(1);
    expect(r.live.size).toBe(0);
  });
});
