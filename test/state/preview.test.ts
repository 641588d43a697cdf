import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { countsOf, gridLabel, lastSharedStep, megabytes, stepsOfRun, summariseBundle } from '../../src/state/preview';
import { relevantOptions } from '../../src/state/jobKey';
import { bundleInfo } from './fakes';

describe('bundle preview', () => {
  it('summarises runs × checkpoints × layers, size and datapoints, with layouts and why', () => {
    const info = bundleInfo('b.npz', ['conv1', 'fc'], [0, 10, 20], [null], [400, 16]);
    const s = summariseBundle(info, DEFAULT_OPTIONS, []);
    expect(gridLabel(s)).toBe('1 run × 3 checkpoints × 2 layers');
    expect(s.entries).toBe(6);
    expect(s.bytes).toBe(6 * 400 * 16 * 4);
    expect(megabytes(s.bytes)).toBe('0.2 MB');
    expect(s.datapoints).toBe(400);
    expect(s.perLayer[0]).toMatchObject({ layer: 'conv1', layout: 'datapoints-first', datapoints: 400, neurons: 16, dropped: false });
    // Every shape is (400, 16): the larger shared axis is taken as the datapoints.
    expect(s.perLayer[0].reason).toContain('first axis matches the 400 datapoints');
    expect(s.problems).toEqual([]);
    expect(s.warnings).toEqual([]);
  });

  it('refuses differing datapoint counts, naming both arrays and counts', () => {
    const info = bundleInfo('b.npz', ['a', 'b'], [0, 1], [null], [400, 16]);
    info.entries[3] = { ...info.entries[3], shape: [300, 12] };
    const s = summariseBundle(info, DEFAULT_OPTIONS, []);
    expect(s.datapoints).toBeNull();
    expect(s.problems[0]).toMatch(/b\.npz:step_1\/b has 300 datapoints but b\.npz:step_0\/a has 400/);
    // Leaving that layer out clears it.
    expect(summariseBundle(info, DEFAULT_OPTIONS, ['b']).problems).toEqual([]);
  });

  it('positions with conv and dense layers: no refusal, one warning naming the cells left empty', () => {
    const info = bundleInfo('cnn.npz', ['conv1', 'conv2', 'fc'], [0, 1], [null], [400, 10]);
    for (const e of info.entries) if (e.layer !== 'fc') e.shape = e.layer === 'conv1' ? [400, 8, 8, 4] : [400, 4, 4, 8];
    const options = { ...DEFAULT_OPTIONS, convReduction: 'positions' as const, metric: 'cka' as const };
    const s = summariseBundle(info, options, []);
    expect(s.problems).toEqual([]);
    expect(s.datapoints).toBe(400);
    expect(s.perLayer.map((l) => l.datapoints)).toEqual([25_600, 6_400, 400]);
    expect(s.warnings).toEqual([
      'layers at different sizes under positions: layer conv1 (N·H·W = 25\u202f600 datapoints); layer conv2 (N·H·W = 6\u202f400 datapoints); layer fc (400 datapoints): positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them; the cells between these groups (3 pairs) are left empty',
    ]);
    // Leaving the dense layer and one conv out: nothing to warn about.
    expect(summariseBundle(info, options, ['conv2', 'fc']).warnings).toEqual([]);
    // Under flatten no such warning.
    expect(summariseBundle(info, { ...options, convReduction: 'flatten' }, []).warnings.some((w) => w.includes('positions'))).toBe(false);
  });

  it('warns when datapoints < 5 × neurons, and not for CKA', () => {
    const info = bundleInfo('b.npz', ['wide'], [0], [null], [100, 40]);
    expect(summariseBundle(info, DEFAULT_OPTIONS, []).warnings[0]).toMatch(/100 datapoints for 40 neurons \(fewer than 5 per dimension\)/);
    expect(summariseBundle(info, { ...DEFAULT_OPTIONS, metric: 'cka' }, []).warnings).toEqual([]);
  });

  it('refuses too few datapoints for the metric, with the engine’s wording', () => {
    const info = bundleInfo('b.npz', ['fc'], [0], [null], [3, 2]);
    expect(summariseBundle(info, { ...DEFAULT_OPTIONS, metric: 'cka' }, []).problems).toEqual([]);
    expect(summariseBundle(info, { ...DEFAULT_OPTIONS, metric: 'cka-debiased' }, []).problems).toEqual([
      'b.npz:step_0/fc has 3 datapoints; debiased CKA needs at least 4',
    ]);
  });

  it('lists holes in the grid as a problem', () => {
    const info = bundleInfo('b.npz', ['a', 'b'], [0, 1]);
    info.entries = info.entries.filter((e) => !(e.step === 1 && e.layer === 'b'));
    const s = summariseBundle(info, DEFAULT_OPTIONS, []);
    expect(s.problems[0]).toContain('missing 1 array: step 1, layer b');
    expect(summariseBundle(info, DEFAULT_OPTIONS, ['b']).problems).toEqual([]);
  });

  it('reads conv layers per the conv layout and reduction, and refuses DFT with PWCCA', () => {
    expect(countsOf([50, 8, 4, 4], 'datapoints-first', 'nchw', 'dft')).toEqual({ datapoints: 50, neurons: 8, conv: true });
    expect(countsOf([50, 4, 4, 8], 'datapoints-first', 'nhwc', 'positions')).toEqual({ datapoints: 800, neurons: 8, conv: true });
    expect(countsOf([50, 8, 4, 4], 'datapoints-first', 'nchw', 'flatten')).toEqual({ datapoints: 50, neurons: 128, conv: true });
    expect(countsOf([20, 400], 'neurons-first', null, 'dft')).toEqual({ datapoints: 400, neurons: 20, conv: false });
    const info = bundleInfo('c.npz', ['conv'], [0], [null], [500, 8, 4, 4]);
    const s = summariseBundle(info, { ...DEFAULT_OPTIONS, metric: 'pwcca' }, []);
    expect(s.perLayer[0]).toMatchObject({ conv: true, convLayout: 'nchw' });
    expect(s.problems[0]).toMatch(/conv layer and the DFT reduction works with SVCCA and CCA only/);
    const forced = summariseBundle(info, { ...DEFAULT_OPTIONS, convLayout: 'nhwc' }, []);
    expect(forced.perLayer[0].reason).toBe('set by you: datapoints-first, NHWC');
  });

  it('knows each run’s steps and the last step two runs share', () => {
    const info = bundleInfo('r.npz', ['l'], [0, 5, 10], ['a', 'b']);
    info.entries = info.entries.filter((e) => !(e.run === 'b' && e.step === 10));
    expect(stepsOfRun(info, 'a')).toEqual([0, 5, 10]);
    expect(stepsOfRun(info, 'b')).toEqual([0, 5]);
    expect(lastSharedStep([0, 5, 10], [0, 5])).toBe(5);
    expect(lastSharedStep([1], [2])).toBeNull();
  });
});

