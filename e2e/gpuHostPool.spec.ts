// The GPU path's float64 host step on the browser's CPU pool (analysis/pool/gramHost.ts through the
// module workers nested in the analysis worker): with WebGPU chosen and ?threads=2, the page cross-
// origin isolated (the Grams and the reductions go through shared memory), the learning-dynamics
// export says WebGPU on 2 threads and every value is the one-thread value, to the last bit.

import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { npzBundle } from './bundles';
import { computeBundle, dynamicsView } from './explorer';
import { expect, test } from './fixtures';

async function exportOnGpu(page: Page, url: string, bundle: ReturnType<typeof npzBundle>) {
  await page.goto(url);
  await computeBundle(page, [bundle]);
  await expect(page.getByLabel('Backend')).toHaveValue('webgpu');
  await expect(dynamicsView(page).getByTestId('dynamics-backend')).toContainText('with WebGPU', { timeout: 120_000 });
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click()]);
  return JSON.parse(readFileSync(await download.path(), 'utf8'));
}

test('?threads=2 with WebGPU: the host step on two worker threads, the one-thread numbers bit for bit', async ({ page }) => {
  test.setTimeout(300_000);
  // Three layers whose Grams are enough work for the pool (Σ n³ > 2 × 128³), more datapoints than neurons.
  const bundle = npzBundle('wide.npz', { layers: ['a', 'b', 'c'], steps: [0, 10], datapoints: 220, neurons: [150, 130, 110] });
  const pooled = await exportOnGpu(page, '/?threads=2#backend=webgpu', bundle);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const single = await exportOnGpu(page, '/?threads=1#backend=webgpu', bundle);
  // 2 threads: the pool's workers answered (a pool whose workers cannot start reports 1).
  expect(pooled.provenance).toMatchObject({ backend: 'webgpu', float64: [], threads: 2 });
  expect(single.provenance.threads).toBe(1);
  expect(pooled.values).toEqual(single.values);
});
