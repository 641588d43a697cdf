// `--threads N`: the learning-dynamics jobs once more on the CPU pool of N worker threads
// (src/analysis/pool), in the same run as the one-thread job, with wall and CPU seconds of both
// (CPU: process.cpuUsage, which counts every thread of the process) and a check that every value is
// bit-identical. Generation of the synthetic checkpoints is subtracted from both clocks.

import { computeDynamics } from '../../src/analysis/engine';
import { createNodePool } from '../../src/analysis/pool/node';
import type { ComputeBackend } from '../../src/analysis/backend';
import type { DynamicsResult } from '../../src/analysis/types';
import { formatSeconds, sum } from '../bench-data';
import { now, OPTIONS } from './args';
import type { syntheticJob } from './synthetic';

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
  /** pooled.cpu / one.cpu: the pool's overhead in CPU time (copies, start-up, idle spinning). */
  cpuRatio: number;
  identical: boolean;
}

type Job = ReturnType<typeof syntheticJob>;

/** One engine run, clocked: wall and CPU seconds without the generation of checkpoints. */
export async function clockedDynamics(job: Job, backend?: ComputeBackend): Promise<{ result: DynamicsResult; wallSeconds: number; cpuSeconds: number }> {
  const loadsBefore = job.loads.length;
  const cpuStart = process.cpuUsage();
  const start = now();
  const result = await computeDynamics({ bundle: job.bundle }, OPTIONS, {}, backend);
  const wall = now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const generation = sum(job.loads.slice(loadsBefore).map((l) => l.end - l.start));
  return { result, wallSeconds: wall - generation, cpuSeconds: (cpu.user + cpu.system) / 1e6 - generation };
}

export async function compareThreads(
  job: Job,
  one: DynamicsResult,
  oneClock: ThreadsRun,
  threads: number,
  log: (s: string) => void,
): Promise<ThreadsComparison> {
  const pool = createNodePool(threads);
  try {
    log(`  ours on ${threads} threads (CPU pool)…`);
    const pooled = await clockedDynamics(job, pool);
    const identical = JSON.stringify(pooled.result.values) === JSON.stringify(one.values);
    const run: ThreadsRun = { threads, wallSeconds: pooled.wallSeconds, cpuSeconds: pooled.cpuSeconds };
    const comparison = {
      one: oneClock,
      pooled: run,
      wallSpeedup: oneClock.wallSeconds / run.wallSeconds,
      cpuRatio: run.cpuSeconds / oneClock.cpuSeconds,
      identical,
    };
    log(
      `    1 thread: wall ${formatSeconds(oneClock.wallSeconds)}, CPU ${formatSeconds(oneClock.cpuSeconds)}; ${threads} threads: wall ${formatSeconds(run.wallSeconds)}, CPU ${formatSeconds(run.cpuSeconds)}` +
        ` — wall ×${comparison.wallSpeedup.toFixed(2)} faster, CPU ×${comparison.cpuRatio.toFixed(2)}; values ${identical ? 'bit-identical' : 'DIFFER'}`,
    );
    return comparison;
  } finally {
    pool.close();
  }
}
