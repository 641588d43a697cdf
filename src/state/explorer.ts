// Actions of the explorer: reading dropped files into bundles (or loose arrays), confirming a
// bundle after its preview, and the jobs behind the views: learning dynamics, across runs, and the
// drill-down of one pair. Each job runs in the worker with progress and an AbortController; a
// newer job of the same kind cancels the older one, and partial results stay when cancelled.
// Finished grid jobs are cached by what they depend on, so switching a setting back is instant.

import { DEFAULT_BASELINE_SEED, DEFAULT_PERMUTATIONS } from '../analysis/chanceDefs';
import { fitConvReductionTo } from '../analysis/compatibility';
import type { AnalysisOptions, BaselineRequest, Progress } from '../analysis/types';
import type { BundleInfo, CrossJobRequest, DynamicsJobRequest, GridPartial, InputFileRef, PairJobRequest } from '../worker/protocol';
import { appStore, getAnalysisClient, isAbort, message, onReset } from './appStore';
import type { AppState, ChanceCells, CrossSide, GridJob, HeatMode, PairJob, PairSelection } from './appStore';
import { applyLooseResult, compareIsStale, compareSelected } from './arrays';
import { runClasses } from './classes';
import { hasConvLayers, relevantOptions } from './jobKey';
import { lastSharedStep, positionsBlanks, positionsSides, stepsOfRun, summariseBundle } from './preview';
import { informativeStepIndex, takeStepFromLink } from './defaultStep';

const get = appStore.getState;
const set = appStore.setState;

type GridKind = 'dynamics' | 'cross';

const controllers: Record<GridKind | 'pair', AbortController | null> = { dynamics: null, cross: null, pair: null };
/** Finished grid jobs by key, most recent last (a handful: they are small matrices). */
const cache = new Map<string, GridJob>();
const CACHE_SIZE = 12;
/** Bumped whenever a bundle is (re)loaded, so that cached results of its old content are never used. */
const versions = new Map<string, number>();

onReset(() => {
  for (const k of Object.keys(controllers) as (keyof typeof controllers)[]) {
    controllers[k]?.abort();
    controllers[k] = null;
  }
  cache.clear();
  versions.clear();
});

export type InputOrigin = 'user' | 'url' | 'demo';

export function bundleById(s: Pick<AppState, 'bundles'>, id: string | null): BundleInfo | undefined {
  return id === null ? undefined : s.bundles.find((b) => b.id === id);
}

export function activeBundle(s: Pick<AppState, 'bundles' | 'activeBundle'>): BundleInfo | undefined {
  return bundleById(s, s.activeBundle);
}

// ---------------------------------------------------------------------------------------------
// Loads. Every load (a drop, a pick, a ?data= link, the demo) gets a generation, increasing. The
// newest intent wins: a load the user starts cancels every load in flight that the user did not
// start (the cancel reaches the worker's parse; its fetch is aborted too), and such a load, if it
// finishes anyway, is dropped. A load becomes the active bundle only if no newer user load was
// started meanwhile. The "loading" line shows the newest load in flight; no load clears another's.

/** A load in flight: who started it, what it shows as progress, how to cancel it. */
export interface LoadTicket {
  readonly generation: number;
  readonly origin: InputOrigin;
  readonly signal: AbortSignal;
  /** The unique name its bundle will have. */
  readonly name: string;
  /** Updates this load's progress line. */
  progress(p: Progress): void;
  /** True once a user's load superseded it (or it was cancelled). */
  superseded(): boolean;
  /** It is over (done, failed or superseded): its progress line goes. */
  finish(): void;
}

let generations = 0;
/** Generation of the newest load the user started. */
let newestUserLoad = 0;
const inFlight = new Map<number, { ticket: LoadTicket; controller: AbortController; progress: Progress }>();

onReset(() => {
  for (const load of inFlight.values()) load.controller.abort();
  inFlight.clear();
  newestUserLoad = generations;
});

/** The loading line: the newest load in flight, or nothing. */
function showLoading(): void {
  let newest: { generation: number; progress: Progress } | null = null;
  for (const [generation, load] of inFlight) if (!newest || generation > newest.generation) newest = { generation, progress: load.progress };
  set({ loading: newest?.progress ?? null });
}

