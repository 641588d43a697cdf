// End labels of line charts (ui/charts/endLabels.ts, used by the convergence and per-class curves):
// each name beside its line's end, moved only as far as the gap needs, lines that end together
// sharing one short name.

import { describe, expect, it } from 'vitest';
import { groupText, placeEndLabels, separate } from '../../src/ui/charts/endLabels';
import { layoutConvergence } from '../../src/ui/charts/convergenceLayout';
import { textWidth } from '../../src/ui/charts/heatmapLayout';

const options = { gap: 12, lo: 0, hi: 300, together: 3, maxWidth: 70, textWidth };
const ends = (ys: number[], name = (i: number) => `line ${i}`) => ys.map((y, i) => ({ name: name(i), y }));

describe('separate', () => {
  it('leaves labels that do not overlap where they are', () => {
    expect(separate([10, 40, 200], 12, 0, 300)).toEqual([10, 40, 200]);
  });

  it('spreads a crowd around where it is, each label moved as little as the gap needs', () => {
    // Three at 100: one stays, one goes up and one down by a gap (not all pushed downwards).
    expect(separate([100, 100, 100], 12, 0, 300)).toEqual([88, 100, 112]);
    // Two 4 px apart: each moves 4 px, the pair centred on their mean.
    expect(separate([50, 54], 12, 0, 300)).toEqual([46, 58]);
    // A crowd against an edge goes the other way, no further than it must.
    expect(separate([0, 0, 0], 12, 0, 300)).toEqual([0, 12, 24]);
    expect(separate([300, 299], 12, 0, 300)).toEqual([288, 300]);
  });

  it('keeps every label at least a gap apart, inside the band, in the order of the targets', () => {
    const targets = [3, 5, 6, 40, 41, 42, 43, 150, 295, 296];
    const ys = separate(targets, 12, 0, 300);
    for (let k = 1; k < ys.length; k++) expect(ys[k] - ys[k - 1]).toBeGreaterThanOrEqual(12 - 1e-9);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ys)).toBeLessThanOrEqual(300);
    expect(ys[7]).toBe(150); // alone: not moved
  });
});

describe('groupText', () => {
  it('says shared words once and runs of numbers as ranges', () => {
    expect(groupText(Array.from({ length: 10 }, (_, c) => `class ${c}`))).toBe('class 0–9');
    expect(groupText(['class 0', 'class 1', 'class 2', 'class 5', 'class 7', 'class 8'])).toBe('class 0–2, 5, 7, 8');
    expect(groupText(['conv1', 'conv2', 'fc'])).toBe('conv1, conv2, fc');
    expect(groupText(['stem'])).toBe('stem');
  });
});

describe('placeEndLabels', () => {
  it('ten lines ending at ρ = 1 (the plot top) share one label there: no stack down the axis', () => {
    const placed = placeEndLabels(
      ends(Array(10).fill(20), (c) => `class ${c}`),
      { ...options, lo: 14 },
    )!;
    expect(placed).toHaveLength(1);
    expect(placed[0]).toMatchObject({ text: 'class 0–9', target: 20, y: 20, members: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
  });

  it('lines ending together keep their own names where one short name cannot say them all', () => {
    const placed = placeEndLabels(
      ends([20, 20, 20], (i) => ['stem', 's1b1-inner', 'logits'][i]),
      { ...options, lo: 14 },
    )!;
    expect(placed.map((p) => p.text)).toEqual(['stem', 's1b1-inner', 'logits']);
    expect(placed.map((p) => p.y)).toEqual([14, 26, 38]);
  });

  it('lines ending within a label’s height share it where the names fit; otherwise each is nudged apart symmetrically', () => {
    // 98 … 106 px: one bundle on screen, "line 0–2" fits.
    expect(placeEndLabels(ends([98, 106, 102]), options)!.map((p) => [p.text, p.target, p.y])).toEqual([['line 0–2', 102, 102]]);
    // Names too long to share one label (maxWidth 40): ordered top to bottom, the lone end keeps its y.
    const placed = placeEndLabels(ends([250, 100, 106]), { ...options, maxWidth: 40 })!;
    expect(placed.map((p) => p.members)).toEqual([[1], [2], [0]]);
    expect(placed.map((p) => p.y)).toEqual([97, 109, 250]);
    expect(placed.map((p) => p.target)).toEqual([100, 106, 250]);
  });

  it('is null when the labels cannot fit in the band (the chart shows a legend instead)', () => {
    expect(placeEndLabels(ends([0, 10, 20, 30]), { ...options, hi: 30, maxWidth: 40 })).toBeNull();
    expect(placeEndLabels([], options)).toEqual([]);
  });
});

describe('the per-class curves (Classes view)', () => {
  const frame = { width: 520, height: 300, margin: { top: 14, right: 12, bottom: 42, left: 52 } };
  const steps = [0, 20, 40, 75, 125, 200, 280];
  const legendWidth = textWidth('class 9') + 34;

  it('all ten classes at 1.0: one label beside the curves’ end, not spread down to ~0.55', () => {
    const series = Array.from({ length: 10 }, (_, c) => ({ layer: `class ${c}`, values: steps.map(() => 1) }));
    const layout = layoutConvergence(series, steps, frame, { threshold: 0.8, legendWidth });
    expect(layout.endLabels).toHaveLength(1);
    const [label] = layout.endLabels;
    expect(label.text).toBe('class 0–9');
    expect(label.layers).toHaveLength(10);
    expect(label.y).toBe(layout.plot.y);
    expect(label.leader).toBe(false);
    expect(layout.legend).toHaveLength(0);
  });

  it('curves ending at different heights: each label at its own curves’ end, moved only to clear its neighbour', () => {
    const finals = [0.95, 0.6, 0.9, 0.3, 0.92];
    const series = finals.map((v, c) => ({ layer: `class ${c}`, values: steps.map((_, t) => (v * (t + 1)) / steps.length) }));
    const layout = layoutConvergence(series, steps, frame, { threshold: null, legendWidth });
    const end = (c: number) => layout.lines[c].points.at(-1)!.y;
    const byName = new Map(layout.endLabels.map((e) => [e.text, e]));
    // 0.95 and 0.92 end 7 px apart: one label between them; 0.9 is 12 px below 0.95: its own label.
    expect([...byName.keys()].sort()).toEqual(['class 0, 4', 'class 1', 'class 2', 'class 3']);
    // Alone: exactly at its end, no leader.
    for (const c of [1, 3]) expect([byName.get(`class ${c}`)!.y, byName.get(`class ${c}`)!.leader]).toEqual([end(c), false]);
    // The crowd: a gap apart, each moved by less than a gap from where its lines end, with leaders.
    const [top, next] = [byName.get('class 0, 4')!, byName.get('class 2')!];
    expect(next.y - top.y).toBeGreaterThanOrEqual(12 - 0.01);
    expect(Math.abs(top.y - (end(0) + end(4)) / 2)).toBeLessThan(12);
    expect(Math.abs(next.y - end(2))).toBeLessThan(12);
    expect([top.leader, next.leader]).toEqual([true, true]);
  });
});
