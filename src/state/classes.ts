// The Classes view's state: the class-sensitivity job of the active
// bundle's run shown in the learning-dynamics view, and the k sweep of the pair open in the
// drill-down. Kept in its own small store beside appStore: these jobs depend on the app's state
// (bundle, run, left-out layers, options) but nothing there depends on them.

import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { ClassTarget } from '../analysis/classes';
import type { SweepK } from '../analysis/dimensionality';
import type { Progress } from '../analysis/types';
import type { ClassesExport, ClassesJobRequest, SweepKJobRequest } from '../worker/protocol';
import { appStore, getAnalysisClient, isAbort, message, onReset } from './appStore';
import type { AppState } from './appStore';
import { filePart, stem, type ExportInfo } from './exportInfo';
import { APP_NAME, APP_VERSION } from '../version';

export type JobStatus = 'running' | 'done' | 'error' | 'cancelled';

export interface ClassesState {
  target: ClassTarget | 'auto';
  /** The threshold for "first step" marks; null: the job's own (analysis/classes' default). */
  threshold: number | null;
  /** The layer whose classes × steps heatmap is shown (index into the result's layers). */
  layerIndex: number;
  job: { key: string; status: JobStatus; request: ClassesJobRequest; result: ClassesExport | null; error: string | null; progress: Progress | null } | null;
  sweep: { key: string; status: JobStatus; result: SweepK | null; error: string | null } | null;
}

const initial = (): ClassesState => ({ target: 'auto', threshold: null, layerIndex: 0, job: null, sweep: null });

export const classesStore = createStore<ClassesState>()(() => initial());

export function useClassesStore<T>(selector: (state: ClassesState) => T): T {
  return useStore(classesStore, selector);
}

const controllers: { classes: AbortController | null; sweep: AbortController | null } = { classes: null, sweep: null };
onReset(() => {
  controllers.classes?.abort();
  controllers.sweep?.abort();
  controllers.classes = controllers.sweep = null;
  classesStore.setState(initial(), true);
});

/** The active bundle's labels, or why there are none to use (null: it has labels). */
export function noLabelsReason(s: AppState): string | null {
  const info = s.bundles.find((b) => b.id === s.activeBundle);
  if (!info) return 'Load a bundle first.';
  if (!info.labels) {
    return `${info.name} has no labels. Class sensitivity needs one integer class per datapoint: a labels member in the file, or labels.npy beside the arrays (see docs/formats.md).`;
  }
  return null;
}

/** The job the view asks for: the run the learning-dynamics view shows, without its left-out layers. */
export function classesRequest(s: AppState, target: ClassTarget | 'auto'): ClassesJobRequest | null {
  const info = s.bundles.find((b) => b.id === s.activeBundle);
  if (!info || !info.labels) return null;
  const run = info.runs[Math.min(s.runIndex, info.runs.length - 1)] ?? null;
  // The threshold only moves the "first step" marks, which the view derives: it is not part of the job.
  return { bundle: info.id, run, dropped: s.dropped[info.id] ?? [], target, options: s.options };
}

/** Computes class sensitivity unless the shown job already answers the same request (`force`: again). */
export async function runClasses(force = false): Promise<void> {
  const client = getAnalysisClient();
  const request = classesRequest(appStore.getState(), classesStore.getState().target);
  if (!client?.classes || !request) return;
  const key = JSON.stringify(request);
  const current = classesStore.getState().job;
  if (!force && current?.key === key) return;
  controllers.classes?.abort();
  const controller = new AbortController();
  controllers.classes = controller;
  const live = () => controllers.classes === controller;
  const pending = { key, status: 'running' as JobStatus, request, result: null, error: null, progress: null };
  classesStore.setState({ job: pending });
  try {
    const result = await client.classes(request, {
      signal: controller.signal,
      onProgress: (progress) => live() && classesStore.setState((s) => ({ job: s.job && { ...s.job, progress } })),
    });
    if (live()) {
      const layerIndex = Math.min(classesStore.getState().layerIndex, result.layers.length - 1);
      classesStore.setState({ job: { ...pending, status: 'done', result }, layerIndex: Math.max(0, layerIndex) });
    }
  } catch (e) {
    if (live()) classesStore.setState({ job: { ...pending, status: isAbort(e) ? 'cancelled' : 'error', error: isAbort(e) ? null : message(e) } });
  } finally {
    if (live()) controllers.classes = null;
  }
}

