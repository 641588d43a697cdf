// The CPU engine: from named activation arrays (as stored in files) to similarities.
// Every representation is prepared once (layout, conv reduction, checks) and factored once
// (centring, SVD, whitening, DFT: see metrics.ts); pairs reuse the factors. This is the float64
// path: the oracle for the GPU path and the fallback when WebGPU is missing.
//
// Shapes: arrays arrive as stored (usually datapoints first); math/reduce turns them into
// n neurons × m datapoints. Preparing an array is prepare.ts; which pairs can be compared and what
// deserves a warning, rules.ts (the preview applies the same rules); per-metric facts, metricDefs.ts.

import { InputError, type Bundle, type BundleEntry, type NdArray } from '../io/types';
import { canonicalDirections } from '../math/cca';
import { checkAborted, cpuBackend, type ComputeBackend } from './backend';
import { runCheckpoints } from './checkpointPipeline';
import type { CanonicalShape } from '../math/canonicalNull';
import { resolveBaseline } from './baseline';
import { chanceOfBlock } from './baselineGrid';
import { factorKey, shapeOnly, type FactorCache } from './factorCache';
import { metricDef } from './metricDefs';
import { factorize, type Factor, type PairNumbers } from './metrics';
import { factorSpectrumIsK99s, k99, k99OfFactorSpectrum, KnownK99 } from './dimensionality';
import { inferDatapoints, prepare, type Prepared } from './prepare';
import { checkLonePair, checkPair, chosenRun, gridUsesDft, pairUsesDft, positionsSide } from './rules';
import type {
  Activation,
  AnalysisOptions,
  BadArray,
  Baseline,
  BaselineRequest,
  CrossResult,
  DynamicsResult,
  JobControl,
  PairDirections,
  PairResult,
} from './types';
import { positionsWarning, type PositionsSide } from './positions';
import { datapointsOfRepresentation, type Representation } from '../math/reduce';
import { FACTOR_BATCH_BYTES, OVERLAP_BYTES } from './memory';
import { chanceSentence, conventionsFor, float64Sentences, groupLayerWarnings, provenanceOf, warningsFor } from './resultText';

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
    conventions: numbers.fallback
      ? { ...conventionsFor(options, a, b, dft, backend), backend: 'cpu', precision: 'float64' }
      : conventionsFor(options, a, b, dft, backend),
  };
}

/** Compares two activation arrays. Throws InputError for inputs that cannot be compared.
 *  `baseline`: also the chance level (B's datapoints permuted, analysis/baseline.ts). */
export async function comparePair(
  a: Activation,
  b: Activation,
  options: AnalysisOptions,
  backend: ComputeBackend = cpuBackend,
  baseline?: Partial<BaselineRequest> | null,
): Promise<PairResult> {
  const hint = inferDatapoints([a.array.shape, b.array.shape]);
  const pa = prepare(a, options, hint);
  const pb = prepare(b, options, hint);
  return comparePrepared(pa, pb, options, backend, baseline);
}

export async function comparePrepared(
  pa: Prepared,
  pb: Prepared,
  options: AnalysisOptions,
  backend: ComputeBackend = cpuBackend,
  baseline?: Partial<BaselineRequest> | null,
): Promise<PairResult> {
  const chance = resolveBaseline(baseline);
  const dft = pairUsesDft(pa, pb, options);
  checkLonePair(pa, pb, options, dft);
  // Each side's DFT factor meets the other's shape.
  const plan = dft ? { dftPartners: [[dftShape(pb.rep)], [dftShape(pa.rep)]] } : undefined;
  const factors = await backend.factorize([pa.rep, pb.rep], options, dft, undefined, plan);
  try {
    const [[numbers]] = await backend.compareGrid([factors[0]], [factors[1]], options);
    const result = toPairResult(pa, pb, numbers, options, dft, backend.datapointsOfFactor(factors[0]), backend);
    if (!chance) return result;
    const inputs = datapointsOfRepresentation(pa.rep, 'flatten');
    const positionsPerInput = backend.datapointsOfFactor(factors[0]) / inputs;
    const block = await chanceOfBlock(backend, [factors[0]], [factors[1]], [[numbers.similarity]], options, chance, undefined, undefined, positionsPerInput, [
      [numbers.canonical],
    ]);
    const provenance =
      result.provenance && block.float64 ? provenanceOf(backend, [...result.provenance.float64, chanceSentence(block.float64)]) : result.provenance;
    return { ...result, provenance, baseline: block.baseline[0][0]! };
  } finally {
    backend.release(factors);
  }
}

