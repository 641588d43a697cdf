// One bad array in a learning-dynamics study (a NaN in step_200/fc2 of the toy bundle): the job
// runs to the end; only fc2's row at step 200 is missing (drawn as missing, its tooltip naming the
// file, the array and what is wrong); fc2's convergence curve has a gap there, not a flat line; the
// freeze list says what the missing value leaves undecidable; the CSV has an empty cell; and the
// rest of the app stays usable.

import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { encodeNpy } from '../src/io/npy';
import { bundleArrays } from './bundles';
import { cellValue, computeBundle, crossView, dynamicsHeatmap, dynamicsView, figureOf, finished } from './explorer';
import { expect, test, type FilePayload } from './fixtures';

const LAYERS = 5; // conv1, conv2, fc1, fc2, logits
const FC2 = 3;

function badBundle(): FilePayload {
  const members: Record<string, Uint8Array> = {};
  for (const a of bundleArrays()) {
    const data = a.name === 'step_200/fc2' ? Float32Array.from(a.data, (v, k) => (k === 17 ? Number.NaN : v)) : a.data;
    members[`${a.name}.npy`] = encodeNpy(a.shape, data);
  }
  return { name: 'study.npz', mimeType: 'application/octet-stream', buffer: Buffer.from(zipSync(members, { level: 0 })) };
}

