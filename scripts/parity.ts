// The precision contract on real data and on ill-conditioned activations: every metric × every conv
// reduction × compare / dynamics / cross, computed by a GPU backend and by the float64 path, every
// value compared (similarities, each ρ, each kept count). Used by test/gpu/precisionParity.test.ts
// (Dawn in Node on SwiftShader), by scripts/parity-device.ts (the lent GPU machine, no vitest there)
// and by the app's worker test in Chromium (a subset).
//
// Shapes: bundles hold activations as stored, datapoints first (N, C, H, W) or (N, F).

import { computeCross, computeDynamics, comparePrepared } from '../src/analysis/engine';
import { inferDatapoints, prepare } from '../src/analysis/prepare';
import { cpuBackend, type ComputeBackend } from '../src/analysis/backend';
import { cellDelta, PRECISION_CONTRACT } from '../src/analysis/precision';
import { DEFAULT_OPTIONS, type AnalysisOptions, type ConvReduction, type Metric } from '../src/analysis/types';
import type { Bundle, NdArray } from '../src/io/types';
import { randn } from '../src/math/random';

export interface ParityCase {
  /** "dynamics cca flatten digits-cnn: values[1][0][2]" */
  label: string;
  job: 'compare' | 'dynamics' | 'cross' | 'stress';
  metric: Metric;
  reduction: ConvReduction | null;
  gpu: number;
  cpu: number;
  delta: number;
  /** True when the GPU job computed this number in float64 (the documented fallback). */
  float64: boolean;
}

export interface ParityReport {
  cases: ParityCase[];
  /** Sentences of every float64 fallback, per job. */
  fallbacks: { job: string; sentences: string[] }[];
  worst: number;
  contract: number;
}

/** The grid of metric × reduction the contract covers (dft only with svcca and cca). */
export function metricReductions(
  reductions: readonly ConvReduction[] = ['flatten', 'positions', 'meanpool', 'dft'],
): { metric: Metric; reduction: ConvReduction }[] {
  const metrics: Metric[] = ['svcca', 'cca', 'pwcca', 'cka', 'cka-debiased'];
  return reductions.flatMap((reduction) => metrics.filter((m) => reduction !== 'dft' || m === 'svcca' || m === 'cca').map((metric) => ({ metric, reduction })));
}

/** A bundle restricted to some runs and steps (the real bundles are larger than a CI run needs). */
export function subBundle(bundle: Bundle, runs: (string | null)[], steps: number[]): Bundle {
  const entries = bundle.entries.filter((e) => runs.includes(e.run) && steps.includes(e.step));
  return { ...bundle, runs, steps: [...steps].sort((x, y) => x - y), entries };
}

interface Collector {
  cases: ParityCase[];
  fallbacks: { job: string; sentences: string[] }[];
}

function push(c: Collector, base: Omit<ParityCase, 'gpu' | 'cpu' | 'delta'>, gpu: number, cpu: number): void {
  const delta = Number.isNaN(gpu) && Number.isNaN(cpu) ? 0 : Math.abs(gpu - cpu);
  c.cases.push({ ...base, gpu, cpu, delta: Number.isNaN(delta) ? Infinity : delta });
}

/** Whether a fallback sentence covers the layer named in a grid cell. */
const mentions = (sentences: string[], ...layers: string[]) =>
  sentences.some((s) => s.startsWith('computed in float64 on the CPU') || layers.some((l) => s.includes(`${l}:`)));

export interface RealDataPlan {
  name: string;
  bundle: Bundle;
  /** The run whose learning dynamics are computed, and the two runs compared across. */
  run: string | null;
  otherRun: string | null;
  /** The pairs compared one by one: [run, step, layer] each side. */
  pairs: [[string | null, number, string], [string | null, number, string]][];
  jobs: ('compare' | 'dynamics' | 'cross')[];
}

/**
 * The layers a grid can hold under a reduction: with `positions` every spatial position is a
 * datapoint, so only conv layers of one spatial size (the first conv layer's) share a datapoint count.
 */
