// A dense layer kept as stored (math/reduce.ts): toRepresentation no longer copies a float32 or
// datapoints-first array into a float64 n neurons × m datapoints matrix up front. The matrix, when
// a path reads `x`, must be exactly what toRepresentation built before; SVCCA's factor, which now
// centres straight from the stored array (centerStoredRows, into WebAssembly memory or the scratch
// buffer), must be bit for bit the factor of that matrix, for both layouts and both dtypes, on every
// path of svccaFactor (resident, copy path for n > m and tiny inputs, plain JS); and that fast path
// must not build the matrix.
import { afterEach, describe, expect, it } from 'vitest';
import { svccaFactor, svccaFactorFromStep, svdStepTop, type KeepRule, type SvccaFactor } from '../../src/math/cca';
import { centerRows, transpose, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { centerStoredRows, datapointsOfRepresentation, denseMatrixBuilt, reduceToSource, toRepresentation, type Layout } from '../../src/math/reduce';
import { setWasmProductsEnabled } from '../../src/math/wasmProducts';
import { decaying, STORED_VARIANTS, type StoredDtype } from '../helpers/data';

const keep99: KeepRule = { kind: 'variance', fraction: 0.99 };
const epsilon = 1e-10;
type Dtype = StoredDtype;

/** What toRepresentation returned for a 2-D array before the stored array was kept (the reference). */
function previousMatrix(shape: [number, number], data: Float32Array | Float64Array, layout: Layout): Matrix {
  const [a, b] = shape;
  if (layout === 'neurons-first') return { rows: a, cols: b, data: new Float64Array(data) };
  const out = new Float64Array(a * b);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[j * a + i] = data[i * b + j];
  return { rows: b, cols: a, data: out };
}

/** The n × m matrix x stored as a file would hold it: (n, m) neurons-first or (m, n) datapoints-first, in `dtype`. */
function stored(x: Matrix, layout: Layout, dtype: Dtype): { shape: [number, number]; data: Float32Array | Float64Array } {
  const values = layout === 'neurons-first' ? x.data : transpose(x).data;
  const shape: [number, number] = layout === 'neurons-first' ? [x.rows, x.cols] : [x.cols, x.rows];
  return { shape, data: dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values) };
}

function expectSameFactor(a: SvccaFactor, b: SvccaFactor): void {
  expect(a.k).toBe(b.k);
  expect(a.spectrum).toEqual(b.spectrum);
  expect(a.cca.keptIndices).toEqual(b.cca.keptIndices);
  expect(a.cca.directionScale).toBe(b.cca.directionScale);
  expect(a.cca.z.data.length).toBe(b.cca.z.data.length);
  expect(a.cca.z.data.every((v, i) => Object.is(v, b.cca.z.data[i]))).toBe(true);
}

const CASES: [string, () => Matrix][] = [
  ['power-law 70 × 1500 (tiles of 64 with an edge; resident path)', () => decaying(31, 70, 1500, 2)],
  ['odd 37 × 517 with a constant neuron', () => withConstantRow(decaying(32, 37, 517), 4)],
  ['wide 90 × 40 (n > m: the copy path)', () => randn(33, 90, 40)],
  ['tiny 3 × 20 (under the WebAssembly threshold)', () => randn(34, 3, 20)],
];
const VARIANTS = STORED_VARIANTS;

afterEach(() => {
  setWasmProductsEnabled(true);
});

