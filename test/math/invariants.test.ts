// Invariants on tables of seeded cases. Shapes: n neurons × m datapoints.
import { describe, expect, it } from 'vitest';
import { canonicalDirections, cca, chooseK, sumThreshold, svcca, summarize } from '../../src/math/cca';
import { cka } from '../../src/math/cka';
import { multiply, zeros, type Matrix } from '../../src/math/matrix';
import { pwcca } from '../../src/math/pwcca';
import { randn } from '../../src/math/random';
import { decaying, randomOrthogonal, related, scale } from '../helpers/data';
import { TOL, expectClose } from '../helpers/tolerance';

const keep99 = { kind: 'variance', fraction: 0.99 } as const;

interface Case {
  tag: string;
  x: () => Matrix;
  y: () => Matrix;
}

const cases: Case[] = [
  { tag: 'tall (n ≪ m)', x: () => randn(10, 12, 600), y: () => related(randn(10, 12, 600), 9, 1, 11) },
  { tag: 'decaying spectra', x: () => decaying(20, 30, 800), y: () => decaying(22, 25, 800) },
  { tag: 'different widths', x: () => randn(30, 5, 300), y: () => related(randn(30, 5, 300), 40, 0.5, 31) },
  {
    tag: 'rank-deficient',
    x: () => multiply(randn(40, 20, 4), randn(41, 4, 400)), // 20 neurons, rank 4
    y: () => randn(42, 10, 400),
  },
  {
    tag: 'dead neuron',
    x: () => {
      const x = randn(50, 8, 300);
      x.data.fill(0.25, 3 * 300, 4 * 300); // neuron 3 is constant
      return x;
    },
    y: () => randn(51, 6, 300),
  },
  { tag: 'n ≥ m (wide)', x: () => randn(60, 40, 30), y: () => randn(61, 35, 30) },
];

const within01 = (v: number, label: string) => {
  expect(Number.isFinite(v), `${label} finite`).toBe(true);
  expect(v, label).toBeGreaterThanOrEqual(-TOL.f64Identity);
  expect(v, label).toBeLessThanOrEqual(1 + TOL.f64Identity);
};

describe.each(cases)('invariants: $tag', ({ tag, x, y }) => {
  const X = x();
  const Y = y();
  it('SVCCA(X, X) = 1 and CCA(X, X) = 1 on full-rank directions', () => {
    expectClose(svcca(X, X, keep99, 0).mean, 1, TOL.f64Identity, `${tag} svcca`);
    const self = cca(X, X, 0);
    // Null directions (rank deficiency, dead neurons) count as 0 under pseudo-inverse semantics.
    const rank = self.factors[0].z.rows;
    expectClose(self.rho.slice(0, rank), new Array(rank).fill(1), TOL.f64Identity, `${tag} cca self ρ`);
  });
  it('range [0, 1] and finite for every metric', () => {
    const s = svcca(X, Y, keep99, 1e-10);
    const c = cca(X, Y, 1e-10);
    for (const r of [...s.rho, ...c.rho]) within01(r, `${tag} ρ`);
    within01(s.mean, `${tag} svcca`);
    within01(c.mean, `${tag} cca`);
    within01(pwcca(X, Y, 1e-10).similarity, `${tag} pwcca`);
    within01(cka(X, Y), `${tag} cka`);
  });
  it('symmetric in its arguments (SVCCA, CCA, CKA)', () => {
    expectClose(svcca(X, Y, keep99, 1e-10).mean, svcca(Y, X, keep99, 1e-10).mean, TOL.f64Identity, `${tag} svcca`);
    expectClose(cca(X, Y, 1e-10).rho, cca(Y, X, 1e-10).rho, TOL.f64Identity, `${tag} cca ρ`);
    expectClose(cka(X, Y), cka(Y, X), TOL.f64Identity, `${tag} cka`);
  });
  it('invariant to rotation of neurons, scale and shift', () => {
    const q = randomOrthogonal(99, X.rows);
    const moved = scale(multiply(q, X), 3.5, -2);
    expectClose(svcca(moved, Y, keep99, 0).mean, svcca(X, Y, keep99, 0).mean, TOL.f64Identity, `${tag} svcca`);
    expectClose(cca(moved, Y, 0).mean, cca(X, Y, 0).mean, TOL.f64Identity, `${tag} cca`);
    expectClose(cka(moved, Y), cka(X, Y), TOL.f64Identity, `${tag} cka`);
  });
});

