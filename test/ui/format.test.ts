import { describe, expect, it } from 'vitest';
import { count, epsilonLabel, fixed, freezeText, keepLabel, pair, plainBackend } from '../../src/ui/format';

describe('format', () => {
  it('freezeText: a layer at the threshold only at the last step, the reference, has not frozen', () => {
    const steps = [0, 20, 50, 100, 200, 400];
    expect(freezeText(3, steps, 400)).toBe('from step 100');
    expect(freezeText(5, steps, 400)).toBe('not before the reference step 400');
    expect(freezeText(null, steps, 400)).toBe('not yet');
    // A reference before the end: staying above it from the reference on is a finding.
    expect(freezeText(4, steps, 200)).toBe('from step 200');
  });
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

describe('the backend line in plain words', () => {
  it('says which processor computed and why, without jargon', () => {
    expect(plainBackend('CPU (float64), as chosen')).toBe('Computed on the CPU in float64, as chosen under Backend.');
    const software = plainBackend(
      'CPU (float64): the WebGPU adapter (google swiftshader (software fallback)) is a software fallback, slower than the CPU path; choose GPU to use it anyway',
    );
    expect(software).toBe(
      'Computed on the CPU in float64: this browser’s WebGPU has no graphics card behind it (google swiftshader draws on the processor), which is slower than the CPU path. Choose Backend: GPU to use it anyway.',
    );
    expect(software).not.toMatch(/fallback/);
    expect(plainBackend('WebGPU (float32) on nvidia h100, as chosen')).toBe(
      'Computed on the graphics card (nvidia h100) with WebGPU in float32, as chosen under Backend.',
    );
    expect(plainBackend('CPU (float64): WebGPU is not available here')).toBe('Computed on the CPU in float64: this browser offers no WebGPU.');
    expect(plainBackend('something new')).toBe('Computed on: something new');
  });
});