describe('a dense representation keeps its stored array', () => {
  it.each(VARIANTS)('%s %s: x is, when read, exactly the matrix toRepresentation built before', (layout, dtype) => {
    const array = stored(decaying(35, 23, 301), layout, dtype);
    const rep = toRepresentation(array, layout, 'nhwc');
    expect(denseMatrixBuilt(rep)).toBe(false);
    expect(datapointsOfRepresentation(rep, 'flatten')).toBe(301);
    expect(denseMatrixBuilt(rep)).toBe(false);
    if (rep.kind !== 'dense') throw new Error('dense expected');
    expect(rep.x).toEqual(previousMatrix(array.shape, array.data, layout));
    expect(denseMatrixBuilt(rep)).toBe(true);
    expect(rep.x).toBe(rep.x); // built once, then kept
  });

  it('a one-dimensional array is one neuron, as before', () => {
    const data = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const rep = toRepresentation({ shape: [50], data }, 'datapoints-first', 'nhwc');
    expect(rep.kind === 'dense' && rep.x).toEqual({ rows: 1, cols: 50, data: new Float64Array(data) });
  });

  it.each(VARIANTS)('%s %s: centerStoredRows is bit for bit centerRows of the matrix', (layout, dtype) => {
    for (const [n, m] of [
      [130, 300], // two full tiles of neurons and an edge, datapoints likewise
      [7, 65],
      [1, 9],
    ]) {
      const array = stored(randn(36 + n, n, m), layout, dtype);
      const matrix = previousMatrix(array.shape, array.data, layout);
      const expected = centerRows(matrix);
      const into = new Float64Array(n * m).fill(Number.NaN);
      const means = centerStoredRows({ data: array.data, neurons: n, datapoints: m, neuronsFirst: layout === 'neurons-first' }, into);
      expect(Array.from(means)).toEqual(Array.from(expected.means));
      expect(into.every((v, i) => Object.is(v, expected.centered.data[i]))).toBe(true);
      // A datapoints-first array also gives those rows transposed (m × n, what a wide layer's m × m
      // Gram reads), bit for bit; a neurons-first one does not offer them.
      const source = reduceToSource(toRepresentation(array, layout, 'nhwc'), 'flatten');
      if ('data' in source) throw new Error('a CentringSource expected');
      if (layout === 'neurons-first') expect(source.centredDatapointRowsInto).toBeUndefined();
      else {
        const rows = new Float64Array(n * m).fill(Number.NaN);
        source.centredDatapointRowsInto!(rows);
        const expectedRows = transpose(expected.centered).data;
        expect(rows.every((v, i) => Object.is(v, expectedRows[i]))).toBe(true);
      }
    }
  });
});

describe("SVCCA's factor straight from the stored array", () => {
  describe.each(CASES)('%s', (_label, make) => {
    it.each(VARIANTS)('%s %s: bit for bit the factor of the float64 matrix, and the matrix is never built', (layout, dtype) => {
      const array = stored(make(), layout, dtype);
      const rep = toRepresentation(array, layout, 'nhwc');
      const source = reduceToSource(rep, 'flatten');
      expect('data' in source).toBe(false); // a CentringSource, not a Matrix
      const fast = svccaFactor(source, keep99, epsilon);
      expect(denseMatrixBuilt(rep)).toBe(false);
      const matrix = previousMatrix(array.shape, array.data, layout);
      expectSameFactor(fast, svccaFactor(matrix, keep99, epsilon));
      // … and that of the copy path (centred copy, chunked Gram, whole projection), which never holds the matrix resident.
      const step = svdStepTop(matrix, keep99);
      expectSameFactor(fast, svccaFactorFromStep(step, step.k, epsilon));
    });
  });

  it('without WebAssembly (plain-JS kernels, the scratch copy) too', () => {
    setWasmProductsEnabled(false);
    for (const [layout, dtype] of VARIANTS) {
      const array = stored(decaying(37, 40, 600, 2), layout, dtype);
      const rep = toRepresentation(array, layout, 'nhwc');
      const fast = svccaFactor(reduceToSource(rep, 'flatten'), keep99, epsilon);
      expect(denseMatrixBuilt(rep)).toBe(false);
      expectSameFactor(fast, svccaFactor(previousMatrix(array.shape, array.data, layout), keep99, epsilon));
    }
  });

  it('a representation whose matrix was already built is read from the matrix', () => {
    const rep = toRepresentation(stored(randn(38, 10, 200), 'datapoints-first', 'float32'), 'datapoints-first', 'nhwc');
    if (rep.kind !== 'dense') throw new Error('dense expected');
    const x = rep.x;
    expect(reduceToSource(rep, 'flatten')).toBe(x);
  });
});

function withConstantRow(x: Matrix, row: number): Matrix {
  for (let j = 0; j < x.cols; j++) x.data[row * x.cols + j] = 0.25;
  return x;
}
