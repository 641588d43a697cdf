// How the app sets the CPU path's threads: `?threads=N` in the page's address (threadsFromSearch)
// or the CPU threads setting (state/workerThreads.ts: auto or 1 … cores, kept in storage), sent to
// the analysis worker as its first request (setThreads), which sets the CPU pool that
// resolveBackend hands to CPU jobs.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerCpuBackend, resolveBackend } from '../../src/analysis/backend';
import { createNodePool } from '../../src/analysis/pool/node';
import { threadsFromSearch, WorkerClient } from '../../src/worker/client';
import type { Request, Response } from '../../src/worker/protocol';
import { realEngine } from '../../src/worker/engine';
import { createWorkerCore, type Engine } from '../../src/worker/workerCore';
import { setAnalysisClient } from '../../src/state/appStore';
import { initialThreads, maxThreads, parseThreads, setThreads, startThreads, threadsStore, THREADS_KEY } from '../../src/state/workerThreads';

function inProcessClient(engine: Engine): WorkerClient {
  const core = createWorkerCore(engine);
  const target = new EventTarget();
  return new WorkerClient({
    postMessage(request: Request) {
      void core.receive(request, (response: Response) => queueMicrotask(() => target.dispatchEvent(new MessageEvent('message', { data: response }))));
    },
    addEventListener: target.addEventListener.bind(target),
    terminate() {},
  });
}

afterEach(() => {
  registerCpuBackend(null);
  setAnalysisClient(null);
  vi.unstubAllGlobals();
});

describe('threads of the CPU path in the app', () => {
  it('reads ?threads=N: a whole number ≥ 1, else nothing', () => {
    expect(threadsFromSearch('?threads=4')).toBe(4);
    expect(threadsFromSearch('?data=x.npz&threads=1')).toBe(1);
    for (const bad of ['', '?threads=', '?threads=0', '?threads=-2', '?threads=1.5', '?threads=two']) expect(threadsFromSearch(bad), bad).toBeNull();
  });

  it('setThreads sets the pool CPU jobs get, capped at 16; without a pool it answers 1', async () => {
    const pool = createNodePool(1);
    registerCpuBackend(pool);
    const client = inProcessClient({ ...realEngine, setCpuThreads: (n) => (pool.setThreads(n === 'auto' ? 1 : n), pool.threads) });
    expect(await client.setThreads(3)).toEqual({ threads: 3 });
    const { backend } = await resolveBackend('cpu');
    expect(backend).toBe(pool);
    expect(backend.threads).toBe(3);
    expect(await client.setThreads(64)).toEqual({ threads: 16 });
    expect(await inProcessClient(realEngine).setThreads(4)).toEqual({ threads: 1 });
    pool.close();
  });
});

describe('the CPU threads setting', () => {
  it('offers auto or 1 … the cores (at most 16), and reads only those', () => {
    expect([maxThreads(8), maxThreads(64), maxThreads(undefined), maxThreads(0)]).toEqual([8, 16, 1, 1]);
    expect(parseThreads('auto', 8)).toBe('auto');
    expect(parseThreads('3', 8)).toBe(3);
    for (const bad of [null, '', '0', '9', '-1', '2.5', 'two']) expect(parseThreads(bad, 8), String(bad)).toBeNull();
  });

  it('starts from ?threads=N, else what was stored, else auto (a stored count above the cores is auto)', () => {
    expect(initialThreads(4, '2', 8)).toBe(4);
    expect(initialThreads(64, null, 8)).toBe(16);
    expect(initialThreads(null, '2', 8)).toBe(2);
    expect(initialThreads(null, '6', 4)).toBe('auto');
    expect(initialThreads(null, 'garbage', 4)).toBe('auto');
    expect(initialThreads(null, null, 4)).toBe('auto');
  });

  it('is kept in storage, sent to the worker and answered with the count in effect; auto is the pool default', async () => {
    const stored = new Map<string, string>();
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => void stored.set(k, v),
      removeItem: (k: string) => void stored.delete(k),
    });
    const pool = createNodePool(1);
    registerCpuBackend(pool);
    const AUTO = 3; // what the browser worker's defaultThreads() would give on a 4-core machine
    setAnalysisClient(inProcessClient({ ...realEngine, setCpuThreads: (n) => (pool.setThreads(n === 'auto' ? AUTO : n), pool.threads) }));

    await startThreads('auto');
    expect(threadsStore.getState()).toEqual({ setting: 'auto', inEffect: AUTO });
    expect(stored.has(THREADS_KEY)).toBe(false);

    await setThreads(2);
    expect(threadsStore.getState()).toEqual({ setting: 2, inEffect: 2 });
    expect(stored.get(THREADS_KEY)).toBe('2');
    // The next job gets the pool at that count.
    const { backend } = await resolveBackend('cpu');
    expect(backend.threads).toBe(2);
    // A reload starts from what was stored.
    expect(initialThreads(null, stored.get(THREADS_KEY) ?? null, 4)).toBe(2);

    await setThreads('auto');
    expect(threadsStore.getState()).toEqual({ setting: 'auto', inEffect: AUTO });
    expect(stored.has(THREADS_KEY)).toBe(false);
    expect((await resolveBackend('cpu')).backend.threads).toBe(AUTO);
    pool.close();
  });
});