/**
 * `count` datapoint indices out of `total`, evenly spaced and ascending (the first always kept):
 * a deterministic sample that keeps the stored order (and so the label blocks of sorted data).
 */
export function sampleDatapoints(total: number, count: number): number[] {
  const n = Math.max(0, Math.min(total, Math.floor(count)));
  return Array.from({ length: n }, (_, k) => Math.floor((k * total) / n));
}

/**
 * The top `count` canonical direction pairs of a pair, over its datapoints (paper Figure 1d), for
 * cca and svcca without the DFT. Always float64 on the CPU: one pair. At most `maxPoints`
 * datapoints are returned per direction (sampleDatapoints), so a drill-down of 25 600 positions
 * sends and draws a bounded amount; `indices` says which.
 */
export function pairDirections(pa: Prepared, pb: Prepared, options: AnalysisOptions, count: number, maxPoints = Infinity): PairDirections | null {
  const factor = metricDef(options.metric).factor;
  if (pairUsesDft(pa, pb, options) || (factor !== 'svcca' && factor !== 'cca')) return null;
  checkLonePair(pa, pb, options, false);
  const fa = factorize(pa.rep, options, false);
  const fb = factorize(pb.rep, options, false);
  const ccaOf = (f: typeof fa) => (f.kind === 'svcca' ? f.factor.cca : f.kind === 'cca' ? f.factor : null);
  const ca = ccaOf(fa);
  const cb = ccaOf(fb);
  if (!ca || !cb) return null;
  const d = canonicalDirections(ca, cb, count);
  const total = d.x.cols;
  const indices = total > maxPoints ? sampleDatapoints(total, maxPoints) : null;
  const rows = (m: { rows: number; cols: number; data: Float64Array }) =>
    Array.from({ length: m.rows }, (_, i) => {
      const row = m.data.subarray(i * m.cols, (i + 1) * m.cols);
      return indices ? indices.map((j) => row[j]) : Array.from(row);
    });
  return { rho: d.rho, x: rows(d.x), y: rows(d.y), datapoints: total, indices };
}

// ---------------------------------------------------------------------------------------------
// Grids: learning dynamics and cross-run comparisons.

interface GridSide {
  /** undefined where the array is bad (see `bad`). */
  prepared: Prepared[];
  factors: unknown[];
  /** Per array: what is wrong with it (it could not be read or prepared), else null. Its cells stay missing. */
  bad: (BadArray | null)[];
  /** How warnings name each array: "layer conv1" (or "A's layer conv1" across runs). */
  names: string[];
  /** Factors owned by a FactorCache: not released after the job. */
  cached: boolean;
}

function releaseSide(backend: ComputeBackend, side: GridSide): void {
  if (!side.cached) backend.release(side.factors.filter((f) => f !== undefined));
}

/** A bad input the job skips rather than stops at: bad input (InputError), never a cancel or a bug. */
function isInputError(e: unknown): e is InputError {
  return e instanceof InputError || (e instanceof Error && e.name === 'InputError' && 'source' in e && 'detail' in e);
}

/** A layer's height and width as the DFT reduction sees it (a dense layer: the DC term of a 1 × 1 conv layer). */
function dftShape(rep: Representation): { height: number; width: number } {
  return rep.kind === 'conv' ? { height: rep.conv.height, width: rep.conv.width } : { height: 1, width: 1 };
}

