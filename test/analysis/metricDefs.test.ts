// The metric registry (src/analysis/metricDefs.ts) and the rules read from it (src/analysis/rules.ts):
// what each metric's entry says, checked against what the code computes, so a wrong entry fails here.
import { describe, expect, it } from 'vitest';
import { factorKey } from '../../src/analysis/factorCache';
import { METRIC_DEFS, METRICS, optionsUsed, type MetricDef } from '../../src/analysis/metricDefs';
import { prepare } from '../../src/analysis/prepare';
import { DFT_REFUSAL, checkPair, datapointsProblem, fewDatapointsWarning, tooFewDatapointsPerDimension } from '../../src/analysis/rules';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Metric } from '../../src/analysis/types';
import type { BundleEntry } from '../../src/io/types';

const options = (o: Partial<AnalysisOptions>): AnalysisOptions => ({ ...DEFAULT_OPTIONS, ...o });

describe('the metric registry', () => {
  it('has one entry per metric, in the order the settings list them', () => {
    expect(METRICS).toEqual(['svcca', 'cca', 'pwcca', 'cka', 'cka-debiased']);
  });

  it('refuses, at compile time, a metric without its definition', () => {
    type WithAFifthMetric = Metric | 'fake-metric';
    // @ts-expect-error: 'fake-metric' has no MetricDef, so the table does not cover the union.
    const incomplete: Record<WithAFifthMetric, MetricDef> = METRIC_DEFS;
    expect(Object.keys(incomplete)).not.toContain('fake-metric');
  });

  // What each metric's numbers depend on (google/svcca: keep and ε for SVCCA's cca_core; ε for CCA
  // and PWCCA; nothing for linear CKA, Kornblith et al. 2019).
  const dependsOn: [Metric, { keep: boolean; epsilon: boolean; pwccaVariant: boolean; dft: boolean; min: number }][] = [
    ['svcca', { keep: true, epsilon: true, pwccaVariant: false, dft: true, min: 2 }],
    ['cca', { keep: false, epsilon: true, pwccaVariant: false, dft: true, min: 2 }],
    ['pwcca', { keep: false, epsilon: true, pwccaVariant: true, dft: false, min: 2 }],
    ['cka', { keep: false, epsilon: false, pwccaVariant: false, dft: false, min: 2 }],
    ['cka-debiased', { keep: false, epsilon: false, pwccaVariant: false, dft: false, min: 4 }],
  ];

  it.each(dependsOn)('%s: optionsUsed keeps exactly the options that change its numbers', (metric, want) => {
    const used = optionsUsed(options({ metric }), false);
    expect({ keep: used.keep !== null, epsilon: used.epsilon !== null, pwccaVariant: used.pwccaVariant !== null }).toEqual({
      keep: want.keep,
      epsilon: want.epsilon,
      pwccaVariant: want.pwccaVariant,
    });
    expect(METRIC_DEFS[metric].runsThroughDft).toBe(want.dft);
    expect(METRIC_DEFS[metric].minDatapoints).toBe(want.min);
  });

  it.each(dependsOn)('%s: the factor cache key changes with exactly those options', (metric, want) => {
    const entry = {
      run: null,
      step: 0,
      layer: 'fc',
      source: 'x.npy',
      shape: [10, 3],
      dtype: '<f4',
      load: async () => ({ shape: [], dtype: '<f4', data: new Float32Array() }),
    } as BundleEntry;
    const key = (o: Partial<AnalysisOptions>) => factorKey(entry, options({ metric, ...o }), undefined, false);
    expect(key({ keep: { kind: 'dims', k: 3 } }) !== key({})).toBe(want.keep);
    expect(key({ epsilon: 1e-3 }) !== key({})).toBe(want.epsilon);
    // The PWCCA weighting is applied per pair, after the factors: it never changes a factor.
    expect(key({ pwccaVariant: 'paper' })).toBe(key({}));
  });

  it('debiased CKA shares plain CKA’s factors; no other two metrics share', () => {
    const entry = { run: null, step: 0, layer: 'fc', source: 'x.npy', shape: [10, 3], dtype: '<f4' } as BundleEntry;
    const keys = METRICS.map((metric) => factorKey(entry, options({ metric }), undefined, false));
    expect(keys[3]).toBe(keys[4]);
    expect(new Set(keys).size).toBe(4);
  });

  // The one-line summaries as the engine wrote them before the registry (engine.describeSummary).
  it.each([
    ['svcca', false, 'mean ρ over min(k1, k2) canonical correlations after keeping 99% of Σs²'],
    [
      'svcca',
      true,
      'mean ρ over min(k1, k2) canonical correlations after keeping 99% of Σs² (rule applied globally over all frequency blocks) (union over shared DFT frequencies)',
    ],
    ['cca', true, "mean ρ over min(n1', n2') canonical correlations (union over shared DFT frequencies)"],
    ['pwcca', false, 'projection-weighted mean ρ (google/svcca pwcca semantics, without its + μ)'],
    ['cka', false, 'linear CKA (feature space)'],
    ['cka-debiased', false, 'debiased linear CKA (unbiased HSIC, Song et al. 2012)'],
  ] as [Metric, boolean, string][])('%s summary (dft %s)', (metric, dft, summary) => {
    expect(METRIC_DEFS[metric].summary(options({ metric }), dft)).toBe(summary);
  });
});

