// What a learning-dynamics job sends to the GPU and reads back, counted by the runtime
// (src/gpu/runtime.ts traffic()): dispatches, compute passes, submissions and readbacks are the
// same on any adapter, so SwiftShader here tells what an H200 gets. The design: per checkpoint,
// the layers of the checkpoint are factored together (one batched Gram, whitening, refinement Gram
// and refinement: 4 dispatches, the 2 readbacks the host's float64 steps need) and its grid of
// pairs is one cross product, one batched Gram of the pair blocks and one batched Jacobi (1
// dispatch and 1 readback per round of sweeps), all whatever the number of layers and pairs. Work
// recorded between two readbacks goes to the GPU as one submission.
//
// Layers are n neurons × m datapoints (seeded Gaussian rows, each checkpoint a noisier copy of the last).
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/analysis/backend';
import { computeDynamics } from '../../src/analysis/engine';
import type { PairNumbers } from '../../src/analysis/metrics';
import { GpuBackend } from '../../src/analysis/gpu';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { GpuRuntime, type GpuTraffic } from '../../src/gpu/runtime';
import { randn } from '../../src/math/random';
import type { Representation } from '../../src/math/reduce';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { TOL, expectClose } from '../helpers/tolerance';
import { nodeBackend } from '../helpers/gpu';

let runtime: GpuRuntime;
let backend: GpuBackend;

beforeAll(async () => {
  ({ runtime, backend } = await nodeBackend());
}, 60_000);

const CHECKPOINTS = 3;
const DATAPOINTS = 80;

/** A bundle of `widths.length` dense layers over CHECKPOINTS checkpoints. */
function dynamicsBundle(widths: number[]) {
  const arrays = widths.flatMap((n, l) => {
    const final = randn(500 + l, n, DATAPOINTS);
    return Array.from({ length: CHECKPOINTS }, (_, step) => {
      const noise = randn(600 + 10 * l + step, n, DATAPOINTS);
      const weight = (CHECKPOINTS - 1 - step) / CHECKPOINTS;
      const x = { rows: n, cols: DATAPOINTS, data: final.data.map((v, i) => v + weight * noise.data[i]) };
      return { step, layer: `layer${l}`, array: storedDatapointsFirst(x) };
    });
  });
  return memoryBundle('dynamics.npz', arrays);
}

/** The traffic of one dynamics job after a warm-up run of the same job (pipelines compiled). `checkpointsAhead`:
 *  the GPU's default schedule (checkpoint t + 1 factored during t's pairs, src/analysis/checkpointPipeline.ts), or 0. */
async function countedJob(widths: number[], checkpointsAhead?: 0): Promise<GpuTraffic> {
  const bundle = dynamicsBundle(widths);
  await computeDynamics({ bundle, checkpointsAhead }, DEFAULT_OPTIONS, {}, backend);
  runtime.resetTraffic();
  const result = await computeDynamics({ bundle, checkpointsAhead }, DEFAULT_OPTIONS, {}, backend);
  // Every value came from the GPU: a float64 fallback would count less and prove nothing.
  expect(result.provenance?.float64 ?? []).toEqual([]);
  return runtime.traffic();
}

// Per checkpoint (a dynamics job factors each checkpoint's side once, the reference's among them).
/** Gram, whitening, refinement Gram, refinement; cross product, pair Grams; one Jacobi round (small matrices: every sweep fits one dispatch).
 *  DATAPOINTS is below 2·MIN_SLICE_K, so no product is split: a split one adds its reduction dispatch (src/gpu/kernels/product.ts planProducts). */
const DISPATCHES_PER_CHECKPOINT = 4 + 2 + 1;
/** The Gram and the refinement Gram for the host's float64 steps; the Jacobi state once per round. */
const READBACKS_PER_CHECKPOINT = 2 + 1;
/** One submission per readback, and the refinement's at the end of the factoring. */
const SUBMITS_PER_CHECKPOINT = READBACKS_PER_CHECKPOINT + 1;

/** Datapoints of the conv layers below: 2n = 120 embedded columns, below 2·MIN_SLICE_K, so no product is split. */
const DFT_DATAPOINTS = 60;
/** The pair stage of a DFT grid whose blocks are factored: the Jacobi state once (small matrices: one round). */
const DFT_READBACKS_PER_GRID = 1;
/** Factoring every layer's blocks for every frequency list a grid needs, together: the Gram and the refinement Gram for the host's float64 steps. */
const DFT_FACTORING_READBACKS = 2;
/** A storage-binding limit (bytes) that the largest block set below fits (42 rows × 120 f32, 20 KiB) but not a side's sets
 *  together: the 3 × 3 grid goes in 2 batches (6 pairs, then 3). */
