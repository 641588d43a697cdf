// The WebGPU benchmark's pregeneration on worker threads (scripts/bench/pregenerate.ts) must give
// the arrays the lazy, one-thread generation gives: the device run's jobs and their float64
// comparison read them, and the figures are compared with runs that generated lazily.

import { describe, expect, it } from 'vitest';
import { ActivationGenerator, DEFAULT_GENERATOR, type GeneratorSpec } from '../../scripts/bench-data';
import { workerPregenerator } from '../../scripts/bench/pregenerate';

const spec: GeneratorSpec = { ...DEFAULT_GENERATOR, widths: [24, 40, 16], steps: 3, datapoints: 300 };

describe('pregenerated benchmark checkpoints', () => {
  it('are bit for bit what ActivationGenerator.generate gives, for every (step, layer), on 4 threads', async () => {
    const pre = await workerPregenerator(4, 0)(spec);
    expect(pre).not.toBeNull();
    expect(pre!.threads).toBe(4);
    const generator = new ActivationGenerator(spec);
    expect(pre!.arrays).toHaveLength(spec.steps);
    for (let step = 0; step < spec.steps; step++) {
      expect(pre!.arrays[step]).toHaveLength(spec.widths.length);
      spec.widths.forEach((n, layer) => {
        const lazy = generator.generate(layer, step);
        expect(pre!.arrays[step][layer].length).toBe(spec.datapoints * n);
        expect(Buffer.compare(Buffer.from(pre!.arrays[step][layer].buffer), Buffer.from(lazy.buffer))).toBe(0);
      });
    }
  }, 60_000);

  it('declines small jobs and fewer than 4 threads (the job then generates lazily)', async () => {
    expect(await workerPregenerator(4)(spec)).toBeNull();
    expect(await workerPregenerator(2, 0)(spec)).toBeNull();
  });
});
