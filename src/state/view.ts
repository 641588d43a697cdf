// Actions of the view slice: what is shown, never what is computed, except where the shown
// thing needs a different job (run, reference step, the across-runs sides and step).

import { appStore } from './appStore';
import type { CrossSide, Tab, Theme } from './appStore';
import { activateBundle, closePair, recomputeView } from './explorer';

const get = appStore.getState;
const set = appStore.setState;

export function setTab(tab: Tab): void {
  if (get().tab === tab) return;
  set({ tab, playing: false });
  recomputeView();
}

/** Shows checkpoint `index` (clamped to the job's checkpoints). */
export function setStepIndex(index: number): void {
  const steps = get().dynamics?.steps.length ?? 0;
  const clamped = Math.max(0, Math.min(Math.round(index), Math.max(0, steps - 1)));
  if (clamped !== get().stepIndex) set({ stepIndex: clamped });
}

/** ← / →: one checkpoint back or forward; `wrap` for the play loop. */
export function stepBy(delta: number, wrap = false): void {
  const steps = get().dynamics?.steps.length ?? 0;
  if (steps === 0) return;
  const next = get().stepIndex + delta;
  setStepIndex(wrap ? ((next % steps) + steps) % steps : next);
}

export function setPlaying(playing: boolean): void {
  set({ playing });
}

export function setMultiples(multiples: boolean): void {
  set({ multiples });
}

export function setDomain(domain: 'fixed' | 'fit'): void {
  set({ domain });
}

export function setThreshold(threshold: number): void {
  if (Number.isFinite(threshold)) set({ threshold: Math.max(0, Math.min(1, threshold)) });
}

export function setShowFreeze(showFreeze: boolean): void {
  set({ showFreeze });
}

export function setReference(reference: 'last' | number): void {
  set({ reference });
  closePairOf('dynamics');
  recomputeView();
}

export function setRunIndex(runIndex: number): void {
  set({ runIndex });
  closePairOf('dynamics');
  recomputeView();
}

export function setCrossSide(side: 'a' | 'b', value: CrossSide): void {
  set(side === 'a' ? { crossA: value } : { crossB: value });
  closePairOf('cross');
  recomputeView();
}

export function setCrossStep(step: number | null): void {
  set({ crossStep: step });
  closePairOf('cross');
  recomputeView();
}

/** Shows another loaded bundle: every view follows it (see activateBundle). */
export function setActiveBundle(id: string): void {
  if (get().activeBundle === id) return;
  activateBundle(id);
}

export function setPreviewOpen(previewOpen: boolean): void {
  set({ previewOpen });
}

export function setTheme(theme: Theme): void {
  set({ theme });
}

function closePairOf(view: 'dynamics' | 'cross'): void {
  if (get().selected?.view === view) closePair();
}
