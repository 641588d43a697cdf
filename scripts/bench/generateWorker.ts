// A worker thread of scripts/bench/pregenerate.ts: generates the checkpoints it is sent, each into
// the SharedArrayBuffer that came with it, and answers with their indices. The generator is
// deterministic per (layer, step) (scripts/bench-data.ts), so which thread makes which array does
// not change a value.

import { parentPort } from 'node:worker_threads';
import { ActivationGenerator, type GeneratorSpec } from '../bench-data';

export interface GenerateRequest {
  spec: GeneratorSpec;
  /** (layer, step, buffer): X_layer(step) as (m, n_layer) float32 into buffer. */
  tasks: { layer: number; step: number; buffer: SharedArrayBuffer }[];
}

const port = parentPort;
if (port) {
  port.on('message', (request: GenerateRequest) => {
    const generator = new ActivationGenerator(request.spec);
    for (const { layer, step, buffer } of request.tasks) new Float32Array(buffer).set(generator.generate(layer, step));
    port.postMessage(request.tasks.length);
  });
}
