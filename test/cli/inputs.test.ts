// The CLI on inputs issue 12 names: labels that do not fit the bundle, names that look like paths,
// a (1, 24) array against a (600, 24) one, data longer than its shape. Run in-process through
// main() (the same code path as bin/svcca-lens.mjs, without a process per case).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';

let dir: string;
const acts = (n: number, f: number, seed: number) => encodeNpy([n, f], Float32Array.from(randn(seed, n, f).data));

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await main(argv, { stdout: (t: string) => void (out.stdout += `${t}\n`), stderr: (t: string) => void (out.stderr += `${t}\n`) });
    return { code, ...out };
  } finally {
    process.chdir(cwd);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-inputs-'));
  for (const step of [0, 1]) {
    mkdirSync(join(dir, 'run', `step_${step}`), { recursive: true });
    for (const [l, f] of [
      ['a', 4],
      ['b', 5],
    ] as const)
      writeFileSync(join(dir, 'run', `step_${step}`, `${l}.npy`), acts(60, f, step * 10 + f));
  }
  writeFileSync(join(dir, 'run', 'labels.npy'), encodeNpy([60, 2], new Float32Array(120)));
  const members: Record<string, Uint8Array> = {};
  for (const step of [0, 1]) members[`step_${step}/../up.npy`] = acts(60, 4, step);
  writeFileSync(join(dir, 'odd.npz'), zipSync(members, { level: 0 }));
  writeFileSync(join(dir, 'one.npy'), acts(1, 24, 1));
  writeFileSync(join(dir, 'many.npy'), acts(600, 24, 2));
  const long = acts(60, 4, 3);
  const longer = new Uint8Array(long.length + 4);
  longer.set(long);
  writeFileSync(join(dir, 'long.npy'), longer);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('svcca-lens on inconsistent inputs', { timeout: 30_000 }, () => {
  it('dynamics: 2-D labels are a warning naming labels.npy; the result is computed', async () => {
    const { code, stderr, stdout } = await cli('dynamics', 'run', '--backend', 'cpu', '--metric', 'cka');
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(
      'svcca-lens: warning: run/labels.npy: labels must be 1-D (one class per datapoint) or (N, 1), not shape (60, 2); the labels are left out',
    );
    expect(stdout.length).toBeGreaterThan(0);
  });

  it('dynamics: names inside a file that look like paths are flagged', async () => {
    const { code, stderr } = await cli('dynamics', 'odd.npz', '--backend', 'cpu', '--metric', 'cka');
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(
      "odd.npz: 2 names inside look like paths leaving the file: 'step_0/../up' (a '..' segment), 'step_1/../up' (a '..' segment); read as plain names, never as paths",
    );
  });

  it('compare: (1, 24) against (600, 24) is refused with exit 2, naming the guess', async () => {
    const { code, stderr } = await cli('compare', 'one.npy', 'many.npy', '--backend', 'cpu');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^svcca-lens: one\.npy: has 24 datapoints but many\.npy has 600: .*the datapoints axis was guessed from the shape alone/);
  });

  it('compare: an .npy with trailing bytes is refused with exit 2, saying how many', async () => {
    const { code, stderr } = await cli('compare', 'long.npy', 'long.npy', '--backend', 'cpu');
    expect(code).toBe(2);
    expect(stderr).toContain('(4 trailing bytes)');
  });
});
