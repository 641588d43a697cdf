// What a dropped bundle holds, before anything is computed: per layer its shape, dtype, the layout
// the engine will read it with (and why), datapoints and neurons; the problems that would make a
// job fail (refused before starting, each naming the arrays) and the warnings worth reading first.
// Pure: BundleInfo (headers only) and options in, plain data out.

import { METRIC_DEFS, hasSvdStep, isCcaFamily } from '../analysis/metricDefs';
import { describeConvReading, inferDatapoints } from '../analysis/prepare';
import { DFT_REFUSAL, datapointsProblem, fewDatapointsWarning, tooFewDatapointsPerDimension } from '../analysis/rules';
import { positionsCellReason, positionsMismatch, positionsWarning, type PositionsSide } from '../analysis/positions';
import { memoryWarning } from '../analysis/memory';
import type { AnalysisOptions, ConvReduction } from '../analysis/types';
import { detectLayout } from '../io/layout';
import type { ConvLayout, Layout } from '../io/types';
import type { BundleInfo } from '../worker/protocol';
import { arrayBytes } from '../worker/shapes';

export interface LayerSummary {
  layer: string;
  /** Shape and dtype of its first array (first run, first step). */
  shape: number[];
  dtype: string;
  layout: Layout;
  convLayout: ConvLayout | null;
  /** Why that layout: detected (with the reason) or set by the user. */
  reason: string;
  datapoints: number;
  /** Features CCA sees under the current conv reduction (channels for dft and meanpool). */
  neurons: number;
  conv: boolean;
  dropped: boolean;
  /** Whether its shape changes between checkpoints or runs. */
  varies: boolean;
  /** Conv layers: the stored shape and how it is read ("stored (400, 8, 4, 4), read as NCHW: C=8, H=W=4"). */
  reading: string | null;
  /** Conv layers: what each reduction feeds the metric (flatten 128, mean-pool 8, …); null for dense layers. */
  features: ReductionFeatures[] | null;
}

/** What one conv reduction makes of a layer: "flatten: 128 features", "DFT: 8 channels × 16 frequencies". */
export interface ReductionFeatures {
  reduction: ConvReduction;
  label: string;
}

/**
 * The features each conv reduction feeds the metric, from the stored shape as read: flatten C·H·W,
 * mean-pool C, positions C (with N·H·W datapoints), DFT C channels per frequency × H·W frequencies.
 */
export function featuresByReduction(shape: readonly number[], convLayout: ConvLayout | null): ReductionFeatures[] | null {
  if (shape.length < 3) return null;
  const [n, h, w, c] =
    shape.length === 3
      ? [shape[0], shape[1], 1, shape[2]]
      : convLayout === 'nchw'
        ? [shape[0], shape[2], shape[3], shape[1]]
        : [shape[0], shape[1], shape[2], shape[3]];
  return [
    { reduction: 'flatten', label: `flatten ${c * h * w}` },
    { reduction: 'meanpool', label: `mean-pool ${c}` },
    { reduction: 'positions', label: `positions ${c} (over ${n * h * w} datapoints)` },
    { reduction: 'dft', label: `DFT ${c} channels × ${h * w} frequencies` },
  ];
}

export interface BundleSummary {
  runs: number;
  steps: number;
  layers: number;
  entries: number;
  bytes: number;
  /** The datapoint count the arrays agree on (null when they do not). */
  datapoints: number | null;
  perLayer: LayerSummary[];
  /** Refusals: a job with these would fail. */
  problems: string[];
  /** Layouts that are a guess (the shape alone cannot tell), one line per layer naming it and why:
   *  a bundle with any waits for Compute instead of computing at once. */
  questions: string[];
  warnings: string[];
}

/** Steps of one run, ascending. */
export function stepsOfRun(info: BundleInfo, run: string | null): number[] {
  return [...new Set(info.entries.filter((e) => e.run === run).map((e) => e.step))].sort((a, b) => a - b);
}

/** The last step two runs share, or null. */
export function lastSharedStep(a: number[], b: number[]): number | null {
  const inB = new Set(b);
  const shared = a.filter((s) => inB.has(s));
  return shared.length > 0 ? shared[shared.length - 1] : null;
}

