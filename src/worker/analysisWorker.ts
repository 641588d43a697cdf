// Entry point of the module Web Worker that holds the user's arrays and runs the engine.
// All logic lives in workerCore.ts (testable in Node); this file only wires it to `self`.

import { comparePrepared, prepare } from '../analysis/engine';
import type { Request, Response } from './protocol';
import { createWorkerCore } from './workerCore';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const core = createWorkerCore({ prepare, comparePrepared });

scope.onmessage = (event: MessageEvent<Request>) => {
  void core.receive(event.data, (response: Response) => scope.postMessage(response));
};
