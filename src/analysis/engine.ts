// The CPU engine: from named activation arrays (as stored in files) to similarities.
// Every representation is prepared once (layout, conv reduction, checks) and factored once
// (centring, SVD, whitening, DFT: see metrics.ts); pairs reuse the factors. This is the float64
// path: the oracle for the GPU path and the fallback when WebGPU is missing.
//
// Shapes: arrays arrive as stored (usually datapoints first); math/reduce turns them into
// n neurons × m datapoints.

import { checkFinite, detectLayout } from '../io/layout';
import { InputError, type Bundle, type BundleEntry, type ConvLayout, type Layout, type NdArray } from '../io/types';
import { datapointsOf, toRepresentation, type Representation } from '../math/reduce';
import { canonicalDirections } from '../math/cca';
import { checkAborted, cpuBackend, type ComputeBackend } from './backend';
import { factorKey, shapeOnly, type FactorCache } from './factorCache';
import { factorize, usesDft, type Factor, type PairNumbers } from './metrics';
import type {
  Activation,
  AnalysisOptions,
  Conventions,
  CrossResult,
  DynamicsResult,
  JobControl,
  PairResult,
  Provenance,
} from './types';
import { PRECISION_CONTRACT } from './precision';

/** An activation ready for the metrics: its layout resolved and checked. */
export interface Prepared {
  name: string;
  rep: Representation;
  layout: Layout;
  convLayout: ConvLayout | null;
  /** Why the layout was chosen (detected or set by the user). */
  layoutReason: string;
  shape: number[];
}

/**
 * The datapoint count shared by a group of arrays, when their shapes give evidence for it:
 * arrays of rank ≥ 3 are datapoints-first, so their first axis decides; for 2-D arrays, a size that
 * every shape has, when exactly one size qualifies. Shapes that agree on both axes ((50, 2000) and
 * (50, 2000)) say nothing about which axis is which: then undefined, and detectLayout falls back to
 * "the larger axis is datapoints".
 */
export function inferDatapoints(shapes: readonly (readonly number[])[]): number | undefined {
  if (shapes.length === 0) return undefined;
  const highRank = shapes.find((s) => s.length >= 3);
  if (highRank) return highRank[0];
  // A shared size counts as the datapoint axis only where it is the larger axis of at least one
  // array: (400, 16) and (300, 16) share 16, but 16 datapoints for 400 and 300 neurons is the less
  // likely reading; then the larger-axis rule applies and the differing counts are refused.
  const candidates = [...new Set(shapes[0])].filter((size) => shapes.every((s) => s.includes(size)) && shapes.some((s) => size >= Math.max(...s)));
  return candidates.length === 1 ? candidates[0] : undefined;
}

export function prepare(activation: Activation, options: AnalysisOptions, datapointsHint?: number): Prepared {
  const { name, array } = activation;
  checkFinite(array, name);
  const detected = detectLayout(array.shape, datapointsHint);
  const layout = options.layout === 'auto' ? detected.layout : options.layout;
  const isConv = array.shape.length === 4;
  const convLayout = isConv ? (options.convLayout === 'auto' ? (detected.convLayout ?? 'nhwc') : options.convLayout) : null;
  const layoutReason =
    options.layout === 'auto' && (!isConv || options.convLayout === 'auto') ? detected.reason : `set by the user: ${layout}${convLayout ? `, ${convLayout}` : ''}`;
  let rep: Representation;
  try {
    rep = toRepresentation(array, layout, convLayout ?? 'nhwc');
  } catch (error) {
    throw new InputError(name, (error as Error).message);
  }
  return { name, rep, layout, convLayout, layoutReason, shape: [...array.shape] };
}


/** Refuses a pair that cannot be compared, with a message naming both arrays. */
function checkPair(a: Prepared, b: Prepared, options: AnalysisOptions, dft: boolean): void {
  // Through the DFT every position of a datapoint stays one datapoint (as with flatten).
  const reduction = dft ? 'flatten' : options.convReduction;
  const ma = datapointsOf(a.rep, reduction);
  const mb = datapointsOf(b.rep, reduction);
  if (ma !== mb) {
    throw new InputError(a.name, `has ${ma} datapoints but ${b.name} has ${mb}: both must hold the same inputs in the same order`);
  }
  if (dft && options.metric !== 'svcca' && options.metric !== 'cca') {
    const conv = a.rep.kind === 'conv' ? a : b;
    throw new InputError(
      conv.name,
      `is a conv layer and the dft reduction works with svcca and cca only; choose flatten, positions or meanpool for ${options.metric}`,
    );
  }
  if (ma < 2) throw new InputError(a.name, `has ${ma} datapoint; at least 2 are needed`);
  if (options.metric === 'cka-debiased' && ma < 4) throw new InputError(a.name, `has ${ma} datapoints; debiased CKA needs at least 4`);
}

