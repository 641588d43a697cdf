// The app's one zustand store, built from slices, with its actions at module level.
//
// - dataset: what arrays the worker holds (names, shapes, detected layouts: never the data),
//   the user's layout flips, the A/B selection and the load errors.
// - analysis: options, status, the latest result (small vectors only) and its error.
//
// Actions talk to an AnalysisClient (the worker client in the app, a fake in tests) injected
// with setAnalysisClient. Every change that affects the comparison re-requests it; only the
// answer to the newest request is ever shown.

import { createStore } from 'zustand/vanilla';
import type { Layout } from '../io/types';
import type { AnalysisOptions, PairResult, Progress } from '../analysis/types';
import { DEFAULT_OPTIONS } from '../analysis/types';
import type { AnalysisClient, ArrayInfo } from '../worker/protocol';
import { SupersededError } from '../worker/protocol';

export type Side = 'a' | 'b';

export interface DatasetSlice {
  /** Every array the worker holds, in the order added. */
  arrays: ArrayInfo[];
  /** Layouts the user chose instead of the detected one, by array id. */
  layoutOverrides: Record<string, Layout>;
  selection: Record<Side, string | null>;
  /** One line per bad file or member, oldest first. */
  loadErrors: string[];
  /** Set while files are being read. */
  loading: Progress | null;
}

export type AnalysisStatus = 'idle' | 'running' | 'done' | 'error';

export interface AnalysisSlice {
  options: AnalysisOptions;
  status: AnalysisStatus;
  /** The latest finished comparison (kept, dimmed, while a new one runs). */
  result: PairResult | null;
  /** Names of the two arrays `result` compares. */
  resultPair: { a: string; b: string } | null;
  /** Why the latest comparison failed (one line naming the input). */
  error: string | null;
}

export type AppState = DatasetSlice & AnalysisSlice;

export function initialState(): AppState {
  return {
    arrays: [],
    layoutOverrides: {},
    selection: { a: null, b: null },
    loadErrors: [],
    loading: null,
    options: { ...DEFAULT_OPTIONS, keep: { ...DEFAULT_OPTIONS.keep } },
    status: 'idle',
    result: null,
    resultPair: null,
    error: null,
  };
}

export const appStore = createStore<AppState>()(() => initialState());

let client: AnalysisClient | null = null;
/** Number of the newest compare request; answers to older ones are ignored. */
let compareToken = 0;

export function setAnalysisClient(next: AnalysisClient | null): void {
  client = next;
}

/** Back to an empty app (tests; a future "close all"). Pending answers are ignored. */
export function resetAppState(): void {
  compareToken++;
  appStore.setState(initialState(), true);
}

const get = appStore.getState;
const set = appStore.setState;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

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

/** Reads files in the worker and lists their arrays; bad files add errors and remove nothing. */
export async function addFiles(files: File[]): Promise<void> {
  if (files.length === 0) return;
  if (!client) {
    set({ loadErrors: [...get().loadErrors, 'the analysis worker is not running'] });
    return;
  }
  set({ loading: { done: 0, total: files.length, stage: 'reading' } });
  try {
    const res = await client.addFiles(files, (p) => set({ loading: p }));
    const s = get();
    set({
      arrays: res.arrays,
      layoutOverrides: pruneOverrides(res.arrays, s.layoutOverrides, res.added),
      selection: defaultSelection(res.arrays, s.selection),
      loadErrors: [...s.loadErrors, ...res.errors],
      loading: null,
    });
    if (res.added.length > 0) void compareSelected();
  } catch (e) {
    set({ loadErrors: [...get().loadErrors, message(e)], loading: null });
  }
}

export async function removeArray(id: string): Promise<void> {
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

export function setOptions(patch: Partial<AnalysisOptions>): void {
  set({ options: { ...get().options, ...patch } });
  void compareSelected();
}

export function dismissLoadError(index: number): void {
  set({ loadErrors: get().loadErrors.filter((_, i) => i !== index) });
}

export function clearLoadErrors(): void {
  set({ loadErrors: [] });
}

/** Compare the selected pair with the current options; only the newest request's answer lands. */
export async function compareSelected(): Promise<void> {
  const token = ++compareToken;
  const s = get();
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