/** `name`, or `name (2)`, `name (3)`, … : unique among loaded bundles and loads in flight. */
export function uniqueBundleName(name: string): string {
  const taken = new Set([...get().bundles.map((b) => b.id), ...[...inFlight.values()].map((l) => l.ticket.name)]);
  if (!taken.has(name)) return name;
  for (let k = 2; ; k++) if (!taken.has(`${name} (${k})`)) return `${name} (${k})`;
}

/**
 * Starts a load: a new generation. A user's load cancels the loads in flight that the user did not
 * start. `stage` is its first progress line ("fetching the demo", "reading runA.npz").
 */
export function beginLoad(origin: InputOrigin, name: string, stage = `reading ${name}`): LoadTicket {
  const generation = ++generations;
  if (origin === 'user') {
    newestUserLoad = generation;
    for (const [g, load] of inFlight) {
      if (load.ticket.origin !== 'user') {
        load.controller.abort();
        inFlight.delete(g);
      }
    }
  }
  const controller = new AbortController();
  const ticket: LoadTicket = {
    generation,
    origin,
    signal: controller.signal,
    name: uniqueBundleName(name),
    progress: (p) => {
      const load = inFlight.get(generation);
      if (!load) return;
      load.progress = p;
      showLoading();
    },
    superseded: () => controller.signal.aborted || (origin !== 'user' && newestUserLoad > generation),
    finish: () => {
      if (inFlight.delete(generation)) showLoading();
    },
  };
  inFlight.set(generation, { ticket, controller, progress: { done: 0, total: 1, stage } });
  showLoading();
  return ticket;
}

/** Whether a finished load may become the active bundle: no newer user load was started. */
function mayActivate(ticket: LoadTicket): boolean {
  return !ticket.superseded() && newestUserLoad <= ticket.generation;
}

/**
 * Reads dropped (or fetched) files in the worker, under `ticket` (a new one for a drop or pick). A
 * bundle is previewed and becomes the active bundle unless a newer load of the user's came after
 * it; it computes at once when its preview raises no question (layouts read from the shapes,
 * nothing refused), else it waits for "Compute". Files that follow no bundle convention become
 * loose arrays for "Compare two arrays".
 */
export async function loadInput(
  files: InputFileRef[],
  name: string,
  origin: InputOrigin = 'user',
  demo?: { title: string; caption: string; step?: number },
  started?: LoadTicket,
): Promise<void> {
  if (files.length === 0) {
    started?.finish();
    return;
  }
  const client = getAnalysisClient();
  if (!client) {
    started?.finish();
    set({ loadErrors: [...get().loadErrors, 'the analysis worker is not running'] });
    return;
  }
  const ticket = started ?? beginLoad(origin, name);
  ticket.progress({ done: 0, total: files.length, stage: `reading ${name}` });
  try {
    const res = await client.addInput(files, ticket.name, {
      generation: ticket.generation,
      origin: ticket.origin,
      signal: ticket.signal,
      onProgress: (p) => ticket.progress(p),
    });
    ticket.finish();
    if (res.files && !res.bundle) {
      applyLooseResult(res.files, res.errors, mayActivate(ticket));
      return;
    }
    // Loose files picked beside a bundle: offered in Compare two arrays; the bundle's view stays shown.
    if (res.files && !ticket.superseded()) applyLooseResult(res.files, [], false);
    const s = get();
    if (!res.bundle) {
      set({ loadErrors: [...s.loadErrors, ...res.errors] });
      return;
    }
    const bundle = res.bundle;
    if (ticket.superseded()) {
      // The demo or a link, finished after the user brought their own data: never shown.
      void client.removeBundle(bundle.id).catch(() => {});
      return;
    }
    versions.set(bundle.id, (versions.get(bundle.id) ?? 0) + 1);
    const bundles = [...s.bundles.filter((b) => b.id !== bundle.id), bundle];
    const dropped = { ...s.dropped };
    // Left-out layers of the link (URL hash) apply to the first bundle; a re-dropped bundle starts afresh.
    dropped[bundle.id] = pendingDropped ? pendingDropped.filter((l) => bundle.layers.includes(l)) : [];
    pendingDropped = null;
    // Judged under the options this bundle's jobs will run with: adding it switches the conv
    // reduction of a metric that cannot run through the DFT (options.ts fitConvReduction), so the DFT
    // refusal the switch is about to lift is no question to stop at (a link's metric=cka, then a drop).
    const summary = summariseBundle(bundle, fitConvReductionTo(s.options, hasConvLayers(bundle, dropped[bundle.id])), dropped[bundle.id]);
    const clear = summary.problems.length === 0 && summary.questions.length === 0 && res.errors.length === 0;
    const auto = origin !== 'user' || clear;
    set({
      bundles,
      confirmed: { ...s.confirmed, [bundle.id]: auto },
      dropped,
      demo: origin === 'demo' && demo ? { bundle: bundle.id, ...demo } : s.demo,
      loadErrors: [...s.loadErrors, ...res.errors],
    });
    if (mayActivate(ticket)) activateBundle(bundle.id, { previewOpen: origin === 'user' });
  } catch (e) {
    ticket.finish();
    if (isAbort(e) || ticket.superseded()) return;
    set({ loadErrors: [...get().loadErrors, message(e)] });
  }
}

