// SVCCA's centred copy lives in a reused scratch buffer (src/math/scratch.ts): a factor must not
// depend on anything that a later factorisation writes there. Shapes: n neurons × m datapoints.
import { describe, expect, it } from 'vitest';
import { svccaFactor, svccaFactorFromStep, svdStepTop } from '../../src/math/cca';
import { randn } from '../../src/math/random';
import { scratchFloat64 } from '../../src/math/scratch';
import { decaying } from '../helpers/data';

const keep99 = { kind: 'variance', fraction: 0.99 } as const;

describe('scratch buffer of the SVCCA factor', () => {
  it('gives the factor of a freshly allocated centred copy, bit for bit, whatever runs after it', () => {
    const x = decaying(5, 40, 700);
    const first = svccaFactor(x, keep99, 1e-10);
    const reference = (() => {
      const step = svdStepTop(x, keep99);
      return svccaFactorFromStep(step, step.k, 1e-10);
    })();
    // Later factorisations of other shapes overwrite the scratch buffer.
    svccaFactor(randn(6, 30, 900), keep99, 1e-10);
    svccaFactor(randn(7, 64, 700), keep99, 1e-10);
    scratchFloat64(40 * 700).fill(Number.NaN);
    expect(first.k).toBe(reference.k);
    expect(Array.from(first.cca.z.data)).toEqual(Array.from(reference.cca.z.data));
    expect(first.spectrum).toEqual(reference.spectrum);
  });

  it('hands out the requested length and reuses the same memory', () => {
    const a = scratchFloat64(1000);
    const b = scratchFloat64(500);
    expect(a.length).toBe(1000);
    expect(b.length).toBe(500);
    expect(b.buffer).toBe(a.buffer);
  });
});
