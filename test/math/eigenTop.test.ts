// symmetricTopEigen (every eigenvalue, the leading k eigenvectors) against the full solver
// (tridiagonalEigen / symmetricEigen) on spectra that make inverse iteration work: repeated
// eigenvalues, clusters, a gap at the cut, rank-deficient and block-diagonal matrices, real layers;
// and SVCCA through it (svccaFactor) against SVCCA through the full step (svdStep); and the same
// solver in two calls (topEigenValues, then topEigenVectors once k is chosen from several spectra,
// the state copied between threads on the way) as the GPU path's host step uses it.
import { beforeAll, describe, expect, it } from 'vitest';

import { ccaFromFactors, chooseK, svccaFactor, svccaFactorFromStep, svdStep, varianceSpectrum, type KeepRule } from '../../src/math/cca';
import { symmetricEigen, symmetricEigenvalues, tridiagonalEigen, SMALL_N, WASM_EIGEN_MIN, WASM_REDUCTION_MIN } from '../../src/math/eigen';
import { symmetricTopEigen, TOP_K_MAX_FRACTION, topEigenValues, topEigenVectors } from '../../src/math/eigenTop';
import { centerRows, multiplyABt, transpose, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { reduceToMatrix, toRepresentation } from '../../src/math/reduce';
import { setWasmProductsEnabled } from '../../src/math/wasmProducts';
import { openBundlePath } from '../../src/io/node';
import { TOL, expectClose } from '../helpers/tolerance';

/** Eigenvalues: |Δ| ≤ this × max|λ| (the 1e-11; both solvers share the reduction and QL, so 0 in practice). */
const EIGENVALUE_TOL = TOL.f64Residual;
/** The kept subspace: sin of the largest principal angle between the two solvers' k-dimensional spans. */
const SUBSPACE_SIN = 1e-10;

const VARIANCE_99: KeepRule = { kind: 'variance', fraction: 0.99 };
const rule99 = (m: number) => (values: Float64Array) =>
  chooseK(
    Array.from(values, (g) => Math.max(g, 0) / (m - 1)),
    VARIANCE_99,
  );

/** Q diag(values) Qᵀ with a seeded random orthogonal Q (n × n). */
function withSpectrum(values: number[], seed: number): Matrix {
  const n = values.length;
  const r = randn(seed, n, n);
  const q = tridiagonalEigen(multiplyABt(r, r)).vectors.data; // rows orthonormal
  const a = new Float64Array(n * n);
  for (let t = 0; t < n; t++)
    for (let i = 0; i < n; i++) {
      const qi = q[t * n + i] * values[t];
      for (let j = 0; j < n; j++) a[i * n + j] += qi * q[t * n + j];
    }
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const s = (a[i * n + j] + a[j * n + i]) / 2;
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  return { rows: n, cols: n, data: a };
}

/** sin of the largest principal angle between row spans, bounded by ‖(I − P_B) Aᵀ‖_F (rows of a, b orthonormal). */
function subspaceSin(a: Float64Array, b: Float64Array, k: number, n: number): number {
  let frobenius = 0;
  for (let r = 0; r < k; r++) {
    const residual = Float64Array.from(a.subarray(r * n, r * n + n));
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += a[r * n + i] * b[c * n + i];
      for (let i = 0; i < n; i++) residual[i] -= dot * b[c * n + i];
    }
    for (let i = 0; i < n; i++) frobenius += residual[i] ** 2;
  }
  return Math.sqrt(frobenius);
}

/** ‖A·v − λ·v‖∞ / max|λ| and |vᵢ·vⱼ − δᵢⱼ| for the top result's vectors. */
function expectEigenpairs(a: Matrix, values: Float64Array, vectors: Float64Array, k: number, label: string): void {
  const n = a.rows;
  const scale = Math.max(Math.abs(values[0]), Math.abs(values[n - 1]), 1e-300);
  for (let r = 0; r < k; r++) {
    const v = vectors.subarray(r * n, r * n + n);
    let residual = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a.data[i * n + j] * v[j];
      residual = Math.max(residual, Math.abs(s - values[r] * v[i]) / scale);
    }
    expectClose(residual, 0, TOL.f64Residual, `${label}: A·v${r} − λ·v${r}`);
    for (let c = 0; c <= r; c++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i] * vectors[c * n + i];
      expectClose(dot, r === c ? 1 : 0, TOL.f64Residual, `${label}: v${r}·v${c}`);
    }
  }
}

