// The first page end to end: real files, the real worker, the real engine, in Chromium.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { activationsX, activationsY, arrayRow, dropFiles, expect, npyFile, openFiles, results, shownSimilarity, test, truncatedNpy } from './fixtures';

test.beforeEach(async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveTitle('SVCCA Lens');
  await expect(page.getByRole('heading', { level: 1, name: 'SVCCA Lens' })).toBeVisible();
});

test('two .npy files through "Open files": SVCCA in (0, 1], and 1 against itself', async ({ page }, testInfo) => {
  await expect(page.getByText('Nothing leaves your machine')).toBeVisible();
  await openFiles(page, [npyFile('x.npy', activationsX()), npyFile('y.npy', activationsY())]);

  await expect(arrayRow(page, 'x.npy')).toContainText('(400, 20)');
  await expect(arrayRow(page, 'x.npy')).toContainText('<f4');
  await expect(arrayRow(page, 'x.npy')).toContainText('datapoints-first');
  await expect(arrayRow(page, 'y.npy')).toContainText('(400, 15)');
  await expect(page.getByLabel('Representation A')).toHaveValue('x.npy');
  await expect(page.getByLabel('Representation B')).toHaveValue('y.npy');

  const sim = await shownSimilarity(page);
  expect(sim).toBeGreaterThan(0);
  expect(sim).toBeLessThanOrEqual(1);
  expect(sim).toBeGreaterThan(0.5); // Y is a linear map of X plus modest noise
  await expect(results(page)).toContainText('SVCCA similarity');
  await expect(page.getByTestId('datapoints')).toHaveText('400');
  await expect(page.getByTestId('neurons')).toHaveText('20 · 15');
  await expect(page.getByRole('img', { name: 'Canonical correlation spectrum' })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Variance spectrum of A/ })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Variance spectrum of B/ })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Conventions' })).toContainText('float64');

  const shot = process.env.SCREENSHOT_PATH;
  if (shot) {
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: shot.replace(/\.png$/, '-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  }
  await page.screenshot({ path: testInfo.outputPath('results.png'), fullPage: true });

  await page.getByLabel('Representation B').selectOption('x.npy');
  await expect(page.getByTestId('similarity')).toHaveText('1.0000');
  expect(Math.abs((await shownSimilarity(page)) - 1)).toBeLessThan(1e-4);
});

test('settings change the metric and recompute', async ({ page }) => {
  await openFiles(page, [npyFile('x.npy', activationsX()), npyFile('y.npy', activationsY())]);
  const svcca = await shownSimilarity(page);
  await page.getByLabel('Metric').selectOption('cka');
  await expect(results(page)).toContainText('CKA similarity');
  const cka = await shownSimilarity(page);
  expect(cka).toBeGreaterThan(0);
  expect(cka).toBeLessThanOrEqual(1);
  await page.getByLabel('Metric').selectOption('svcca');
  await page.getByLabel('Keep rule').selectOption('dims');
  await page.getByLabel('Kept dimensions k').fill('5');
  await expect(page.getByTestId('kept')).toHaveText('5 · 5');
  expect(await shownSimilarity(page)).not.toBe(svcca);
});

test('drag and drop of files onto the window works too', async ({ page }) => {
  await dropFiles(page, [npyFile('dropped-x.npy', activationsX()), npyFile('dropped-y.npy', activationsY())]);
  await expect(page.locator('.drop-overlay')).toBeHidden();
  await expect(arrayRow(page, 'dropped-x.npy')).toBeVisible();
  await expect(arrayRow(page, 'dropped-y.npy')).toBeVisible();
  const sim = await shownSimilarity(page);
  expect(sim).toBeGreaterThan(0);
  expect(sim).toBeLessThanOrEqual(1);
});

test('a bad file among good ones shows an error naming it and keeps the good ones', async ({ page }) => {
  await openFiles(page, [npyFile('good-x.npy', activationsX()), truncatedNpy('broken.npy'), npyFile('good-y.npy', activationsY())]);
  const errors = page.getByRole('alert', { name: 'Errors' });
  await expect(errors).toContainText('broken.npy');
  await expect(errors.locator('li')).toHaveCount(1);
  await expect(arrayRow(page, 'good-x.npy')).toBeVisible();
  await expect(arrayRow(page, 'good-y.npy')).toBeVisible();
  await expect(arrayRow(page, 'broken.npy')).toHaveCount(0);
  const before = await shownSimilarity(page);

  // Later bad files never remove what was loaded before.
  await openFiles(page, [truncatedNpy('also-broken.npy'), { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') }]);
  await expect(errors.locator('li')).toHaveCount(3);
  await expect(errors).toContainText('also-broken.npy');
  await expect(errors).toContainText('notes.txt');
  await expect(page.locator('tbody tr')).toHaveCount(2);
  expect(await shownSimilarity(page)).toBe(before);
});

test('arrays over different datapoints are refused with both counts', async ({ page }) => {
  const x = activationsX();
  const fewer = { shape: [300, 20], data: x.data.slice(0, 300 * 20) };
  await openFiles(page, [npyFile('x.npy', x), npyFile('fewer.npy', fewer)]);
  await expect(results(page)).toHaveAttribute('data-status', 'error');
  const message = results(page).getByRole('alert');
  await expect(message).toContainText('300');
  await expect(message).toContainText('400');
});

test('a neurons-first file is detected, and the Flip control changes how it is read', async ({ page }) => {
  const x = activationsX();
  const [m, n] = x.shape;
  const xt = { shape: [n, m], data: Float32Array.from({ length: m * n }, (_, k) => x.data[(k % m) * n + Math.floor(k / m)]) };
  await openFiles(page, [npyFile('x.npy', x), npyFile('xt.npy', xt)]);
  await expect(arrayRow(page, 'xt.npy')).toContainText('neurons-first');
  await expect(page.getByTestId('similarity')).toHaveText('1.0000');

  await page.getByRole('button', { name: 'Flip layout of xt.npy' }).click();
  await expect(arrayRow(page, 'xt.npy')).toContainText('You flipped it');
  await expect(results(page)).toHaveAttribute('data-status', 'error');
  await expect(results(page).getByRole('alert')).toContainText(`has ${m} datapoints but xt.npy has ${n}`);

  await page.getByRole('button', { name: 'Flip layout of xt.npy' }).click();
  await expect(page.getByTestId('similarity')).toHaveText('1.0000');
});

test('nothing leaves the origin and nothing logs an error', async ({ page, guard }) => {
  await openFiles(page, [npyFile('x.npy', activationsX()), npyFile('y.npy', activationsY())]);
  await shownSimilarity(page);
  await page.getByLabel('Metric').selectOption('pwcca');
  await shownSimilarity(page);
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  // The guard fixture asserts again after the test; checking here too makes the intent explicit.
  expect(guard.outside).toEqual([]);
  expect(guard.consoleErrors).toEqual([]);
});

test('WebGPU is available in this Chromium', async ({ page }) => {
  const adapter = await page.evaluate(async () => {
    if (!('gpu' in navigator)) return { api: false, adapter: false };
    const a = await navigator.gpu.requestAdapter();
    return { api: true, adapter: a !== null, fallback: a?.info?.isFallbackAdapter ?? null };
  });
  expect(adapter.api).toBe(true);
  expect(adapter.adapter).toBe(true);
});
