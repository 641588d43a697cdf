import { describe, expect, it } from 'vitest';
import { decimate, labelOrder, layoutDirections, standardise } from '../../src/ui/charts/directionsLayout';

const frame = { width: 400, height: 120, margin: { top: 10, right: 10, bottom: 10, left: 40 } };

describe('directions over datapoints', () => {
  it('standardises each variate (zero mean, unit variance)', () => {
    const z = standardise([1, 2, 3, 4]);
    expect(z.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 12);
    expect(z.reduce((s, v) => s + v * v, 0) / 4).toBeCloseTo(1, 12);
    expect(standardise([5, 5, 5])).toEqual([0, 0, 0]);
  });

  it('orders datapoints by label, stably, or keeps the stored order', () => {
    expect(labelOrder(5, [2, 0, 2, 1, 0])).toEqual([1, 4, 3, 0, 2]);
    expect(labelOrder(3, null)).toEqual([0, 1, 2]);
    expect(labelOrder(3, [1, 0])).toEqual([0, 1, 2]); // wrong length: ignored
  });

  it('decimates long series keeping each bucket’s extremes in order', () => {
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) + (i === 537 ? 50 : 0));
    const keep = decimate(values, 50);
    expect(keep.length).toBeLessThanOrEqual(200);
    expect(keep).toContain(537);
    expect(keep).toContain(0);
    expect(keep).toContain(999);
    expect([...keep].sort((a, b) => a - b)).toEqual(keep);
    expect(decimate([1, 2, 3], 10)).toEqual([0, 1, 2]);
  });

  it('shades one band per label run when colouring by label', () => {
    const labels = [0, 1, 0, 1, 2, 2];
    const a = [1, 2, 3, 4, 5, 6];
    const layout = layoutDirections(a, a, labels, true, frame);
    expect(layout.bands.map((b) => b.label)).toEqual([0, 1, 2]);
    expect(new Set(layout.bands.map((b) => b.color)).size).toBe(3);
    expect(layout.pathA).toBe(layout.pathB);
    const plain = layoutDirections(a, a, labels, false, frame);
    expect(plain.bands).toEqual([]);
    expect(layout.yTicks.some((t) => t.value === 0)).toBe(true);
  });
});
