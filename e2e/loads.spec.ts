// Your own files, from drop to chart: the newest load wins over the demo still downloading, every
// view shows the bundle that is named, each pick is its own bundle, one .npz per seed is one study
// with a run per file, and a lone .npy is an array to compare (with the reader's reason when bad).

import type { Page } from '@playwright/test';
import { bundleArrays, npzBundle } from './bundles';
import { crossView, dynamicsHeatmap, dynamicsView, finished } from './explorer';
import { dropFiles, expect, npyFile, test } from './fixtures';
import type { FilePayload } from './fixtures';

const errors = (page: Page) => page.getByRole('alert', { name: 'Errors' });
const pick = (page: Page, files: FilePayload[]) => page.getByTestId('file-input').setInputFiles(files);
const bundlePicker = (page: Page) => page.getByRole('combobox', { name: 'Bundle' });

/** labels.npy as a training script saves it next to its per-seed files (240 datapoints, 6 classes). */
function labelsNpy(): FilePayload {
  const labels = bundleArrays({ layers: ['x'], steps: [0] }).find((a) => a.name === 'labels')!;
  return npyFile('labels.npy', labels);
}

/** A version-1.0 .npy holding only `header` (padded to 128 bytes), no data. */
function npyHeaderOnly(header: string): Buffer {
  const padded = header.padEnd(128 - 10 - 1, ' ') + '\n';
  const preamble = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, padded.length & 0xff, padded.length >> 8]);
  return Buffer.concat([preamble, Buffer.from(padded, 'latin1')]);
}

/** One seed's checkpoints, as `np.savez(f"{name}", **{f"step_{s}/{layer}": …})` writes them. */
const seedFile = (name: string, seed: number) =>
  npzBundle(name, { steps: [0, 800, 1600], layers: ['conv1', 'fc1', 'logits'], seed, labels: false, manifest: false });

/** Serves a two-run demo; its bundle's response waits for `release` (the user's pick comes first). */
async function serveDemo(page: Page, held?: Promise<void>): Promise<{ requested: Promise<void>; served: Promise<void> }> {
  const demo = npzBundle('digits.npz', { runs: ['demo-a', 'demo-b'], steps: [0, 100, 200, 400] });
  let requested!: () => void;
  let served!: () => void;
  const result = { requested: new Promise<void>((r) => (requested = r)), served: new Promise<void>((r) => (served = r)) };
  await page.route('**/demo/index.json', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify([{ id: 'digits', title: 'Digits', caption: 'the demo.', file: 'digits.npz' }]),
    }),
  );
  await page.route('**/demo/digits.npz', async (route) => {
    requested();
    await held;
    // The app cancels the demo's fetch once the user picked a file: then there is nobody to answer.
    await route.fulfill({ status: 200, contentType: 'application/octet-stream', body: demo.buffer }).catch(() => {});
    served();
  });
  return result;
}

test('a file picked while the demo downloads wins: the demo never takes over', async ({ page }) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const demo = await serveDemo(page, held);
  await page.goto('/');
  await demo.requested;
  await pick(page, [npzBundle('mine.npz', { steps: [0, 5, 10] })]);
  release();
  await demo.served;

  await finished(dynamicsView(page));
  await expect(page.getByRole('region', { name: 'mine.npz' })).toBeVisible();
  await expect(page.getByTestId('preview-summary')).toContainText('1 run × 3 checkpoints × 5 layers');
  await expect(dynamicsView(page).locator('.sub')).toHaveText(/^mine\.npz · .* · reference step 10$/);
  // The demo is gone for good: no caption, no second bundle to pick, nothing loading.
  await expect(page.getByTestId('demo-caption')).toHaveCount(0);
  await expect(bundlePicker(page)).toHaveCount(0);
  await expect(page.locator('.loading')).toHaveCount(0);
  // Settings recompute the user's bundle, not the demo.
  await page.getByRole('combobox', { name: 'Metric' }).selectOption('cca');
  await finished(dynamicsView(page));
  await expect(dynamicsView(page).locator('.sub')).toHaveText(/^mine\.npz · CCA · reference step 10$/);
});

test('after an upload no view shows the previous bundle: a guessed layout waits, naming the layer', async ({ page }) => {
  const demo = await serveDemo(page);
  await page.goto('/');
  await demo.served;
  await finished(dynamicsView(page));
  await expect(dynamicsHeatmap(page)).toBeVisible();
  await page.getByRole('tab', { name: 'Across runs' }).click();
  await finished(crossView(page));

  // 16 datapoints and a layer of 16 neurons: which axis is which cannot be read from the shape.
  await pick(page, [npzBundle('square.npz', { datapoints: 16, neurons: [16, 4], layers: ['sq', 'fc'], steps: [0, 1], labels: false })]);
  await expect(page.getByRole('region', { name: 'square.npz' })).toBeVisible();
  await expect(crossView(page).getByRole('img')).toHaveCount(0);
  await expect(crossView(page).getByTestId('not-computed')).toContainText(
    'Not computed yet: square.npz waits: the layout of a layer is a guess (layer sq: (16, 16)',
  );
  await page.getByRole('tab', { name: 'Learning dynamics' }).click();
  await expect(dynamicsHeatmap(page)).toHaveCount(0);
  const waiting = page.getByRole('region', { name: 'Learning dynamics' });
  await expect(waiting.getByTestId('not-computed')).toContainText('Not computed yet: square.npz waits: the layout of a layer is a guess (layer sq: (16, 16)');
  await expect(page.getByRole('tabpanel').getByRole('button', { name: /Export|PNG|SVG|CSV|JSON/ })).toHaveCount(0);

  await page.getByRole('button', { name: 'Compute', exact: true }).click();
  await finished(dynamicsView(page));
  await expect(dynamicsView(page).locator('.sub')).toHaveText(/^square\.npz · /);
  await expect(dynamicsHeatmap(page).locator('g.cells rect')).toHaveCount(4);
});

