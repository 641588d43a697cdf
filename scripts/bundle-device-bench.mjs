// `node scripts/bundle-device-bench.mjs OUT.mjs [ENTRY.ts]`: scripts/bench.ts (or ENTRY, e.g.
// scripts/parity-device.ts) and what it imports in one ES module for Node, so the WebGPU benchmark and
// the precision parity suite run where there are no node_modules (a lent GPU machine:
// scripts/device-bench.sh). WGSL imported with ?raw is inlined as text; `webgpu` stays external
// (device-bench.sh carries its addon); the Chromium-only imports stay external and are never loaded
// under --runtime node.
import { dirname, resolve } from 'node:path';
import { build } from 'esbuild';
import { rawText } from './build-cli.mjs';

const out = process.argv[2];
const entry = process.argv[3] ?? 'bench.ts';
if (!out) {
  console.error('usage: node scripts/bundle-device-bench.mjs OUT.mjs [ENTRY.ts]');
  process.exit(2);
}

await build({
  entryPoints: [resolve(dirname(new URL(import.meta.url).pathname), entry.replace(/^scripts\//, ''))],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  external: ['webgpu', '@playwright/test', 'vite'],
  plugins: [rawText],
  logLevel: 'warning',
});
console.log(`bundled scripts/${entry.replace(/^scripts\//, '')} into ${out}`);
