// `node scripts/build-cli.mjs`: the CLI (src/cli/main.ts and what it imports) as ES modules in
// build/cli/, so `svcca-lens` starts without compiling TypeScript (tsx costs ~0.5 s a start). Code
// splitting: main.mjs holds only the help texts and the dispatch; the engine (src/cli/commands.ts,
// imported dynamically) and the code it shares with the worker thread are chunk-*.mjs files beside
// it, so `--help`, `--version` and a misspelt command parse a few KB, not the whole engine. Run by `npm install` (the `prepare` script) and `npm run build`. bin/svcca-lens.mjs uses
// the bundle only while it is newer than every file under src/ and shaders/, and otherwise falls
// back to tsx, so an edited source tree never runs stale code.
// WGSL imported with ?raw is inlined as text (as Vite does); `webgpu` (an optional native addon)
// stays external and is loaded only for --backend webgpu; `h5wasm` (4 MB of JavaScript with the
// HDF5 wasm inlined) stays external too and is imported from node_modules only when an HDF5 file
// is opened. The CPU pool's worker thread (src/analysis/pool/nodeWorker.ts) is a second entry,
// build/cli/poolWorker.mjs, which the bundled CLI starts from next to itself (analysis/pool/node.ts).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `import source from './kernel.wgsl?raw'` → the file's text. */
export const rawText = {
  name: 'raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(dirname(args.importer), args.path.replace(/\?raw$/, '')), namespace: 'raw-text' }));
    b.onLoad({ filter: /.*/, namespace: 'raw-text' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
  },
};

/** Bundles the CLI and the CPU pool's worker thread into `outdir` (main.mjs, poolWorker.mjs and
 *  their shared chunk-*.mjs), removing the chunks an earlier build left there. */
export async function buildCli(outdir = resolve(root, 'build/cli')) {
  const { metafile } = await build({
    entryPoints: [
      { in: resolve(root, 'src/cli/main.ts'), out: 'main' },
      { in: resolve(root, 'src/analysis/pool/nodeWorker.ts'), out: 'poolWorker' },
    ],
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    outExtension: { '.js': '.mjs' },
    external: ['webgpu', 'h5wasm'],
    plugins: [rawText],
    logLevel: 'warning',
  });
  const written = new Set(Object.keys(metafile.outputs).map((file) => basename(file)));
  for (const file of readdirSync(outdir)) {
    if (/^chunk-.*\.mjs$/.test(file) && !written.has(file)) rmSync(resolve(outdir, file));
  }
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = await buildCli();
  console.log(`svcca-lens: CLI bundled into ${outdir}/ (main.mjs, its worker thread poolWorker.mjs, their chunks)`);
}
