// A Worker stand-in for tests: requests go to a worker core in this thread (real readers, real
// engine), responses come back as message events, as the page's WorkerClient receives them.

import { WorkerClient } from '../../src/worker/client';
import type { Request, Response } from '../../src/worker/protocol';
import { createWorkerCore } from '../../src/worker/workerCore';
import { realEngine } from '../../src/worker/engine';

export function inProcessClient(): WorkerClient {
  const core = createWorkerCore(realEngine);
  const target = new EventTarget();
  return new WorkerClient({
    postMessage(request: Request) {
      void core.receive(request, (response: Response) => queueMicrotask(() => target.dispatchEvent(new MessageEvent('message', { data: response }))));
    },
    addEventListener: target.addEventListener.bind(target),
    terminate() {},
  });
}
