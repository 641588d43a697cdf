// Files dropped together as one study, one of them a seed file whose arrays disagree on the
// datapoint count: the good seed files load as the study, the bad one is reported by name.

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { inProcessClient } from '../helpers/worker';
import { unmatchedOf } from '../../src/state/preview';

const M = 60; // datapoints; arrays are datapoints × 5 neurons
function seedFile(name: string, seed: number, badLayer?: string): File {
  const members: Record<string, Uint8Array> = {};
  for (const s of [0, 10])
    for (const layer of ['fc1', 'fc2']) {
      const rows = badLayer === layer && s === 10 ? M - 7 : M;
      members[`step_${s}/${layer}.npy`] = encodeNpy([rows, 5], randn(seed * 100 + s + (layer === 'fc2' ? 1 : 0), rows, 5).data);
    }
  return new File([zipSync(members)], name);
}

describe('a study dropped with one bad seed file', () => {
  it('loads the good seed files as the study and reports the bad file by name, array and what is wrong', async () => {
    const client = inProcessClient();
    const files = [seedFile('seedA.npz', 1), seedFile('seedB.npz', 2), seedFile('seedC.npz', 3, 'fc2')];
    const res = await client.addInput(
      files.map((file) => ({ path: file.name, file })),
      'seedA.npz + seedB.npz + seedC.npz',
    );
    expect(res.errors).toEqual([
      expect.stringMatching(/^seedC\.npz: left out of the study: array step_10\/fc2 \(shape \(53, 5\)\) has 53 datapoints but step_0\/fc1 .* 60;/),
    ]);
    expect(res.bundle!.runs).toEqual(['seedA', 'seedB']);
    // The preview lists the file left out among what is not part of the bundle, with why (not only in the error).
    expect(unmatchedOf(res.bundle!)).toEqual([res.errors[0]]);
    expect(res.bundle!.id).toBe('seedA.npz + seedB.npz');
    // The good seeds work as the study: each run's dynamics.
    const options = { ...DEFAULT_OPTIONS, backend: 'cpu' as const };
    for (const run of ['seedA', 'seedB']) {
      const r = await client.dynamics({ bundle: res.bundle!.id, run, reference: 'last', dropped: [], options });
      expect(r.result.steps).toEqual([0, 10]);
      expect(r.result.layers).toEqual(['fc1', 'fc2']);
    }
  });
});
