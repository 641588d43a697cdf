// The efficient numpy program (scripts/efficient_numpy.py: factor every representation once with
// BLAS + LAPACK, then one small SVD per pair — our engine's algorithm), run on the same files and
// pairs as the reference, and its figures for a job. Where the job lists a sample of the pairs, the
// measured factor and pair times are scaled separately to all representations and all pairs.

import { formatSeconds } from '../bench-data';
import { EFFICIENT_SCRIPT, type Args } from './args';
import { runReference, threadModes, type ReferencePair, type ThreadMode } from './reference';

interface EfficientOutput {
  environment: Record<string, unknown>;
  pairsDone: number;
  factorsDone: number;
  factorSeconds: number;
  pairSeconds: number;
  wallSeconds: number;
  factorCpuSeconds: number;
  pairCpuSeconds: number;
  cpuSeconds: number;
  pairs: ReferencePair[];
}

export interface EfficientJobResult {
  threads: ThreadMode;
  ok: boolean;
  error?: string;
  factorsDone: number;
  totalRepresentations: number;
  pairsDone: number;
  totalPairs: number;
  extrapolated: boolean;
  label: string;
  /** Measured: factoring + pairs (reading the files excluded). */
  measuredSeconds: number;
  /** For the whole job (extrapolated when extrapolated). */
  seconds: number;
  /** CPU seconds (all BLAS threads) of the whole job, extrapolated like `seconds`; measured: of the timed part. */
  cpuSeconds: number;
  measuredCpuSeconds: number;
  /** Wall seconds of the run (file reads included). */
  wallSeconds: number;
  maxAbsDiff: number | null;
}

/** Runs efficient_numpy.py in each thread mode of the bench on `scriptArgs` (--pair or --job). */
export function runEfficient(
  args: Args,
  scriptArgs: string[],
  totalRepresentations: number,
  totalPairs: number,
  ours: (pair: ReferencePair) => number | null,
  log: (s: string) => void,
): EfficientJobResult[] {
  return threadModes(args).map((mode) => {
    log(`  efficient numpy (${mode === 'default' ? 'default threads' : '1 thread'}, factor once)…`);
    const run = runReference(args.python, scriptArgs, mode, EFFICIENT_SCRIPT);
    const out = run.output as unknown as EfficientOutput | undefined;
    if (!run.ok || !out || out.pairsDone === 0) {
      const error = run.error ?? 'no pair finished';
      log(`    failed: ${error}`);
      return {
        threads: mode,
        ok: false,
        error,
        factorsDone: 0,
        totalRepresentations,
        pairsDone: 0,
        totalPairs,
        extrapolated: false,
        label: 'failed',
        measuredSeconds: NaN,
        seconds: NaN,
        cpuSeconds: NaN,
        measuredCpuSeconds: NaN,
        wallSeconds: NaN,
        maxAbsDiff: null,
      };
    }
    const extrapolated = out.factorsDone < totalRepresentations || out.pairsDone < totalPairs;
    const scaled = (factor: number, pair: number) => (factor / out.factorsDone) * totalRepresentations + (pair / out.pairsDone) * totalPairs;
    const seconds = scaled(out.factorSeconds, out.pairSeconds);
    const cpuSeconds = scaled(out.factorCpuSeconds, out.pairCpuSeconds);
    let maxAbsDiff: number | null = null;
    for (const p of out.pairs) {
      const mine = ours(p);
      if (mine !== null) maxAbsDiff = Math.max(maxAbsDiff ?? 0, Math.abs(mine - p.similarity));
    }
    const label = extrapolated
      ? `extrapolated from ${out.factorsDone} factored representations and ${out.pairsDone} pairs`
      : `all ${totalRepresentations} representations and ${totalPairs} pairs`;
    log(`    ${formatSeconds(seconds)}, CPU ${formatSeconds(cpuSeconds)} (${label}; run: ${formatSeconds(out.wallSeconds)} wall)`);
    return {
      threads: mode,
      ok: true,
      factorsDone: out.factorsDone,
      totalRepresentations,
      pairsDone: out.pairsDone,
      totalPairs,
      extrapolated,
      label,
      measuredSeconds: out.factorSeconds + out.pairSeconds,
      seconds,
      cpuSeconds,
      measuredCpuSeconds: out.cpuSeconds,
      wallSeconds: out.wallSeconds,
      maxAbsDiff,
    };
  });
}
