// The numpy reference (scripts/reference_pairwise.py, pair by pair), run with numpy's default
// threads and with one thread, and its figures for a job.

import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';

import { median, referencePairFlops, sum } from '../bench-data';
import { now, REFERENCE_SCRIPT, type Args } from './args';

export interface ReferencePair {
  id: number | string | null;
  a: string;
  b: string;
  seconds: number;
  similarity: number;
  mean98: number;
  k: [number, number];
  dropped: [number, number];
}

interface ReferenceOutput {
  environment: Record<string, unknown>;
  pairsListed: number;
  pairsDone: number;
  totalSeconds: number;
  wallSeconds: number;
  pairs: ReferencePair[];
}

export type ThreadMode = 'default' | '1';

export interface ReferenceRun {
  threads: ThreadMode;
  ok: boolean;
  error?: string;
  output?: ReferenceOutput;
  processSeconds: number;
}

const THREAD_VARIABLES = ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS'];

export function runReference(python: string, args: string[], threads: ThreadMode, script = REFERENCE_SCRIPT): ReferenceRun {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of THREAD_VARIABLES) {
    if (threads === '1') env[name] = '1';
    else delete env[name];
  }
  const start = now();
  const child = spawnSync(python, [script, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const processSeconds = now() - start;
  if (child.error) return { threads, ok: false, error: String(child.error.message), processSeconds };
  if (child.status !== 0)
    return { threads, ok: false, error: `exit ${child.status}: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`, processSeconds };
  try {
    return { threads, ok: true, output: JSON.parse(child.stdout) as ReferenceOutput, processSeconds };
  } catch (error) {
    return { threads, ok: false, error: `unreadable output: ${(error as Error).message}`, processSeconds };
  }
}

export function threadModes(args: Args): ThreadMode[] {
  if (!args.reference) return [];
  return args.numpyThreads === 'both' ? ['default', '1'] : [args.numpyThreads];
}

/** numpy's figures for a job: measured on the pairs done, extrapolated to `totalPairs` when fewer. */
export interface NumpyJobResult {
  threads: ThreadMode;
  ok: boolean;
  error?: string;
  pairsDone: number;
  pairsListed: number;
  totalPairs: number;
  extrapolated: boolean;
  label: string;
  measuredSeconds: number;
  /** For the whole job (extrapolated when extrapolated). */
  seconds: number;
  medianPairSeconds: number;
  flops: number;
  gflops: number;
  processSeconds: number;
  maxAbsDiff: number | null;
  kRange: [number, number] | null;
  environment?: Record<string, unknown>;
  loadavg: number[];
}

export function numpyJobResult(
  run: ReferenceRun,
  totalPairs: number,
  shapeOf: (pair: ReferencePair) => { n1: number; n2: number; m: number },
  ours: (pair: ReferencePair) => number | null,
): NumpyJobResult {
  const base = { threads: run.threads, processSeconds: run.processSeconds, loadavg: loadavg() };
  if (!run.ok || !run.output || run.output.pairsDone === 0) {
    return {
      ...base,
      ok: false,
      error: run.error ?? 'no pair finished',
      pairsDone: 0,
      pairsListed: run.output?.pairsListed ?? 0,
      totalPairs,
      extrapolated: false,
      label: 'failed',
      measuredSeconds: NaN,
      seconds: NaN,
      medianPairSeconds: NaN,
      flops: NaN,
      gflops: NaN,
      maxAbsDiff: null,
      kRange: null,
    };
  }
  const out = run.output;
  const done = out.pairs;
  const measured = sum(done.map((p) => p.seconds));
  const flopsDone = sum(
    done.map((p) => {
      const { n1, n2, m } = shapeOf(p);
      return referencePairFlops(n1, n2, m, p.k[0], p.k[1]).total;
    }),
  );
  const extrapolated = done.length < totalPairs;
  const scale = totalPairs / done.length;
  let maxAbsDiff: number | null = null;
  for (const p of done) {
    const mine = ours(p);
    if (mine === null) continue;
    maxAbsDiff = Math.max(maxAbsDiff ?? 0, Math.abs(mine - p.similarity));
  }
  const ks = done.flatMap((p) => p.k);
  return {
    ...base,
    ok: true,
    pairsDone: done.length,
    pairsListed: out.pairsListed,
    totalPairs,
    extrapolated,
    label: extrapolated ? `extrapolated from ${done.length} sampled pairs` : `all ${totalPairs} pairs`,
    measuredSeconds: measured,
    seconds: measured * scale,
    medianPairSeconds: median(done.map((p) => p.seconds)),
    flops: flopsDone * scale,
    gflops: (flopsDone * scale) / (measured * scale) / 1e9,
    maxAbsDiff,
    kRange: [Math.min(...ks), Math.max(...ks)],
    environment: out.environment,
  };
}
