// The GPU self-check: seeded cases computed by a backend under test and by the float64 CPU oracle,
// compared with the tolerances the GPU path promises. Used by gpu-check.html (anyone can run it on
// their own GPU) and by the end-to-end parity tests. Inputs come from the portable generator of the
// semantics doc, so they are the same everywhere.
//
// Shapes: seeded matrices are n neurons × m datapoints; they are handed to the engine stored
// neurons-first (n, m), which detectLayout reads as such.

import type { Bundle, BundleEntry, NdArray } from '../io/types';
import { multiply, type Matrix } from '../math/matrix';
import { randn } from '../math/random';
import { cpuBackend, type ComputeBackend } from './backend';
import { comparePair, computeDynamics } from './engine';
import { GpuBackend } from './gpu';
import { gridMaxDelta } from './precision';
import { GpuRuntime } from '../gpu/runtime';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Metric } from './types';

import { SELF_CHECK_TOLERANCE, type CheckRow, type DeviceLossCheck, type GpuSelfCheck } from './selfCheckVerdict';

export { SELF_CHECK_TOLERANCE };
export type { CheckRow, DeviceLossCheck, GpuSelfCheck };

function stored(x: Matrix): NdArray {
  return { shape: [x.rows, x.cols], dtype: '<f8', data: x.data };
}

function plus(a: Matrix, b: Matrix, scale: number): Matrix {
  return { rows: a.rows, cols: a.cols, data: a.data.map((v, i) => v + scale * b.data[i]) };
}

export interface CheckCase {
  name: string;
  /** Matrices (neurons × datapoints) or conv tensors already stored NHWC. */
  a: Matrix | NdArray;
  b: Matrix | NdArray;
  metrics: Metric[];
  options?: Partial<AnalysisOptions>;
}

/** A random NHWC conv activation (n, h, w, c) and a second layer of half its spatial size made from it
 *  (2×2 average pooling, channel mixing, tanh, noise): related, of different sizes, odd and even. */
function convPair(seed: number, n: number, h: number, w: number, c: number, outChannels: number): [NdArray, NdArray] {
  const x = randn(seed, 1, n * h * w * c).data;
  const mix = randn(seed + 1, outChannels, c).data;
  const noise = randn(seed + 2, 1, n * (h >> 1) * (w >> 1) * outChannels).data;
  const h2 = h >> 1;
  const w2 = w >> 1;
  const y = new Float64Array(n * h2 * w2 * outChannels);
  for (let i = 0; i < n; i++)
    for (let u = 0; u < h2; u++)
      for (let v = 0; v < w2; v++)
        for (let o = 0; o < outChannels; o++) {
          let sum = 0;
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) for (let ch = 0; ch < c; ch++) sum += mix[o * c + ch] * x[((i * h + 2 * u + dy) * w + 2 * v + dx) * c + ch];
          const at = ((i * h2 + u) * w2 + v) * outChannels + o;
          y[at] = Math.tanh(sum / 4) + 0.3 * noise[at];
        }
  return [
    { shape: [n, h, w, c], dtype: '<f8', data: x },
    { shape: [n, h2, w2, outChannels], dtype: '<f8', data: y },
  ];
}

