import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// base './' makes every asset URL relative, so dist/ works from any sub-path of any static host.
export default defineConfig({
  base: './',
  plugins: [react()],
  worker: { format: 'es' },
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
  },
});
