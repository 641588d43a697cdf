// The rules that decide whether arrays can be compared and what is worth a warning, each with one
// wording, read by the engine (which refuses or warns while computing) and by the main thread's
// preview (which says the same before anything is computed). Pure and light: the metric facts come
// from metricDefs.ts, the counting from math/reduce.ts.

import { InputError, type Bundle } from '../io/types';
import { datapointsOfRepresentation, type Representation } from '../math/reduce';
import { METRIC_DEFS, METRICS, metricLabel } from './metricDefs';
import type { Prepared } from './prepare';
import { describeDatapoints, POSITIONS_ADVICE, positionsMismatch, type PositionsSide } from './positions';
import type { AnalysisOptions, ConvReduction, Metric } from './types';

/** How the conv-reading line goes on after the layer's name(s); `reading` is describeConvReading's "stored (…), read as …". */
const CONV_READING = 'conv layer ';

/** The line saying how a conv layer was read and reduced ("conv.npy: conv layer stored (…), read as NCHW: …; reduced with dft: …"). */
export function convReadingLine(name: string, reading: string, reduction: ConvReduction, detail: string): string {
  return `${name}: ${CONV_READING}${reading}; reduced with ${reduction}: ${detail}`;
}

/**
 * Whether a line of a result's `warnings` is information rather than a warning: how a conv layer
 * was read and reduced says what was done, not that anything may be wrong (also once a grid has
 * said it for several layers: "layers a, b: conv layer stored …"). The app shows such lines apart,
 * in a quieter style; the list (and the CLI's --json) keeps them in order with the warnings.
 */
export function isInformational(line: string): boolean {
  return line.includes(`: ${CONV_READING}stored (`);
}

/**
 * The run a job reads: the one asked for, or the bundle's first. A run the bundle does not hold is
 * refused, naming those it does ("has no run seed5 (runs: seed0, seed1)"), or, for a bundle whose
 * arrays carry no run name, saying there is nothing to pick.
 */
export function chosenRun(bundle: Pick<Bundle, 'name' | 'runs'>, run: string | null | undefined): string | null {
  const chosen = run === undefined ? bundle.runs[0] : run;
  if (bundle.runs.includes(chosen)) return chosen;
  const named = bundle.runs.filter((r): r is string => r !== null);
  const held =
    named.length === 0
      ? 'its arrays are named step_<N>/<layer>, without a run: it is one run, pick none'
      : `runs: ${named.join(', ')}${bundle.runs.includes(null) ? ', and one without a name' : ''}`;
  throw new InputError(bundle.name, `has no run ${String(chosen)} (${held})`);
}

/** What the DFT reduction assumes of a sequence (N, T, D), said after how the layer was reduced. */
export const DFT_ALONG_SEQUENCE =
  'along T this assumes statistics that do not change with the position (a transformer’s position embeddings break that; meanpool, positions and flatten do not rely on it)';

/** Fewest datapoints any comparison needs (a metric may need more: MetricDef.minDatapoints). */
export const MIN_DATAPOINTS = 2;

/** CCA becomes degenerate (drifts towards 1) when the dimensions it sees approach the datapoints;
 *  below this many datapoints per dimension a result gets a warning. */
export const MIN_DATAPOINTS_PER_DIMENSION = 5;

/** "SVCCA and CCA": the metrics that run through the DFT reduction. */
const DFT_METRICS = METRICS.filter((m) => METRIC_DEFS[m].runsThroughDft)
  .map(metricLabel)
  .join(' and ');

/** Why a conv layer cannot go through the DFT under a metric (after the layer's name). */
export const DFT_REFUSAL = `is a conv layer and the DFT reduction works with ${DFT_METRICS} only`;

/** Whether any of these arrays is a conv layer or a sequence (rank ≥ 3): only then do the conv
 *  layout and the conv reduction matter. */
export const anyConv = (entries: readonly { shape: readonly number[] }[]) => entries.some((e) => e.shape.length >= 3);

/** True when this representation goes through the per-frequency DFT path. */
function usesDft(rep: Representation, options: AnalysisOptions): boolean {
  return rep.kind === 'conv' && options.convReduction === 'dft';
}

export function pairUsesDft(a: Prepared, b: Prepared, options: AnalysisOptions): boolean {
  return usesDft(a.rep, options) || usesDft(b.rep, options);
}

