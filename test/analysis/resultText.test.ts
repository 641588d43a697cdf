import { describe, expect, it } from 'vitest';

import { groupLayerWarnings } from '../../src/analysis/resultText';

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