/** Adds a representation's DFT shape to `shapes` unless it is there already. */
function addDftShape(shapes: { height: number; width: number }[], rep: Representation): void {
  const shape = dftShape(rep);
  if (!shapes.some((s) => s.height === shape.height && s.width === shape.width)) shapes.push(shape);
}

/** The distinct DFT shapes of a side's good arrays (see loadSide's `dftPartners`). */
function dftShapesOf(prepared: readonly (Prepared | undefined)[]): { height: number; width: number }[] {
  const shapes: { height: number; width: number }[] = [];
  for (const p of prepared) if (p) addDftShape(shapes, p.rep);
  return shapes;
}

async function loadSide(
  entries: BundleEntry[],
  options: AnalysisOptions,
  hint: number | undefined,
  dft: boolean,
  backend: ComputeBackend,
  prefix = '',
  cache?: FactorCache,
  /**
   * `signal`: handed to backend.factorize (a cancel stops mid-batch); `onArrayRead`: each array as
   * read, before it is prepared; `varianceSpectra`: k99 as read (FactorPlan.varianceSpectra), the
   * reduction a prepared layer's spectrum is wanted under (undefined: not wanted), where each goes,
   * by entry index, and whether CKA factors keep their own (FactorPlan.factorSpectra).
   */
  read: {
    signal?: AbortSignal;
    onArrayRead?: (entry: BundleEntry, array: NdArray) => void | Promise<void>;
    varianceSpectra?: {
      reductionOf: (rep: Representation) => 'flatten' | 'meanpool' | undefined;
      record: (entry: number, spectrum: number[]) => void;
      factorSpectra: boolean;
    };
  } = {},
  /**
   * DFT grids: the shapes of the layers this side's will be compared with (the other side's, once
   * it is loaded), or 'own': this side's, as far as read (the side loaded first: the reference step,
   * across runs A; both sides hold the same network's layers). A hint (FactorPlan), never a number.
   */
  dftPartners: readonly { height: number; width: number }[] | 'own' = 'own',
): Promise<GridSide> {
  const names = entries.map((e) => `${prefix}layer ${e.layer}`);
  const useCache = cache !== undefined && backend.kind === 'cpu'; // float64 factors (wrappers of the CPU backend too)
  const prepared: (Prepared | undefined)[] = [];
  const factors: unknown[] = [];
  const bad: (BadArray | null)[] = entries.map(() => null);
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
  // of large layers never sits in memory whole. On the CPU pool the next batch is read while the
  // one before is factored on the workers (at most one batch in flight, and two batches' data at
  // once only within OVERLAP_BYTES), so a checkpoint's large layers (each a batch of its own) are
  // factored side by side; elsewhere (one thread, the GPU backend) a batch is factored before the
  // next is read.
  const overlap = backend.kind === 'cpu' && (backend.threads ?? 1) > 1;
  let batch: number[] = [];
  let fresh: Prepared[] = [];
  let batchBytes = 0;
  // This side's DFT shapes as read so far (dftPartners 'own'): sizes only, never the arrays.
  const readShapes: { height: number; width: number }[] = [];
  // The batch being factored on the workers while the next is read (overlap only), and its float64 bytes.
  const inFlight: { batch: Promise<void> | null; bytes: number } = { batch: null, bytes: 0 };
  const factorBatch = async (indices: number[], reps: Prepared[]) => {
    const partners = dftPartners === 'own' ? [...readShapes] : dftPartners;
    const computed = await backend.factorize(
      reps.map((p) => p.rep),
      options,
      dft,
      read.signal,
      {
        ...(dft ? { dftPartners: reps.map(() => partners) } : {}),
        alongside: overlap,
        ...(read.varianceSpectra
          ? {
              varianceSpectra: reps.map((p) => read.varianceSpectra!.reductionOf(p.rep)),
              onVarianceSpectrum: (k: number, spectrum: number[]) => read.varianceSpectra!.record(indices[k], spectrum),
              factorSpectra: read.varianceSpectra.factorSpectra,
            }
          : {}),
      },
    );
    indices.forEach((i, k) => {
      prepared[i] = { ...reps[k], rep: shapeOnly(reps[k].rep) };
      factors[i] = computed[k];
      if (useCache) cache.set(factorKey(entries[i], options, hint, dft), reps[k], computed[k] as Factor);
    });
  };
  /** Empties the batch being read once handed to factorBatch. */
  const clearBatch = (started: Promise<void>) => {
    batch = [];
    fresh = [];
    batchBytes = 0;
    return started;
  };
  /** Starts factoring the batch read so far; on the pool, waits for the batch before it (one in flight). */
  const flush = async () => {
    if (!overlap) return clearBatch(factorBatch(batch, fresh));
    // Too much at once: the batch in flight finishes first.
    if (inFlight.batch && inFlight.bytes + batchBytes > OVERLAP_BYTES) await inFlight.batch;
    const before = inFlight.batch;
    inFlight.bytes = batchBytes;
    const started = clearBatch(factorBatch(batch, fresh));
    inFlight.batch = started;
    // A failure waits for the loop to ask for it (below), never unhandled meanwhile.
    started.catch(() => {});
    await before;
  };
  try {
    for (const i of missing) {
      // One bad array (unreadable, NaN, a shape that cannot be read) costs only its own cells: it is
      // recorded and the others are factored as usual.
      let array: NdArray;
      let ready: Prepared;
      try {
        array = await entries[i].load();
        // Awaited: whatever it holds of the array (the hash's copy) is gone before the next array is read.
        await read.onArrayRead?.(entries[i], array);
        ready = prepare({ name: entries[i].source, array }, options, hint);
      } catch (error) {
        if (!isInputError(error)) throw error;
        const { step, layer, source } = entries[i];
        bad[i] = { step, layer, source, problem: error.source === source ? error.detail : error.message };
        continue;
      }
      addDftShape(readShapes, ready.rep);
      fresh.push(ready);
      batch.push(i);
      batchBytes += array.data.length * 8;
      if (batchBytes >= FACTOR_BATCH_BYTES) await flush();
    }
    if (batch.length > 0) await flush();
    await inFlight.batch;
  } catch (error) {
    // A batch still in flight is waited for (its workers finish or fail), so nothing of this side
    // is computed after it is released.
    await inFlight.batch?.catch(() => {});
    // An array that fails after earlier batches were factored: those factors are this side's to
    // release (a cache owns its own).
    if (!useCache) backend.release(factors.filter((f) => f !== undefined));
    throw error;
  }
  return { prepared: prepared as Prepared[], factors, bad, names, cached: useCache };
}

