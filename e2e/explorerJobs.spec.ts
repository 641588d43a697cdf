// Jobs: progress with pairs done / total, elapsed and an estimate; Cancel keeps the partial
// result; the worker keeps answering; the Backend choice says where it ran.

import { heavyBundle, npzBundle } from './bundles';
import { computeBundle, dynamicsHeatmap, dynamicsView, finished, pairDetail } from './explorer';
import { expect, test } from './fixtures';

test('cancel a running job: the computed cells stay, the rest stays empty, the worker answers', async ({ page }) => {
  const heavy = heavyBundle('heavy.npz'); // 6 layers × 8 checkpoints, 1000 datapoints × 96 neurons
  await page.route('**/heavy.npz', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: heavy.buffer }));
  await page.goto('/?data=heavy.npz#t=0'); // the first checkpoint (it is computed first)
  const view = dynamicsView(page);
  await expect(view).toHaveAttribute('data-status', 'running');
  const progress = view.getByTestId('dynamics-progress');
  await expect(progress).toContainText('/ 288 pairs');
  await expect(progress).toContainText('elapsed');
  await expect(view.getByRole('progressbar', { name: 'Progress' })).toBeVisible();
  // Wait for the first checkpoint's cells, then cancel.
  await expect(dynamicsHeatmap(page).locator('g.cells rect[data-value]').first()).toBeAttached({ timeout: 60_000 });
  await expect(progress).toContainText('left');
  await view.getByRole('button', { name: 'Cancel' }).click();
  await expect(view).toHaveAttribute('data-status', 'cancelled');
  const status = view.locator('.job-status.cancelled');
  await expect(status).toContainText(/^Cancelled: \d+ of 288 pairs computed; they stay shown\./);
  const computed = Number(/Cancelled: (\d+)/.exec((await status.textContent())!)![1]);
  expect(computed).toBeGreaterThanOrEqual(36);
  expect(computed).toBeLessThan(288);
  // The first checkpoint is complete; the last one was never reached.
  await expect(dynamicsHeatmap(page).locator('g.cells rect[data-value]')).toHaveCount(36);
  await page.getByRole('slider', { name: 'Checkpoint' }).fill('7');
  await expect(dynamicsHeatmap(page).locator('g.cells rect.pending')).toHaveCount(36);

  // The worker is free again: a pair of the first checkpoint opens.
  await page.getByRole('slider', { name: 'Checkpoint' }).fill('0');
  await dynamicsHeatmap(page).locator('g.cells rect').first().click();
  await expect(pairDetail(page)).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
});

test('settings: Backend CPU says so; a setting the numbers do not depend on does not recompute', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [npzBundle('toy.npz', { steps: [0, 100, 200] })]);
  await page.getByLabel('Backend').selectOption('cpu');
  await finished(dynamicsView(page));
  await expect(dynamicsView(page).getByTestId('dynamics-backend')).toHaveText('Computed on the CPU in float64, as chosen under Backend.');

  const before = await dynamicsHeatmap(page).locator('g.cells rect').first().getAttribute('data-value');
  // This bundle has no conv layers: how they would be reduced changes nothing, so no job starts.
  await page.getByLabel('Conv layers').selectOption('meanpool');
  await expect(page).toHaveURL(/conv=meanpool/);
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done');
  await expect(dynamicsView(page).getByTestId('dynamics-progress')).toHaveCount(0);
  expect(await dynamicsHeatmap(page).locator('g.cells rect').first().getAttribute('data-value')).toBe(before);

  // The metric does: it recomputes, and switching back is instant (the finished grid is kept).
  await page.getByLabel('Metric').selectOption('cka');
  await finished(dynamicsView(page));
  await expect(dynamicsHeatmap(page)).toHaveAccessibleName(/^Learning dynamics heatmap: CKA/);
  expect(await dynamicsHeatmap(page).locator('g.cells rect').first().getAttribute('data-value')).not.toBe(before);
  await page.getByLabel('Metric').selectOption('svcca');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done');
  expect(await dynamicsHeatmap(page).locator('g.cells rect').first().getAttribute('data-value')).toBe(before);
});
