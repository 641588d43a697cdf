// Class sensitivity over training (Raghu et al. 2017, §4.3 "when are classes learned"): for each
// layer L, class c and checkpoint t, the CCA correlation between layer L after SVCCA's SVD step
// and a one-dimensional class target — the class-c logit (column c of the logits layer at the same
// checkpoint) or the indicator 1[label = c]. With a 1-D target CCA is the multiple correlation:
// ρ = ‖Z y‖ / ‖y‖, Z the whitened factor of L (r × m, orthonormal rows when ε = 0: the same factor
// svccaFactor builds for SVCCA, same keep rule and ε) and y the centred target (m datapoints).
// Also, per checkpoint and layer, the number of SVD directions holding 99% of the variance.
//
// CPU float64 only, by choice: per layer and checkpoint the work is one SVD step (as a factor of the
// dynamics job) plus a classes × r × m product, so there is nothing a GPU path would save here; this
// is the float64 oracle path of the precision contract.
//
// Shapes: layers become n neurons × m datapoints (prepare + reduceToMatrix); conv layers are
// flattened (the DFT reduction has no single representation to project on), or mean-pooled when
// the options say meanpool; positions would change the datapoints and is read as flatten.

import { InputError, type Bundle, type BundleEntry } from '../io/types';
import { chooseK, svccaFactorFromStep, svdStep } from '../math/cca';
import type { Matrix } from '../math/matrix';
import { reduceToMatrix, type Representation } from '../math/reduce';
import { checkAborted, registeredCpuBackend } from './backend';
import { OVERLAP_BYTES } from './memory';
import { CpuPool } from './pool/pool';
import { representationMessage, type PoolResponse } from './pool/protocol';
import { k99, layerVarianceSpectrum, type KnownK99 } from './dimensionality';
import { inferDatapoints, prepare } from './prepare';
import { chosenRun } from './rules';
import type { AnalysisOptions, JobControl } from './types';

export type ClassTarget = 'logits' | 'indicator';

export interface ClassRequest {
  bundle: Bundle;
  /** Which run (default: the first). */
  run?: string | null;
  /** Layers to analyse (default: every layer). */
  layers?: string[];
  /** 'auto' (default): logits when the bundle has a logits layer, else the class indicator. */
  target?: ClassTarget | 'auto';
  /** The logits layer (default: the layer named "logits", case-insensitive). */
  logitsLayer?: string;
  /** ρ a class must reach for `firstStep` (default DEFAULT_CLASS_THRESHOLD). */
  threshold?: number;
}

export const DEFAULT_CLASS_THRESHOLD = 0.8;

export interface ClassSensitivityResult {
  steps: number[];
  layers: string[];
  /** Class ids present in the labels, ascending. */
  classes: number[];
  target: ClassTarget;
  /** The layer whose columns are the class logits (null for the indicator target). */
  logitsLayer: string | null;
  /** values[l][c][t]: ρ between layers[l] and class classes[c]'s target at steps[t]. */
  values: number[][][];
  /** firstStep[l][c]: the first step at which values[l][c] ≥ threshold (null: never). */
  firstStep: (number | null)[][];
  threshold: number;
  /** k99[t][l]: SVD directions holding 99% of layers[l]'s variance at steps[t]. */
  k99: number[][];
  /** kept[t][l]: directions the keep rule kept (the rows of Z). */
  kept: number[][];
  datapoints: number;
  /** How conv layers were read ('flatten' or 'meanpool'; null when no layer is conv). */
  convReduction: 'flatten' | 'meanpool' | null;
  warnings: string[];
}

/** The logits layer a bundle offers: `requested`, or the one named "logits" (any case), or null. */
export function findLogitsLayer(bundle: Bundle, requested?: string): string | null {
  if (requested !== undefined) {
    if (!bundle.layers.includes(requested))
      throw new InputError(bundle.name, `has no layer ${requested} to use as logits (layers: ${bundle.layers.join(', ')})`);
    return requested;
  }
  return bundle.layers.find((l) => l.toLowerCase() === 'logits') ?? null;
}