describe('what a job depends on', () => {
  it('drops the settings a metric ignores', () => {
    const base = relevantOptions({ ...DEFAULT_OPTIONS, metric: 'cka' }, false);
    expect(relevantOptions({ ...DEFAULT_OPTIONS, metric: 'cka', epsilon: 1e-3, keep: { kind: 'dims', k: 3 }, convReduction: 'flatten' }, false)).toEqual(base);
    expect(relevantOptions({ ...DEFAULT_OPTIONS, convReduction: 'flatten' }, true)).not.toEqual(relevantOptions(DEFAULT_OPTIONS, true));
    expect(relevantOptions({ ...DEFAULT_OPTIONS, epsilon: 1e-3 }, false)).not.toEqual(relevantOptions(DEFAULT_OPTIONS, false));
  });

  describe('warnings of the reading (issue 12)', () => {
    it('labels left out and path-like names are preview warnings, never problems or questions', () => {
      const read = [
        'b.npz:labels: 19 labels for 400 datapoints; there must be one label per datapoint; the labels are left out (the arrays load without them)',
      ];
      const s = summariseBundle({ ...bundleInfo('b.npz', ['conv1', 'fc'], [0, 10], [null], [400, 16]), warnings: read }, DEFAULT_OPTIONS, []);
      expect(s.warnings[0]).toBe(read[0]);
      expect(s.problems).toEqual([]);
      expect(s.questions).toEqual([]);
    });
  });
});