/**
 * Top-k against the full solver: eigenvalues, k, and (when the spectrum has a gap at the cut, so the
 * kept subspace is defined) the subspace; eigenpairs always. Returns the method used.
 */
function compareWithFull(a: Matrix, pick: (values: Float64Array) => number, label: string): string {
  const n = a.rows;
  const full = symmetricEigen(a);
  const top = symmetricTopEigen(a, pick);
  const k = top.vectors.rows;
  expect(k, `${label}: k`).toBe(Math.floor(pick(full.values)));
  const scale = Math.max(Math.abs(full.values[0]), Math.abs(full.values[n - 1]), 1e-300);
  expectClose(
    Array.from(top.values, (v) => v / scale),
    Array.from(full.values, (v) => v / scale),
    EIGENVALUE_TOL,
    `${label}: eigenvalues / max|λ|`,
  );
  expectEigenpairs(a, top.values, top.vectors.data, k, label);
  const gapAtCut = k > 0 && k < n ? (full.values[k - 1] - full.values[k]) / scale : 1;
  if (gapAtCut > 1e-8) {
    expect(
      subspaceSin(top.vectors.data, full.vectors.data, k, n),
      `${label}: sin θ_max of the kept subspace (gap ${gapAtCut.toExponential(1)})`,
    ).toBeLessThanOrEqual(SUBSPACE_SIN);
  }
  return top.method;
}

describe('symmetricTopEigen against the full solver', () => {
  const clustered = (n: number) => Array.from({ length: n }, (_, i) => (i < 3 ? 5 : i < 5 ? 3 : i < n / 2 ? 1 : 0));
  const cases: { tag: string; matrix: () => Matrix; pick: (values: Float64Array) => number; method: string }[] = [
    { tag: 'Gram 100 × 300, keep 10', matrix: () => gramOf(randn(1, 100, 300)), pick: () => 10, method: 'inverse-iteration' },
    { tag: 'Gram 40 × 120 (JavaScript loops), keep 8', matrix: () => gramOf(randn(2, 40, 120)), pick: () => 8, method: 'inverse-iteration' },
    { tag: 'spectrum i⁻², n = 256, 99% rule', matrix: () => withSpectrum(powerSpectrum(256), 3), pick: rule99(2), method: 'inverse-iteration' },
    { tag: 'spectrum i⁻², n = 512, 99% rule', matrix: () => withSpectrum(powerSpectrum(512), 4), pick: rule99(2), method: 'inverse-iteration' },
    { tag: 'repeated 5, 5, 5, 3, 3, 1…, cut after a cluster', matrix: () => withSpectrum(clustered(80), 5), pick: () => 5, method: 'inverse-iteration' },
    { tag: 'repeated, cut after the first triple', matrix: () => withSpectrum(clustered(80), 6), pick: () => 3, method: 'inverse-iteration' },
    {
      tag: 'repeated, cut inside the 1-cluster (no defined subspace)',
      matrix: () => withSpectrum(clustered(80), 7),
      pick: () => 20,
      method: 'inverse-iteration',
    },
    { tag: 'rank-deficient Gram 120 × 30, 99% rule', matrix: () => gramOf(randn(8, 120, 30)), pick: rule99(30), method: 'inverse-iteration' },
    { tag: 'rank-deficient Gram 120 × 30, keep 35 (5 null vectors)', matrix: () => gramOf(randn(9, 120, 30)), pick: () => 35, method: 'inverse-iteration' },
    {
      tag: 'a third of the rows zero (T splits), keep 20',
      matrix: () => gramOf(deadRows(randn(10, 100, 400), 3)),
      pick: () => 20,
      method: 'inverse-iteration',
    },
    { tag: 'three identical blocks (equal eigenvalues across split blocks)', matrix: () => identicalBlocks(3, 30), pick: () => 9, method: 'inverse-iteration' },
    { tag: 'k > n/3: the full solver', matrix: () => gramOf(randn(11, 60, 200)), pick: () => 40, method: 'full' },
    { tag: 'n ≤ SMALL_N: the full solver', matrix: () => gramOf(randn(12, SMALL_N, 100)), pick: () => 4, method: 'full' },
    { tag: 'keep 0', matrix: () => gramOf(randn(13, 64, 100)), pick: () => 0, method: 'inverse-iteration' },
    { tag: 'zero matrix', matrix: () => gramOf(deadRows(randn(14, 40, 10), 1)), pick: () => 3, method: 'full' },
  ];
  for (const c of cases)
    it(c.tag, () => {
      expect(compareWithFull(c.matrix(), c.pick, c.tag)).toBe(c.method);
    });

  it('the WebAssembly reduction (n ≥ 48) and the JavaScript one agree', () => {
    const a = withSpectrum(powerSpectrum(96), 15);
    const fast = symmetricTopEigen(a, () => 12);
    const previous = setWasmProductsEnabled(false);
    const slow = symmetricTopEigen(a, () => 12);
    setWasmProductsEnabled(previous);
    expectClose(
      Array.from(fast.values, (v) => v / fast.values[0]),
      Array.from(slow.values, (v) => v / slow.values[0]),
      EIGENVALUE_TOL,
      'values',
    );
    expect(subspaceSin(fast.vectors.data, slow.vectors.data, 12, 96)).toBeLessThanOrEqual(SUBSPACE_SIN);
  });

  it('the full solver, when the top-k path falls back, gives tridiagonalEigen bit for bit', () => {
    const a = gramOf(randn(16, 72, 150));
    const top = symmetricTopEigen(a, () => 70);
    const full = tridiagonalEigen(a);
    expect(top.method).toBe('full');
    expect(Array.from(top.vectors.data)).toEqual(Array.from(full.vectors.data.subarray(0, 70 * 72)));
    expect(Array.from(top.values)).toEqual(Array.from(full.values));
  });

  it('symmetricEigenvalues is tridiagonalEigen without the vectors: value for value at every size (one reduction)', () => {
    // 27 / 28 and 47 / 48 straddle WASM_REDUCTION_MIN and WASM_EIGEN_MIN.
    expect([WASM_REDUCTION_MIN, WASM_EIGEN_MIN]).toEqual([28, 48]);
    for (const n of [1, 7, 27, 28, 33, 40, 47, 48, 64]) {
      const a = gramOf(randn(17 + n, n, 90));
      const values = symmetricEigenvalues(a);
      const full = tridiagonalEigen(a).values;
      expect(
        Array.from(values, (v, i) => v - full[i]).every((d) => d === 0),
        `n = ${n}`,
      ).toBe(true);
    }
    expect(() => symmetricTopEigen({ rows: 2, cols: 3, data: new Float64Array(6) }, () => 1)).toThrow(/not square/);
    expect(TOP_K_MAX_FRACTION).toBeLessThan(1);
  });
});

