// Job (a): one SVCCA pair through the engine, and the same pair in the numpy reference.

import { loadavg } from 'node:os';
import { join } from 'node:path';

import { comparePair } from '../../src/analysis/engine';
import { createNodePool, defaultNodeThreads } from '../../src/analysis/pool/node';
import { ActivationGenerator, formatSeconds, oursFactorFlops, oursPairFlops } from '../bench-data';
import { cpuSeconds, now, OPTIONS, type Args } from './args';
import { runEfficient, type EfficientJobResult } from './efficient';
import { numpyJobResult, runReference, threadModes, type NumpyJobResult, type ThreadMode } from './reference';
import { writeNpy } from './synthetic';

export interface PairJobResult {
  label: string;
  n: number;
  m: number;
  ours: { seconds: number; cpuSeconds: number; similarity: number; kept: [number, number]; flops: number; gflops: number };
  /**
   * The same pair through a CPU pool of one worker thread per core, as the CLI runs it by default
   * (the two layers factored in parallel); the pool's workers started and warmed on a small pair
   * first. Null with one core (the pool would run in-process: the figure above).
   */
  pool: { threads: number; seconds: number; cpuSeconds: number; similarity: number; identical: boolean } | null;
  numpy: NumpyJobResult[];
  efficient: EfficientJobResult[];
  speedup: Partial<Record<ThreadMode, number>>;
  loadavg: { start: number[]; end: number[] };
}

export async function pairJob(n: number, m: number, gen: ActivationGenerator, args: Args, tmp: string, log: (s: string) => void): Promise<PairJobResult> {
  const loadStart = loadavg();
  const a = gen.generate(0, 0);
  const b = gen.generate(1, 0);
  const shape = [m, n];
  log(`  ours: comparePair…`);
  const start = now();
  const cpuStart = cpuSeconds();
  const r = await comparePair({ name: 'a.npy', array: { shape, dtype: '<f4', data: a } }, { name: 'b.npy', array: { shape, dtype: '<f4', data: b } }, OPTIONS);
  const seconds = now() - start;
  const ourCpu = cpuSeconds() - cpuStart;
  const [k1, k2] = r.kept;
  const flops = oursFactorFlops(n, m, k1).total + oursFactorFlops(n, m, k2).total + oursPairFlops(k1, k2, m).total;
  log(`    ${formatSeconds(seconds)}, CPU ${formatSeconds(ourCpu)} (similarity ${r.similarity.toFixed(6)}, k = ${k1}, ${k2})`);
  const pool = await poolPair(a, b, shape, r.similarity, log);
  const numpy: NumpyJobResult[] = [];
  let efficient: EfficientJobResult[] = [];
  const modes = threadModes(args);
  if (modes.length > 0) {
    const dir = join(tmp, 'pair');
    writeNpy(dir, 'a.npy', shape, a);
    writeNpy(dir, 'b.npy', shape, b);
    efficient = runEfficient(args, ['--pair', join(dir, 'a.npy'), join(dir, 'b.npy')], 2, 1, () => r.similarity, log);
    for (const mode of modes) {
      log(`  numpy (${mode === 'default' ? 'default threads' : '1 thread'}) --pair…`);
      const run = runReference(args.python, ['--pair', join(dir, 'a.npy'), join(dir, 'b.npy')], mode);
      const result = numpyJobResult(
        run,
        1,
        () => ({ n1: n, n2: n, m }),
        () => r.similarity,
      );
      log(result.ok ? `    ${formatSeconds(result.seconds)}` : `    failed: ${result.error}`);
      numpy.push(result);
    }
  }
  const speedup: Partial<Record<ThreadMode, number>> = {};
  for (const x of numpy) if (x.ok) speedup[x.threads] = x.seconds / seconds;
  return {
    label: '(a) one pair',
    n,
    m,
    ours: { seconds, cpuSeconds: ourCpu, similarity: r.similarity, kept: [k1, k2], flops, gflops: flops / seconds / 1e9 },
    pool,
    numpy,
    efficient,
    speedup,
    loadavg: { start: loadStart, end: loadavg() },
  };
}

/** The pair through a pool of defaultNodeThreads() workers (what `svcca-lens pair` uses by default). */
async function poolPair(a: Float32Array, b: Float32Array, shape: number[], oneThread: number, log: (s: string) => void): Promise<PairJobResult['pool']> {
  const threads = defaultNodeThreads();
  if (threads < 2) return null;
  const pool = createNodePool(threads);
  try {
    // Start and warm the workers (module load, JIT, WebAssembly compile) on a small pair of the same generator's shape.
    const [m, n] = shape;
    const small = (data: Float32Array, name: string) => ({
      name,
      array: { shape: [Math.min(m, 500), Math.min(n, 48)], dtype: '<f4', data: data.subarray(0, Math.min(m, 500) * Math.min(n, 48)) },
    });
    await comparePair(small(a, 'wa.npy'), small(b, 'wb.npy'), OPTIONS, pool);
    log(`  ours: comparePair on a pool of ${threads} worker threads (the CLI's default; workers started and warmed)…`);
    const start = now();
    const cpuStart = cpuSeconds();
    const r = await comparePair(
      { name: 'a.npy', array: { shape, dtype: '<f4', data: a } },
      { name: 'b.npy', array: { shape, dtype: '<f4', data: b } },
      OPTIONS,
      pool,
    );
    const seconds = now() - start;
    const cpu = cpuSeconds() - cpuStart;
    const identical = Object.is(r.similarity, oneThread);
    log(
      `    ${formatSeconds(seconds)}, CPU ${formatSeconds(cpu)} (similarity ${r.similarity.toFixed(6)}, ${identical ? 'bit-identical to 1 thread' : 'DIFFERS from 1 thread'})`,
    );
    return { threads, seconds, cpuSeconds: cpu, similarity: r.similarity, identical };
  } finally {
    pool.close();
  }
}