export function selfCheckCases(): CheckCase[] {
  const x = randn(1, 50, 2000);
  const referenceY = plus(multiply(randn(3, 50, 50), x), randn(4, 50, 2000), 5);
  const tall = randn(10, 12, 400);
  const rankDeficient = multiply(randn(20, 16, 4), randn(21, 4, 300));
  const dead = randn(30, 8, 300);
  dead.data.fill(0.5, 2 * 300, 3 * 300);
  const decaying = randn(40, 24, 600);
  for (let i = 0; i < 24; i++) for (let j = 0; j < 600; j++) decaying.data[i * 600 + j] *= (i + 1) ** -1.5;
  const all: Metric[] = ['svcca', 'cca', 'cka', 'cka-debiased'];
  const [convA, convB] = convPair(50, 160, 6, 5, 3, 4);
  const nhwc: Partial<AnalysisOptions> = { convLayout: 'nhwc', convReduction: 'dft' };
  return [
    { name: 'conv 6×5×3 vs conv 3×2×4 through the DFT (shared low frequencies)', a: convA, b: convB, metrics: ['svcca', 'cca'], options: nhwc },
    { name: 'conv vs dense through the DFT (DC term)', a: convA, b: randn(51, 5, 160), metrics: ['svcca', 'cca'], options: nhwc },
    { name: 'semantics-doc reference (50 × 2000, Y = AX + 5N)', a: x, b: referenceY, metrics: [...all, 'pwcca'] },
    { name: 'tall (12 vs 9 neurons, 400 datapoints)', a: tall, b: plus(multiply(randn(11, 9, 12), tall), randn(12, 9, 400), 1), metrics: [...all, 'pwcca'] },
    {
      name: 'PWCCA, paper variant, second side smaller',
      a: tall,
      b: plus(multiply(randn(13, 7, 12), tall), randn(14, 7, 400), 1),
      metrics: ['pwcca'],
      options: { pwccaVariant: 'paper' },
    },
    { name: 'rank-deficient (16 neurons of rank 4)', a: rankDeficient, b: randn(22, 10, 300), metrics: ['svcca', 'cca', 'cka'] },
    { name: 'dead neuron', a: dead, b: randn(31, 6, 300), metrics: ['svcca', 'cca'] },
    { name: 'decaying spectrum, fixed k', a: decaying, b: randn(41, 20, 600), metrics: ['svcca'] },
  ];
}

function optionsFor(c: CheckCase, metric: Metric): AnalysisOptions {
  return { ...DEFAULT_OPTIONS, ...c.options, metric, keep: c.name.includes('fixed k') ? { kind: 'dims', k: 10 } : DEFAULT_OPTIONS.keep };
}

/** A case's side as the engine takes it: matrices are stored neurons-first. */
export const asArray = (x: Matrix | NdArray): NdArray => ('shape' in x ? x : stored(x));

/** Every case × metric on `backend` against the CPU oracle. */
export async function runSelfCheck(backend: ComputeBackend, onRow?: (row: CheckRow) => void): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const c of selfCheckCases()) {
    for (const metric of c.metrics) {
      const options = optionsFor(c, metric);
      const a = { name: `${c.name}:A`, array: asArray(c.a) };
      const b = { name: `${c.name}:B`, array: asArray(c.b) };
      const cpu = await comparePair(a, b, options, cpuBackend);
      const gpu = await comparePair(a, b, options, backend);
      const maxDeltaRho = cpu.rho.reduce((m, r, i) => Math.max(m, Math.abs(r - (gpu.rho[i] ?? NaN))), 0);
      const keptEqual = cpu.kept[0] === gpu.kept[0] && cpu.kept[1] === gpu.kept[1] && cpu.rho.length === gpu.rho.length;
      const deltaSimilarity = Math.abs(cpu.similarity - gpu.similarity);
      const row: CheckRow = {
        name: c.name,
        metric,
        cpu: { similarity: cpu.similarity, rho: cpu.rho, kept: cpu.kept },
        gpu: { similarity: gpu.similarity, rho: gpu.rho, kept: gpu.kept },
        deltaSimilarity,
        maxDeltaRho,
        keptEqual,
        ok: deltaSimilarity <= SELF_CHECK_TOLERANCE.similarity && !(maxDeltaRho > SELF_CHECK_TOLERANCE.rho) && keptEqual,
      };
      rows.push(row);
      onRow?.(row);
    }
  }
  return rows;
}

/** A small learning-dynamics bundle (3 layers × 3 checkpoints) converging to its last step. */
export function selfCheckBundle(): Bundle {
  const finals = [randn(100, 6, 300), randn(101, 8, 300), randn(102, 5, 300)];
  const entries: BundleEntry[] = [];
  for (const step of [0, 10, 20]) {
    finals.forEach((final, l) => {
      const array = stored(plus(final, randn(200 + step * 7 + l, final.rows, 300), (20 - step) / 10));
      entries.push({
        run: null,
        step,
        layer: `layer${l}`,
        source: `self-check:step_${step}/layer${l}`,
        shape: array.shape,
        dtype: array.dtype,
        load: async () => array,
      });
    });
  }
  return { name: 'self-check', runs: [null], steps: [0, 10, 20], layers: ['layer0', 'layer1', 'layer2'], entries, unmatched: [], labels: null, manifest: null };
}

