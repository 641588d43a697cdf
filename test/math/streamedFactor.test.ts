// SVCCA's factor of a stored dense layer streams it through WebAssembly memory a block of 256
// datapoints at a time (wasmStreamedGram, wasmStreamedLeftMultiply): each block of the stored array
// is copied in, centred and widened there, and handed to the Gram or the projection kernel, twice
// over (the projection needs U_k, which needs the whole Gram). The centred n neurons × m datapoints
// float64 matrix is never held, so a fresh process does not fault in its n·m·8 bytes. The products
// must be bit for bit those of the resident centred matrix (same kernels, same tiles, same order of
// summation), for both layouts, both dtypes, every edge of the blocks and of the kernels' register
// blocks, and the factor must be bit for bit the factor of the float64 matrix.
import { afterEach, describe, expect, it } from 'vitest';
import { svccaFactor, type KeepRule, type SvccaFactor } from '../../src/math/cca';
import { centerRows, transpose, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { reduceToSource, storedRowMeans, toRepresentation, type Layout } from '../../src/math/reduce';
import {
  productKernel,
  setWasmProductsEnabled,
  wasmMemoryBytes,
  wasmResident,
  wasmStreamedGram,
  wasmStreamedLeftMultiply,
  type StreamedLayer,
} from '../../src/math/wasmProducts';
import { decaying, STORED_VARIANTS, type StoredDtype } from '../helpers/data';

const keep99: KeepRule = { kind: 'variance', fraction: 0.99 };
const epsilon = 1e-10;
type Dtype = StoredDtype;

/** x (n × m) as a file holds it: (n, m) neurons-first or (m, n) datapoints-first, in `dtype`; and its float64 matrix as read from that file. */
function storedLayer(x: Matrix, layout: Layout, dtype: Dtype): { layer: StreamedLayer; shape: [number, number]; matrix: Matrix } {
  const values = layout === 'neurons-first' ? x.data : transpose(x).data;
  const data = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  const neuronsFirst = layout === 'neurons-first';
  const stored = { data, neurons: x.rows, datapoints: x.cols, neuronsFirst };
  const read = neuronsFirst ? Float64Array.from(data) : transpose({ rows: x.cols, cols: x.rows, data: Float64Array.from(data) }).data;
  return {
    layer: { ...stored, means: storedRowMeans(stored) },
    shape: neuronsFirst ? [x.rows, x.cols] : [x.cols, x.rows],
    matrix: { rows: x.rows, cols: x.cols, data: read },
  };
}

const sameBits = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

function expectSameFactor(a: SvccaFactor, b: SvccaFactor): void {
  expect(a.k).toBe(b.k);
  expect(a.spectrum).toEqual(b.spectrum);
  expect(a.cca.keptIndices).toEqual(b.cca.keptIndices);
  expect(a.cca.directionScale).toBe(b.cca.directionScale);
  expect(sameBits(a.cca.z.data, b.cca.z.data)).toBe(true);
}

const VARIANTS = STORED_VARIANTS;

afterEach(() => {
  setWasmProductsEnabled(true);
});

describe('streamed SVCCA factor', () => {
  // First in the file: this worker's module has not grown for anything else yet.
  it('never holds the centred matrix: the module stays far below n·m·8 bytes', () => {
    expect(productKernel()).not.toBe('js');
    const n = 64;
    const m = 20_000;
    // Neurons of decaying variance, made without a product (test/helpers/data's `decaying` multiplies in WebAssembly).
    const x = randn(41, n, m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) x.data[i * m + j] /= i + 1;
    expect(wasmMemoryBytes()).toBeLessThanOrEqual(65_536); // the module as loaded: one page
    const rep = toRepresentation({ shape: [m, n], data: Float32Array.from(transpose(x).data) }, 'datapoints-first', 'nhwc');
    const factor = svccaFactor(reduceToSource(rep, 'flatten'), keep99, epsilon);
    expect(factor.k).toBeGreaterThan(1);
    expect(wasmMemoryBytes()).toBeLessThan((n * m * 8) / 4);
  });

  // m: under one block, one block exactly, blocks with an odd edge; n: the Gram's 4-row and
  // 2-column register blocks with tails, and more rows than one 64-row tile.
  const SHAPES: [number, number][] = [
    [5, 3],
    [7, 256],
    [70, 1000],
    [37, 517],
    [130, 769],
  ];
  describe.each(VARIANTS)('%s %s', (layout, dtype) => {
    it.each(SHAPES)('%i × %i: the Gram and A·Xc are bit for bit the resident matrix’s', (n, m) => {
      const { layer, matrix } = storedLayer(randn(n * 1000 + m, n, m), layout, dtype);
      const resident = wasmResident(n, m);
      if (!resident) throw new Error('no resident matrix');
      let residentGram: Float64Array | null;
      let residentProduct: Float64Array | null;
      const p = Math.min(n, 9);
      const a = randn(7, p, n).data;
      try {
        centerRows(matrix, resident.data());
        residentGram = resident.gram();
        residentProduct = resident.leftMultiply(a, p);
      } finally {
        resident.release();
      }
      const gram = wasmStreamedGram(layer);
      const product = wasmStreamedLeftMultiply(layer, a, p);
      if (!gram || !product || !residentGram || !residentProduct) throw new Error('a product did not run');
      expect(sameBits(gram, residentGram)).toBe(true);
      expect(sameBits(product, residentProduct)).toBe(true);
    });

    it('the factor is bit for bit the factor of the float64 matrix, k large and k tiny', () => {
      // 96 × 1300 power law: k ≈ 40, both products in WebAssembly; rank 2 plus a whisper of noise: k = 2,
      // so U_kᵀ·Xc falls under the WebAssembly threshold and runs in JS on a centred copy.
      const lowRank = randn(9, 2, 1300);
      const mixing = randn(10, 96, 2);
      const noise = randn(11, 96, 1300);
      const rank2: Matrix = { rows: 96, cols: 1300, data: new Float64Array(96 * 1300) };
      for (let i = 0; i < 96; i++)
        for (let j = 0; j < 1300; j++)
          rank2.data[i * 1300 + j] = mixing.data[i * 2] * lowRank.data[j] + mixing.data[i * 2 + 1] * lowRank.data[1300 + j] + 1e-9 * noise.data[i * 1300 + j];
      for (const x of [decaying(12, 96, 1300, 2), rank2]) {
        const { shape, layer, matrix } = storedLayer(x, layout, dtype);
        const rep = toRepresentation({ shape, data: layer.data }, layout, 'nhwc');
        const fromStored = svccaFactor(reduceToSource(rep, 'flatten'), keep99, epsilon);
        expectSameFactor(fromStored, svccaFactor(matrix, keep99, epsilon));
      }
    });
  });

  it('runs above a resident matrix without writing over it', () => {
    const { layer } = storedLayer(randn(3, 40, 600), 'datapoints-first', 'float32');
    const held = wasmResident(50, 300);
    if (!held) throw new Error('no resident matrix');
    try {
      const values = randn(4, 50, 300).data;
      held.data().set(values);
      expect(wasmStreamedGram(layer)).not.toBeNull();
      expect(sameBits(held.data(), values)).toBe(true);
    } finally {
      held.release();
    }
  });
});
