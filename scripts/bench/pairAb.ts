// `node bin/run-ts.mjs scripts/bench/pairAb.ts [--rounds N]`: the single pair's factor, the
// resident (fused) path against the copy path, alternated in ONE process (median of N rounds; CPU
// seconds of the process beside wall), then comparePair (the engine, one thread) as the bench's pair
// job calls it. n = 512 neurons, m = 10 000 datapoints, float32 (m, n) datapoints-first as the bench.
//   - copy path: svdStepTop (centred copy into the scratch buffer, copied into WebAssembly memory in
//     chunks for the Gram) + svccaFactorFromStep (copied in again for U_kᵀ·Xc);
//   - resident path: svccaFactor (centred once, straight into WebAssembly memory; both products read it there).

import { comparePair } from '../../src/analysis/engine';
import { svccaFactor, svccaFactorFromStep, svdStepTop, type KeepRule, type SvccaFactor } from '../../src/math/cca';
import type { Matrix } from '../../src/math/matrix';
import { ActivationGenerator, DEFAULT_GENERATOR } from '../bench-data';
import { cpuSeconds, now, OPTIONS } from './args';

const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 6;
const n = 512;
const m = 10_000;
const epsilon = OPTIONS.epsilon;
const keep = OPTIONS.keep;

const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n, n], steps: 1, datapoints: m });
const a = gen.generate(0, 0); // (m, n) float32
const b = gen.generate(1, 0);
const x: Matrix = { rows: n, cols: m, data: new Float64Array(n * m) };
for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) x.data[i * m + j] = a[j * n + i];

const copyPath = (): SvccaFactor => {
  const step = svdStepTop(x, keep, true);
  return svccaFactorFromStep(step, step.k, epsilon);
};
const residentPath = (): SvccaFactor => svccaFactor(x, keep, epsilon);

const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
const times: Record<string, { wall: number[]; cpu: number[] }> = { copy: { wall: [], cpu: [] }, resident: { wall: [], cpu: [] } };
let same = true;
for (let r = 0; r < rounds; r++) {
  const results: Record<string, SvccaFactor> = {};
  for (const [name, run] of [
    ['copy', copyPath],
    ['resident', residentPath],
  ] as const) {
    const [w0, c0] = [now(), cpuSeconds()];
    results[name] = run();
    times[name].wall.push(now() - w0);
    times[name].cpu.push(cpuSeconds() - c0);
  }
  const [p, q] = [results.copy.cca.z.data, results.resident.cca.z.data];
  same &&= p.length === q.length && p.every((v, i) => Object.is(v, q[i]));
}
const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
for (const name of ['copy', 'resident']) {
  console.log(
    `svccaFactor ${name.padEnd(8)} median wall ${ms(median(times[name].wall))} · CPU ${ms(median(times[name].cpu))}  (walls: ${times[name].wall.map(ms).join(', ')})`,
  );
}
console.log(`factors bit-identical: ${same}`);

const shape = [m, n];
for (let r = 0; r < 3; r++) {
  const [w0, c0] = [now(), cpuSeconds()];
  const result = await comparePair(
    { name: 'a.npy', array: { shape, dtype: '<f4', data: a } },
    { name: 'b.npy', array: { shape, dtype: '<f4', data: b } },
    OPTIONS,
  );
  console.log(`comparePair (1 thread) call ${r + 1}: wall ${ms(now() - w0)} · CPU ${ms(cpuSeconds() - c0)} (similarity ${result.similarity.toFixed(12)})`);
}
