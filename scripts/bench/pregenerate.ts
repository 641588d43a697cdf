// Node only (the WebGPU benchmark under --runtime node, and so the device run): generates every
// checkpoint of a synthetic dynamics job on worker threads before its timed run, into shared
// memory, so the job and its float64 comparison read the same arrays and the run does not spend
// minutes of a lent GPU machine's time generating data on one core (the largest job, 10 layers ×
// 20 checkpoints at n = 512, m = 5000, took ~65 s on one core of the development machine).
// Values are those of ActivationGenerator.generate (the same per (layer, step) on any thread).

import { existsSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tsxApiUrl, workerExecArgv } from '../../src/analysis/pool/node';
import type { GeneratorSpec } from '../bench-data';
import type { GenerateRequest } from './generateWorker';

/** Every checkpoint of a job, arrays[step][layer] as (m, n_layer) float32, and what making them took. */
export interface Pregenerated {
  arrays: Float32Array[][];
  seconds: number;
  threads: number;
}

export type Pregenerate = (spec: GeneratorSpec) => Promise<Pregenerated | null>;

function startWorker(): Worker {
  // In the device bundle (scripts/bundle-device-bench.mjs) the worker is generateWorker.mjs beside
  // the bench; from the sources it registers tsx itself (a worker does not inherit the hooks).
  const bundled = new URL('./generateWorker.mjs', import.meta.url);
  const options = { execArgv: workerExecArgv() };
  if (bundled.protocol === 'file:' && existsSync(fileURLToPath(bundled))) return new Worker(bundled, options);
  const entry = new URL('./generateWorker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** Below this many bytes of arrays a job generates lazily: starting the threads would cost more
 *  (~0.1 s each from the bundle, ~0.6 s under tsx) than generating on one (0.26 s for 5 × 6 at n ≤ 128). */
const SMALLEST_PREGENERATED_BYTES = 64 * 2 ** 20;

/**
 * A pregenerator on `threads` worker threads (default: one per core). It declines (null: the job
 * generates lazily, one checkpoint at a time, as in the browser) for small jobs and when the job's
 * arrays would take more than a quarter of the machine's memory.
 */
export function workerPregenerator(threads = availableParallelism(), smallestBytes = SMALLEST_PREGENERATED_BYTES): Pregenerate {
  return async (spec) => {
    // Each thread first builds the generator's latents (~1 s at 10 layers of 512 × 5000), so on
    // fewer than 4 cores the threads gain nothing (measured on 2: 6.6 s against 5.9 s on one).
    if (threads < 4) return null;
    const bytes = spec.widths.reduce((sum, n) => sum + n * spec.datapoints * 4, 0) * spec.steps;
    if (bytes < smallestBytes || bytes > totalmem() / 4) return null;
    const started = performance.now();
    const tasks: GenerateRequest['tasks'] = [];
    const arrays: Float32Array[][] = [];
    for (let step = 0; step < spec.steps; step++) {
      arrays.push(
        spec.widths.map((n, layer) => {
          const buffer = new SharedArrayBuffer(n * spec.datapoints * 4);
          tasks.push({ layer, step, buffer });
          return new Float32Array(buffer);
        }),
      );
    }
    const count = Math.max(1, Math.min(threads, tasks.length));
    await Promise.all(
      Array.from({ length: count }, (_, w) => {
        const share = tasks.filter((_, i) => i % count === w); // round robin: similar sizes per thread
        const worker = startWorker();
        return new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`a generator thread stopped (exit code ${code})`)));
          worker.postMessage({ spec, tasks: share } satisfies GenerateRequest);
        }).finally(() => void worker.terminate());
      }),
    );
    return { arrays, seconds: (performance.now() - started) / 1000, threads: count };
  };
}
