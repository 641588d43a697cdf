// `--threads N` (default: one per core, as the CLI runs): the learning-dynamics jobs once more on the
// CPU pool of N worker threads (src/analysis/pool), in the same run as the one-thread job, with wall
// and CPU seconds of both (CPU: process.cpuUsage, which counts every thread of the process) and a
// check that every value is bit-identical to the one-thread job's. The generation of the synthetic checkpoints is subtracted from both clocks (the
// engine loads a checkpoint before factoring it, so no worker computes while one is generated).
// The pool's workers are started and warmed up (JIT) on a small job first, as the one-thread path is.

import { computeDynamics } from '../../src/analysis/engine';
import { createNodePool } from '../../src/analysis/pool/node';
import type { ComputeBackend } from '../../src/analysis/backend';
import type { DynamicsResult } from '../../src/analysis/types';
import { DEFAULT_GENERATOR, formatSeconds } from '../bench-data';
import { now, OPTIONS } from './args';
import { syntheticJob } from './synthetic';

export interface ThreadsRun {
  threads: number;
  wallSeconds: number;
  cpuSeconds: number;
}

export interface ThreadsComparison {
  one: ThreadsRun;
  pooled: ThreadsRun;
  /** one.wall / pooled.wall: > 1 is faster on the pool. */
  wallSpeedup: number;
  /** pooled.cpu / one.cpu: the pool's overhead in CPU time (copies, messages). */
  cpuRatio: number;
  identical: boolean;
}

type Job = ReturnType<typeof syntheticJob>;

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

/** One engine run, clocked: wall and CPU seconds without the generation of checkpoints. */
async function clockedDynamics(job: Job, backend?: ComputeBackend): Promise<{ result: DynamicsResult } & Omit<ThreadsRun, 'threads'>> {
  const generation = { wall: 0, cpu: 0 };
  const entries = job.bundle.entries.map((entry) => ({
    ...entry,
    load: async () => {
      const [wall, cpu] = [now(), process.cpuUsage()];
      const array = await entry.load();
      generation.wall += now() - wall;
      generation.cpu += cpuSeconds(cpu);
      return array;
    },
  }));
  const cpuStart = process.cpuUsage();
  const start = now();
  const result = await computeDynamics({ bundle: { ...job.bundle, entries } }, OPTIONS, {}, backend);
  const wall = now() - start;
  return { result, wallSeconds: wall - generation.wall, cpuSeconds: cpuSeconds(cpuStart) - generation.cpu };
}

/**
 * The job on a pool of `threads`, after the one-thread run of the same job in this process (`single`:
 * its values, and its wall and CPU seconds with the generation of checkpoints subtracted).
 */
export async function compareThreads(
  job: Job,
  threads: number,
  single: { values: DynamicsResult['values']; wallSeconds: number; cpuSeconds: number },
  log: (s: string) => void,
): Promise<ThreadsComparison> {
  const pool = createNodePool(threads);
  try {
    log(`  ours on a CPU pool of ${threads} threads (the CLI's default), wall and CPU time…`);
    const warm = syntheticJob({ ...DEFAULT_GENERATOR, widths: [40, 64, 48], steps: 2, datapoints: 600 }, null, () => false);
    await computeDynamics({ bundle: warm.bundle }, OPTIONS, {}, pool);
    const pooled = await clockedDynamics(job, pool);
    const one: ThreadsRun = { threads: 1, wallSeconds: single.wallSeconds, cpuSeconds: single.cpuSeconds };
    const run: ThreadsRun = { threads, wallSeconds: pooled.wallSeconds, cpuSeconds: pooled.cpuSeconds };
    const identical = JSON.stringify(pooled.result.values) === JSON.stringify(single.values);
    const comparison = { one, pooled: run, wallSpeedup: one.wallSeconds / run.wallSeconds, cpuRatio: run.cpuSeconds / one.cpuSeconds, identical };
    log(
      `    1 thread: wall ${formatSeconds(one.wallSeconds)}, CPU ${formatSeconds(one.cpuSeconds)}; ${threads} threads: wall ${formatSeconds(run.wallSeconds)}, CPU ${formatSeconds(run.cpuSeconds)}` +
        ` — wall ×${comparison.wallSpeedup.toFixed(2)}, CPU ×${comparison.cpuRatio.toFixed(2)}; values ${identical ? 'bit-identical' : 'DIFFER'}`,
    );
    return comparison;
  } finally {
    pool.close();
  }
}
