// CCA and PWCCA of layers with more neurons than datapoints (n > m): the factor is whitened from the
// m × m Gram (src/math/cca.ts wideCcaFactor), never the n × n covariance. Checked against the
// covariance route of the module comment, written out here as the definition (cca_core's
// get_cca_similarity with our pseudo-inverse clipping), on synthetic low-rank layers with dead
// neurons and on a real conv layer (digits CNN conv1 flattened: 128 features, over its first 100
// probe digits).
//
// Shapes: X is n neurons × m datapoints (row-major) throughout.

import { beforeAll, describe, expect, it } from 'vitest';
import { CLIP_TOLERANCE_F64, ccaFactor, ccaFromFactors, type CcaFactor } from '../../src/math/cca';
import { symmetricEigen } from '../../src/math/eigen';
import { centerRows, multiply, multiplyABt, selectRows, transpose, zeros, type Matrix } from '../../src/math/matrix';
import { pwccaFromFactors } from '../../src/math/pwcca';
import { randn } from '../../src/math/random';
import { reduceToMatrix, toRepresentation } from '../../src/math/reduce';
import { openBundlePath } from '../../src/io/node';
import { TOL, expectClose } from '../helpers/tolerance';

/** The covariance route: Σ̃ = Xc Xcᵀ/((m−1)·xmax) over the kept rows, its eigenpairs, Z = (Λ_r + εI)^-½ V_rᵀ Xc / sqrt((m−1)·xmax). */
function covarianceRoute(x: Matrix, epsilon: number): { z: Matrix; kept: number[]; principal: Matrix } {
  const m = x.cols;
  const { centered } = centerRows(x);
  const covariance = multiplyABt(centered, centered);
  let xmax = 0;
  for (let i = 0; i < x.rows; i++) xmax = Math.max(xmax, covariance.data[i * x.rows + i] / (m - 1));
  const kept = Array.from({ length: x.rows }, (_, i) => i).filter((i) => covariance.data[i * x.rows + i] / (m - 1) / xmax >= epsilon);
  const keptCentred = selectRows(centered, kept);
  const sigma = multiplyABt(keptCentred, keptCentred);
  for (let i = 0; i < sigma.data.length; i++) sigma.data[i] /= (m - 1) * xmax;
  const eig = symmetricEigen(sigma);
  let r = 0;
  while (r < kept.length && eig.values[r] > CLIP_TOLERANCE_F64 * eig.values[0]) r++;
  const vr: Matrix = { rows: r, cols: kept.length, data: eig.vectors.data.slice(0, r * kept.length) };
  const principal = multiply(vr, keptCentred); // V_rᵀ Xc: r × m
  const z = zeros(r, m);
  for (let i = 0; i < r; i++) {
    const w = 1 / Math.sqrt((eig.values[i] + epsilon) * (m - 1) * xmax);
    for (let j = 0; j < m; j++) z.data[i * m + j] = w * principal.data[i * m + j];
  }
  return { z, kept, principal };
}

/** Zᵀ Z (m × m): what a factor's whitened rows span, independent of their signs and order within an eigenspace. */
const spanOf = (z: Matrix): Matrix => multiplyABt(transpose(z), transpose(z));

/** The first m datapoints (columns) of x. */
const firstDigits = (x: Matrix, m: number): Matrix => ({
  rows: x.rows,
  cols: m,
  data: Float64Array.from({ length: x.rows * m }, (_, i) => x.data[Math.floor(i / m) * x.cols + (i % m)]),
});

/** A low-rank wide layer: `rank` latent factors mixed into n neurons over m datapoints, the first `dead` neurons constant. */
function lowRankLayer(seed: number, n: number, m: number, rank: number, dead: number, latent = randn(seed, rank, m)): Matrix {
  const x = multiply(randn(seed + 1, n, rank), latent);
  for (let i = 0; i < dead; i++) x.data.fill(0.25, i * m, (i + 1) * m);
  return x;
}