/**
 * Makes `id` the bundle every view shows: the learning-dynamics view its first run, the across-runs
 * view its first two runs (or it against the previous bundle of the user's), and no view keeps a
 * chart of another bundle under its name. Computing starts if the bundle is confirmed.
 */
export function activateBundle(id: string, view: { previewOpen?: boolean } = {}): void {
  const s = get();
  const bundle = bundleById(s, id);
  if (!bundle) return;
  // The first bundle keeps the view a link asked for (URL hash: run, checkpoint, pair, sides).
  const first = s.activeBundle === null;
  const demoBundle = s.demo?.bundle ?? null;
  const runIndex = first ? Math.min(s.runIndex, bundle.runs.length - 1) : 0;
  // The first checkpoint shown: a link's, the demo's, else an informative one (not initialisation).
  const stepIndex = takeStepFromLink()
    ? s.stepIndex
    : informativeStepIndex(stepsOfRun(bundle, bundle.runs[runIndex]), s.demo?.bundle === id ? s.demo.step : undefined);
  set({
    activeBundle: id,
    demo: s.demo && s.demo.bundle !== id ? null : s.demo,
    previewOpen: view.previewOpen ?? s.previewOpen,
    tab: s.tab === 'arrays' ? 'dynamics' : s.tab,
    ...(first
      ? { runIndex, stepIndex, ...keepOrDefaultSides(s.bundles, id, s.crossA, s.crossB, demoBundle) }
      : { runIndex, reference: 'last' as const, stepIndex, crossStep: null, selected: null, pair: null, ...crossDefaults(s.bundles, id, demoBundle) }),
  });
  if (!first) controllers.pair?.abort();
  dropStaleJobs();
  recomputeView();
}

/**
 * Why a view shows no chart for the active data: "Not computed yet: …" naming the bundle, and the
 * layers whose layout is a guess (or the files that could not be read). null when it is computed
 * or computing.
 */
export function notComputedReason(s: AppState, kind: GridKind): string | null {
  if (s[kind]) return null;
  const waiting =
    kind === 'dynamics'
      ? [activeBundle(s)].filter((b): b is BundleInfo => !!b)
      : [s.crossA, s.crossB].map((side) => (side ? bundleById(s, side.bundle) : undefined)).filter((b): b is BundleInfo => !!b);
  const unconfirmed = waiting.find((b) => !s.confirmed[b.id]);
  if (!unconfirmed) return null;
  const summary = summariseBundle(unconfirmed, s.options, s.dropped[unconfirmed.id] ?? []);
  const why =
    summary.problems.length > 0
      ? `it cannot be computed as it is: ${summary.problems[0]}`
      : summary.questions.length > 0
        ? `the layout of ${summary.questions.length === 1 ? 'a layer is' : `${summary.questions.length} layers are`} a guess (${summary.questions.join('; ')}). Check it in the preview above, then press Compute`
        : 'some of its files could not be read (see above). Check the preview above, then press Compute';
  return `Not computed yet: ${unconfirmed.name} waits: ${why}.`;
}

