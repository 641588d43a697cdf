// Jobs (b) and (c): learning dynamics through the engine, the instrumented replica on some of its
// checkpoints, and the numpy reference on every pair or on a seeded sample.

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { computeDynamics } from '../../src/analysis/engine';
import type { Progress } from '../../src/analysis/types';
import {
  DEFAULT_GENERATOR,
  describeGenerator,
  formatSeconds,
  median,
  oursFactorFlops,
  oursPairFlops,
  sampleIndices,
  sum,
  type GeneratorSpec,
} from '../bench-data';
import { cpuSeconds, KEEP, now, OPTIONS, type Args, type DynamicsConfig } from './args';
import { runEfficient, type EfficientJobResult } from './efficient';
import { numpyJobResult, runReference, threadModes, type NumpyJobResult, type ThreadMode } from './reference';
import { runReplica, type ReplicaResult } from './replica';
import { npyPath, syntheticJob, type LoadEvent } from './synthetic';
import { compareThreads, type ThreadsComparison } from './threads';

interface StageSplit {
  /** Seconds of our engine job (generation and .npy writing subtracted). */
  seconds: number;
  /** CPU seconds of our engine job (user + system; the loads' CPU subtracted likewise). */
  cpuSeconds: number;
  loadSeconds: number;
  wallSeconds: number;
  /** From progress events: rows of pairs with no load in between, × all rows. Includes one event-loop yield per row. */
  pairsSeconds: number;
  /** seconds − pairsSeconds: prepare (checks) + factoring (from centring the stored float32 array). */
  factoringSeconds: number;
  rows: number;
  pureRows: number;
}

function splitFromTimeline(totalWall: number, totalCpu: number, loads: LoadEvent[], progress: { time: number; p: Progress }[], rowsTotal: number): StageSplit {
  const loadSeconds = sum(loads.map((l) => l.end - l.start));
  const cpu = totalCpu - sum(loads.map((l) => l.cpuSeconds));
  const seconds = totalWall - loadSeconds;
  const rowTimes: number[] = [];
  for (let i = 2; i < progress.length; i++) {
    const a = progress[i - 1].time;
    const b = progress[i].time;
    if (loads.some((l) => l.start > a && l.start < b)) continue;
    rowTimes.push(b - a);
  }
  const meanRow = rowTimes.length > 0 ? sum(rowTimes) / rowTimes.length : 0;
  const pairsSeconds = meanRow * rowsTotal;
  return {
    seconds,
    cpuSeconds: cpu,
    loadSeconds,
    wallSeconds: totalWall,
    pairsSeconds,
    factoringSeconds: seconds - pairsSeconds,
    rows: rowsTotal,
    pureRows: rowTimes.length,
  };
}

export interface DynamicsJobResult {
  label: string;
  shape: string;
  layers: number;
  steps: number;
  widths: number[];
  datapoints: number;
  pairs: number;
  generator: string;
  ours: StageSplit & {
    flops: number;
    flopsNote: string;
    gflops: number;
    kStats: { min: number; median: number; max: number };
    replica: ReplicaResult & {
      /** Replica per-rep / per-pair means scaled to the whole job, and the stage fractions they give. */
      projected: Record<string, number>;
      fractions: Record<string, number>;
    };
    diagonal: (number | null)[][]; // values[t][l][l], the convergence curves
  };
  numpy: NumpyJobResult[];
  /** --threads N > 1 (default: one per core): the same job on the CPU pool, in this run. */
  threads: ThreadsComparison | null;
  efficient: EfficientJobResult[];
  speedup: Partial<Record<ThreadMode, number>>;
  loadavg: { start: number[]; end: number[] };
}

