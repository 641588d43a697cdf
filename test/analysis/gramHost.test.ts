// The GPU path's float64 host step (analysis/pool/gramHost.ts) on real worker threads: the drafts of
// a batch of Grams on 2 threads are the one-thread drafts to the last bit (CCA's, SVCCA's with each
// matrix's own 99% rule, SVCCA's with a global rule over DFT-like blocks), with shared memory and
// without; a pool whose workers cannot start leaves the batch to this thread with the same numbers. And SVCCA's whitening from
// the top-k step (every eigenvalue, the k kept vectors) against the whitening from the full
// eigendecomposition it replaced: the same W₀ up to the sign of each row, within float64 round-off.

import { afterAll, describe, expect, it, vi } from 'vitest';
import { gramValues, gramVectors, poolGroups, POOL_MIN_WORK, type HostPool } from '../../src/analysis/pool/gramHost';
import { createNodePool, nodePoolPort } from '../../src/analysis/pool/node';
import { CpuPool } from '../../src/analysis/pool/pool';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { chooseK, type KeepRule } from '../../src/math/cca';
import { globalKeep } from '../../src/math/dft';
import { symmetricEigen } from '../../src/math/eigen';
import { draftSvd, svdSpectrum, whitenSvd, type CcaDraft, type SvdDraft, type SvdSpectrum } from '../../src/math/gramFactor';
import { centerRows, multiplyABt, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { TOL, expectClose } from '../helpers/tolerance';

const pool = createNodePool(2);
afterAll(() => pool.close());

const VARIANCE_99: KeepRule = { kind: 'variance', fraction: 0.99 };
const EPSILON = DEFAULT_OPTIONS.epsilon;

/** W₀ rows against the full solver's: |Δ| relative to the row's largest entry, after matching signs. */
const WHITENING_TOL = 1e-9;

/** Centred rows (n × m) with population spectrum λ_i ∝ i^-2 (the benchmark's, scripts/bench-data.ts), mixed by a seeded rotation. */
function layer(n: number, m: number, seed: number): Matrix {
  const z = randn(seed, n, m);
  const mix = randn(seed + 1, n, n);
  const x: Matrix = { rows: n, cols: m, data: new Float64Array(n * m) };
  for (let i = 0; i < n; i++)
    for (let t = 0; t < n; t++) {
      const w = mix.data[i * n + t] / (t + 1);
      for (let j = 0; j < m; j++) x.data[i * m + j] += w * z.data[t * m + j];
    }
  return centerRows(x).centered;
}

/** G = Xc Xcᵀ, rounded through float32 as the GPU hands it back. */
function gram(x: Matrix): Float64Array {
  return Float64Array.from(Float32Array.from(multiplyABt(x, x).data));
}

/** A DFT-like frequency block: the real embedding [[Re, −Im], [Im, Re]] of c complex channels over d datapoints, 2c × 2d. */
function embeddedBlock(c: number, d: number, seed: number): Matrix {
  const re = layer(c, d, seed);
  const im = layer(c, d, seed + 7);
  const out: Matrix = { rows: 2 * c, cols: 2 * d, data: new Float64Array(4 * c * d) };
  for (let i = 0; i < c; i++)
    for (let j = 0; j < d; j++) {
      const [a, b] = [re.data[i * d + j], im.data[i * d + j]];
      out.data[i * 2 * d + j] = a;
      out.data[i * 2 * d + d + j] = -b;
      out.data[(c + i) * 2 * d + j] = b;
      out.data[(c + i) * 2 * d + d + j] = a;
    }
  return out;
}

/** Every typed array of a value as plain numbers, so that toEqual compares bits (NaN and −0 included, through Object.is). */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as Float64Array);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** The host step as whitening.ts runs it: values, the keep rule, the kept vectors. */
async function svdSteps(host: HostPool | null, grams: Float64Array[], sizes: number[], m: number, keeps: (spectra: number[][]) => number[]) {
  const spectra = (await gramValues(host, 'svd', grams, sizes, m, EPSILON)) as SvdSpectrum[];
  const ks = keeps(spectra.map((s) => s.spectrum));
  return { ks, drafts: await gramVectors(host, spectra, ks) };
}

