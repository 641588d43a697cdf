// `node bin/run-ts.mjs scripts/bench/pairAb.ts [--rounds N] [--python P]… [--no-numpy]`: the single
// pair (n = 512 neurons, m = 10 000 datapoints, float32 stored (m, n) datapoints-first as the bench's
// job (a)) in ONE process, the new path against the old one, alternated round by round, then the
// efficient numpy program on the same two files in the same run (1 thread and its default threads,
// for each --python; default /usr/bin/python3). Wall and CPU seconds (process.cpuUsage: every thread
// of this process) per call, the load average beside them; the similarities compared bit for bit.
//   - old, 1 thread: what comparePair did before the stored array was kept: prepare, then each
//     layer's float64 n × m matrix built (reading rep.x: a fresh 40 MB each, a transpose of the
//     float32 array), SVCCA's factor from that matrix;
//   - new, 1 thread: comparePair: SVCCA's factor centres the stored float32 array straight into
//     WebAssembly memory (math/reduce.ts centerStoredRows), no float64 copy of the layer;
//   - old pool / new pool: the same through a CPU pool of 2 worker threads (the CLI's default here;
//     workers started and warmed on a small pair first): old, each worker is sent the float64 matrix
//     (a structured clone, 40 MB); new, the stored float32 array in a SharedArrayBuffer (20 MB).
// Each round's order alternates (old first in odd rounds), since the first large call of a process
// pays the WebAssembly memory's growth.

import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { comparePair, comparePrepared } from '../../src/analysis/engine';
import { createNodePool } from '../../src/analysis/pool/node';
import { prepare, type Prepared } from '../../src/analysis/prepare';
import { denseMatrixBuilt } from '../../src/math/reduce';
import { ActivationGenerator, DEFAULT_GENERATOR } from '../bench-data';
import { cpuSeconds, now, OPTIONS, parseArgs } from './args';
import { runEfficient } from './efficient';
import { writeNpy } from './synthetic';

const argv = process.argv.slice(2);
const roundsAt = argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 4;
const pythons = argv.flatMap((flag, i) => (flag === '--python' ? [argv[i + 1]] : []));
if (pythons.length === 0) pythons.push('/usr/bin/python3');
const numpy = !argv.includes('--no-numpy');
const n = 512;
const m = 10_000;
const shape = [m, n];

const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n, n], steps: 1, datapoints: m });
const a = gen.generate(0, 0); // (m, n) float32
const b = gen.generate(1, 0);
const activation = (name: string, data: Float32Array) => ({ name, array: { shape, dtype: '<f4', data } });
const load = () => loadavg()[0].toFixed(1);
const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];

/** The old path's representations: the float64 matrices built up front, as toRepresentation did. */
function oldPrepared(): [Prepared, Prepared] {
  const hint = m;
  const sides = [prepare(activation('a.npy', a), OPTIONS, hint), prepare(activation('b.npy', b), OPTIONS, hint)] as [Prepared, Prepared];
  // Reading x builds the matrix; the literal without `stored` is what the pool used to clone.
  return sides.map((p) => (p.rep.kind === 'dense' ? { ...p, rep: { kind: 'dense', x: p.rep.x } } : p)) as [Prepared, Prepared];
}

const pool = createNodePool(2);
const small = (data: Float32Array, name: string) => ({ name, array: { shape: [500, 48], dtype: '<f4', data: data.subarray(0, 500 * 48) } });
await comparePair(small(a, 'wa.npy'), small(b, 'wb.npy'), OPTIONS, pool);

