// Settings that cannot go together, and what to use instead. The DFT reduction of conv layers
// (the paper's) runs CCA per spatial frequency: it works with SVCCA and CCA only. When CKA or PWCCA
// meets conv layers under the DFT, the app (and the CLI, when --conv was not given) switches the
// conv layers to a reduction that works and says so, instead of refusing the whole job.

import type { ConvReduction, Metric } from './types';

/** Whether a metric can run on conv layers reduced this way. */
export function convReductionFits(metric: Metric, reduction: ConvReduction): boolean {
  return reduction !== 'dft' || metric === 'svcca' || metric === 'cca';
}

/**
 * The reduction used instead of the DFT for a metric that cannot run through it: flatten for CKA
 * (Kornblith et al. 2019 compare conv layers flattened; CKA does not degrade with many features),
 * mean-pool for PWCCA (a CCA: C·H·W flattened features usually outnumber the datapoints).
 */
export function workingConvReduction(metric: Metric): ConvReduction {
  return metric === 'pwcca' ? 'meanpool' : 'flatten';
}

const METRIC_NAMES: Record<Metric, string> = { svcca: 'SVCCA', cca: 'CCA', pwcca: 'PWCCA', cka: 'CKA', 'cka-debiased': 'debiased CKA' };
const REDUCTION_NAMES: Record<ConvReduction, string> = { flatten: 'flatten', positions: 'positions', meanpool: 'mean-pool', dft: 'DFT' };

/** One line saying what was switched and why. */
export function switchNotice(metric: Metric, to: ConvReduction): string {
  return `${METRIC_NAMES[metric]} does not run through the DFT (SVCCA and CCA only), so conv layers now use ${REDUCTION_NAMES[to]}.`;
}
