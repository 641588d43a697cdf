// What a result says about itself, beside its numbers: the conventions it was computed under, its
// warnings (each worded once, in rules.ts where the preview shares them), the sentences naming what a
// GPU job computed in float64 instead, and its provenance. Pure: prepared arrays and pair numbers in,
// text out; the engine (engine.ts) attaches them to pair and grid results.

import type { ComputeBackend } from './backend';
import { hasSvdStep, isCcaFamily, metricDef, metricLabel, optionsUsed } from './metricDefs';
import type { PairNumbers } from './metrics';
import { PRECISION_CONTRACT } from './precision';
import { describeConvReading, type Prepared } from './prepare';
import { DFT_ALONG_SEQUENCE, convReadingLine, fewDatapointsWarning, tooFewDatapointsPerDimension } from './rules';
import type { AnalysisOptions, Conventions, Provenance } from './types';
import { productKernel } from '../math/wasmProducts';

export function conventionsFor(options: AnalysisOptions, a: Prepared, b: Prepared, dft: boolean, backend: ComputeBackend): Conventions {
  const used = optionsUsed(options, a.rep.kind === 'conv' || b.rep.kind === 'conv');
  return {
    metric: options.metric,
    keep: used.keep,
    epsilon: options.epsilon,
    layout: [a.layout, b.layout],
    convLayout: [a.convLayout, b.convLayout],
    convReduction: used.convReduction,
    pwccaVariant: used.pwccaVariant,
    summary: metricDef(options.metric).summary(options, dft),
    backend: backend.kind,
    precision: backend.precision,
  };
}

/**
 * Warnings for one pair. `names` overrides how the two sides are called: grids name layers
 * ("layer conv1") so that one warning covers every checkpoint instead of repeating per step.
 */
export function warningsFor(a: Prepared, b: Prepared, numbers: PairNumbers, options: AnalysisOptions, datapoints: number, names?: [string, string]): string[] {
  const warnings: string[] = [];
  const sides: [Prepared, number][] = [
    [a, 0],
    [b, 1],
  ];
  const grid = names !== undefined;
  warnings.push(...float64Sentences(a, b, numbers, options, names));
  for (const [p, i] of sides) {
    if (p.layoutGuessed)
      warnings.push(`${names?.[i] ?? p.name}: datapoints axis guessed from the shape alone: ${p.layoutReason}; set the layout if that is wrong`);
  }
  const cca = isCcaFamily(options.metric);
  const svd = hasSvdStep(options.metric);
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
              ? p.shape.length === 3
                ? `${channels} features averaged over T`
                : `${channels} channels averaged over space`
              : `${channels * height * width} features`;
      // The DFT's per-frequency blocks stand for the layer when its statistics do not change with the
      // position (Theorem 1's premise): nearly so for a conv layer, not for tokens with position embeddings.
      const sequence = p.shape.length === 3 && options.convReduction === 'dft' && cca ? `; ${DFT_ALONG_SEQUENCE}` : '';
      warnings.push(convReadingLine(names?.[i] ?? p.name, describeConvReading(p.shape, p.convLayout), options.convReduction, detail + sequence));
    }
    // Degeneracy of CCA: the neurons it sees (k after the SVD step for svcca) against the datapoints.
    // Through the DFT every frequency block is its own CCA over at most C channels.
    const fed = numbers.frequencies !== null ? Math.ceil(numbers.neurons[i] / Math.max(1, numbers.frequencies)) : svd ? numbers.kept[i] : numbers.neurons[i];
    if (cca && tooFewDatapointsPerDimension(datapoints, fed)) {
      const what = numbers.frequencies !== null ? 'channels per frequency block' : svd ? 'kept directions' : 'neurons';
      warnings.push(fewDatapointsWarning(names?.[i] ?? p.name, datapoints, fed, what, '; compare with a random baseline of the same shapes'));
    }
    if (numbers.dropped[i] > 0) {
      const what = svd ? 'direction' : 'neuron';
      warnings.push(`${names?.[i] ?? p.name}: ${plural(numbers.dropped[i], what)} with relative variance below ε = ${options.epsilon} dropped (dead neurons)`);
    }
    if (numbers.clipped[i] > 0) {
      warnings.push(
        `${names?.[i] ?? p.name}: rank-deficient: ${plural(numbers.clipped[i], 'direction')} carry no variance and count as correlation 0 (pseudo-inverse)` +
          // A wide side's null directions have no data to project neurons on (math/pwcca.ts wideReferenceDirections).
          (options.metric === 'pwcca' && numbers.kept[i] > datapoints ? ', with no projection weight' : ''),
      );
    }
  }
  return warnings;
}