/** Clears (and cancels) each view's job that no longer answers what that view is now asked. */
function dropStaleJobs(): void {
  const s = get();
  for (const kind of ['dynamics', 'cross'] as const) {
    const job = s[kind];
    if (!job) continue;
    const plan = kind === 'dynamics' ? planDynamics(s) : planCross(s);
    if (plan && plan.key === job.key) continue;
    controllers[kind]?.abort();
    controllers[kind] = null;
    set({ [kind]: null, [progressKey(kind)]: null });
  }
}

/** Layers to leave out of the next bundle, from the URL hash. */
let pendingDropped: string[] | null = null;
export function setPendingDropped(layers: string[] | null): void {
  pendingDropped = layers;
}

/** The across-runs sides if both are still loaded, else the active bundle's defaults. */
function keepOrDefaultSides(bundles: BundleInfo[], active: string, a: CrossSide | null, b: CrossSide | null, demoBundle: string | null) {
  if (sideValid(bundles, a) && sideValid(bundles, b)) return { crossA: a, crossB: b };
  return crossDefaults(bundles, active, demoBundle);
}

function sideValid(bundles: BundleInfo[], side: CrossSide | null): side is CrossSide {
  if (!side) return false;
  const b = bundles.find((x) => x.id === side.bundle);
  return !!b && b.runs.includes(side.run);
}

/**
 * Sides of the across-runs view for the active bundle `id`: its first two runs (with one file per
 * run, its first two files); with a single run, that run against the newest other bundle that is
 * not the demo (else against itself).
 */
export function crossDefaults(bundles: BundleInfo[], id: string, demoBundle: string | null = null): { crossA: CrossSide; crossB: CrossSide } {
  const active = bundles.find((x) => x.id === id)!;
  if (active.runs.length >= 2) return { crossA: { bundle: id, run: active.runs[0] }, crossB: { bundle: id, run: active.runs[1] } };
  const other = [...bundles].reverse().find((x) => x.id !== id && x.id !== demoBundle);
  if (other) return { crossA: { bundle: other.id, run: other.runs[0] }, crossB: { bundle: id, run: active.runs[0] } };
  return { crossA: { bundle: id, run: active.runs[0] }, crossB: { bundle: id, run: active.runs[0] } };
}

/** "Compute": the preview was read; compute the current view. */
export function confirmBundle(id: string): void {
  set({ confirmed: { ...get().confirmed, [id]: true }, previewOpen: false });
  recomputeView();
}

export async function removeBundle(id: string): Promise<void> {
  const client = getAnalysisClient();
  await client?.removeBundle(id).catch(() => {});
  const s = get();
  const bundles = s.bundles.filter((b) => b.id !== id);
  const uses = (job: GridJob | null) => {
    if (!job) return false;
    const r = job.request;
    return 'bundle' in r ? r.bundle === id : r.a.bundle === id || r.b.bundle === id;
  };
  for (const kind of ['dynamics', 'cross'] as const) if (uses(s[kind])) controllers[kind]?.abort();
  const active = s.activeBundle === id ? (bundles.at(-1)?.id ?? null) : s.activeBundle;
  set({
    bundles,
    activeBundle: active,
    demo: s.demo?.bundle === id ? null : s.demo,
    dynamics: uses(s.dynamics) ? null : s.dynamics,
    cross: uses(s.cross) ? null : s.cross,
    selected: null,
    pair: null,
    ...(bundles.length > 0 && active ? keepOrDefaultSides(bundles, active, s.crossA, s.crossB, s.demo?.bundle ?? null) : { crossA: null, crossB: null }),
    tab: bundles.length === 0 && s.arrays.length > 0 ? 'arrays' : s.tab,
  });
  // Closing the shown bundle shows another: every view follows it.
  if (s.activeBundle === id && active) activateBundle(active);
  else recomputeView();
}

/** Leaves a layer out of (or back into) a bundle's jobs. */
export function setLayerDropped(bundle: string, layer: string, dropped: boolean): void {
  const s = get();
  const current = s.dropped[bundle] ?? [];
  const next = dropped ? [...new Set([...current, layer])] : current.filter((l) => l !== layer);
  const info = bundleById(s, bundle);
  const ordered = info ? info.layers.filter((l) => next.includes(l)) : next;
  set({ dropped: { ...s.dropped, [bundle]: ordered }, selected: null, pair: null });
  controllers.pair?.abort();
  if (s.confirmed[bundle]) recomputeView();
}

