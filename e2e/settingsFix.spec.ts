// Settings that cannot go together are fixed for the user, and a job that cannot run shows its
// reason alone: no empty chart under it, no export buttons.

import { zipSync } from 'fflate';
import { encodeNpy } from '../src/io/npy';
import { crossView, dynamicsView, withDigitsDemo } from './explorer';
import { expect, randn, test } from './fixtures';

test('a link with metric=cka on a bundle with conv layers computes with flatten and says so', async ({ page }) => {
  test.setTimeout(240_000);
  await withDigitsDemo(page);
  await page.goto('/#metric=cka');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(page.getByLabel('Metric')).toHaveValue('cka');
  await expect(page.getByLabel('Conv layers')).toHaveValue('flatten');
  const notice = page.getByTestId('settings-notice');
  await expect(notice).toContainText('so conv layers now use flatten');
  await expect(dynamicsView(page).getByRole('alert')).toHaveCount(0);
  await expect(dynamicsView(page).locator('g.cells rect[data-value]')).toHaveCount(25);
  await expect(page).toHaveURL(/metric=cka/);
  await expect(page).toHaveURL(/conv=flatten/);
  // PWCCA runs on flattened conv layers too (only the DFT is SVCCA/CCA-only): nothing to switch.
  await page.getByLabel('Metric').selectOption('pwcca');
  await expect(page.getByLabel('Conv layers')).toHaveValue('flatten');
  await page.getByRole('tab', { name: 'Across runs' }).click();
  await expect(crossView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(crossView(page).getByRole('alert')).toHaveCount(0);
  // The way back: SVCCA with the DFT.
  await page.getByRole('tab', { name: 'Learning dynamics' }).click();
  await page.getByLabel('Metric').selectOption('svcca');
  await expect(page.getByLabel('Conv layers')).toHaveValue('dft');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
});

test('a job that cannot run shows why, with no empty chart and no export buttons under it', async ({ page }) => {
  // Two layers over different datapoint counts: refused before any pair is computed.
  const members: Record<string, Uint8Array> = {};
  for (const step of [0, 10]) {
    members[`step_${step}/a.npy`] = encodeNpy([100, 5], Float32Array.from(randn(step + 1, 500)));
    members[`step_${step}/b.npy`] = encodeNpy([90, 5], Float32Array.from(randn(step + 2, 450)));
  }
  const body = Buffer.from(zipSync(members, { level: 0 }));
  await page.route('**/odd.npz', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body }));
  await page.goto('/?data=odd.npz');
  const view = dynamicsView(page);
  await expect(view).toHaveAttribute('data-status', 'error');
  await expect(view.getByRole('alert')).toContainText('has 90 datapoints but');
  await expect(view.getByRole('img', { name: /heatmap/ })).toHaveCount(0);
  await expect(view.getByRole('button', { name: /PNG|SVG|CSV|Export JSON/ })).toHaveCount(0);
});
