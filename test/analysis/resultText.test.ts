import { describe, expect, it } from 'vitest';

import { comparePair } from '../../src/analysis/engine';
import { groupLayerWarnings } from '../../src/analysis/resultText';
import { isInformational } from '../../src/analysis/rules';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import type { NdArray } from '../../src/io/types';
import { randn } from '../../src/math/random';
import { storedDatapointsFirst } from '../helpers/bundle';

describe('isInformational', () => {
  it('tells how a conv layer was read and reduced (a note) from the warnings of the same result', async () => {
    // A conv layer (NCHW) through the DFT against a layer of 60 neurons on 100 datapoints: one note, and real warnings.
    const conv: NdArray = { shape: [100, 3, 4, 4], dtype: '<f4', data: Float32Array.from(randn(9, 1, 100 * 48).data) };
    const r = await comparePair(
      { name: 'conv.npy', array: conv },
      { name: 'fc.npy', array: storedDatapointsFirst(randn(10, 60, 100)) },
      { ...DEFAULT_OPTIONS, metric: 'cca' },
    );
    const notes = r.warnings.filter(isInformational);
    expect(notes).toEqual([expect.stringMatching(/^conv\.npy: conv layer stored \(100, 3, 4, 4\), read as NCHW: C=3, H=W=4; reduced with dft: /)]);
    const warnings = r.warnings.filter((w) => !isInformational(w));
    expect(warnings).toEqual([expect.stringMatching(/^fc\.npy: 100 datapoints for 60 channels per frequency block/)]);
  });

  it('a sequence (N, T, D) through the DFT: the note says what the DFT assumes along T; a conv layer, or meanpool, does not get it', async () => {
    const sequence: NdArray = { shape: [100, 6, 4], dtype: '<f4', data: Float32Array.from(randn(3, 1, 100 * 24).data) };
    const conv: NdArray = { shape: [100, 3, 4, 4], dtype: '<f4', data: Float32Array.from(randn(9, 1, 100 * 48).data) };
    const other: NdArray = { shape: [100, 6, 4], dtype: '<f4', data: Float32Array.from(randn(4, 1, 100 * 24).data) };
    const notesOf = async (a: NdArray, b: NdArray, convReduction: 'dft' | 'meanpool') =>
      (await comparePair({ name: 'a.npy', array: a }, { name: 'b.npy', array: b }, { ...DEFAULT_OPTIONS, convReduction })).warnings.filter(isInformational);
    const dft = await notesOf(sequence, other, 'dft');
    expect(dft).toHaveLength(2);
    expect(dft[0]).toMatch(
      /^a\.npy: conv layer stored \(100, 6, 4\), read as \(N, T, D\): T=6, D=4; reduced with dft: .*; along T this assumes statistics that do not change with the position/,
    );
    expect((await notesOf(conv, conv, 'dft')).some((n) => n.includes('along T'))).toBe(false);
    const meanpool = await notesOf(sequence, other, 'meanpool');
    expect(meanpool.some((n) => n.includes('along T'))).toBe(false);
    expect(meanpool[0]).toMatch(/; reduced with meanpool: 4 features averaged over T$/);
    expect((await notesOf(conv, conv, 'meanpool'))[0]).toMatch(/; reduced with meanpool: 3 channels averaged over space$/);
  });

  it('still holds once a grid has said it once for several layers', () => {
    const grouped = groupLayerWarnings(
      [
        'layer a: conv layer stored (400, 16, 2, 2), read as NCHW: C=16, H=W=2; reduced with dft: x',
        'layer b: conv layer stored (400, 16, 2, 2), read as NCHW: C=16, H=W=2; reduced with dft: x',
      ],
      ['layer a', 'layer b'],
    );
    expect(grouped.map(isInformational)).toEqual([true]);
    for (const w of [
      'layer a: datapoints axis guessed from the shape alone: …',
      'layer a: rank-deficient: 2 directions carry no variance',
      'layer a: 3 neurons with relative variance below ε = 1e-10 dropped (dead neurons)',
    ])
      expect(isInformational(w), w).toBe(false);
  });
});

describe('groupLayerWarnings', () => {
  const names = ['layer stem', 'layer s1b1', 'layer s1b1-inner', 'layer logits'];

  it('says once what it says of several layers, where the first of them was', () => {
    const warnings = [
      'some job-wide warning',
      'layer stem: conv layer stored (400, 16, 2, 2), read as NCHW: C=16, H=W=2',
      'layer s1b1-inner: conv layer stored (400, 16, 2, 2), read as NCHW: C=16, H=W=2',
      'layer logits: 3 directions with relative variance below ε = 1e-10 dropped (dead neurons)',
      'layer s1b1: conv layer stored (400, 16, 2, 2), read as NCHW: C=16, H=W=2',
    ];
    expect(groupLayerWarnings(warnings, names)).toEqual([
      'some job-wide warning',
      'layers stem, s1b1-inner, s1b1: conv layer stored (400, 16, 2, 2), read as NCHW: C=16, H=W=2',
      'layer logits: 3 directions with relative variance below ε = 1e-10 dropped (dead neurons)',
    ]);
  });

  it('matches the longest name (s1b1-inner is not s1b1 with "-inner: …" after it)', () => {
    const warnings = ['layer s1b1-inner: rank-deficient', 'layer s1b1: rank-deficient'];
    expect(groupLayerWarnings(warnings, names)).toEqual(['layers s1b1-inner, s1b1: rank-deficient']);
  });

  it('keeps the two sides of an across-runs grid apart in the list, with their own prefixes', () => {
    const warnings = ["A's layer stem: conv layer X", "B's layer stem: conv layer X", "B's layer s1b1: conv layer X"];
    expect(groupLayerWarnings(warnings, ["A's layer stem", "B's layer stem", "B's layer s1b1"])).toEqual([
      "A's layer stem; B's layers stem, s1b1: conv layer X",
    ]);
    expect(groupLayerWarnings(warnings.slice(0, 2), ["A's layer stem", "B's layer stem"])).toEqual(["A's and B's layer stem: conv layer X"]);
    const both = ["A's layer a: X", "A's layer b: X", "B's layer a: X", "B's layer b: X"];
    expect(groupLayerWarnings(both, ["A's layer a", "A's layer b", "B's layer a", "B's layer b"])).toEqual(["A's and B's layers a, b: X"]);
    expect(groupLayerWarnings(warnings.slice(1), ["B's layer stem", "B's layer s1b1"])).toEqual(["B's layers stem, s1b1: conv layer X"]);
  });

  it('leaves a single warning of a layer word for word', () => {
    const warnings = ['layer stem: conv layer stored (400, 16, 2, 2)'];
    expect(groupLayerWarnings(warnings, names)).toEqual(warnings);
  });
});
