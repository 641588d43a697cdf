// CCA and SVCCA on the GPU, the twin of src/math/cca.ts: factors are the whitened rows Z of every
// layer of a grid side (whitening.ts); a grid of pairs is one product T = [Z_a1; …] [Z_b1; …]ᵀ,
// one batched Gram of the pair blocks (T_ij T_ijᵀ of the smaller side) and one batched Jacobi for
// all pairs' singular values.
//
// Shapes: Z_i is r_i × m (row-major, f32), Z_i Z_iᵀ ≈ I.

import { checkAborted } from '../../cancel';
import { jacobiEigenBatch, runProducts } from '../../gpu/ops';
import { denseCanonicalShape } from '../../math/canonicalNull';
import { summarize } from '../../math/cca';
import { factorize, type PairNumbers } from '../metrics';
import { blockGramBatch, correlationsOf, stackedCross } from './pairs';
import { even, type CentredSide, type GpuCcaFactor, type GpuFactor, type GpuJob } from './types';
import { factorStacked } from './whitening';

/**
 * CCA, SVCCA or (`pwcca`) PWCCA factors of a grid side. PWCCA keeps the centred rows (one chunk) for
 * its directions; a representation whose conditioning float32 does not resolve runs in float64
 * (precision.ts) and says why.
 */
export async function ccaFactors(job: GpuJob, side: CentredSide, pwcca: boolean): Promise<GpuFactor[]> {
  const { own, options } = job;
  const { reps, matrices, chunks, m } = side;
  const rowOffsets = side.stack.rowOffsets;
  // PWCCA's CCA step is cca_core's (ε pruning, no SVD step).
  const ccaOptions = pwcca ? { ...options, metric: 'cca' as const } : options;
  const sizes = matrices.map((mat) => mat.rows);
  const { z, plans } = await factorStacked(job, chunks, side.gram, sizes, rowOffsets, m, side.padded, ccaOptions, undefined, pwcca);
  const onGpu = plans.filter((plan) => plan.verdict.gpu).length;
  // The factors that stay on the GPU share Z (and PWCCA's centred rows); with none, the job's ledger frees them.
  const shared = { buffer: onGpu > 0 ? own.handOn(z) : z, references: onGpu };
  const centred = pwcca ? { buffer: onGpu > 0 ? own.handOn(chunks[0].buffer) : chunks[0].buffer, references: onGpu } : null;
  return plans.map(({ kept, basis, neurons, verdict, ...plan }, b): GpuFactor => {
    if (!verdict.gpu) return { kind: 'cpu', factor: factorize(reps[b], options, false), rep: reps[b], reason: verdict.reason, conditioning: true };
    return {
      kind: 'gpu-cca',
      z: shared,
      ...plan,
      neurons: matrices[b].rows,
      datapoints: m,
      rep: reps[b],
      ...(centred ? { pwcca: { x: centred, xRow: rowOffsets[b], kept, basis, neurons } } : {}),
    };
  });
}

/** CCA / SVCCA similarities of every pair (a[i], b[j]). */
export async function compareCca(job: GpuJob, a: GpuCcaFactor[], b: GpuCcaFactor[]): Promise<PairNumbers[][]> {
  const { rt, own } = job;
  const { t, rowsB, offsetsA, offsetsB, release } = stackedCross(job, a, b, (f) => f.z.buffer, 'pairs');
  checkAborted(job.signal);
  // Gram of every pair block, of its smaller side: G = T Tᵀ (ka ≤ kb) or Tᵀ T.
  const pairs = a.flatMap((fa, i) => b.map((fb, j) => ({ i, j, small: Math.min(fa.rows, fb.rows) })));
  const padded = even(Math.max(2, ...pairs.map((p) => p.small)));
  const grams = own.zeros(pairs.length * padded * padded * 4, 'pairs.gram');
  const batches = pairs.flatMap((p, index) =>
    p.small > 0 ? [blockGramBatch(offsetsA[p.i] * rowsB + offsetsB[p.j], a[p.i].rows, b[p.j].rows, rowsB, index * padded * padded, padded)] : [],
  );
  if (batches.length > 0) runProducts(rt, t, t, grams, batches, 'pairs.gram');
  const eig = await jacobiEigenBatch(rt, grams, padded, pairs.length, { vectors: false, signal: job.signal, sizes: pairs.map((p) => p.small) });
  release();
  const grid: PairNumbers[][] = a.map(() => []);
  pairs.forEach((p, index) => {
    const fa = a[p.i];
    const fb = b[p.j];
    const s = summarize(correlationsOf(eig.values, index, padded, p.small, Math.min(fa.keptDims, fb.keptDims)));
    grid[p.i][p.j] = {
      similarity: s.mean,
      mean98: s.mean98,
      meanSquared: s.meanSquared,
      rho: s.rho,
      kept: [fa.keptDims, fb.keptDims],
      neurons: [fa.neurons, fb.neurons],
      dropped: [fa.dropped, fb.dropped],
      clipped: [fa.clipped, fb.clipped],
      spectra: fa.spectrum && fb.spectrum ? [fa.spectrum, fb.spectrum] : null,
      frequencies: null,
      canonical: denseCanonicalShape([fa.rows, fb.rows], [fa.keptDims, fb.keptDims], fa.datapoints),
    };
  });
  return grid;
}
