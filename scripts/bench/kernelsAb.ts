// `node bin/run-ts.mjs scripts/bench/kernelsAb.ts [--rounds N]`: learning-dynamics jobs of the CPU
// benchmark with the WebAssembly SIMD product kernels and with the plain-JS ones, alternated in ONE
// process (best of N rounds each), so that on a shared, noisy machine the ratio compares like with
// like. The activations are generated once before timing (the same synthetic data as `npm run
// bench`), so the times are the engine's alone.

import { computeDynamics } from '../../src/analysis/engine';
import type { Bundle, BundleEntry } from '../../src/io/types';
import { productKernel, setWasmProductsEnabled } from '../../src/math/wasmProducts';
import { ActivationGenerator, DEFAULT_GENERATOR, formatSeconds } from '../bench-data';
import { FULL, now, OPTIONS, QUICK, type DynamicsConfig } from './args';
import { layerName } from './synthetic';

function pregenerated(config: DynamicsConfig): Bundle {
  const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: config.widths, steps: config.steps, datapoints: config.datapoints });
  const layers = config.widths.map((_, l) => layerName(l));
  const entries: BundleEntry[] = [];
  for (let t = 0; t < config.steps; t++) {
    config.widths.forEach((n, l) => {
      const shape = [config.datapoints, n];
      const data = gen.generate(l, t);
      entries.push({
        run: null,
        step: t,
        layer: layers[l],
        source: `synthetic:step_${t}/${layers[l]}`,
        shape,
        dtype: '<f4',
        load: async () => ({ shape, dtype: '<f4', data }),
      });
    });
  }
  return {
    name: 'synthetic',
    runs: [null],
    steps: Array.from({ length: config.steps }, (_, t) => t),
    layers,
    entries,
    unmatched: [],
    labels: null,
    manifest: null,
  };
}

const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 3;
const jobs = [QUICK.small, QUICK.large, FULL.small];
console.log(`dynamics jobs, WebAssembly (${productKernel()}) vs plain-JS products, alternated, best of ${rounds}`);
for (const config of jobs) {
  const bundle = pregenerated(config);
  const best = { wasm: Infinity, js: Infinity };
  let values: { wasm: number[]; js: number[] } = { wasm: [], js: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kernel of ['wasm', 'js'] as const) {
      setWasmProductsEnabled(kernel === 'wasm');
      const start = now();
      const result = await computeDynamics({ bundle }, OPTIONS);
      best[kernel] = Math.min(best[kernel], now() - start);
      values = { ...values, [kernel]: result.values.flat(2) as number[] };
    }
  }
  setWasmProductsEnabled(true);
  let worst = 0;
  values.wasm.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - values.js[i]))));
  const n = config.widths.length;
  console.log(
    `  ${config.label} (n ≤ ${Math.max(...config.widths)}, m = ${config.datapoints}, ${n} layers × ${config.steps}): ` +
      `WebAssembly ${formatSeconds(best.wasm)}, JS ${formatSeconds(best.js)}: ${(best.js / best.wasm).toFixed(2)}× faster; values agree to ${worst.toExponential(1)}`,
  );
}