function pairUsesDft(a: Prepared, b: Prepared, options: AnalysisOptions): boolean {
  return usesDft(a.rep, options) || usesDft(b.rep, options);
}

export function describeSummary(options: AnalysisOptions, dft: boolean): string {
  const where = dft ? ' (union over shared DFT frequencies)' : '';
  switch (options.metric) {
    case 'svcca':
      return `mean ρ over min(k1, k2) canonical correlations after keeping ${describeKeep(options)}${dft ? ' (rule applied globally over all frequency blocks)' : ''}${where}`;
    case 'cca':
      return `mean ρ over min(n1', n2') canonical correlations${where}`;
    case 'pwcca':
      return `projection-weighted mean ρ (${options.pwccaVariant === 'reference' ? 'google/svcca pwcca semantics, without its + μ' : 'Morcos et al. 2018 paper variant'})`;
    case 'cka':
      return 'linear CKA (feature space)';
    case 'cka-debiased':
      return 'debiased linear CKA (unbiased HSIC, Song et al. 2012)';
  }
}

function describeKeep(options: AnalysisOptions): string {
  return options.keep.kind === 'variance' ? `${options.keep.fraction * 100}% of Σs²` : `k = ${options.keep.k} directions`;
}

function conventionsFor(options: AnalysisOptions, a: Prepared, b: Prepared, dft: boolean, backend: ComputeBackend): Conventions {
  const anyConv = a.rep.kind === 'conv' || b.rep.kind === 'conv';
  return {
    metric: options.metric,
    keep: options.metric === 'svcca' ? options.keep : null,
    epsilon: options.epsilon,
    layout: [a.layout, b.layout],
    convLayout: [a.convLayout, b.convLayout],
    convReduction: anyConv ? options.convReduction : null,
    pwccaVariant: options.metric === 'pwcca' ? options.pwccaVariant : null,
    summary: describeSummary(options, dft),
    backend: backend.kind,
    precision: backend.precision,
  };
}

/**
 * Warnings for one pair. `names` overrides how the two sides are called: grids name layers
 * ("layer conv1") so that one warning covers every checkpoint instead of repeating per step.
 */
function warningsFor(a: Prepared, b: Prepared, numbers: PairNumbers, options: AnalysisOptions, datapoints: number, names?: [string, string]): string[] {
  const warnings: string[] = [];
  const sides: [Prepared, number][] = [
    [a, 0],
    [b, 1],
  ];
  const grid = names !== undefined;
  warnings.push(...float64Sentences(a, b, numbers, options, names));
  const cca = options.metric !== 'cka' && options.metric !== 'cka-debiased';
  for (const [p, i] of sides) {
    if (p.rep.kind === 'conv') {
      const { datapoints: n, height, width, channels } = p.rep.conv;
      const detail =
        options.convReduction === 'dft' && cca
          ? grid
            ? 'per-frequency CCA over the frequencies each pair shares'
            : `per-frequency CCA over ${numbers.frequencies ?? 0} shared frequencies`
          : options.convReduction === 'positions'
            ? `${n * height * width} datapoints (every position)`
            : options.convReduction === 'meanpool'
              ? `${channels} channels averaged over space`
              : `${channels * height * width} features`;
      warnings.push(`${names?.[i] ?? p.name}: conv layer ${describeConvReading(p.shape, p.convLayout)}; reduced with ${options.convReduction}: ${detail}`);
    }
    // Degeneracy of CCA: the neurons it sees (k after the SVD step for svcca) against the datapoints.
    // Through the DFT every frequency block is its own CCA over at most C channels.
    const fed =
      numbers.frequencies !== null
        ? Math.ceil(numbers.neurons[i] / Math.max(1, numbers.frequencies))
        : options.metric === 'svcca'
          ? numbers.kept[i]
          : numbers.neurons[i];
    if (cca && datapoints < 5 * fed) {
      warnings.push(
        `${names?.[i] ?? p.name}: ${datapoints} datapoints for ${fed} ${numbers.frequencies !== null ? 'channels per frequency block' : options.metric === 'svcca' ? 'kept directions' : 'neurons'} (fewer than 5 per dimension): CCA drifts towards 1 as they approach each other; compare with a random baseline of the same shapes`,
      );
    }
    if (numbers.dropped[i] > 0) {
      const what = options.metric === 'svcca' ? 'direction' : 'neuron';
      warnings.push(`${names?.[i] ?? p.name}: ${plural(numbers.dropped[i], what)} with relative variance below ε = ${options.epsilon} dropped (dead neurons)`);
    }
    if (numbers.clipped[i] > 0) {
      warnings.push(`${names?.[i] ?? p.name}: rank-deficient: ${plural(numbers.clipped[i], 'direction')} carry no variance and count as correlation 0 (pseudo-inverse)`);
    }
  }
  return warnings;
}

