// WebGPU engine in a real browser: parity with the float64 oracle (gpu-check.html drives
// src/analysis/selfCheck.ts) and device loss in the middle of a job. See no-webgpu.spec.ts for the fallback.
// SwiftShader runs ~0.2 GFLOP/s: shapes are small and timeouts generous.
import { expect, test } from '@playwright/test';
import { deviceLossFailures, selfCheckFailures } from '../src/analysis/selfCheckVerdict';

test.describe('WebGPU parity with the float64 CPU path', () => {
  test.setTimeout(240_000);

  test('every seeded case and metric agrees within the f32 tolerances', async ({ page }) => {
    await page.goto('/gpu-check.html');
    const result = await page.evaluate(() => window.svccaGpuCheck.all());
    expect(result.reason).toMatch(/^WebGPU \(float32\) on .*as chosen/);
    // One verdict for the Dawn and Chromium suites: the tolerances and reference values live in selfCheckVerdict.ts.
    expect(selfCheckFailures(result)).toEqual({ rows: [], reference: [], grids: [], chunked: [], limited: [] });
  });

  test('a device lost mid-job keeps the finished checkpoints and a fresh adapter recomputes', async ({ page }) => {
    await page.goto('/gpu-check.html');
    const r = await page.evaluate(() => window.svccaGpuCheck.deviceLossCheck());
    expect(deviceLossFailures(r, r.lost.length)).toEqual([]);
  });
});