export function gridLayers(bundle: Bundle, reduction: ConvReduction): Bundle {
  if (reduction !== 'positions') return bundle;
  const first = bundle.entries.find((e) => e.shape.length === 4);
  if (!first) return bundle;
  const spatial = (shape: readonly number[]) => `${shape[1] * shape[2] * shape[3]}:${shape.slice(1).sort().join('x')}`;
  const layers = bundle.layers.filter((layer) => {
    const e = bundle.entries.find((x) => x.layer === layer)!;
    return e.shape.length === 4 && e.shape[2] === first.shape[2] && e.shape[3] === first.shape[3] && spatial(e.shape) === spatial(first.shape);
  });
  return { ...bundle, layers, entries: bundle.entries.filter((e) => layers.includes(e.layer)) };
}

/** Every value of every job of `plan`, on `gpu` and on the float64 path. */
export async function realDataParity(
  gpu: ComputeBackend,
  plan: RealDataPlan,
  grid: { metric: Metric; reduction: ConvReduction }[],
  onCase?: (line: string, sofar: ParityReport) => void,
): Promise<ParityReport> {
  const c: Collector = { cases: [], fallbacks: [] };
  const log = (line: string) => onCase?.(line, finish(c));
  for (const { metric, reduction } of grid) {
    const options: AnalysisOptions = { ...DEFAULT_OPTIONS, metric, convReduction: reduction, epsilon: metric === 'cca' ? 0 : DEFAULT_OPTIONS.epsilon };
    const tag = `${metric} ${reduction} ${plan.name}`;
    const base = { metric, reduction };
    if (plan.jobs.includes('compare')) {
      for (const [sa, sb] of plan.pairs) {
        const entry = (s: [string | null, number, string]) => plan.bundle.entries.find((e) => e.run === s[0] && e.step === s[1] && e.layer === s[2])!;
        const [ea, eb] = [entry(sa), entry(sb)];
        const hint = inferDatapoints([ea.shape, eb.shape]);
        const pa = prepare({ name: ea.source, array: await ea.load() }, options, hint);
        const pb = prepare({ name: eb.source, array: await eb.load() }, options, hint);
        const g = await comparePrepared(pa, pb, options, gpu);
        const f = await comparePrepared(pa, pb, options, cpuBackend);
        const float64 = (g.provenance?.float64.length ?? 0) > 0;
        if (float64) c.fallbacks.push({ job: `compare ${tag} ${ea.source} ${eb.source}`, sentences: g.provenance!.float64 });
        const label = `compare ${tag} ${sa[2]}@${sa[1]} vs ${sb[2]}@${sb[1]}`;
        push(c, { ...base, label: `${label}: similarity`, job: 'compare', float64 }, g.similarity, f.similarity);
        const count = Math.max(g.rho.length, f.rho.length);
        for (let i = 0; i < count; i++) push(c, { ...base, label: `${label}: rho[${i}]`, job: 'compare', float64 }, g.rho[i] ?? NaN, f.rho[i] ?? NaN);
        g.kept.forEach((k, i) => push(c, { ...base, label: `${label}: kept[${i}]`, job: 'compare', float64 }, k, f.kept[i]));
        log(`${label}: |Δ| ${Math.abs(g.similarity - f.similarity).toExponential(1)}${float64 ? ` (${g.provenance!.float64.join('; ')})` : ''}`);
      }
    }
    const bundle = gridLayers(plan.bundle, reduction);
    if (plan.jobs.includes('dynamics')) {
      const g = await computeDynamics({ bundle, run: plan.run }, options, {}, gpu);
      const f = await computeDynamics({ bundle, run: plan.run }, options, {}, cpuBackend);
      const sentences = g.provenance?.float64 ?? [];
      if (sentences.length > 0) c.fallbacks.push({ job: `dynamics ${tag}`, sentences });
      let worst = 0;
      g.values.forEach((step, t) =>
        step.forEach((row, i) =>
          row.forEach((v, j) => {
            push(
              c,
              {
                ...base,
                label: `dynamics ${tag}: values[${t}][${i}][${j}]`,
                job: 'dynamics',
                float64: mentions(sentences, `layer ${g.layers[i]}`, `layer ${g.layers[j]}`),
              },
              v ?? NaN,
              f.values[t][i][j] ?? NaN,
            );
            worst = Math.max(worst, cellDelta(v, f.values[t][i][j]));
          }),
        ),
      );
      log(`dynamics ${tag}: worst |Δ| ${worst.toExponential(1)}${sentences.length ? ` (${sentences.join('; ')})` : ''}`);
    }
    if (plan.jobs.includes('cross')) {
      const request = { a: { bundle, run: plan.run }, b: { bundle, run: plan.otherRun } };
      const g = await computeCross(request, options, {}, gpu);
      const f = await computeCross(request, options, {}, cpuBackend);
      const sentences = g.provenance?.float64 ?? [];
      if (sentences.length > 0) c.fallbacks.push({ job: `cross ${tag}`, sentences });
      let worst = 0;
      g.values.forEach((row, i) =>
        row.forEach((v, j) => {
          push(
            c,
            {
              ...base,
              label: `cross ${tag}: values[${i}][${j}]`,
              job: 'cross',
              float64: mentions(sentences, `A's layer ${g.layersA[i]}`, `B's layer ${g.layersB[j]}`),
            },
            v ?? NaN,
            f.values[i][j] ?? NaN,
          );
          worst = Math.max(worst, cellDelta(v, f.values[i][j]));
        }),
      );
      log(`cross ${tag}: worst |Δ| ${worst.toExponential(1)}${sentences.length ? ` (${sentences.join('; ')})` : ''}`);
    }
  }
  return finish(c);
}

