// Actions of the "Compare two arrays" view: loose arrays (files that follow no bundle
// convention), the A/B selection, layout flips, and the comparison of the selected pair. Only the
// answer to the newest request is ever shown.

import type { Layout } from '../io/types';
import type { AddFilesResult, ArrayInfo } from '../worker/protocol';
import { SupersededError } from '../worker/protocol';
import { appStore, getAnalysisClient, message, onReset } from './appStore';
import type { AppState, Side } from './appStore';

const get = appStore.getState;
const set = appStore.setState;

/** Number of the newest compare request; answers to older ones are ignored. */
let compareToken = 0;
/** What the latest compare was asked with (to know whether switching back to the view must recompute). */
let lastCompareKey: string | null = null;
onReset(() => {
  compareToken++;
  lastCompareKey = null;
});

/** Keep what is still loaded; fill an empty side with the first array the other side is not using. */
function defaultSelection(arrays: ArrayInfo[], current: Record<Side, string | null>): Record<Side, string | null> {
  const ids = new Set(arrays.map((a) => a.id));
  const valid = (id: string | null) => (id !== null && ids.has(id) ? id : null);
  let a = valid(current.a);
  let b = valid(current.b);
  if (a === null) a = arrays.find((x) => x.id !== b)?.id ?? null;
  if (b === null) b = arrays.find((x) => x.id !== a)?.id ?? null;
  return { a, b };
}

function pruneOverrides(arrays: ArrayInfo[], overrides: Record<string, Layout>, replaced: string[] = []) {
  const keep = new Set(arrays.map((a) => a.id));
  for (const id of replaced) keep.delete(id); // new content: detect afresh
  return Object.fromEntries(Object.entries(overrides).filter(([id]) => keep.has(id)));
}

/**
 * Takes the worker's answer to reading loose files: lists, selects, compares, and shows the view
 * unless `show` is false (a newer load of the user's is on its way). The loading line is the
 * caller's.
 */
export function applyLooseResult(res: AddFilesResult, errors: string[] = res.errors, show = true): void {
  const s = get();
  set({
    arrays: res.arrays,
    layoutOverrides: pruneOverrides(res.arrays, s.layoutOverrides, res.added),
    selection: defaultSelection(res.arrays, s.selection),
    loadErrors: [...s.loadErrors, ...errors],
    ...(show && res.added.length > 0 ? { tab: 'arrays' as const } : {}),
  });
  if (res.added.length > 0) void compareSelected();
}

/** Reads files in the worker as loose arrays; bad files add errors and remove nothing. */
export async function addFiles(files: File[]): Promise<void> {
  if (files.length === 0) return;
  const client = getAnalysisClient();
  if (!client) {
    set({ loadErrors: [...get().loadErrors, 'the analysis worker is not running'] });
    return;
  }
  set({ loading: { done: 0, total: files.length, stage: 'reading' } });
  try {
    applyLooseResult(await client.addFiles(files, (p) => set({ loading: p })));
    set({ loading: null });
  } catch (e) {
    set({ loadErrors: [...get().loadErrors, message(e)], loading: null });
  }
}

export async function removeArray(id: string): Promise<void> {
  const client = getAnalysisClient();
  if (!client) return;
  try {
    const res = await client.removeArrays([id]);
    const s = get();
    set({
      arrays: res.arrays,
      layoutOverrides: pruneOverrides(res.arrays, s.layoutOverrides),
      selection: defaultSelection(res.arrays, s.selection),
    });
    void compareSelected();
  } catch (e) {
    set({ loadErrors: [...get().loadErrors, message(e)] });
  }
}

export function selectArray(side: Side, id: string | null): void {
  set({ selection: { ...get().selection, [side]: id } });
  void compareSelected();
}

/** The layout an array is read with: the user's choice, else the detected one. */
export function effectiveLayout(state: Pick<AppState, 'layoutOverrides'>, info: ArrayInfo): Layout {
  return state.layoutOverrides[info.id] ?? info.detected.layout;
}

/** Flip an array between datapoints-first and neurons-first; flipping back clears the override. */
export function flipLayout(id: string): void {
  const s = get();
  const info = s.arrays.find((a) => a.id === id);
  if (!info) return;
  const next: Layout = effectiveLayout(s, info) === 'datapoints-first' ? 'neurons-first' : 'datapoints-first';
  const overrides = { ...s.layoutOverrides };
  if (next === info.detected.layout) delete overrides[id];
  else overrides[id] = next;
  set({ layoutOverrides: overrides });
  if (s.selection.a === id || s.selection.b === id) void compareSelected();
}

export function dismissLoadError(index: number): void {
  set({ loadErrors: get().loadErrors.filter((_, i) => i !== index) });
}

export function clearLoadErrors(): void {
  set({ loadErrors: [] });
}

function compareKey(s: AppState): string {
  const { a, b } = s.selection;
  return JSON.stringify([a, b, a && s.layoutOverrides[a], b && s.layoutOverrides[b], s.options]);
}

/** Whether the shown comparison was made with other arrays or settings than the current ones. */
export function compareIsStale(): boolean {
  return lastCompareKey !== compareKey(get());
}

/** Compare the selected pair with the current options; only the newest request's answer lands. */
export async function compareSelected(): Promise<void> {
  const token = ++compareToken;
  const s = get();
  const client = getAnalysisClient();
  lastCompareKey = compareKey(s);
  const { a, b } = s.selection;
  if (!client || a === null || b === null) {
    set({ status: 'idle', result: null, resultPair: null, error: null });
    return;
  }
  const nameOf = (id: string) => s.arrays.find((x) => x.id === id)?.name ?? id;
  set({ status: 'running', error: null });
  try {
    const result = await client.compare({
      a,
      b,
      layouts: [s.layoutOverrides[a] ?? null, s.layoutOverrides[b] ?? null],
      options: s.options,
    });
    if (token !== compareToken) return;
    set({ status: 'done', result, resultPair: { a: nameOf(a), b: nameOf(b) }, error: null });
  } catch (e) {
    if (token !== compareToken || e instanceof SupersededError) return;
    set({ status: 'error', result: null, resultPair: null, error: message(e) });
  }
}
