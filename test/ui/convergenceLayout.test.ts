import { describe, expect, it } from 'vitest';
import { compactStep, convergenceSeries, freezeIndex, layerColor, layoutConvergence, thinTicks, wantsLogSteps } from '../../src/ui/charts/convergenceLayout';

const frame = { width: 500, height: 300, margin: { top: 10, right: 10, bottom: 40, left: 50 } };

describe('convergenceSeries', () => {
  it('takes the diagonal over time for layers present on both axes', () => {
    const values = [
      [
        [0.5, 0.1],
        [0.2, 0.3],
      ],
      [
        [1, 0.2],
        [0.1, 1],
      ],
    ];
    expect(convergenceSeries(values, ['a', 'b'], ['a', 'b'])).toEqual([
      { layer: 'a', values: [0.5, 1] },
      { layer: 'b', values: [0.3, 1] },
    ]);
    expect(convergenceSeries(values, ['a', 'b'], ['b', 'x'])).toEqual([{ layer: 'b', values: [0.2, 0.1] }]);
  });
});

describe('freezeIndex (Freeze Training)', () => {
  it('is the first checkpoint from which the curve stays at or above the threshold', () => {
    expect(freezeIndex([0.2, 0.96, 0.9, 0.97, 1], 0.95)).toBe(3);
    expect(freezeIndex([0.96, 0.97, 1], 0.95)).toBe(0);
    expect(freezeIndex([0.2, 0.5, 0.95], 0.95)).toBe(2);
  });
  it('is null when the curve ends below, or is not computed to the end', () => {
    expect(freezeIndex([0.99, 0.5], 0.95)).toBeNull();
    expect(freezeIndex([0.99, 1, null], 0.95)).toBeNull();
    expect(freezeIndex([], 0.95)).toBeNull();
  });
});

describe('layoutConvergence', () => {
  const series = [
    { layer: 'low', values: [0.5, 0.97, 1] },
    { layer: 'high', values: [0.2, 0.6, 1] },
  ];
  const steps = [0, 100, 1000];
  const layout = layoutConvergence(series, steps, frame, { threshold: 0.95, legendWidth: 60 });

  it('draws one line per layer, x by step value, y in [0, 1]', () => {
    expect(layout.lines.map((l) => l.layer)).toEqual(['low', 'high']);
    const pts = layout.lines[0].points;
    expect(pts[0].x).toBeCloseTo(layout.plot.x, 6);
    expect(pts[2].x).toBeCloseTo(layout.plot.x + layout.plot.width, 6);
    expect(pts[1].x - pts[0].x).toBeCloseTo((pts[2].x - pts[0].x) / 10, 1);
    expect(pts[2].y).toBeCloseTo(layout.plot.y, 6);
    expect(layout.xTicks.map((t) => t.label)).toEqual(['0', '100', '1000']);
    expect(layout.lines[0].path.startsWith('M')).toBe(true);
  });

  it('marks each layer where it freezes and draws the threshold', () => {
    expect(layout.freeze.map((f) => [f.layer, f.step])).toEqual([
      ['low', 100],
      ['high', 1000],
    ]);
    expect(layout.threshold?.label).toBe('threshold 0.95');
  });

  it('names each line at its end (not only by colour), spread apart so the names never overlap', () => {
    expect(layout.legend).toHaveLength(0);
    expect(layout.endLabels.map((e) => e.layer).sort()).toEqual(['high', 'low']);
    for (const e of layout.endLabels) {
      expect(e.x).toBeGreaterThan(layout.plot.x + layout.plot.width);
      const line = layout.lines.find((l) => l.layer === e.layer)!;
      expect([e.fromX, e.fromY]).toEqual([line.points.at(-1)!.x, line.points.at(-1)!.y]);
    }
    // Both lines end at 1 and "low, high" does not fit beside the plot: their names are pulled
    // apart by the gap, not drawn on top of each other, each with a leader to the shared end.
    const [a, b] = layout.endLabels.map((e) => e.y);
    expect(Math.abs(a - b)).toBeGreaterThanOrEqual(12);
    expect(layout.endLabels.every((e) => e.leader)).toBe(true);
    // Nothing computed yet: the legend names the layers instead.
    const empty = layoutConvergence([{ layer: 'x', values: [null, null, null] }], steps, frame, { threshold: null, legendWidth: 60 });
    expect(empty.endLabels).toHaveLength(0);
    expect(empty.legend.map((e) => e.layer)).toEqual(['x']);
  });

  it('leaves gaps where values are missing, and no markers without a threshold', () => {
    const gappy = layoutConvergence([{ layer: 'x', values: [0.1, null, 0.9] }], steps, frame, { threshold: null });
    expect(gappy.lines[0].points).toHaveLength(2);
    expect(gappy.lines[0].path.match(/M/g)).toHaveLength(2);
    expect(gappy.freeze).toEqual([]);
    expect(gappy.threshold).toBeNull();
  });

  it('dots every point of a short line, and only the lone points of a long one (the path cannot draw them)', () => {
    const short = layoutConvergence([{ layer: 'x', values: [0.1, null, 0.9] }], steps, frame, { threshold: null });
    expect(short.lines[0].points.map((p) => p.marked)).toEqual([true, true]);
    // 80 checkpoints: a run of computed values, a gap, one lone value at t = 50, a gap, the rest.
    const manySteps = Array.from({ length: 80 }, (_, t) => t * 10);
    const values = manySteps.map((_, t) => (t === 49 || t === 51 ? null : 0.5 + t / 200));
    const long = layoutConvergence([{ layer: 'x', values }], manySteps, frame, { threshold: null });
    const marked = long.lines[0].points.filter((p) => p.marked).map((p) => p.t);
    expect(marked).toEqual([50]);
    // A lone value at either end counts too, as does a line whose neighbours are not finite.
    const ends = manySteps.map((_, t) => (t === 1 || t === 78 ? Number.NaN : 0.5));
    expect(
      layoutConvergence([{ layer: 'x', values: ends }], manySteps, frame, { threshold: null })
        .lines[0].points.filter((p) => p.marked)
        .map((p) => p.t),
    ).toEqual([0, 79]);
  });
});