function finish(c: Collector): ParityReport {
  return { ...c, worst: c.cases.reduce((w, x) => Math.max(w, x.delta), 0), contract: PRECISION_CONTRACT };
}

/** Datapoints-first (m, n) float64 storage of an n × m matrix given row by row. */
function stored(rows: Float64Array[], m: number): NdArray {
  const n = rows.length;
  const data = new Float64Array(m * n);
  rows.forEach((row, i) => row.forEach((v, j) => (data[j * n + i] = v)));
  return { shape: [m, n], dtype: '<f8', data };
}

/** One ill-conditioned but ordinary activation pair: X and a noisy linear image Y, stored datapoints first. */
export interface StressCase {
  name: string;
  x: NdArray;
  y: NdArray;
  options?: Partial<AnalysisOptions>;
}

const rowsOf = (seed: number, n: number, m: number) => {
  const x = randn(seed, n, m).data;
  return Array.from({ length: n }, (_, i) => x.slice(i * m, (i + 1) * m));
};

/** Y = A·X + noise, row by row (n × m each). */
function mixed(x: Float64Array[], seed: number, noise: number): Float64Array[] {
  const n = x.length;
  const m = x[0].length;
  const a = randn(seed, n, n).data;
  const e = rowsOf(seed + 1, n, m);
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(m);
    for (let k = 0; k < n; k++) for (let j = 0; j < m; j++) row[j] += (a[i * n + k] / Math.sqrt(n)) * x[k][j];
    for (let j = 0; j < m; j++) row[j] += noise * e[i][j];
    return row;
  });
}

const f16 = (v: number) => {
  // Round to the nearest float16 (10 mantissa bits), as an exporter writing float16 would.
  if (v === 0 || !Number.isFinite(v)) return v;
  const e = Math.floor(Math.log2(Math.abs(v)));
  const step = 2 ** (Math.max(e, -14) - 10);
  return Math.round(v / step) * step;
};

