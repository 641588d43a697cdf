// Entry of a Node worker thread of the CPU pool (analysis/pool/node.ts starts it): the float64
// engine of pool/work.ts behind parentPort. Bundled for the CLI as build/cli/poolWorker.mjs.

import { parentPort } from 'node:worker_threads';
import { handlePoolRequest } from './work';
import type { PoolRequest } from './protocol';

const port = parentPort;
if (!port) throw new Error('analysis/pool/nodeWorker.ts runs as a worker thread of the CPU pool');
port.on('message', (request: PoolRequest) => handlePoolRequest(request, (response, transfer) => port.postMessage(response, transfer)));
