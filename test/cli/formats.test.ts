// The CLI on torch.save, pickle and HDF5 files, spawned as a user runs it: `compare` across formats
// gives the numbers of the same arrays saved as .npy, and `dynamics` reads a .pt bundle (a dict of
// step_<N> dicts) and an HDF5 bundle (step_<N> groups) of the same arrays to the same grid.
// Fixtures: test/fixtures/formats/{cross,bundles} (scripts/make_format_fixtures.py; torch, h5py, numpy).
//
// Shape convention: the fixtures are datapoints first (120 × 16, 120 × 12; 48 × …); the CLI detects it.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/tolerance';

const run = promisify(execFile);
const bin = join(__dirname, '../../bin/svcca-lens.mjs');
const cwd = join(__dirname, '../fixtures/formats');
/** The same float64 engine on the same values read from two containers: only summation order could
 *  differ, and it does not (the arrays are bit-identical after decoding). */
const SAME_ARRAYS = 1e-12;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('svcca-lens on torch, pickle and HDF5 files', () => {
  it.each(['svcca', 'pwcca', 'cka'])('compare a.pt:layer1.0.conv b.h5:model/conv1 equals the same arrays as .npy (%s)', async (metric) => {
    const [across, npy] = await Promise.all([
      cli('compare', 'cross/acts.pt:layer1.0.conv', 'cross/acts.h5:model/conv1', '--metric', metric, '--backend', 'cpu', '--json'),
      cli('compare', 'cross/x.npy', 'cross/y.npy', '--metric', metric, '--backend', 'cpu', '--json'),
    ]);
    expect([across.code, across.stderr]).toEqual([0, expect.any(String)]);
    expect(npy.code).toBe(0);
    const a = JSON.parse(across.stdout);
    const b = JSON.parse(npy.stdout);
    expect([a.datapoints, a.neurons]).toEqual([120, [16, 12]]);
    expectClose(a.similarity, b.similarity, SAME_ARRAYS, `${metric} similarity`);
    expectClose(a.rho, b.rho, SAME_ARRAYS, `${metric} rho`);
    expect(a.kept).toEqual(b.kept);
  });

  it('dynamics of a .pt bundle and of an .h5 bundle of the same arrays give the same grid', async () => {
    const [pt, h5, pkl] = await Promise.all(
      ['bundles/steps.pt', 'bundles/steps.h5', 'bundles/steps.pkl'].map((b) => cli('dynamics', b, '--metric', 'cca', '--backend', 'cpu', '--json')),
    );
    for (const r of [pt, h5, pkl]) expect(r.code, r.stderr).toBe(0);
    const [a, b, c] = [pt, h5, pkl].map((r) => JSON.parse(r.stdout));
    expect([a.steps, a.layers]).toEqual([
      [0, 10, 20],
      ['conv1', 'layer1.0.fc'],
    ]);
    expect([b.steps, b.layers, c.layers]).toEqual([a.steps, a.layers, a.layers]);
    expectClose(b.values.flat(2), a.values.flat(2), SAME_ARRAYS, 'h5 vs pt');
    expectClose(c.values.flat(2), a.values.flat(2), SAME_ARRAYS, 'pkl vs pt');
    // A layer against itself at the reference step is 1.
    expectClose(a.values[2][0][0], 1, 1e-9, 'self');
  });

  it('names what is wrong: a missing tensor (listing the others), several to choose from, a forbidden pickle', async () => {
    const missing = await cli('compare', 'cross/acts.pt:layer1.conv', 'cross/x.npy');
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe("svcca-lens: cross/acts.pt: has no tensor 'layer1.conv' (its tensors: layer1.0.conv)");
    const several = await cli('compare', 'cross/acts.h5', 'cross/x.npy');
    expect(several.stderr.trim()).toBe('svcca-lens: cross/acts.h5: holds 2 numeric datasets (model/conv1, model/fc); name one as cross/acts.h5:DATASET');
    const module = await cli('compare', 'torch/module.pt', 'cross/x.npy');
    expect(module.code).toBe(2);
    expect(module.stderr).toMatch(/^svcca-lens: torch\/module\.pt.*torch\.nn\.modules/);
  });
});
