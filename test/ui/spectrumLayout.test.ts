import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/ui/charts/frame';
import { indexTickValues, plotArea } from '../../src/ui/charts/frame';
import { SPECTRUM_MAX_POINTS, layoutSpectrum, mean } from '../../src/ui/charts/spectrumLayout';

const FRAME: Frame = { width: 640, height: 260, margin: { top: 10, right: 20, bottom: 40, left: 50 } };
const plot = plotArea(FRAME);
const bottom = plot.y + plot.height;

describe('plotArea / indexTickValues', () => {
  it('subtracts the margins', () => {
    expect(plot).toEqual({ x: 50, y: 10, width: 570, height: 210 });
  });
  it('lists every index when few, round steps when many', () => {
    expect(indexTickValues(0, 8)).toEqual([]);
    expect(indexTickValues(3, 8)).toEqual([1, 2, 3]);
    expect(indexTickValues(400, 6)).toEqual([1, 100, 200, 300, 400]);
    expect(indexTickValues(37, 8)).toEqual([1, 10, 20, 30]);
    expect(indexTickValues(30, 8)).toEqual([1, 5, 10, 15, 20, 25, 30]);
    expect(indexTickValues(13, 8)).toEqual([1, 3, 5, 7, 9, 11, 13]);
  });
});

describe('layoutSpectrum', () => {
  const rho = [1, 0.9, 0.5, 0.2];
  const layout = layoutSpectrum(rho, { mean: mean(rho), mean98: 0.8 }, FRAME);

  it('maps ρ = 1 to the top and ρ = 0 to the bottom of the plot', () => {
    expect(layout.points[0]).toMatchObject({ i: 1, value: 1, y: plot.y });
    const zero = layoutSpectrum([0], { mean: null, mean98: null }, FRAME);
    expect(zero.points[0].y).toBe(bottom);
  });

  it('places i = 1..n half a step inside either edge, evenly spaced', () => {
    const step = plot.width / rho.length;
    layout.points.forEach((p, k) => expect(p.x).toBeCloseTo(plot.x + step * (k + 0.5), 1));
    expect(layout.points.map((p) => p.i)).toEqual([1, 2, 3, 4]);
  });

  it('draws a path through every point', () => {
    expect(layout.path.startsWith('M')).toBe(true);
    expect(layout.path.split('L')).toHaveLength(rho.length);
  });

  it('marks mean ρ and mean98 as horizontal lines at their values', () => {
    const m = layout.lines.find((l) => l.key === 'mean')!;
    const m98 = layout.lines.find((l) => l.key === 'mean98')!;
    expect(m.value).toBeCloseTo(0.65, 12);
    expect(m.y).toBeCloseTo(bottom - 0.65 * plot.height, 1);
    expect(m.label).toBe('mean ρ 0.650');
    expect(m98.y).toBeCloseTo(bottom - 0.8 * plot.height, 1);
  });

  it('moves the lower label under its line when the two lines nearly coincide', () => {
    const close = layoutSpectrum([0.9, 0.8], { mean: 0.85, mean98: 0.86 }, FRAME);
    const [lo, hi] = [...close.lines].sort((p, q) => q.y - p.y);
    expect(lo.labelY).toBeGreaterThan(lo.y);
    expect(hi.labelY).toBeLessThan(hi.y);
    expect(lo.labelY - hi.labelY).toBeGreaterThanOrEqual(14);
  });

  it('omits missing summaries and clamps round-off above 1', () => {
    const l = layoutSpectrum([1 + 1e-12, 0.3], { mean: null, mean98: null }, FRAME);
    expect(l.lines).toEqual([]);
    expect(l.points[0].y).toBe(plot.y);
  });

  it('keeps y ticks on [0, 1] and drops dots for long spectra', () => {
    expect(layout.yTicks.map((t) => t.value)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(layout.yTicks[0].label).toBe('0.0');
    const long = Array.from({ length: SPECTRUM_MAX_POINTS + 1 }, (_, i) => 1 - i / 100);
    const l = layoutSpectrum(long, { mean: mean(long), mean98: null }, FRAME);
    expect(l.points).toEqual([]);
    expect(l.path.split('L')).toHaveLength(long.length);
    expect(l.xTicks[0]).toMatchObject({ value: 1, label: '1' });
  });

  it('handles an empty spectrum without NaN', () => {
    const l = layoutSpectrum([], { mean: null, mean98: null }, FRAME);
    expect(l.path).toBe('');
    expect(l.points).toEqual([]);
    expect(JSON.stringify(l)).not.toContain('NaN');
  });

  it('mean is the arithmetic mean, null when empty', () => {
    expect(mean([])).toBeNull();
    expect(mean([1, 2, 3, 6])).toBe(3);
  });
});
