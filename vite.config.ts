import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { existsSync } from 'node:fs';

/**
 * WebGPU in the Node tests (test/gpu on Dawn, the CLI spawned by test/cli): on Linux without a GPU,
 * Dawn finds an adapter only through a Vulkan driver named explicitly, and Debian's chromium ships
 * SwiftShader's. Set in the main process, while vitest loads this file, so every test worker
 * inherits it; a machine with a GPU (/dev/dri, /dev/nvidia0) or its own VK_ICD_FILENAMES keeps it.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (
  process.env.VITEST &&
  process.platform === 'linux' &&
  !process.env.VK_ICD_FILENAMES &&
  !existsSync('/dev/dri') &&
  !existsSync('/dev/nvidia0') &&
  existsSync(SWIFTSHADER_ICD)
) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
if (process.env.VITEST) process.env.XDG_RUNTIME_DIR ??= '/tmp'; // silences the Vulkan loader's warning

/**
 * The Content-Security-Policy of the static build (a <meta> tag, so any static host serves it):
 * scripts, workers, styles and fonts only from the page's own origin, no inline script, images from
 * the origin or data:/blob: URLs (chart export), and network reads from the origin plus any https:
 * URL — the only way a request leaves the origin is a bundle the user names with ?data=URL.
 * 'wasm-unsafe-eval' lets the page and its workers compile WebAssembly (the HDF5 reader, h5wasm,
 * loaded only when an HDF5 file is opened); it allows no JavaScript eval. (A <meta> policy does not
 * bind a worker, but a host that sends this policy as a header would otherwise stop HDF5.)
 * The dev server is left without it: Vite injects an inline script there (React refresh).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'svcca-lens:content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

/**
 * Cross-origin isolation (COOP + COEP): the page may use SharedArrayBuffer, so the CPU pool's workers
 * read factors from shared memory instead of copies (docs/deploying.md has the same two headers for a
 * host). The app loads nothing from other origins but a ?data=URL bundle, fetched with CORS, which
 * require-corp allows.
 */
const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

// base './' makes every asset URL relative, so dist/ works from any sub-path of any static host.
export default defineConfig({
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // Two pages: the app, and the GPU self-check (WebGPU vs the float64 oracle on your own GPU).
    rollupOptions: { input: { main: 'index.html', 'gpu-check': 'gpu-check.html' } },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // Two files at a time: many tests wait on child processes, pipes or file I/O, so the default (one worker
    // on a 2-core machine) leaves a core idle; CPU-bound tests only share the cores.
    maxWorkers: 2,
  },
});