describe('CCA of a layer with more neurons than datapoints', () => {
  let conv1: Matrix; // digits CNN conv1, last checkpoint, flattened, first 100 digits: 128 × 100
  let fc1: Matrix; // its fc1 on the same digits: 64 × 100, narrow
  beforeAll(async () => {
    const bundle = await openBundlePath('test/fixtures/real/digits-cnn.npz');
    const last = bundle.steps[bundle.steps.length - 1];
    const load = async (layer: string) => {
      const entry = bundle.entries.find((e) => e.run === 'cnn-seed0' && e.layer === layer && e.step === last)!;
      return reduceToMatrix(toRepresentation(await entry.load(), 'datapoints-first', 'nchw'), 'flatten');
    };
    conv1 = firstDigits(await load('conv1'), 100);
    fc1 = firstDigits(await load('fc1'), 100);
  }, 60_000);

  it('whitens the span the covariance route whitens, pruning and clipping the same rows (synthetic and real)', () => {
    const cases: [string, Matrix][] = [
      ['low rank 12, 9 dead neurons, 150 × 40', lowRankLayer(3, 150, 40, 12, 9)],
      ['full rank, 90 × 30', randn(7, 90, 30)],
      // Wider than its datapoints until the pruning: 35 kept rows over 40 datapoints take the kept covariance.
      ['70 × 40, 35 dead neurons', lowRankLayer(13, 70, 40, 30, 35)],
      ['digits CNN conv1 (128 × 100)', conv1],
    ];
    expect(conv1.rows).toBeGreaterThan(conv1.cols);
    for (const [label, x] of cases) {
      for (const epsilon of [0, 1e-10]) {
        const wide = ccaFactor(x, epsilon, false);
        const route = covarianceRoute(x, epsilon);
        expect(wide.keptIndices, `${label} ε=${epsilon}: kept`).toEqual(route.kept);
        expect(wide.pwcca, `${label}: CCA's factor keeps nothing for PWCCA`).toBeUndefined();
        expect(wide.z.rows, `${label} ε=${epsilon}: unclipped directions`).toBe(route.z.rows);
        expect(wide.clipped, `${label} ε=${epsilon}: clipped`).toBe(wide.keptDims - route.z.rows);
        const scale = Math.max(...spanOf(route.z).data.map(Math.abs));
        expectClose(
          spanOf(wide.z).data.map((v) => v / scale),
          spanOf(route.z).data.map((v) => v / scale),
          TOL.f64Identity,
          `${label} ε=${epsilon}: ZᵀZ`,
        );
      }
    }
  });

  it('the principal rows it stands in for the eigenbasis with are V_rᵀ Xc, up to sign', () => {
    for (const [label, x] of [
      ['low rank 12', lowRankLayer(11, 120, 35, 12, 4)],
      ['digits CNN conv1', conv1],
    ] as const) {
      const wide = ccaFactor(x, 1e-10, true);
      const route = covarianceRoute(x, 1e-10);
      const m = x.cols;
      let scale = 0;
      for (const v of route.principal.data) scale = Math.max(scale, Math.abs(v));
      // Compare the top directions, whose eigenvalues are well separated (signs are the solvers' own).
      for (let a = 0; a < Math.min(8, wide.z.rows); a++) {
        const ours = Array.from(wide.z.data.subarray(a * m, (a + 1) * m), (v) => v * wide.principalScales[a]);
        const theirs = Array.from(route.principal.data.subarray(a * m, (a + 1) * m));
        const sign = Math.sign(ours.reduce((s, v, j) => s + v * theirs[j], 0));
        expectClose(
          ours.map((v) => (sign * v) / scale),
          theirs.map((v) => v / scale),
          TOL.f64Identity,
          `${label}: principal row ${a}`,
        );
      }
      // And together they hold all the kept rows' variance: Σ_a ‖principal_a‖² = ‖Xc_kept‖²_F.
      let total = 0;
      for (let a = 0; a < wide.z.rows; a++) for (let j = 0; j < m; j++) total += (wide.z.data[a * m + j] * wide.principalScales[a]) ** 2;
      let frobenius = 0;
      for (const v of selectRows(centerRows(x).centered, wide.keptIndices).data) frobenius += v * v;
      expectClose(total / frobenius, 1, TOL.f64Identity, `${label}: variance in the principal rows`);
    }
  });

  it('canonical correlations against a narrow and a wide partner match the covariance route', () => {
    const asFactor = (route: ReturnType<typeof covarianceRoute>, x: Matrix): CcaFactor => ({ ...ccaFactor(x, 1e-10, false), z: route.z });
    // Real: conv1 (wide) against fc1 (narrow); synthetic: two wide layers of partly shared latent factors.
    const pairs: [string, Matrix, Matrix][] = [
      ['digits CNN conv1 vs fc1', conv1, fc1],
      ['synthetic, shared latent factors', lowRankLayer(21, 140, 45, 14, 3, randn(5, 14, 45)), lowRankLayer(31, 100, 45, 10, 0, randn(5, 10, 45))],
    ];
    for (const [label, x, y] of pairs) {
      const ours = ccaFromFactors(ccaFactor(x, 1e-10, false), ccaFactor(y, 1e-10, false));
      const theirs = ccaFromFactors(asFactor(covarianceRoute(x, 1e-10), x), asFactor(covarianceRoute(y, 1e-10), y));
      expectClose(ours.rho, theirs.rho, TOL.f64Identity, `${label}: ρ`);
      expect(ours.mean, `${label}: in [0, 1]`).toBeGreaterThanOrEqual(0);
      expect(ours.mean).toBeLessThanOrEqual(1 + TOL.f64Identity);
    }
  });
});

