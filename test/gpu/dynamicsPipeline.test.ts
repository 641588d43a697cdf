// The learning-dynamics schedule on the GPU backend (src/analysis/checkpointPipeline.ts), on Dawn:
// checkpoint t + 1 is factored (Grams, float64 host step, whitening) while checkpoint t's pairs run.
// Shown here:
//  - the values, warnings and provenance are those of the plain order
//    (checkpointsAhead: 0), bit for bit, on synthetic layers with a power-law spectrum and on the real
//    digits CNN (test/fixtures/real, through the DFT and flattened);
//  - the overlap really happens: a checkpoint's factoring starts before the previous one's pairs end
//    (and never in the plain order), one checkpoint ahead at most;
//  - a cancel while both are in flight, and a checkpoint that fails to load while the previous one's
//    pairs run, leave no buffer of the runtime handed out (liveBuffers) and report as in the plain order.
// Layers are n neurons × m datapoints.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { computeDynamics, type DynamicsRequest } from '../../src/analysis/engine';
import type { GpuBackend } from '../../src/analysis/gpu';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import type { GpuRuntime } from '../../src/gpu/runtime';
import type { Bundle } from '../../src/io/types';
import { openBundlePath } from '../../src/io/node';
import { randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { nodeBackend } from '../helpers/gpu';

let runtime: GpuRuntime;
let backend: GpuBackend;

beforeAll(async () => {
  ({ runtime, backend } = await nodeBackend());
}, 60_000);

const STEPS = [0, 10, 20, 30];
const DATAPOINTS = 240;

/** Rows with a power-law spectrum (row i of Gaussian noise scaled by (i + 1)^−1.5), each checkpoint a noisier copy of the last. */
function powerLawBundle(widths: number[]): Bundle {
  const arrays = widths.flatMap((n, l) => {
    const final = randn(900 + l, n, DATAPOINTS);
    return STEPS.map((step, t) => {
      const noise = randn(950 + 10 * l + t, n, DATAPOINTS);
      const weight = (STEPS.length - 1 - t) / STEPS.length;
      const data = final.data.map((v, k) => (v + weight * noise.data[k]) * (Math.floor(k / DATAPOINTS) + 1) ** -1.5);
      return { step, layer: `layer${l}`, array: storedDatapointsFirst({ rows: n, cols: DATAPOINTS, data }) };
    });
  });
  return memoryBundle('power-law.npz', arrays);
}

/** Four checkpoints of one seed of the real digits CNN, conv1 (8, 4, 4) and fc1 (64) over 400 probe digits. */
async function digitsBundle(): Promise<Bundle> {
  const full = await openBundlePath('test/fixtures/real/digits-cnn.npz');
  const run = full.runs[0];
  const steps = [full.steps[0], full.steps[2], full.steps[4], full.steps[full.steps.length - 1]];
  const layers = ['conv1', 'fc1'];
  const entries = full.entries.filter((e) => e.run === run && steps.includes(e.step) && layers.includes(e.layer));
  return { ...full, runs: [run], steps, layers, entries };
}

/** What the schedule did: each factoring's and each grid's start and end, in order. */
function recordSchedule() {
  const events: string[] = [];
  const factorize = backend.factorize.bind(backend);
  const compareGrid = backend.compareGrid.bind(backend);
  let factorings = 0;
  let grids = 0;
  const spies = [
    vi.spyOn(backend, 'factorize').mockImplementation(async (...args) => {
      const k = factorings++;
      events.push(`factor ${k} start`);
      try {
        return await factorize(...args);
      } finally {
        events.push(`factor ${k} end`);
      }
    }),
    vi.spyOn(backend, 'compareGrid').mockImplementation(async (...args) => {
      const k = grids++;
      events.push(`pairs ${k} start`);
      try {
        return await compareGrid(...args);
      } finally {
        events.push(`pairs ${k} end`);
      }
    }),
  ];
  return { events, restore: () => spies.forEach((s) => s.mockRestore()) };
}

/** Factorings that started while a grid of pairs was running (the overlap), and the most factorings in flight at once. */
function overlap(events: string[]) {
  let pairsRunning = 0;
  let factoring = 0;
  let overlapped = 0;
  let mostFactoring = 0;
  for (const e of events) {
    if (e.startsWith('pairs')) pairsRunning += e.endsWith('start') ? 1 : -1;
    if (e.startsWith('factor') && e.endsWith('start')) {
      factoring++;
      mostFactoring = Math.max(mostFactoring, factoring);
      if (pairsRunning > 0) overlapped++;
    }
    if (e.startsWith('factor') && e.endsWith('end')) factoring--;
  }
  return { overlapped, mostFactoring };
}

async function bothSchedules(bundle: Bundle, options: AnalysisOptions, withDefault = false) {
  const live = runtime.liveBuffers;
  const run = async (ahead: 0 | 1) => {
    const schedule = recordSchedule();
    try {
      const request: DynamicsRequest = { bundle, checkpointsAhead: ahead };
      const result = await computeDynamics(request, options, {}, backend);
      expect(runtime.liveBuffers).toBe(live);
      return { result, ...overlap(schedule.events) };
    } finally {
      schedule.restore();
    }
  };
  const plain = await run(0);
  const pipelined = await run(1);
  // The GPU backend overlaps by default.
  const byDefault = withDefault ? await computeDynamics({ bundle }, options, {}, backend) : null;
  return { plain, pipelined, byDefault };
}

describe('learning dynamics with checkpoint t + 1 factored during checkpoint t’s pairs (Dawn)', () => {
  it.each([
    ['SVCCA', { ...DEFAULT_OPTIONS, metric: 'svcca' }],
    ['CCA', { ...DEFAULT_OPTIONS, metric: 'cca' }],
  ] as const)(
    '%s on power-law layers: the plain order’s numbers bit for bit, with the overlap',
    async (_, options) => {
      const { plain, pipelined, byDefault } = await bothSchedules(powerLawBundle([24, 40, 16]), options, true);
      expect(plain.result.provenance?.float64 ?? []).toEqual([]); // every value from the GPU
      expect(pipelined.result.values).toEqual(plain.result.values);
      expect(pipelined.result.warnings).toEqual(plain.result.warnings);
      expect(pipelined.result.provenance).toEqual(plain.result.provenance);
      expect(byDefault?.values).toEqual(plain.result.values);
      // Plain: nothing overlaps. Pipelined: every checkpoint after the first that is not the
      // reference (factored before the loop) is factored during the previous one's pairs, one at a time.
      expect(plain.overlapped).toBe(0);
      expect(pipelined.overlapped).toBe(STEPS.length - 2);
      expect(pipelined.mostFactoring).toBe(1);
    },
    300_000,
  );

  it.each([
    // Through the DFT every value stays on the GPU (the demo's default job never falls back).
    ['through the DFT', 'dft', []],
    // Flattened, conv1's 99% cut lands within float32's round-off at one checkpoint: that layer's pairs
    // run in float64 (the documented fallback), in both orders alike.
    ['flattened', 'flatten', ["SVCCA on layer conv1: computed in float64, the 99% variance cut falls within float32's round-off"]],
  ] as const)(
    'SVCCA on the real digits CNN %s: the plain order’s numbers bit for bit',
    async (_, convReduction, float64) => {
      const { plain, pipelined } = await bothSchedules(await digitsBundle(), { ...DEFAULT_OPTIONS, convReduction });
      expect(plain.result.values.flat(2).every((v) => v !== null && Number.isFinite(v))).toBe(true);
      expect(plain.result.provenance?.float64 ?? []).toEqual(float64);
      expect(pipelined.result.values).toEqual(plain.result.values);
      expect(pipelined.result.warnings).toEqual(plain.result.warnings);
      expect(pipelined.result.provenance).toEqual(plain.result.provenance);
      expect(pipelined.overlapped).toBe(2);
    },
    300_000,
  );

  it('a cancel while checkpoint t + 1 is factored and t’s pairs run leaves no buffer handed out', async () => {
    const bundle = powerLawBundle([24, 40, 16]);
    const live = runtime.liveBuffers;
    const controller = new AbortController();
    const factorize = backend.factorize.bind(backend);
    let factorings = 0;
    // Factorings: the reference, checkpoint 0, then checkpoint 1 (during checkpoint 0's pairs): cancel there.
    const spy = vi.spyOn(backend, 'factorize').mockImplementation(async (...args) => {
      if (++factorings === 3) controller.abort();
      return factorize(...args);
    });
    const delivered: number[] = [];
    try {
      const job = computeDynamics({ bundle }, DEFAULT_OPTIONS, { signal: controller.signal, onValues: (t) => delivered.push(t) }, backend);
      await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      spy.mockRestore();
    }
    expect(factorings).toBe(3);
    expect(delivered.length).toBeLessThanOrEqual(1);
    expect(runtime.liveBuffers).toBe(live);
    // The runtime is fit for the next job.
    const after = await computeDynamics({ bundle }, DEFAULT_OPTIONS, {}, backend);
    expect(after.values).toHaveLength(STEPS.length);
  }, 300_000);

  it('a checkpoint that fails (not bad input: a bug, a lost device) during the previous one’s pairs: the same error after the same checkpoints, no buffer left', async () => {
    const failing = (): Bundle => {
      const bundle = powerLawBundle([24, 16]);
      const entries = bundle.entries.map((e) =>
        e.step === STEPS[2] && e.layer === 'layer1'
          ? {
              ...e,
              load: async () => {
                throw new Error(`lost the device reading ${e.source}`);
              },
            }
          : e,
      );
      return { ...bundle, entries };
    };
    const live = runtime.liveBuffers;
    const outcome = async (ahead: 0 | 1) => {
      const delivered: number[] = [];
      const error = await computeDynamics(
        { bundle: failing(), checkpointsAhead: ahead },
        DEFAULT_OPTIONS,
        { onValues: (t) => delivered.push(t) },
        backend,
      ).then(
        () => null,
        (e: unknown) => e,
      );
      expect(runtime.liveBuffers).toBe(live);
      return { delivered, message: error instanceof Error ? error.message : String(error) };
    };
    const plain = await outcome(0);
    const pipelined = await outcome(1);
    expect(plain.message).toMatch(/lost the device/);
    expect(pipelined).toEqual(plain);
    expect(pipelined.delivered).toEqual([0, 1]);
  }, 300_000);

  it.each([
    ['a NaN in a middle checkpoint', STEPS[1], 'layer1'],
    ['the reference checkpoint’s array with a NaN', STEPS[3], 'layer0'],
  ] as const)(
    '%s: only its cells missing, every other cell the all-good GPU value bit for bit, in both orders, no buffer left',
    async (_, badStep, badLayer) => {
      const good = powerLawBundle([24, 16]);
      const bad = powerLawBundle([24, 16]);
      bad.entries = bad.entries.map((e) =>
        e.step === badStep && e.layer === badLayer
          ? {
              ...e,
              load: async () => {
                const array = await powerLawBundle([24, 16])
                  .entries.find((g) => g.step === badStep && g.layer === badLayer)!
                  .load();
                const data = Float64Array.from(array.data);
                data[11] = Number.NaN;
                return { ...array, data };
              },
            }
          : e,
      );
      const live = runtime.liveBuffers;
      const all = await computeDynamics({ bundle: good }, DEFAULT_OPTIONS, {}, backend);
      const i = ['layer0', 'layer1'].indexOf(badLayer);
      for (const ahead of [0, 1] as const) {
        const r = await computeDynamics({ bundle: bad, checkpointsAhead: ahead }, DEFAULT_OPTIONS, {}, backend);
        expect(runtime.liveBuffers).toBe(live);
        r.values.forEach((grid, t) =>
          grid.forEach((row, a) =>
            row.forEach((v, b) => {
              const missing = badStep === r.reference ? b === i || (STEPS[t] === badStep && a === i) : STEPS[t] === badStep && a === i;
              if (missing) expect(v).toBeNull();
              else expect(v).toBe(all.values[t][a][b]);
            }),
          ),
        );
        expect(r.badArrays).toEqual([
          { step: badStep, layer: badLayer, source: `power-law.npz:step_${badStep}/${badLayer}`, problem: expect.stringMatching(/is NaN/) },
        ]);
        expect(r.warnings.filter((w) => w.startsWith(`power-law.npz:step_${badStep}/${badLayer}: `))).toHaveLength(1);
      }
    },
    300_000,
  );
});