// ---------------------------------------------------------------------------------------------
// Planning: from the state to a job request, its key and the grid's labels.

interface Plan {
  kind: GridKind;
  key: string;
  request: DynamicsJobRequest | CrossJobRequest;
  rows: string[];
  cols: string[];
  steps: number[];
  reference: number | null;
  names: { a: string; b: string };
  /** Why the job cannot run (shown instead of starting it). */
  problem: string | null;
  /** Cells left empty under positions, and why (see GridJob.blank). */
  blank: (string | null)[][] | null;
}

function keptLayers(info: BundleInfo, dropped: readonly string[]): string[] {
  return info.layers.filter((l) => !dropped.includes(l));
}

function blocking(info: BundleInfo, options: AnalysisOptions, dropped: readonly string[]): string | null {
  return summariseBundle(info, options, dropped).problems[0] ?? null;
}

/** The app's chance level: P = 20 permutations, a fixed seed (reproducible exports); the cells
 *  (the diagonal or every cell) are the user's choice (AppState.chanceCells). */
export const APP_BASELINE: BaselineRequest = { permutations: DEFAULT_PERMUTATIONS, seed: DEFAULT_BASELINE_SEED, cells: 'diagonal', null: 'auto' };

/** The chance level a grid job asks for, or null when it is off. */
export function chanceRequest(s: Pick<AppState, 'chance' | 'chanceCells'>): BaselineRequest | null {
  return s.chance ? { ...APP_BASELINE, cells: s.chanceCells } : null;
}

/** Shows (and computes) the chance level of the grid views, or hides it; off also shows the heatmaps as similarities. */
export function setChance(chance: boolean): void {
  set(chance ? { chance } : { chance, heatMode: 'similarity' });
  recomputeView();
}

/** The chance level of the diagonal only, or of every cell (recomputes the view's grid). */
export function setChanceCells(chanceCells: ChanceCells): void {
  set({ chanceCells });
  recomputeView();
}

/** What the heatmaps show: an above-chance mode turns the chance level on. */
export function setHeatMode(heatMode: HeatMode): void {
  const s = get();
  set(heatMode !== 'similarity' && !s.chance ? { heatMode, chance: true } : { heatMode });
  recomputeView();
}

export function planDynamics(s: AppState): Plan | null {
  const info = activeBundle(s);
  if (!info || !s.confirmed[info.id]) return null;
  const run = info.runs[Math.min(s.runIndex, info.runs.length - 1)];
  const dropped = s.dropped[info.id] ?? [];
  const steps = stepsOfRun(info, run);
  const reference = s.reference !== 'last' && steps.includes(s.reference) ? s.reference : steps[steps.length - 1];
  const layers = keptLayers(info, dropped);
  const request: DynamicsJobRequest = {
    bundle: info.id,
    run,
    reference: s.reference !== 'last' && steps.includes(s.reference) ? s.reference : 'last',
    dropped,
    options: s.options,
    baseline: chanceRequest(s),
  };
  const key = JSON.stringify([
    'dynamics',
    info.id,
    versions.get(info.id) ?? 0,
    run,
    reference,
    dropped,
    relevantOptions(s.options, hasConvLayers(info, dropped)),
    chanceRequest(s),
  ]);
  const name = info.runs.length > 1 ? `${info.name} · run ${run}` : info.name;
  const sides = positionsSides(info, s.options, dropped);
  const blank = positionsBlanks(layers, layers, sides, sides, s.options.convReduction);
  return {
    kind: 'dynamics',
    key,
    request,
    rows: layers,
    cols: layers,
    steps,
    reference,
    names: { a: name, b: name },
    problem: blocking(info, s.options, dropped),
    blank,
  };
}

/** "run a" within one bundle; "digits.npz · run a" across bundles. */
export function sideName(s: Pick<AppState, 'bundles'>, side: CrossSide): string {
  const info = bundleById(s, side.bundle);
  const run = side.run === null ? '' : `run ${side.run}`;
  if (s.bundles.length > 1 || !info || info.runs.length === 1) return run ? `${side.bundle} · ${run}` : side.bundle;
  return run;
}

