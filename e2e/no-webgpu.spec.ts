// A browser without WebGPU: the engine's automatic choice falls back to the float64 CPU path and says why.
import { expect, test } from '@playwright/test';

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    // No --enable-unsafe-webgpu: this Chromium then offers no adapter.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  },
});

test('auto falls back to the CPU path and says why', async ({ page }) => {
  await page.goto('/gpu-check.html');
  const reason = await page.evaluate(() => window.svccaGpuCheck.noGpu());
  expect(reason).toMatch(/^CPU \(float64\): (no WebGPU API here|no WebGPU adapter)/);
});
