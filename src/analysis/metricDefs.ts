// Every fact about a metric that more than one place needs, in one table: its name on screen, its
// family, which options change its numbers, whether it runs through the DFT, how few datapoints it
// accepts, its one-line summary. The engine's rules, the factor cache key, the job key, the exports'
// provenance, the preview, the settings row, the URL and the CLI all read from here, so a new metric
// is one entry (the compiler refuses a `Metric` without one) plus its math/ and GPU files.
// Pure and light: imported on the main thread.

import type { AnalysisOptions, ConvReduction, Keep, Metric } from './types';

/** The options besides the array's layout and conv reduction that can change a metric's numbers. */
export type MetricOption = 'keep' | 'epsilon' | 'pwccaVariant';

export interface MetricDef {
  /** How the metric is written on screen and in messages: "SVCCA", "debiased CKA". */
  label: string;
  /** CCA family (canonical correlations, ε pruning, degenerate when datapoints approach the
   *  dimensions) or CKA family (compares the layers' Gram matrices directly). */
  family: 'cca' | 'cka';
  /** Which options change its numbers (`keep`: the SVD step; `epsilon`: cca_core's ε). */
  options: readonly MetricOption[];
  /** The per-representation work it shares with other metrics (the factor cache key): debiased
   *  CKA reuses plain CKA's centred features. */
  factor: 'svcca' | 'cca' | 'pwcca' | 'cka';
  /** Whether conv layers can go through the per-frequency DFT reduction (per-frequency CCA). */
  runsThroughDft: boolean;
  /** The conv reduction used instead of the DFT when it cannot run through it. */
  reductionInsteadOfDft: Exclude<ConvReduction, 'dft'>;
  /** Fewest datapoints it is defined for. */
  minDatapoints: number;
  /** What a result's `kept` counts, on screen. */
  keptNoun: string;
  /** One line under the settings: what the metric does and which settings apply. */
  settingsNote: string;
  /** One line stating how its similarity is computed (a result's `conventions.summary`). */
  summary(options: AnalysisOptions, dft: boolean): string;
}

const SHARED_FREQUENCIES = ' (union over shared DFT frequencies)';

function describeKeep(keep: Keep): string {
  return keep.kind === 'variance' ? `${keep.fraction * 100}% of Σs²` : `k = ${keep.k} directions`;
}

const CKA_NOTE = 'CKA compares the layers directly; keep and ε do not apply.';
const KEEP_ONLY_SVCCA = 'Keep only applies to SVCCA.';
const CCA_KEPT = 'neurons kept after ε pruning';

export const METRIC_DEFS = {
  svcca: {
    label: 'SVCCA',
    family: 'cca',
    options: ['keep', 'epsilon'],
    factor: 'svcca',
    runsThroughDft: true,
    reductionInsteadOfDft: 'flatten',
    minDatapoints: 2,
    keptNoun: 'SVD directions kept',
    settingsNote: 'SVCCA: the top singular directions of each side, then CCA.',
    summary: (o, dft) =>
      `mean ρ over min(k1, k2) canonical correlations after keeping ${describeKeep(o.keep)}${dft ? ' (rule applied globally over all frequency blocks)' : ''}${dft ? SHARED_FREQUENCIES : ''}`,
  },
  cca: {
    label: 'CCA',
    family: 'cca',
    options: ['epsilon'],
    factor: 'cca',
    runsThroughDft: true,
    reductionInsteadOfDft: 'flatten',
    minDatapoints: 2,
    keptNoun: CCA_KEPT,
    settingsNote: KEEP_ONLY_SVCCA,
    summary: (_, dft) => `mean ρ over min(n1', n2') canonical correlations${dft ? SHARED_FREQUENCIES : ''}`,
  },
  pwcca: {
    label: 'PWCCA',
    family: 'cca',
    options: ['epsilon', 'pwccaVariant'],
    factor: 'pwcca',
    runsThroughDft: false,
    // A CCA: C·H·W flattened features usually outnumber the datapoints, so mean-pool.
    reductionInsteadOfDft: 'meanpool',
    minDatapoints: 2,
    keptNoun: CCA_KEPT,
    settingsNote: KEEP_ONLY_SVCCA,
    summary: (o) =>
      `projection-weighted mean ρ (${o.pwccaVariant === 'reference' ? 'google/svcca pwcca semantics, without its + μ' : 'Morcos et al. 2018 paper variant'})`,
  },
  cka: {
    label: 'CKA',
    family: 'cka',
    options: [],
    factor: 'cka',
    runsThroughDft: false,
    // Kornblith et al. 2019 compare conv layers flattened; CKA does not degrade with many features.
    reductionInsteadOfDft: 'flatten',
    minDatapoints: 2,
    keptNoun: 'features',
    settingsNote: CKA_NOTE,
    summary: () => 'linear CKA (feature space)',
  },
  'cka-debiased': {
    label: 'debiased CKA',
    family: 'cka',
    options: [],
    factor: 'cka',
    runsThroughDft: false,
    reductionInsteadOfDft: 'flatten',
    // The unbiased HSIC estimator divides by (m − 1)(m − 2)(m − 3).
    minDatapoints: 4,
    keptNoun: 'features',
    settingsNote: CKA_NOTE,
    summary: () => 'debiased linear CKA (unbiased HSIC, Song et al. 2012)',
  },
} as const satisfies Record<Metric, MetricDef>;

/** How each conv reduction is written on screen and in messages. */
export const CONV_REDUCTION_LABELS: Record<ConvReduction, string> = { flatten: 'flatten', positions: 'positions', meanpool: 'mean-pool', dft: 'DFT' };

/** The metrics in the order the settings and the CLI list them. */
export const METRICS = Object.keys(METRIC_DEFS) as Metric[];

export const metricDef = (metric: Metric): MetricDef => METRIC_DEFS[metric];
export const metricLabel = (metric: Metric): string => METRIC_DEFS[metric].label;
/** Whether the metric has SVCCA's SVD step (the keep rule applies). */
export const hasSvdStep = (metric: Metric): boolean => usesOption(metric, 'keep');
/** Whether cca_core's ε (pruning and regularisation) changes its numbers. */
export const usesEpsilon = (metric: Metric): boolean => usesOption(metric, 'epsilon');
export const isCcaFamily = (metric: Metric): boolean => METRIC_DEFS[metric].family === 'cca';

function usesOption(metric: Metric, option: MetricOption): boolean {
  return (METRIC_DEFS[metric].options as readonly MetricOption[]).includes(option);
}

/** The options a grid's numbers depend on; the others are null (ε under CKA, the conv reduction without conv layers…). */
export interface OptionsUsed {
  metric: Metric;
  keep: AnalysisOptions['keep'] | null;
  epsilon: number | null;
  layout: AnalysisOptions['layout'];
  convLayout: AnalysisOptions['convLayout'] | null;
  convReduction: ConvReduction | null;
  pwccaVariant: AnalysisOptions['pwccaVariant'] | null;
}

/** The one rule for which options change a job's numbers: the exports state it, the job key and the factor cache key follow it. */
export function optionsUsed(o: AnalysisOptions, hasConv: boolean): OptionsUsed {
  return {
    metric: o.metric,
    keep: hasSvdStep(o.metric) ? o.keep : null,
    epsilon: usesEpsilon(o.metric) ? o.epsilon : null,
    layout: o.layout,
    convLayout: hasConv ? o.convLayout : null,
    convReduction: hasConv ? o.convReduction : null,
    pwccaVariant: usesOption(o.metric, 'pwccaVariant') ? o.pwccaVariant : null,
  };
}