/** NHWC conv activations (N, H, W, C) from per-channel patterns plus noise; `offset` added to every value. */
function convLayer(seed: number, n: number, h: number, w: number, c: number, offset: number): NdArray {
  const z = randn(seed, n, h * w * c).data;
  const data = new Float64Array(n * h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = offset + z[i] + 0.5 * z[(i + c) % data.length];
  return { shape: [n, h, w, c], dtype: '<f8', data };
}

/** The stress suite: offsets, scale spread, rank deficiency, duplicates, near-constant neurons, m ≈ n, float16, conv. */
export function stressCases(): StressCase[] {
  const n = 24;
  const m = 400;
  const x = rowsOf(11, n, m);
  const y = mixed(x, 21, 0.8);
  const cases: StressCase[] = [];
  cases.push({
    name: 'offset 1e4 on every neuron',
    x: stored(
      x.map((r) => r.map((v) => v + 1e4)),
      m,
    ),
    y: stored(
      y.map((r) => r.map((v) => v - 1e4)),
      m,
    ),
  });
  const scale = (i: number) => 10 ** (-3 + (6 * i) / (n - 1)); // 1e-3 .. 1e3
  cases.push({
    name: 'neuron scales spanning 1e-3 to 1e3',
    x: stored(
      x.map((r, i) => r.map((v) => v * scale(i))),
      m,
    ),
    y: stored(
      y.map((r, i) => r.map((v) => v * scale(n - 1 - i))),
      m,
    ),
  });
  // Rank-deficient: 12 independent directions spread over 24 neurons.
  const low = rowsOf(31, 12, m);
  const mix = randn(32, n, 12).data;
  const deficient = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(m);
    for (let k = 0; k < 12; k++) for (let j = 0; j < m; j++) row[j] += mix[i * 12 + k] * low[k][j];
    return row;
  });
  cases.push({ name: 'rank-deficient layer (rank 12 of 24)', x: stored(deficient, m), y: stored(y, m) });
  cases.push({ name: 'duplicated neurons', x: stored([...x.slice(0, 16), ...x.slice(0, 8)], m), y: stored(y, m) });
  const nearConstant = x.map((r, i) => (i < 3 ? r.map((v) => 5 + 1e-7 * v) : r));
  cases.push({ name: 'near-constant neurons (3 of 24 vary by 1e-7)', x: stored(nearConstant, m), y: stored(y, m) });
  const tight = rowsOf(41, 60, 72);
  cases.push({ name: 'm barely above n (72 datapoints, 60 neurons)', x: stored(tight, 72), y: stored(mixed(tight, 42, 1), 72) });
  cases.push({
    name: 'float16-rounded values',
    x: stored(
      x.map((r) => r.map(f16)),
      m,
    ),
    y: stored(
      y.map((r) => r.map(f16)),
      m,
    ),
  });
  for (const convReduction of ['dft', 'flatten'] as const) {
    cases.push({
      name: `conv layer with an offset of 100 through ${convReduction}`,
      x: convLayer(51, 120, 4, 4, 3, 100),
      y: convLayer(52, 120, 4, 4, 3, -100),
      options: { convReduction, convLayout: 'nhwc' },
    });
  }
  return cases;
}

/** Every stress case × the metrics that apply, GPU against float64: similarity, each ρ, kept. */
export async function stressParity(gpu: ComputeBackend, onCase?: (line: string, sofar: ParityReport) => void): Promise<ParityReport> {
  const c: Collector = { cases: [], fallbacks: [] };
  const log = (line: string) => onCase?.(line, finish(c));
  for (const s of stressCases()) {
    const dft = s.options?.convReduction === 'dft';
    const metrics: Metric[] = dft ? ['svcca', 'cca'] : ['svcca', 'cca', 'pwcca', 'cka', 'cka-debiased'];
    for (const metric of metrics) {
      for (const epsilon of metric === 'cca' ? [0, 1e-10] : [DEFAULT_OPTIONS.epsilon]) {
        const options: AnalysisOptions = { ...DEFAULT_OPTIONS, metric, epsilon, ...s.options };
        const hint = inferDatapoints([s.x.shape, s.y.shape]);
        const pa = prepare({ name: 'x', array: s.x }, options, hint);
        const pb = prepare({ name: 'y', array: s.y }, options, hint);
        const g = await comparePrepared(pa, pb, options, gpu);
        const f = await comparePrepared(pa, pb, options, cpuBackend);
        const float64 = (g.provenance?.float64.length ?? 0) > 0;
        const label = `stress ${metric}${metric === 'cca' ? ` ε=${epsilon}` : ''} ${s.name}`;
        if (float64) c.fallbacks.push({ job: label, sentences: g.provenance!.float64 });
        const base = { metric, reduction: s.options?.convReduction ?? null, job: 'stress' as const, float64 };
        push(c, { ...base, label: `${label}: similarity` }, g.similarity, f.similarity);
        const count = Math.max(g.rho.length, f.rho.length);
        for (let i = 0; i < count; i++) push(c, { ...base, label: `${label}: rho[${i}]` }, g.rho[i] ?? NaN, f.rho[i] ?? NaN);
        g.kept.forEach((k, i) => push(c, { ...base, label: `${label}: kept[${i}]` }, k, f.kept[i]));
        log(`${label}: |Δ| ${Math.abs(g.similarity - f.similarity).toExponential(1)}${float64 ? ` (${g.provenance!.float64.join('; ')})` : ''}`);
      }
    }
  }
  return finish(c);
}
