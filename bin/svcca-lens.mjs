#!/usr/bin/env node
// `svcca-lens`: runs the CLI bundle that `npm install` / `npm run build` made (build/cli/main.mjs,
// scripts/build-cli.mjs) when it is newer than every source file, and otherwise the TypeScript in
// src/ through tsx (about half a second slower to start, but never stale code).
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}build/cli/main.mjs`;

/** Newest modification time (ms) of the files under the given folders. */
function newestSource(folders) {
  let newest = 0;
  for (const folder of folders) {
    for (const entry of readdirSync(`${root}${folder}`, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

function bundleIsCurrent() {
  try {
    return statSync(bundle).mtimeMs >= newestSource(['src', 'shaders']);
  } catch {
    return false; // no bundle (or no src/ beside it)
  }
}

let main;
if (bundleIsCurrent()) {
  ({ main } = await import(bundle));
} else {
  const { register: registerHooks } = await import('node:module');
  const { register } = await import('tsx/esm/api');
  // WGSL sources are imported with ?raw (Vite's convention); this hook serves them under Node.
  registerHooks('./raw-loader.mjs', import.meta.url);
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
const status = await main(process.argv.slice(2));
// Exit explicitly: a WebGPU device (Dawn) would otherwise keep the process alive. But first let
// stdout and stderr drain: into a pipe Node writes asynchronously, and process.exit() with data
// still queued cuts the output (a large --json result read through `| cat` ended at 64 KiB).
// An empty write's callback runs once everything written before it has been handed to the OS.
const drained = (stream) => new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', resolve)));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(status);
