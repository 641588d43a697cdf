import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/ui/charts/frame';
import { plotArea } from '../../src/ui/charts/frame';
import { VARIANCE_MAX_POINTS, layoutVarianceSpectrum, varianceShares } from '../../src/ui/charts/varianceLayout';

const FRAME: Frame = { width: 320, height: 200, margin: { top: 12, right: 12, bottom: 44, left: 52 } };
const plot = plotArea(FRAME);

describe('varianceShares', () => {
  it('normalises λ to shares of Σλ, treating negative round-off as zero', () => {
    expect(varianceShares([3, 1, 0, -1e-18])).toEqual([0.75, 0.25, 0, 0]);
    expect(varianceShares([0, 0])).toEqual([0, 0]);
  });
});

describe('layoutVarianceSpectrum', () => {
  // 10 directions, shares 1/2, 1/4, … : the 99% rule keeps 7 (1 - 2^-7 > 0.99).
  const lambda = Array.from({ length: 10 }, (_, i) => 2 ** -i);
  const layout = layoutVarianceSpectrum(lambda, 7, FRAME);

  it('puts the cut between direction k and k + 1 and says how much it keeps', () => {
    const step = plot.width / 10;
    expect(layout.cut).not.toBeNull();
    expect(layout.cut!.k).toBe(7);
    expect(layout.cut!.x).toBeCloseTo(plot.x + 7 * step, 1);
    const share = lambda.slice(0, 7).reduce((s, v) => s + v, 0) / lambda.reduce((s, v) => s + v, 0);
    expect(layout.keptShare).toBeCloseTo(share, 12);
    expect(layout.cut!.label).toBe(`k = 7 keeps ${(share * 100).toFixed(1)}%`);
    expect(layout.kept.width).toBeCloseTo(7 * step, 1);
    expect(layout.cut!.anchor).toBe('end'); // right half: label goes left of the line
  });

  it('draws larger shares higher (log axis) and the largest at the top', () => {
    const ys = layout.points.map((p) => p.y);
    for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeGreaterThan(ys[i - 1]);
    expect(ys[0]).toBeGreaterThanOrEqual(plot.y - 0.01);
    // Equal ratios → equal steps on a log axis.
    expect(ys[2] - ys[1]).toBeCloseTo(ys[1] - ys[0], 1);
  });

  it('labels y ticks as powers of ten only', () => {
    expect(layout.yTicks.length).toBeGreaterThan(0);
    expect(layout.yTicks.length).toBeLessThanOrEqual(5);
    for (const t of layout.yTicks) expect(Math.log10(t.value) % 1).toBeCloseTo(0, 9);
  });

  it('has no cut when every direction is kept, or none', () => {
    expect(layoutVarianceSpectrum(lambda, 10, FRAME).cut).toBeNull();
    expect(layoutVarianceSpectrum(lambda, 10, FRAME).keptShare).toBeCloseTo(1, 12);
    expect(layoutVarianceSpectrum(lambda, 0, FRAME).cut).toBeNull();
  });

  it('draws zero variance at the floor instead of −∞', () => {
    const l = layoutVarianceSpectrum([5, 1, 0, 0], 2, FRAME);
    expect(JSON.stringify(l)).not.toMatch(/NaN|Infinity/);
    expect(l.points[3].y).toBeCloseTo(plot.y + plot.height, 1);
  });

  it('copes with a single direction and with all-zero spectra', () => {
    for (const lam of [[2], [0, 0, 0], []]) {
      const l = layoutVarianceSpectrum(lam, lam.length, FRAME);
      expect(JSON.stringify(l)).not.toMatch(/NaN|Infinity/);
    }
  });

  it('drops dots for long spectra but keeps the path', () => {
    const long = Array.from({ length: VARIANCE_MAX_POINTS + 1 }, (_, i) => 1 / (i + 1));
    const l = layoutVarianceSpectrum(long, 30, FRAME);
    expect(l.points).toEqual([]);
    expect(l.path.split('L')).toHaveLength(long.length);
    expect(l.cut!.anchor).toBe('start');
  });
});