/** A side's bad arrays, named with the side and run they are on (across runs). */
function crossBad(side: GridSide, which: 'A' | 'B', run: string | null): BadArray[] {
  return side.bad.flatMap((b) => (b ? [{ ...b, side: which, run }] : []));
}

/** The one warning of a bad array in an across-runs job: the file and array, what is wrong, and which cells it leaves missing. */
export function crossBadWarning(bad: BadArray, others: number): string {
  const where = bad.run === null || bad.run === undefined ? '' : ` (run ${bad.run})`;
  const line = bad.side === 'B' ? 'column' : 'row';
  return `${bad.source}: ${bad.problem}; ${bad.side ?? 'A'}'s layer ${bad.layer}${where} at step ${bad.step} is left out: its ${line} is missing (${others} cell${others === 1 ? '' : 's'}); every other cell is computed`;
}

/**
 * The one warning of a bad array in a learning-dynamics job: the file and array, what is wrong, and
 * which cells it leaves missing (its row at its step; at the reference step, its column at every step too).
 */
function badArrayWarning(bad: BadArray, reference: number, steps: number, layers: number): string {
  const left =
    bad.step === reference
      ? `layer ${bad.layer} at the reference step ${reference} is left out: its column is missing at all ${steps} checkpoints (and its row at step ${reference})`
      : `layer ${bad.layer} at step ${bad.step} is left out: its row at that step is missing (${layers} cell${layers === 1 ? '' : 's'}); every other cell is computed`;
  return `${bad.source}: ${bad.problem}; ${left}`;
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

/** One grid's similarities (null: a pair positions cannot compare) and dimensions kept per pair. */
interface SidesResult {
  values: (number | null)[][];
  kept: ([number, number] | null)[][];
  /** Chance level per cell, when asked for (null where not). */
  baseline: (Baseline | null)[][] | null;
}

/**
 * Compares every pair of two grid sides: checks, similarities and (deduplicated) warnings.
 * Pairs the positions reduction cannot compare stay null and are named in one warning; the others
 * are compared in blocks of equal datapoint count, one backend.compareGrid per block (a single
 * block, the whole grid, under any other reduction).
 */
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
  chance: BaselineRequest | null = null,
): Promise<SidesResult> {
  const reduction = dft ? 'flatten' : options.convReduction;
  const skipped: [PositionsSide, PositionsSide][] = [];
  for (const [i, pa] of a.prepared.entries()) {
    for (const [j, pb] of b.prepared.entries()) {
      if (a.bad[i] || b.bad[j]) continue;
      if (checkPair(pa, pb, options, dft) === 'positions') skipped.push([positionsSide(pa, a.names[i], reduction), positionsSide(pb, b.names[j], reduction)]);
    }
  }
  // First among the job's warnings: it explains the empty cells the user sees at once.
  const warning = positionsWarning(skipped);
  if (warning) warnings.add(warning);
  // Grids of a.bad.length × b.bad.length (prepared has holes where an array is bad: those cells stay null).
  const filled = <T>(fill: T): T[][] => a.bad.map(() => b.bad.map(() => fill));
  const values: (number | null)[][] = filled(null);
  const kept: ([number, number] | null)[][] = filled(null);
  // The Gaussian null's view of every pair (its kept dimensions), for the chance level.
  const canonical: (CanonicalShape | undefined)[][] = filled(undefined);
  const baseline: (Baseline | null)[][] | null = chance ? filled(null) : null;
  // -1: a bad array, in no block.
  const sizeOf = (side: GridSide) => side.bad.map((why, i) => (why ? -1 : datapointsOfRepresentation(side.prepared[i].rep, reduction)));
  const sizeA = sizeOf(a);
  const sizeB = sizeOf(b);
  for (const size of new Set(sizeA)) {
    if (size < 0) continue;
    const rows = sizeA.flatMap((m, i) => (m === size ? [i] : []));
    const cols = sizeB.flatMap((m, j) => (m === size ? [j] : []));
    if (cols.length === 0) continue;
    const grid = await backend.compareGrid(
      rows.map((i) => a.factors[i]),
      cols.map((j) => b.factors[j]),
      options,
      onPairs,
      signal,
    );
    grid.forEach((row, r) =>
      row.forEach((numbers, c) => {
        const [i, j] = [rows[r], cols[c]];
        const datapoints = backend.datapointsOfFactor(a.factors[i]);
        for (const w of warningsFor(a.prepared[i], b.prepared[j], numbers, options, datapoints, [a.names[i], b.names[j]])) warnings.add(w);
        for (const f of float64Sentences(a.prepared[i], b.prepared[j], numbers, options, [a.names[i], b.names[j]])) float64.add(f);
        values[i][j] = numbers.similarity;
        kept[i][j] = numbers.kept;
        canonical[i][j] = numbers.canonical;
      }),
    );
    if (chance && baseline) {
      // 'diagonal': the convergence curves' cells, layer i against the other side's layer i.
      const wanted = chance.cells === 'all' ? undefined : (r: number, c: number) => rows[r] === cols[c];
      const observed = rows.map((i) => cols.map((j) => values[i][j]));
      const block = await chanceOfBlock(
        backend,
        rows.map((i) => a.factors[i]),
        cols.map((j) => b.factors[j]),
        observed,
        options,
        chance,
        wanted,
        signal,
        size / datapointsOfRepresentation(a.prepared[rows[0]].rep, 'flatten'),
        rows.map((i) => cols.map((j) => canonical[i][j])),
      );
      block.baseline.forEach((row, r) => row.forEach((cell, c) => (baseline[rows[r]][cols[c]] = cell)));
      if (block.float64) float64.add(chanceSentence(block.float64));
    }
  }
  if (skipped.length > 0) onPairs(skipped.length);
  return { values, kept, baseline };
}

