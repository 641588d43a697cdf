// The chance level against an independent numpy implementation (scripts/baseline_reference.py): the
// same mulberry32 inputs and the same seeded permutations, each permuted similarity recomputed from
// scratch there (covariance blocks, numpy SVD, datapoint Gram matrices), against the engine's
// re-indexed factors here. Skipped, and says why, without python3 + numpy.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { datapointPermutations } from '../../src/analysis/baseline';
import { comparePair } from '../../src/analysis/engine';
import { DEFAULT_OPTIONS, type Metric } from '../../src/analysis/types';
import { multiply } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { storedDatapointsFirst } from '../helpers/bundle';
import { add } from '../helpers/data';
import { expectClose, TOL } from '../helpers/tolerance';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';

interface Case {
  metric: Metric;
  x: [number, number, number];
  y: [number, number, number];
  related: boolean;
  k: number | null;
  permutations: number;
  seed: number;
  observed: number;
  mean: number;
  sd: number;
  p: number;
  firstPermutation: number[];
}

function reference(): { cases: Case[] } | { missing: string } {
  const done = spawnSync(PYTHON, ['scripts/baseline_reference.py'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (done.error) return { missing: `${PYTHON} cannot be run (${done.error.message})` };
  if (done.status !== 0 && /No module named 'numpy'/.test(done.stderr)) return { missing: `${PYTHON} has no numpy` };
  if (done.status !== 0) throw new Error(`scripts/baseline_reference.py failed: ${done.stderr}`);
  return { cases: JSON.parse(done.stdout) as Case[] };
}

const ran = reference();
const missing = 'missing' in ran ? ran.missing : null;
if (missing) console.warn(`test/python/baseline.test.ts: skipping: ${missing}`);

describe('chance level against numpy (scripts/baseline_reference.py)', () => {
  it.skipIf(missing !== null)(`every case: observed, mean, sd and p within the float64 tolerance${missing ? ` (skipped: ${missing})` : ''}`, async () => {
    const cases = 'cases' in ran ? ran.cases : [];
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const label = `${c.metric} x${c.x[0]} y${c.y[0]}`;
      // Permutation order reproducible from the seed in both languages.
      expect(Array.from(datapointPermutations(c.seed, c.x[2], 1)[0].subarray(0, 10)), `${label} permutation`).toEqual(c.firstPermutation);
      const x = randn(c.x[0], c.x[1], c.x[2]);
      const noise = randn(c.y[0], c.y[1], c.y[2]);
      const y = c.related ? add(noise, multiply(randn(c.y[0] + 1, c.y[1], c.x[1]), x)) : noise;
      const options = { ...DEFAULT_OPTIONS, metric: c.metric, epsilon: 0, backend: 'cpu' as const, ...(c.k ? { keep: { kind: 'dims' as const, k: c.k } } : {}) };
      const r = await comparePair({ name: 'x', array: storedDatapointsFirst(x) }, { name: 'y', array: storedDatapointsFirst(y) }, options, undefined, {
        permutations: c.permutations,
        seed: c.seed,
        null: 'permutation',
      });
      expectClose(r.similarity, c.observed, TOL.f64Reference, `${label} observed`);
      expectClose(r.baseline!.mean, c.mean, TOL.f64Reference, `${label} mean`);
      expectClose(r.baseline!.sd, c.sd, TOL.f64Reference, `${label} sd`);
      expectClose(r.baseline!.p, c.p, TOL.f64Identity, `${label} p`);
    }
  });
});