test('a NaN in one middle checkpoint leaves only its cells missing; the curve has a gap and the freeze list says what is undecidable', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [badBundle()]);
  const view = dynamicsView(page);
  // Reported once, naming the file, the array and what is wrong.
  await expect(
    view.getByRole('list', { name: 'Warnings' }).getByText(/study\.npz:step_200\/fc2: value at index \[\d+, \d+\] is NaN.*fc2 at step 200 is left out/),
  ).toHaveCount(1);

  // Step 200: fc2's row is missing, the other rows computed; its cells say why.
  await page.getByRole('slider', { name: 'Checkpoint' }).fill('2');
  for (let j = 0; j < LAYERS; j++) {
    expect(await cellValue(page, FC2, j, LAYERS)).toBeNull();
    expect(await cellValue(page, FC2 - 1, j, LAYERS)).not.toBeNull();
  }
  await dynamicsHeatmap(page)
    .locator('g.cells rect')
    .nth(FC2 * LAYERS + 1)
    .hover({ force: true });
  await expect(view.locator('.tooltip')).toContainText(/missing: study\.npz:step_200\/fc2: value at index .* is NaN/);
  await page.mouse.move(0, 0);
  // Later checkpoints are all computed.
  await page.getByRole('slider', { name: 'Checkpoint' }).fill('3');
  for (let j = 0; j < LAYERS; j++) expect(await cellValue(page, FC2, j, LAYERS)).not.toBeNull();

  // The convergence curve of fc2: two pieces (a gap at step 200), a missing mark, no leader across the plot.
  const chart = view.locator('svg.convergence');
  const fc2Path = await chart.locator('g.layer-line path').nth(FC2).getAttribute('d');
  expect(fc2Path!.match(/M/g)).toHaveLength(2);
  await expect(chart.getByTestId('missing-marks').locator('title')).toHaveText([/fc2 at step 200: missing: study\.npz:step_200\/fc2/]);
  for (let l = 0; l < LAYERS; l++) expect((await chart.locator('g.layer-line path').nth(l).getAttribute('d'))!.length).toBeGreaterThan(10);

  // The freeze list: fc2's step is undecidable between step 200 and step 400; the others decided.
  const freeze = view.getByRole('list', { name: 'Freeze steps' });
  await expect(freeze.locator('li').nth(FC2)).toContainText(
    'undecidable (step 200 missing): from step 200 if it was at or above the threshold, else from step 400',
  );
  await expect(freeze.locator('li').nth(0)).toContainText(/from step \d+|not before/);

  // The curves' CSV: fc2 at step 200 is empty, never 0 or NaN.
  const [download] = await Promise.all([page.waitForEvent('download'), view.getByRole('button', { name: 'Export CSV of the convergence curves' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  expect(csv).toMatch(/^fc2,200,,/m);
  expect(csv).not.toMatch(/NaN/);

  // The rest of the app stays usable: the small multiples and another metric recompute.
  await page.getByLabel('All checkpoints').check();
  await expect(page.getByRole('img', { name: /all 6 checkpoints, side by side/ }).locator('g.panel')).toHaveCount(6);
});

/** A seed file of the toy bundle (3 checkpoints, 160 datapoints); `nanIn`: that member gets a NaN. */
function seedFile(name: string, seed: number, nanIn?: string): FilePayload {
  const members: Record<string, Uint8Array> = {};
  for (const a of bundleArrays({ steps: [0, 100, 200], datapoints: 160, manifest: false, seed })) {
    const data = a.name === nanIn ? Float32Array.from(a.data, (v, k) => (k === 5 ? Number.NaN : v)) : a.data;
    members[`${a.name}.npy`] = encodeNpy(a.shape, data);
  }
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(zipSync(members, { level: 0 })) };
}

test("across runs: a NaN in run B's array leaves only its column missing, hatched with a tooltip naming the array; the exports agree", async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [seedFile('seedA.npz', 11), seedFile('seedB.npz', 21, 'step_200/fc2')]);
  await page.getByRole('tab', { name: 'Across runs' }).click();
  const cross = crossView(page);
  await finished(cross);
  await expect(
    cross
      .getByRole('list', { name: 'Warnings' })
      .getByText(/seedB\.npz:step_200\/fc2: value at index \[\d+, \d+\] is NaN.*B's layer fc2 \(run seedB\) at step 200 is left out: its column is missing/),
  ).toHaveCount(1);
  const heatmap = page.getByRole('img', { name: /^Across-runs heatmap/ });
  // fc2's column (B's layer 3) is drawn hatched in every row; no other cell is.
  const cells = heatmap.locator('g.cells > *');
  await expect(cells).toHaveCount(LAYERS * LAYERS);
  await expect(heatmap.locator('g.cells g.blank-cell')).toHaveCount(LAYERS);
  for (let i = 0; i < LAYERS; i++) await expect(cells.nth(i * LAYERS + FC2)).toHaveAttribute('data-blank', '');
  await cells.nth(1 * LAYERS + FC2).hover({ force: true });
  await expect(cross.locator('.tooltip')).toContainText(/missing: seedB\.npz:step_200\/fc2: value at index .* is NaN/);
  await page.mouse.move(0, 0);
  // JSON: null in the column and the bad array named; CSV: empty cells there, never NaN.
  const [json] = await Promise.all([page.waitForEvent('download'), cross.getByRole('button', { name: 'Export JSON' }).click()]);
  const result = JSON.parse(readFileSync(await json.path(), 'utf8')) as { values: (number | null)[][]; badArrays: { source: string; side: string }[] };
  expect(result.values.map((row) => row[FC2])).toEqual(Array(LAYERS).fill(null));
  expect(result.values[0].filter((v) => v !== null)).toHaveLength(LAYERS - 1);
  expect(result.badArrays).toEqual([expect.objectContaining({ source: 'seedB.npz:step_200/fc2', side: 'B', run: 'seedB' })]);
  const [csvFile] = await Promise.all([
    page.waitForEvent('download'),
    figureOf(heatmap).getByRole('button', { name: 'Export CSV of the current matrix' }).click(),
  ]);
  const csv = readFileSync(await csvFile.path(), 'utf8');
  // The matrix CSV: a header row "A \\ B at step 200,conv1,…" then one row per A layer; fc2's column empty in each.
  const rows = csv.split('\n').filter((l) => /^(conv1|conv2|fc1|fc2|logits),/.test(l));
  expect(rows).toHaveLength(LAYERS);
  for (const row of rows) {
    const cells = row.split(',');
    expect(cells[1 + FC2]).toBe('');
    expect(cells.filter((c, k) => k > 0 && c !== '')).toHaveLength(LAYERS - 1);
  }
  expect(csv).not.toMatch(/NaN/);

  // All pairs of runs (one pair here): the cells no pair has are hatched too, saying why.
  await cross.getByRole('checkbox', { name: 'All pairs of runs (mean)' }).check();
  await expect(page.getByTestId('seeds-cross')).toHaveAttribute('data-status', 'done');
  const mean = page.getByRole('img', { name: /^Across-runs heatmap, mean over/ });
  await expect(mean.locator('g.cells g.blank-cell')).toHaveCount(LAYERS);
  await mean.locator('g.cells > *').nth(FC2).hover({ force: true });
  await expect(page.getByTestId('seeds-cross').locator('.tooltip')).toContainText(/missing: seedB\.npz:step_200\/fc2: value at index .* is NaN/);
  await page.mouse.move(0, 0);

  // Learning dynamics over all runs: step 200 is seedB's reference, so fc2's whole convergence curve
  // is missing in seedB: its freeze step there is undecidable (never "not yet"); seedA's stands.
  await page.getByRole('tab', { name: 'Learning dynamics' }).click();
  await dynamicsView(page).getByLabel('Run').selectOption({ label: 'all runs (mean ± spread)' });
  const seeds = page.getByTestId('seeds-dynamics');
  await expect(seeds).toHaveAttribute('data-status', 'done');
  const fc2 = seeds.getByRole('table', { name: 'Freeze steps per run' }).getByRole('row', { name: /^fc2/ });
  await expect(fc2.getByTestId('freeze-undecidable')).toHaveCount(1);
  await expect(fc2.getByTestId('freeze-undecidable')).toHaveAttribute('title', /^undecidable \(steps 0, 100, 200 missing\)/);
  // The view says which array is missing, as the run's own view and the export's header do.
  await expect(seeds).toContainText(/seedB\.npz:step_200\/fc2: value at index .* is NaN/);
});
