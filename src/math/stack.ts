// Centring and stacking for the GPU path (src/analysis/gpu/factors.ts): the float64 centring of
// src/math/matrix.ts centerRows, written straight into one float32 buffer for all layers of a
// grid side, with the statistics CKA needs taken on the way.
//
// Shapes: each matrix is n neurons × m datapoints, row-major; all share m.

import type { Matrix } from './matrix';

export interface CentredStack {
  /** Σ n rows × m columns, f32: the centred rows of every matrix one after another. */
  data: Float32Array;
  /** First row of each matrix in `data`. */
  rowOffsets: number[];
  /** Per matrix, Σ_i x_ij² over its centred rows for each datapoint j (length m, float64). */
  rowNorms: Float64Array[];
  /** Per matrix, ‖Xc‖²_F in float64. */
  squaredNorms: number[];
}

/** Centres each row in float64 (exact means, one pass) and stacks the rows as f32. */
export function centreAndStack(matrices: Matrix[]): CentredStack {
  const m = matrices[0].cols;
  const totalRows = matrices.reduce((s, x) => s + x.rows, 0);
  const data = new Float32Array(totalRows * m);
  const rowOffsets: number[] = [];
  const rowNorms: Float64Array[] = [];
  const squaredNorms: number[] = [];
  let row = 0;
  for (const x of matrices) {
    rowOffsets.push(row);
    const norms = new Float64Array(m);
    let squared = 0;
    for (let i = 0; i < x.rows; i++, row++) {
      let sum = 0;
      for (let j = 0; j < m; j++) sum += x.data[i * m + j];
      const mean = sum / m;
      for (let j = 0; j < m; j++) {
        const v = x.data[i * m + j] - mean;
        data[row * m + j] = v;
        norms[j] += v * v;
        squared += v * v;
      }
    }
    rowNorms.push(norms);
    squaredNorms.push(squared);
  }
  return { data, rowOffsets, rowNorms, squaredNorms };
}
