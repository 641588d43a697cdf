// `node bin/run-ts.mjs scripts/bench/pairCold.ts [--root DIR] [--calls N] [--pool]`: the single pair
// (n = 512, m = 10 000, float32 (m, n), as the bench's job (a)) in THIS fresh process, as `svcca-lens
// pair` and the bench's pair job meet it (the layers written as .npy files and read back by the
// checkout's loadArrayRef): the first comparePair pays what a process pays once (the
// WebAssembly memory's growth and its page faults, JIT), then N − 1 more calls. `--root DIR`
// imports the engine from another checkout of the repository (e.g. `git archive` of an older commit
// with node_modules linked), so that two versions can be alternated process by process; `--pool`
// runs on a CPU pool of 2 worker threads (started and warmed on a small pair first). Prints one JSON
// line: wall and CPU seconds per call, the similarity, the load average.
//
// `… pairCold.ts --versions DIR1,DIR2,… [--rounds R] [--python P]`: the driver. Each round runs, for
// every checkout (order rotated per round), one fresh process on one thread and one on the pool, then
// the efficient numpy program (1 thread and default threads) on the same two files, so that ratios
// compare figures taken under the same load; prints every figure and the medians.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { ActivationGenerator, DEFAULT_GENERATOR } from '../bench-data';
import { cpuSeconds, now, OPTIONS, parseArgs, ROOT } from './args';
import { runEfficient } from './efficient';
import { writeNpy } from './synthetic';

const argv = process.argv.slice(2);
const option = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const versions = option('--versions');
if (versions) {
  await drive(
    versions.split(',').map((v) => resolve(v)),
    Number(option('--rounds') ?? 5),
    option('--python') ?? 'python3',
  );
  process.exit(0);
}
const root = resolve(option('--root') ?? ROOT);
const calls = Number(option('--calls') ?? 3);
const usePool = argv.includes('--pool');
const n = 512;
const m = 10_000;

const engine = (await import(pathToFileURL(join(root, 'src/analysis/engine.ts')).href)) as typeof import('../../src/analysis/engine');
const poolModule = (await import(pathToFileURL(join(root, 'src/analysis/pool/node.ts')).href)) as typeof import('../../src/analysis/pool/node');
const nodeIo = (await import(pathToFileURL(join(root, 'src/io/node.ts')).href)) as typeof import('../../src/io/node');
const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n, n], steps: 1, datapoints: m });
// The two layers written as .npy files and read back by that checkout's loadArrayRef, as `svcca-lens pair` reads them.
const files = mkdtempSync(join(tmpdir(), 'svcca-pair-cold-'));
writeNpy(files, 'a.npy', [m, n], gen.generate(0, 0));
writeNpy(files, 'b.npy', [m, n], gen.generate(1, 0));
const [loadedA, loadedB] = [await nodeIo.loadArrayRef(join(files, 'a.npy')), await nodeIo.loadArrayRef(join(files, 'b.npy'))];
rmSync(files, { recursive: true, force: true });
const a = loadedA.array.data as Float32Array;
const b = loadedB.array.data as Float32Array;
const activation = (name: string, data: Float32Array, shape = [m, n]) => ({ name, array: { shape, dtype: '<f4', data } });
const pool = usePool ? poolModule.createNodePool(2) : undefined;
if (pool) await engine.comparePair(activation('wa.npy', a.slice(0, 500 * 48), [500, 48]), activation('wb.npy', b.slice(0, 500 * 48), [500, 48]), OPTIONS, pool);
const load = loadavg()[0];
const wall: number[] = [];
const cpu: number[] = [];
let similarity = NaN;
for (let c = 0; c < calls; c++) {
  const [w0, c0] = [now(), cpuSeconds()];
  similarity = (await engine.comparePair(activation('a.npy', a), activation('b.npy', b), OPTIONS, pool)).similarity;
  wall.push(now() - w0);
  cpu.push(cpuSeconds() - c0);
}
pool?.close();
console.log(JSON.stringify({ root, pool: usePool, wall, cpu, similarity, load }));