export function sharedSteps(a: number[], b: number[]): number[] {
  const inB = new Set(b);
  return a.filter((s) => inB.has(s));
}

/**
 * Whether detectLayout's answer for `shape` is a guess rather than read from the shape: a square or
 * undecided 2-D array, or a 4-D array whose spatial axes cannot be told apart by size.
 */
export function layoutIsGuess(shape: readonly number[], hint: number | undefined): boolean {
  if (shape.length === 2) {
    const [rows, cols] = shape;
    if (hint === undefined) return rows === cols;
    return (rows === hint) === (cols === hint);
  }
  if (shape.length === 4) {
    const [, a, b, c] = shape;
    return !((a === b && c !== a) || (b === c && a !== b));
  }
  return false;
}

function resolvedLayout(shape: readonly number[], options: Pick<AnalysisOptions, 'layout' | 'convLayout'>, hint: number | undefined) {
  const detected = detectLayout(shape, hint);
  const layout = options.layout === 'auto' ? detected.layout : options.layout;
  const conv = shape.length === 4;
  const convLayout: ConvLayout | null = conv ? (options.convLayout === 'auto' ? (detected.convLayout ?? 'nhwc') : options.convLayout) : null;
  const byUser = options.layout !== 'auto' || (conv && options.convLayout !== 'auto');
  const reason = byUser ? `set by you: ${layout}${convLayout ? `, ${convLayout.toUpperCase()}` : ''}` : detected.reason;
  return { layout, convLayout, reason };
}

