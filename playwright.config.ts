// End-to-end tests: the real build (vite preview of dist/) in Debian's Chromium.
// `npm run test:e2e` builds first; a bare `npx playwright test` expects dist/ to be current.
// Never `npx playwright install`: nothing is downloaded, the system browser is used.

import { defineConfig } from '@playwright/test';

process.env.XDG_RUNTIME_DIR ??= '/tmp'; // silences the Vulkan loader's warning in Chromium

// E2E_PORT lets two checkouts run their suites side by side without reusing each other's server.
const PORT = Number(process.env.E2E_PORT ?? 4173);
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: 'e2e',
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: 'list',
  timeout: 60_000,
  expect: {
    timeout: 20_000,
    // Baselines under e2e/__screenshots__ (same Debian image, SwiftShader and fonts as CI).
    toHaveScreenshot: { maxDiffPixelRatio: 0.02, animations: 'disabled', caret: 'hide', scale: 'css' },
  },
  snapshotPathTemplate: '{testDir}/__screenshots__/{testFileName}/{arg}{ext}',
  forbidOnly: !!process.env.CI,
  outputDir: 'test-results',
  use: {
    baseURL: BASE_URL,
    headless: true,
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    acceptDownloads: true,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--enable-unsafe-webgpu',
            '--no-sandbox',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-quic',
          ],
        },
      },
    },
  ],
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: BASE_URL,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