type Variant = 'old, 1 thread' | 'new, 1 thread' | 'old, pool of 2' | 'new, pool of 2';
const runs: Record<Variant, () => Promise<number>> = {
  'old, 1 thread': async () => {
    const [pa, pb] = oldPrepared();
    return (await comparePrepared(pa, pb, OPTIONS)).similarity;
  },
  'new, 1 thread': async () => {
    const pa = prepare(activation('a.npy', a), OPTIONS, m);
    const pb = prepare(activation('b.npy', b), OPTIONS, m);
    const similarity = (await comparePrepared(pa, pb, OPTIONS)).similarity;
    if (denseMatrixBuilt(pa.rep) || denseMatrixBuilt(pb.rep)) throw new Error('the new path built a float64 matrix');
    return similarity;
  },
  'old, pool of 2': async () => {
    const [pa, pb] = oldPrepared();
    return (await comparePrepared(pa, pb, OPTIONS, pool)).similarity;
  },
  'new, pool of 2': async () => (await comparePair(activation('a.npy', a), activation('b.npy', b), OPTIONS, pool)).similarity,
};
const times = Object.fromEntries(Object.keys(runs).map((k) => [k, { wall: [] as number[], cpu: [] as number[] }])) as Record<
  Variant,
  { wall: number[]; cpu: number[] }
>;
const similarities = new Set<number>();
console.log(`single pair n = ${n}, m = ${m}, float32 (m, n); ${rounds} rounds; load average at the start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (let r = 0; r < rounds; r++) {
  const order = (Object.keys(runs) as Variant[]).sort((p, q) => (p.startsWith('old') === q.startsWith('old') ? 0 : p.startsWith('old') === (r % 2 === 0) ? -1 : 1));
  for (const name of order) {
    const [w0, c0, l0] = [now(), cpuSeconds(), load()];
    similarities.add(await runs[name]());
    const [wall, cpu] = [now() - w0, cpuSeconds() - c0];
    times[name].wall.push(wall);
    times[name].cpu.push(cpu);
    console.log(`  round ${r + 1} ${name.padEnd(15)} wall ${ms(wall).padStart(8)} · CPU ${ms(cpu).padStart(8)}  (load ${l0})`);
  }
}
pool.close();
const [similarity] = similarities;
console.log(`similarities: ${similarities.size === 1 ? `bit-identical on every path and round (${similarity.toPrecision(17)})` : `DIFFER: ${[...similarities].join(', ')}`}`);
for (const name of Object.keys(runs) as Variant[]) {
  console.log(`${name.padEnd(15)} median wall ${ms(median(times[name].wall))} · CPU ${ms(median(times[name].cpu))}; best wall ${ms(Math.min(...times[name].wall))}`);
}
for (const [next, previous] of [
  ['new, 1 thread', 'old, 1 thread'],
  ['new, pool of 2', 'old, pool of 2'],
] as const) {
  console.log(`${next} vs ${previous}: median wall ${(median(times[previous].wall) / median(times[next].wall)).toFixed(2)}× faster`);
}

if (numpy) {
  const dir = mkdtempSync(join(tmpdir(), 'pair-ab-'));
  try {
    writeNpy(dir, 'a.npy', shape, a);
    writeNpy(dir, 'b.npy', shape, b);
    for (const python of pythons) {
      const args = { ...parseArgs([]), python, numpyThreads: 'both' as const };
      console.log(`efficient numpy program (${python}), load ${load()}:`);
      const results = runEfficient(args, ['--pair', join(dir, 'a.npy'), join(dir, 'b.npy')], 2, 1, () => similarity, console.log);
      for (const e of results.filter((x) => x.ok)) {
        const mode = e.threads === '1' ? '1 thread' : 'default threads';
        const ratio = (name: Variant) =>
          `${name}: ${(e.seconds / median(times[name].wall)).toFixed(2)}× wall · ${(e.cpuSeconds / median(times[name].cpu)).toFixed(2)}× CPU`;
        console.log(
          `  numpy ${mode}: ${ms(e.seconds)} · CPU ${ms(e.cpuSeconds)} (|Δ similarity| ${e.maxAbsDiff?.toExponential(1)}); ours as a fraction of its speed — ${(Object.keys(runs) as Variant[]).map(ratio).join('; ')}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