test('two picks of "a bundle + labels.npy" are two bundles, each named after its file', async ({ page }) => {
  await page.goto('/');
  await pick(page, [seedFile('runA.npz', 11), labelsNpy()]);
  await expect(page.getByRole('region', { name: 'runA.npz' })).toBeVisible();
  await expect(page.getByTestId('preview-summary')).toContainText('labels: 6 classes');
  await finished(dynamicsView(page));
  // The second one dropped on the window: the same naming.
  await dropFiles(page, [seedFile('runB.npz', 12), labelsNpy()]);
  await expect(page.getByRole('region', { name: 'runB.npz' })).toBeVisible();
  await finished(dynamicsView(page));
  await expect(dynamicsView(page).locator('.sub')).toHaveText(/^runB\.npz · /);
  await expect(bundlePicker(page).locator('option')).toHaveText(['runA.npz', 'runB.npz']);
  // The same file picked again is a third bundle, not a silent replacement.
  await pick(page, [seedFile('runA.npz', 11), labelsNpy()]);
  await expect(bundlePicker(page).locator('option')).toHaveText(['runA.npz', 'runB.npz', 'runA.npz (2)']);
  await expect(errors(page)).toHaveCount(0);
});

test('a pick with an unreadable file is named after the files that were read', async ({ page }) => {
  await page.goto('/');
  await pick(page, [{ name: 'bad.npy', mimeType: 'text/plain', buffer: Buffer.from('not an array\n') }, seedFile('seed0.npz', 11), seedFile('seed1.npz', 12)]);
  await expect(page.getByRole('region', { name: 'seed0.npz + seed1.npz' })).toBeVisible();
  await expect(errors(page)).toContainText('bad.npy: ');
  // A file could not be read: the bundle waits for Compute (and says so under its own name).
  await expect(page.getByTestId('not-computed')).toContainText('seed0.npz + seed1.npz waits');
  await page.getByRole('button', { name: 'Compute', exact: true }).click();
  await finished(dynamicsView(page));
  await expect(dynamicsView(page).locator('.sub')).toHaveText(/^seed0\.npz \+ seed1\.npz · run seed0 · /);
});

test('one .npz per seed picked together is one study with a run per file; across runs defaults to them', async ({ page }) => {
  const demo = await serveDemo(page);
  await page.goto('/');
  await demo.served;
  await finished(dynamicsView(page));

  await pick(page, [seedFile('runA.npz', 11), seedFile('runB_final.npz', 12), labelsNpy()]);
  const preview = page.getByRole('region', { name: 'runA.npz + runB_final.npz' });
  await expect(preview).toBeVisible();
  await expect(page.getByTestId('preview-summary')).toContainText('2 runs × 3 checkpoints × 3 layers');
  await expect(preview).toContainText('Runs: runA (3 checkpoints), runB_final (3 checkpoints).');
  await expect(errors(page)).toHaveCount(0);
  // Learning dynamics: the first run.
  await finished(dynamicsView(page));
  await expect(dynamicsView(page).locator('.sub')).toHaveText(/^runA\.npz \+ runB_final\.npz · run runA · /);
  // Across runs: run A × run B of this study, not the demo's runs.
  await page.getByRole('tab', { name: 'Across runs' }).click();
  await finished(crossView(page));
  await expect(crossView(page).locator('.sub')).toHaveText(
    /^runA\.npz \+ runB_final\.npz · run runA × runA\.npz \+ runB_final\.npz · run runB_final · .* · step 1600$/,
  );
});

test('a lone .npy is an array to compare; bad .npy files get the reader’s reason', async ({ page }) => {
  await page.goto('/');
  const x = bundleArrays({ layers: ['x'], steps: [0], labels: false })[0];
  await pick(page, [npyFile('acts.npy', x)]);
  await expect(page.getByRole('tab', { name: 'Compare two arrays' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('tr[data-array="acts.npy"]')).toContainText('(240, 16)');
  await expect(errors(page)).toHaveCount(0);

  await pick(page, [{ name: 'notes.npy', mimeType: 'text/plain', buffer: Buffer.from('these are my notes, not an array\n') }]);
  await expect(errors(page)).toContainText('notes.npy: not a .npy file (it does not start with "\\x93NUMPY")');
  await pick(page, [{ name: 'empty.npy', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) }]);
  await expect(errors(page)).toContainText('empty.npy: file is empty');
  await pick(page, [
    { name: 'huge.npy', mimeType: 'application/octet-stream', buffer: npyHeaderOnly("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 4), }") },
  ]);
  await expect(errors(page).locator('li')).toHaveCount(3);
  await expect(errors(page).locator('li').nth(2)).toContainText('huge.npy: ');
  await expect(errors(page)).not.toContainText('no arrays named');
  // The good array stays.
  await expect(page.locator('tr[data-array="acts.npy"]')).toBeVisible();
});
