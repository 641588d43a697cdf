#!/usr/bin/env node
// `node bin/run-ts.mjs FILE.ts args…`: runs a TypeScript script (benchmarks, generators) through tsx.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

// WGSL sources are imported with ?raw (Vite's convention); this hook serves them under Node.
registerHooks('./raw-loader.mjs', import.meta.url);
register();
const [script, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], resolve(script), ...rest];
await import(pathToFileURL(resolve(script)).href);
