// The app's one zustand store, built from slices (dataset, analysis, explorer, view). Actions live
// at module level in arrays.ts, explorer.ts, view.ts and options.ts, so the worker client and the
// tests can call them; store.ts re-exports the lot.
//
// - dataset: loose arrays (names, shapes, detected layouts: never the data), loaded bundles
//   (headers only), the user's layout flips and left-out layers, the load errors.
// - analysis: options and the "Compare two arrays" result.
// - explorer: the learning-dynamics and across-runs jobs (small similarity matrices, filled in as
//   they arrive) and the drill-down of one pair.
// - view: what is shown (tab, checkpoint, colour domain, selected pair, …): everything in the URL hash.

import { DEFAULT_FREEZE_THRESHOLD } from '../analysis/chanceDefs';
import { createStore } from 'zustand/vanilla';
import type { Layout } from '../io/types';
import type { AnalysisOptions, BadArray, CrossResult, DynamicsResult, Metric, PairResult, Progress } from '../analysis/types';
import { DEFAULT_OPTIONS } from '../analysis/types';
import type { CrossExport, DynamicsExport } from '../analysis/provenance';
import type { AnalysisClient, ArrayInfo, BundleInfo, CrossJobRequest, DynamicsJobRequest, PairJobRequest, PairJobResult } from '../worker/protocol';

export type Side = 'a' | 'b';

/** The convergence chart's freeze threshold unless a link or the demo names another. */
/** The convergence threshold the app opens with (one value for the app and the CLI). */
export const DEFAULT_THRESHOLD = DEFAULT_FREEZE_THRESHOLD;

