import { describe, expect, it } from 'vitest';
import { ccaFactor, crossSvd } from '../../src/math/cca';
import { symmetricEigen } from '../../src/math/eigen';
import { centerRows, multiply, multiplyABt, selectRows, type Matrix } from '../../src/math/matrix';
import { completeRotation, pwcca, pwccaFromFactors } from '../../src/math/pwcca';
import { randn } from '../../src/math/random';
import { related } from '../helpers/data';
import { TOL, expectClose } from '../helpers/tolerance';

/** Rows orthonormalised in order by modified Gram–Schmidt, twice, one row at a time (zero rows stay zero). */
function gramSchmidtRows(a: Matrix): Matrix {
  const { rows, cols } = a;
  const q = { rows, cols, data: Float64Array.from(a.data) };
  for (let i = 0; i < rows; i++) {
    const qi = q.data.subarray(i * cols, (i + 1) * cols);
    for (let pass = 0; pass < 2; pass++)
      for (let j = 0; j < i; j++) {
        const qj = q.data.subarray(j * cols, (j + 1) * cols);
        const dot = qi.reduce((s, v, t) => s + v * qj[t], 0);
        for (let t = 0; t < cols; t++) qi[t] -= dot * qj[t];
      }
    const norm = Math.sqrt(qi.reduce((s, v) => s + v * v, 0));
    if (norm > 0) for (let t = 0; t < cols; t++) qi[t] /= norm;
  }
  return q;
}

/**
 * The 'reference' PWCCA of src/math/pwcca.ts written out as cca_core does it, with the eigenbasis
 * V of x's Σ̃ over its kept rows (count × count): U = [P; its completion] in V's coordinates, the
 * directions U·Xc, of which the rows past Z's (the null, clipped eigenvectors) are left out, then
 * Gram–Schmidt and α_i = Σ_j |⟨q_i, x_j⟩| over x's kept, uncentred rows. x must keep fewer rows than y.
 */
function pwccaByEigenbasis(x: Matrix, y: Matrix, epsilon: number): { similarity: number; whitened: number; count: number } {
  const fx = ccaFactor(x, epsilon, true);
  const fy = ccaFactor(y, epsilon, true);
  const centred = selectRows(centerRows(x).centered, fx.keptIndices);
  const count = fx.keptDims;
  const w = fx.z.rows;
  const m = x.cols;
  const v = symmetricEigen(multiplyABt(centred, centred)).vectors;
  // The eigenvectors' signs are the solver's: align each unclipped one with the factor's Z row.
  const principal = multiply(v, centred);
  for (let a = 0; a < w; a++) {
    let dot = 0;
    for (let j = 0; j < m; j++) dot += principal.data[a * m + j] * fx.z.data[a * m + j];
    if (dot < 0) for (let b = 0; b < count; b++) v.data[a * count + b] *= -1;
  }
  const svd = crossSvd(fx.z, fy.z);
  const r = svd.values.length;
  const u = completeRotation(svd.left, v, w, r); // count × count; rows ≥ w are the null eigenvectors
  const directions = multiply({ rows: w, cols: count, data: u.data.subarray(0, w * count) }, centred);
  const q = gramSchmidtRows(directions);
  const weights = Array.from({ length: w }, (_, i) => {
    let total = 0;
    for (let j = 0; j < count; j++) {
      let dot = 0;
      for (let t = 0; t < m; t++) dot += q.data[i * m + t] * (centred.data[j * m + t] + fx.means[j]);
      total += Math.abs(dot);
    }
    return total;
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  return { similarity: weights.reduce((acc, wt, i) => acc + (wt / sum) * (svd.values[i] ?? 0), 0), whitened: w, count };
}

describe('PWCCA', () => {
  it('works when the second input keeps fewer neurons (google/svcca crashes there)', () => {
    const x = randn(1, 20, 600);
    const y = related(x, 8, 1, 2);
    const r = pwcca(x, y, 1e-10);
    expect(r.side).toBe('y');
    expect(r.weights).toHaveLength(8);
    expect(Number.isFinite(r.similarity)).toBe(true);
  });
  it('weights are a distribution and PWCCA lies between min and max ρ', () => {
    for (const variant of ['reference', 'paper'] as const) {
      const x = randn(3, 10, 500);
      const r = pwcca(x, related(x, 12, 2, 4), 1e-10, variant);
      expectClose(
        r.weights.reduce((a, b) => a + b, 0),
        1,
        TOL.f64Identity,
        `${variant} Σα`,
      );
      expect(r.similarity).toBeLessThanOrEqual(r.rho[0] + TOL.f64Identity);
      expect(r.similarity).toBeGreaterThanOrEqual(r.rho[r.rho.length - 1] - TOL.f64Identity);
    }
  });
  it("equals cca_core's algorithm written out with the eigenbasis, null directions left out (full rank and rank-deficient)", () => {
    const x = randn(41, 12, 80);
    const deficient = multiply(randn(44, 14, 9), randn(45, 9, 80)); // 14 neurons of rank 9: 5 null directions
    for (const [label, own, partner] of [
      ['full rank', x, related(x, 16, 0.3, 42)],
      ['rank-deficient', deficient, related(deficient, 18, 0.5, 46)],
    ] as const) {
      const ours = pwccaFromFactors(ccaFactor(own, 1e-10, true), ccaFactor(partner, 1e-10, true), 'reference');
      const definition = pwccaByEigenbasis(own, partner, 1e-10);
      expect(ours.side, label).toBe('x');
      expect(definition.count - definition.whitened, `${label}: null directions`).toBe(label === 'full rank' ? 0 : 5);
      expectClose(ours.similarity, definition.similarity, TOL.f64Identity, `${label}: PWCCA`);
      expect(
        ours.weights.slice(definition.whitened).every((wt) => wt === 0),
        `${label}: null directions weigh nothing`,
      ).toBe(true);
    }
  });
  it('PWCCA(X, X) = 1', () => {
    const x = randn(5, 10, 400);
    expectClose(pwcca(x, x, 0).similarity, 1, TOL.f64Identity, 'self');
  });
});