/** The problem with `datapoints` for this metric ("has 3 datapoints; debiased CKA needs at least 4"), after the array's name; null when enough. */
export function datapointsProblem(metric: Metric, datapoints: number): string | null {
  if (datapoints < MIN_DATAPOINTS) return `has ${datapoints} datapoint; at least ${MIN_DATAPOINTS} are needed`;
  const min = METRIC_DEFS[metric].minDatapoints;
  if (datapoints < min) return `has ${datapoints} datapoints; ${metricLabel(metric)} needs at least ${min}`;
  return null;
}

/** Whether CCA sees too many dimensions for its datapoints. */
export const tooFewDatapointsPerDimension = (datapoints: number, dimensions: number) => datapoints < MIN_DATAPOINTS_PER_DIMENSION * dimensions;

/** The warning for tooFewDatapointsPerDimension: `what` names the dimensions ("neurons", "kept directions"), `advice` follows. */
export function fewDatapointsWarning(who: string, datapoints: number, dimensions: number, what: string, advice: string): string {
  return `${who}: ${datapoints} datapoints for ${dimensions} ${what} (fewer than ${MIN_DATAPOINTS_PER_DIMENSION} per dimension): CCA drifts towards 1 as they approach each other${advice}`;
}

/** How the positions rule sees a prepared array (datapoints before and after the spatial split). */
export function positionsSide(p: Prepared, name: string, reduction: ConvReduction): PositionsSide & { inputs: number } {
  return { name, datapoints: datapointsOfRepresentation(p.rep, reduction), conv: p.rep.kind === 'conv', inputs: datapointsOfRepresentation(p.rep, 'flatten') };
}

/**
 * Refuses a pair that cannot be compared, with a message naming both arrays. Returns 'positions'
 * for a pair the positions reduction leaves without shared datapoints (a conv layer against a dense
 * one, or conv layers of different spatial sizes): a grid leaves its cell empty; a lone pair is
 * refused (checkLonePair).
 */
export function checkPair(a: Prepared, b: Prepared, options: AnalysisOptions, dft: boolean): 'ok' | 'positions' {
  // Through the DFT every position of a datapoint stays one datapoint (as with flatten).
  const reduction = dft ? 'flatten' : options.convReduction;
  const sa = positionsSide(a, a.name, reduction);
  const sb = positionsSide(b, b.name, reduction);
  if (positionsMismatch(reduction, sa, sb)) return 'positions';
  const ma = sa.datapoints;
  const mb = sb.datapoints;
  if (ma !== mb) {
    // When a count came from a guessed orientation, the guess is named: it may be what is wrong.
    const guesses = [a, b].filter((p) => p.layoutGuessed).map((p) => `${p.name}: ${p.layoutReason}`);
    const guessed =
      guesses.length > 0 ? ` (the datapoints axis was guessed from the shape alone, ${guesses.join('; ')}; if that is wrong, set the layout)` : '';
    throw new InputError(a.name, `has ${ma} datapoints but ${b.name} has ${mb}: both must hold the same inputs in the same order${guessed}`);
  }
  if (dft && !METRIC_DEFS[options.metric].runsThroughDft) {
    const conv = a.rep.kind === 'conv' ? a : b;
    throw new InputError(conv.name, dftRefusal(options.metric));
  }
  const problem = datapointsProblem(options.metric, ma);
  if (problem) throw new InputError(a.name, problem);
  return 'ok';
}

/** A lone pair (compare two arrays, the drill-down) that positions cannot compare: refused, naming both. */
export function checkLonePair(a: Prepared, b: Prepared, options: AnalysisOptions, dft: boolean): void {
  if (checkPair(a, b, options, dft) === 'ok') return;
  const sa = positionsSide(a, a.name, options.convReduction);
  const sb = positionsSide(b, b.name, options.convReduction);
  throw new InputError(a.name, `has ${describeDatapoints(sa)} under positions but ${b.name} has ${describeDatapoints(sb)}: ${POSITIONS_ADVICE}`);
}

/** The engine's wording of the DFT refusal, naming the reductions as the CLI's --conv spells them. */
function dftRefusal(metric: Metric): string {
  return `${DFT_REFUSAL}; choose flatten, positions or meanpool for ${metric}`;
}

/**
 * Whether a grid goes through the DFT: when any of its arrays is a conv layer and dft is chosen.
 * Refuses, before any work, a metric that does not run through the DFT.
 */
export function gridUsesDft(entries: readonly { source: string; shape: readonly number[] }[], options: AnalysisOptions): boolean {
  const conv = entries.find((e) => e.shape.length >= 3);
  if (!conv || options.convReduction !== 'dft') return false;
  if (!METRIC_DEFS[options.metric].runsThroughDft) throw new InputError(conv.source, dftRefusal(options.metric));
  return true;
}
