// Actions of the explorer: reading dropped files into bundles (or loose arrays), confirming a
// bundle after its preview, and the jobs behind the views: learning dynamics, across runs, and the
// drill-down of one pair. Each job runs in the worker with progress and an AbortController; a
// newer job of the same kind cancels the older one, and partial results stay when cancelled.
// Finished grid jobs are cached by what they depend on, so switching a setting back is instant.

import type { AnalysisOptions } from '../analysis/types';
import type { BundleInfo, CrossJobRequest, DynamicsJobRequest, InputFileRef, PairJobRequest } from '../worker/protocol';
import { appStore, getAnalysisClient, isAbort, message, onReset } from './appStore';
import type { AppState, CrossSide, GridJob, PairJob, PairSelection } from './appStore';
import { applyLooseResult, compareIsStale, compareSelected } from './arrays';
import { hasConvLayers, relevantOptions } from './jobKey';
import { lastSharedStep, stepsOfRun, summariseBundle } from './preview';
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

/**
 * Reads dropped (or fetched) files in the worker. A bundle is previewed; for a user's drop the
 * computing waits for "Compute", for a ?data= link or the demo it starts at once. Files that
 * follow no bundle convention become loose arrays for "Compare two arrays".
 */
export async function loadInput(
  files: InputFileRef[],
  name: string,
  origin: InputOrigin = 'user',
  demo?: { title: string; caption: string; step?: number },
): Promise<void> {
  if (files.length === 0) return;
  const client = getAnalysisClient();
  if (!client) {
    set({ loadErrors: [...get().loadErrors, 'the analysis worker is not running'] });
    return;
  }
  set({ loading: { done: 0, total: files.length, stage: `reading ${name}` } });
  try {
    const res = await client.addInput(files, name, (p) => set({ loading: p }));
    if (res.files) {
      applyLooseResult(res.files, res.errors);
      return;
    }
    const s = get();
    if (!res.bundle) {
      set({ loadErrors: [...s.loadErrors, ...res.errors], loading: null });
      return;
    }
    const bundle = res.bundle;
    versions.set(bundle.id, (versions.get(bundle.id) ?? 0) + 1);
    const bundles = [...s.bundles.filter((b) => b.id !== bundle.id), bundle];
    const auto = origin !== 'user';
    const dropped = { ...s.dropped };
    // Left-out layers of the link (URL hash) apply to the first bundle; a re-dropped bundle starts afresh.
    dropped[bundle.id] = pendingDropped ? pendingDropped.filter((l) => bundle.layers.includes(l)) : [];
    pendingDropped = null;
    set({
      bundles,
      activeBundle: bundle.id,
      confirmed: { ...s.confirmed, [bundle.id]: auto },
      dropped,
      demo: origin === 'demo' && demo ? { bundle: bundle.id, title: demo.title, caption: demo.caption } : s.demo && s.demo.bundle !== bundle.id ? null : s.demo,
      loadErrors: [...s.loadErrors, ...res.errors],
      loading: null,
      previewOpen: !auto,
      tab: s.tab === 'arrays' ? 'dynamics' : s.tab,
      runIndex: Math.min(s.runIndex, bundle.runs.length - 1),
      // The first checkpoint shown: a link's, the demo's, else an informative one (not initialisation).
      stepIndex: takeStepFromLink() ? s.stepIndex : informativeStepIndex(stepsOfRun(bundle, bundle.runs[Math.min(s.runIndex, bundle.runs.length - 1)]), demo?.step),
      ...crossDefaults(bundles, bundle.id, s.crossA, s.crossB),
    });
    if (auto) recomputeView();
  } catch (e) {
    set({ loadErrors: [...get().loadErrors, message(e)], loading: null });
  }
}

/** Layers to leave out of the next bundle, from the URL hash. */
let pendingDropped: string[] | null = null;
export function setPendingDropped(layers: string[] | null): void {
  pendingDropped = layers;
}

function sideValid(bundles: BundleInfo[], side: CrossSide | null): side is CrossSide {
  if (!side) return false;
  const b = bundles.find((x) => x.id === side.bundle);
  return !!b && b.runs.includes(side.run);
}