interface ProcessResult {
  wall: number[];
  cpu: number[];
  similarity: number;
  load: number;
}

async function drive(roots: string[], rounds: number, python: string): Promise<void> {
  const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [512, 512], steps: 1, datapoints: 10_000 });
  const dir = mkdtempSync(join(tmpdir(), 'pair-cold-'));
  const figures = new Map<string, { first: number[]; next: number[]; firstCpu: number[] }>();
  const record = (key: string, first: number, next: number, firstCpu: number) => {
    if (!figures.has(key)) figures.set(key, { first: [], next: [], firstCpu: [] });
    figures.get(key)!.first.push(first);
    figures.get(key)!.next.push(next);
    figures.get(key)!.firstCpu.push(firstCpu);
  };
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
  console.log(
    `single pair n = 512, m = 10 000 in fresh processes; ${rounds} rounds; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  try {
    writeNpy(dir, 'a.npy', [10_000, 512], gen.generate(0, 0));
    writeNpy(dir, 'b.npy', [10_000, 512], gen.generate(1, 0));
    const similarities = new Set<number>();
    for (let r = 0; r < rounds; r++) {
      const order = roots.map((_, i) => roots[(i + r) % roots.length]);
      for (const root of order) {
        for (const pool of [false, true]) {
          const child = spawnSync(
            process.execPath,
            [join(ROOT, 'bin/run-ts.mjs'), join(ROOT, 'scripts/bench/pairCold.ts'), '--root', root, '--calls', '2', ...(pool ? ['--pool'] : [])],
            {
              encoding: 'utf8',
            },
          );
          if (child.status !== 0) throw new Error(`pairCold.ts --root ${root} failed: ${child.stderr}`);
          const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as ProcessResult;
          similarities.add(result.similarity);
          const key = `${root}${pool ? ', pool of 2' : ', 1 thread'}`;
          record(key, result.wall[0], result.wall[1], result.cpu[0]);
          console.log(
            `  round ${r + 1} ${key}: first call ${ms(result.wall[0])} (CPU ${ms(result.cpu[0])}), second ${ms(result.wall[1])}  (load ${result.load.toFixed(1)})`,
          );
        }
      }
      const results = runEfficient(
        { ...parseArgs([]), python, numpyThreads: 'both' },
        ['--pair', join(dir, 'a.npy'), join(dir, 'b.npy')],
        2,
        1,
        () => [...similarities][0],
        () => {},
      );
      for (const e of results) {
        if (!e.ok) throw new Error(`the efficient numpy program failed: ${e.error}`);
        const key = `efficient numpy (${python}), ${e.threads === '1' ? '1 thread' : 'default threads'}`;
        record(key, e.seconds, e.seconds, e.cpuSeconds);
        console.log(`  round ${r + 1} ${key}: ${ms(e.seconds)} (CPU ${ms(e.cpuSeconds)}; |Δ similarity| ${e.maxAbsDiff?.toExponential(1)})`);
      }
    }
    console.log(`similarities: ${similarities.size === 1 ? 'bit-identical in every process' : `DIFFER: ${[...similarities].join(', ')}`}`);
    const numpyKeys = [...figures.keys()].filter((k) => k.startsWith('efficient numpy'));
    const fastest = figures.get(numpyKeys[0])!.first.map((_, r) => Math.min(...numpyKeys.map((k) => figures.get(k)!.first[r])));
    const oneThreadCpu = figures.get(numpyKeys.find((k) => k.endsWith('1 thread'))!)!.firstCpu;
    for (const [key, f] of figures) {
      const ratio = key.startsWith('efficient numpy')
        ? ''
        : `; ÷ numpy's faster mode (wall): ${(median(fastest) / median(f.first)).toFixed(2)}× (per round ${f.first.map((w, r) => (fastest[r] / w).toFixed(2)).join(', ')})` +
          `; ÷ numpy 1 thread (CPU): ${(median(oneThreadCpu) / median(f.firstCpu)).toFixed(2)}×`;
      console.log(`${key}: median first call ${ms(median(f.first))} (CPU ${ms(median(f.firstCpu))}), second ${ms(median(f.next))}${ratio}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
