// Job (a): one SVCCA pair through the engine, and the same pair in the numpy reference.

import { loadavg } from 'node:os';
import { join } from 'node:path';

import { comparePair } from '../../src/analysis/engine';
import { createNodePool, defaultNodeThreads } from '../../src/analysis/pool/node';
import { loadArrayRef } from '../../src/io/node';
import { ActivationGenerator, formatSeconds, oursFactorFlops, oursPairFlops } from '../bench-data';
import { cpuSeconds, now, OPTIONS, type Args } from './args';
import { runEfficient, type EfficientJobResult } from './efficient';
import { numpyJobResult, runReference, threadModes, type NumpyJobResult, type ThreadMode } from './reference';
import { writeNpy } from './synthetic';

type LoadedArray = Awaited<ReturnType<typeof loadArrayRef>>;

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
  const shape = [m, n];
  // The two layers as files, read back the way `svcca-lens pair a.npy b.npy` reads them (loadArrayRef:
  // into shared memory, which the pool hands to its workers without a copy); numpy reads the same files.
  const dir = join(tmp, 'pair');
  writeNpy(dir, 'a.npy', shape, gen.generate(0, 0));
  writeNpy(dir, 'b.npy', shape, gen.generate(1, 0));
  const [a, b] = await Promise.all([loadArrayRef(join(dir, 'a.npy')), loadArrayRef(join(dir, 'b.npy'))]);
  log(`  ours: comparePair…`);
  const start = now();
  const cpuStart = cpuSeconds();
  const r = await comparePair(a, b, OPTIONS);
  const seconds = now() - start;
  const ourCpu = cpuSeconds() - cpuStart;
  const [k1, k2] = r.kept;
  const flops = oursFactorFlops(n, m, k1).total + oursFactorFlops(n, m, k2).total + oursPairFlops(k1, k2, m).total;
  log(`    ${formatSeconds(seconds)}, CPU ${formatSeconds(ourCpu)} (similarity ${r.similarity.toFixed(6)}, k = ${k1}, ${k2})`);
  const pool = await poolPair(a, b, r.similarity, log);
  const numpy: NumpyJobResult[] = [];
  let efficient: EfficientJobResult[] = [];
  const modes = threadModes(args);
  if (modes.length > 0) {
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
async function poolPair(a: LoadedArray, b: LoadedArray, oneThread: number, log: (s: string) => void): Promise<PairJobResult['pool']> {
  const threads = defaultNodeThreads();
  if (threads < 2) return null;
  const pool = createNodePool(threads);
  try {
    // Start and warm the workers (module load, JIT, WebAssembly compile) on a small pair of the same generator's shape.
    const [m, n] = a.array.shape;
    const small = ({ array }: LoadedArray, name: string) => ({
      name,
      array: { shape: [Math.min(m, 500), Math.min(n, 48)], dtype: '<f4', data: (array.data as Float32Array).slice(0, Math.min(m, 500) * Math.min(n, 48)) },
    });
    await comparePair(small(a, 'wa.npy'), small(b, 'wb.npy'), OPTIONS, pool);
    log(`  ours: comparePair on a pool of ${threads} worker threads (the CLI's default; workers started and warmed)…`);
    const start = now();
    const cpuStart = cpuSeconds();
    const r = await comparePair(a, b, OPTIONS, pool);
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
