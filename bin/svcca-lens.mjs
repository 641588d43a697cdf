#!/usr/bin/env node
// Runs the TypeScript CLI straight from src/ (tsx compiles on the fly), so `npx svcca-lens`
// works right after `npm install` with no build step.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

// WGSL sources are imported with ?raw (Vite's convention); this hook serves them under Node.
registerHooks('./raw-loader.mjs', import.meta.url);
register();
const { main } = await import('../src/cli/main.ts');
const status = await main(process.argv.slice(2));
// Exit explicitly: a WebGPU device (Dawn) would otherwise keep the process alive. But first let
// stdout and stderr drain: into a pipe Node writes asynchronously, and process.exit() with data
// still queued cuts the output (a large --json result read through `| cat` ended at 64 KiB).
// An empty write's callback runs once everything written before it has been handed to the OS.
const drained = (stream) => new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', resolve)));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(status);
