// What a grid job depends on, so that a settings change recomputes only when it matters (ε under
// CKA, the keep rule outside SVCCA, the conv reduction of a bundle without conv layers: no job).
// Pure.

import type { AnalysisOptions } from '../analysis/types';
import type { BundleInfo } from '../worker/protocol';

/** The options a job's numbers depend on; the rest are null. */
export function relevantOptions(o: AnalysisOptions, hasConv: boolean) {
  const cca = o.metric !== 'cka' && o.metric !== 'cka-debiased';
  return {
    metric: o.metric,
    keep: o.metric === 'svcca' ? o.keep : null,
    epsilon: cca ? o.epsilon : null,
    layout: o.layout,
    convLayout: hasConv ? o.convLayout : null,
    convReduction: hasConv ? o.convReduction : null,
    pwccaVariant: o.metric === 'pwcca' ? o.pwccaVariant : null,
    backend: o.backend,
  };
}

/** Whether any array the job reads is a conv layer or a sequence (rank ≥ 3). */
export function hasConvLayers(info: BundleInfo, dropped: readonly string[] = []): boolean {
  const out = new Set(dropped);
  return info.entries.some((e) => !out.has(e.layer) && e.shape.length >= 3);
}
