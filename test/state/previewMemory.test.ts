// The preview says when a bundle needs more memory at once than the app keeps to, and what to do;
// the estimate (analysis/memory.ts) follows the engine: one array in flight (two on the CPU pool,
// within OVERLAP_BYTES), factors of two checkpoints, never the file's size.
import { describe, expect, it } from 'vitest';
import { jobMemory, MEMORY_BOUND_BYTES, memoryWarning } from '../../src/analysis/memory';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { summariseBundle } from '../../src/state/preview';
import { bundleInfo } from './fakes';

const steps = (count: number) => Array.from({ length: count }, (_, t) => t * 100);
const layerNames = (count: number) => Array.from({ length: count }, (_, l) => `layer${l}`);

describe('memory a job needs at once', () => {
  it("the issue's 6 GB bundle (20 checkpoints × 10 layers × 5000 datapoints × 1000 features) fits: the file's size does not count", () => {
    const info = bundleInfo('big.npz', layerNames(10), steps(20), [null], [5000, 1000]);
    expect(info.bytes).toBe(20 * 10 * 5000 * 1000 * 4);
    const s = summariseBundle(info, DEFAULT_OPTIONS, []);
    expect(s.warnings.join('\n')).not.toMatch(/memory/);
    // One array in flight (20 MB stored, float32 and float64 copies, 40 MB matrix) plus two
    // checkpoints of factors (10 layers × (1000 × 5000 + 1000 × 1000) float64 each).
    const memory = jobMemory(layerNames(10).map((layer) => ({ layer, storedBytes: 20e6, elements: 5e6, neurons: 1000, datapoints: 5000, conv: false })));
    expect(memory.largest).toEqual({ layer: 'layer0', bytes: 20e6 + 5e6 * 12 + 40e6 });
    expect(memory.factorBytes).toBe(2 * 10 * (1000 * 5000 + 1000 * 1000) * 8);
    // On the CPU pool a second array may be factored while the next is read (80 MB of float64 together: within OVERLAP_BYTES).
    expect(memory.together).toEqual({ layers: ['layer0', 'layer1'], bytes: 2 * (20e6 + 5e6 * 12 + 40e6) });
    expect(memory.bytes).toBe(memory.together!.bytes + memory.factorBytes);
    expect(memory.bytes).toBeLessThan(MEMORY_BOUND_BYTES);
  });

  it('one huge conv layer: names it and says to leave it out or save it pooled', () => {
    const info = bundleInfo('resnet.npz', ['stem', 'fc'], steps(2), [null], [2000, 64, 56, 56]);
    info.entries = info.entries.map((e) => (e.layer === 'fc' ? { ...e, shape: [2000, 10] } : e));
    const warning = summariseBundle(info, { ...DEFAULT_OPTIONS, convReduction: 'meanpool' }, []).warnings.find((w) => w.includes('memory'));
    expect(warning).toMatch(
      /^this bundle needs about 5\.98 GiB of memory at once, over the 2 GiB this app keeps to in a browser tab: layer stem alone needs 5\.98 GiB while it is read/,
    );
    expect(warning).toMatch(
      /Leave that layer out, save it with fewer datapoints or pooled over space \(e\.g\. x\.mean\(axis=\(2, 3\)\) for NCHW\), or run the svcca-lens CLI/,
    );
    // Leaving the layer out clears it.
    expect(summariseBundle(info, { ...DEFAULT_OPTIONS, convReduction: 'meanpool' }, ['stem']).warnings.join('\n')).not.toMatch(/memory/);
  });

  it('many wide layers: the factors of two checkpoints; mean-pool is suggested for conv layers', () => {
    const dense = bundleInfo('wide.npz', layerNames(30), steps(3), [null], [5000, 4096]);
    const warning = summariseBundle(dense, DEFAULT_OPTIONS, []).warnings.find((w) => w.includes('memory'));
    expect(warning).toMatch(/the factors of two checkpoints of 30 layers take 16\.7 GiB\. Leave out layers you do not need, or run the svcca-lens CLI/);
    // Conv layers flattened: C·H·W features each; mean-pool makes them C and the warning goes.
    const conv = bundleInfo('conv.npz', layerNames(8), steps(3), [null], [4000, 32, 16, 16]);
    const flattened = summariseBundle(conv, { ...DEFAULT_OPTIONS, convReduction: 'flatten' }, []).warnings.find((w) => w.includes('memory'));
    expect(flattened).toMatch(/choose mean-pool for conv layers \(C instead of C·H·W features each\)/);
    expect(summariseBundle(conv, { ...DEFAULT_OPTIONS, convReduction: 'meanpool' }, []).warnings.join('\n')).not.toMatch(/memory/);
  });

  it('two large layers the CPU threads factor side by side: both named; past OVERLAP_BYTES together, only the larger counts', () => {
    const layer = (name: string, elements: number) => ({ layer: name, storedBytes: elements * 4, elements, neurons: 64, datapoints: 1000, conv: true });
    // 10 M and 8 M elements: 144 MB of float64 together, within 192 MiB.
    const side = [layer('conv1', 10e6), layer('conv2', 8e6), layer('fc', 1e5)];
    const memory = jobMemory(side);
    expect(memory.together).toEqual({ layers: ['conv1', 'conv2'], bytes: 10e6 * 16 + 64e3 * 8 + 8e6 * 16 + 64e3 * 8 });
    expect(memoryWarning(side, 200e6)).toMatch(
      /: layers conv1 and conv2 need 276 MiB while they are read, factored side by side on the CPU threads\. Leave one of them out/,
    );
    // 20 M and 8 M: 224 MB together, past the bound: one at a time, the larger alone counts.
    const apart = jobMemory([layer('conv1', 20e6), layer('conv2', 8e6)]);
    expect(apart.together).toBeNull();
    expect(apart.bytes).toBe(apart.largest!.bytes + apart.factorBytes);
  });

  it('fits → no warning; a custom bound applies', () => {
    const layers = [{ layer: 'a', storedBytes: 4e6, elements: 1e6, neurons: 100, datapoints: 10_000, conv: false }];
    expect(memoryWarning(layers)).toBeNull();
    expect(memoryWarning(layers, 1e6)).toMatch(
      /^this bundle needs about 38\.3 MiB of memory at once, over the 977 KiB .*: layer a alone needs 22\.9 MiB while it is read/,
    );
  });
});
