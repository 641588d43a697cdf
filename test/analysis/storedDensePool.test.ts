// A dense layer kept as stored (math/reduce.ts) through the engine's factorize and the CPU pool:
// SVCCA factors it without building its float64 matrix, in-process and in a worker (which receives
// the stored float32 array, in shared memory in Node), bit for bit the factor of that matrix; the
// other metrics build the matrix and give what they gave. Shapes: n neurons × m datapoints; the
// stored arrays are (m, n) datapoints-first float32 like the benchmark's, or (n, m) float64.
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/analysis/backend';
import { shapeOnly } from '../../src/analysis/factorCache';
import { factorize } from '../../src/analysis/metrics';
import { createNodePool } from '../../src/analysis/pool/node';
import { representationMessage, representationOf } from '../../src/analysis/pool/protocol';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Metric } from '../../src/analysis/types';
import { transpose, type Matrix } from '../../src/math/matrix';
import { denseMatrixBuilt, toRepresentation, type Representation } from '../../src/math/reduce';
import { decaying } from '../helpers/data';

const options = (metric: Metric): AnalysisOptions => ({ ...DEFAULT_OPTIONS, backend: 'cpu', metric });
const pool = createNodePool(2);
afterAll(() => pool.close());

/** x (n × m) stored datapoints-first as float32, and the float64 matrix the engine used to make of it. */
function storedF32(x: Matrix): { rep: Representation; matrix: Representation } {
  const data = Float32Array.from(transpose(x).data);
  const rep = toRepresentation({ shape: [x.cols, x.rows], data }, 'datapoints-first', 'nhwc');
  const widened: Matrix = {
    rows: x.rows,
    cols: x.cols,
    data: Float64Array.from(transpose({ rows: x.cols, cols: x.rows, data: Float64Array.from(data) }).data),
  };
  return { rep, matrix: { kind: 'dense', x: widened } };
}

describe('factorize on a stored dense layer', () => {
  it('SVCCA: bit for bit the factor of the float64 matrix, the matrix never built', () => {
    const { rep, matrix } = storedF32(decaying(41, 60, 900, 2));
    const fast = factorize(rep, options('svcca'), false);
    expect(denseMatrixBuilt(rep)).toBe(false);
    expect(fast).toEqual(factorize(matrix, options('svcca'), false));
    // The cache's shape-only copy reads the sizes without building it either.
    expect(shapeOnly(rep)).toEqual({ kind: 'dense', x: { rows: 60, cols: 900, data: new Float64Array(0) } });
    expect(denseMatrixBuilt(rep)).toBe(false);
  });

  it.each<[Metric, string, number, number]>([
    ['cca', 'narrow', 20, 300],
    ['pwcca', 'narrow', 20, 300],
    ['cca', 'wide (the m × m Gram)', 90, 40],
    ['pwcca', 'wide (the m × m Gram)', 90, 40],
  ])('%s, %s: the same factor as from the matrix, the matrix never built', (metric, _, n, m) => {
    const { rep, matrix } = storedF32(decaying(42, n, m, 2));
    expect(factorize(rep, options(metric), false)).toEqual(factorize(matrix, options(metric), false));
    expect(denseMatrixBuilt(rep)).toBe(false);
  });

  it.each<[string, number, number]>([
    ['narrow (centred rows)', 20, 300],
    ['wide (the m × m kernel, from the datapoint-major rows)', 90, 40],
  ])('CKA, %s: the same factor as from the matrix, the matrix never built', (_, n, m) => {
    const { rep, matrix } = storedF32(decaying(42, n, m, 2));
    expect(factorize(rep, options('cka'), false)).toEqual(factorize(matrix, options('cka'), false));
    expect(denseMatrixBuilt(rep)).toBe(false);
  });

  it('the DFT (a dense layer as the DC term) builds it and gives the same spectrum', () => {
    const { rep, matrix } = storedF32(decaying(43, 12, 200, 2));
    expect(factorize(rep, options('svcca'), true)).toEqual(factorize(matrix, options('svcca'), true));
  });
});

describe('the CPU pool receives the stored array', () => {
  it('in shared memory where the pool is shared, its own bytes otherwise, never the float64 matrix', () => {
    const big = new Float32Array(1000).map((_, i) => i);
    const view = big.subarray(100, 100 + 6 * 50); // a member of a bundle: a view of a larger buffer
    const rep = toRepresentation({ shape: [50, 6], data: view }, 'datapoints-first', 'nhwc');
    const shared = representationMessage(rep, true);
    const copied = representationMessage(rep, false);
    for (const [message, inShared] of [
      [shared, true],
      [copied, false],
    ] as const) {
      if (message.kind !== 'stored-dense') throw new Error('stored-dense expected');
      expect(message.stored.data).toBeInstanceOf(Float32Array);
      expect(message.stored.data.buffer instanceof SharedArrayBuffer).toBe(inShared);
      expect(message.stored.data.buffer.byteLength).toBe(6 * 50 * 4);
      expect(Array.from(message.stored.data)).toEqual(Array.from(view));
      const received = representationOf(message);
      expect(received.kind === 'dense' && received.x).toEqual(rep.kind === 'dense' && rep.x);
    }
    // A buffer the pool keeps between calls carries it when given (only the array's length of it is read).
    const kept = new SharedArrayBuffer(4096);
    const staged = representationMessage(rep, true, () => kept);
    expect(staged.kind === 'stored-dense' && staged.stored.data.buffer).toBe(kept);
    expect(staged.kind === 'stored-dense' && Array.from(staged.stored.data)).toEqual(Array.from(view));
    // A float64 literal goes as it is.
    const literal: Representation = { kind: 'dense', x: { rows: 1, cols: 3, data: new Float64Array([1, 2, 3]) } };
    expect(representationMessage(literal, true)).toBe(literal);
  });

  it('a pooled SVCCA factorisation equals the in-process one exactly, and builds no matrix here', async () => {
    const sides = [storedF32(decaying(44, 80, 1200, 2)), storedF32(decaying(45, 64, 1200, 2))];
    const pooled = await pool.factorize(
      sides.map((s) => s.rep),
      options('svcca'),
      false,
    );
    expect(sides.every((s) => !denseMatrixBuilt(s.rep))).toBe(true);
    const single = await cpuBackend.factorize(
      sides.map((s) => s.matrix),
      options('svcca'),
      false,
    );
    expect(byValue(pooled)).toEqual(byValue(single));
  });

  it('consecutive calls reuse the shared buffers, larger layers and other values included, and stay exact', async () => {
    for (const [seed, n, m] of [
      [46, 30, 700],
      [47, 50, 1500], // larger than the kept buffers: grown
      [48, 20, 400], // smaller: a kept buffer, partly read
      [49, 20, 400],
    ]) {
      const sides = [storedF32(decaying(seed, n, m, 2)), storedF32(decaying(seed + 100, n + 3, m, 2)), storedF32(decaying(seed + 200, n, m, 2))];
      const pooled = await pool.factorize(
        sides.map((s) => s.rep),
        options('svcca'),
        false,
      );
      const single = await cpuBackend.factorize(
        sides.map((s) => s.matrix),
        options('svcca'),
        false,
      );
      expect(byValue(pooled)).toEqual(byValue(single));
    }
  });
});

/** Factors as JSON with every typed array as its values (shared-memory arrays compare by value, not by their buffer's kind). */
function byValue(factors: unknown[]): string[] {
  return factors.map((f) => JSON.stringify(f, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)));
}
