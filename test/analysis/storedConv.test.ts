// A conv layer kept as stored (math/reduce.ts storedConv): the DFT reads the stored array itself
// (NCHW or NHWC, float32 or float64), in-process and in a CPU pool worker (which receives the stored
// array, not the NHWC float64 copy), bit for bit what it gave from that copy, which is never built;
// the other reductions build the copy on first read and give what they gave. Conv shapes:
// (N, C, H, W) stored NCHW, (N, H, W, C) stored NHWC; the copy is NHWC.
import { afterAll, describe, expect, it } from 'vitest';
import { shapeOnly } from '../../src/analysis/factorCache';
import { factorize, type Factor } from '../../src/analysis/metrics';
import { createNodePool } from '../../src/analysis/pool/node';
import { representationMessage, representationOf } from '../../src/analysis/pool/protocol';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import { dft2 } from '../../src/math/dft';
import { randn } from '../../src/math/random';
import { convDataBuilt, reduceToMatrix, toRepresentation, type Conv, type Representation } from '../../src/math/reduce';

const options: AnalysisOptions = { ...DEFAULT_OPTIONS, backend: 'cpu', metric: 'svcca' };
const pool = createNodePool(2);
afterAll(() => pool.close());

const [n, c, h, w] = [40, 3, 5, 6];

/** The same activations stored NCHW as float32, and the NHWC float64 conv the engine read before. */
function layer(seed: number): { nchw: Float32Array; nhwc: Conv } {
  const nchw = Float32Array.from(randn(seed, 1, n * c * h * w).data);
  const data = new Float64Array(n * h * w * c);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[((i * h + y) * w + x) * c + ch] = nchw[((i * c + ch) * h + y) * w + x];
  return { nchw, nhwc: { datapoints: n, height: h, width: w, channels: c, data } };
}

const convOf = (rep: Representation): Conv => {
  if (rep.kind !== 'conv') throw new Error('not a conv layer');
  return rep.conv;
};

describe('a conv layer kept as stored', () => {
  it('its NHWC float64 data, once read, is the transposed stored array (NCHW and NHWC stores, float32 and float64)', () => {
    const { nchw, nhwc } = layer(1);
    const fromNchw = convOf(toRepresentation({ shape: [n, c, h, w], data: nchw }, 'datapoints-first', 'nchw'));
    expect(convDataBuilt(fromNchw)).toBe(false);
    expect(Array.from(fromNchw.data)).toEqual(Array.from(nhwc.data));
    expect(convDataBuilt(fromNchw)).toBe(true);
    const fromNhwc = convOf(toRepresentation({ shape: [n, h, w, c], data: Float64Array.from(nhwc.data) }, 'datapoints-first', 'nhwc'));
    expect(Array.from(fromNhwc.data)).toEqual(Array.from(nhwc.data));
    // A sequence (N, T, D) is H = T, W = 1.
    const sequence = convOf(toRepresentation({ shape: [n, 7, 2], data: Float32Array.from(randn(2, 1, n * 14).data) }, 'datapoints-first', 'nchw'));
    expect([sequence.height, sequence.width, sequence.channels, sequence.data.length]).toEqual([7, 1, 2, n * 14]);
  });

  it('the DFT reads the stored array: the spectrum bit for bit, the NHWC copy never built', () => {
    const { nchw, nhwc } = layer(3);
    const expected = dft2(nhwc);
    for (const [shape, data, order] of [
      [[n, c, h, w], nchw, 'nchw'],
      [[n, h, w, c], Float32Array.from(nhwc.data), 'nhwc'],
    ] as const) {
      const conv = convOf(toRepresentation({ shape, data }, 'datapoints-first', order));
      const spectrum = dft2(conv);
      expect(convDataBuilt(conv), order).toBe(false);
      expect(Array.from(spectrum.re), order).toEqual(Array.from(expected.re));
      expect(Array.from(spectrum.im), order).toEqual(Array.from(expected.im));
    }
  });

  it('factorize through the DFT, in-process and on the pool (the stored array in the message), as from the NHWC copy; the cache’s shape-only copy builds nothing', async () => {
    const layers = [layer(5), layer(6)];
    const reps = layers.map(({ nchw }) => toRepresentation({ shape: [n, c, h, w], data: nchw }, 'datapoints-first', 'nchw'));
    const literal = layers.map(({ nhwc }): Representation => ({ kind: 'conv', conv: nhwc }));
    const spectrumOf = (f: Factor) => {
      if (f.kind !== 'dft') throw new Error(`a ${f.kind} factor`);
      return [Array.from(f.spectrum.re), Array.from(f.spectrum.im)];
    };
    const expected = literal.map((rep) => spectrumOf(factorize(rep, options, true)));
    expect(spectrumOf(factorize(reps[0], options, true))).toEqual(expected[0]);
    const message = representationMessage(reps[0], true);
    expect(message.kind).toBe('stored-conv');
    expect(convOf(representationOf(message)).stored?.order).toBe('nchw');
    const pooled = await pool.factorize(reps, options, true);
    expect(pooled.map(spectrumOf)).toEqual(expected);
    expect(reps.map((rep) => convDataBuilt(convOf(rep)))).toEqual([false, false]);
    expect(shapeOnly(reps[1])).toEqual({ kind: 'conv', conv: { datapoints: n, height: h, width: w, channels: c, data: new Float64Array(0) } });
    expect(convDataBuilt(convOf(reps[1]))).toBe(false);
  });

  it('flatten, meanpool and positions read the stored array too, bit for bit the reductions of the NHWC copy', () => {
    const { nchw, nhwc } = layer(7);
    for (const reduction of ['flatten', 'meanpool', 'positions'] as const) {
      const expected = Array.from(reduceToMatrix({ kind: 'conv', conv: nhwc }, reduction).data);
      for (const [shape, data, order] of [
        [[n, c, h, w], nchw, 'nchw'],
        [[n, h, w, c], Float32Array.from(nhwc.data), 'nhwc'],
      ] as const) {
        const rep = toRepresentation({ shape, data }, 'datapoints-first', order);
        expect(Array.from(reduceToMatrix(rep, reduction).data), `${reduction}, ${order}`).toEqual(expected);
        expect(convDataBuilt(convOf(rep)), `${reduction}, ${order}`).toBe(false);
      }
    }
    // flatten's features are ordered (h, w, c): feature (y·W + x)·C + ch of datapoint i.
    const flat = reduceToMatrix({ kind: 'conv', conv: nhwc }, 'flatten');
    const [i, y, x, ch] = [7, 2, 4, 1];
    expect(flat.data[((y * w + x) * c + ch) * n + i]).toBe(nchw[((i * c + ch) * h + y) * w + x]);
  });
});
