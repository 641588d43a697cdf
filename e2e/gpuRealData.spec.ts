// The precision contract through the app's worker in Chromium (WebGPU on SwiftShader): on the real
// digits CNN of the demo, with the GPU backend chosen, every value of the learning-dynamics grid is
// within 1e-4 of the CLI's float64 path, for CCA and SVCCA with conv layers flattened (where the f32
// path used to be off by up to 1e-1) and the export says how the numbers were computed. The full grid
// of metrics × reductions × job kinds runs on Dawn in Node (test/gpu/precisionParity.test.ts).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { dynamicsView } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);
const DEMO = 'test/fixtures/real/digits-cnn.npz';

async function downloaded(page: Page, click: () => Promise<void>): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return readFileSync(await download.path());
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

for (const metric of ['cca', 'svcca'] as const) {
  test(`real digits CNN, ${metric} with conv layers flattened: the GPU worker's grid equals float64 within 1e-4`, async ({ page }) => {
    test.setTimeout(420_000);
    const cli = run('node', ['bin/svcca-lens.mjs', 'dynamics', DEMO, '--metric', metric, '--conv', 'flatten', '--backend', 'cpu', '--json'], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    await page.goto('/');
    // The bundle's preview raises no question, so it computes at once with the defaults; each
    // setting below then recomputes, and the last job is the one with all three.
    await page.getByTestId('file-input').setInputFiles(DEMO);
    await page.getByLabel('Metric').selectOption(metric);
    await page.getByLabel('Conv layers').selectOption('flatten');
    await page.getByLabel('Backend').selectOption('webgpu');
    // Eight checkpoints of five layers on SwiftShader: minutes, not the default 20 s.
    await expect(dynamicsView(page).getByTestId('dynamics-backend')).toContainText('with WebGPU', { timeout: 360_000 });
    await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 360_000 });
    const app = JSON.parse((await downloaded(page, () => dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click())).toString('utf8'));
    expect(app.metric).toBe(metric);
    expect(app.conventions.backend).toBe('webgpu');
    expect(app.conventions.convReduction).toBe('flatten');
    expect(app.provenance).toMatchObject({ backend: 'webgpu', contract: 1e-4 });
    for (const sentence of app.provenance.float64 as string[]) expect(sentence).toMatch(/^(SVCCA|CCA) (on|between) .*: computed in float64, /);
    const expected = flat(JSON.parse((await cli).stdout).values);
    const got = flat(app.values);
    expect(got.length).toBe(expected.length);
    const worst = got.reduce((w, v, k) => Math.max(w, Math.abs(v - expected[k])), 0);
    expect(worst, `worst |Δ| over ${got.length} values`).toBeLessThanOrEqual(1e-4);
  });
}
