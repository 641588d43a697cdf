// The WebAssembly SIMD product kernels (src/wasm/products.wat → src/math/wasmProducts.ts) against the
// plain-JS kernel of src/math/matrix.ts, on sizes that are not multiples of the register block (4 × 2),
// of the f64x2 pair, of the cache tiles (256 datapoints × 64 rows) or of the copy chunks; the
// committed binary against a fresh build of its source; and the relaxed-SIMD (FMA) variant, which
// Node 20 runs only behind a flag, in a child process.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { multiply, multiplyABt, multiplyABtJs, multiplyJs, transpose, type Matrix } from '../../src/math/matrix';
import { tridiagonalEigen, WASM_EIGEN_MIN } from '../../src/math/eigen';
import { randn } from '../../src/math/random';
import { productKernel, setWasmProductsEnabled, wasmMultiplyAB, wasmMultiplyABt } from '../../src/math/wasmProducts';
import { TOL } from '../helpers/tolerance';

const ROOT = join(__dirname, '..', '..');

function rowNorms(x: Matrix): Float64Array {
  const norms = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let t = 0; t < x.cols; t++) s += x.data[i * x.cols + t] ** 2;
    norms[i] = Math.sqrt(s);
  }
  return norms;
}

/** |C − C_js| ≤ f64Reordered·‖a_i‖‖b_j‖ for every entry: the same dot products summed in another order. */
function expectSameProduct(c: Float64Array, a: Matrix, b: Matrix, label: string): void {
  const reference = multiplyABtJs(a, b);
  const na = rowNorms(a);
  const nb = rowNorms(b);
  let worst = 0;
  let where = -1;
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      const e = Math.abs(c[i * b.rows + j] - reference.data[i * b.rows + j]) / Math.max(na[i] * nb[j], 1e-300);
      if (!(e <= worst)) [worst, where] = [e, i * b.rows + j];
    }
  }
  expect(worst, `${label}: worst relative difference at entry ${where}`).toBeLessThanOrEqual(TOL.f64Reordered);
}

function wasmProduct(a: Matrix, b: Matrix, chunkBytes?: number): Float64Array {
  const c = new Float64Array(a.rows * b.rows).fill(Number.NaN); // every entry must be written
  expect(wasmMultiplyABt(a.data, b.data, c, a.rows, b.rows, a.cols, a === b, chunkBytes)).toBe(true);
  return c;
}

afterEach(() => {
  setWasmProductsEnabled(true);
});

