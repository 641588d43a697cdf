// Settings that cannot go together, and what to use instead. The DFT reduction of conv layers
// (the paper's) runs CCA per spatial frequency: it works with SVCCA and CCA only. When CKA or PWCCA
// meets conv layers under the DFT, the app (and the CLI, when --conv was not given) switches the
// conv layers to a reduction that works and says so, instead of refusing the whole job.

import { CONV_REDUCTION_LABELS, METRIC_DEFS } from './metricDefs';
import type { ConvReduction, Metric } from './types';

/** Whether a metric can run on conv layers reduced this way. */
export function convReductionFits(metric: Metric, reduction: ConvReduction): boolean {
  return reduction !== 'dft' || METRIC_DEFS[metric].runsThroughDft;
}

/** The reduction used instead of the DFT for a metric that cannot run through it (metricDefs says which and why). */
export function workingConvReduction(metric: Metric): ConvReduction {
  return METRIC_DEFS[metric].reductionInsteadOfDft;
}

/**
 * `options` as a job over data with (`hasConv`) or without conv layers runs them: a metric that
 * cannot run through the DFT takes its working reduction instead; anything else is returned as it is.
 */
export function fitConvReductionTo<O extends { metric: Metric; convReduction: ConvReduction }>(options: O, hasConv: boolean): O {
  return hasConv && !convReductionFits(options.metric, options.convReduction) ? { ...options, convReduction: workingConvReduction(options.metric) } : options;
}

/** One line saying what was switched and why. */
export function switchNotice(metric: Metric, to: ConvReduction): string {
  return `${METRIC_DEFS[metric].label} does not run through the DFT (SVCCA and CCA only), so conv layers now use ${CONV_REDUCTION_LABELS[to]}.`;
}
