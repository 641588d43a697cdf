// The CPU threads setting: how many threads the float64 CPU path runs on (the analysis worker's pool
// of module workers, worker/cpuPool.ts). 'auto' (the default) is one per core but one; a number is
// from 1 to the machine's cores (at most the pool's MAX_THREADS). Kept in this browser's storage, as
// the theme is (a property of the machine, not of the view: a shared link does not carry it); a
// `?threads=N` in the page's address wins for that page. Sent to the worker at once: the next job
// runs on it. The numbers do not depend on it, so nothing is recomputed.

import { createStore } from 'zustand/vanilla';
import { MAX_THREADS } from '../analysis/threads';
import { getAnalysisClient } from './appStore';

export type ThreadsSetting = 'auto' | number;

export const THREADS_KEY = 'svcca-lens-threads';

export interface ThreadsState {
  setting: ThreadsSetting;
  /** Threads in effect, as the worker answered (null until it has). */
  inEffect: number | null;
}

export const threadsStore = createStore<ThreadsState>()(() => ({ setting: 'auto', inEffect: null }));

/** The largest count offered: the machine's cores (navigator.hardwareConcurrency), at most MAX_THREADS. */
export function maxThreads(cores: number | undefined): number {
  return Math.max(1, Math.min(MAX_THREADS, Math.floor(cores || 1)));
}

/** 'auto' or a whole number from 1 to `max`, from a select's value, storage or a link; null otherwise. */
export function parseThreads(text: string | null | undefined, max: number): ThreadsSetting | null {
  if (text === 'auto') return 'auto';
  if (!text || !/^[1-9][0-9]*$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

/**
 * The setting a page starts with: `?threads=N` from its address (worker/client threadsFromSearch;
 * for this page only, never stored), else the one stored, else auto. A stored count above this
 * machine's cores (fewer cores than where it was chosen) is auto.
 */
export function initialThreads(fromLink: number | null, stored: string | null, cores: number | undefined): ThreadsSetting {
  if (fromLink !== null) return Math.min(fromLink, MAX_THREADS);
  return parseThreads(stored, maxThreads(cores)) ?? 'auto';
}

function store(setting: ThreadsSetting): void {
  try {
    if (setting === 'auto') localStorage.removeItem(THREADS_KEY);
    else localStorage.setItem(THREADS_KEY, String(setting));
  } catch {
    // no storage (a locked-down browser): the setting lasts for this page
  }
}

/** Sends the setting to the analysis worker and records the count in effect. */
async function apply(setting: ThreadsSetting): Promise<void> {
  const client = getAnalysisClient();
  if (!client?.setThreads) return;
  try {
    const { threads } = await client.setThreads(setting);
    if (threadsStore.getState().setting === setting) threadsStore.setState({ inEffect: threads });
  } catch {
    // a worker that failed to start says so through the jobs themselves
  }
}

/** The user's choice: kept in storage (auto: removed) and used from the next job on. */
export function setThreads(setting: ThreadsSetting): Promise<void> {
  threadsStore.setState({ setting, inEffect: null });
  store(setting);
  return apply(setting);
}

/** At start-up, after the worker client is set: the page's starting setting, sent before any job. */
export function startThreads(setting: ThreadsSetting): Promise<void> {
  threadsStore.setState({ setting, inEffect: null });
  return apply(setting);
}
