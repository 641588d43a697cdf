// `node scripts/bundle-device-bench.mjs OUT.mjs [ENTRY.ts]`: scripts/bench.ts (or ENTRY, e.g.
// scripts/parity-device.ts) and what it imports in one ES module for Node, so the WebGPU benchmark and
// the precision parity suite run where there are no node_modules (a lent GPU machine:
// scripts/device-bench.sh). WGSL imported with ?raw is inlined as text; `webgpu` stays external
// (device-bench.sh carries its addon); the Chromium-only imports stay external and are never loaded
// under --runtime node. The CPU pool's worker thread (src/analysis/pool/nodeWorker.ts, which the
// GPU path's float64 host step runs on) is bundled beside OUT as poolWorker.mjs: the bundled pool
// starts it from next to itself (analysis/pool/node.ts), so it must travel in the same folder.
import { dirname, resolve } from 'node:path';
import { build } from 'esbuild';
import { rawText } from './build-cli.mjs';

const out = process.argv[2];
const entry = process.argv[3] ?? 'bench.ts';
if (!out) {
  console.error('usage: node scripts/bundle-device-bench.mjs OUT.mjs [ENTRY.ts]');
  process.exit(2);
}

const scripts = dirname(new URL(import.meta.url).pathname);
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu', '@playwright/test', 'vite'],
  plugins: [rawText],
  logLevel: 'warning',
};
await build({ ...common, entryPoints: [resolve(scripts, entry.replace(/^scripts\//, ''))], outfile: out });
const worker = resolve(dirname(out), 'poolWorker.mjs');
await build({ ...common, entryPoints: [resolve(scripts, '../src/analysis/pool/nodeWorker.ts')], outfile: worker });
// The benchmark's data generator threads (scripts/bench/pregenerate.ts) start generateWorker.mjs from beside the bench.
const generator = resolve(dirname(out), 'generateWorker.mjs');
await build({ ...common, entryPoints: [resolve(scripts, 'bench/generateWorker.ts')], outfile: generator });
console.log(
  `bundled scripts/${entry.replace(/^scripts\//, '')} into ${out}, the CPU pool's worker thread into ${worker}, the bench's generator thread into ${generator}`,
);
