// What a grid job depends on, so that a settings change recomputes only when it matters (ε under
// CKA, the keep rule outside SVCCA, the conv reduction of a bundle without conv layers: no job).
// Pure.

import { optionsUsed } from '../analysis/metricDefs';
import type { AnalysisOptions } from '../analysis/types';
import type { BundleInfo } from '../worker/protocol';

/** The options a job's numbers depend on (the rest are null: analysis/metricDefs' rule, the one
 *  the exports state), and the backend, which decides which job ran. */
export function relevantOptions(o: AnalysisOptions, hasConv: boolean) {
  return { ...optionsUsed(o, hasConv), backend: o.backend };
}

/** Whether any array the job reads is a conv layer or a sequence (rank ≥ 3). */
export function hasConvLayers(info: BundleInfo, dropped: readonly string[] = []): boolean {
  const out = new Set(dropped);
  return info.entries.some((e) => !out.has(e.layer) && e.shape.length >= 3);
}