export interface DynamicsRequest {
  bundle: Bundle;
  /** Which run (default: the first). */
  run?: string | null;
  /** 'last' (default) or a step present in the bundle. */
  reference?: 'last' | number;
  /** Factors kept between jobs (float64 backend). */
  cache?: FactorCache;
  /** The chance level of every cell ('all', the default) or of the convergence curves' cells ('diagonal'). */
  baseline?: Partial<BaselineRequest> | null;
  /** Checkpoints factored while the one before runs its pairs (checkpointPipeline.ts; default 1 on the GPU, else 0). */
  checkpointsAhead?: 0 | 1;
  /**
   * Every k99 cell as the job reads (the CLI's --json): a layer whose factor does not hold the k99
   * pass's spectrum (the DFT, another metric, a conv layer under 'positions') has that spectrum
   * computed beside its factor on the CPU backends, from the same read of the array, so the export
   * (provenance.ts withDynamicsProvenance) reads nothing again. Bit for bit the pass's cells.
   */
  k99?: boolean;
  /** Each array as the job reads it (before it is prepared; awaited): provenance.ts rememberEntryDigest hashes it there, so the export's hash reads nothing again. */
  onArrayRead?: (entry: BundleEntry, array: NdArray) => void | Promise<void>;
}

/** The k99 cells each dynamics job knew as it factored (see knownK99Of). */
const jobK99 = new WeakMap<DynamicsResult, KnownK99>();