describe('WebAssembly SIMD products A·Bᵀ', () => {
  it('runs in this Node (WebAssembly SIMD is there since Node 16)', () => {
    expect(productKernel()).not.toBe('js');
  });

  // [p, q, k]: 1 × 1, odd and tiny, one short of / one past the 4 × 2 block, the f64x2 pair, the
  // 256-element tile and the 64-row tile, and the 129 × 1000.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 7, 1],
    [3, 7, 5],
    [4, 2, 2],
    [5, 3, 3],
    [7, 9, 257],
    [65, 67, 511],
    [129, 1000, 37],
    [129, 130, 1000],
  ];
  it.each(shapes)('A %i × k · (B %i × k)ᵀ, k = %i, as the JS kernel', (p, q, k) => {
    const a = randn(p * 7919 + k, p, k);
    const b = randn(q * 104729 + k, q, k);
    expectSameProduct(wasmProduct(a, b), a, b, `${p}×${q}×${k}`);
  });

  it.each([
    [1, 1],
    [3, 7],
    [9, 33],
    [129, 1000],
    [66, 2049],
  ])('Gram X·Xᵀ of X %i × %i (upper triangle, mirrored), symmetric', (n, m) => {
    const x = randn(n + 31 * m, n, m);
    const c = wasmProduct(x, x);
    expectSameProduct(c, x, x, `gram ${n}×${m}`);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(c[i * n + j]).toBe(c[j * n + i]);
  });

  it('splits a long shared dimension into chunks of whole tiles (general and symmetric)', () => {
    const a = randn(11, 9, 1000);
    const b = randn(12, 5, 1000);
    // 14 rows × 256 × 8 bytes: chunks of 256, 256, 256 and 232 datapoints.
    expectSameProduct(wasmProduct(a, b, 14 * 256 * 8), a, b, 'chunked');
    expectSameProduct(wasmProduct(a, a, 9 * 256 * 8), a, a, 'chunked symmetric');
  });

  it('multiplyABt uses the kernel above its size threshold and the JS kernel when turned off', () => {
    const x = randn(5, 40, 300);
    const y = randn(6, 24, 300);
    const withWasm = multiplyABt(x, y);
    expectSameProduct(withWasm.data, x, y, 'multiplyABt');
    setWasmProductsEnabled(false);
    expect(productKernel()).toBe('js');
    expect(Array.from(multiplyABt(x, y).data)).toEqual(Array.from(multiplyABtJs(x, y).data));
  });

  // A·B with B's rows contiguous (W·Xc, U_kᵀ·Xc): [p, k, q], q one short of / past the 4-column
  // block and the 64-column tile.
  const abShapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 3, 4],
    [5, 9, 63],
    [9, 33, 65],
    [47, 129, 1000],
  ];
  it.each(abShapes)('A %i × %i · B (k × %i) as the JS kernel', (p, k, q) => {
    const a = randn(p * 13 + q, p, k);
    const b = randn(k * 17 + q, k, q);
    const c = new Float64Array(p * q).fill(Number.NaN);
    expect(wasmMultiplyAB(a.data, b.data, c, p, q, k)).toBe(true);
    // Entry (i, j) is row i of A against column j of B: the A·Bᵀ check with Bᵀ.
    expectSameProduct(c, a, transpose(b), `${p}×${k}·${k}×${q}`);
  });

  it('multiply uses the A·B kernel above its size threshold and the JS kernel when turned off', () => {
    const w = randn(7, 12, 40);
    const x = randn(8, 40, 301);
    expectSameProduct(multiply(w, x).data, w, transpose(x), 'multiply');
    setWasmProductsEnabled(false);
    expect(Array.from(multiply(w, x).data)).toEqual(Array.from(multiplyJs(w, x).data));
  });

  it('multiply into a reused buffer (dft2 per chunk): the same bits as a fresh result, whatever the buffer held, on both kernels', () => {
    const w = randn(9, 12, 40);
    const x = randn(10, 40, 301);
    const small = randn(11, 3, 4);
    const fresh = [multiply(w, x).data, multiply(small, randn(12, 4, 5)).data];
    for (const on of [true, false]) {
      setWasmProductsEnabled(on);
      // Larger than either result and full of garbage: every element of the result is overwritten.
      const buffer = new Float64Array(12 * 301 + 7).fill(Number.NaN);
      const big = multiply(w, x, buffer);
      expect(big.data.buffer).toBe(buffer.buffer);
      expect([big.rows, big.cols, big.data.length]).toEqual([12, 301, 12 * 301]);
      expect(Array.from(big.data), `kernels ${on ? 'wasm' : 'js'}`).toEqual(Array.from(on ? fresh[0] : multiplyJs(w, x).data));
      buffer.fill(Number.NaN);
      expect(Array.from(multiply(small, randn(12, 4, 5), buffer).data)).toEqual(Array.from(fresh[1]));
      expect(() => multiply(w, x, new Float64Array(10))).toThrow(/a product of 12 × 301 into 10 elements/);
    }
  });

  // tridiagonalEigen with its O(n³) loops in WebAssembly (tred2's product, rank-2 update and
  // accumulation; the QL rotations) against the same algorithm in JS: odd and even n, a Gram of
  // full rank and one of rank 20 (a cluster of zero eigenvalues).
  it.each([
    [WASM_EIGEN_MIN, 300],
    [63, 200],
    [130, 20],
    [201, 400],
  ])('tridiagonalEigen, Gram of %i × %i: WebAssembly loops as the JS ones', (n, m) => {
    const x = randn(n * 3 + m, n, m);
    const g = multiplyABtJs(x, x);
    const fast = tridiagonalEigen(g);
    setWasmProductsEnabled(false);
    const reference = tridiagonalEigen(g);
    setWasmProductsEnabled(true);
    const top = reference.values[0];
    let worstValue = 0;
    for (let i = 0; i < n; i++) worstValue = Math.max(worstValue, Math.abs(fast.values[i] - reference.values[i]) / top);
    expect(worstValue, 'eigenvalues relative to λ_max').toBeLessThanOrEqual(TOL.f64Residual);
    // Eigenvectors up to sign, where the eigenvalue is separated from its neighbours (not the null cluster).
    let worstVector = 0;
    for (let i = 0; i < Math.min(n, m) - 1; i++) {
      const gap = Math.min(i > 0 ? reference.values[i - 1] - reference.values[i] : Infinity, reference.values[i] - reference.values[i + 1]);
      if (gap < 1e-6 * top) continue;
      let dot = 0;
      for (let t = 0; t < n; t++) dot += fast.vectors.data[i * n + t] * reference.vectors.data[i * n + t];
      worstVector = Math.max(worstVector, 1 - Math.abs(dot));
    }
    expect(worstVector, '1 − |v_wasm · v_js|').toBeLessThanOrEqual(TOL.f64Residual);
  });

  it('the committed binaries are a fresh build of src/wasm/products.wat', () => {
    // Exits 1 with a message when src/math/wasmProducts.generated.ts differs from the build.
    expect(() => execFileSync(process.execPath, [join(ROOT, 'scripts/build-wasm.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('the relaxed-SIMD (FMA) variant computes the same products where the engine has relaxed SIMD', () => {
    const generated = readFileSync(join(ROOT, 'src/math/wasmProducts.generated.ts'), 'utf8');
    const relaxed = /PRODUCTS_RELAXED_SIMD = '([^']+)'/.exec(generated)![1];
    const [p, q, k] = [13, 7, 301];
    const a = randn(21, p, k);
    const b = randn(22, q, k);
    // A child with V8's relaxed-SIMD flag (on by default from Node 22): A at 0, B after it, C after B.
    const script = `
      const bytes = Buffer.from(process.env.WASM, 'base64');
      if (!WebAssembly.validate(bytes)) { console.log('invalid'); process.exit(0); }
      const { memory, abt } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
      const [p, q, k] = [${p}, ${q}, ${k}];
      const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const heap = new Float64Array(memory.buffer);
      heap.set(input.a, 0); heap.set(input.b, p * k);
      abt(0, p * k * 8, (p + q) * k * 8, p, q, k, 0);
      console.log(JSON.stringify(Array.from(heap.subarray((p + q) * k, (p + q) * k + p * q))));`;
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', script], {
      input: JSON.stringify({ a: Array.from(a.data), b: Array.from(b.data) }),
      env: { ...process.env, WASM: relaxed },
    }).toString();
    expect(out.trim(), 'the relaxed-SIMD binary validates in this Node with the flag').not.toBe('invalid');
    expectSameProduct(Float64Array.from(JSON.parse(out) as number[]), a, b, 'relaxed SIMD');
  });
});