/** ρ = ‖Z y‖/‖y‖ for every target row y (already centred), Z r × m. */
export function multipleCorrelations(z: Matrix, targets: Float64Array[]): number[] {
  const { rows: r, cols: m } = z;
  return targets.map((y) => {
    let norm = 0;
    for (let j = 0; j < m; j++) norm += y[j] * y[j];
    if (!(norm > 0)) return 0;
    let projected = 0;
    for (let i = 0; i < r; i++) {
      const row = z.data.subarray(i * m, (i + 1) * m);
      let dot = 0;
      for (let j = 0; j < m; j++) dot += row[j] * y[j];
      projected += dot * dot;
    }
    return Math.sqrt(projected / norm);
  });
}

function centred(values: ArrayLike<number>): Float64Array {
  const y = Float64Array.from(values);
  let mean = 0;
  for (const v of y) mean += v;
  mean /= y.length;
  for (let j = 0; j < y.length; j++) y[j] -= mean;
  return y;
}

function entryAt(bundle: Bundle, run: string | null, step: number, layer: string): BundleEntry {
  const entry = bundle.entries.find((e) => e.run === run && e.step === step && e.layer === layer);
  if (!entry) throw new InputError(bundle.name, `has no array for ${run === null ? '' : `run ${run}, `}step ${step}, layer ${layer}`);
  return entry;
}

/** A layer's array as read and prepared (its stored values kept, nothing reduced yet). */
async function layerRepresentation(entry: BundleEntry, options: AnalysisOptions, hint: number | undefined): Promise<Representation> {
  return prepare({ name: entry.source, array: await entry.load() }, options, hint).rep;
}

/**
 * Below this many values (4 MiB as float64) the k99 pass computes a layer's spectrum in its own
 * thread rather than on the pool: sending it costs about what it saves, and a cell queued behind
 * two busy workers delays the read of the array after it.
 */
const K99_INLINE_ELEMENTS = 1 << 19;

/** Values a representation holds (neurons × datapoints, or a conv layer's N·H·W·C), from its sizes alone. */
function representationElements(rep: Representation): number {
  if (rep.kind === 'conv') return rep.conv.datapoints * rep.conv.height * rep.conv.width * rep.conv.channels;
  return rep.stored ? rep.stored.neurons * rep.stored.datapoints : rep.x.rows * rep.x.cols;
}

/** A layer's array as n neurons × m datapoints for this analysis (see the module comment). */
async function layerMatrix(
  entry: BundleEntry,
  options: AnalysisOptions,
  hint: number | undefined,
  reduction: 'flatten' | 'meanpool',
): Promise<{ x: Matrix; conv: boolean }> {
  const rep = await layerRepresentation(entry, options, hint);
  return { x: reduceToMatrix(rep, reduction), conv: rep.kind === 'conv' };
}

function stepsOf(bundle: Bundle, run: string | null): number[] {
  const steps = [...new Set(bundle.entries.filter((e) => e.run === run).map((e) => e.step))].sort((x, y) => x - y);
  if (steps.length === 0) throw new InputError(bundle.name, 'has no checkpoints');
  return steps;
}

