// How the app sets the CPU path's threads: `?threads=N` in the page's address (threadsFromSearch),
// sent to the analysis worker as its first request (setThreads), which sets the CPU pool that
// resolveBackend hands to CPU jobs.

import { afterEach, describe, expect, it } from 'vitest';
import { registerCpuBackend, resolveBackend } from '../../src/analysis/backend';
import { createNodePool } from '../../src/analysis/pool/node';
import { threadsFromSearch, WorkerClient } from '../../src/worker/client';
import type { Request, Response } from '../../src/worker/protocol';
import { realEngine } from '../../src/worker/engine';
import { createWorkerCore, type Engine } from '../../src/worker/workerCore';

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

afterEach(() => registerCpuBackend(null));

describe('threads of the CPU path in the app', () => {
  it('reads ?threads=N: a whole number ≥ 1, else nothing', () => {
    expect(threadsFromSearch('?threads=4')).toBe(4);
    expect(threadsFromSearch('?data=x.npz&threads=1')).toBe(1);
    for (const bad of ['', '?threads=', '?threads=0', '?threads=-2', '?threads=1.5', '?threads=two']) expect(threadsFromSearch(bad), bad).toBeNull();
  });

  it('setThreads sets the pool CPU jobs get, capped at 16; without a pool it answers 1', async () => {
    const pool = createNodePool(1);
    registerCpuBackend(pool);
    const client = inProcessClient({ ...realEngine, setCpuThreads: (n) => (pool.setThreads(n), pool.threads) });
    expect(await client.setThreads(3)).toEqual({ threads: 3 });
    const { backend } = await resolveBackend('cpu');
    expect(backend).toBe(pool);
    expect(backend.threads).toBe(3);
    expect(await client.setThreads(64)).toEqual({ threads: 16 });
    expect(await inProcessClient(realEngine).setThreads(4)).toEqual({ threads: 1 });
    pool.close();
  });
});
