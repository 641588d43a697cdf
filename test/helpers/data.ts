// Seeded test inputs. Shapes: Matrix is n neurons × m datapoints (row-major), like src/math.
import { multiply, zeros, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import type { Layout } from '../../src/math/reduce';

export function add(a: Matrix, b: Matrix, scaleB = 1): Matrix {
  const out = zeros(a.rows, a.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i] + scaleB * b.data[i];
  return out;
}

export function scale(a: Matrix, s: number, shift = 0): Matrix {
  return { rows: a.rows, cols: a.cols, data: a.data.map((v) => s * v + shift) };
}

/** A random orthogonal n × n matrix (Gram–Schmidt on seeded normals). */
export function randomOrthogonal(seed: number, n: number): Matrix {
  const g = randn(seed, n, n);
  for (let i = 0; i < n; i++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let t = 0; t < n; t++) dot += g.data[i * n + t] * g.data[j * n + t];
        for (let t = 0; t < n; t++) g.data[i * n + t] -= dot * g.data[j * n + t];
      }
    }
    let norm = 0;
    for (let t = 0; t < n; t++) norm += g.data[i * n + t] ** 2;
    for (let t = 0; t < n; t++) g.data[i * n + t] /= Math.sqrt(norm);
  }
  return g;
}

/** Y = A·X + noise·N: a representation correlated with X. */
export function related(x: Matrix, outNeurons: number, noise: number, seed: number): Matrix {
  const a = randn(seed, outNeurons, x.rows);
  return add(multiply(a, x), randn(seed + 1, outNeurons, x.cols), noise);
}

/** X with a decaying spectrum: rows = orthogonal basis × i^-power scales × latent normals (n × m). */
export function decaying(seed: number, n: number, m: number, power = 1): Matrix {
  const latent = randn(seed, n, m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) latent.data[i * m + j] *= (i + 1) ** -power;
  return multiply(randomOrthogonal(seed + 1, n), latent);
}

/** Element type of a stored dense layer in the tests of the stored-array paths. */
export type StoredDtype = 'float32' | 'float64';

/** Every layout × dtype a dense layer may be stored in (math/reduce.ts keeps it as stored). */
export const STORED_VARIANTS: [Layout, StoredDtype][] = [
  ['neurons-first', 'float32'],
  ['neurons-first', 'float64'],
  ['datapoints-first', 'float32'],
  ['datapoints-first', 'float64'],
];
