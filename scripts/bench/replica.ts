// The instrumented replica: the engine's SVCCA path (engine.prepare → the stored array centred
// (reduceToSource) → the Gram → every eigenvalue, the kept k eigenvectors → svccaFactorFromStep;
// ccaFromFactors), with a timer around every stage. Same kernels, same order of summation, so its
// values equal the engine's bit for bit (checked on job (b)); the engine keeps the centred matrix
// in WebAssembly memory for both products, where the replica copies it in for each.

import { cellDelta } from '../../src/analysis/precision';
import { prepare } from '../../src/analysis/prepare';
import type { NdArray } from '../../src/io/types';
import { chooseK, summarize, svccaFactorFromStep, type CcaFactor, type SvdStep } from '../../src/math/cca';
import { symmetricEigenvalues } from '../../src/math/eigen';
import { symmetricTopEigen } from '../../src/math/eigenTop';
import { multiplyABt, transpose, type Matrix } from '../../src/math/matrix';
import { reduceToSource } from '../../src/math/reduce';
import { scratchFloat64 } from '../../src/math/scratch';
import { oursFactorFlops, oursPairFlops, type GeneratorSpec } from '../bench-data';
import { now, OPTIONS } from './args';
import { layerName, type SyntheticJob } from './synthetic';

interface FactorStages {
  prepare: number;
  centre: number;
  gram: number;
  eigen: number;
  project: number;
}

export interface TimedFactor {
  factor: CcaFactor;
  k: number;
  n: number;
  m: number;
  seconds: FactorStages;
  gram: Matrix;
}

export function timedFactor(name: string, array: NdArray): TimedFactor {
  const t0 = now();
  const prepared = prepare({ name, array }, OPTIONS, array.shape[0]);
  const source = reduceToSource(prepared.rep, 'flatten');
  if ('data' in source) throw new Error('bench: expected a stored dense representation');
  const n = source.rows;
  const m = source.cols;
  if (n > m) throw new Error('bench: the replica covers n ≤ m only');
  const t1 = now();
  // As the engine: centred, widened and transposed from the stored array in one pass (it writes
  // into WebAssembly memory, the replica into the scratch buffer; the Gram then copies it in).
  const centered: Matrix = { rows: n, cols: m, data: scratchFloat64(n * m) };
  source.centerRowsInto(centered.data);
  const t2 = now();
  const gram = multiplyABt(centered, centered);
  const t3 = now();
  const spectrumOf = (values: Float64Array) => Array.from(values, (g) => Math.max(g, 0) / (m - 1));
  const eig = symmetricTopEigen(gram, (values) => chooseK(spectrumOf(values), OPTIONS.keep));
  const t4 = now();
  const step: SvdStep = { centered, spectrum: spectrumOf(eig.values), vectors: eig.vectors, gramValues: eig.values, wide: false };
  const k = eig.vectors.rows;
  const svcca = svccaFactorFromStep(step, k, OPTIONS.epsilon);
  const t5 = now();
  return { factor: svcca.cca, k, n, m, gram, seconds: { prepare: t1 - t0, centre: t2 - t1, gram: t3 - t2, eigen: t4 - t3, project: t5 - t4 } };
}

interface TimedPair {
  similarity: number;
  seconds: { cross: number; small: number };
}

export function timedPair(fx: CcaFactor, fy: CcaFactor): TimedPair {
  const t0 = now();
  const t = multiplyABt(fx.z, fy.z);
  const t1 = now();
  const count = Math.min(fx.keptDims, fy.keptDims);
  const rho = new Array<number>(count).fill(0);
  const tt = t.rows <= t.cols ? t : transpose(t);
  if (count > 0 && tt.rows > 0) {
    const values = Float64Array.from(symmetricEigenvalues(multiplyABt(tt, tt)), (g) => Math.sqrt(Math.max(g, 0)));
    for (let i = 0; i < Math.min(count, values.length); i++) rho[i] = values[i];
  }
  const similarity = summarize(rho).mean;
  const t2 = now();
  return { similarity, seconds: { cross: t1 - t0, small: t2 - t1 } };
}

export interface ReplicaResult {
  steps: number[];
  reps: number;
  pairs: number;
  /** Per-stage seconds summed over the instrumented reps / pairs. */
  factor: FactorStages;
  pair: { cross: number; small: number };
  k: number[][]; // k[stepIndexInReplica][layer]
  /** Largest |replica − engine| over the replica's pairs. */
  maxDiffVsEngine: number;
  flops: { factor: number; pair: number };
}

export function runReplica(job: SyntheticJob, spec: GeneratorSpec, steps: number[], engineValues: (number | null)[][][]): ReplicaResult {
  const reference = spec.steps - 1;
  const ordered = [reference, ...steps.filter((s) => s !== reference)];
  const factors = new Map<number, TimedFactor[]>();
  const stages: FactorStages = { prepare: 0, centre: 0, gram: 0, eigen: 0, project: 0 };
  let factorFlops = 0;
  for (const t of ordered) {
    const side = spec.widths.map((n, l) => {
      const data = job.gen.generate(l, t);
      const f = timedFactor(`step_${t}/${layerName(l)}`, { shape: [spec.datapoints, n], dtype: '<f4', data });
      f.gram = { rows: 0, cols: 0, data: new Float64Array(0) }; // drop the n × n Gram
      for (const key of Object.keys(stages) as (keyof FactorStages)[]) stages[key] += f.seconds[key];
      factorFlops += oursFactorFlops(n, spec.datapoints, f.k).total;
      return f;
    });
    factors.set(t, side);
  }
  const refSide = factors.get(reference)!;
  const pair = { cross: 0, small: 0 };
  let pairs = 0;
  let pairFlops = 0;
  let maxDiff = 0;
  for (const t of steps) {
    const side = factors.get(t)!;
    for (let i = 0; i < side.length; i++) {
      for (let j = 0; j < refSide.length; j++) {
        const p = timedPair(side[i].factor, refSide[j].factor);
        pair.cross += p.seconds.cross;
        pair.small += p.seconds.small;
        pairs++;
        pairFlops += oursPairFlops(side[i].factor.z.rows, refSide[j].factor.z.rows, spec.datapoints).total;
        maxDiff = Math.max(maxDiff, cellDelta(p.similarity, engineValues[t][i][j]));
      }
    }
  }
  return {
    steps: ordered,
    reps: ordered.length * spec.widths.length,
    pairs,
    factor: stages,
    pair,
    k: ordered.map((t) => factors.get(t)!.map((f) => f.k)),
    maxDiffVsEngine: maxDiff,
    flops: { factor: factorFlops, pair: pairFlops },
  };
}
