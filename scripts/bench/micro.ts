// Micro-kernels: Gram X·Xᵀ, the two eigensolvers, projection and the pair product, each timed on
// its own (best of a few repeats), and the event loop's yield latency.

import { prepare } from '../../src/analysis/prepare';
import type { NdArray } from '../../src/io/types';
import { jacobiEigen, tridiagonalEigen } from '../../src/math/eigen';
import { centerRows, multiplyABt, type Matrix } from '../../src/math/matrix';
import { ActivationGenerator, DEFAULT_GENERATOR, formatSeconds, oursFactorFlops, oursPairFlops } from '../bench-data';
import { now, OPTIONS, type Config } from './args';
import { timedFactor, timedPair, type TimedFactor } from './replica';

export interface MicroResult {
  n: number;
  m: number;
  k: number;
  prepareSeconds: number;
  centreSeconds: number;
  gramSeconds: number;
  gramFlops: number;
  gramGflops: number;
  tridiagonalSeconds: number;
  tridiagonalGflopsEstimate: number;
  /** The engine's SVD step eigensolver: every eigenvalue, the kept k eigenvectors (symmetricTopEigen). */
  topEigenSeconds: number;
  jacobiSeconds: number | null;
  jacobiSweeps: number | null;
  jacobiGflops: number | null;
  jacobiVsTridiagonal: number | null;
  eigenAgreement: number | null;
  projectSeconds: number;
  projectFlops: number;
  projectGflops: number;
  pairSeconds: number;
  pairFlops: number;
  pairGflops: number;
  repeats: number;
}

function best<T>(repeats: number, run: () => T, seconds: (r: T) => number): T {
  let kept: T | null = null;
  for (let i = 0; i < repeats; i++) {
    const r = run();
    if (kept === null || seconds(r) < seconds(kept)) kept = r;
  }
  return kept as T;
}

function microKernels(array: NdArray, repeats: number, jacobi: boolean): { micro: MicroResult; factor: TimedFactor } {
  const factor = best(
    repeats,
    () => timedFactor('micro', array),
    (f) => f.seconds.gram + f.seconds.eigen + f.seconds.project,
  );
  const { n, m, k, gram } = factor;
  const tri = best(
    repeats,
    () => {
      const s = now();
      const r = tridiagonalEigen(gram);
      return { r, seconds: now() - s };
    },
    (x) => x.seconds,
  );
  let jac: { seconds: number; sweeps: number; agreement: number } | null = null;
  if (jacobi) {
    const s = now();
    const r = jacobiEigen(gram);
    const seconds = now() - s;
    let agreement = 0;
    for (let i = 0; i < n; i++) agreement = Math.max(agreement, Math.abs(r.values[i] - tri.r.values[i]) / Math.abs(tri.r.values[0]));
    jac = { seconds, sweeps: r.iterations, agreement };
  }
  const pair = best(
    repeats,
    () => timedPair(factor.factor, factor.factor),
    (p) => p.seconds.cross + p.seconds.small,
  );
  const f = oursFactorFlops(n, m, k);
  const pf = oursPairFlops(factor.factor.z.rows, factor.factor.z.rows, m);
  const eigenTri = 9 * n ** 3;
  const jacobiFlops = jac ? 6 * n * n * (n - 1) * jac.sweeps : null;
  return {
    factor,
    micro: {
      n,
      m,
      k,
      prepareSeconds: factor.seconds.prepare,
      centreSeconds: factor.seconds.centre,
      gramSeconds: factor.seconds.gram,
      gramFlops: f.gram,
      gramGflops: f.gram / factor.seconds.gram / 1e9,
      tridiagonalSeconds: tri.seconds,
      tridiagonalGflopsEstimate: eigenTri / tri.seconds / 1e9,
      topEigenSeconds: factor.seconds.eigen,
      jacobiSeconds: jac?.seconds ?? null,
      jacobiSweeps: jac?.sweeps ?? null,
      jacobiGflops: jac && jacobiFlops !== null ? jacobiFlops / jac.seconds / 1e9 : null,
      jacobiVsTridiagonal: jac ? jac.seconds / tri.seconds : null,
      eigenAgreement: jac?.agreement ?? null,
      projectSeconds: factor.seconds.project,
      projectFlops: f.project + f.whiten,
      projectGflops: (f.project + f.whiten) / factor.seconds.project / 1e9,
      pairSeconds: pair.seconds.cross + pair.seconds.small,
      pairFlops: pf.total,
      pairGflops: pf.total / (pair.seconds.cross + pair.seconds.small) / 1e9,
      repeats,
    },
  };
}

