// The precision rule (src/analysis/precision.ts): metric × conditioning → GPU or float64, with the
// reason a user reads. The numbers it guards are checked end to end in test/gpu/precisionParity.test.ts.
import { describe, expect, it } from 'vitest';
import { cellDelta, estimatedError, gpuVerdict, gridMaxDelta, pwccaPairVerdict, PRECISION_CONTRACT, type Conditioning } from '../../src/analysis/precision';
import { TOL, expectClose } from '../helpers/tolerance';

const wellConditioned: Conditioning = {
  metric: 'cca',
  datapoints: 400,
  smallestKept: 1e-3,
  varianceSpread: 1e-2,
  floorRatio: 1e-5,
  epsilonMargin: Infinity,
  cutMargin: Infinity,
  gap: Infinity,
  nullNeurons: 0,
  refinementPivot: 0.5,
};

describe('the precision rule', () => {
  it('keeps a well-conditioned layer on the GPU, with an error estimate under a tenth of the contract', () => {
    const v = gpuVerdict(wellConditioned);
    expect(v.gpu).toBe(true);
    expect(v.estimatedError).toBeLessThan(PRECISION_CONTRACT / 10);
  });

  it("sends CCA to float64 for constant neurons, variances at ε, directions near float64's null floor", () => {
    const cases: [Partial<Conditioning>, RegExp][] = [
      [{ nullNeurons: 2 }, /^2 neurons are constant/],
      [{ epsilonMargin: 1e-6 }, /variance sits at ε/],
      [{ floorRatio: 1e-11 }, /too ill-conditioned for the GPU's float32 \(directions near float64's null floor\)/],
      [{ refinementPivot: 0 }, /numerically rank-deficient/],
      [{ smallestKept: 1e-8, varianceSpread: 1 }, /too ill-conditioned/],
    ];
    for (const [change, reason] of cases) {
      const v = gpuVerdict({ ...wellConditioned, ...change });
      expect(v.gpu, JSON.stringify(change)).toBe(false);
      if (!v.gpu) expect(v.reason).toMatch(reason);
    }
  });

  it('sends SVCCA to float64 when the 99% cut or the kept subspace is within float32 round-off', () => {
    const svcca: Conditioning = { ...wellConditioned, metric: 'svcca', varianceSpread: 1, cutMargin: 1e-2, gap: 0.1 };
    expect(gpuVerdict(svcca).gpu).toBe(true);
    expect(gpuVerdict({ ...svcca, cutMargin: 1e-6 })).toMatchObject({ gpu: false, reason: expect.stringMatching(/99% variance cut/) });
    expect(gpuVerdict({ ...svcca, gap: 1e-5 })).toMatchObject({ gpu: false, reason: expect.stringMatching(/too close for float32 to separate/) });
  });

  it('the estimate grows as the smallest kept direction shrinks', () => {
    expect(estimatedError({ ...wellConditioned, smallestKept: 1e-8 })).toBeGreaterThan(estimatedError(wellConditioned) * 10);
  });

  it('PWCCA pairs whose canonical correlations coincide go to float64', () => {
    expect(pwccaPairVerdict([0.9, 0.5, 0.2], 3, 400).gpu).toBe(true);
    expect(pwccaPairVerdict([0.99999999, 0.999999995, 0.3], 3, 400).gpu).toBe(false);
    expect(pwccaPairVerdict([0.9, 1e-9, 0], 3, 400).gpu).toBe(true); // coinciding zeros weigh nothing
    expect(pwccaPairVerdict([1, 1 - 1e-7, 1 - 2e-7], 3, 400).gpu).toBe(true); // identical layers: every weight multiplies 1
    expect(pwccaPairVerdict([1, 1, 1, 0.5], 4, 400).gpu).toBe(false); // ... but not when another direction shares the weights
  });
});

describe('cellDelta and gridMaxDelta: two backends agree on empty cells too', () => {
  it('null against null is no difference; null against a number is an infinite one', () => {
    expect(cellDelta(null, null)).toBe(0);
    expect(cellDelta(0.5, null)).toBe(Infinity);
    expect(cellDelta(null, 0.5)).toBe(Infinity);
    expect(cellDelta(0.5, 0.25)).toBe(0.25);
    expectClose(gridMaxDelta([[[0.5, null]]], [[[0.5 + 1e-7, null]]]), 1e-7, TOL.f64Identity, 'one computed cell');
    expect(gridMaxDelta([[[0.5, null]]], [[[0.5, 0.1]]])).toBe(Infinity);
  });
});
