// Seeded many-seeds bundles and the CLI in-process, for the tests against numpy (test/python/seeds*.test.ts).
//
// Shapes: arrays are stored datapoints × neurons, members <run>/step_<N>/<layer>.npy of one .npz.

import { spawnSync } from 'node:child_process';
import { zipSync } from 'fflate';
import { expect } from 'vitest';
import { main } from '../../src/cli/main';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';

export interface SeedsNpzSpec {
  runs: readonly string[];
  layers: readonly string[];
  steps: readonly number[];
  datapoints: number;
  /** Neurons of each layer. */
  neurons: readonly number[];
  /** The latent inputs every run's layers map (datapoints × dim, one seed). */
  latent: { seed: number; dim: number };
  /** Seed of run r's layer l's random map of the latent. */
  weightSeed: (r: number, l: number) => number;
  /** Seed of the fresh noise mixed in at checkpoint t. */
  noiseSeed: (r: number, l: number, t: number) => number;
  /** How fast run r's layer l reaches its final state (its share at checkpoint t is min(1, (t + 1)/steps · speed)). */
  speed: (l: number, r: number) => number;
  /** Layers whose final state is run r's own noise (randn(seed(r))), related to nothing across seeds. */
  ownNoise?: { layers: readonly string[]; seed: (r: number) => number };
}

/**
 * Runs of one "architecture": per run and layer a final state tanh(latent · W / √dim) with a random
 * W (or the run's own noise), and each checkpoint a mix of it with fresh noise, the final state
 * exactly at the last step.
 */
export function seedsNpz(spec: SeedsNpzSpec): Uint8Array {
  const { dim } = spec.latent;
  const m = spec.datapoints;
  const latent = randn(spec.latent.seed, m, dim).data;
  const members: Record<string, Uint8Array> = {};
  spec.runs.forEach((run, r) => {
    spec.layers.forEach((layer, l) => {
      const n = spec.neurons[l];
      let final: Float64Array;
      if (spec.ownNoise?.layers.includes(layer)) final = randn(spec.ownNoise.seed(r), m, n).data;
      else {
        const w = randn(spec.weightSeed(r, l), dim, n).data;
        final = new Float64Array(m * n);
        for (let p = 0; p < m; p++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let d = 0; d < dim; d++) s += latent[p * dim + d] * w[d * n + j];
            final[p * n + j] = Math.tanh(s / Math.sqrt(dim));
          }
      }
      spec.steps.forEach((step, t) => {
        const alpha = Math.min(1, ((t + 1) / spec.steps.length) * spec.speed(l, r));
        const noise = randn(spec.noiseSeed(r, l, t), m, n).data;
        members[`${run}/step_${step}/${layer}.npy`] = encodeNpy(
          [m, n],
          Float64Array.from(final, (v, k) => alpha * v + (1 - alpha) * 0.8 * noise[k]),
        );
      });
    });
  });
  return zipSync(members, { level: 0 });
}

/** Why the numpy comparison cannot run (null: it can). */
export function numpyMissing(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error) return `${python} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return `${python} has no numpy`;
  return null;
}

/** `svcca-lens ARGS` in-process; expects exit status 0 and returns the parsed --json output. */
export async function cliJson(args: string[]): Promise<Record<string, unknown>> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await main(args, { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t) });
  expect(status, stderr.join('\n')).toBe(0);
  return JSON.parse(stdout.join('\n'));
}
