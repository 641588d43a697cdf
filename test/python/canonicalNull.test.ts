// The Gaussian null's sampler (src/math/canonicalNull.ts, a tridiagonal Jacobi model) against numpy's
// explicit construction (scripts/canonical_null_reference.py: independent real or complex Gaussian
// k1 × m and k2 × m matrices, QR and SVD, numpy's own generator): the mean canonical correlation's
// mean and sd within Monte-Carlo error and a two-sample KS test, per (k1, k2, m, β). The script is
// checked against the exact E[mean ρ²] = max(k1, k2) / (m − 1). Skipped, and says why, without
// python3 + numpy.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gaussianNullDraws } from '../../src/math/canonicalNull';
import { expectSameDistribution, MC_STANDARD_ERRORS, mean, sd } from '../helpers/distribution';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';

interface Spec {
  k1: number;
  k2: number;
  m: number;
  beta: 1 | 2;
  count: number;
  seed: number;
}

const SPECS: Spec[] = [
  { k1: 2, k2: 7, m: 40, beta: 1, count: 600, seed: 1 },
  { k1: 8, k2: 8, m: 60, beta: 1, count: 600, seed: 2 },
  { k1: 15, k2: 25, m: 300, beta: 1, count: 400, seed: 3 },
  { k1: 30, k2: 30, m: 61, beta: 1, count: 300, seed: 4 }, // p + q = ν
  { k1: 3, k2: 6, m: 30, beta: 2, count: 600, seed: 5 },
  { k1: 10, k2: 12, m: 100, beta: 2, count: 400, seed: 6 },
];

function reference(): { cases: { spec: Spec; means: number[]; meanSquares: number[] }[] } | { missing: string } {
  const done = spawnSync(PYTHON, ['scripts/canonical_null_reference.py'], { cwd: ROOT, encoding: 'utf8', input: JSON.stringify(SPECS), timeout: 300_000 });
  if (done.error) return { missing: `${PYTHON} cannot be run (${done.error.message})` };
  if (done.status !== 0 && /No module named 'numpy'/.test(done.stderr)) return { missing: `${PYTHON} has no numpy` };
  if (done.status !== 0) throw new Error(`scripts/canonical_null_reference.py failed: ${done.stderr}`);
  return { cases: JSON.parse(done.stdout) };
}

const ran = reference();
const missing = 'missing' in ran ? ran.missing : null;
if (missing) console.warn(`test/python/canonicalNull.test.ts: skipping: ${missing}`);
const cases = 'cases' in ran ? ran.cases : [];

describe('Gaussian null against numpy’s explicit construction (scripts/canonical_null_reference.py)', () => {
  for (const [index, spec] of SPECS.entries()) {
    const label = `k1 = ${spec.k1}, k2 = ${spec.k2}, m = ${spec.m}, β = ${spec.beta}`;
    it.skipIf(missing !== null)(`${label}: the script's exact E[mean ρ²], then mean, sd and KS of mean ρ${missing ? ` (skipped: ${missing})` : ''}`, () => {
      const { means, meanSquares } = cases[index];
      expect(means.length).toBe(spec.count);
      // The script itself: E[mean ρ²] = max(k1, k2) / ν (E tr(Px Py) = k1 k2 / ν for a uniformly random subspace).
      const exact = Math.max(spec.k1, spec.k2) / (spec.m - 1);
      expect(Math.abs(mean(meanSquares) - exact), `${label}: script E[mean ρ²]`).toBeLessThan((MC_STANDARD_ERRORS * sd(meanSquares)) / Math.sqrt(spec.count));
      const shape = { dof: spec.m - 1, blocks: [{ ranks: [spec.k1, spec.k2] as [number, number], count: Math.min(spec.k1, spec.k2), beta: spec.beta, multiplicity: 1 }] };
      expectSameDistribution(means, gaussianNullDraws(shape, 100 + index, 2000), label);
    });
  }
});
