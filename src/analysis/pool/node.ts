// The CPU pool in Node (the CLI, benchmarks, tests): worker threads running pool/nodeWorker.ts,
// with shared memory (SharedArrayBuffer is always there in Node). In the CLI bundle the worker is
// build/cli/poolWorker.mjs next to main.mjs (scripts/build-cli.mjs builds both); from the sources
// (tsx, vitest) the worker registers tsx itself and imports nodeWorker.ts, since a worker thread
// does not inherit the loader hooks its parent registered through tsx's API.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CpuPool, MAX_THREADS, type PoolPort } from './pool';
import type { PoolResponse } from './protocol';

/** The default thread count in Node: one per core the process may use (capped). */
export function defaultNodeThreads(): number {
  return Math.min(MAX_THREADS, availableParallelism());
}

/** tsx's ESM API (`tsx/esm/api` under the import condition, which require.resolve cannot ask for). */
export function tsxApiUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const exports = JSON.parse(readFileSync(manifest, 'utf8')).exports as Record<string, { import: { default: string } }>;
  return new URL(exports['./esm/api'].import.default, pathToFileURL(manifest)).href;
}

/**
 * The parent's Node flags without those that belong to a script given on the command line
 * (`node --input-type=module -e CODE`): a worker inherits the flags, and --input-type refuses a file.
 */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (['-e', '--eval', '-p', '--print'].includes(argv[i])) i++;
    else if (!/^--input-type(=|$)/.test(argv[i]) && !/^(--eval|--print)=/.test(argv[i])) out.push(argv[i]);
  }
  return out;
}

function startWorker(index: number): Worker {
  const bundled = new URL('./poolWorker.mjs', import.meta.url);
  const options = { name: `svcca-cpu-${index + 1}`, execArgv: workerExecArgv() };
  if (bundled.protocol === 'file:' && existsSync(fileURLToPath(bundled))) return new Worker(bundled, options);
  const tsx = tsxApiUrl();
  const entry = new URL('./nodeWorker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** Starts worker thread number `index` of a pool (PoolConfig.spawn). */
export function nodePoolPort(index: number): PoolPort {
  const worker = startWorker(index);
  worker.unref();
  let terminated = false;
  return {
    post: (request) => worker.postMessage(request),
    listen(onMessage, onError) {
      worker.on('message', (response: PoolResponse) => onMessage(response));
      worker.on('error', (error: Error) => onError(error.message));
      worker.on('exit', (code) => {
        if (!terminated) onError(`it stopped (exit code ${code})`);
      });
    },
    terminate() {
      terminated = true;
      void worker.terminate();
    },
    setBusy: (busy) => (busy ? worker.ref() : worker.unref()),
  };
}

/** A CPU pool of worker threads (`threads` 1: every call runs in-process, no worker starts). */
export function createNodePool(threads = defaultNodeThreads()): CpuPool {
  return new CpuPool({ spawn: nodePoolPort, threads, shared: true });
}
