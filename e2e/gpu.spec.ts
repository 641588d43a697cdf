// WebGPU engine in a real browser: parity with the float64 oracle (gpu-check.html drives
// src/analysis/selfCheck.ts) and device loss in the middle of a job. See no-webgpu.spec.ts for the fallback.
// SwiftShader runs ~0.2 GFLOP/s: shapes are small and timeouts generous.
import { expect, test } from '@playwright/test';

test.describe('WebGPU parity with the float64 CPU path', () => {
  test.setTimeout(240_000);

  test('every seeded case and metric agrees within the f32 tolerances', async ({ page }) => {
    await page.goto('/gpu-check.html');
    const result = await page.evaluate(() => window.svccaGpuCheck.all());
    expect(result.reason).toMatch(/^WebGPU \(float32\) on .*as chosen/);
    expect(result.rows.length).toBeGreaterThanOrEqual(17);
    for (const row of result.rows) {
      const label = `${row.metric} on ${row.name}: cpu ${row.cpu.similarity} gpu ${row.gpu.similarity}`;
      expect(row.deltaSimilarity, label).toBeLessThanOrEqual(1e-4);
      expect(row.maxDeltaRho, label).toBeLessThanOrEqual(1e-3);
      expect(row.keptEqual, `${label}: kept ${row.cpu.kept} vs ${row.gpu.kept}`).toBe(true);
    }
    // The reference values of the semantics doc, through the GPU (cca, epsilon default 1e-10).
    const reference = result.rows.find((r) => r.metric === 'cca' && r.name.startsWith('semantics-doc'))!;
    expect(Math.abs(reference.gpu.similarity - 0.658407)).toBeLessThanOrEqual(1e-4);
    // PWCCA on the GPU (both variants), and the reference case's value (sign-free semantics: 0.661973).
    expect(result.rows.filter((r) => r.metric === 'pwcca').length).toBe(3);
    const pwcca = result.rows.find((r) => r.metric === 'pwcca' && r.name.startsWith('semantics-doc'))!;
    expect(Math.abs(pwcca.gpu.similarity - 0.661973)).toBeLessThanOrEqual(1e-4);
    // Batched learning-dynamics grids (all pairs of a checkpoint from one product).
    expect(result.gridMaxDelta).toBeLessThanOrEqual(1e-4);
    expect(result.gridCkaMaxDelta).toBeLessThanOrEqual(1e-4);
    // Datapoints streamed in column chunks give the same numbers.
    expect(result.chunkedRows.length).toBeGreaterThanOrEqual(8);
    for (const row of result.chunkedRows) expect(row.ok, `chunked ${row.metric} on ${row.name}: Δ ${row.deltaSimilarity}`).toBe(true);
    expect(result.chunkedGridMaxDelta).toBeLessThanOrEqual(1e-4);
    // Beyond the device's limits: the float64 path, the same numbers, and a warning that says so.
    expect(result.limitedRows.length).toBeGreaterThanOrEqual(4);
    for (const row of result.limitedRows) expect(row.ok, `limited ${row.metric}: Δ ${row.deltaSimilarity}`).toBe(true);
    expect(result.limitedWarnings.some((w) => /^computed in float64 on the CPU instead of WebGPU: .*beyond this GPU's 64 KiB/.test(w))).toBe(true);
  });

  test('a device lost mid-job keeps the finished checkpoints and a fresh adapter recomputes', async ({ page }) => {
    await page.goto('/gpu-check.html');
    const r = await page.evaluate(() => window.svccaGpuCheck.deviceLossCheck());
    expect(r.error).toMatch(/DeviceLostError: the GPU device was lost/);
    expect(r.lost.length).toBe(1);
    expect(r.keptCheckpoints).toBeGreaterThanOrEqual(1);
    expect(r.freshBackend).toBe(true);
    expect(r.recomputedMaxDelta).toBeLessThanOrEqual(1e-4);
  });
});