export function planCross(s: AppState): Plan | null {
  const { crossA: a, crossB: b } = s;
  if (!a || !b) return null;
  const ia = bundleById(s, a.bundle);
  const ib = bundleById(s, b.bundle);
  if (!ia || !ib || !s.confirmed[ia.id] || !s.confirmed[ib.id]) return null;
  const stepsA = stepsOfRun(ia, a.run);
  const stepsB = stepsOfRun(ib, b.run);
  const step = s.crossStep !== null && stepsA.includes(s.crossStep) && stepsB.includes(s.crossStep) ? s.crossStep : lastSharedStep(stepsA, stepsB);
  const droppedA = s.dropped[ia.id] ?? [];
  const droppedB = s.dropped[ib.id] ?? [];
  const request: CrossJobRequest = {
    a: { bundle: ia.id, run: a.run, dropped: droppedA },
    b: { bundle: ib.id, run: b.run, dropped: droppedB },
    step,
    options: s.options,
    baseline: chanceRequest(s),
  };
  const conv = hasConvLayers(ia, droppedA) || hasConvLayers(ib, droppedB);
  const key = JSON.stringify([
    'cross',
    [ia.id, versions.get(ia.id) ?? 0, a.run, droppedA],
    [ib.id, versions.get(ib.id) ?? 0, b.run, droppedB],
    step,
    relevantOptions(s.options, conv),
    chanceRequest(s),
  ]);
  const problem =
    step === null
      ? `${sideName(s, a)} and ${sideName(s, b)} share no checkpoint`
      : (blocking(ia, s.options, droppedA) ?? (ib.id !== ia.id ? blocking(ib, s.options, droppedB) : null));
  const rows = keptLayers(ia, droppedA);
  const cols = keptLayers(ib, droppedB);
  const blank = positionsBlanks(
    rows,
    cols,
    positionsSides(ia, s.options, droppedA, "A's "),
    positionsSides(ib, s.options, droppedB, "B's "),
    s.options.convReduction,
  );
  return {
    kind: 'cross',
    key,
    request,
    rows,
    cols,
    blank,
    steps: step === null ? [] : [step],
    reference: null,
    names: { a: sideName(s, a), b: sideName(s, b) },
    problem,
  };
}

function emptyGrid<T>(t: number, rows: number, cols: number): (T | null)[][][] {
  return Array.from({ length: t }, () => Array.from({ length: rows }, () => new Array<T | null>(cols).fill(null)));
}

function newJob(plan: Plan, options: AnalysisOptions): GridJob {
  const t = plan.kind === 'dynamics' ? plan.steps.length : 1;
  return {
    kind: plan.kind,
    key: plan.key,
    status: 'running',
    request: plan.request,
    rows: plan.rows,
    cols: plan.cols,
    steps: plan.steps,
    reference: plan.reference,
    values: emptyGrid<number>(t, plan.rows.length, plan.cols.length),
    blank: plan.blank,
    kept: emptyGrid<[number, number]>(t, plan.rows.length, plan.cols.length),
    result: null,
    backend: null,
    error: null,
    metric: options.metric,
    total: t * plan.rows.length * plan.cols.length,
    startedAt: Date.now(),
    finishedAt: null,
    names: plan.names,
  };
}

const progressKey = (kind: GridKind) => (kind === 'dynamics' ? 'dynamicsProgress' : 'crossProgress');

/**
 * Computes a view's grid unless the shown one already answers the same question (a cancelled or
 * failed job of the same key stays until `force`, the "Recompute" button). Cached answers return
 * at once.
 */
