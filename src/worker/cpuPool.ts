// The CPU pool in the browser: module workers started by the analysis worker (nested workers), each
// running worker/poolWorker.ts. Factors come back in SharedArrayBuffers when the page is cross-origin
// isolated (served with COOP/COEP, docs/deploying.md), otherwise their buffers are transferred.

import { clampThreads, CpuPool, type PoolPort } from '../analysis/pool/pool';
import type { PoolResponse } from '../analysis/pool/protocol';

/** One thread per core but one (the page and this worker keep it), capped: 1 on a two-core machine. */
export function defaultThreads(): number {
  return clampThreads((navigator.hardwareConcurrency || 1) - 1);
}

function browserPort(index: number): PoolPort {
  const worker = new Worker(new URL('./poolWorker.ts', import.meta.url), { type: 'module', name: `svcca-cpu-${index + 1}` });
  return {
    post: (request) => worker.postMessage(request),
    listen(onMessage, onError) {
      worker.addEventListener('message', (event: MessageEvent<PoolResponse>) => onMessage(event.data));
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        onError(event.message || 'it could not start');
      });
      worker.addEventListener('messageerror', () => onError('it sent an unreadable message'));
    },
    terminate: () => worker.terminate(),
  };
}

export function createBrowserPool(): CpuPool {
  return new CpuPool({ spawn: browserPort, threads: defaultThreads(), shared: globalThis.crossOriginIsolated === true });
}