export function cancelClasses(): void {
  controllers.classes?.abort();
}

export function setClassTarget(target: ClassTarget | 'auto'): void {
  classesStore.setState({ target });
  void runClasses();
}

export function setClassThreshold(threshold: number): void {
  if (Number.isFinite(threshold)) classesStore.setState({ threshold: Math.max(0, Math.min(1, threshold)) });
}

export function setClassLayer(layerIndex: number): void {
  classesStore.setState({ layerIndex });
}

/** firstStep[l][c]: the first step at which ρ ≥ threshold (null: never), for the threshold shown. */
export function firstSteps(values: readonly (readonly (readonly number[])[])[], steps: readonly number[], threshold: number): (number | null)[][] {
  return values.map((perClass) =>
    perClass.map((series) => {
      const t = series.findIndex((v) => v >= threshold);
      return t < 0 ? null : steps[t];
    }),
  );
}

/** The k sweep of the drill-down's pair (its request without the directions). */
export async function runSweep(request: SweepKJobRequest): Promise<void> {
  const client = getAnalysisClient();
  if (!client?.sweepK) return;
  const key = JSON.stringify(request);
  if (classesStore.getState().sweep?.key === key) return;
  controllers.sweep?.abort();
  const controller = new AbortController();
  controllers.sweep = controller;
  const live = () => controllers.sweep === controller;
  classesStore.setState({ sweep: { key, status: 'running', result: null, error: null } });
  try {
    const result = await client.sweepK(request, { signal: controller.signal });
    if (live()) classesStore.setState({ sweep: { key, status: 'done', result, error: null } });
  } catch (e) {
    if (live()) classesStore.setState({ sweep: { key, status: isAbort(e) ? 'cancelled' : 'error', result: null, error: isAbort(e) ? null : message(e) } });
  } finally {
    if (live()) controllers.sweep = null;
  }
}

/** What a Classes export says about itself (as state/exportInfo does for grids): fields and file-name base. */
export function classesExportInfo(
  result: ClassesExport | null,
  request: ClassesJobRequest,
  bundleName: string,
  layer: string | null,
  threshold: number,
): ExportInfo {
  const fields: [string, string][] = [];
  const add = (key: string, value: string | number | null | undefined) => {
    if (value !== null && value !== undefined && value !== '') fields.push([key, String(value)]);
  };
  add('view', 'class sensitivity: values[l][c][t] = CCA correlation of layer l (after the SVD step) with class c’s target at steps[t]');
  add('bundle', bundleName);
  add('run', request.run);
  add('left out', request.dropped.join(' '));
  add('target', result ? (result.target === 'logits' ? `class logit (layer ${result.logitsLayer})` : 'class indicator 1[label = c]') : request.target);
  add('layer shown', layer);
  add('threshold', threshold);
  const keep = request.options.keep;
  add('keep', keep.kind === 'variance' ? `variance ${keep.fraction}` : `k = ${keep.k}`);
  add('epsilon', request.options.epsilon);
  add('conv reduction', result?.convReduction);
  add('computed on', result?.computed.reason ?? 'not finished');
  add('input hash', result ? `${result.inputHash} (SHA-256 of the ${result.inputArrays} arrays read, first 12 hex digits)` : null);
  add('app', `${APP_NAME} ${APP_VERSION}`);
  return { base: `${filePart(`${stem(bundleName)}${request.run === null ? '' : `_${request.run}`}`)}-classes`, fields };
}