describe('CCA details', () => {
  it('dead neurons are pruned by ε and reported', () => {
    const x = randn(70, 6, 200);
    x.data.fill(1, 0, 200); // neuron 0 constant: variance 0
    const r = cca(x, randn(71, 6, 200), 1e-10);
    expect(r.factors[0].dropped).toBe(1);
    expect(r.rho).toHaveLength(5);
  });
  it('all neurons dead gives similarity 0, not NaN (cca_core returns its zero dict)', () => {
    const r = cca(zeros(4, 50), randn(72, 3, 50), 1e-10);
    expect(r.mean).toBe(0);
    expect(r.rho).toEqual([]);
  });
  it('collinear neurons give finite ρ (pseudo-inverse clipping)', () => {
    const base = randn(73, 3, 300);
    const x = zeros(4, 300);
    x.data.set(base.data, 0);
    x.data.set(base.data.subarray(0, 300), 900); // neuron 3 duplicates neuron 0
    const r = cca(x, randn(74, 5, 300), 0);
    expect(r.rho.every(Number.isFinite)).toBe(true);
    expect(r.factors[0].clipped).toBe(1);
  });
  it('canonical directions correlate with each other by exactly ρ_i (built-in self-check)', () => {
    const X = randn(80, 8, 500);
    const Y = related(X, 6, 2, 81);
    const r = cca(X, Y, 0);
    const dirs = canonicalDirections(r.factors[0], r.factors[1], 4);
    const m = 500;
    for (let i = 0; i < 4; i++) {
      const a = dirs.x.data.subarray(i * m, (i + 1) * m);
      const b = dirs.y.data.subarray(i * m, (i + 1) * m);
      let ab = 0,
        aa = 0,
        bb = 0;
      for (let t = 0; t < m; t++) {
        ab += a[t] * b[t];
        aa += a[t] * a[t];
        bb += b[t] * b[t];
      }
      expectClose(ab / Math.sqrt(aa * bb), r.rho[i], TOL.f64Identity, `corr(H_x${i}, H_y${i})`);
    }
  });
  it('sum_threshold and the summaries follow cca_core', () => {
    expect(sumThreshold([0.5, 0.3, 0.2], 0.98)).toBe(3);
    expect(sumThreshold([0.9, 0.1, 0], 0.98)).toBe(2);
    const s = summarize([0.9, 0.5, 0.1]);
    expectClose([s.mean, s.meanSquared], [0.5, (0.81 + 0.25 + 0.01) / 3], TOL.f64Identity, 'summaries');
  });
  it('chooseK keeps the smallest k reaching the fraction of Σλ, or a fixed k', () => {
    expect(chooseK([50, 30, 15, 4, 1], { kind: 'variance', fraction: 0.99 })).toBe(4);
    expect(chooseK([50, 30, 15, 4, 1], { kind: 'variance', fraction: 0.8 })).toBe(2);
    expect(chooseK([50, 30, 15, 4, 1], { kind: 'dims', k: 20 })).toBe(5);
  });
  it('SVCCA with a fixed k keeps k directions on both sides', () => {
    const r = svcca(randn(90, 30, 400), randn(91, 25, 400), { kind: 'dims', k: 20 }, 1e-10);
    expect(r.factors.map((f) => f.k)).toEqual([20, 20]);
    expect(r.rho).toHaveLength(20);
  });
});
