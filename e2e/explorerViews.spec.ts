// The views: stepping through checkpoints, small multiples, the tooltip, keyboard navigation,
// the drill-down, across runs, a link that reproduces the view, and screenshots of each view
// against committed baselines (e2e/__screenshots__).

import type { Page } from '@playwright/test';
import { DEFAULT_STEPS, npzBundle } from './bundles';
import { cellValue, computeBundle, crossView, dynamicsHeatmap, dynamicsView, figureOf, finished, pairDetail } from './explorer';
import { activationsX, activationsY, expect, npyFile, openFiles, test } from './fixtures';

const toy = () => npzBundle('toy.npz');
const readout = (page: Page) => page.getByTestId('step-readout');

/** Mouse away, so no tooltip or hover state is in a screenshot. */
const still = (page: Page) => page.mouse.move(0, 0);

test('step through checkpoints: slider, ← / →, play and pause; small multiples', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [toy()]);
  await expect(readout(page)).toHaveText('step 0 · 1/6');
  const first = await cellValue(page, 4, 4, 5);

  const slider = page.getByRole('slider', { name: 'Checkpoint' });
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await expect(readout(page)).toHaveText('step 100 · 2/6');
  // ← / → also step when the focus is elsewhere on the page.
  await page.getByRole('heading', { name: 'Learning dynamics' }).click();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(readout(page)).toHaveText('step 400 · 4/6');
  await page.keyboard.press('ArrowLeft');
  await expect(readout(page)).toHaveText('step 200 · 3/6');
  await expect(dynamicsHeatmap(page)).toHaveAccessibleName(/step 200 against each layer at the reference step 1600/);
  expect(await cellValue(page, 4, 4, 5)).not.toBe(first);
  await expect(page).toHaveURL(/#t=2$/);

  await page.getByRole('button', { name: 'Play through checkpoints' }).click();
  await expect(readout(page)).toHaveText('step 400 · 4/6');
  await page.getByRole('button', { name: 'Pause' }).click();
  const paused = await readout(page).textContent();
  await page.waitForTimeout(1200);
  await expect(readout(page)).toHaveText(paused!);

  await page.getByLabel('All checkpoints').check();
  const multiples = page.getByRole('img', { name: /all 6 checkpoints, side by side/ });
  await expect(multiples.locator('g.panel')).toHaveCount(DEFAULT_STEPS.length);
  await expect(multiples.locator('text.panel-title').nth(5)).toHaveText('step 1600');
  // Clicking a checkpoint shows it alone.
  // A mouse click at page coordinates outside the viewport does nothing: bring the panel into view.
  const panel = multiples.locator('g.panel').nth(1).locator('rect').first();
  await panel.scrollIntoViewIfNeeded();
  const box = (await panel.boundingBox())!;
  await page.mouse.click(box.x + 3, box.y + 3);
  await expect(readout(page)).toHaveText('step 100 · 2/6');
  await expect(dynamicsHeatmap(page)).toBeVisible();
});

test('hover shows the exact value, layers, steps, metric and kept dimensions; the colour scale can fit the data', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [toy()]);
  const cell = dynamicsHeatmap(page)
    .locator('g.cells rect')
    .nth(1 * 5 + 3); // conv2 × fc2
  const value = Number(await cell.getAttribute('data-value'));
  await cell.hover();
  const tip = dynamicsView(page).locator('.tooltip');
  await expect(tip).toBeVisible();
  await expect(tip).toContainText('conv2 at step 0 × fc2 at step 1600 (reference)');
  await expect(tip).toContainText(`SVCCA = ${value.toFixed(6)}`);
  await expect(tip).toContainText(/SVD directions kept: \d+ · \d+/);
  await page.mouse.move(0, 0);
  await expect(tip).toBeHidden();

  const legend = dynamicsHeatmap(page).locator('g.legend text.tick');
  await expect(legend.first()).toHaveText('0');
  await page.getByLabel('Fit colours to data').check();
  await expect(legend.first()).not.toHaveText('0');
  await expect(page).toHaveURL(/domain=fit/);
});

test('keyboard: arrows move the focus cell, Enter opens the pair; the drill-down shows spectra, directions and conventions', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [toy()]);
  const cells = page.getByRole('group', { name: /^Learning dynamics heatmap.*Cells$/ });
  await cells.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(dynamicsView(page).locator('[aria-live="polite"]')).toContainText('conv2 at step 0 × fc1 at step 1600 (reference)');
  await page.keyboard.press('Enter');

  const detail = pairDetail(page);
  await expect(detail).toHaveAttribute('data-status', 'done');
  await expect(detail.locator('.card-head h3')).toHaveText('conv2 at step 0 × fc1 at step 1600 (reference)');
  const shown = Number((await detail.getByTestId('similarity').textContent())!.replace('−', '-'));
  expect(Math.abs(shown - (await cellValue(page, 1, 2, 5))!)).toBeLessThan(1e-4);
  await expect(detail.getByRole('img', { name: 'Canonical correlation spectrum' })).toBeVisible();
  await expect(detail.locator('.summary.mean98')).toContainText('mean98');
  await expect(detail.locator('.summary.mean')).toContainText('mean ρ');
  await expect(detail.getByRole('img', { name: /^Variance spectrum of A · conv2 at step 0/ })).toBeVisible();
  await expect(detail.getByRole('img', { name: /^Variance spectrum of B · fc1/ })).toBeVisible();
  await expect(detail.locator('.cut').filter({ hasText: /keeps/ })).toContainText(/k = \d+ keeps 99\./);
  // The top 10 direction pairs at most (fewer when the pair has fewer canonical correlations).
  const directions = detail.getByRole('img', { name: /^Top \d+ canonical direction pairs over the datapoints/ });
  const drawn = Number(/^Top (\d+)/.exec((await directions.getAttribute('aria-label'))!)![1]);
  expect(drawn).toBeGreaterThanOrEqual(1);
  expect(drawn).toBeLessThanOrEqual(10);
  await expect(directions.locator('path.dir-a')).toHaveCount(drawn);
  await expect(directions.locator('rect.band')).toHaveCount(6 * drawn); // 6 labels × each direction
  await expect(detail.locator('figcaption').filter({ hasText: 'direction pairs' })).toContainText('all 240 datapoints');
  await detail.getByLabel('Colour by label').uncheck();
  await expect(directions.locator('rect.band')).toHaveCount(0);
  await expect(detail.getByRole('region', { name: 'Conventions' })).toContainText('0.99 of variance');
  await expect(page).toHaveURL(/pair=0\.1\.2/);

  // Clicking another cell replaces it; Close closes it.
  await dynamicsHeatmap(page).locator('g.cells rect').nth(0).click();
  await expect(detail.locator('.card-head h3')).toHaveText('conv1 at step 0 × conv1 at step 1600 (reference)');
  await detail.getByRole('button', { name: 'Close pair detail' }).click();
  await expect(detail).toHaveCount(0);
});