/**
 * k99 (directions holding 99% of a layer's variance) per step and layer that a dynamics job read off
 * its own factors: SVCCA factored in float64 holds the layer's whole spectrum, bit for bit the k99
 * pass's for most layers (dimensionality.ts k99OfFactorSpectrum says which), and bad arrays are null
 * as in the pass. provenance.ts fills its k99 from these and runs the pass only for the cells missing.
 */
export function knownK99Of(result: DynamicsResult): KnownK99 | undefined {
  return jobK99.get(result);
}

/** Records a loaded side's k99 cells at `step` (bad arrays: null; factors without the pass's spectrum: nothing). */
function recordK99(known: KnownK99, step: number, entries: readonly BundleEntry[], side: GridSide, backend: ComputeBackend, options: AnalysisOptions): void {
  entries.forEach((entry, i) => {
    if (side.bad[i]) return known.set(step, entry.layer, null);
    const spectrum = backend.float64Spectrum?.(side.factors[i]);
    const value = spectrum ? k99OfFactorSpectrum(spectrum, side.prepared[i].rep.kind, options) : undefined;
    if (value !== undefined) known.set(step, entry.layer, value);
  });
}

/** values[t][i][j] = similarity of layer i at steps[t] to layer j at the reference step (paper Figure 4). */
export async function computeDynamics(
  request: DynamicsRequest,
  options: AnalysisOptions,
  control: JobControl = {},
  backend: ComputeBackend = cpuBackend,
): Promise<DynamicsResult> {
  const { bundle } = request;
  const chance = resolveBaseline(request.baseline);
  const run = chosenRun(bundle, request.run);
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
  const known = new KnownK99(run);
  const passReduction = options.convReduction === 'meanpool' ? 'meanpool' : 'flatten';
  // Which layers' factors hold the pass's spectrum (recordK99 reads it off them): SVCCA in float64,
  // outside the DFT, and CKA's, asked to keep the spectrum of the Gram it forms anyway.
  const factorSpectra = options.metric === 'cka' || options.metric === 'cka-debiased';
  const factorHoldsK99 = (rep: Representation) =>
    backend.kind === 'cpu' && (options.metric === 'svcca' || factorSpectra) && !dft && factorSpectrumIsK99s(rep.kind, options);
  const loadStep = async (step: number): Promise<GridSide> => {
    const entries = entriesFor(bundle, run, step);
    const read = {
      signal: control.signal,
      onArrayRead: request.onArrayRead,
      ...(request.k99 && backend.kind === 'cpu'
        ? {
            varianceSpectra: {
              reductionOf: (rep: Representation) => (factorHoldsK99(rep) ? undefined : passReduction),
              record: (i: number, spectrum: number[]) => known.set(step, entries[i].layer, k99(spectrum)),
              factorSpectra,
            },
          }
        : {}),
    };
    const side = await loadSide(entries, options, hint, dft, backend, '', request.cache, read, partners);
    recordK99(known, step, entries, side, backend, options);
    return side;
  };
  // Every step is compared with the reference step's layers; the reference itself with its own.
  let partners: { height: number; width: number }[] | 'own' = 'own';
  const referenceSide = await loadStep(reference);
  partners = dftShapesOf(referenceSide.prepared);
  // Every bad array, once (the reference step's first: they empty a column at every checkpoint).
  const badArrays: BadArray[] = referenceSide.bad.filter((b): b is BadArray => b !== null);
  // The conventions read the first good array's layout.
  let first: Prepared | undefined = referenceSide.prepared.find((p) => p !== undefined);
  try {
    const values: (number | null)[][][] = [];
    const baseline: (Baseline | null)[][][] = [];
    await runCheckpoints<GridSide>({
      steps,
      ahead: request.checkpointsAhead ?? (backend.kind === 'webgpu' ? 1 : 0),
      load: async (step) => (step === reference ? referenceSide : loadStep(step)),
      visit: async (step, side) => {
        const onPairs = (count: number) => control.onProgress?.({ done: (done += count), total, stage: `step ${step}` });
        if (side !== referenceSide) badArrays.push(...side.bad.filter((b): b is BadArray => b !== null));
        first ??= side.prepared.find((p) => p !== undefined);
        const grid = await compareSides(side, referenceSide, options, dft, backend, warnings, onPairs, control.signal, float64, chance);
        values.push(grid.values);
        if (grid.baseline) baseline.push(grid.baseline);
        control.onValues?.(values.length - 1, grid.values, grid.kept, [...badArrays]);
      },
      release: (side) => side !== referenceSide && releaseSide(backend, side),
      abandon: () => backend.abandon?.(),
      signal: control.signal,
    });
    if (!first) throw new InputError(badArrays[0].source, `${badArrays[0].problem}; every array of the job is bad, nothing to compare`);
    const result: DynamicsResult = {
      metric: options.metric,
      steps,
      layers,
      reference,
      values,
      ...(chance ? { baseline } : {}),
      badArrays,
      conventions: conventionsFor(options, first, first, dft, backend),
      warnings: [
        ...badArrays.map((b) => badArrayWarning(b, reference, steps.length, layers.length)),
        ...groupLayerWarnings([...warnings], referenceSide.names),
      ],
      provenance: provenanceOf(backend, float64),
    };
    jobK99.set(result, known);
    return result;
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
  /** The chance level of every cell ('all', the default) or of the diagonal ('diagonal': A's layer i against B's layer i). */
  baseline?: Partial<BaselineRequest> | null;
}

/** values[i][j] = similarity of A's layer i to B's layer j at one step (paper Figure 1). */
export async function computeCross(
  request: CrossRequest,
  options: AnalysisOptions,
  control: JobControl = {},
  backend: ComputeBackend = cpuBackend,
): Promise<CrossResult> {
  const chance = resolveBaseline(request.baseline);
  const runA = chosenRun(request.a.bundle, request.a.run);
  const runB = chosenRun(request.b.bundle, request.b.run);
  const stepsOf = (bundle: Bundle, run: string | null) => new Set(bundle.entries.filter((e) => e.run === run).map((e) => e.step));
  const stepsA = stepsOf(request.a.bundle, runA);
  const stepsB = stepsOf(request.b.bundle, runB);
  const shared = [...stepsA].filter((s) => stepsB.has(s)).sort((x, y) => x - y);
  let step: number;
  if (request.step !== undefined) {
    if (!stepsA.has(request.step))
      throw new InputError(request.a.bundle.name, `has no step ${request.step} (steps: ${[...stepsA].sort((x, y) => x - y).join(', ')})`);
    if (!stepsB.has(request.step))
      throw new InputError(request.b.bundle.name, `has no step ${request.step} (steps: ${[...stepsB].sort((x, y) => x - y).join(', ')})`);
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
  // The signal reaches each side's factorisation: a cancel stops between two layers, not after a side.
  const sideA = await loadSide(entriesA, options, hint, dft, backend, "A's ", request.cache, { signal: control.signal });
  try {
    checkAborted(control.signal);
    const sideB = await loadSide(entriesB, options, hint, dft, backend, "B's ", request.cache, { signal: control.signal }, dftShapesOf(sideA.prepared));
    try {
      // One bad array costs only its row (A) or column (B); every other cell is computed as usual.
      const badArrays = [...crossBad(sideA, 'A', runA), ...crossBad(sideB, 'B', runB)];
      const firstA = sideA.prepared.find((p) => p !== undefined);
      const firstB = sideB.prepared.find((p) => p !== undefined);
      for (const [first, side, name] of [
        [firstA, 'A', request.a.bundle.name],
        [firstB, 'B', request.b.bundle.name],
      ] as const) {
        if (first) continue;
        const bad = badArrays.find((b) => b.side === side)!;
        throw new InputError(bad.source, `${bad.problem}; every array of ${side}'s side (${name}) at step ${step} is bad, nothing to compare`);
      }
      const warnings = new Set<string>();
      const float64 = new Set<string>();
      const onPairs = (count: number) => {
        done += count;
        control.onProgress?.({ done, total, stage: `step ${step}` });
      };
      const { values, kept, baseline } = await compareSides(sideA, sideB, options, dft, backend, warnings, onPairs, control.signal, float64, chance);
      // Bad cells were never compared: count them done so the progress reaches its total.
      const skipped = total - done;
      if (skipped > 0 && badArrays.length > 0) onPairs(skipped);
      control.onValues?.(0, values, kept, badArrays);
      return {
        metric: options.metric,
        step,
        layersA: request.a.bundle.layers,
        layersB: request.b.bundle.layers,
        values,
        ...(baseline ? { baseline } : {}),
        ...(badArrays.length > 0 ? { badArrays } : {}),
        conventions: conventionsFor(options, firstA!, firstB!, dft, backend),
        warnings: [
          ...badArrays.map((b) => crossBadWarning(b, b.side === 'B' ? entriesA.length : entriesB.length)),
          ...groupLayerWarnings([...warnings], [...sideA.names, ...sideB.names]),
        ],
        provenance: provenanceOf(backend, float64),
      };
    } finally {
      releaseSide(backend, sideB);
    }
  } finally {
    releaseSide(backend, sideA);
  }
}
