// Export file names (state/exportInfo): two exports of the same view that differ in what computed
// them (CPU float64, GPU float32) or in an option their numbers depend on get different names, so
// that saving both never overwrites one with the other; the defaults keep the names short.

import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import type { DynamicsExport } from '../../src/analysis/provenance';
import { optionsUsed } from '../../src/analysis/metricDefs';
import type { GridJob } from '../../src/state/appStore';
import { computedPart, gridExportInfo, pairExportTag, requestedPart } from '../../src/state/exportInfo';
import type { Conventions } from '../../src/analysis/types';
import type { BundleInfo, CrossJobRequest, DynamicsJobRequest } from '../../src/worker/protocol';

const bundle: BundleInfo = {
  id: 'digits.npz',
  name: 'digits.npz',
  runs: ['runA'],
  steps: [0, 100, 200],
  layers: ['fc1', 'fc2'],
  entries: [],
  unmatched: [],
  labels: null,
  manifest: null,
  bytes: 0,
};

function dynamicsJob(options: AnalysisOptions, computed: { backend: 'cpu' | 'webgpu'; precision: 'float64' | 'float32' } | null, reference = 200): GridJob {
  const request: DynamicsJobRequest = { bundle: bundle.id, run: 'runA', reference: 'last', dropped: [], options };
  const result = computed
    ? ({ options: optionsUsed(options, false), computed: { ...computed, reason: 'test' }, inputHash: 'abc', inputArrays: 6 } as unknown as DynamicsExport)
    : null;
  return {
    kind: 'dynamics',
    key: 'k',
    status: computed ? 'done' : 'running',
    request,
    rows: ['fc1', 'fc2'],
    cols: ['fc1', 'fc2'],
    steps: [0, 100, 200],
    reference,
    values: [],
    blank: null,
    kept: [],
    result,
    backend: null,
    error: null,
    metric: options.metric,
    total: 12,
    startedAt: 0,
    finishedAt: null,
    names: { a: 'digits.npz', b: 'digits.npz' },
  };
}

const baseOf = (job: GridJob) => gridExportInfo(job, [bundle])!.base;

describe('export file names', () => {
  it('say which backend and precision computed a finished job', () => {
    const cpu = baseOf(dynamicsJob(DEFAULT_OPTIONS, { backend: 'cpu', precision: 'float64' }));
    const gpu = baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, backend: 'webgpu' }, { backend: 'webgpu', precision: 'float32' }));
    expect(cpu).toBe('digits_runA-dynamics-svcca-cpu-f64');
    expect(gpu).toBe('digits_runA-dynamics-svcca-gpu-f32');
    // A GPU request that ran on the CPU (a fallback) is named after what ran, not what was asked.
    expect(baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, backend: 'webgpu' }, { backend: 'cpu', precision: 'float64' }))).toBe(cpu);
  });

  it('before the job finishes: the backend asked for, none for auto', () => {
    expect(baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, backend: 'webgpu' }, null))).toBe('digits_runA-dynamics-svcca-gpu-f32');
    expect(baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, backend: 'cpu' }, null))).toBe('digits_runA-dynamics-svcca-cpu-f64');
    expect(baseOf(dynamicsJob(DEFAULT_OPTIONS, null))).toBe('digits_runA-dynamics-svcca');
    expect([requestedPart('auto'), requestedPart('cpu'), computedPart('webgpu', 'float32')]).toEqual([null, 'cpu-f64', 'gpu-f32']);
  });

  it('name the metric and the options that differ from the defaults, and a reference step other than the last', () => {
    const cpu = { backend: 'cpu', precision: 'float64' } as const;
    const names = [
      baseOf(dynamicsJob(DEFAULT_OPTIONS, cpu)),
      baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, metric: 'cka' }, cpu)),
      baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, keep: { kind: 'dims', k: 20 } }, cpu)),
      baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, keep: { kind: 'variance', fraction: 0.9 } }, cpu)),
      baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, epsilon: 1e-6 }, cpu)),
      baseOf(dynamicsJob({ ...DEFAULT_OPTIONS, metric: 'pwcca', pwccaVariant: 'paper' }, cpu)),
      baseOf(dynamicsJob(DEFAULT_OPTIONS, cpu, 100)),
    ];
    expect(names).toEqual([
      'digits_runA-dynamics-svcca-cpu-f64',
      'digits_runA-dynamics-cka-cpu-f64',
      'digits_runA-dynamics-svcca-k20-cpu-f64',
      'digits_runA-dynamics-svcca-v0.9-cpu-f64',
      'digits_runA-dynamics-svcca-eps0.000001-cpu-f64',
      'digits_runA-dynamics-pwcca-paper-cpu-f64',
      'digits_runA-dynamics-svcca-ref100-cpu-f64',
    ]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('an across-runs job: both sides, the view, the metric and the backend', () => {
    const request: CrossJobRequest = {
      a: { bundle: bundle.id, run: 'runA', dropped: [] },
      b: { bundle: bundle.id, run: 'runB', dropped: [] },
      step: null,
      options: { ...DEFAULT_OPTIONS, metric: 'cca' },
    };
    const job = {
      ...dynamicsJob(request.options, { backend: 'webgpu', precision: 'float32' }),
      kind: 'cross',
      request,
      reference: null,
      steps: [200],
    } as GridJob;
    expect(baseOf(job)).toBe('digits_runA-vs-runB-cross-cca-gpu-f32');
  });

  it('a pair (Compare two arrays, the drill-down): metric, conv reduction, options off their defaults, backend and precision', () => {
    const base: Conventions = {
      metric: 'svcca',
      keep: { kind: 'variance', fraction: 0.99 },
      epsilon: 1e-10,
      layout: ['datapoints-first', 'datapoints-first'],
      convLayout: [null, null],
      convReduction: null,
      pwccaVariant: null,
      summary: '',
      backend: 'cpu',
      precision: 'float64',
    };
    expect(pairExportTag(base)).toBe('svcca-cpu-f64');
    expect(pairExportTag({ ...base, backend: 'webgpu', precision: 'float32' })).toBe('svcca-gpu-f32');
    expect(pairExportTag({ ...base, keep: { kind: 'dims', k: 20 }, convReduction: 'dft' })).toBe('svcca-dft-k20-cpu-f64');
    // ε does not enter CKA's numbers: not in its name either.
    expect(pairExportTag({ ...base, metric: 'cka', keep: null, epsilon: 1e-6 })).toBe('cka-cpu-f64');
  });
});