export async function dynamicsJob(config: DynamicsConfig, args: Args, tmp: string, log: (s: string) => void): Promise<DynamicsJobResult> {
  const spec: GeneratorSpec = { ...DEFAULT_GENERATOR, widths: config.widths, steps: config.steps, datapoints: config.datapoints };
  const L = spec.widths.length;
  const T = spec.steps;
  const reference = T - 1;
  const totalPairs = T * L * L;
  const loadStart = loadavg();
  // Pairs numpy runs, in a seeded random order (a budget-stopped run is then a random sample).
  const modes = threadModes(args);
  const pairOrder = sampleIndices(totalPairs, config.numpySample ?? totalPairs, 1234 + totalPairs);
  const decode = (index: number) => ({ t: Math.floor(index / (L * L)), i: Math.floor(index / L) % L, j: index % L });
  const needed = new Set<string>();
  for (const index of pairOrder) {
    const { t, i, j } = decode(index);
    needed.add(`${t}/${i}`);
    needed.add(`${reference}/${j}`);
  }
  const dataDir = join(tmp, config.label.replace(/[^a-z0-9]+/gi, '_'));
  const job = syntheticJob(spec, modes.length > 0 ? dataDir : null, (t, l) => needed.has(`${t}/${l}`));

  // Ours: the engine, end to end.
  log(`  ours: computeDynamics on ${T} steps × ${L} layers (${totalPairs} pairs)…`);
  const progress: { time: number; p: Progress }[] = [];
  const start = now();
  const cpuStart = cpuSeconds();
  const result = await computeDynamics({ bundle: job.bundle }, OPTIONS, { onProgress: (p) => progress.push({ time: now(), p }) });
  const wall = now() - start;
  const split = splitFromTimeline(wall, cpuSeconds() - cpuStart, job.loads, progress, T * L);
  log(
    `    ${formatSeconds(split.seconds)}, CPU ${formatSeconds(split.cpuSeconds)} (wall ${formatSeconds(wall)}, generation + .npy writing ${formatSeconds(split.loadSeconds)} subtracted)`,
  );
  const threads =
    args.threads > 1 ? await compareThreads(job, args.threads, { values: result.values, wallSeconds: split.seconds, cpuSeconds: split.cpuSeconds }, log) : null;

  // Instrumented replica.
  const replicaSteps = config.replicaSteps === 'all' ? Array.from({ length: T }, (_, t) => t) : config.replicaSteps.filter((t) => t < T);
  log(`  ours, instrumented replica on step(s) ${[...new Set([reference, ...replicaSteps])].join(', ')}…`);
  const replica = runReplica(job, spec, replicaSteps, result.values);
  const repsInReplica = replica.reps;
  const perRep = (s: number) => s / repsInReplica;
  const perPair = (s: number) => (replica.pairs > 0 ? s / replica.pairs : 0);
  const projected: Record<string, number> = {
    prepare: perRep(replica.factor.prepare) * T * L,
    centre: perRep(replica.factor.centre) * T * L,
    gram: perRep(replica.factor.gram) * T * L,
    eigen: perRep(replica.factor.eigen) * T * L,
    project: perRep(replica.factor.project) * T * L,
    pairCross: perPair(replica.pair.cross) * totalPairs,
    pairSmall: perPair(replica.pair.small) * totalPairs,
  };
  const projectedTotal = sum(Object.values(projected));
  const fractions = Object.fromEntries(Object.entries(projected).map(([key, v]) => [key, v / projectedTotal]));
  projected.total = projectedTotal;
  log(`    replica: ${replica.reps} reps, ${replica.pairs} pairs; values vs engine max |Δ| = ${replica.maxDiffVsEngine.toExponential(1)}`);

  // FLOPs of our job, with k of every representation: measured where the replica factored it;
  // elsewhere the reference step's k of the same layer (every step has the same population spectrum).
  const kOf = (t: number, l: number) => {
    const at = replica.steps.indexOf(t);
    return at >= 0 ? replica.k[at][l] : replica.k[0][l];
  };
  let flops = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) flops += oursFactorFlops(spec.widths[l], spec.datapoints, kOf(t, l)).total; // each representation once
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) flops += oursPairFlops(kOf(t, i), kOf(reference, j), spec.datapoints).total;
  }
  const measuredAll = config.replicaSteps === 'all';
  const flopsNote = measuredAll
    ? 'k of every representation measured (instrumented replica)'
    : `k measured at steps ${replica.steps.join(', ')}; other steps use the reference step's k per layer (same population spectrum)`;
  const allK = replica.k.flat();

  // numpy.
  const numpy: NumpyJobResult[] = [];
  let efficient: EfficientJobResult[] = [];
  if (modes.length > 0) {
    const pairs = pairOrder.map((index) => {
      const { t, i, j } = decode(index);
      return { id: index, a: npyPath(t, i), b: npyPath(reference, j) };
    });
    const jobFile = join(dataDir, 'job.json');
    writeFileSync(jobFile, JSON.stringify({ root: dataDir, epsilon: OPTIONS.epsilon, keep: KEEP, pairs }));
    efficient = runEfficient(
      args,
      ['--job', jobFile],
      T * L,
      totalPairs,
      (p) => {
        const { t, i, j } = decode(Number(p.id));
        return result.values[t][i][j];
      },
      log,
    );
    for (const mode of modes) {
      const budget = mode === 'default' ? config.numpyBudget.default : config.numpyBudget.one;
      log(`  numpy (${mode === 'default' ? 'default threads' : '1 thread'}): ${pairs.length} pairs listed, budget ${budget} s…`);
      const run = runReference(args.python, ['--job', jobFile, '--max-seconds', String(budget)], mode);
      const r = numpyJobResult(
        run,
        totalPairs,
        (p) => {
          const { t, i, j } = decode(Number(p.id));
          void t;
          return { n1: spec.widths[i], n2: spec.widths[j], m: spec.datapoints };
        },
        (p) => {
          const { t, i, j } = decode(Number(p.id));
          return result.values[t][i][j];
        },
      );
      log(r.ok ? `    ${formatSeconds(r.seconds)} (${r.label}; median ${formatSeconds(r.medianPairSeconds)} per pair)` : `    failed: ${r.error}`);
      numpy.push(r);
    }
  }

  const speedup: Partial<Record<ThreadMode, number>> = {};
  for (const r of numpy) if (r.ok) speedup[r.threads] = r.seconds / split.seconds;
  const widthText = new Set(spec.widths).size === 1 ? `n=${spec.widths[0]}` : `n≤${Math.max(...spec.widths)}`;
  return {
    label: config.label,
    shape: `${L} layers × ${T} steps, ${widthText}, m=${spec.datapoints}`,
    layers: L,
    steps: T,
    widths: spec.widths,
    datapoints: spec.datapoints,
    pairs: totalPairs,
    generator: describeGenerator(spec),
    ours: {
      ...split,
      flops,
      flopsNote,
      gflops: flops / split.seconds / 1e9,
      kStats: { min: Math.min(...allK), median: median(allK), max: Math.max(...allK) },
      replica: { ...replica, projected, fractions },
      diagonal: result.values.map((grid) => grid.map((row, l) => row[l])),
    },
    numpy,
    threads,
    efficient,
    speedup,
    loadavg: { start: loadStart, end: loadavg() },
  };
}
