// A bad array in an across-runs job on the WebGPU backend (Dawn in Node): only its row (A) or
// column (B) is missing, every other cell is the all-good GPU job's value bit for bit, and no
// buffer is left behind. Layers are stored datapoints-first (m datapoints × n neurons).
import { beforeAll, describe, expect, it } from 'vitest';
import { computeCross } from '../../src/analysis/engine';
import type { GpuBackend } from '../../src/analysis/gpu';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import type { GpuRuntime } from '../../src/gpu/runtime';
import type { Bundle } from '../../src/io/types';
import { randn } from '../../src/math/random';
import { add } from '../helpers/data';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { nodeBackend } from '../helpers/gpu';

let runtime: GpuRuntime;
let backend: GpuBackend;

beforeAll(async () => {
  ({ runtime, backend } = await nodeBackend());
}, 60_000);

const LAYERS = ['layer0', 'layer1', 'layer2'];

/** Two runs of three layers at step 100: a shared representation plus each run's noise. */
function twoRuns(bad?: { run: string; layer: string }): Bundle {
  const shared = LAYERS.map((_, l) => randn(500 + l, 8 + 4 * l, 192));
  return memoryBundle(
    'runs.npz',
    ['a', 'b'].flatMap((run, r) =>
      LAYERS.map((layer, l) => {
        const array = storedDatapointsFirst(add(shared[l], randn(600 + 10 * r + l, shared[l].rows, 192), 0.7));
        if (bad?.run === run && bad.layer === layer) {
          const data = Float64Array.from(array.data);
          data[5] = Number.POSITIVE_INFINITY;
          return { run, step: 100, layer, array: { ...array, data } };
        }
        return { run, step: 100, layer, array };
      }),
    ),
  );
}

describe('a bad array across runs on the GPU', () => {
  it.each([
    ["A's", 'a', 'layer1'],
    ["B's", 'b', 'layer2'],
  ] as const)(
    '%s array with an Inf: only its line is missing, every other cell the all-good GPU value bit for bit, no buffer left',
    async (_, run, layer) => {
      const live = runtime.liveBuffers;
      const good = twoRuns();
      const all = await computeCross({ a: { bundle: good, run: 'a' }, b: { bundle: good, run: 'b' } }, DEFAULT_OPTIONS, {}, backend);
      const bad = twoRuns({ run, layer });
      const r = await computeCross({ a: { bundle: bad, run: 'a' }, b: { bundle: bad, run: 'b' } }, DEFAULT_OPTIONS, {}, backend);
      expect(runtime.liveBuffers).toBe(live);
      const k = LAYERS.indexOf(layer);
      r.values.forEach((row, i) =>
        row.forEach((v, j) => {
          if (run === 'a' ? i === k : j === k) expect(v).toBeNull();
          else expect(v).toBe(all.values[i][j]);
        }),
      );
      expect(r.badArrays).toEqual([
        {
          step: 100,
          layer,
          source: `runs.npz:${run}/step_100/${layer}`,
          problem: expect.stringMatching(/is \+Inf; activations must be finite/),
          side: run === 'a' ? 'A' : 'B',
          run,
        },
      ]);
      expect(r.warnings.filter((w) => w.startsWith(`runs.npz:${run}/step_100/${layer}: `))).toHaveLength(1);
    },
    300_000,
  );
});