/** Class sensitivity of every requested layer at every checkpoint of one run (see the module comment). */
export async function computeClassSensitivity(request: ClassRequest, options: AnalysisOptions, control: JobControl = {}): Promise<ClassSensitivityResult> {
  const { bundle } = request;
  if (!bundle.labels)
    throw new InputError(bundle.name, 'has no labels (a labels member or labels.npy, one integer class per datapoint); class sensitivity needs them');
  const run = chosenRun(bundle, request.run);
  const steps = stepsOf(bundle, run);
  const layers = request.layers ?? bundle.layers;
  for (const layer of layers)
    if (!bundle.layers.includes(layer)) throw new InputError(bundle.name, `has no layer ${layer} (layers: ${bundle.layers.join(', ')})`);
  const labels = Array.from(bundle.labels.data, Number);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const requestedTarget = request.target ?? 'auto';
  const logitsLayer = requestedTarget === 'indicator' ? null : findLogitsLayer(bundle, request.logitsLayer);
  if (requestedTarget === 'logits' && logitsLayer === null) {
    throw new InputError(
      bundle.name,
      `has no layer named logits; name one with --logits LAYER, or use the class indicator (--target indicator) (layers: ${bundle.layers.join(', ')})`,
    );
  }
  const target: ClassTarget = logitsLayer === null ? 'indicator' : 'logits';
  const threshold = request.threshold ?? DEFAULT_CLASS_THRESHOLD;
  const reduction = options.convReduction === 'meanpool' ? 'meanpool' : 'flatten';
  const runEntries = bundle.entries.filter((e) => e.run === run);
  const hint = inferDatapoints(runEntries.map((e) => e.shape));
  const m = labels.length;
  const indicators = classes.map((c) => centred(labels.map((l) => (l === c ? 1 : 0))));
  const values = layers.map(() => classes.map(() => [] as number[]));
  const k99s: number[][] = [];
  const kept: number[][] = [];
  const warnings = new Set<string>();
  let anyConv = false;
  const total = steps.length * layers.length;
  let done = 0;
  for (const step of steps) {
    let targets = indicators;
    if (logitsLayer !== null) {
      const { x: logits } = await layerMatrix(entryAt(bundle, run, step, logitsLayer), options, hint, 'flatten');
      if (logits.cols !== m) throw new InputError(bundle.name, `layer ${logitsLayer} has ${logits.cols} datapoints but there are ${m} labels`);
      const top = classes[classes.length - 1];
      if (classes[0] < 0 || top >= logits.rows) {
        throw new InputError(
          bundle.name,
          `layer ${logitsLayer} has ${logits.rows} columns, but the labels name class ${classes[0] < 0 ? classes[0] : top}; a logits layer has one column per class (or use --target indicator)`,
        );
      }
      targets = classes.map((c) => centred(logits.data.subarray(c * m, (c + 1) * m)));
    }
    const k99Row: number[] = [];
    const keptRow: number[] = [];
    for (const [l, layer] of layers.entries()) {
      checkAborted(control.signal);
      const { x, conv } = await layerMatrix(entryAt(bundle, run, step, layer), options, hint, reduction);
      anyConv ||= conv;
      if (x.cols !== m) throw new InputError(bundle.name, `layer ${layer} at step ${step} has ${x.cols} datapoints but there are ${m} labels`);
      const svd = svdStep(x);
      const factor = svccaFactorFromStep(svd, chooseK(svd.spectrum, options.keep), options.epsilon);
      multipleCorrelations(factor.cca.z, targets).forEach((rho, c) => values[l][c].push(rho));
      k99Row.push(k99(svd.spectrum));
      keptRow.push(factor.k);
      if (factor.k * 5 > m)
        warnings.add(
          `layer ${layer}: ${factor.k} kept directions for ${m} datapoints; with so few datapoints per direction ρ is high by chance alone (about sqrt(k/m) = ${Math.sqrt(factor.k / m).toFixed(2)} for an unrelated target)`,
        );
      done++;
      control.onProgress?.({ done, total, stage: `step ${step}` });
    }
    k99s.push(k99Row);
    kept.push(keptRow);
  }
  const firstStep = values.map((perClass) =>
    perClass.map((series) => {
      const t = series.findIndex((rho) => rho >= threshold);
      return t < 0 ? null : steps[t];
    }),
  );
  if (anyConv && options.convReduction !== reduction)
    warnings.add(
      `conv layers are ${reduction === 'flatten' ? 'flattened (every channel at every position a neuron)' : 'mean-pooled'} for class sensitivity: the ${options.convReduction} reduction has no single representation to correlate with a class`,
    );
  return {
    steps,
    layers,
    classes,
    target,
    logitsLayer,
    values,
    firstStep,
    threshold,
    k99: k99s,
    kept,
    datapoints: m,
    convReduction: anyConv ? reduction : null,
    warnings: [...warnings],
  };
}

/** k99[t][l] for every layer of one run: the per-checkpoint intrinsic dimensionality (dynamics --json). */
export async function dimensionsOverTraining(
  bundle: Bundle,
  run: string | null | undefined,
  options: AnalysisOptions,
  control: JobControl = {},
): Promise<{ steps: number[]; layers: string[]; k99: number[][] }> {
  return k99Table(bundle, run, options, control, false) as Promise<{ steps: number[]; layers: string[]; k99: number[][] }>;
}

/**
 * As dimensionsOverTraining, with null where an array is bad input (dynamics --json beside a job that
 * left it out). `known`: cells a dynamics job of the same run already knew (engine.ts computeDynamics,
 * from its SVCCA factors' spectra, bit for bit this pass's): only the others are read and factored.
 */
