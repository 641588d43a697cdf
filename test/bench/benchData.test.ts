// Pure helpers of the speed benchmark (scripts/bench-data.ts): the synthetic generator, the FLOP
// models and the small utilities. No timing here: speed is reported by `npm run bench` as ratios
// measured in one run, never asserted in tests.

import { describe, expect, it } from 'vitest';

import { chooseK } from '../../src/math/cca';
import {
  abtDotProducts,
  ActivationGenerator,
  alignment,
  applyGivens,
  applyGivensRows,
  DEFAULT_GENERATOR,
  givensNetwork,
  keepCount,
  NormalStream,
  oursFactorFlops,
  oursPairFlops,
  populationSpectrum,
  referencePairFlops,
  renderTable,
  sampleIndices,
  seedFor,
  type GeneratorSpec,
} from '../../scripts/bench-data';

const spec = (over: Partial<GeneratorSpec> = {}): GeneratorSpec => ({
  ...DEFAULT_GENERATOR,
  widths: [12, 16, 9],
  steps: 4,
  datapoints: 300,
  ...over,
});

describe('seeds and normals', () => {
  it('seedFor is deterministic and separates tuples', () => {
    expect(seedFor(1, 2, 3)).toBe(seedFor(1, 2, 3));
    const seeds = new Set<number>();
    for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) seeds.add(seedFor(7, a, b));
    expect(seeds.size).toBe(100);
    expect(seedFor(1, 2)).not.toBe(seedFor(2, 1));
  });

  it('NormalStream.fill continues the same stream as next()', () => {
    const a = new NormalStream(99);
    const b = new NormalStream(99);
    const filled = new Float64Array(7);
    a.fill(filled, 3);
    a.fill(filled.subarray(3), 4);
    const one = Array.from({ length: 7 }, () => b.next());
    expect(Array.from(filled)).toEqual(one);
  });

  it('gives standard normals', () => {
    const s = new NormalStream(5);
    const x = new Float64Array(40000);
    s.fill(x);
    const mean = x.reduce((p, v) => p + v, 0) / x.length;
    const variance = x.reduce((p, v) => p + (v - mean) ** 2, 0) / (x.length - 1);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });
});

describe('Givens network', () => {
  for (const n of [7, 10, 32]) {
    it(`is orthogonal (n = ${n})`, () => {
      const net = givensNetwork(n, 3);
      const columns = Array.from({ length: n }, (_, j) => {
        const v = new Float64Array(n);
        v[j] = 1;
        applyGivens(net, v);
        return v;
      });
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let r = 0; r < n; r++) dot += columns[i][r] * columns[j][r];
          expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
      // Dense mixing: a basis vector spreads over most coordinates.
      const spread = columns[0].filter((x) => Math.abs(x) > 1e-9).length;
      expect(spread).toBeGreaterThan(n / 2);
    });
  }
});

describe('spectrum and k', () => {
  it('keepCount matches the engine rule (chooseK) on the population spectrum', () => {
    for (const n of [64, 128, 256, 512]) {
      const spectrum = populationSpectrum(n, 2);
      expect(keepCount(spectrum, 0.99)).toBe(chooseK(Array.from(spectrum), { kind: 'variance', fraction: 0.99 }));
    }
    expect(keepCount(populationSpectrum(256, 2), 0.99)).toBe(49);
  });

  it('alignment: the last step is final, lower layers converge first, α grows with t', () => {
    const s = spec({ widths: [8, 8, 8, 8], steps: 6 });
    for (let l = 0; l < 4; l++) expect(alignment(s, l, 5)).toBe(1);
    for (let t = 0; t < 5; t++) for (let l = 0; l < 3; l++) expect(alignment(s, l, t)).toBeGreaterThanOrEqual(alignment(s, l + 1, t));
    for (let l = 0; l < 4; l++) for (let t = 1; t < 6; t++) expect(alignment(s, l, t)).toBeGreaterThanOrEqual(alignment(s, l, t - 1));
    expect(alignment(s, 3, 0)).toBeCloseTo(s.initialAlignment, 12);
  });
});