describe('varianceSpectrum: svdStep’s spectrum without the eigenvectors (the k99 pass)', () => {
  it('is svdStep(x).spectrum bit for bit: Jacobi (n ≤ 32), the JavaScript and WebAssembly reductions, n > m, a constant row', () => {
    // Gram sizes 5, 32 (Jacobi), 33, 40 (JS reduction), 48, 120 (WebAssembly); the two n > m cases
    // take the m × m Gram (30 and 64).
    for (const [n, m] of [
      [5, 40],
      [32, 100],
      [33, 100],
      [40, 90],
      [48, 200],
      [120, 400],
      [90, 30],
      [300, 64],
    ]) {
      const x = randn(n * 7 + m, n, m);
      x.data.fill(0.25, 0, m); // a constant neuron: a zero eigenvalue on the narrow side
      const spectrum = varianceSpectrum(x);
      const reference = svdStep(x).spectrum;
      expect(spectrum.length, `${n} × ${m}`).toBe(Math.min(n, m));
      expect(
        spectrum.every((v, i) => Object.is(v, reference[i])),
        `${n} × ${m}`,
      ).toBe(true);
    }
  });
});

describe('topEigenValues, then topEigenVectors: k chosen after every spectrum is known', () => {
  const clustered = (n: number) => Array.from({ length: n }, (_, i) => (i < 4 ? 6 : i < 10 ? 2 : i < n / 2 ? 0.5 : 0));
  // Like a DFT layer's frequency blocks: the real embedding of complex channels pairs every eigenvalue.
  const paired = (n: number, seed: number) =>
    withSpectrum(
      Array.from({ length: n }, (_, i) => 1 / (1 + Math.floor(i / 2)) ** 2),
      seed,
    );
  const blocks: { tag: string; matrix: Matrix }[] = [
    { tag: 'spectrum i⁻², n = 200', matrix: withSpectrum(powerSpectrum(200), 21) },
    { tag: 'clustered 6×4, 2×6, 0.5…, zeros, n = 120', matrix: withSpectrum(clustered(120), 22) },
    { tag: 'paired eigenvalues (a real-embedded complex block), n = 96', matrix: paired(96, 23) },
    { tag: 'paired eigenvalues, n = 64', matrix: paired(64, 24) },
    { tag: 'n ≤ SMALL_N', matrix: gramOf(randn(25, SMALL_N, 80)) },
    { tag: 'rank-deficient Gram 90 × 20', matrix: gramOf(randn(26, 90, 20)) },
  ];
  /** One k per matrix from all spectra together (a global rule: a value threshold over every block). */
  function globalKs(spectra: Float64Array[]): number[] {
    const all = spectra.flatMap((v) => Array.from(v)).sort((x, y) => y - x);
    const threshold = all[Math.floor(all.length / 10)];
    return spectra.map((v) => v.filter((x) => x > threshold).length);
  }

  it('every eigenvalue first; the kept vectors later are eigenpairs and span the full solver’s kept subspace', () => {
    const firsts = blocks.map(({ matrix }) => topEigenValues(matrix));
    const ks = globalKs(firsts.map((f) => f.values));
    expect(ks.some((k) => k > 0)).toBe(true);
    blocks.forEach(({ tag, matrix }, b) => {
      const full = symmetricEigen(matrix);
      const n = matrix.rows;
      const scale = Math.max(Math.abs(full.values[0]), Math.abs(full.values[n - 1]), 1e-300);
      expectClose(
        Array.from(firsts[b].values, (v) => v / scale),
        Array.from(full.values, (v) => v / scale),
        EIGENVALUE_TOL,
        `${tag}: eigenvalues / max|λ|`,
      );
      const top = topEigenVectors(firsts[b], ks[b]);
      expect(top.vectors.rows, tag).toBe(ks[b]);
      expectEigenpairs(matrix, top.values, top.vectors.data, ks[b], tag);
      const k = ks[b];
      const gapAtCut = k > 0 && k < n ? (full.values[k - 1] - full.values[k]) / scale : 1;
      if (gapAtCut > 1e-8) expect(subspaceSin(top.vectors.data, full.vectors.data, k, n), `${tag}: kept subspace`).toBeLessThanOrEqual(SUBSPACE_SIN);
    });
  });

  it('the state copied to another thread (structured clone) finishes to the same bits, on every path', () => {
    const cases: [string, Matrix, number, string][] = [
      ['inverse iteration (WebAssembly back-transform)', withSpectrum(powerSpectrum(160), 27), 20, 'inverse-iteration'],
      ['inverse iteration (JavaScript, n < 48)', gramOf(randn(28, 40, 100)), 6, 'inverse-iteration'],
      ['paired eigenvalues', paired(96, 29), 16, 'inverse-iteration'],
      ['k > n/3: the full solver', gramOf(randn(30, 72, 150)), 40, 'full'],
      ['k > n/3, n < 48: the full solver overwrites its reflectors', gramOf(randn(31, 40, 100)), 30, 'full'],
      ['n ≤ SMALL_N', gramOf(randn(32, 20, 50)), 5, 'full'],
    ];
    for (const [tag, matrix, k, method] of cases) {
      const before = Float64Array.from(matrix.data);
      const here = topEigenVectors(topEigenValues(matrix), k);
      expect(Array.from(matrix.data), `${tag}: the input is not modified`).toEqual(Array.from(before));
      const there = topEigenVectors(structuredClone(topEigenValues(matrix)), k);
      expect(here.method, tag).toBe(method);
      expect(there.method, tag).toBe(method);
      expect(Array.from(there.values), `${tag}: values`).toEqual(Array.from(here.values));
      expect(Array.from(there.vectors.data), `${tag}: vectors`).toEqual(Array.from(here.vectors.data));
      // The one-call form is the two calls.
      expect(Array.from(symmetricTopEigen(matrix, () => k).vectors.data), `${tag}: symmetricTopEigen`).toEqual(Array.from(here.vectors.data));
    }
    expect(() => topEigenValues({ rows: 2, cols: 3, data: new Float64Array(6) })).toThrow(/not square/);
  });

  it('k is clamped to 0..n and floored, as symmetricTopEigen’s pick', () => {
    const matrix = gramOf(randn(33, 50, 90));
    expect(topEigenVectors(topEigenValues(matrix), -3).vectors.rows).toBe(0);
    expect(topEigenVectors(topEigenValues(matrix), 7.9).vectors.rows).toBe(7);
    expect(topEigenVectors(topEigenValues(matrix), 80).vectors.rows).toBe(50);
  });
});

