// A bundle of a few hundred MB dropped on the real app (built, in Chromium): it is listed at once
// and computes, and the renderer process that runs the page and its analysis worker stays far
// below the file's size, because the worker reads each member with File.slice (never the whole
// file) and the engine drops each array once factored. Memory is the renderer's peak resident set
// (VmHWM from /proc, Linux), which counts the typed arrays that the JS heap measures leave out.
//
// The file: 3 checkpoints × 4 conv layers of (512, 16, 16, 64) float32 (32 MiB each, 403 MB;
// LARGE_STEPS=6 doubles it), written chunk by chunk into the test's output folder
// (scripts/large-bundle.ts) and deleted after. Measured on the shared 2-core machine (2026-12-04):
// 403 MB → renderer peak 439 MB, 805 MB → 455 MB: the peak does not follow the file. It takes
// 1.5–3 minutes there, too long for every run of the suite, so it runs when E2E_LARGE_FILE=1:
//   npm run build && E2E_LARGE_FILE=1 npx playwright test e2e/largeFile.spec.ts

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeLargeNpz } from '../scripts/large-bundle';
import { dynamicsView } from './explorer';
import { expect, test } from './fixtures';

/** The parent of a process (field 4 of /proc/PID/stat, after the parenthesised name). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Whether `pid` descends from this test process (other checkouts' browsers are not ours). */
function isOurs(pid: number): boolean {
  for (let p = pid; p > 1; p = parentOf(p)) if (p === process.pid) return true;
  return false;
}

/** Peak resident bytes of the Chromium renderer processes this test process started. */
function rendererPeaks(): number[] {
  const peaks: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('--type=renderer') || !isOurs(Number(pid))) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) peaks.push(Number(hwm[1]) * 1024);
    } catch {
      // the process ended while we looked
    }
  }
  return peaks;
}

test('a 400 MB bundle is listed from its headers, computes, and the page stays far below its size', async ({ page }, testInfo) => {
  test.skip(process.env.E2E_LARGE_FILE !== '1', 'opt-in: E2E_LARGE_FILE=1 (minutes on 2 cores)');
  test.skip(process.platform !== 'linux', 'reads /proc');
  test.setTimeout(300_000);
  const file = testInfo.outputPath('large.npz');
  const bytes = writeLargeNpz(file, { steps: Number(process.env.LARGE_STEPS ?? 3), layers: 4, datapoints: 512, height: 16, width: 16, channels: 64 });
  try {
    await page.goto('/#conv=meanpool&backend=cpu');
    await page.getByTestId('file-input').setInputFiles(file);
    await expect(page.locator('tr[data-layer="layer0"] .reading')).toHaveText('stored (512, 16, 16, 64), read as NHWC: C=64, H=W=16');
    await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 270_000 });
    await expect(dynamicsView(page).locator('g.cells rect[data-value]')).toHaveCount(16);
    const peaks = rendererPeaks();
    const peak = Math.max(...peaks);
    console.log(`large file in the app: ${(bytes / 1e6).toFixed(0)} MB file, renderer peak RSS ${(peak / 1e6).toFixed(0)} MB`);
    // The page itself (~300 MB with Chromium's heaps) plus one 32 MiB member in flight (raw bytes,
    // float32 and float64 copies, ~130 MB) and garbage not yet collected; a whole-file read would
    // add the file's 403 MB on top.
    expect(peak).toBeLessThan(600e6);
  } finally {
    rmSync(file, { force: true });
  }
});
