// A researcher's own bundle with conv layers (the shipped CNN run, opened as a file of one's own):
// the preview says how each conv layer is stored and read and what each reduction feeds the metric;
// CKA switches the conv layers off the DFT and computes; the export says what it is and equals the
// CLI's numbers for the same settings, with the same content hash.

import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { dynamicsView } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);
const DEMO = 'test/fixtures/real/digits-cnn.npz';

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

test('own CNN bundle: preview wording, CKA fixed for conv layers, an export that says what it is and equals the CLI', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const file = testInfo.outputPath('my-cnn.npz');
  copyFileSync(DEMO, file);
  const cli = run('node', ['bin/svcca-lens.mjs', 'dynamics', file, '--metric', 'cka', '--run', 'cnn-seed0', '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });

  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(file);

  // Item 7: the stored shape and how it is read; the features each reduction feeds.
  const conv1 = page.locator('tr[data-layer="conv1"]');
  await expect(conv1.locator('.reading')).toHaveText('stored (400, 8, 4, 4), read as NCHW: C=8, H=W=4');
  await expect(conv1.locator('td.features li')).toHaveText([
    'flatten 128',
    'mean-pool 8',
    'positions 8 (over 6400 datapoints)',
    'DFT 8 channels × 16 frequencies (chosen)',
  ]);
  await expect(conv1.locator('td.features li.current')).toHaveText(/^DFT/);
  await expect(page.locator('tr[data-layer="fc1"] td.features')).toHaveText('64');
  // Its preview raises no question, so it computes at once (no Compute to press).
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });

  // Item 5: CKA with conv layers under the DFT: switched, said in one line, computed.
  await page.getByLabel('Metric').selectOption('cka');
  const notice = page.getByTestId('settings-notice');
  await expect(notice).toContainText('CKA does not run through the DFT (SVCCA and CCA only), so conv layers now use flatten.');
  await expect(notice.getByRole('button', { name: 'Undo' })).toBeVisible();
  await expect(page.getByLabel('Conv layers')).toHaveValue('flatten');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(dynamicsView(page).getByRole('alert')).toHaveCount(0);
  await expect(dynamicsView(page).locator('g.cells rect[data-value]')).toHaveCount(25);
  // The warnings say how conv layers were read; the backend line is plain.
  await expect(dynamicsView(page)).toContainText(
    'layers conv1, conv2: conv layer stored (400, 8, 4, 4), read as NCHW: C=8, H=W=4; reduced with flatten: 128 features',
  );
  await expect(dynamicsView(page).getByTestId('dynamics-backend')).toHaveText(/^Computed on the CPU in float64: /);
  await expect(dynamicsView(page).getByTestId('dynamics-backend')).not.toContainText('fallback');

  // Item 3: the export's name and fields; its numbers and hash equal the CLI's.
  const json = await downloaded(page, () => dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click());
  expect(json.name).toBe('my-cnn_cnn-seed0-dynamics-cka-flatten-cpu-f64.json');
  const app = JSON.parse(json.bytes.toString('utf8'));
  const reference = JSON.parse((await cli).stdout);
  expect(app).toMatchObject({
    bundle: 'my-cnn.npz',
    run: 'cnn-seed0',
    metric: 'cka',
    steps: [0, 5, 14, 37, 100, 270, 740, 2000],
    reference: 2000,
    inputArrays: 40,
    app: { name: 'svcca-lens', version: '0.1.0' },
  });
  expect(app.options).toEqual(reference.options);
  expect(app.options.convReduction).toBe('flatten');
  expect(app.inputHash).toMatch(/^[0-9a-f]{12}$/);
  expect(app.inputHash).toBe(reference.inputHash);
  expect(app.computed).toMatchObject({ backend: 'cpu', precision: 'float64' });
  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
  const a = flat(app.values);
  const b = flat(reference.values);
  expect(a.length).toBe(8 * 25);
  a.forEach((v, k) => expect(Math.abs(v - b[k]), `value ${k}`).toBeLessThanOrEqual(1e-6));

  // The CSV of the checkpoint shown says the same, and so does the PNG.
  const figure = dynamicsView(page).locator('figure').first();
  const csv = await downloaded(page, () => figure.getByRole('button', { name: 'Export CSV of the current matrix' }).click());
  expect(csv.name).toBe('my-cnn_cnn-seed0-dynamics-cka-flatten-cpu-f64-step-100.csv');
  const text = csv.bytes.toString('utf8');
  for (const line of [
    '# bundle: my-cnn.npz',
    '# run: cnn-seed0',
    '# metric: cka',
    '# conv reduction: flatten',
    '# step shown: 100',
    `# input hash: ${app.inputHash} `,
  ])
    expect(text).toContain(line);
  const png = await downloaded(page, () => figure.getByRole('button', { name: 'Export heatmap as PNG' }).click());
  expect(png.name).toBe('my-cnn_cnn-seed0-dynamics-cka-flatten-cpu-f64-step-100.png');
  expect(png.bytes.toString('latin1')).toContain(`tEXtinput hash\0${app.inputHash}`);

  // Undo goes back to SVCCA through the DFT.
  await notice.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByLabel('Metric')).toHaveValue('svcca');
  await expect(page.getByLabel('Conv layers')).toHaveValue('dft');
  await expect(notice).toHaveCount(0);
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
});