describe('PWCCA with a side wider than its datapoints', () => {
  it('a wide factor’s neurons are its own: making the next factor does not overwrite them (no scratch buffer kept)', () => {
    const x = randn(61, 90, 30);
    const fx = ccaFactor(x, 1e-10, true);
    expect(fx.pwcca?.basis, 'r > m/2: the datapoints’ basis, the centred rows as they are').toBe('datapoints');
    const before = Array.from(fx.pwcca!.neurons.data);
    ccaFactor(randn(62, 120, 30), 1e-10, true);
    ccaFactor(randn(63, 120, 30), 1e-10, false);
    expect(Array.from(fx.pwcca!.neurons.data)).toEqual(before);
    expect(before).toEqual(Array.from(selectRows(centerRows(x).centered, fx.keptIndices).data));
  });

  it('gives the null directions no weight: two wide layers sharing their whole datapoint span have PWCCA 1 (real and synthetic)', async () => {
    const bundle = await openBundlePath('test/fixtures/real/digits-cnn.npz');
    const steps = bundle.steps;
    const conv1At = async (step: number) => {
      const entry = bundle.entries.find((e) => e.run === 'cnn-seed0' && e.layer === 'conv1' && e.step === step)!;
      return reduceToMatrix(toRepresentation(await entry.load(), 'datapoints-first', 'nchw'), 'flatten');
    };
    // conv1 at the first and last checkpoint, the first 100 digits: 128 features × 100, each spanning
    // the 99 centred dimensions. ε = 0: a ridge would pull the ρ of the smallest directions below 1.
    const real: [Matrix, Matrix] = [firstDigits(await conv1At(steps[0]), 100), firstDigits(await conv1At(steps[steps.length - 1]), 100)];
    const synthetic: [Matrix, Matrix] = [randn(51, 90, 30), randn(52, 120, 30)];
    for (const [label, [x, y]] of [
      ['digits CNN conv1, first vs last checkpoint, 100 digits', real],
      ['synthetic 90 and 120 × 30', synthetic],
    ] as const) {
      for (const variant of ['reference', 'paper'] as const) {
        const r = pwccaFromFactors(ccaFactor(x, 0, true), ccaFactor(y, 0, true), variant);
        const own = r.side === 'x' ? r.factors[0] : r.factors[1];
        expect(own.keptDims, label).toBeGreaterThan(own.datapoints);
        expectClose(
          r.weights.reduce((s, w) => s + w, 0),
          1,
          TOL.f64Identity,
          `${label} ${variant}: Σα`,
        );
        expect(
          r.weights.slice(own.z.rows).every((w) => w === 0),
          `${label} ${variant}: null directions weigh nothing`,
        ).toBe(true);
        expectClose(r.similarity, 1, TOL.f64Identity, `${label} ${variant}: PWCCA`);
      }
    }
  }, 60_000);
});
