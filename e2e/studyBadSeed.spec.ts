// A fresh training run's seed files dropped together, one of them bad (its arrays disagree on the
// datapoint count): the good seed files load as the study and work (the runs' dynamics, all runs
// in the seeds view); the bad file is reported naming the file, the array and what is wrong.

import { zipSync } from 'fflate';
import { bundleArrays, npzBundle } from './bundles';
import { dynamicsView, finished } from './explorer';
import { expect, test, type FilePayload } from './fixtures';
import { encodeNpy } from '../src/io/npy';

const SPEC = { steps: [0, 100, 200], datapoints: 160, manifest: false };

/** seedC.npz: a seed file whose step_200/fc1 holds 140 datapoints where every other array holds 160. */
function badSeedFile(): FilePayload {
  const members: Record<string, Uint8Array> = {};
  for (const a of bundleArrays({ ...SPEC, seed: 31 })) {
    const shortened = a.name === 'step_200/fc1';
    const rows = shortened ? 140 : a.shape[0];
    const width = a.shape[1] ?? 1;
    members[`${a.name}.npy`] = encodeNpy(shortened ? [rows, width] : a.shape, shortened ? a.data.slice(0, rows * width) : a.data);
  }
  return { name: 'seedC.npz', mimeType: 'application/octet-stream', buffer: Buffer.from(zipSync(members)) };
}

test('one bad seed file is left out and named; the good seed files are the study', async ({ page }) => {
  await page.goto('/');
  await page
    .getByTestId('file-input')
    .setInputFiles([npzBundle('seedA.npz', { ...SPEC, seed: 11 }), npzBundle('seedB.npz', { ...SPEC, seed: 21 }), badSeedFile()]);
  const errors = page.getByRole('alert', { name: 'Errors' });
  await expect(errors).toContainText(
    "seedC.npz: left out of the study: array step_200/fc1 (shape (140, 12)) has 140 datapoints but step_0/conv1 and the other files' arrays have 160",
  );
  const study = page.getByRole('region', { name: 'seedA.npz + seedB.npz' });
  await expect(study).toContainText('2 runs × 3 checkpoints × 5 layers');
  await expect(study).toContainText('Runs: seedA (3 checkpoints), seedB (3 checkpoints).');
  // The preview lists the file left out among what is not part of the bundle, with why.
  await expect(study.getByTestId('unmatched')).toContainText('seedC.npz: left out of the study: array step_200/fc1');
  // A load with an error waits for the user's Compute rather than starting on its own.
  await study.getByRole('button', { name: 'Compute' }).click();
  await finished(dynamicsView(page));
  const run = dynamicsView(page).getByLabel('Run');
  await expect(run.locator('option')).toContainText(['seedA', 'seedB', 'all runs (mean ± spread)']);
  await expect(run.locator('option', { hasText: 'seedC' })).toHaveCount(0);
  await run.selectOption({ label: 'all runs (mean ± spread)' });
  await expect(page.getByTestId('seeds-dynamics')).toContainText('all runs (mean ± spread) · seedA, seedB');
});
