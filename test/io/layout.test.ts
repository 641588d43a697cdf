// Layout guessing, datapoint counts, and the finite / same-datapoints checks.
// Shape convention: shapes as stored; 'neurons-first' = google/svcca's (n, m).

import { describe, expect, it } from 'vitest';
import { checkFinite, checkSameDatapoints, datapointsOfShape, detectLayout } from '../../src/io/layout';
import type { ConvLayout, Layout } from '../../src/io/types';
import { expectInputError } from './helpers';

describe('detectLayout', () => {
  it('says why in one sentence', () => {
    expect(detectLayout([2000, 50], 2000)).toEqual({
      layout: 'datapoints-first',
      reason: '(2000, 50): first axis matches the 2000 datapoints of the other arrays, so datapoints-first',
    });
  });

  const cases: [string, number[], number | undefined, Layout, ConvLayout | undefined, RegExp][] = [
    ['2-D, second axis matches', [50, 2000], 2000, 'neurons-first', undefined, /second axis matches the 2000 datapoints/],
    ['2-D, both axes match', [2000, 2000], 2000, 'datapoints-first', undefined, /both axes match/],
    ['2-D, the smaller axis matches', [2000, 50], 50, 'neurons-first', undefined, /second axis matches the 50 datapoints/],
    ['2-D, neither matches, first larger', [300, 60], 2000, 'datapoints-first', undefined, /neither axis matches .* the first \(larger\) axis/],
    ['2-D, neither matches, second larger', [60, 300], 2000, 'neurons-first', undefined, /neither axis matches .* the second \(larger\) axis/],
    ['2-D, no count, tall', [2000, 50], undefined, 'datapoints-first', undefined, /first axis is larger/],
    ['2-D, no count, wide', [50, 2000], undefined, 'neurons-first', undefined, /second axis is larger/],
    ['2-D, no count, square', [64, 64], undefined, 'datapoints-first', undefined, /square/],
    ['3-D (N, T, D)', [32, 128, 768], undefined, 'datapoints-first', undefined, /\(datapoints, positions, features\)/],
    ['3-D whose last axis is the count', [8, 16, 32], 32, 'datapoints-first', undefined, /3-D/],
    ['4-D NHWC', [500, 8, 8, 64], undefined, 'datapoints-first', 'nhwc', /axes 1 and 2 are equal .* NHWC/],
    ['4-D NCHW', [500, 64, 8, 8], undefined, 'datapoints-first', 'nchw', /axes 2 and 3 are equal .* NCHW/],
    ['4-D all equal', [500, 8, 8, 8], undefined, 'datapoints-first', 'nchw', /cannot be told apart .* NCHW/],
    ['4-D no pair equal, last larger', [500, 3, 5, 16], undefined, 'datapoints-first', 'nhwc', /cannot be told apart .* NHWC/],
    ['4-D no pair equal, first larger', [500, 16, 5, 3], undefined, 'datapoints-first', 'nchw', /NCHW \(channels first\)/],
    ['4-D axes 1 and 3 equal', [500, 4, 7, 4], undefined, 'datapoints-first', 'nchw', /cannot be told apart/],
    ['1-D', [2000], 2000, 'datapoints-first', undefined, /one value per datapoint/],
    ['0-D', [], undefined, 'datapoints-first', undefined, /scalar/],
    ['5-D', [2, 3, 4, 5, 6], undefined, 'datapoints-first', undefined, /more than 4 axes/],
  ];

  it.each(cases)('%s', (_, shape, datapoints, layout, convLayout, reason) => {
    const detected = detectLayout(shape, datapoints);
    expect(detected.layout).toBe(layout);
    expect(detected.convLayout).toBe(convLayout);
    expect(detected.reason).toMatch(reason);
    expect(detected.reason.startsWith(`(${shape.join(', ')}`)).toBe(true);
  });
});

describe('datapointsOfShape', () => {
  it('reads axis 0, or the last axis when neurons-first', () => {
    expect(datapointsOfShape([2000, 50], 'datapoints-first')).toBe(2000);
    expect(datapointsOfShape([50, 2000], 'neurons-first')).toBe(2000);
    expect(datapointsOfShape([500, 8, 8, 64], 'datapoints-first')).toBe(500);
    expect(datapointsOfShape([7], 'datapoints-first')).toBe(7);
    expect(datapointsOfShape([], 'datapoints-first')).toBe(1);
  });
});

describe('checkFinite', () => {
  it('accepts finite values', () => {
    expect(() => checkFinite({ shape: [2, 2], dtype: '<f4', data: new Float32Array([0, -1, 3.5, 1e38]) }, 'ok.npy')).not.toThrow();
  });

  const bad: [string, Float32Array | Float64Array, RegExp][] = [
    [
      'NaN',
      new Float32Array([0, 1, 2, 3, 4, 5, NaN, 7, 8, 9, 10, NaN]),
      /^value at index \[1, 2\] is NaN \(and 1 more non-finite value\); activations must be finite$/,
    ],
    ['+Inf', new Float64Array([0, 1, 2, 3, Infinity, 5, 6, 7, 8, 9, 10, 11]), /^value at index \[1, 0\] is \+Inf; activations must be finite$/],
    ['-Inf', new Float64Array([-Infinity, NaN, Infinity, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /^value at index \[0, 0\] is -Inf \(and 2 more non-finite values\)/],
  ];
  it.each(bad)('names the first %s by index', async (_, data, detail) => {
    await expectInputError(() => checkFinite({ shape: [3, 4], dtype: '<f4', data }, 'acts.npz:conv1'), 'acts.npz:conv1', detail);
  });
});

describe('checkSameDatapoints', () => {
  it('accepts equal counts', () => {
    expect(() => checkSameDatapoints('a.npy', 2000, 'b.npy', 2000)).not.toThrow();
  });

  it('gives both counts', async () => {
    const error = await expectInputError(() => checkSameDatapoints('a.npy', 2000, 'b.npy', 1999), 'a.npy', /^has 2000 datapoints but b\.npy has 1999/);
    expect(error.message).toBe('a.npy: has 2000 datapoints but b.npy has 1999: both must hold the same inputs in the same order');
  });
});
