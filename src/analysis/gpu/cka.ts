// CKA on the GPU, the twin of src/math/cka.ts: the factor is the centred rows themselves (on the
// GPU) with the float64 statistics taken while centring and from the Gram Xc Xcᵀ; a grid of pairs
// is one product of all cross-covariances, whose squared sums give ⟨K_x, K_y⟩ per pair.
//
// Shapes: Xc_i is n_i × m (row-major, f32), centred rows.

import { checkAborted } from '../../cancel';
import { ckaFromStatistics } from '../../math/cka';
import type { PairNumbers } from '../metrics';
import { stackedCross } from './pairs';
import type { CentredSide, GpuCkaFactor, GpuJob } from './types';

/** CKA factors of a grid side: the centred rows (one chunk) shared by all, ‖Xc Xcᵀ‖²_F from the Gram. */
export async function ckaFactors(job: GpuJob, side: CentredSide): Promise<GpuCkaFactor[]> {
  const { rt, own } = job;
  const { matrices, padded, m, stack } = side;
  const grams = await rt.read(side.gram, matrices.length * padded * padded * 4, 'factor.gram');
  own.release(side.gram);
  const shared = { buffer: own.handOn(side.chunks[0].buffer), references: matrices.length };
  return matrices.map((mat, i) => {
    let selfDot = 0;
    for (let r = 0; r < mat.rows; r++) for (let c = 0; c < mat.rows; c++) selfDot += grams[i * padded * padded + r * padded + c] ** 2;
    return {
      kind: 'gpu-cka',
      x: shared,
      rowOffset: stack.rowOffsets[i],
      rows: mat.rows,
      selfDot,
      rowNorms: stack.rowNorms[i],
      squaredNorm: stack.squaredNorms[i],
      neurons: mat.rows,
      datapoints: m,
      rep: side.reps[i],
    };
  });
}

/** Linear CKA (or its debiased form) of every pair (a[i], b[j]). */
export async function compareCka(job: GpuJob, a: GpuCkaFactor[], b: GpuCkaFactor[], debiased: boolean): Promise<PairNumbers[][]> {
  const { t, rowsA, rowsB, offsetsA, offsetsB, release } = stackedCross(job, a, b, (f) => f.x.buffer, 'cka');
  checkAborted(job.signal);
  const values = await job.rt.read(t, Math.max(1, rowsA * rowsB) * 4, 'cka.cross');
  release();
  return a.map((fa, i) =>
    b.map((fb, j) => {
      let crossDot = 0;
      for (let r = 0; r < fa.rows; r++) {
        for (let c = 0; c < fb.rows; c++) crossDot += values[(offsetsA[i] + r) * rowsB + offsetsB[j] + c] ** 2;
      }
      return {
        similarity: ckaFromStatistics(crossDot, fa, fb, debiased),
        mean98: null,
        meanSquared: null,
        rho: [],
        kept: [fa.neurons, fb.neurons],
        neurons: [fa.neurons, fb.neurons],
        dropped: [0, 0],
        clipped: [0, 0],
        spectra: null,
        frequencies: null,
      };
    }),
  );
}
