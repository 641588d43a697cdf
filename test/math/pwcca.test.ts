import { describe, expect, it } from 'vitest';
import { pwcca } from '../../src/math/pwcca';
import { randn } from '../../src/math/random';
import { related } from '../helpers/data';
import { TOL, expectClose } from '../helpers/tolerance';

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
  it('PWCCA(X, X) = 1', () => {
    const x = randn(5, 10, 400);
    expectClose(pwcca(x, x, 0).similarity, 1, TOL.f64Identity, 'self');
  });
});