describe('helpers', () => {
  it('writes steps compactly', () => {
    expect(compactStep(1500)).toBe('1500');
    expect(compactStep(15000)).toBe('15k');
    expect(compactStep(2_000_000)).toBe('2M');
  });
  it('colours layers by depth, differently on dark backgrounds', () => {
    expect(layerColor(0, 3)).not.toBe(layerColor(2, 3));
    expect(layerColor(0, 3, true)).not.toBe(layerColor(0, 3));
    expect(layerColor(0, 1)).toBe(layerColor(0, 1));
  });
});

describe('the step axis', () => {
  it('goes symlog when checkpoints are spread geometrically', () => {
    expect(wantsLogSteps([0, 37, 100, 270, 740, 2000])).toBe(true);
    expect(wantsLogSteps([0, 100, 200, 400, 800, 1600])).toBe(false);
    expect(wantsLogSteps([0, 1000])).toBe(false);
    const layout = layoutConvergence([{ layer: 'a', values: [0.1, 0.2, 0.3, 0.4, 0.5, 1] }], [0, 37, 100, 270, 740, 2000], frame, { threshold: null });
    expect(layout.logSteps).toBe(true);
    const xs = layout.lines[0].points.map((p) => p.x);
    // Geometric steps land roughly evenly apart (not crammed to the left as on a linear axis).
    expect(xs[2] - xs[1]).toBeGreaterThan((xs[5] - xs[0]) / 10);
  });

  it('leaves out tick labels that would collide', () => {
    const ticks = [
      { pos: 0, label: '0' },
      { pos: 5, label: '37' },
      { pos: 25, label: '100' },
      { pos: 100, label: '1000' },
    ];
    expect(thinTicks(ticks).map((t) => t.label)).toEqual(['0', '100', '1000']);
  });
});

describe('the legend of many layers', () => {
  it('samples layers evenly, first and last always, when they do not fit', () => {
    const many = Array.from({ length: 100 }, (_, k) => ({ layer: `l${k}`, values: [0.5, 1] }));
    const layout = layoutConvergence(many, [0, 1], frame, { threshold: null, legendWidth: 60 });
    expect(layout.legend.length).toBeLessThan(30);
    expect(layout.legend[0].layer).toBe('l0');
    expect(layout.legend.at(-1)!.layer).toBe('l99');
    const ys = layout.legend.map((e) => e.y);
    expect(ys.at(-1)!).toBeLessThanOrEqual(layout.plot.y + layout.plot.height + 6);
  });
});

describe('a curve with a missing value (a bad array)', () => {
  const steps = [0, 100, 200, 300];
  const frame = { width: 500, height: 300, margin: { top: 10, right: 10, bottom: 30, left: 40 } };
  it('breaks the line there, marks it with why, and draws no leader from an earlier point to the end label', () => {
    const layout = layoutConvergence(
      [
        { layer: 'fc1', values: [0.2, 0.5, 0.8, 1] },
        { layer: 'fc2', values: [0.3, null, 0.9, null], missing: [null, 'missing: s.npz:step_100/fc2: NaN', null, 'missing: s.npz:step_300/fc2: NaN'] },
      ],
      steps,
      frame,
      { threshold: null, legendWidth: 60 },
    );
    const fc2 = layout.lines[1];
    expect(fc2.path.match(/M/g)).toHaveLength(2);
    expect(layout.gaps.map((g) => [g.layer, g.step, g.why])).toEqual([
      ['fc2', 100, 'missing: s.npz:step_100/fc2: NaN'],
      ['fc2', 300, 'missing: s.npz:step_300/fc2: NaN'],
    ]);
    // fc1 ends at the last checkpoint: a leader exactly when its label moved off the end; fc2's last
    // value is at step 200: never one (a leader would read as a flat line to the end).
    const fc1Label = layout.endLabels.find((e) => e.layer === 'fc1')!;
    expect(fc1Label.leader).toBe(Math.abs(fc1Label.y - fc1Label.fromY) > 0.5);
    expect(layout.endLabels.find((e) => e.layer === 'fc2')!.leader).toBe(false);
  });
});
