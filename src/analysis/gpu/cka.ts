// CKA on the GPU, the twin of src/math/cka.ts: the factor is the centred rows themselves (on the
// GPU) with the float64 statistics taken while centring and from the Gram Xc Xcᵀ; a grid of pairs
// is one product of all cross-covariances, whose squared sums give ⟨K_x, K_y⟩ per pair. The sums
// of squares are taken on the GPU (shaders/block-squares.wgsl) and only they are read back.
//
// Shapes: Xc_i is n_i × m (row-major, f32), centred rows.

import { checkAborted } from '../../cancel';
import { blockSquaredSums } from '../../gpu/ops';
import { ckaFromStatistics } from '../../math/cka';
import type { PairNumbers } from '../metrics';
import { stackedCross } from './pairs';
import type { CentredSide, GpuCkaFactor, GpuJob } from './types';

/** CKA factors of a grid side: the centred rows (one chunk) shared by all, ‖Xc Xcᵀ‖²_F from the Gram. */
export async function ckaFactors(job: GpuJob, side: CentredSide): Promise<GpuCkaFactor[]> {
  const { rt, own } = job;
  const { matrices, padded, m, stack } = side;
  // ‖Xc Xcᵀ‖²_F of every layer on the GPU: one readback of partial sums, not of the Grams.
  const selfDots = await blockSquaredSums(
    rt,
    side.gram,
    matrices.map((mat, i) => ({ offset: i * padded * padded, rows: mat.rows, cols: mat.rows, ld: padded })),
    'cka.self',
  );
  own.release(side.gram);
  const shared = { buffer: own.handOn(side.chunks[0].buffer), references: matrices.length };
  return matrices.map((mat, i) => {
    const selfDot = selfDots[i];
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
  const { t, rowsB, offsetsA, offsetsB, release } = stackedCross(job, a, b, (f) => f.x.buffer, 'cka');
  checkAborted(job.signal);
  // ⟨K_x, K_y⟩ = ‖T_ij‖²_F of every pair block on the GPU: one readback of partial sums, not of T.
  const blocks = a.flatMap((fa, i) => b.map((fb, j) => ({ offset: offsetsA[i] * rowsB + offsetsB[j], rows: fa.rows, cols: fb.rows, ld: rowsB })));
  const crossDots = await blockSquaredSums(job.rt, t, blocks, 'cka.cross');
  release();
  return a.map((fa, i) =>
    b.map((fb, j) => {
      const crossDot = crossDots[i * b.length + j];
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
