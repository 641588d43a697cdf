// The heatmaps above chance: similarity − chance and z, on a diverging scale centred on 0; cells
// without a chance level blank with the reason (never 0); the long CSV with the chance columns.

import { describe, expect, it } from 'vitest';
import type { Baseline } from '../../src/analysis/types';
import { CHANCE_COLUMNS, cellLines, chanceCsv, gridChanceLines, shownHeat } from '../../src/ui/chanceHeat';
import { heatColor, layoutHeatmap, symmetricDomain } from '../../src/ui/charts/heatmapLayout';

const chance = (mean: number, sd: number, observed: number): Baseline => ({
  mean,
  sd,
  z: sd === 0 ? null : (observed - mean) / sd,
  p: 1 / 21,
  permutations: 20,
  seed: 1,
  null: 'permutation',
});
const WHY = 'no chance level here';
// One checkpoint, 2 × 2: only the diagonal has a chance level; [1][1]'s permutations all agree (sd 0).
const values = [
  [
    [0.9, 0.3],
    [0.2, 0.6],
  ],
];
const baseline = [
  [
    [chance(0.1, 0.02, 0.9), null],
    [null, chance(0.6, 0, 0.6)],
  ],
];

describe('shownHeat', () => {
  it('similarity: the values on viridis, [0, 1] or fitted', () => {
    const h = shownHeat('similarity', 'SVCCA', values, baseline, null, 'fixed', true, WHY);
    expect(h).toMatchObject({ values, domain: [0, 1], scale: 'viridis', legendTitle: 'SVCCA', missing: 0 });
    expect(shownHeat('similarity', 'SVCCA', values, null, null, 'fit', true, WHY).domain).toEqual([0.2, 0.9]);
  });

  it('similarity − chance: the difference where there is a chance level, blank with the reason elsewhere', () => {
    const h = shownHeat('above-chance', 'SVCCA', values, baseline, null, 'fixed', true, WHY);
    expect(h.scale).toBe('diverging');
    expect(h.domain).toEqual([-1, 1]);
    expect(h.values[0][0][0]).toBeCloseTo(0.8, 12);
    expect(h.values[0][1][1]).toBe(0);
    expect(h.values[0][0][1]).toBeNull();
    expect(h.blanks[0]).toEqual([
      [null, WHY],
      [WHY, null],
    ]);
    expect(h.missing).toBe(2);
    expect(h.legendTitle).toBe('SVCCA − chance');
    expect(shownHeat('above-chance', 'SVCCA', values, baseline, null, 'fit', true, WHY).domain).toEqual([-0.8, 0.8]);
  });

  it('z: its own symmetric scale; z undefined (sd 0) is blank and says why', () => {
    const h = shownHeat('z', 'SVCCA', values, baseline, null, 'fixed', true, WHY);
    expect(h.values[0][0][0]).toBeCloseTo(40, 9);
    expect(h.values[0][1][1]).toBeNull();
    expect(h.blanks[0]![1][1]).toMatch(/z undefined/);
    expect(h.domain).toEqual([-40, 40]);
  });

  it('while the job runs the chance level is not there yet: cells pending, not blank', () => {
    const h = shownHeat('z', 'SVCCA', values, null, null, 'fixed', false, WHY);
    expect(h.values[0]).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(h.blanks).toEqual([null]);
    expect(h.missing).toBe(0);
  });

  it("keeps the grid's own blank cells and their reason", () => {
    const blank = [
      [null, 'not comparable'],
      [null, null],
    ];
    const h = shownHeat('above-chance', 'SVCCA', values, baseline, blank, 'fixed', true, WHY);
    expect(h.blanks[0]![0][1]).toBe('not comparable');
    expect(h.missing).toBe(1);
  });
});

describe('diverging colours', () => {
  it('white at 0, red above, blue below; symmetric domains', () => {
    const color = heatColor([-1, 1], 'diverging');
    const whiteish = (c: string) => c.match(/\d+/g)!.every((x) => Number(x) > 235);
    expect(whiteish(color(0))).toBe(true);
    const red = (c: string) => Number(c.match(/\d+/g)![0]) - Number(c.match(/\d+/g)![2]);
    expect(red(color(0.8))).toBeGreaterThan(100);
    expect(red(color(-0.8))).toBeLessThan(-100);
    expect(symmetricDomain([[[0.31, -0.05, null]]], 0.01)).toEqual([-0.31, 0.31]);
    expect(symmetricDomain([[[null]]], 1)).toEqual([-1, 1]);
    const layout = layoutHeatmap({ values: [[0.5, -0.5]], rows: ['a'], cols: ['x', 'y'], domain: [-1, 1], scale: 'diverging', width: 400 });
    expect(layout.legend!.stops[5].color).toBe(color(0));
    expect(layout.cells.map((c) => c.fill)).toEqual([color(0.5), color(-0.5)]);
  });
});

describe('cellLines', () => {
  it('what the colour shows first, then the similarity and its chance level', () => {
    const b = baseline[0][0][0]!;
    expect(cellLines('above-chance', 'SVCCA', 0.9, b, null, WHY)).toEqual([
      'SVCCA − chance = 0.800000',
      'SVCCA = 0.900000',
      "chance 0.100 ± 0.020 (z 40.0, p 0.048, the least 20 draws give; 20 permutations of B's datapoints)",
    ]);
    // A p that some draws reached is printed bare.
    expect(cellLines('similarity', 'SVCCA', 0.9, { ...b, p: 3 / 21 }, null, WHY)[1]).toBe(
      "chance 0.100 ± 0.020 (z 40.0, p 0.143; 20 permutations of B's datapoints)",
    );
    expect(cellLines('z', 'SVCCA', 0.9, b, null, WHY)[0]).toBe('z = 40.00');
    expect(cellLines('similarity', 'SVCCA', 0.9, b, null, WHY)).toHaveLength(2);
    expect(cellLines('z', 'SVCCA', 0.3, null, null, WHY)).toEqual(['SVCCA = 0.300000', WHY]);
    expect(cellLines('similarity', 'SVCCA', 0.3, null, null, WHY)).toEqual(['SVCCA = 0.300000']);
  });
});

describe('chanceCsv', () => {
  it('one line per cell with mean, sd, z, p, permutations and seed (empty without a chance level)', () => {
    const text = chanceCsv(["A's layer", "B's layer"], 'svcca', gridChanceLines(['a', 'b'], ['x', 'y'], values[0], baseline[0]), [['bundle', 'd.npz']]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('# bundle: d.npz');
    expect(lines[1]).toBe(`A's layer,B's layer,svcca,${CHANCE_COLUMNS.join(',')}`);
    expect(lines[2]).toBe(`a,x,0.9,0.1,0.02,${(0.9 - 0.1) / 0.02},${1 / 21},20,1`);
    expect(lines[3]).toBe('a,y,0.3,,,,,,');
    expect(lines[5]).toBe(`b,y,0.6,0.6,0,,${1 / 21},20,1`);
  });
});
