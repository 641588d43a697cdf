// Getting data in: a dropped bundle and its preview, a dropped folder, "Open folder", a bad file
// among good ones, refused datapoint counts, ?data=URL, and the demo.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_LAYERS, folderBundle, npzBundle } from './bundles';
import { computeBundle, dropFolder, dynamicsHeatmap, dynamicsView, finished } from './explorer';
import { dropFiles, expect, npyFile, test, activationsX } from './fixtures';

const errors = (page: import('@playwright/test').Page) => page.getByRole('alert', { name: 'Errors' });

test('a dropped multi-checkpoint bundle is previewed and, raising no question, computed at once', async ({ page }) => {
  await page.goto('/');
  await dropFiles(page, [npzBundle('toy.npz')]);
  const preview = page.getByRole('region', { name: 'toy.npz' });
  await expect(preview).toBeVisible();
  await expect(page.getByTestId('preview-summary')).toHaveText('1 run × 6 checkpoints × 5 layers · 30 arrays · 0.3 MB · 240 datapoints · labels: 6 classes');
  const conv1 = preview.locator('tr[data-layer="conv1"]');
  await expect(conv1).toContainText('(240, 16)');
  await expect(conv1).toContainText('<f4');
  await expect(conv1.locator('td').nth(3)).toHaveText('240'); // datapoints
  await expect(conv1.locator('td.features')).toHaveText('16'); // a dense layer: its 16 features, whatever the conv reduction
  await expect(conv1).toContainText('datapoints-first');
  await expect(preview).toContainText('Checkpoints: 0, 100, 200, 400, 800, 1600.');
  // Every layout is read from the shapes and nothing is refused: no Compute to press.
  await expect(page.getByRole('button', { name: 'Compute', exact: true })).toHaveCount(0);
  await finished(dynamicsView(page));
  await expect(dynamicsHeatmap(page).locator('g.cells rect')).toHaveCount(25);

  await preview.getByLabel('Use layer fc2').uncheck();
  await expect(page.getByTestId('preview-summary')).toContainText('× 4 layers · 24 arrays');
  await expect(dynamicsHeatmap(page).locator('g.cells rect')).toHaveCount(16);
  await finished(dynamicsView(page));
  await expect(dynamicsView(page).getByTestId('dynamics-backend')).toContainText('Computed on the CPU in float64');
  await expect(page).toHaveURL(/#.*drop=fc2/);
});

test('a dropped folder is read recursively; unmatched files are listed', async ({ page }) => {
  await page.goto('/');
  const files = [...folderBundle('acts', { steps: [0, 50, 100], layers: ['a', 'b', 'c'] }), { path: 'acts/README.txt', buffer: Buffer.from('notes') }];
  await dropFolder(page, 'acts', files);
  const preview = page.getByRole('region', { name: 'acts' });
  await expect(page.getByTestId('preview-summary')).toHaveText('1 run × 3 checkpoints × 3 layers · 9 arrays · 0.1 MB · 240 datapoints · labels: 6 classes');
  await expect(preview).toContainText('Not part of the bundle (1, not used)');
  await expect(preview).toContainText('acts/README.txt');
  await finished(dynamicsView(page));
  await expect(dynamicsHeatmap(page).locator('g.cells rect')).toHaveCount(9);
});

test('"Open folder" reads a folder of runs', async ({ page }, testInfo) => {
  const root = testInfo.outputPath('runs');
  for (const f of folderBundle('runs', { runs: ['seed0', 'seed1'], steps: [0, 10], layers: ['h1', 'h2'] })) {
    const path = join(dirname(root), f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.buffer);
  }
  await page.goto('/');
  await page.getByTestId('folder-input').setInputFiles(root);
  await expect(page.getByTestId('preview-summary')).toContainText('2 runs × 2 checkpoints × 2 layers');
  await expect(page.getByRole('region', { name: 'runs' })).toContainText('Runs: seed0 (2 checkpoints), seed1 (2 checkpoints).');
  await finished(dynamicsView(page));
  const run = page.getByRole('combobox', { name: /^Run\b/ });
  await expect(run).toHaveValue('0');
  await run.selectOption({ label: 'seed1' });
  await finished(dynamicsView(page));
  await expect(dynamicsView(page)).toContainText('runs · run seed1');
});

test('a bad file dropped among good ones: its error names it, the rest loads and computes', async ({ page }) => {
  await page.goto('/');
  const good = folderBundle('acts', { steps: [0, 10], layers: ['a', 'b'] });
  await dropFolder(page, 'acts', [...good, { path: 'acts/step_10/extra.npz', buffer: Buffer.from('this is not a zip archive') }]);
  await expect(errors(page)).toContainText('acts/step_10/extra.npz');
  await expect(errors(page).locator('li')).toHaveCount(1);
  await expect(page.getByTestId('preview-summary')).toContainText('1 run × 2 checkpoints × 2 layers');
  await page.getByRole('button', { name: 'Compute', exact: true }).click();
  await finished(dynamicsView(page));

  // A later bad drop keeps everything; a dismissed error goes away.
  await dropFiles(page, [{ name: 'broken.npz', mimeType: 'application/octet-stream', buffer: Buffer.from('nope') }]);
  await expect(errors(page).locator('li')).toHaveCount(2);
  await expect(errors(page)).toContainText('broken.npz');
  await expect(dynamicsHeatmap(page)).toBeVisible();
  await page.getByRole('button', { name: /^Dismiss: acts\/step_10\/extra\.npz/ }).click();
  await expect(errors(page).locator('li')).toHaveCount(1);
});

test('layer names in the preview and the freeze steps are not broken inside a short name', async ({ page }) => {
  await page.goto('/');
  await dropFiles(page, [npzBundle('toy.npz')]);
  // One line box per name: its text's client rects all share one top.
  const linesOf = (names: import('@playwright/test').Locator) =>
    names.evaluateAll((cells) =>
      cells.map((cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return [cell.textContent, new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size];
      }),
    );
  const names = page.getByRole('region', { name: 'toy.npz' }).locator('th.name');
  await expect(names).toHaveCount(DEFAULT_LAYERS.length);
  expect(await linesOf(names)).toEqual(DEFAULT_LAYERS.map((layer) => [layer, 1]));
  await finished(dynamicsView(page));
  // A threshold a layer meets only at the reference step: the longest text beside a name.
  await page.getByRole('spinbutton', { name: 'Threshold' }).fill('0.9999');
  const freeze = page.getByRole('list', { name: 'Freeze steps' });
  await expect(freeze.locator('li', { hasText: 'not before the reference step 1600' }).first()).toBeVisible();
  const freezeNames = freeze.locator('.layer');
  await expect(freezeNames).toHaveCount(DEFAULT_LAYERS.length);
  expect(await linesOf(freezeNames)).toEqual(DEFAULT_LAYERS.map((layer) => [layer, 1]));
});

test('loose .npy files dropped beside a bundle: compared on their own, and a truncated one named with its reason', async ({ page }) => {
  await page.goto('/');
  const whole = npyFile('probe.npy', activationsX(3));
  const cut = { ...whole, name: 'cut.npy', buffer: whole.buffer.subarray(0, 500) };
  await dropFiles(page, [npzBundle('toy.npz'), whole, cut]);
  await expect(errors(page)).toContainText(/cut\.npy: data is truncated/);
  await expect(page.getByTestId('preview-summary')).toContainText('1 run × 6 checkpoints × 5 layers');
  await page.getByRole('tab', { name: 'Compare two arrays' }).click();
  await expect(page.locator('tr[data-array="probe.npy"]')).toBeVisible();
  await expect(page.locator('tr[data-array="cut.npy"]')).toHaveCount(0);
});

test('arrays over different datapoints are refused with both counts named', async ({ page }) => {
  await page.goto('/');
  const files = folderBundle('acts', { steps: [0, 10], layers: ['a', 'b'] });
  const short = activationsX(3); // (400, 20): not the 240 datapoints of the others
  files.push({ path: 'acts/step_10/c.npy', buffer: npyFile('c.npy', short).buffer });
  files.push({ path: 'acts/step_0/c.npy', buffer: npyFile('c.npy', short).buffer });
  await dropFolder(page, 'acts', files);
  const problems = page.getByRole('alert', { name: 'Problems' });
  await expect(problems).toContainText('has 400 datapoints but');
  await expect(problems).toContainText('has 240');
  await expect(page.getByRole('button', { name: 'Compute', exact: true })).toBeDisabled();
  await page.getByLabel('Use layer c').uncheck();
  await expect(problems).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Compute', exact: true })).toBeEnabled();
});

test('?data=URL loads a bundle and shows it at once; a failing URL is one line', async ({ page }) => {
  const bundle = npzBundle('remote.npz', { steps: [0, 1, 2] });
  await page.route('**/data/remote.npz', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: bundle.buffer }));
  await page.goto('/?data=data/remote.npz');
  await finished(dynamicsView(page));
  await expect(page.getByRole('region', { name: 'Data' })).toContainText('remote.npz');
  await expect(page.getByText('Demo:')).toHaveCount(0);

  await page.route('**/data/missing.npz', (route) => route.fulfill({ status: 404, body: 'not here' }));
  page.removeAllListeners('console'); // the browser logs the 404 itself
  await page.goto('/?data=data/missing.npz');
  await expect(errors(page).locator('li')).toHaveCount(1);
  await expect(errors(page)).toContainText('missing.npz: could not be fetched: HTTP 404');
});

test('the demo: without data the first demo is shown, heatmap and curves, with a caption', async ({ page }) => {
  const bundle = npzBundle('digits.npz');
  await page.route('**/demo/index.json', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify([{ id: 'digits', title: 'Digits MLP', caption: 'a small MLP learning digits.', file: 'digits.npz' }]),
    }),
  );
  await page.route('**/demo/digits.npz', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: bundle.buffer }));
  await page.goto('/');
  const caption = page.getByRole('region', { name: 'Demo' });
  await expect(caption.locator('p').first()).toHaveText('Demo: a small MLP learning digits.');
  await expect(caption).toContainText('Your own activations: drop an .npz');
  await expect(caption.getByRole('button', { name: 'Open folder' })).toBeVisible();
  await finished(dynamicsView(page));
  await expect(dynamicsHeatmap(page)).toBeVisible();
  await expect(page.getByRole('img', { name: /^Convergence curves/ })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Freeze steps' }).locator('li')).toHaveCount(DEFAULT_LAYERS.length);

  // Dropping your own bundle replaces the demo's caption.
  await computeBundle(page, [npzBundle('mine.npz', { steps: [0, 5] })]);
  await expect(page.getByTestId('demo-caption')).toHaveCount(0);
});