describe('symmetricTopEigen on real layers', () => {
  const layers: { label: string; x: Matrix }[] = [];
  beforeAll(async () => {
    const wanted: [string, string, string[]][] = [
      ['test/fixtures/real/digits-mlp.npz', 'mlp-seed0', ['fc1', 'fc2', 'fc3']],
      ['test/fixtures/real/digits-cnn.npz', 'cnn-seed0', ['conv1', 'conv2', 'fc1']],
      ['public/demo/fashion-resnet.npz', 'seed0', ['stem', 's1b1']],
    ];
    for (const [path, run, names] of wanted) {
      const bundle = await openBundlePath(path);
      const last = bundle.steps[bundle.steps.length - 1];
      for (const layer of names) {
        const entry = bundle.entries.find((e) => e.run === run && e.layer === layer && e.step === last);
        if (!entry) throw new Error(`${path}: no ${run}/${last}/${layer}`);
        const x = reduceToMatrix(toRepresentation(await entry.load(), 'datapoints-first', 'nchw'), 'flatten');
        layers.push({ label: `${path} ${run}/${last}/${layer} (${x.rows} × ${x.cols})`, x });
      }
    }
  }, 120_000);

  it('the Gram of every layer, 99% rule: eigenvalues, eigenpairs and kept subspace as the full solver', () => {
    expect(layers.length).toBe(8);
    let topPath = 0;
    for (const { label, x } of layers) {
      const { centered } = centerRows(x);
      const operand = x.rows > x.cols ? transpose(centered) : centered;
      if (compareWithFull(multiplyABt(operand, operand), rule99(x.cols), label) === 'inverse-iteration') topPath++;
      // Wider than its datapoints: the m × m Gram (the first 40 datapoints).
      const few = { rows: x.rows, cols: 40, data: Float64Array.from({ length: x.rows * 40 }, (_, i) => x.data[Math.floor(i / 40) * x.cols + (i % 40)]) };
      const fewCentered = transpose(centerRows(few).centered);
      compareWithFull(multiplyABt(fewCentered, fewCentered), rule99(40), `${label}, first 40 datapoints`);
    }
    expect(topPath, 'layers that took the top-k path').toBeGreaterThanOrEqual(3);
  });

  it('SVCCA similarities through the top-k step equal those through the full step', () => {
    const full = layers.map(({ x }) => {
      const step = svdStep(x);
      return svccaFactorFromStep(step, chooseK(step.spectrum, VARIANCE_99), 1e-10);
    });
    const top = layers.map(({ x }) => svccaFactor(x, VARIANCE_99, 1e-10));
    for (let i = 0; i < layers.length; i++) {
      expect(top[i].k, layers[i].label).toBe(full[i].k);
      for (let j = 0; j < layers.length; j++) {
        if (layers[i].x.cols !== layers[j].x.cols) continue;
        const a = ccaFromFactors(top[i].cca, top[j].cca);
        const b = ccaFromFactors(full[i].cca, full[j].cca);
        expectClose(a.rho, b.rho, TOL.f64Reordered, `${layers[i].label} vs ${layers[j].label}: ρ`);
      }
    }
  });
});

function gramOf(x: Matrix): Matrix {
  return multiplyABt(x, x);
}

function powerSpectrum(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 / (i + 1) ** 2);
}

function deadRows(x: Matrix, every: number): Matrix {
  for (let r = 0; r < x.rows; r += every) x.data.fill(0, r * x.cols, (r + 1) * x.cols);
  return x;
}

function identicalBlocks(count: number, size: number): Matrix {
  const n = count * size;
  const block = gramOf(randn(18, size, 2 * size));
  const data = new Float64Array(n * n);
  for (let b = 0; b < count; b++) for (let i = 0; i < size; i++) data.set(block.data.subarray(i * size, (i + 1) * size), (b * size + i) * n + b * size);
  return { rows: n, cols: n, data };
}
