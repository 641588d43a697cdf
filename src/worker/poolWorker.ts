// Entry of a module worker of the CPU pool (worker/cpuPool.ts starts it from the analysis worker):
// the float64 engine of analysis/pool/work.ts, one task at a time, with its own WebAssembly kernels.

import { handlePoolRequest } from '../analysis/pool/work';
import type { PoolRequest } from '../analysis/pool/protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (event: MessageEvent<PoolRequest>) => handlePoolRequest(event.data, (response, transfer) => scope.postMessage(response, transfer));