export interface DatasetSlice {
  /** Every loose array the worker holds, in the order added. */
  arrays: ArrayInfo[];
  /** Layouts the user chose instead of the detected one, by array id. */
  layoutOverrides: Record<string, Layout>;
  selection: Record<Side, string | null>;
  /** One line per bad file or member, oldest first. */
  loadErrors: string[];
  /** Set while files are being read. */
  loading: Progress | null;
  /** Bundles the worker holds (headers only), in the order loaded. */
  bundles: BundleInfo[];
  /** The bundle the learning-dynamics view shows. */
  activeBundle: string | null;
  /** Bundles the user has confirmed after the preview (computing starts then). */
  confirmed: Record<string, boolean>;
  /** Layers left out, by bundle id. */
  dropped: Record<string, string[]>;
  /** Set while the embedded demo is what is shown. */
  /** The demo shown (public/demo/index.json entry); `step`: the checkpoint it opens on. */
  demo: { bundle: string; title: string; caption: string; step?: number } | null;
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

export type JobStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

/** A grid job: learning dynamics (one matrix per checkpoint) or across runs (one matrix). */
export interface GridJob {
  kind: 'dynamics' | 'cross';
  /** Identifies what was asked: bundle(s), runs, steps, left-out layers and the options that matter. */
  key: string;
  status: JobStatus;
  request: DynamicsJobRequest | CrossJobRequest;
  /** Row labels (layers at step t; A's layers) and column labels (layers at the reference; B's). */
  rows: string[];
  cols: string[];
  /** Dynamics: every checkpoint (the t axis). Cross: the one step. */
  steps: number[];
  /** Dynamics: the reference step. */
  reference: number | null;
  /** values[t][i][j]; null until computed, or for ever where `blank` says why. A cross job has t = 0 only. */
  values: (number | null)[][][];
  /** Cells the positions reduction cannot compare: blank[i][j] = why (the same at every checkpoint);
   *  null when every cell computes. Known from the shapes before the job starts. */
  blank: (string | null)[][] | null;
  kept: ([number, number] | null)[][][];
  /** Arrays the job left out (bad input), as they are met; their cells stay null (analysis/chanceDefs badCellWhy / crossBadCellWhy say why). */
  badArrays?: BadArray[];
  /** The engine's whole result (what Export JSON writes), once finished. */
  result: DynamicsResult | CrossResult | null;
  /** "CPU (float64): …": which backend ran and why. */
  backend: string | null;
  error: string | null;
  metric: Metric;
  /** Pairs in the job. */
  total: number;
  startedAt: number;
  finishedAt: number | null;
  /** How the two sides are named in captions ("digits.npz", "run a"). */
  names: { a: string; b: string };
}

/** A cell of a grid: checkpoint t (0 across runs), row i, column j. */
export interface PairSelection {
  view: 'dynamics' | 'cross';
  t: number;
  i: number;
  j: number;
}

export interface PairJob {
  key: string;
  status: JobStatus;
  selection: PairSelection;
  request: PairJobRequest;
  /** "conv1 at step 300" and "fc at step 1000 (reference)". */
  titles: [string, string];
  result: PairJobResult | null;
  error: string | null;
}

export interface ExplorerSlice {
  dynamics: GridJob | null;
  cross: GridJob | null;
  /** Progress of the running jobs (kept apart so progress does not re-render the charts). */
  dynamicsProgress: Progress | null;
  crossProgress: Progress | null;
  pair: PairJob | null;
}

export type Tab = 'dynamics' | 'cross' | 'arrays' | 'classes';
export type ChanceCells = 'diagonal' | 'all';
export type HeatMode = 'similarity' | 'above-chance' | 'z';
export type Theme = 'system' | 'light' | 'dark';

/** One side of the across-runs view: a run of a loaded bundle. */
export interface CrossSide {
  bundle: string;
  run: string | null;
}

export interface ViewSlice {
  tab: Tab;
  /** Run of the active bundle shown by the learning-dynamics view (index into its runs). */
  runIndex: number;
  reference: 'last' | number;
  /** The checkpoint shown (index into the job's steps). */
  stepIndex: number;
  playing: boolean;
  /** Small multiples: every checkpoint side by side. */
  multiples: boolean;
  /** Colour domain: [0, 1] or fitted to the data (shared by every checkpoint either way). */
  domain: 'fixed' | 'fit';
  /** Freeze Training signal: the step from which each layer stays at or above this similarity. */
  threshold: number;
  showFreeze: boolean;
  /** Chance level (analysis/baseline.ts) of the grid views: P permutations per cell, off by default
   *  (it costs about P / layers times the job's comparisons for the diagonal: docs/analyses.md). */
  chance: boolean;
  /** Which cells get a chance level: the diagonal (layer i against layer i: the convergence
   *  curves, the same layer across runs) or every cell of the grid (P times the whole grid). */
  chanceCells: ChanceCells;
  /** What the heatmaps' colours show: the similarity, the similarity minus its chance level (mean
   *  of the permutations), or z = (similarity − mean) / sd. */
  heatMode: HeatMode;
  crossA: CrossSide | null;
  crossB: CrossSide | null;
  /** null: the last step both runs have. */
  crossStep: number | null;
  /** The pair whose drill-down is open. */
  selected: PairSelection | null;
  previewOpen: boolean;
  theme: Theme;
}

/**
 * A many-seeds job (state/seeds.ts): one grid job per run (learning dynamics,
 * each against its own reference) or per unordered pair of runs (across runs), in order; the view
 * aggregates them with analysis/seeds.ts.
 */
export interface SeedsJob<R> {
  key: string;
  status: JobStatus;
  bundle: string;
  /** The runs taking part (dynamics: those with two or more checkpoints). */
  runs: (string | null)[];
  /** Finished results, one per run (dynamics) or per pair of runs (cross, a before b). */
  results: R[];
  progress: Progress | null;
  error: string | null;
  /** Runs (pairs) whose job failed at compute time, each with why: the others' results stand and are aggregated. */
  failed?: { unit: string; error: string }[];
}

export interface SeedsSlice {
  /** Whether each view shows the mean over runs / run pairs instead of one run / one pair. */
  seedsView: { dynamics: boolean; cross: boolean };
  seedsDynamics: SeedsJob<DynamicsExport> | null;
  seedsCross: SeedsJob<CrossExport> | null;
}

export type AppState = DatasetSlice & AnalysisSlice & ExplorerSlice & ViewSlice & SeedsSlice;

export function initialState(): AppState {
  return {
    arrays: [],
    layoutOverrides: {},
    selection: { a: null, b: null },
    loadErrors: [],
    loading: null,
    bundles: [],
    activeBundle: null,
    confirmed: {},
    dropped: {},
    demo: null,
    options: { ...DEFAULT_OPTIONS, keep: { ...DEFAULT_OPTIONS.keep } },
    status: 'idle',
    result: null,
    resultPair: null,
    error: null,
    dynamics: null,
    cross: null,
    dynamicsProgress: null,
    crossProgress: null,
    pair: null,
    tab: 'dynamics',
    runIndex: 0,
    reference: 'last',
    stepIndex: 0,
    playing: false,
    multiples: false,
    domain: 'fixed',
    threshold: DEFAULT_THRESHOLD,
    showFreeze: true,
    chance: false,
    chanceCells: 'diagonal',
    heatMode: 'similarity',
    crossA: null,
    crossB: null,
    crossStep: null,
    selected: null,
    previewOpen: true,
    theme: 'system',
    seedsView: { dynamics: false, cross: false },
    seedsDynamics: null,
    seedsCross: null,
  };
}

export const appStore = createStore<AppState>()(() => initialState());

let client: AnalysisClient | null = null;

export function setAnalysisClient(next: AnalysisClient | null): void {
  client = next;
}

export function getAnalysisClient(): AnalysisClient | null {
  return client;
}

const resetHooks: (() => void)[] = [];

/** Registers module-level state (tokens, caches, controllers) to forget on reset. */
export function onReset(hook: () => void): void {
  resetHooks.push(hook);
}

/** Back to an empty app (tests; a future "close all"). Pending answers are ignored. */
export function resetAppState(): void {
  for (const hook of resetHooks) hook();
  appStore.setState(initialState(), true);
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}