/** What of this pair a GPU backend computed in float64 instead, one plain sentence each (also warnings). */
export function float64Sentences(a: Prepared, b: Prepared, numbers: PairNumbers, options: AnalysisOptions, names?: [string, string]): string[] {
  const sentences: string[] = [];
  if (numbers.fallback) sentences.push(`computed in float64 on the CPU instead of WebGPU: ${numbers.fallback}`);
  if (numbers.fallbackPair) {
    sentences.push(`${metricLabel(options.metric)} between ${names?.[0] ?? a.name} and ${names?.[1] ?? b.name}: computed in float64, ${numbers.fallbackPair}`);
  }
  numbers.fallbackSides?.forEach((reason, i) => {
    if (reason) sentences.push(`${metricLabel(options.metric)} on ${names?.[i] ?? [a, b][i].name}: computed in float64, ${reason}`);
  });
  return sentences;
}

/** The provenance line of a chance level computed in float64 on a GPU job. */
export const chanceSentence = (why: string) => `chance level: computed in float64 on the CPU instead of WebGPU: ${why}`;

export function provenanceOf(backend: ComputeBackend, float64: Iterable<string>): Provenance {
  const list = [...new Set(float64)];
  const arithmetic = backend.precision === 'float64' ? 'float64' : list.length > 0 ? 'float32 and float64' : 'float32';
  return { backend: backend.kind, arithmetic, contract: PRECISION_CONTRACT, float64: list, products: productKernel(), threads: backend.threads ?? 1 };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * A grid's warnings with the ones that say the same of several layers said once: "layer a: X" and
 * "layer b: X" become "layers a, b: X" (a ResNet's conv layers otherwise give one near-identical
 * line each). `names` are the grid's side names ("layer conv1", "A's layer conv1"); a warning that
 * starts with none of them is kept as it is. Order: each group where its first warning was.
 */
export function groupLayerWarnings(warnings: readonly string[], names: readonly string[]): string[] {
  const byLength = [...new Set(names)].sort((x, y) => y.length - x.length);
  const groups = new Map<string, string[]>();
  const order: (string | { rest: string })[] = [];
  for (const w of warnings) {
    const name = byLength.find((n) => w.startsWith(`${n}: `));
    if (name === undefined) {
      order.push(w);
      continue;
    }
    const rest = w.slice(name.length + 2);
    const group = groups.get(rest);
    if (group) group.push(name);
    else {
      groups.set(rest, [name]);
      order.push({ rest });
    }
  }
  return order.map((item) => {
    if (typeof item === 'string') return item;
    const group = groups.get(item.rest)!;
    if (group.length === 1) return `${group[0]}: ${item.rest}`;
    // One list per side ("A's layers a, b; B's layers a"), or one for both when they name the same layers.
    const sides = new Map<string, string[]>();
    for (const name of group) {
      const prefix = /^(?:[AB]'s )?layer /.exec(name)?.[0] ?? '';
      sides.set(prefix, [...(sides.get(prefix) ?? []), name.slice(prefix.length)]);
    }
    const lists = [...sides].map(([prefix, layers]) => ({ prefix, layers: layers.join(', ') }));
    const same = lists.length === 2 && lists.every((l) => l.prefix !== '') && lists[0].layers === lists[1].layers;
    const named = (prefix: string, layers: string, count: number) =>
      prefix === '' ? layers : `${count > 1 ? prefix.replace(/layer $/, 'layers ') : prefix}${layers}`;
    const text = same
      ? named("A's and B's layer ", lists[0].layers, sides.get(lists[0].prefix)!.length)
      : lists.map((l) => named(l.prefix, l.layers, sides.get(l.prefix)!.length)).join('; ');
    return `${text}: ${item.rest}`;
  });
}
