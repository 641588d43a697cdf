// SVCCA's factor with the centred representation resident in WebAssembly memory (svccaFactor →
// wasmResident): centred once into the module's memory, the Gram and U_kᵀ·Xc read it in place. It
// must be bit for bit the copy path's factor (svdStepTop: centred copy, Gram; svccaFactorFromStep:
// projection), since both run the same kernels on the same operands in the same order; and whatever
// runs while the matrix is held must not write over it. Shapes: n neurons × m datapoints.
import { afterEach, describe, expect, it } from 'vitest';
import { svccaFactor, svccaFactorFromStep, svdStepTop, type KeepRule, type SvccaFactor } from '../../src/math/cca';
import { symmetricTopEigen } from '../../src/math/eigenTop';
import { centerRows, multiplyABtJs, multiplyJs, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { productKernel, setWasmProductsEnabled, wasmMultiplyABt, wasmResident } from '../../src/math/wasmProducts';
import { decaying } from '../helpers/data';
import { TOL } from '../helpers/tolerance';

const keep99: KeepRule = { kind: 'variance', fraction: 0.99 };
const keep3: KeepRule = { kind: 'dims', k: 3 };
const epsilon = 1e-10;

function copyPath(x: Matrix, rule: KeepRule): SvccaFactor {
  const step = svdStepTop(x, rule);
  return svccaFactorFromStep(step, step.k, epsilon);
}

function expectSameFactor(a: SvccaFactor, b: SvccaFactor): void {
  expect(a.k).toBe(b.k);
  expect(a.spectrum).toEqual(b.spectrum);
  expect(a.cca.keptIndices).toEqual(b.cca.keptIndices);
  expect(a.cca.directionScale).toBe(b.cca.directionScale);
  expect(Array.from(a.cca.z.data)).toEqual(Array.from(b.cca.z.data));
}

afterEach(() => {
  setWasmProductsEnabled(true);
});

describe('SVCCA factor on a resident centred copy', () => {
  it('runs with the WebAssembly kernels here (else the cases below test the copy path twice)', () => {
    expect(productKernel()).not.toBe('js');
  });

  it.each([
    ['power-law spectrum, 64 × 3000 (the Gram in one call, k ≈ n/4)', () => decaying(11, 64, 3000, 2), keep99],
    ['isotropic, 96 × 1200 (k near n)', () => randn(12, 96, 1200), keep99],
    ['fixed k = 3 of 9 × 400: U_kᵀ·Xc under the WebAssembly threshold (plain-JS multiply)', () => randn(13, 9, 400), keep3],
    ['odd sizes 37 × 517 with a constant neuron (zero variance)', () => withConstantRow(decaying(14, 37, 517), 5), keep99],
  ])('%s: bit for bit the copy path', (_label, make, rule) => {
    const x = make();
    expectSameFactor(svccaFactor(x, rule, epsilon), copyPath(x, rule));
  });

  it('takes the copy path where it must: n > m (the m × m Gram), tiny Grams, no WebAssembly', () => {
    const wide = randn(15, 120, 40);
    expectSameFactor(svccaFactor(wide, keep99, epsilon), copyPath(wide, keep99));
    const tiny = randn(16, 4, 30);
    expectSameFactor(svccaFactor(tiny, keep99, epsilon), copyPath(tiny, keep99));
    const x = decaying(17, 48, 900, 2);
    setWasmProductsEnabled(false);
    const js = svccaFactor(x, keep99, epsilon);
    expectSameFactor(js, copyPath(x, keep99));
    setWasmProductsEnabled(true);
    // The plain-JS and WebAssembly factors agree to float64 rounding (sums in another order).
    const wasm = svccaFactor(x, keep99, epsilon);
    expect(wasm.k).toBe(js.k);
    for (let i = 0; i < wasm.k; i++) expect(Math.abs(wasm.spectrum[i] - js.spectrum[i])).toBeLessThanOrEqual(TOL.f64Residual * js.spectrum[0]);
  });

  it('gives the same factor whatever factorisations ran before (memory grown, other shapes)', () => {
    const x = decaying(18, 40, 700);
    const first = svccaFactor(x, keep99, epsilon);
    svccaFactor(randn(19, 200, 2000), keep99, epsilon);
    svccaFactor(randn(20, 30, 900), keep99, epsilon);
    expectSameFactor(svccaFactor(x, keep99, epsilon), first);
  });
});

describe('wasmResident', () => {
  it('keeps the matrix intact while the eigensolver and other products use the memory above it', () => {
    const x = decaying(21, 50, 800, 2);
    const resident = wasmResident(x.rows, x.cols)!;
    expect(resident).not.toBeNull();
    try {
      centerRows(x, resident.data());
      const copy = resident.data().slice(); // the centred rows, 50 × 800
      const gram = resident.gram()!;
      // Other kernels while it is held: a product far larger than the matrix (memory grows: views detach) and a top-k eigensolve.
      const a = randn(22, 300, 3000);
      const c = new Float64Array(300 * 300);
      expect(wasmMultiplyABt(a.data, a.data, c, 300, 300, 3000, true)).toBe(true);
      symmetricTopEigen(multiplyABtJs(randn(23, 120, 400), randn(23, 120, 400)), () => 10);
      expect(Array.from(resident.data())).toEqual(Array.from(copy));
      // The Gram is the chunked copy path's, bit for bit (chunks are whole kernel tiles: 256 datapoints here), and the JS kernel's to rounding.
      const chunked = new Float64Array(50 * 50);
      expect(wasmMultiplyABt(copy, copy, chunked, 50, 50, 800, true, 8 * 50 * 256)).toBe(true);
      expect(Array.from(gram)).toEqual(Array.from(chunked));
      const js = multiplyABtJs({ rows: 50, cols: 800, data: copy }, { rows: 50, cols: 800, data: copy });
      const rowNorm2 = Math.max(...Array.from({ length: 50 }, (_, i) => js.data[i * 50 + i]));
      gram.forEach((g, i) => expect(Math.abs(g - js.data[i])).toBeLessThanOrEqual(TOL.f64Reordered * rowNorm2));
      // A·R against the plain-JS product.
      const left = randn(24, 7, 50);
      const product = resident.leftMultiply(left.data, 7)!;
      const reference = multiplyJs(left, { rows: 50, cols: 800, data: copy });
      const pScale = Math.max(...reference.data.map(Math.abs));
      product.forEach((v, i) => expect(Math.abs(v - reference.data[i])).toBeLessThanOrEqual(TOL.f64Reordered * 50 * pScale));
    } finally {
      resident.release();
    }
  });

  it('is held by one caller at a time and refuses use after release', () => {
    const first = wasmResident(4, 10)!;
    expect(wasmResident(4, 10)).toBeNull();
    first.release();
    expect(() => first.data()).toThrow(/released/);
    const second = wasmResident(4, 10);
    expect(second).not.toBeNull();
    second!.release();
  });
});

function withConstantRow(x: Matrix, row: number): Matrix {
  x.data.fill(3.25, row * x.cols, (row + 1) * x.cols);
  return x;
}