describe('the host step on 2 threads equals the one-thread step to the last bit', () => {
  const m = 300;
  const sizes = [160, 96, 140, 40, 128];
  const layers = sizes.map((n, b) => layer(n, m, 100 + 10 * b));
  const grams = () => layers.map(gram);

  it('uses the pool for a batch this size (and not for a small one)', () => {
    expect(sizes.reduce((s, n) => s + n ** 3, 0)).toBeGreaterThan(POOL_MIN_WORK);
    const groups = poolGroups(pool, sizes)!;
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.length).toBeLessThanOrEqual(2 * pool.threads);
    // Contiguous, in order, covering every matrix once.
    expect(groups.flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i))).toEqual(sizes.map((_, b) => b));
    expect(poolGroups(pool, [40, 40, 40])).toBeNull();
    expect(poolGroups(null, sizes)).toBeNull();
    expect(poolGroups(createNodePool(1), sizes)).toBeNull();
  });

  it('CCA: pruning and the equilibrated eigendecomposition', async () => {
    const run = vi.spyOn(pool, 'runTasks');
    const pooled = (await gramValues(pool, 'cca', grams(), sizes, m, EPSILON)) as CcaDraft[];
    expect(run).toHaveBeenCalledTimes(1);
    run.mockRestore();
    // The workers answered (a pool that could not start would have run the batch here).
    expect(pool.startFailure).toBeNull();
    expect(pool.workers).toBe(2);
    const single = (await gramValues(null, 'cca', grams(), sizes, m, EPSILON)) as CcaDraft[];
    expect(pooled.map((d) => d.eigen?.vectors.rows)).toEqual(sizes);
    expect(plain(pooled)).toEqual(plain(single));
  });

  it('SVCCA, each matrix its own 99% rule', async () => {
    const own = (spectra: number[][]) => spectra.map((s) => chooseK(s, VARIANCE_99));
    const run = vi.spyOn(pool, 'runTasks');
    const pooled = await svdSteps(pool, grams(), sizes, m, own);
    expect(run).toHaveBeenCalledTimes(2); // values, then vectors
    run.mockRestore();
    const single = await svdSteps(null, grams(), sizes, m, own);
    expect(pooled.ks).toEqual(single.ks);
    expect(pooled.drafts.map((d) => d.eigen.vectors.rows)).toEqual(pooled.ks);
    expect(plain(pooled.drafts)).toEqual(plain(single.drafts));
  });

  it('SVCCA through the DFT: one 99% rule over every block (paired eigenvalues), k chosen between the phases', async () => {
    const c = 48;
    const blocks = Array.from({ length: 6 }, (_, b) => embeddedBlock(c, 120, 300 + 10 * b));
    const multiplicities = [1, 2, 2, 2, 2, 1];
    const global = (spectra: number[][]) => globalKeep(spectra, multiplicities, VARIANCE_99).map((k) => 2 * k); // as dft.ts blockSet: k complex directions are 2k real ones
    const blockSizes = blocks.map(() => 2 * c);
    const pooled = await svdSteps(pool, blocks.map(gram), blockSizes, 240, global);
    const single = await svdSteps(null, blocks.map(gram), blockSizes, 240, global);
    expect(pooled.ks).toEqual(single.ks);
    expect(pooled.ks.some((k) => k > 0 && k < 2 * c)).toBe(true);
    expect(plain(pooled.drafts)).toEqual(plain(single.drafts));
  });

  it('without shared memory (a page that is not cross-origin isolated): copies out, transfers back, the same bits', async () => {
    const copying = new CpuPool({ spawn: nodePoolPort, threads: 2, shared: false });
    try {
      const own = (spectra: number[][]) => spectra.map((s) => chooseK(s, VARIANCE_99));
      const pooled = await svdSteps(copying, grams(), sizes, m, own);
      const single = await svdSteps(null, grams(), sizes, m, own);
      expect(copying.workers).toBe(2);
      expect(pooled.drafts[0].eigen.values.buffer).toBeInstanceOf(ArrayBuffer);
      expect(plain(pooled.drafts)).toEqual(plain(single.drafts));
    } finally {
      copying.close();
    }
  });

  it('a pool whose workers cannot start: the batch runs here, with the same numbers', async () => {
    const broken = new CpuPool({
      threads: 2,
      shared: true,
      spawn: () => ({
        post() {},
        listen(_onMessage, onError) {
          setTimeout(() => onError('no worker script here'), 0);
        },
        terminate() {},
      }),
    });
    // Nor can this one be created at all (Node without the bundled poolWorker.mjs and without tsx).
    const missing = new CpuPool({
      threads: 2,
      shared: true,
      spawn: () => {
        throw new Error("Cannot find module 'tsx/package.json'");
      },
    });
    const own = (spectra: number[][]) => spectra.map((s) => chooseK(s, VARIANCE_99));
    const single = await svdSteps(null, grams(), sizes, m, own);
    for (const pool of [broken, missing]) {
      const fallen = await svdSteps(pool, grams(), sizes, m, own);
      expect(pool.threads).toBe(1);
      expect(pool.startFailure).toMatch(/no worker script|tsx/);
      expect(plain(fallen.drafts)).toEqual(plain(single.drafts));
    }
  });
});