/** Datapoints and neurons of an array as the engine will read it. */
export function countsOf(
  shape: readonly number[],
  layout: Layout,
  convLayout: ConvLayout | null,
  reduction: AnalysisOptions['convReduction'],
): { datapoints: number; neurons: number; conv: boolean } {
  if (shape.length === 0) return { datapoints: 1, neurons: 1, conv: false };
  if (shape.length === 1) return { datapoints: shape[0], neurons: 1, conv: false };
  if (shape.length === 2) {
    return layout === 'neurons-first' ? { datapoints: shape[1], neurons: shape[0], conv: false } : { datapoints: shape[0], neurons: shape[1], conv: false };
  }
  // (N, T, D) is a conv layer with H = T, W = 1; 4-D per its conv layout.
  const [n, h, w, c] =
    shape.length === 3
      ? [shape[0], shape[1], 1, shape[2]]
      : convLayout === 'nchw'
        ? [shape[0], shape[2], shape[3], shape[1]]
        : [shape[0], shape[1], shape[2], shape[3]];
  switch (reduction) {
    case 'flatten':
      return { datapoints: n, neurons: c * h * w, conv: true };
    case 'positions':
      return { datapoints: n * h * w, neurons: c, conv: true };
    default:
      return { datapoints: n, neurons: c, conv: true };
  }
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

export function summariseBundle(
  info: BundleInfo,
  options: Pick<AnalysisOptions, 'layout' | 'convLayout' | 'convReduction' | 'metric'>,
  dropped: readonly string[],
): BundleSummary {
  const out = new Set(dropped);
  const kept = info.entries.filter((e) => !out.has(e.layer));
  const problems: string[] = [];
  // What reading the files warned about (labels left out, path-like names) comes first.
  const warnings: string[] = [...(info.warnings ?? [])];

  // Layouts are read per run with the datapoint count its arrays agree on (as the engine does).
  const hints = new Map<string | null, number | undefined>();
  for (const run of info.runs) hints.set(run, inferDatapoints(kept.filter((e) => e.run === run).map((e) => e.shape)));
  const counted = kept.map((e) => {
    const r = resolvedLayout(e.shape, options, hints.get(e.run));
    return { entry: e, ...r, ...countsOf(e.shape, r.layout, r.convLayout, options.convReduction) };
  });

  // Every array must hold the same inputs (N). Under positions a conv layer's N·H·W datapoints may
  // differ from a dense layer's N: those pairs are left empty (warned below), not refused.
  const inputsOf = (c: (typeof counted)[number]) => countsOf(c.entry.shape, c.layout, c.convLayout, 'flatten').datapoints;
  let datapoints: number | null = counted.length > 0 ? inputsOf(counted[0]) : null;
  const odd = counted.find((c) => inputsOf(c) !== inputsOf(counted[0]));
  if (odd) {
    datapoints = null;
    problems.push(
      `${odd.entry.source} has ${inputsOf(odd)} datapoints but ${counted[0].entry.source} has ${inputsOf(counted[0])}: every array must hold the same inputs in the same order (leave a layer out, or fix the layout)`,
    );
  }

  // Holes in the grid.
  const present = new Set(kept.map((e) => JSON.stringify([e.run, e.step, e.layer])));
  const holes: string[] = [];
  for (const run of info.runs) {
    const layers = info.layers.filter((l) => !out.has(l));
    for (const step of stepsOfRun(info, run)) {
      for (const layer of layers) {
        if (!present.has(JSON.stringify([run, step, layer]))) holes.push(`${run === null ? '' : `run ${run}, `}step ${step}, layer ${layer}`);
      }
    }
  }
  if (holes.length > 0) {
    const listed = holes.length > 4 ? `${holes.slice(0, 4).join('; ')} and ${holes.length - 4} more` : holes.join('; ');
    problems.push(`missing ${plural(holes.length, 'array')}: ${listed}; leave those layers out or add the files`);
  }

  const perLayer: LayerSummary[] = info.layers.map((layer) => {
    const all = info.entries.filter((e) => e.layer === layer);
    const first = all[0];
    const c = counted.find((x) => x.entry === first);
    const r = c ?? { ...resolvedLayout(first.shape, options, hints.get(first.run)) };
    const counts = c ?? countsOf(first.shape, r.layout, r.convLayout, options.convReduction);
    const varies = all.some((e) => e.shape.join(',') !== first.shape.join(','));
    return {
      layer,
      shape: first.shape,
      dtype: first.dtype,
      layout: r.layout,
      convLayout: r.convLayout,
      reason: r.reason,
      datapoints: counts.datapoints,
      neurons: counts.neurons,
      conv: counts.conv,
      dropped: out.has(layer),
      varies,
      reading: first.shape.length >= 3 ? describeConvReading(first.shape, r.convLayout) : null,
      features: featuresByReduction(first.shape, r.convLayout),
    };
  });

  const cca = isCcaFamily(options.metric);
  const keptLayers = perLayer.filter((l) => !l.dropped);
  if (options.convReduction === 'dft' && !METRIC_DEFS[options.metric].runsThroughDft && keptLayers.some((l) => l.conv)) {
    const conv = keptLayers.find((l) => l.conv)!;
    problems.push(`layer ${conv.layer} ${DFT_REFUSAL}; choose flatten, positions or mean-pool under Conv layers`);
  }
  const tooFew = datapoints === null || counted.length === 0 ? null : datapointsProblem(options.metric, datapoints);
  if (tooFew) problems.push(`${counted[0].entry.source} ${tooFew}`);
  for (const l of keptLayers) {
    if (l.varies) warnings.push(`layer ${l.layer}: its shape changes between checkpoints or runs`);
    if (cca && tooFewDatapointsPerDimension(l.datapoints, l.neurons)) {
      const advice = hasSvdStep(options.metric) ? ' (SVCCA’s SVD step helps if few directions carry the variance)' : '';
      warnings.push(fewDatapointsWarning(`layer ${l.layer}`, l.datapoints, l.neurons, 'neurons', advice));
    }
  }
  if (options.convReduction === 'positions' && datapoints !== null) {
    const sides = keptLayers.map((l) => ({ name: `layer ${l.layer}`, datapoints: l.datapoints, conv: l.conv }));
    const pairs = sides.flatMap((a, i) => sides.slice(i + 1).flatMap((b) => (a.datapoints !== b.datapoints ? [[a, b] as const] : [])));
    const warning = positionsWarning(pairs);
    if (warning) warnings.push(warning);
  }
  if (info.labels && datapoints !== null && info.labels.count !== datapoints) {
    warnings.push(`labels: ${info.labels.count} labels for ${datapoints} datapoints; they will not be used to colour plots`);
  }
  if (keptLayers.length === 0) problems.push('every layer is left out; keep at least one');
  // Memory a job needs at once (arrays are read one at a time; see analysis/memory.ts).
  const tooBig = memoryWarning(
    keptLayers.map((l) => {
      const largest = kept.filter((e) => e.layer === l.layer).reduce((a, e) => (arrayBytes(e.shape, e.dtype) > arrayBytes(a.shape, a.dtype) ? e : a));
      const elements = largest.shape.reduce((p, d) => p * d, 1);
      return { layer: l.layer, storedBytes: arrayBytes(largest.shape, largest.dtype), elements, neurons: l.neurons, datapoints: l.datapoints, conv: l.conv };
    }),
  );
  if (tooBig) warnings.push(tooBig);

  const questions: string[] = [];
  for (const l of keptLayers) {
    const first = kept.find((e) => e.layer === l.layer)!;
    const byUser = options.layout !== 'auto' || (l.conv && options.convLayout !== 'auto');
    if (!byUser && layoutIsGuess(first.shape, hints.get(first.run))) questions.push(`layer ${l.layer}: ${l.reason}`);
  }

  return {
    runs: info.runs.length,
    steps: info.steps.length,
    layers: keptLayers.length,
    entries: kept.length,
    bytes: kept.reduce((s, e) => s + arrayBytes(e.shape, e.dtype), 0),
    datapoints,
    perLayer,
    problems,
    questions,
    warnings,
  };
}

/** Each kept layer as the positions rule sees it (its first array), named "A's layer conv1" with a prefix. */
export function positionsSides(
  info: BundleInfo,
  options: Pick<AnalysisOptions, 'layout' | 'convLayout' | 'convReduction' | 'metric'>,
  dropped: readonly string[],
  prefix = '',
): Map<string, PositionsSide & { inputs: number }> {
  const sides = new Map<string, PositionsSide & { inputs: number }>();
  for (const l of summariseBundle(info, options, dropped).perLayer) {
    const inputs = countsOf(l.shape, l.layout, l.convLayout, 'flatten').datapoints;
    sides.set(l.layer, { name: `${prefix}layer ${l.layer}`, datapoints: l.datapoints, conv: l.conv, inputs });
  }
  return sides;
}

/**
 * The cells of a grid (rows × cols layers) the positions reduction cannot compare: blank[i][j] =
 * why, or null; null when every cell computes (any other reduction, or sizes that all agree).
 * The same at every checkpoint, so known before any value arrives.
 */
export function positionsBlanks(
  rows: readonly string[],
  cols: readonly string[],
  a: Map<string, PositionsSide & { inputs: number }>,
  b: Map<string, PositionsSide & { inputs: number }>,
  reduction: ConvReduction,
): (string | null)[][] | null {
  let any = false;
  const blank = rows.map((r) =>
    cols.map((c) => {
      const x = a.get(r);
      const y = b.get(c);
      if (!x || !y || !positionsMismatch(reduction, x, y)) return null;
      any = true;
      return positionsCellReason(x, y);
    }),
  );
  return any ? blank : null;
}

/** "1 run × 6 checkpoints × 5 layers". */
/**
 * What the preview lists as not part of the bundle: files left out of the study (each with why:
 * they are also in the load's errors) first, then files and members that follow no convention.
 */
export function unmatchedOf(info: Pick<BundleInfo, 'unmatched' | 'excluded'>): string[] {
  return [...(info.excluded ?? []), ...info.unmatched];
}

export function gridLabel(s: Pick<BundleSummary, 'runs' | 'steps' | 'layers'>): string {
  return `${plural(s.runs, 'run')} × ${plural(s.steps, 'checkpoint')} × ${plural(s.layers, 'layer')}`;
}

/** Megabytes with one decimal ("4.6 MB"); below 0.1 MB two decimals. */
export function megabytes(bytes: number): string {
  const mb = bytes / 1e6;
  return `${mb < 0.1 ? mb.toFixed(2) : mb.toFixed(1)} MB`;
}
