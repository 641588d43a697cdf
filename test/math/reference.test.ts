// Reference values. Provenance: ../shared/docs/svcca-semantics.md ("Portable reference inputs"),
// computed there with google/svcca's cca_core.get_cca_similarity(X, Y, epsilon=0), and re-derived
// at full precision by scripts/reference_values.py (numpy, following cca_core step by step).
import { describe, expect, it } from 'vitest';
import { cca } from '../../src/math/cca';
import { mulberry32, randn } from '../../src/math/random';
import { pwcca } from '../../src/math/pwcca';
import { add } from '../helpers/data';
import { multiply } from '../../src/math/matrix';
import { TOL, expectClose } from '../helpers/tolerance';

const X = randn(1, 50, 2000); // 50 neurons × 2000 datapoints
const A = randn(3, 50, 50);
const N = randn(4, 50, 2000);
const AX = multiply(A, X);

describe('portable generator (semantics doc)', () => {
  it('mulberry32(42) gives the documented uniforms', () => {
    const next = mulberry32(42);
    expectClose([next(), next(), next(), next()], [0.6011037519, 0.448290559, 0.8524657935, 0.6697340414], 1e-10, 'mulberry32');
  });
  it('randn(1, 1, 4) gives the documented normals bit for bit', () => {
    expect(Array.from(randn(1, 1, 4).data)).toEqual([1.4043387784152637, 1.2157546192705377, -0.5103768768108126, -0.2518183315501483]);
  });
});

describe('CCA against google/svcca cca_core (epsilon = 0)', () => {
  const cases = [
    // doc (6 decimals) and scripts/reference_values.py (full precision)
    {
      name: 'independent Y',
      y: randn(2, 50, 2000),
      mean: 0.133122006870571,
      mean98: 0.1519311665165448,
      doc: [0.133122, 0.151931],
      rho: [0.28610527120392065, 0.276345950288104, 0.26932810432813836],
    },
    { name: 'Y = AX + 1N', y: add(AX, N, 1), mean: 0.9173364641733266, mean98: 0.9444402921241911, doc: [0.917336, 0.94444], rho: null },
    { name: 'Y = AX + 5N', y: add(AX, N, 5), mean: 0.6584066005202817, mean98: 0.7186799900570044, doc: [0.658407, 0.71868], rho: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = cca(X, c.y, 0);
      expect(r.rho).toHaveLength(50);
      expectClose(r.mean, c.mean, TOL.f64Reference, `${c.name} mean`);
      expectClose(r.mean98, c.mean98, TOL.f64Reference, `${c.name} mean98`);
      expectClose([r.mean, r.mean98], c.doc, TOL.printed6, `${c.name} doc`);
      if (c.rho) expectClose(r.rho.slice(0, 3), c.rho, TOL.f64Reference, `${c.name} rho`);
    });
  }
});

describe('PWCCA (epsilon = 1e-10)', () => {
  const y = add(AX, N, 5);
  it('matches the sign-independent reference semantics exactly', () => {
    expectClose(pwcca(X, y, 1e-10).similarity, 0.661973300034795, TOL.f64Reference, 'pwcca');
  });
  it('stays within 1e-4 of google/svcca (0.662012), whose + μ makes it depend on LAPACK signs', () => {
    expectClose(pwcca(X, y, 1e-10).similarity, 0.662012, 1e-4, 'pwcca vs reference code');
  });
});