export async function yieldLatency(): Promise<number> {
  const count = 20;
  const start = now();
  for (let i = 0; i < count; i++) await new Promise<void>((r) => setTimeout(r, 0));
  return (now() - start) / count;
}

/** The micro-kernels at every configured size (the largest is side A of job (a), instrumented), then
 *  the eigensolvers alone at the Jacobi sizes that are not among them. */
export function runMicroKernels(
  config: Config,
  pairGen: ActivationGenerator,
  log: (s: string) => void,
): { micro: MicroResult[]; pairStages: TimedFactor | null; jacobiExtra: EigenOnlyResult[] } {
  const micro: MicroResult[] = [];
  let pairStages: TimedFactor | null = null;
  for (const [n, m] of config.micro.sizes) {
    const isPair = n === config.pair.n && m === config.pair.m;
    const gen = isPair ? pairGen : new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n], steps: 1, datapoints: m });
    const data = gen.generate(0, 0);
    const repeats = n * n * m > 1e9 ? 1 : n * n * m > 2e8 ? 2 : 3;
    const jacobi = config.micro.jacobi.includes(n);
    const { micro: r, factor } = microKernels({ shape: [m, n], dtype: '<f4', data }, repeats, jacobi);
    if (isPair) pairStages = factor;
    micro.push(r);
    log(
      `  ${n}×${m}: Gram ${formatSeconds(r.gramSeconds)} (${r.gramGflops.toFixed(2)} GFLOP/s), tridiagonal eigen ${formatSeconds(r.tridiagonalSeconds)}` +
        (r.jacobiSeconds !== null ? `, Jacobi ${formatSeconds(r.jacobiSeconds)} (${r.jacobiSweeps} sweeps)` : '') +
        `, projection k=${r.k} ${formatSeconds(r.projectSeconds)} (${r.projectGflops.toFixed(2)} GFLOP/s)`,
    );
  }
  // Jacobi-only sizes (not among the Gram sizes).
  const jacobiExtra: EigenOnlyResult[] = [];
  for (const n of config.micro.jacobi) {
    if (config.micro.sizes.some(([size]) => size === n)) continue;
    const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n], steps: 1, datapoints: 4 * n });
    const p = prepare({ name: 'j', array: { shape: [4 * n, n], dtype: '<f4', data: gen.generate(0, 0) } }, OPTIONS, 4 * n);
    if (p.rep.kind !== 'dense') continue;
    const c = centerRows(p.rep.x).centered;
    const g = multiplyABt(c, c);
    let s = now();
    const jr = jacobiEigen(g);
    const js = now() - s;
    s = now();
    tridiagonalEigen(g);
    const ts = now() - s;
    jacobiExtra.push({ n, jacobiSeconds: js, sweeps: jr.iterations, tridiagonalSeconds: ts });
    log(`  eigen n=${n}: tridiagonal ${formatSeconds(ts)}, Jacobi ${formatSeconds(js)} (${jr.iterations} sweeps)`);
  }
  return { micro, pairStages, jacobiExtra };
}

export interface EigenOnlyResult {
  n: number;
  jacobiSeconds: number;
  sweeps: number;
  tridiagonalSeconds: number;
}

export function randomSquare(n: number): Matrix {
  const g = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n], steps: 1, datapoints: n });
  return { rows: n, cols: n, data: Float64Array.from(g.generate(0, 0)) };
}
