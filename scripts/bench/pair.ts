// Job (a): one SVCCA pair through the engine, and the same pair in the numpy reference.

import { loadavg } from 'node:os';
import { join } from 'node:path';

import { comparePair } from '../../src/analysis/engine';
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
    numpy,
    efficient,
    speedup,
    loadavg: { start: loadStart, end: loadavg() },
  };
}
