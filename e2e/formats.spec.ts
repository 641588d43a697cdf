// torch.save and HDF5 files in the built app: a .pt checkpoint whose dict holds step_<N> dicts is
// a bundle and computes to the heatmap the CLI computes from the same file; an .h5 file's datasets
// are arrays to compare, with the CLI's number. The HDF5 reader (h5wasm) is fetched from the
// page's own origin only when the .h5 file is opened. Fixtures: scripts/make_format_fixtures.py.
//
// Shape convention: the fixtures are datapoints first (48 × …, 120 × …), as the app detects.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { cellValue, computeBundle, dynamicsView } from './explorer';
import { expect, results, shownSimilarity, test } from './fixtures';

const run = promisify(execFile);
const FIXTURES = 'test/fixtures/formats';
const file = (rel: string, name = rel.split('/').pop()!) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(`${FIXTURES}/${rel}`) });
const cli = async (...args: string[]) =>
  JSON.parse((await run('node', ['bin/svcca-lens.mjs', ...args, '--backend', 'cpu', '--json'], { encoding: 'utf8' })).stdout);
/** The app may compute on the GPU (float32): within the precision contract of the float64 CLI. */
const GPU_CONTRACT = 1e-4;

test('a .pt bundle computes to the CLI’s heatmap; an .h5 file’s datasets compare to the CLI’s number', async ({ page }) => {
  test.setTimeout(180_000);
  const dynamics = cli('dynamics', `${FIXTURES}/bundles/steps.pt`);
  const compare = cli('compare', `${FIXTURES}/cross/acts.h5:model/conv1`, `${FIXTURES}/cross/acts.h5:model/fc`);
  const hdf5Requests: string[] = [];
  page.on('request', (r) => {
    if (/hdf5/.test(r.url())) hdf5Requests.push(r.url());
  });
  await page.goto('/');
  // The picker offers every format the readers take, derived from the registry.
  const accept = (await page.getByTestId('file-input').getAttribute('accept'))!.split(',');
  expect(accept).toEqual(expect.arrayContaining(['.npy', '.npz', '.safetensors', '.pt', '.pth', '.ckpt', '.pkl', '.h5', '.hdf5', '.json']));

  await computeBundle(page, [file('bundles/steps.pt', 'my-run.pt')]);
  await expect(page.getByText('my-run.pt').first()).toBeVisible();
  await expect(page.locator('tr[data-layer="layer1.0.fc"]')).toBeVisible();
  const reference = await dynamics;
  expect([reference.steps, reference.layers]).toEqual([
    [0, 10, 20],
    ['conv1', 'layer1.0.fc'],
  ]);
  await expect(dynamicsView(page).locator('g.cells rect[data-value]')).toHaveCount(4);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) expect(Math.abs((await cellValue(page, i, j, 2))! - reference.values[0][i][j])).toBeLessThanOrEqual(GPU_CONTRACT);
  }
  expect(hdf5Requests, 'the HDF5 reader is not fetched before an HDF5 file is opened').toEqual([]);

  await page.getByTestId('file-input').setInputFiles([file('cross/acts.h5')]);
  await page.getByRole('tab', { name: 'Compare two arrays' }).click();
  await expect(page.getByLabel('Representation A')).toHaveValue('acts.h5:model/conv1');
  await page.getByLabel('Representation B').selectOption('acts.h5:model/fc');
  await expect(results(page)).toContainText('SVCCA similarity');
  await expect(page.getByTestId('neurons')).toHaveText('12 · 5');
  expect(Math.abs((await shownSimilarity(page)) - (await compare).similarity)).toBeLessThanOrEqual(GPU_CONTRACT);
  expect(hdf5Requests.length, 'h5wasm came from the page’s origin, as its own chunk').toBeGreaterThan(0);
});

test('an .h5 bundle (groups /step_<N>/<layer>) computes in the worker, read in place, to the CLI’s heatmap', async ({ page }) => {
  test.setTimeout(180_000);
  const dynamics = cli('dynamics', `${FIXTURES}/bundles/steps.h5`);
  await page.goto('/');
  await computeBundle(page, [file('bundles/steps.h5')]);
  const reference = await dynamics;
  await expect(dynamicsView(page).locator('g.cells rect[data-value]')).toHaveCount(4);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) expect(Math.abs((await cellValue(page, i, j, 2))! - reference.values[0][i][j])).toBeLessThanOrEqual(GPU_CONTRACT);
  }
  // Another checkpoint reads other datasets from the open file.
  await page.getByRole('slider', { name: 'Checkpoint' }).fill('1');
  await expect(page.getByTestId('step-readout')).toHaveText(/^step 10\b/);
  for (let j = 0; j < 2; j++) expect(Math.abs((await cellValue(page, 1, j, 2))! - reference.values[1][1][j])).toBeLessThanOrEqual(GPU_CONTRACT);
});
