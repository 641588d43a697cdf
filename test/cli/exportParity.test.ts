// The app's dynamics Export JSON (the worker's job result, completed by state/dynamicsExport.ts when
// the job did not know its k99) and `svcca-lens dynamics --json` on the same file: the same fields
// with the same values, k99 included. SVCCA: the job reads k99 off its own factors (the result
// carries it); other metrics: the result leaves it out and Export JSON asks the worker for it.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import { setAnalysisClient, type GridJob } from '../../src/state/appStore';
import { dynamicsExport } from '../../src/state/dynamicsExport';
import { inProcessClient } from '../helpers/worker';

const dir = mkdtempSync(join(tmpdir(), 'svcca-export-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const M = 90; // datapoints; each array is datapoints × neurons
/** step_<s>/<layer>: a shared signal with less noise at later steps, and a layer of lower rank, so k99 varies. */
function bundleBytes(): Uint8Array {
  const members: Record<string, Uint8Array> = {};
  for (const s of [0, 5, 10])
    for (const [l, width] of [8, 5].entries()) {
      const base = randn(20 + l, M, width).data;
      const noise = randn(200 + 10 * l + s, M, width).data;
      const data = Float64Array.from(base, (v, k) => (l === 1 && k % width > 2 ? 0 : v + noise[k] / (s + 1)));
      members[`step_${s}/layer${l}.npy`] = encodeNpy([M, width], data);
    }
  return zipSync(members);
}

describe('dynamics: the app’s Export JSON equals the CLI’s --json', () => {
  it.each<[string, string[], Partial<AnalysisOptions>, boolean]>([
    ['SVCCA (k99 from the job’s factors)', [], {}, true],
    ['SVCCA keeping 3 directions, ε = 1e-6', ['--dims', '3', '--epsilon', '1e-6'], { keep: { kind: 'dims', k: 3 }, epsilon: 1e-6 }, true],
    ['CCA (k99 on export)', ['--metric', 'cca'], { metric: 'cca' }, false],
    ['CKA (k99 on export)', ['--metric', 'cka'], { metric: 'cka' }, false],
  ])('%s: the same fields with the same values, k99 included', async (_, flags, over, knownByJob) => {
    const bytes = bundleBytes();
    writeFileSync(join(dir, 'run.npz'), bytes);
    const stdout: string[] = [];
    const code = await runCommand(['dynamics', join(dir, 'run.npz'), '--json', '--backend', 'cpu', '--threads', '1', ...flags], {
      stdout: (t) => stdout.push(t),
      stderr: () => {},
    });
    expect(code).toBe(0);
    const cli = JSON.parse(stdout.join('\n'));

    const client = inProcessClient();
    setAnalysisClient(client);
    const file = new File([readFileSync(join(dir, 'run.npz'))], 'run.npz');
    const added = await client.addInput([{ path: 'run.npz', file }], 'run.npz');
    expect(added.errors).toEqual([]);
    const options = { ...DEFAULT_OPTIONS, backend: 'cpu' as const, ...over };
    const request = { bundle: added.bundle!.id, run: null, reference: 'last' as const, dropped: [], options };
    const { result } = await client.dynamics(request);
    expect('k99' in result).toBe(knownByJob);
    // What the Export JSON button writes (DynamicsView → ViewControls), through JSON as the file does.
    const job = { kind: 'dynamics', result, request } as unknown as GridJob;
    const app = JSON.parse(JSON.stringify(await dynamicsExport(job)));
    setAnalysisClient(null);

    expect(cli.k99).toHaveLength(3);
    expect(new Set(cli.k99.flat()).size).toBeGreaterThan(1);
    expect(Object.keys(app).sort()).toEqual(Object.keys(cli).sort());
    // The same numbers from the same float64 path (the app's in-process core computes on one thread,
    // hence --threads 1: the processor is part of the record).
    expect(app).toEqual(cli);
  });
});
