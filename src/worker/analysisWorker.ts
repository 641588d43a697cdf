// Entry point of the module Web Worker that holds the user's arrays and runs the engine.
// All logic lives in workerCore.ts (testable in Node); this file only wires it to `self`.

import { registerCpuBackend, registerGpuBackend } from '../analysis/backend';
import { webgpuBackendFactory } from '../analysis/gpu';
import type { Request, Response } from './protocol';
import { realEngine } from './engine';
import { createWorkerCore } from './workerCore';
import { createBrowserPool, defaultThreads } from './cpuPool';

// ---- Start-up: the one place where the WebGPU backend is registered. ---------------------------
// This worker owns the GPUDevice. 'auto' uses it on a hardware adapter; a device lost mid-job fails
// that job with "the GPU device was lost …" (the checkpoints already sent stay), and the next job
// asks for a fresh adapter (the factory forgets the lost backend).
registerGpuBackend(webgpuBackendFactory(async () => (typeof navigator !== 'undefined' ? navigator.gpu : undefined)));
// The float64 CPU path runs on a pool of module workers (worker/cpuPool.ts; `?threads=N` in the
// page's address or the CPU threads setting sets how many, 1: in this worker, as before).
const cpuPool = createBrowserPool();
registerCpuBackend(cpuPool);
// -------------------------------------------------------------------------------------------------

const scope = self as unknown as DedicatedWorkerGlobalScope;
const core = createWorkerCore({
  ...realEngine,
  setCpuThreads(threads) {
    cpuPool.setThreads(threads === 'auto' ? defaultThreads() : threads);
    return cpuPool.threads;
  },
});

scope.onmessage = (event: MessageEvent<Request>) => {
  void core.receive(event.data, (response: Response) => scope.postMessage(response));
};