export async function runGrid(kind: GridKind, force = false): Promise<void> {
  const s = get();
  const plan = kind === 'dynamics' ? planDynamics(s) : planCross(s);
  const client = getAnalysisClient();
  if (!plan || !client) return;
  const current = s[kind];
  if (!force && current && current.key === plan.key) return;
  if (current && (current.rows.join('\n') !== plan.rows.join('\n') || current.cols.join('\n') !== plan.cols.join('\n'))) {
    if (s.selected?.view === kind) closePair();
  }
  controllers[kind]?.abort();
  controllers[kind] = null;
  const cached = cache.get(plan.key);
  if (!force && cached) {
    set({ [kind]: cached, [progressKey(kind)]: null });
    afterGrid(kind);
    return;
  }
  const job = newJob(plan, s.options);
  if (plan.problem) {
    set({ [kind]: { ...job, status: 'error', error: plan.problem, finishedAt: Date.now() }, [progressKey(kind)]: null });
    return;
  }
  const controller = new AbortController();
  controllers[kind] = controller;
  const live = () => controllers[kind] === controller;
  set({ [kind]: job, [progressKey(kind)]: { done: 0, total: job.total, stage: 'starting' } });
  try {
    const control = {
      signal: controller.signal,
      onProgress: (p: { done: number; total: number; stage: string }) => {
        if (live()) set({ [progressKey(kind)]: p });
      },
      onPartial: (p: GridPartial) => {
        const now = get()[kind];
        if (!live() || !now || now.key !== plan.key || p.t >= now.values.length) return;
        const values = now.values.slice();
        const kept = now.kept.slice();
        values[p.t] = p.values;
        kept[p.t] = p.kept;
        set({ [kind]: { ...now, values, kept, ...(p.badArrays ? { badArrays: p.badArrays } : {}) } });
      },
    };
    let finished: Partial<GridJob>;
    if (kind === 'dynamics') {
      const res = await client.dynamics(plan.request as DynamicsJobRequest, control);
      finished = {
        values: res.result.values,
        kept: res.kept,
        result: res.result,
        backend: res.backend,
        steps: res.result.steps,
        reference: res.result.reference,
        badArrays: res.result.badArrays ?? [],
      };
    } else {
      const res = await client.cross(plan.request as CrossJobRequest, control);
      finished = {
        values: [res.result.values],
        kept: [res.kept],
        result: res.result,
        backend: res.backend,
        steps: res.result.step === null ? [] : [res.result.step],
        badArrays: res.result.badArrays ?? [],
      };
    }
    if (!live()) return;
    const done: GridJob = { ...(get()[kind] ?? job), ...finished, status: 'done', finishedAt: Date.now() };
    cache.delete(plan.key);
    cache.set(plan.key, done);
    while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    set({ [kind]: done });
    afterGrid(kind);
  } catch (e) {
    if (!live()) return;
    const now = get()[kind] ?? job;
    set({
      [kind]: isAbort(e) ? { ...now, status: 'cancelled', finishedAt: Date.now() } : { ...now, status: 'error', error: message(e), finishedAt: Date.now() },
    });
  } finally {
    if (live()) {
      controllers[kind] = null;
      set({ [progressKey(kind)]: null });
    }
  }
}

/** After a grid lands: keep the checkpoint in range and reopen a pair selected by a link. */
function afterGrid(kind: GridKind): void {
  const s = get();
  const job = s[kind];
  if (kind === 'dynamics' && job && s.stepIndex >= job.steps.length) set({ stepIndex: Math.max(0, job.steps.length - 1) });
  if (s.selected?.view === kind && s.tab === kind) void runPair();
}

/** Stops a view's job; what it computed so far stays. */
export function cancelJob(kind: GridKind | 'pair'): void {
  controllers[kind]?.abort();
}

/** Recomputes the current view if what it shows no longer matches the data and settings. */
export function recomputeView(): void {
  const s = get();
  if (s.tab === 'arrays') {
    if (compareIsStale()) void compareSelected();
    return;
  }
  if (s.tab === 'classes') {
    void runClasses();
    return;
  }
  void runGrid(s.tab);
  if (get().selected?.view === s.tab) void runPair();
}

// ---------------------------------------------------------------------------------------------
// The drill-down of one pair.

export function pairTitles(job: GridJob, sel: PairSelection): [string, string] {
  if (job.kind === 'dynamics') {
    return [`${job.rows[sel.i]} at step ${job.steps[sel.t]}`, `${job.cols[sel.j]} at step ${job.reference} (reference)`];
  }
  return [`${job.names.a} · ${job.rows[sel.i]}`, `${job.names.b} · ${job.cols[sel.j]}`];
}

/** Direction pairs the drill-down draws until the user asks for more. */
export const DEFAULT_DIRECTIONS = 10;
/** Datapoints drawn per direction at most (an evenly spaced sample past it; the caption says so). */
export const DRILL_POINTS = 2000;
/** Direction pairs asked for the open drill-down (back to the default when another pair opens). */
let directionCount = DEFAULT_DIRECTIONS;

