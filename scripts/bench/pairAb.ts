// `node bin/run-ts.mjs scripts/bench/pairAb.ts [--rounds N] [--python P]… [--no-numpy]`: the single
// pair (n = 512 neurons, m = 10 000 datapoints, float32 stored (m, n) datapoints-first as the bench's
// job (a)) in ONE process, the new path against the old one, alternated round by round, and in each
// round the efficient numpy program on the same two files (1 thread and its default threads, for
// each --python; default python3, as `npm run bench`), so every ratio compares figures taken under
// the same load. Wall and CPU seconds (process.cpuUsage: every thread of this process) per call, the
// load average beside them; the similarities compared bit for bit.
//   - old, 1 thread: what comparePair did before the stored array was kept: prepare, then each
//     layer's float64 n × m matrix built (reading rep.x: a fresh 40 MB each, a transpose of the
//     float32 array), SVCCA's factor from that matrix;
//   - new, 1 thread: comparePair: SVCCA's factor centres the stored float32 array straight into
//     WebAssembly memory (math/reduce.ts centerStoredRows), no float64 copy of the layer;
//   - old pool / new pool: the same through a CPU pool of 2 worker threads (the CLI's default here;
//     workers started and warmed on a small pair first): old, each worker is sent the float64 matrix
//     (a structured clone, 40 MB); new, the stored float32 array in a SharedArrayBuffer (20 MB).
// Each round's order alternates (old first in odd rounds), since the first large call of a process
// pays the WebAssembly memory's growth. At the end, the new path's stages once (the bench's replica).

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
import { timedFactor, timedPair } from './replica';
import { writeNpy } from './synthetic';

const argv = process.argv.slice(2);
const roundsAt = argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 4;
const pythons = argv.flatMap((flag, i) => (flag === '--python' ? [argv[i + 1]] : []));
if (pythons.length === 0) pythons.push('python3');
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
/** The efficient numpy program's seconds (its own timer: factoring + the pair, file reads excluded) per round, by interpreter and thread mode. */
const numpyTimes = new Map<string, { wall: number[]; cpu: number[] }>();
const similarities = new Set<number>();
const maxDiffs: number[] = [];
const dir = mkdtempSync(join(tmpdir(), 'pair-ab-'));
writeNpy(dir, 'a.npy', shape, a);
writeNpy(dir, 'b.npy', shape, b);
const quiet = () => {};
console.log(
  `single pair n = ${n}, m = ${m}, float32 (m, n); ${rounds} rounds; load average at the start ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
try {
  for (let r = 0; r < rounds; r++) {
    const order = (Object.keys(runs) as Variant[]).sort((p, q) =>
      p.startsWith('old') === q.startsWith('old') ? 0 : p.startsWith('old') === (r % 2 === 0) ? -1 : 1,
    );
    for (const name of order) {
      const [w0, c0, l0] = [now(), cpuSeconds(), load()];
      similarities.add(await runs[name]());
      const [wall, cpu] = [now() - w0, cpuSeconds() - c0];
      times[name].wall.push(wall);
      times[name].cpu.push(cpu);
      console.log(`  round ${r + 1} ${name.padEnd(26)} wall ${ms(wall).padStart(8)} · CPU ${ms(cpu).padStart(8)}  (load ${l0})`);
    }
    if (!numpy) continue;
    const [similarity] = similarities;
    for (const python of pythons) {
      const l0 = load();
      const results = runEfficient(
        { ...parseArgs([]), python, numpyThreads: 'both' },
        ['--pair', join(dir, 'a.npy'), join(dir, 'b.npy')],
        2,
        1,
        () => similarity,
        quiet,
      );
      for (const e of results) {
        if (!e.ok) throw new Error(`the efficient numpy program failed (${python}): ${e.error}`);
        const key = `numpy ${e.threads === '1' ? '1 thread' : 'default threads'} (${python})`;
        if (!numpyTimes.has(key)) numpyTimes.set(key, { wall: [], cpu: [] });
        numpyTimes.get(key)!.wall.push(e.seconds);
        numpyTimes.get(key)!.cpu.push(e.cpuSeconds);
        if (e.maxAbsDiff !== null) maxDiffs.push(e.maxAbsDiff);
        console.log(`  round ${r + 1} ${key.padEnd(26)} wall ${ms(e.seconds).padStart(8)} · CPU ${ms(e.cpuSeconds).padStart(8)}  (load ${l0})`);
      }
    }
  }
} finally {
  pool.close();
  rmSync(dir, { recursive: true, force: true });
}
const [similarity] = similarities;
console.log(
  `similarities: ${similarities.size === 1 ? `bit-identical on every path and round (${similarity.toPrecision(17)})` : `DIFFER: ${[...similarities].join(', ')}`}`,
);
if (maxDiffs.length > 0) console.log(`numpy's similarity differs from ours by at most ${Math.max(...maxDiffs).toExponential(1)}`);
const all = new Map<string, { wall: number[]; cpu: number[] }>([...Object.entries(times), ...numpyTimes]);
for (const [name, t] of all) {
  console.log(`${name.padEnd(40)} median wall ${ms(median(t.wall)).padStart(8)} · CPU ${ms(median(t.cpu)).padStart(8)}; best wall ${ms(Math.min(...t.wall))}`);
}
for (const [next, previous] of [
  ['new, 1 thread', 'old, 1 thread'],
  ['new, pool of 2', 'old, pool of 2'],
] as const) {
  const perRound = times[next].wall.map((w, r) => times[previous].wall[r] / w);
  console.log(
    `${next} vs ${previous}: ${(median(times[previous].wall) / median(times[next].wall)).toFixed(2)}× faster (medians); per round ${perRound.map((x) => x.toFixed(2)).join(', ')}`,
  );
}
// The target: ours ≥ 0.5× the efficient program's speed, against its faster thread mode, per round (same load) and on the medians.
for (const python of pythons) {
  const modes = [...numpyTimes].filter(([key]) => key.endsWith(`(${python})`)).map(([, t]) => t);
  if (modes.length === 0) continue;
  const fastest = modes[0].wall.map((_, r) => Math.min(...modes.map((t) => t.wall[r])));
  for (const name of Object.keys(runs) as Variant[]) {
    const perRound = fastest.map((f, r) => f / times[name].wall[r]);
    console.log(
      `${name.padEnd(15)} ÷ efficient numpy (${python}, faster mode): ${(median(fastest) / median(times[name].wall)).toFixed(2)}× its speed (medians); per round ${perRound.map((x) => x.toFixed(2)).join(', ')}`,
    );
  }
}
// Where the new path's time goes: the instrumented replica (scripts/bench/replica.ts) on both layers,
// twice: its first call centres into a fresh scratch buffer (page faults the engine paid once, when
// its WebAssembly memory grew in round 1), the second into the same buffer.
for (const call of ['first', 'second']) {
  const stages = [timedFactor('a.npy', activation('a.npy', a).array), timedFactor('b.npy', activation('b.npy', b).array)];
  const pairTime = timedPair(stages[0].factor, stages[1].factor);
  const stageNames = ['prepare', 'centre', 'gram', 'eigen', 'project'] as const;
  console.log(
    `stages (replica, ${call} call, both layers, load ${load()}): ${stageNames.map((k) => `${k} ${ms(stages[0].seconds[k] + stages[1].seconds[k])}`).join(' · ')} · pair ${ms(pairTime.seconds.cross + pairTime.seconds.small)}`,
  );
}
console.log(
  `load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