/**
 * How a conv layer (or sequence) was read, from its stored shape: "stored (400, 8, 4, 4), read as
 * NCHW: C=8, H=W=4"; a sequence "stored (400, 12, 32), read as (N, T, D): T=12, D=32".
 */
export function describeConvReading(shape: readonly number[], convLayout: ConvLayout | null): string {
  const stored = `stored (${shape.join(', ')})`;
  if (shape.length === 3) return `${stored}, read as (N, T, D): T=${shape[1]}, D=${shape[2]}`;
  const [c, h, w] = convLayout === 'nchw' ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
  return `${stored}, read as ${(convLayout ?? 'nhwc').toUpperCase()}: C=${c}, ${h === w ? `H=W=${h}` : `H=${h}, W=${w}`}`;
}

const METRIC_LABELS: Record<AnalysisOptions['metric'], string> = { svcca: 'SVCCA', cca: 'CCA', pwcca: 'PWCCA', cka: 'CKA', 'cka-debiased': 'debiased CKA' };

/** What of this pair a GPU backend computed in float64 instead, one plain sentence each (also warnings). */
function float64Sentences(a: Prepared, b: Prepared, numbers: PairNumbers, options: AnalysisOptions, names?: [string, string]): string[] {
  const sentences: string[] = [];
  if (numbers.fallback) sentences.push(`computed in float64 on the CPU instead of WebGPU: ${numbers.fallback}`);
  if (numbers.fallbackPair) {
    sentences.push(`${METRIC_LABELS[options.metric]} between ${names?.[0] ?? a.name} and ${names?.[1] ?? b.name}: computed in float64, ${numbers.fallbackPair}`);
  }
  numbers.fallbackSides?.forEach((reason, i) => {
    if (reason) sentences.push(`${METRIC_LABELS[options.metric]} on ${names?.[i] ?? [a, b][i].name}: computed in float64, ${reason}`);
  });
  return sentences;
}