describe('SVCCA whitening from the top-k step against the full eigendecomposition', () => {
  /** What draftSvd returned before the top-k step: every eigenvector from the full solver. */
  function fullDraft(g: Float64Array, size: number, m: number): SvdDraft {
    const eigen = symmetricEigen({ rows: size, cols: size, data: g });
    return { kind: 'svd', size, eigen, spectrum: Array.from(eigen.values, (v) => Math.max(v, 0) / (m - 1)), datapoints: m };
  }

  it.each([
    ['spectrum i⁻², n = 200, m = 600', 200, 600],
    ['spectrum i⁻², n = 64, m = 100', 64, 100],
    ['n ≤ SMALL_N (Jacobi either way)', 24, 80],
    ['rank-deficient: n = 120, m = 50', 120, 50],
  ])('%s', (_, n, m) => {
    const g = gram(layer(n, m, 500 + n));
    const spectrum: SvdSpectrum = svdSpectrum(g, n, m);
    const k = chooseK(spectrum.spectrum, VARIANCE_99);
    const top = whitenSvd(draftSvd(spectrum, k), k, EPSILON, VARIANCE_99, true);
    const full = whitenSvd(fullDraft(g, n, m), k, EPSILON, VARIANCE_99, true);
    expect(top.rows).toBe(full.rows);
    expect(top.keptDims).toBe(full.keptDims);
    expect(top.spectrum).toEqual(full.spectrum); // the same QL eigenvalues, bit for bit
    expect(top.conditioning).toEqual(full.conditioning);
    expectClose(top.ridge, full.ridge, TOL.f64Reordered, 'ridge');
    for (let i = 0; i < top.rows; i++) {
      const a = top.projection.subarray(i * n, (i + 1) * n);
      const b = full.projection.subarray(i * n, (i + 1) * n);
      let dot = 0;
      let largest = 0;
      for (let t = 0; t < n; t++) {
        dot += a[t] * b[t];
        largest = Math.max(largest, Math.abs(b[t]));
      }
      const sign = Math.sign(dot) || 1;
      expectClose(
        Array.from(a, (v) => (sign * v) / largest),
        Array.from(b, (v) => v / largest),
        WHITENING_TOL,
        `row ${i} of W₀ (up to sign)`,
      );
    }
  });
});
