// `node scripts/bundle-device-bench.mjs OUT.mjs`: scripts/bench.ts and what it imports in one ES
// module for Node, so the WebGPU benchmark runs where there are no node_modules (a lent GPU machine:
// scripts/device-bench.sh). WGSL imported with ?raw is inlined as text; `webgpu` stays external
// (device-bench.sh carries its addon); the Chromium-only imports stay external and are never loaded
// under --runtime node.
import { dirname, resolve } from 'node:path';
import { build } from 'esbuild';
import { rawText } from './build-cli.mjs';

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/bundle-device-bench.mjs OUT.mjs');
  process.exit(2);
}

await build({
  entryPoints: [resolve(dirname(new URL(import.meta.url).pathname), 'bench.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  external: ['webgpu', '@playwright/test', 'vite'],
  plugins: [rawText],
  logLevel: 'warning',
});
console.log(`bundled scripts/bench.ts into ${out}`);