/** Sides of the across-runs view: two runs of the new bundle, or the new bundle against another. */
function crossDefaults(bundles: BundleInfo[], newest: string, a: CrossSide | null, b: CrossSide | null): { crossA: CrossSide; crossB: CrossSide } {
  const self = sideValid(bundles, a) && sideValid(bundles, b) && a.bundle === b.bundle && a.run === b.run;
  if (sideValid(bundles, a) && sideValid(bundles, b) && !(self && bundles.length > 1)) return { crossA: a, crossB: b };
  const fresh = bundles.find((x) => x.id === newest)!;
  if (fresh.runs.length >= 2) return { crossA: { bundle: fresh.id, run: fresh.runs[0] }, crossB: { bundle: fresh.id, run: fresh.runs[1] } };
  const other = bundles.find((x) => x.id !== newest);
  if (other) return { crossA: { bundle: other.id, run: other.runs[0] }, crossB: { bundle: fresh.id, run: fresh.runs[0] } };
  return { crossA: { bundle: fresh.id, run: fresh.runs[0] }, crossB: { bundle: fresh.id, run: fresh.runs[0] } };
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
    ...(bundles.length > 0 && active ? crossDefaults(bundles, active, s.crossA, s.crossB) : { crossA: null, crossB: null }),
    tab: bundles.length === 0 && s.arrays.length > 0 ? 'arrays' : s.tab,
  });
  recomputeView();
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
}

function keptLayers(info: BundleInfo, dropped: readonly string[]): string[] {
  return info.layers.filter((l) => !dropped.includes(l));
}

function blocking(info: BundleInfo, options: AnalysisOptions, dropped: readonly string[]): string | null {
  return summariseBundle(info, options, dropped).problems[0] ?? null;
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
  };
  const key = JSON.stringify(['dynamics', info.id, versions.get(info.id) ?? 0, run, reference, dropped, relevantOptions(s.options, hasConvLayers(info, dropped))]);
  const name = info.runs.length > 1 ? `${info.name} · run ${run}` : info.name;
  return { kind: 'dynamics', key, request, rows: layers, cols: layers, steps, reference, names: { a: name, b: name }, problem: blocking(info, s.options, dropped) };
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
  };
  const conv = hasConvLayers(ia, droppedA) || hasConvLayers(ib, droppedB);
  const key = JSON.stringify([
    'cross',
    [ia.id, versions.get(ia.id) ?? 0, a.run, droppedA],
    [ib.id, versions.get(ib.id) ?? 0, b.run, droppedB],
    step,
    relevantOptions(s.options, conv),
  ]);
  const problem =
    step === null
      ? `${sideName(s, a)} and ${sideName(s, b)} share no checkpoint`
      : (blocking(ia, s.options, droppedA) ?? (ib.id !== ia.id ? blocking(ib, s.options, droppedB) : null));
  return {
    kind: 'cross',
    key,
    request,
    rows: keptLayers(ia, droppedA),
    cols: keptLayers(ib, droppedB),
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
      onPartial: (p: { t: number; values: number[][]; kept: [number, number][][] }) => {
        const now = get()[kind];
        if (!live() || !now || now.key !== plan.key || p.t >= now.values.length) return;
        const values = now.values.slice();
        const kept = now.kept.slice();
        values[p.t] = p.values;
        kept[p.t] = p.kept;
        set({ [kind]: { ...now, values, kept } });
      },
    };
    let finished: Partial<GridJob>;
    if (kind === 'dynamics') {
      const res = await client.dynamics(plan.request as DynamicsJobRequest, control);
      finished = { values: res.result.values, kept: res.kept, result: res.result, backend: res.backend, steps: res.result.steps, reference: res.result.reference };
    } else {
      const res = await client.cross(plan.request as CrossJobRequest, control);
      finished = { values: [res.result.values], kept: [res.kept], result: res.result, backend: res.backend, steps: res.result.step === null ? [] : [res.result.step] };
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
    set({ [kind]: isAbort(e) ? { ...now, status: 'cancelled', finishedAt: Date.now() } : { ...now, status: 'error', error: message(e), finishedAt: Date.now() } });
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
  if (s.selected?.view === kind && s.tab === kind) runPair();
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
  void runGrid(s.tab);
  if (get().selected?.view === s.tab) runPair();
}

// ---------------------------------------------------------------------------------------------
// The drill-down of one pair.

export function pairTitles(job: GridJob, sel: PairSelection): [string, string] {
  if (job.kind === 'dynamics') {
    return [`${job.rows[sel.i]} at step ${job.steps[sel.t]}`, `${job.cols[sel.j]} at step ${job.reference} (reference)`];
  }
  return [`${job.names.a} · ${job.rows[sel.i]}`, `${job.names.b} · ${job.cols[sel.j]}`];
}

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
      directions: 3,
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
    directions: 3,
  };
}

/** Opens the drill-down of a cell (click or Enter on the heatmap). */
export function openPair(selection: PairSelection): void {
  set({ selected: selection });
  runPair();
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
  const controller = new AbortController();
  controllers.pair = controller;
  const live = () => controllers.pair === controller;
  const pending: PairJob = { key, status: 'running', selection: sel, request, titles: pairTitles(job, sel), result: null, error: null };
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