test('across runs: layers of run A × layers of run B at a chosen step', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [npzBundle('runs.npz', { runs: ['a', 'b'], steps: [0, 100, 200] })]);
  await page.getByRole('tab', { name: 'Across runs' }).click();
  await finished(crossView(page));
  const heatmap = page.getByRole('img', { name: /^Across-runs heatmap: SVCCA of the layers of run a against the layers of run b at step 200/ });
  await expect(heatmap.locator('g.cells rect')).toHaveCount(25);
  await page.getByRole('combobox', { name: /^Step/ }).selectOption('100');
  await finished(crossView(page));
  await expect(page.getByRole('img', { name: /at step 100$/ })).toBeVisible();
  await page
    .getByRole('img', { name: /at step 100$/ })
    .locator('g.cells rect')
    .nth(6)
    .click();
  await expect(pairDetail(page)).toHaveAttribute('data-status', 'done');
  await expect(pairDetail(page).locator('.card-head h3')).toHaveText('run a · conv2 × run b · conv2');
  await expect(page).toHaveURL(/view=cross.*a=runs\.npz%7Ea.*b=runs\.npz%7Eb.*step=100/);
});

test('a link reproduces the view over the same data', async ({ page }) => {
  const bundle = npzBundle('shared.npz');
  await page.route('**/shared.npz', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: bundle.buffer }));
  await page.goto('/?data=shared.npz#metric=cca&eps=0.000001&t=3&pair=3.4.2&domain=fit&ref=800');
  await finished(dynamicsView(page));
  await expect(page.getByLabel('Metric')).toHaveValue('cca');
  await expect(page.getByLabel('Epsilon')).toHaveValue('0.000001');
  await expect(readout(page)).toHaveText('step 400 · 4/6');
  await expect(page.getByRole('combobox', { name: /^Reference step/ })).toHaveValue('800');
  await expect(page.getByLabel('Fit colours to data')).toBeChecked();
  await expect(pairDetail(page)).toHaveAttribute('data-status', 'done');
  await expect(pairDetail(page).locator('.card-head h3')).toHaveText('logits at step 400 × fc1 at step 800 (reference)');
  await expect(pairDetail(page)).toContainText('CCA similarity');
});

test('screenshots of each view match the baselines', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([toy()]);
  const preview = page.getByRole('region', { name: 'toy.npz' });
  await expect(preview).toBeVisible();
  await finished(dynamicsView(page));
  await expect(preview).toHaveScreenshot('preview.png');
  // The views' baselines were taken with the preview collapsed (as Compute used to leave it).
  await preview.getByRole('button', { name: 'Hide details' }).click();
  await page.getByRole('slider', { name: 'Checkpoint' }).fill('1');
  await expect(readout(page)).toHaveText('step 100 · 2/6');
  await still(page);
  await expect(figureOf(dynamicsHeatmap(page))).toHaveScreenshot('dynamics-heatmap.png');
  await expect(page.getByRole('region', { name: 'Convergence curves' })).toHaveScreenshot('convergence.png');

  await page.getByLabel('All checkpoints').check();
  await expect(figureOf(page.getByRole('img', { name: /side by side/ }))).toHaveScreenshot('small-multiples.png');
  await page.getByLabel('All checkpoints').uncheck();

  await dynamicsHeatmap(page).locator('g.cells rect').nth(7).click();
  await expect(pairDetail(page)).toHaveAttribute('data-status', 'done');
  await still(page);
  await expect(pairDetail(page)).toHaveScreenshot('drill-down.png', { mask: [pairDetail(page).locator('.conventions dd').last()] });

  await page.getByRole('tab', { name: 'Across runs' }).click();
  await finished(crossView(page));
  await still(page);
  await expect(figureOf(page.getByRole('img', { name: /^Across-runs heatmap/ }))).toHaveScreenshot('across-runs.png');

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByRole('tab', { name: 'Learning dynamics' }).click();
  await finished(dynamicsView(page));
  await still(page);
  await expect(dynamicsView(page).locator('.dynamics-grid')).toHaveScreenshot('dynamics-dark.png');
});

test('screenshot of the "Compare two arrays" view matches its baseline', async ({ page }) => {
  await page.goto('/');
  await openFiles(page, [npyFile('x.npy', activationsX()), npyFile('y.npy', activationsY())]);
  const results = page.getByRole('region', { name: 'Results' });
  await expect(results).toHaveAttribute('data-status', 'done');
  await still(page);
  await expect(results).toHaveScreenshot('compare-arrays.png', { mask: [results.locator('.conventions dd').last()] });
});
