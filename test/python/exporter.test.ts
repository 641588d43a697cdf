// Runs the Python exporter's own tests (python/tests, plain unittest) from vitest, so `npm test`
// covers them. They need python3 with numpy; PyTorch is optional (its tests skip themselves
// without it). Without python3 + numpy the test is skipped, and says why.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';

function numpyMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} has no numpy (${probe.stderr.trim().split('\n').pop()})`;
  return null;
}

const missing = numpyMissing();
if (missing) console.warn(`test/python/exporter.test.ts: skipping the Python exporter tests: ${missing}`);

describe('python/svcca_lens_export', () => {
  it.skipIf(missing !== null)(`unittest discover -s python/tests passes${missing ? ` (skipped: ${missing})` : ''}`, () => {
    const done = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'python/tests', '-v'], {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const output = `${done.stdout}\n${done.stderr}`;
    expect(done.error, output).toBeUndefined();
    expect(done.status, output).toBe(0);
    // unittest's summary line, e.g. "Ran 46 tests in 1.2s" then "OK (skipped=11)"
    expect(output).toMatch(/Ran \d+ tests? in/);
    expect(output).toMatch(/\nOK\b/);
  });

  it.skipIf(missing !== null)('python3 -m svcca_lens_export --help lists its commands', () => {
    const done = spawnSync(PYTHON, ['-m', 'svcca_lens_export', '--help'], {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    });
    expect(done.status, done.stderr).toBe(0);
    for (const command of ['pack', 'export', 'inspect']) expect(done.stdout).toContain(command);
  });
});