describe('ActivationGenerator', () => {
  it('is deterministic, order-independent, and (m, n) shaped', () => {
    const a = new ActivationGenerator(spec());
    const b = new ActivationGenerator(spec());
    const late = b.generate(2, 3);
    const early = b.generate(0, 1);
    expect(a.generate(0, 1)).toEqual(early);
    expect(a.generate(2, 3)).toEqual(late);
    expect(late.length).toBe(300 * 9);
    expect(a.generate(1, 2)).not.toEqual(a.generate(1, 1));
  });

  it('has the stated variance spectrum (centred Gram eigenvalues ∝ i^-2) and positive offsets', () => {
    const n = 6;
    const m = 20000;
    const g = new ActivationGenerator(spec({ widths: [n], steps: 1, datapoints: m }));
    const x = g.generate(0, 0);
    const means = new Float64Array(n);
    for (let d = 0; d < m; d++) for (let i = 0; i < n; i++) means[i] += x[d * n + i] / m;
    expect(Math.min(...means)).toBeGreaterThanOrEqual(0);
    // Trace of the covariance = Σ i^-2 (the rotation preserves it).
    let trace = 0;
    for (let d = 0; d < m; d++) for (let i = 0; i < n; i++) trace += (x[d * n + i] - means[i]) ** 2 / (m - 1);
    let expected = 0;
    for (let i = 1; i <= n; i++) expected += i ** -2;
    expect(Math.abs(trace / expected - 1)).toBeLessThan(0.03);
  });
});

describe('FLOP models', () => {
  it('abtDotProducts counts the 4×4 blocks multiplyABt computes', () => {
    expect(abtDotProducts(5, 7, false)).toBe(35);
    expect(abtDotProducts(8, 8, true)).toBe(48); // blocks (0,0), (0,4), (4,4)
    for (const p of [1, 3, 4, 9, 10, 13]) {
      let brute = 0;
      for (let i = 0; i < p; i += 4) for (let j = i; j < p; j += 4) brute += Math.min(4, p - i) * Math.min(4, p - j);
      expect(abtDotProducts(p, p, true)).toBe(brute);
      expect(abtDotProducts(p, p, true)).toBeGreaterThanOrEqual((p * (p + 1)) / 2);
    }
  });

  it('totals are the sums of their parts', () => {
    const f = oursFactorFlops(256, 5000, 49);
    expect(f.total).toBe(f.centre + f.gram + f.eigen + f.project + f.whiten);
    expect(f.project).toBe(2 * 49 * 256 * 5000);
    const p = oursPairFlops(40, 50, 1000);
    expect(p.cross).toBe(2 * 40 * 50 * 1000);
    expect(p.total).toBe(p.cross + p.small);
    const r = referencePairFlops(256, 256, 5000, 49, 49);
    expect(r.total).toBe(r.centre + r.svd + r.reduce + r.cov + r.pinvSqrt + r.final);
    expect(r.svd).toBe(2 * (6 * 5000 * 256 ** 2 + 20 * 256 ** 3));
  });
});

describe('utilities', () => {
  it('sampleIndices: distinct, in range, deterministic', () => {
    const a = sampleIndices(2000, 60, 7);
    expect(new Set(a).size).toBe(60);
    expect(a.every((i) => i >= 0 && i < 2000)).toBe(true);
    expect(sampleIndices(2000, 60, 7)).toEqual(a);
    expect(sampleIndices(5, 10, 1).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('renderTable aligns columns', () => {
    const text = renderTable(
      ['job', 's'],
      [
        ['a', '1.0'],
        ['longer', '10.25'],
      ],
    );
    const lines = text.split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[3].startsWith('longer')).toBe(true);
  });
});

describe('blocked rotation', () => {
  it('applyGivensRows equals applyGivens row by row', () => {
    const n = 11;
    const net = givensNetwork(n, 9);
    const rows = 3;
    const block = Float64Array.from({ length: rows * n }, (_, i) => Math.sin(i + 1));
    const single = block.map((x) => x);
    applyGivensRows(net, block, rows);
    for (let r = 0; r < rows; r++) applyGivens(net, single.subarray(r * n, (r + 1) * n));
    expect(Array.from(block)).toEqual(Array.from(single));
  });
});
