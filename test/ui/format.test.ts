import { describe, expect, it } from 'vitest';
import { count, epsilonLabel, fixed, keepLabel, pair } from '../../src/ui/format';

describe('format', () => {
  it('fixed: decimals, real minus, dash for missing', () => {
    expect(fixed(1, 4)).toBe('1.0000');
    expect(fixed(0.912345, 3)).toBe('0.912');
    expect(fixed(-0.5, 2)).toBe('−0.50');
    expect(fixed(null)).toBe('—');
    expect(fixed(Number.NaN)).toBe('—');
  });
  it('count groups thousands with thin spaces', () => {
    expect(count(400)).toBe('400');
    expect(count(12800)).toBe('12\u202f800');
  });
  it('keep and epsilon labels', () => {
    expect(keepLabel({ kind: 'variance', fraction: 0.99 })).toBe('0.99 of variance');
    expect(keepLabel({ kind: 'dims', k: 20 })).toBe('k = 20');
    expect(keepLabel(null)).toBe('no SVD step');
    expect(epsilonLabel(1e-10)).toBe('1e-10');
    expect(epsilonLabel(0)).toBe('0');
    expect(epsilonLabel(0.01)).toBe('0.01');
  });
  it('pair joins two sides', () => {
    expect(pair([3, 4] as const)).toBe('3 · 4');
  });
});
