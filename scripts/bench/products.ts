// The float64 product kernels side by side in one run: the Gram X·Xᵀ of a centred n × m layer (the
// symmetric half, n²m multiply-adds counted as n²m·2/2) and a general product X·Yᵀ (2·n·n·m), each
// with the WebAssembly SIMD kernel (src/math/wasmProducts.ts) and with the plain-JS kernel
// (multiplyABtJs), best of a few repeats, on the micro-kernel sizes; and the projection U_kᵀ·Xc
// (k = n/5 rows, 2·k·n·m) with the A·B kernel against what the JS path does (row dot products
// against a transposed copy of Xc, the transpose included).

import { centerRows, multiply, multiplyABt, multiplyABtJs, transpose, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { productKernel } from '../../src/math/wasmProducts';
import type { Config } from './args';
import { now } from './args';

export interface ProductRow {
  n: number;
  m: number;
  /** The kernel multiplyABt ran ('js' when WebAssembly SIMD is missing or turned off). */
  kernel: string;
  gramGflops: { wasm: number; js: number };
  generalGflops: { wasm: number; js: number };
  projectionGflops: { wasm: number; js: number };
  /** Largest |wasm − js| over the Gram, relative to its largest entry. */
  agreement: number;
}

function bestSeconds(repeats: number, run: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const s = now();
    run();
    best = Math.min(best, now() - s);
  }
  return best;
}

export function runProductKernels(config: Config, log: (s: string) => void): ProductRow[] {
  const rows: ProductRow[] = [];
  const kernel = productKernel();
  for (const [n, m] of config.micro.sizes) {
    const x: Matrix = centerRows(randn(n, n, m)).centered;
    const y: Matrix = centerRows(randn(n + 1, n, m)).centered;
    const repeats = n * n * m > 1e9 ? 2 : 3;
    const gramFlops = n * n * m;
    const generalFlops = 2 * n * n * m;
    const gramWasm = bestSeconds(repeats, () => multiplyABt(x, x));
    const gramJs = bestSeconds(repeats, () => multiplyABtJs(x, x));
    const generalWasm = bestSeconds(repeats, () => multiplyABt(x, y));
    const generalJs = bestSeconds(repeats, () => multiplyABtJs(x, y));
    const uk = randn(n + 2, Math.max(1, Math.round(n / 5)), n);
    const projectionFlops = 2 * uk.rows * n * m;
    const projectionWasm = bestSeconds(repeats, () => multiply(uk, x));
    const projectionJs = bestSeconds(repeats, () => multiplyABtJs(uk, transpose(x)));
    const a = multiplyABt(x, x).data;
    const b = multiplyABtJs(x, x).data;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    const row: ProductRow = {
      n,
      m,
      kernel,
      gramGflops: { wasm: gramFlops / gramWasm / 1e9, js: gramFlops / gramJs / 1e9 },
      generalGflops: { wasm: generalFlops / generalWasm / 1e9, js: generalFlops / generalJs / 1e9 },
      projectionGflops: { wasm: projectionFlops / projectionWasm / 1e9, js: projectionFlops / projectionJs / 1e9 },
      agreement: diff / scale,
    };
    rows.push(row);
    log(
      `  ${n}×${m}: Gram X·Xᵀ ${row.gramGflops.wasm.toFixed(2)} GFLOP/s (${kernel}) vs ${row.gramGflops.js.toFixed(2)} (JS), ` +
        `X·Yᵀ ${row.generalGflops.wasm.toFixed(2)} vs ${row.generalGflops.js.toFixed(2)}, ` +
        `U_kᵀ·Xc (k = ${uk.rows}) ${row.projectionGflops.wasm.toFixed(2)} vs ${row.projectionGflops.js.toFixed(2)}; agree to ${row.agreement.toExponential(1)}`,
    );
  }
  return rows;
}