function pairRequest(job: GridJob, sel: PairSelection): PairJobRequest {
  const options = job.request.options;
  if (job.kind === 'dynamics') {
    const r = job.request as DynamicsJobRequest;
    return {
      a: { bundle: r.bundle, run: r.run, step: job.steps[sel.t], layer: job.rows[sel.i] },
      b: { bundle: r.bundle, run: r.run, step: job.reference!, layer: job.cols[sel.j] },
      scope: 'dynamics',
      dropped: { a: r.dropped, b: r.dropped },
      options,
      directions: directionCount,
      maxPoints: DRILL_POINTS,
      // The drill-down's chance level whenever its grid shows one (any cell: one pair is cheap).
      baseline: r.baseline ? { ...r.baseline, cells: 'all' } : null,
    };
  }
  const r = job.request as CrossJobRequest;
  const step = job.steps[0];
  return {
    a: { bundle: r.a.bundle, run: r.a.run, step, layer: job.rows[sel.i] },
    b: { bundle: r.b.bundle, run: r.b.run, step, layer: job.cols[sel.j] },
    scope: 'cross',
    dropped: { a: r.a.dropped, b: r.b.dropped },
    options,
    directions: directionCount,
    maxPoints: DRILL_POINTS,
    baseline: r.baseline ? { ...r.baseline, cells: 'all' } : null,
  };
}

/** Opens the drill-down of a cell (click or Enter on the heatmap). */
export function openPair(selection: PairSelection): void {
  const s = get().selected;
  if (!s || s.view !== selection.view || s.t !== selection.t || s.i !== selection.i || s.j !== selection.j) directionCount = DEFAULT_DIRECTIONS;
  set({ selected: selection });
  void runPair(); // runPair reports its own errors in the store
}

/** Shows `count` direction pairs in the open drill-down (more than the top 10, up to all). */
export function showDirections(count: number): void {
  directionCount = Math.max(1, Math.floor(count));
  void runPair();
}

export function closePair(): void {
  controllers.pair?.abort();
  controllers.pair = null;
  set({ selected: null, pair: null });
}

function inRange(job: GridJob, sel: PairSelection): boolean {
  const t = job.kind === 'dynamics' ? job.steps.length : 1;
  return sel.t >= 0 && sel.t < t && sel.i >= 0 && sel.i < job.rows.length && sel.j >= 0 && sel.j < job.cols.length;
}

async function runPair(): Promise<void> {
  const s = get();
  const sel = s.selected;
  const client = getAnalysisClient();
  if (!sel || !client) return;
  const job = s[sel.view];
  if (!job || job.steps.length === 0 || !inRange(job, sel)) return;
  const request = pairRequest(job, sel);
  const key = JSON.stringify(request);
  if (s.pair?.key === key) return;
  controllers.pair?.abort();
  const why = job.blank?.[sel.i]?.[sel.j] ?? null;
  if (why) {
    // Nothing to compute: the drill-down says why the cell is empty.
    controllers.pair = null;
    set({ pair: { key, status: 'error', selection: sel, request, titles: pairTitles(job, sel), result: null, error: why[0].toUpperCase() + why.slice(1) } });
    return;
  }
  const controller = new AbortController();
  controllers.pair = controller;
  const live = () => controllers.pair === controller;
  // Asking for more direction pairs of the same pair keeps what is shown until they arrive.
  const sameButDirections = (r: PairJobRequest) => JSON.stringify({ ...r, directions: 0 }) === JSON.stringify({ ...request, directions: 0 });
  const previous = s.pair?.result && sameButDirections(s.pair.request) ? s.pair.result : null;
  const pending: PairJob = { key, status: 'running', selection: sel, request, titles: pairTitles(job, sel), result: previous, error: null };
  set({ pair: pending });
  try {
    const result = await client.pair(request, { signal: controller.signal });
    if (live()) set({ pair: { ...pending, status: 'done', result } });
  } catch (e) {
    if (live()) set({ pair: { ...pending, status: isAbort(e) ? 'cancelled' : 'error', error: isAbort(e) ? null : message(e) } });
  } finally {
    if (live()) controllers.pair = null;
  }
}
