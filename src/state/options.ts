// Settings changes. The "Compare two arrays" view always recompares (one pair is cheap); the grid
// views recompute only when a setting their numbers depend on changed (see jobKey.ts).

import type { AnalysisOptions } from '../analysis/types';
import { appStore } from './appStore';
import { compareSelected } from './arrays';
import { recomputeView } from './explorer';

export function setOptions(patch: Partial<AnalysisOptions>): void {
  appStore.setState({ options: { ...appStore.getState().options, ...patch } });
  if (appStore.getState().tab === 'arrays') void compareSelected();
  else recomputeView();
}