describe('the comparison rules', () => {
  const dense = (name: string, datapoints: number, neurons: number) =>
    prepare(
      { name, array: { shape: [datapoints, neurons], dtype: '<f8', data: Float64Array.from({ length: datapoints * neurons }, (_, i) => Math.sin(i * 1.7)) } },
      DEFAULT_OPTIONS,
      datapoints,
    );
  const conv = (name: string) =>
    prepare({ name, array: { shape: [6, 2, 2, 3], dtype: '<f8', data: Float64Array.from({ length: 72 }, (_, i) => Math.cos(i)) } }, DEFAULT_OPTIONS, 6);

  it('minimum datapoints: 2 for every metric, 4 for debiased CKA (its estimator divides by (m−1)(m−2)(m−3))', () => {
    expect(datapointsProblem('cka', 1)).toBe('has 1 datapoint; at least 2 are needed');
    expect(datapointsProblem('cka', 3)).toBeNull();
    expect(datapointsProblem('cka-debiased', 3)).toBe('has 3 datapoints; debiased CKA needs at least 4');
    expect(datapointsProblem('cka-debiased', 4)).toBeNull();
  });

  it('checkPair names both arrays when their datapoints differ, and the conv layer under the DFT', () => {
    expect(() => checkPair(dense('a.npy', 30, 2), dense('b.npy', 20, 2), DEFAULT_OPTIONS, false)).toThrow(
      'a.npy: has 30 datapoints but b.npy has 20: both must hold the same inputs in the same order',
    );
    expect(() => checkPair(dense('a.npy', 6, 2), conv('c.npy'), options({ metric: 'cka' }), true)).toThrow(
      `c.npy: ${DFT_REFUSAL}; choose flatten, positions or meanpool for cka`,
    );
    expect(() => checkPair(dense('a.npy', 6, 2), conv('c.npy'), options({ metric: 'cca' }), true)).not.toThrow();
  });

  it('the DFT refusal lists the metrics the registry lets through it', () => {
    expect(DFT_REFUSAL).toBe('is a conv layer and the DFT reduction works with SVCCA and CCA only');
  });

  it('warns below 5 datapoints per dimension, one wording for the engine and the preview', () => {
    expect(tooFewDatapointsPerDimension(99, 20)).toBe(true);
    expect(tooFewDatapointsPerDimension(100, 20)).toBe(false);
    expect(fewDatapointsWarning('layer fc', 99, 20, 'neurons', '')).toBe(
      'layer fc: 99 datapoints for 20 neurons (fewer than 5 per dimension): CCA drifts towards 1 as they approach each other',
    );
  });
});
