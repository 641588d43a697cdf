// Settings changes. The "Compare two arrays" view always recompares (one pair is cheap); the grid
// views recompute only when a setting their numbers depend on changed (see jobKey.ts).
//
// Settings that cannot go together are fixed for the user: CKA or PWCCA while conv layers use the
// DFT (which runs CCA per frequency: SVCCA and CCA only), whether chosen in the settings, opened
// from a link or met by a newly loaded bundle, switches the conv reduction to one that works
// (analysis/compatibility.ts) and leaves a one-line notice with an undo.

import { createStore } from 'zustand/vanilla';
import { convReductionFits, fitConvReductionTo, switchNotice } from '../analysis/compatibility';
import type { AnalysisOptions } from '../analysis/types';
import { appStore, onReset } from './appStore';
import type { AppState } from './appStore';
import { compareSelected } from './arrays';
import { recomputeView } from './explorer';
import { hasConvLayers } from './jobKey';

export interface SettingsNotice {
  text: string;
  /** The options Undo goes back to (the ones before the change that needed the switch). */
  undo: AnalysisOptions;
  undoLabel: string;
}

/** The notice of the last automatic switch (null when there is none to show). */
export const noticeStore = createStore<{ notice: SettingsNotice | null }>()(() => ({ notice: null }));

/** Options before the last setOptions call (what Undo restores after a switch it caused). */
let before: AnalysisOptions | null = null;
/** Whether the conv reduction in use was chosen by fitConvReduction, not by the user. */
let switched = false;
onReset(() => {
  before = null;
  switched = false;
  noticeStore.setState({ notice: null });
});

export function setOptions(patch: Partial<AnalysisOptions>): void {
  before = appStore.getState().options;
  if (patch.convReduction !== undefined) switched = false;
  else if (switched && patch.metric !== undefined && convReductionFits(patch.metric, 'dft')) {
    // Back to a metric that runs through the DFT: the reduction the switch replaced comes back.
    patch = { ...patch, convReduction: 'dft' };
    switched = false;
  }
  noticeStore.setState({ notice: null });
  appStore.setState({ options: { ...appStore.getState().options, ...patch } });
  if (appStore.getState().tab === 'arrays') void compareSelected();
  else recomputeView();
}

/** Undoes the last automatic switch: back to the options before it (which work through the DFT). */
export function undoSwitch(): void {
  const notice = noticeStore.getState().notice;
  if (!notice) return;
  setOptions(notice.undo);
}

export function dismissNotice(): void {
  noticeStore.setState({ notice: null });
}

/**
 * Switches the conv reduction when the metric cannot run through the DFT and a loaded bundle has
 * conv layers. Runs on every store change (a subscription below), so a link's settings, a new
 * bundle and a settings change are all fixed before any job is planned.
 */
export function fitConvReduction(state: AppState = appStore.getState()): boolean {
  const o = state.options;
  // Runs on every store change: the bundles are looked at only when the options need fitting.
  if (convReductionFits(o.metric, o.convReduction)) return false;
  const fitted = fitConvReductionTo(
    o,
    state.bundles.some((b) => hasConvLayers(b, state.dropped[b.id] ?? [])),
  );
  if (fitted === o) return false;
  const to = fitted.convReduction;
  const previous = before && before.metric !== o.metric && convReductionFits(before.metric, before.convReduction) ? before : null;
  const undo: AnalysisOptions = previous ?? { ...o, metric: 'svcca', convReduction: 'dft' };
  const undoLabel = previous ? 'Undo' : 'Use SVCCA with the DFT instead';
  switched = true;
  appStore.setState({ options: fitted });
  noticeStore.setState({ notice: { text: switchNotice(o.metric, to), undo, undoLabel } });
  return true;
}

appStore.subscribe((state) => {
  fitConvReduction(state);
});