export function dimensionsOverTrainingWithGaps(
  bundle: Bundle,
  run: string | null | undefined,
  options: AnalysisOptions,
  control: JobControl = {},
  known?: KnownK99,
): Promise<{ steps: number[]; layers: string[]; k99: (number | null)[][] }> {
  return k99Table(bundle, run, options, control, true, known);
}

async function k99Table(
  bundle: Bundle,
  run: string | null | undefined,
  options: AnalysisOptions,
  control: JobControl,
  gaps: boolean,
  known?: KnownK99,
): Promise<{ steps: number[]; layers: string[]; k99: (number | null)[][] }> {
  const chosen = chosenRun(bundle, run);
  const cellsKnown = known && known.run === chosen ? known : undefined;
  const steps = stepsOf(bundle, chosen);
  const hint = inferDatapoints(bundle.entries.filter((e) => e.run === chosen).map((e) => e.shape));
  const reduction = options.convReduction === 'meanpool' ? 'meanpool' : 'flatten';
  const table: (number | null)[][] = steps.map(() => bundle.layers.map(() => null));
  // On the CPU pool a cell's spectrum is computed on a worker while the next array is read: at most
  // one task per thread, and two arrays' float64 data at once only within OVERLAP_BYTES (as
  // engine.ts loadSide). The same function on the same values, so the same k99 on any thread count.
  const registered = registeredCpuBackend();
  const pool = registered instanceof CpuPool && registered.threads > 1 ? registered : null;
  const inFlight = new Set<{ bytes: number; done: Promise<void> }>();
  const inFlightBytes = () => [...inFlight].reduce((sum, f) => sum + f.bytes, 0);
  /** An InputError leaves its cell null where the table has gaps; anything else stops the pass. */
  const missing = (error: unknown, t: number, l: number) => {
    if (!gaps || !(error instanceof InputError)) throw error;
    table[t][l] = null;
  };
  // The first error of a task on the pool (its `done` never rejects): thrown by the loop when it next looks.
  const failures: unknown[] = [];
  try {
    for (const [t, step] of steps.entries()) {
      for (const [l, layer] of bundle.layers.entries()) {
        const cell = cellsKnown?.get(step, layer);
        if (cell !== undefined) {
          table[t][l] = cell;
          continue;
        }
        if (failures.length > 0) throw failures[0];
        checkAborted(control.signal);
        let rep: Representation;
        try {
          rep = await layerRepresentation(entryAt(bundle, chosen, step, layer), options, hint);
        } catch (error) {
          missing(error, t, l);
          continue;
        }
        const here = () => k99(layerVarianceSpectrum(rep, reduction));
        const elements = representationElements(rep);
        // A small layer (a dense head: 128 × 1000 takes ~5 ms) is done here, not queued for a thread:
        // waiting for a free worker would hold up the reading of the next, large array behind it.
        if (!pool || elements < K99_INLINE_ELEMENTS) {
          try {
            table[t][l] = here();
          } catch (error) {
            missing(error, t, l);
          }
          continue;
        }
        const bytes = elements * 8;
        while (inFlight.size > 0 && (inFlight.size >= pool.threads || inFlightBytes() + bytes > OVERLAP_BYTES))
          await Promise.race([...inFlight].map((f) => f.done));
        const task = { bytes, done: Promise.resolve() };
        task.done = pool
          .runTasks([{ type: 'variance-spectrum', rep: representationMessage(rep, pool.sharedMemory), reduction }], control.signal)
          // null: workers cannot start here, so the cell is computed in this thread.
          .then((answers) => {
            table[t][l] = answers ? k99((answers[0] as Extract<PoolResponse, { type: 'variance-spectrum' }>).spectrum) : here();
          })
          .catch((error: unknown) => {
            try {
              missing(error, t, l);
            } catch (stop) {
              failures.push(stop);
            }
          })
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
    }
  } finally {
    // Every task in flight ends first, also when the pass stops early (cancel, a bad read): none outlives it.
    await Promise.all([...inFlight].map((f) => f.done));
  }
  if (failures.length > 0) throw failures[0];
  return { steps, layers: bundle.layers, k99: table };
}