function provenanceOf(backend: ComputeBackend, float64: Iterable<string>): Provenance {
  const list = [...new Set(float64)];
  const arithmetic = backend.precision === 'float64' ? 'float64' : list.length > 0 ? 'float32 and float64' : 'float32';
  return { backend: backend.kind, arithmetic, contract: PRECISION_CONTRACT, float64: list };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

function toPairResult(
  a: Prepared,
  b: Prepared,
  numbers: PairNumbers,
  options: AnalysisOptions,
  dft: boolean,
  datapoints: number,
  backend: ComputeBackend,
): PairResult {
  return {
    metric: options.metric,
    similarity: numbers.similarity,
    mean98: numbers.mean98,
    meanSquared: numbers.meanSquared,
    rho: numbers.rho,
    kept: numbers.kept,
    datapoints,
    neurons: numbers.neurons,
    dropped: numbers.dropped,
    spectra: numbers.spectra,
    directions: null,
    warnings: warningsFor(a, b, numbers, options, datapoints),
    provenance: provenanceOf(backend, float64Sentences(a, b, numbers, options)),
    conventions: numbers.fallback ? { ...conventionsFor(options, a, b, dft, backend), backend: 'cpu', precision: 'float64' } : conventionsFor(options, a, b, dft, backend),
  };
}

/** Compares two activation arrays. Throws InputError for inputs that cannot be compared. */
export async function comparePair(a: Activation, b: Activation, options: AnalysisOptions, backend: ComputeBackend = cpuBackend): Promise<PairResult> {
  const hint = inferDatapoints([a.array.shape, b.array.shape]);
  const pa = prepare(a, options, hint);
  const pb = prepare(b, options, hint);
  return comparePrepared(pa, pb, options, backend);
}

export async function comparePrepared(pa: Prepared, pb: Prepared, options: AnalysisOptions, backend: ComputeBackend = cpuBackend): Promise<PairResult> {
  const dft = pairUsesDft(pa, pb, options);
  checkPair(pa, pb, options, dft);
  const factors = await backend.factorize([pa.rep, pb.rep], options, dft);
  try {
    const [[numbers]] = await backend.compareGrid([factors[0]], [factors[1]], options);
    return toPairResult(pa, pb, numbers, options, dft, backend.datapointsOf(factors[0]), backend);
  } finally {
    backend.release(factors);
  }
}

/**
 * The top `count` canonical direction pairs of a pair, over its datapoints (paper Figure 1d), for
 * cca and svcca without the DFT. Always float64 on the CPU: one pair, small output.
 */
export function pairDirections(pa: Prepared, pb: Prepared, options: AnalysisOptions, count: number): { rho: number[]; x: number[][]; y: number[][] } | null {
  if (pairUsesDft(pa, pb, options) || (options.metric !== 'svcca' && options.metric !== 'cca')) return null;
  checkPair(pa, pb, options, false);
  const fa = factorize(pa.rep, options, false);
  const fb = factorize(pb.rep, options, false);
  const ccaOf = (f: typeof fa) => (f.kind === 'svcca' ? f.factor.cca : f.kind === 'cca' ? f.factor : null);
  const ca = ccaOf(fa);
  const cb = ccaOf(fb);
  if (!ca || !cb) return null;
  const d = canonicalDirections(ca, cb, count);
  const rows = (m: { rows: number; cols: number; data: Float64Array }) =>
    Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return { rho: d.rho, x: rows(d.x), y: rows(d.y) };
}

// ---------------------------------------------------------------------------------------------
// Grids: learning dynamics and cross-run comparisons.

interface GridSide {
  prepared: Prepared[];
  factors: unknown[];
  /** How warnings name each array: "layer conv1" (or "A's layer conv1" across runs). */
  names: string[];
  /** Factors owned by a FactorCache: not released after the job. */
  cached: boolean;
}

function releaseSide(backend: ComputeBackend, side: GridSide): void {
  if (!side.cached) backend.release(side.factors);
}

/** Float64 bytes of prepared arrays factored together in one backend call (see loadSide). */
const FACTOR_BATCH_BYTES = 64 * 2 ** 20;

async function loadSide(
  entries: BundleEntry[],
  options: AnalysisOptions,
  hint: number | undefined,
  dft: boolean,
  backend: ComputeBackend,
  prefix = '',
  cache?: FactorCache,
): Promise<GridSide> {
  const names = entries.map((e) => `${prefix}layer ${e.layer}`);
  const useCache = cache !== undefined && backend.kind === 'cpu'; // float64 factors (wrappers of the CPU backend too)
  const prepared: (Prepared | undefined)[] = [];
  const factors: unknown[] = [];
  const missing: number[] = [];
  for (const [i, entry] of entries.entries()) {
    const hit = useCache ? cache.get(factorKey(entry, options, hint, dft)) : undefined;
    if (hit) {
      prepared[i] = hit.prepared;
      factors[i] = hit.factor;
    } else {
      missing.push(i);
    }
  }
  // Arrays are read, prepared and factored in batches of at most FACTOR_BATCH_BYTES of float64 data
  // (a whole checkpoint of ordinary layers is one batch, as the GPU backend likes it), and each
  // batch's data is dropped once factored: only factors and dimensions outlive it, so a checkpoint
  // of large layers never sits in memory whole.
  let batch: number[] = [];
  let fresh: Prepared[] = [];
  let batchBytes = 0;
  const factorBatch = async () => {
    const computed = await backend.factorize(
      fresh.map((p) => p.rep),
      options,
      dft,
    );
    batch.forEach((i, k) => {
      prepared[i] = { ...fresh[k], rep: shapeOnly(fresh[k].rep) };
      factors[i] = computed[k];
      if (useCache) cache.set(factorKey(entries[i], options, hint, dft), fresh[k], computed[k] as Factor);
    });
    batch = [];
    fresh = [];
    batchBytes = 0;
  };
  try {
    for (const i of missing) {
      const array: NdArray = await entries[i].load();
      fresh.push(prepare({ name: entries[i].source, array }, options, hint));
      batch.push(i);
      batchBytes += array.data.length * 8;
      if (batchBytes >= FACTOR_BATCH_BYTES) await factorBatch();
    }
    if (batch.length > 0) await factorBatch();
  } catch (error) {
    // An array that fails after earlier batches were factored: those factors are this side's to
    // release (a cache owns its own).
    if (!useCache) backend.release(factors.filter((f) => f !== undefined));
    throw error;
  }
  return { prepared: prepared as Prepared[], factors, names, cached: useCache };
}

/**
 * Whether a grid goes through the DFT: when any of its arrays is a conv layer and dft is chosen.
 * Refuses, before any work, a metric that does not run through the DFT.
 */
function gridUsesDft(entries: BundleEntry[], options: AnalysisOptions): boolean {
  const conv = entries.find((e) => e.shape.length >= 3);
  if (!conv || options.convReduction !== 'dft') return false;
  if (options.metric !== 'svcca' && options.metric !== 'cca') {
    throw new InputError(conv.source, `is a conv layer and the dft reduction works with svcca and cca only; choose flatten, positions or meanpool for ${options.metric}`);
  }
  return true;
}

function entriesFor(bundle: Bundle, run: string | null, step: number): BundleEntry[] {
  return bundle.layers.map((layer) => {
    const entry = bundle.entries.find((e) => e.run === run && e.step === step && e.layer === layer);
    if (!entry) {
      const where = run === null ? '' : `run ${run}, `;
      throw new InputError(bundle.name, `has no array for ${where}step ${step}, layer ${layer}`);
    }
    return entry;
  });
}

/** Compares every pair of two grid sides: checks, similarities and (deduplicated) warnings. */
async function compareSides(
  a: GridSide,
  b: GridSide,
  options: AnalysisOptions,
  dft: boolean,
  backend: ComputeBackend,
  warnings: Set<string>,
  onPairs: (count: number) => void,
  signal: AbortSignal | undefined,
  float64: Set<string>,
): Promise<number[][]> {
  for (const pa of a.prepared) for (const pb of b.prepared) checkPair(pa, pb, options, dft);
  const grid = await backend.compareGrid(a.factors, b.factors, options, onPairs, signal);
  return grid.map((row, i) =>
    row.map((numbers, j) => {
      const datapoints = backend.datapointsOf(a.factors[i]);
      for (const w of warningsFor(a.prepared[i], b.prepared[j], numbers, options, datapoints, [a.names[i], b.names[j]])) warnings.add(w);
      for (const f of float64Sentences(a.prepared[i], b.prepared[j], numbers, options, [a.names[i], b.names[j]])) float64.add(f);
      return numbers.similarity;
    }),
  );
}

export interface DynamicsRequest {
  bundle: Bundle;
  /** Which run (default: the first). */
  run?: string | null;
  /** 'last' (default) or a step present in the bundle. */
  reference?: 'last' | number;
  /** Factors kept between jobs (float64 backend). */
  cache?: FactorCache;
}

/** values[t][i][j] = similarity of layer i at steps[t] to layer j at the reference step (paper Figure 4). */
export async function computeDynamics(
  request: DynamicsRequest,
  options: AnalysisOptions,
  control: JobControl = {},
  backend: ComputeBackend = cpuBackend,
): Promise<DynamicsResult> {
  const { bundle } = request;
  const run = request.run === undefined ? bundle.runs[0] : request.run;
  if (!bundle.runs.includes(run)) throw new InputError(bundle.name, `has no run ${String(run)} (runs: ${bundle.runs.join(', ')})`);
  const steps = [...new Set(bundle.entries.filter((e) => e.run === run).map((e) => e.step))].sort((x, y) => x - y);
  if (steps.length === 0) throw new InputError(bundle.name, 'has no checkpoints');
  const reference = request.reference === undefined || request.reference === 'last' ? steps[steps.length - 1] : request.reference;
  if (!steps.includes(reference)) throw new InputError(bundle.name, `has no step ${reference} to use as reference (steps: ${steps.join(', ')})`);
  const runEntries = bundle.entries.filter((e) => e.run === run);
  const hint = inferDatapoints(runEntries.map((e) => e.shape));
  const dft = gridUsesDft(runEntries, options);
  const layers = bundle.layers;
  const total = steps.length * layers.length * layers.length;
  let done = 0;
  const warnings = new Set<string>();
  const float64 = new Set<string>();
  control.onProgress?.({ done, total, stage: `factoring the reference step ${reference}` });
  const referenceSide = await loadSide(entriesFor(bundle, run, reference), options, hint, dft, backend, '', request.cache);
  try {
    const values: number[][][] = [];
    for (const step of steps) {
      checkAborted(control.signal);
      const side = step === reference ? referenceSide : await loadSide(entriesFor(bundle, run, step), options, hint, dft, backend, '', request.cache);
      try {
        const onPairs = (count: number) => {
          done += count;
          control.onProgress?.({ done, total, stage: `step ${step}` });
        };
        values.push(await compareSides(side, referenceSide, options, dft, backend, warnings, onPairs, control.signal, float64));
        control.onValues?.(values.length - 1, values[values.length - 1]);
      } finally {
        if (side !== referenceSide) releaseSide(backend, side);
      }
    }
    const first = referenceSide.prepared[0];
    return {
      metric: options.metric,
      steps,
      layers,
      reference,
      values,
      conventions: conventionsFor(options, first, first, dft, backend),
      warnings: [...warnings],
      provenance: provenanceOf(backend, float64),
    };
  } finally {
    releaseSide(backend, referenceSide);
  }
}

export interface CrossRequest {
  a: { bundle: Bundle; run?: string | null };
  b: { bundle: Bundle; run?: string | null };
  /** A step both have (default: the last step they share). */
  step?: number;
  /** Factors kept between jobs (float64 backend). */
  cache?: FactorCache;
}

/** values[i][j] = similarity of A's layer i to B's layer j at one step (paper Figure 1). */
export async function computeCross(
  request: CrossRequest,
  options: AnalysisOptions,
  control: JobControl = {},
  backend: ComputeBackend = cpuBackend,
): Promise<CrossResult> {
  const runA = request.a.run === undefined ? request.a.bundle.runs[0] : request.a.run;
  const runB = request.b.run === undefined ? request.b.bundle.runs[0] : request.b.run;
  const stepsOf = (bundle: Bundle, run: string | null) => new Set(bundle.entries.filter((e) => e.run === run).map((e) => e.step));
  const stepsA = stepsOf(request.a.bundle, runA);
  const stepsB = stepsOf(request.b.bundle, runB);
  const shared = [...stepsA].filter((s) => stepsB.has(s)).sort((x, y) => x - y);
  let step: number;
  if (request.step !== undefined) {
    if (!stepsA.has(request.step)) throw new InputError(request.a.bundle.name, `has no step ${request.step} (steps: ${[...stepsA].sort((x, y) => x - y).join(', ')})`);
    if (!stepsB.has(request.step)) throw new InputError(request.b.bundle.name, `has no step ${request.step} (steps: ${[...stepsB].sort((x, y) => x - y).join(', ')})`);
    step = request.step;
  } else {
    if (shared.length === 0) throw new InputError(request.b.bundle.name, `shares no step with ${request.a.bundle.name}; pass --step for each`);
    step = shared[shared.length - 1];
  }
  const entriesA = entriesFor(request.a.bundle, runA, step);
  const entriesB = entriesFor(request.b.bundle, runB, step);
  const all = [...entriesA, ...entriesB];
  const hint = inferDatapoints(all.map((e) => e.shape));
  const dft = gridUsesDft(all, options);
  const total = entriesA.length * entriesB.length;
  let done = 0;
  control.onProgress?.({ done, total, stage: `factoring step ${step}` });
  const sideA = await loadSide(entriesA, options, hint, dft, backend, "A's ", request.cache);
  try {
    checkAborted(control.signal);
    const sideB = await loadSide(entriesB, options, hint, dft, backend, "B's ", request.cache);
    try {
      const warnings = new Set<string>();
      const float64 = new Set<string>();
      const onPairs = (count: number) => {
        done += count;
        control.onProgress?.({ done, total, stage: `step ${step}` });
      };
      const values = await compareSides(sideA, sideB, options, dft, backend, warnings, onPairs, control.signal, float64);
      control.onValues?.(0, values);
      return {
        metric: options.metric,
        step,
        layersA: request.a.bundle.layers,
        layersB: request.b.bundle.layers,
        values,
        conventions: conventionsFor(options, sideA.prepared[0], sideB.prepared[0], dft, backend),
        warnings: [...warnings],
        provenance: provenanceOf(backend, float64),
      };
    } finally {
      releaseSide(backend, sideB);
    }
  } finally {
    releaseSide(backend, sideA);
  }
}