const BUDGET_BINDING_BYTES = 64 * 1024;

const perCheckpoint = (traffic: GpuTraffic) => ({
  dispatches: traffic.dispatches / CHECKPOINTS,
  readbacks: traffic.readbacks / CHECKPOINTS,
  submits: traffic.submits / CHECKPOINTS,
});

describe('dispatches, submissions and readbacks of a dynamics job', () => {
  it.each([
    ['as this adapter chooses', null],
    ['as a hardware GPU chooses (workgroup-memory Jacobi)', false],
  ] as const)(
    'a constant number per checkpoint, whatever the number of layers and pairs (%s)',
    async (_, software) => {
      const adapterSoftware = runtime.software;
      if (software !== null) runtime.software = software;
      try {
        const two = perCheckpoint(await countedJob([6, 9])); // 4 pairs per checkpoint
        const four = perCheckpoint(await countedJob([6, 9, 12, 7])); // 16 pairs per checkpoint
        expect(four).toEqual(two);
        expect(four.dispatches).toBeLessThanOrEqual(DISPATCHES_PER_CHECKPOINT);
        expect(four.readbacks).toBeLessThanOrEqual(READBACKS_PER_CHECKPOINT);
        expect(four.submits).toBeLessThanOrEqual(SUBMITS_PER_CHECKPOINT);
        // The overlapped schedule does the same work as one checkpoint after another; a readback of
        // either flow may submit the other's recorded work with its own (every readback submits: no more submissions).
        const plain = perCheckpoint(await countedJob([6, 9, 12, 7], 0));
        expect({ dispatches: four.dispatches, readbacks: four.readbacks }).toEqual({ dispatches: plain.dispatches, readbacks: plain.readbacks });
        expect(four.submits).toBeLessThanOrEqual(plain.submits);
      } finally {
        runtime.software = adapterSoftware;
      }
    },
    300_000,
  );

  it("PWCCA's paper weights: one readback for the grid's pass, not two per pair, and the float64 numbers", async () => {
    const options = { ...DEFAULT_OPTIONS, metric: 'pwcca' as const, pwccaVariant: 'paper' as const };
    const layers = (seed: number): Representation[] => [5, 8, 6].map((n, l) => ({ kind: 'dense', x: randn(seed + l, n, DATAPOINTS) }));
    const [a, b] = [layers(700), layers(800)];
    const [fa, fb] = [await backend.factorize(a, options, false), await backend.factorize(b, options, false)];
    runtime.resetTraffic();
    const grid = await backend.compareGrid(fa, fb, options);
    const traffic = runtime.traffic();
    backend.release([...fa, ...fb]);
    // The cross product of all pairs, then one batched pass for all nine pairs' directions, Grams and projections.
    expect(traffic.readbacks).toBe(2);
    expect(traffic.byLabel['pwcca.gram'].dispatches).toBe(1);
    const [ca, cb] = [a.map((rep) => cpuBackend.factorize([rep], options, false)), b.map((rep) => cpuBackend.factorize([rep], options, false))];
    const cpu = await Promise.all(ca.map(async (x) => Promise.all(cb.map(async (y) => (await cpuBackend.compareGrid(await x, await y, options))[0][0]))));
    expect(grid.flat().every((p) => p.fallbackPair === undefined)).toBe(true);
    expectClose(
      grid.flat().map((p) => p.similarity),
      cpu.flat().map((p) => p.similarity),
      TOL.f32Mean,
      'PWCCA (paper) grid',
    );
  }, 300_000);

  it.each(['cka', 'cka-debiased'] as const)(
    "%s: the pairs' and the layers' sums of squares are read back, not the cross product and the Grams",
    async (metric) => {
      const options = { ...DEFAULT_OPTIONS, metric };
      const layers = (seed: number): Representation[] => [5, 8, 6].map((n, l) => ({ kind: 'dense', x: randn(seed + l, n, DATAPOINTS) }));
      const [a, b] = [layers(900), layers(1000)];
      runtime.resetTraffic();
      const [fa, fb] = [await backend.factorize(a, options, false), await backend.factorize(b, options, false)];
      const grid = await backend.compareGrid(fa, fb, options);
      const traffic = runtime.traffic();
      backend.release([...fa, ...fb]);
      // One readback per side's factors and one for the grid, each of 256 partial sums (f32) per layer or pair.
      expect(traffic.readbacks).toBe(3);
      expect(traffic.bytesRead).toBe((3 + 3 + 9) * 256 * 4);
      const cpu = await cpuBackend.compareGrid(await cpuBackend.factorize(a, options, false), await cpuBackend.factorize(b, options, false), options);
      expectClose(
        grid.flat().map((p) => p.similarity),
        cpu.flat().map((p) => p.similarity),
        TOL.f32Mean,
        `${metric} grid`,
      );
    },
    300_000,
  );

  describe('CCA and SVCCA of conv layers through the DFT', () => {
    /** NHWC activations (datapoints × height × width × channels), seeded; shapes differ so the pairs' frequency lists do. */
    const convLayers = (seed: number, shapes: [number, number, number][]): Representation[] =>
      shapes.map(([h, w, c], l) => ({
        kind: 'conv',
        conv: { datapoints: DFT_DATAPOINTS, height: h, width: w, channels: c, data: randn(seed + l, 1, DFT_DATAPOINTS * h * w * c).data },
      }));
    const [shapesA, shapesB] = [
      [
        [4, 3, 3],
        [3, 3, 2],
        [2, 2, 4],
      ],
      [
        [4, 3, 2],
        [5, 2, 3],
        [1, 1, 5],
      ],
    ] as [number, number, number][][];

    /** The grid of a × b on the GPU, run twice: `first` counts the run that factors the layers' frequency
     *  blocks (and keeps them), `traffic` the second, the pair stage alone. */
    async function dftGrid(a: Representation[], b: Representation[], options: typeof DEFAULT_OPTIONS) {
      const [fa, fb] = [await backend.factorize(a, options, true), await backend.factorize(b, options, true)];
      try {
        runtime.resetTraffic();
        await backend.compareGrid(fa, fb, options);
        const first = runtime.traffic();
        runtime.resetTraffic();
        const progress: number[] = [];
        const grid = await backend.compareGrid(fa, fb, options, (count) => progress.push(count));
        const traffic = runtime.traffic();
        // Each pair alone: a 1 × 1 grid is a batch of one pair, the per-pair work of before.
        const alone: PairNumbers[][] = [];
        for (const x of fa) {
          alone.push([]);
          for (const y of fb) alone[alone.length - 1].push((await backend.compareGrid([x], [y], options))[0][0]);
        }
        return { grid, first, traffic, progress, alone };
      } finally {
        backend.release([...fa, ...fb]);
      }
    }

    it.each([
      ['svcca', 'as this adapter chooses', null],
      ['cca', 'as this adapter chooses', null],
      ['svcca', 'as a hardware GPU chooses', false],
    ] as const)(
      '%s (%s): one batch of products and one Jacobi readback per grid, whatever the number of pairs; the float64 numbers',
      async (metric, _, software) => {
        const options = { ...DEFAULT_OPTIONS, metric };
        const adapterSoftware = runtime.software;
        if (software !== null) runtime.software = software;
        try {
          const small = await dftGrid(convLayers(1100, shapesA.slice(0, 2)), convLayers(1200, shapesB.slice(0, 2)), options);
          const [a, b] = [convLayers(1100, shapesA), convLayers(1200, shapesB)];
          const large = await dftGrid(a, b, options);
          // Per pair (before): a cross product, a pair Gram and a Jacobi with its readback; per layer and
          // frequency list, a Gram and the factoring's 2 readbacks. Now per grid.
          for (const { first, traffic } of [small, large]) {
            expect(first.readbacks).toBe(DFT_FACTORING_READBACKS + DFT_READBACKS_PER_GRID);
            expect(first.byLabel['dft.gram'].dispatches).toBe(1);
            expect(traffic.readbacks).toBe(DFT_READBACKS_PER_GRID);
            expect(traffic.byLabel['dft.cross'].dispatches).toBe(1);
            expect(traffic.byLabel['dft.pair-gram'].dispatches).toBe(1);
          }
          // What grows with the layers: cutting each layer's blocks for each frequency list it meets (2 dispatches, no readback).
          expect(large.first.submits).toBe(small.first.submits);
          expect(large.first.dispatches - large.first.byLabel.blocks.dispatches).toBe(small.first.dispatches - small.first.byLabel.blocks.dispatches);
          expect(large.traffic.dispatches).toBe(small.traffic.dispatches);
          expect(large.traffic.submits).toBe(small.traffic.submits);
          expect(large.progress.reduce((s, c) => s + c, 0)).toBe(9);
          // A pair's numbers do not depend on the pairs batched with it (the same kernels on the same
          // inputs; no product here is split over its datapoints, which a larger batch could slice otherwise).
          expect(large.grid).toEqual(large.alone);
          expect(large.grid.flat().every((p) => p.fallbackSides === undefined)).toBe(true);
          const cpu = await cpuBackend.compareGrid(await cpuBackend.factorize(a, options, true), await cpuBackend.factorize(b, options, true), options);
          for (const key of ['similarity', 'mean98', 'meanSquared'] as const) {
            expectClose(
              large.grid.flat().map((p) => p[key]),
              cpu.flat().map((p) => p[key]),
              TOL.f32Mean,
              `DFT ${metric} grid, ${key}`,
            );
          }
        } finally {
          runtime.software = adapterSoftware;
        }
      },
      300_000,
    );

    it('a grid beyond the memory budget runs in several batches, progress told per batch, the same numbers', async () => {
      const options = { ...DEFAULT_OPTIONS, metric: 'svcca' as const };
      const [a, b] = [convLayers(1100, shapesA), convLayers(1200, shapesB)];
      const whole = await dftGrid(a, b, options);
      // The same device with a binding limit (BUDGET_BINDING_BYTES) that one layer's blocks fit but
      // not a whole side's stacked blocks: the pairs go in batches, each its own Jacobi readback.
      const bounded = new GpuBackend(new GpuRuntime(runtime.device, undefined, BUDGET_BINDING_BYTES));
      bounded.runtime.software = runtime.software;
      const [fa, fb] = [await bounded.factorize(a, options, true), await bounded.factorize(b, options, true)];
      try {
        expect([...fa, ...fb].every((f) => f.kind === 'gpu-dft')).toBe(true);
        await bounded.compareGrid(fa, fb, options);
        bounded.runtime.resetTraffic();
        const progress: number[] = [];
        const grid = await bounded.compareGrid(fa, fb, options, (count) => progress.push(count));
        expect(progress.length).toBeGreaterThan(1);
        expect(progress.reduce((s, c) => s + c, 0)).toBe(9);
        expect(bounded.runtime.traffic().byLabel['jacobi.state'].readbacks).toBe(progress.length);
        expect(grid).toEqual(whole.grid);
      } finally {
        bounded.release([...fa, ...fb]);
      }
    }, 300_000);
  });

  it('counts by label and resets', async () => {
    const traffic = await countedJob([6, 9, 12]);
    // The pair stage's Jacobi: one readback of its state per checkpoint, none per pair.
    expect(traffic.byLabel['jacobi.state'].readbacks).toBe(CHECKPOINTS);
    expect(traffic.byLabel['pairs.cross'].dispatches).toBe(CHECKPOINTS);
    expect(traffic.byLabel['pairs.gram'].dispatches).toBe(CHECKPOINTS);
    // Totals are the sums over labels; bytes read are what the readbacks mapped.
    const sum = (key: keyof GpuTraffic['byLabel'][string]) => Object.values(traffic.byLabel).reduce((s, c) => s + c[key], 0);
    for (const key of ['dispatches', 'passes', 'submits', 'readbacks', 'bytesRead', 'bytesUploaded', 'discarded'] as const) expect(sum(key)).toBe(traffic[key]);
    // A job that succeeds gives up nothing it recorded (a failed one's: test/gpu/discardPending.test.ts).
    expect(traffic.discarded).toBe(0);
    expect(traffic.bytesUploaded).toBeGreaterThanOrEqual(CHECKPOINTS * (6 + 9 + 12) * DATAPOINTS * 4); // the centred rows, f32
    runtime.resetTraffic();
    expect(runtime.traffic()).toEqual({ dispatches: 0, passes: 0, submits: 0, readbacks: 0, bytesRead: 0, bytesUploaded: 0, discarded: 0, byLabel: {} });
  }, 300_000);
});