/** The batched grid path: a dynamics job on `backend` against the CPU oracle; the largest |Δ|. */
export async function runGridCheck(
  backend: ComputeBackend,
  metric: Metric = 'svcca',
): Promise<{ maxDelta: number; cpu: (number | null)[][][]; gpu: (number | null)[][][] }> {
  const options = { ...DEFAULT_OPTIONS, metric };
  const cpu = await computeDynamics({ bundle: selfCheckBundle() }, options, {}, cpuBackend);
  const gpu = await computeDynamics({ bundle: selfCheckBundle() }, options, {}, backend);
  return { maxDelta: gridMaxDelta(cpu.values, gpu.values), cpu: cpu.values, gpu: gpu.values };
}

/** The semantics doc's reference pair on `backend`, for its warnings. */
async function runReferencePair(backend: ComputeBackend) {
  const c = selfCheckCases().find((x) => x.name.startsWith('semantics-doc'))!;
  return comparePair({ name: 'x', array: asArray(c.a) }, { name: 'y', array: asArray(c.b) }, DEFAULT_OPTIONS, backend);
}

/** Everything the WebGPU backend promises, on `backend`'s device: the browser's gpu-check page and
 *  the Node parity tests (Dawn) both run this. */
export async function runGpuSelfCheck(backend: GpuBackend, onRow?: (row: CheckRow) => void): Promise<GpuSelfCheck> {
  const rows = await runSelfCheck(backend, onRow);
  const grid = await runGridCheck(backend, 'svcca');
  const gridCka = await runGridCheck(backend, 'cka');
  const chunked = new GpuBackend(backend.runtime, 64 * 1024);
  const chunkedRows = (await runSelfCheck(chunked)).filter((row) => row.metric === 'svcca' || row.metric === 'cca');
  const chunkedGrid = await runGridCheck(chunked, 'svcca');
  const small = new GpuBackend(new GpuRuntime(backend.runtime.device, undefined, 64 * 1024));
  const limitedRows = (await runSelfCheck(small)).filter((row) => row.name.startsWith('semantics-doc'));
  const limitedWarnings = (await runReferencePair(small)).warnings;
  return {
    rows,
    gridMaxDelta: grid.maxDelta,
    gridCkaMaxDelta: gridCka.maxDelta,
    chunkedRows,
    chunkedGridMaxDelta: chunkedGrid.maxDelta,
    limitedRows,
    limitedWarnings,
  };
}

/** Destroys the device after the first checkpoint's values arrive (not runtime.destroy(): an
 *  unexpected loss); the job must fail with the loss and keep those values, and the next
 *  `acquire()` must hand out a fresh device that finishes the same job. */
export async function runDeviceLossCheck(acquire: () => Promise<ComputeBackend>): Promise<DeviceLossCheck> {
  const backend = await acquire();
  const partial: (number | null)[][][] = [];
  let error = '';
  try {
    await computeDynamics(
      { bundle: selfCheckBundle() },
      DEFAULT_OPTIONS,
      {
        onValues: (t, values) => {
          partial[t] = values;
          if (t === 0) (backend as GpuBackend).runtime.device.destroy();
        },
      },
      backend,
    );
  } catch (e) {
    error = `${(e as Error).name}: ${(e as Error).message}`;
  }
  await new Promise((r) => setTimeout(r, 50));
  const fresh = await acquire();
  const again = await computeDynamics({ bundle: selfCheckBundle() }, DEFAULT_OPTIONS, {}, fresh);
  const cpu = await computeDynamics({ bundle: selfCheckBundle() }, DEFAULT_OPTIONS, {}, cpuBackend);
  return {
    error,
    keptCheckpoints: partial.filter(Boolean).length,
    freshBackend: fresh !== backend,
    recomputedMaxDelta: gridMaxDelta(cpu.values, again.values),
  };
}
