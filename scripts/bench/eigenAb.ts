// `node bin/run-ts.mjs scripts/bench/eigenAb.ts [--rounds N]`: SVCCA's eigensolvers before and after
// the top-k step, alternated in ONE process (best of N rounds each; CPU seconds of the process
// beside wall), so that on a shared, noisy machine the ratios compare like with like:
//   - the layer's Gram (n × n, from the bench's synthetic activations, n = 128, 256, 512): the full
//     tridiagonalEigen against symmetricTopEigen keeping the 99% rule's k;
//   - a pair's k × k eigenproblem T·Tᵀ: tridiagonalEigen (vectors, before) against
//     symmetricEigenvalues (values only, reduction in WebAssembly from WASM_REDUCTION_MIN).

import { chooseK } from '../../src/math/cca';
import { symmetricEigenvalues, tridiagonalEigen } from '../../src/math/eigen';
import { symmetricTopEigen } from '../../src/math/eigenTop';
import { centerRows, multiplyABt, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { ActivationGenerator, DEFAULT_GENERATOR, formatSeconds } from '../bench-data';
import { cpuSeconds, KEEP, now } from './args';

const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 5;

/** Best wall and CPU seconds per call over `rounds` rounds of `repeats` calls. */
function best(run: () => void, repeats: number): { wall: number; cpu: number } {
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < rounds; r++) {
    const [w0, c0] = [now(), cpuSeconds()];
    for (let i = 0; i < repeats; i++) run();
    wall = Math.min(wall, (now() - w0) / repeats);
    cpu = Math.min(cpu, (cpuSeconds() - c0) / repeats);
  }
  return { wall, cpu };
}

function layerGram(n: number, m: number): Matrix {
  const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n], steps: 1, datapoints: m });
  const data = gen.generate(0, 0); // (m, n) datapoints first
  const x: Matrix = { rows: n, cols: m, data: new Float64Array(n * m) };
  for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) x.data[i * m + j] = data[j * n + i];
  const { centered } = centerRows(x);
  return multiplyABt(centered, centered);
}

console.log(`eigensolvers, best of ${rounds} rounds, full and top-k alternated (wall · CPU per call)`);
for (const [n, m] of [
  [128, 2000],
  [256, 5000],
  [512, 10000],
]) {
  const gram = layerGram(n, m);
  const pick = (values: Float64Array) =>
    chooseK(
      Array.from(values, (g) => Math.max(g, 0) / (m - 1)),
      { kind: 'variance', fraction: KEEP },
    );
  const repeats = n >= 512 ? 1 : n >= 256 ? 3 : 10;
  const full = best(() => tridiagonalEigen(gram), repeats);
  const top = best(() => symmetricTopEigen(gram, pick), repeats);
  const k = symmetricTopEigen(gram, pick).vectors.rows;
  console.log(
    `  Gram ${n} × ${n} (m = ${m}), k = ${k}: full ${formatSeconds(full.wall)} · ${formatSeconds(full.cpu)}, top-k ${formatSeconds(top.wall)} · ${formatSeconds(top.cpu)}: ${(full.wall / top.wall).toFixed(2)}× (CPU ${(full.cpu / top.cpu).toFixed(2)}×)`,
  );
}
for (const k of [16, 24, 32, 40, 48, 64]) {
  const t = randn(k, k, 2 * k);
  const tt = multiplyABt(t, t);
  const repeats = Math.max(10, Math.round(2e5 / k ** 2));
  const before = best(() => tridiagonalEigen(tt), repeats);
  const after = best(() => symmetricEigenvalues(tt), repeats);
  console.log(
    `  pair eig k = ${k}: with vectors ${formatSeconds(before.wall)}, values only ${formatSeconds(after.wall)}: ${(before.wall / after.wall).toFixed(2)}× (CPU ${(before.cpu / after.cpu).toFixed(2)}×)`,
  );
}
