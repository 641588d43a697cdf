// A conv layer kept as stored (math/reduce.ts storedConv): the DFT reads the stored array itself
// (NCHW or NHWC, float32 or float64), in-process and in a CPU pool worker (which receives the stored
// array, not the NHWC float64 copy), bit for bit what it gave from that copy, which is never built;
// the other reductions build the copy on first read and give what they gave. Conv shapes:
// (N, C, H, W) stored NCHW, (N, H, W, C) stored NHWC; the copy is NHWC.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { layerVarianceSpectrum } from '../../src/analysis/dimensionality';
import { shapeOnly } from '../../src/analysis/factorCache';
import { factorize, type Factor } from '../../src/analysis/metrics';
import { createNodePool } from '../../src/analysis/pool/node';
import { representationMessage, representationOf } from '../../src/analysis/pool/protocol';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import { openBundlePath } from '../../src/io/node';
import { ccaFactor, svccaFactor, varianceSpectrum } from '../../src/math/cca';
import { dft2 } from '../../src/math/dft';
import { randn } from '../../src/math/random';
import { convDataBuilt, flattenDatapointMajor, reduceToMatrix, toRepresentation, type Conv, type Representation } from '../../src/math/reduce';

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

  // The k99 pass reads a wide flattened conv layer datapoint-major (dimensionality.ts
  // layerVarianceSpectrum): the same spectrum as varianceSpectrum(reduceToMatrix), to the bit.
  it('the k99 pass’s spectrum of a flattened conv layer read datapoint-major is varianceSpectrum of the flattened matrix, bit for bit', () => {
    // Wide (C·H·W = 90 features > 40 datapoints: the datapoint-major path) and tall (4 features,
    // 60 datapoints: the ordinary path), each stored NCHW float32, NHWC float32 and float64, and as
    // the NHWC float64 copy alone.
    const cases: [string, number, number, number, number][] = [
      ['wide', n, c, h, w],
      ['tall', 60, 2, 2, 1],
    ];
    for (const [label, m, channels, height, width] of cases) {
      const nchw = Float32Array.from(randn(11, 1, m * channels * height * width).data, (v, k) => v * (1 + (k % 7)) + (k % 3));
      const nhwc = new Float64Array(nchw.length);
      for (let i = 0; i < m; i++)
        for (let ch = 0; ch < channels; ch++)
          for (let p = 0; p < height * width; p++) nhwc[(i * height * width + p) * channels + ch] = nchw[(i * channels + ch) * height * width + p];
      const literal: Representation = { kind: 'conv', conv: { datapoints: m, height, width, channels, data: nhwc } };
      const expected = varianceSpectrum(reduceToMatrix(literal, 'flatten'));
      expect(expected.length, label).toBe(Math.min(m, channels * height * width));
      const reps: [string, Representation][] = [
        ['nchw float32', toRepresentation({ shape: [m, channels, height, width], data: nchw }, 'datapoints-first', 'nchw')],
        ['nhwc float32', toRepresentation({ shape: [m, height, width, channels], data: Float32Array.from(nhwc) }, 'datapoints-first', 'nhwc')],
        ['nhwc float64', toRepresentation({ shape: [m, height, width, channels], data: Float64Array.from(nhwc) }, 'datapoints-first', 'nhwc')],
        ['the NHWC copy', { kind: 'conv', conv: { ...literal.conv, data: Float64Array.from(nhwc) } }],
      ];
      for (const [stored, rep] of reps) {
        expect(layerVarianceSpectrum(rep, 'flatten'), `${label}, ${stored}`).toEqual(expected);
        if (stored !== 'the NHWC copy') expect(convDataBuilt(convOf(rep)), `${label}, ${stored}`).toBe(false);
      }
    }
    // The datapoint-major matrix is the flattened one transposed, from either stored order.
    const { nchw, nhwc } = layer(12);
    const flat = reduceToMatrix({ kind: 'conv', conv: nhwc }, 'flatten');
    const rows = flattenDatapointMajor(convOf(toRepresentation({ shape: [n, c, h, w], data: nchw }, 'datapoints-first', 'nchw')));
    expect([rows.rows, rows.cols]).toEqual([n, c * h * w]);
    // SVCCA's factor of a wide flattened layer takes the same rows (centred, from the source): bit
    // for bit the factor of the flattened matrix, the NHWC copy never built.
    const rep = toRepresentation({ shape: [n, c, h, w], data: nchw }, 'datapoints-first', 'nchw');
    const fromSource = factorize(rep, { ...options, convReduction: 'flatten' }, false);
    const fromMatrix = svccaFactor(flat, options.keep, options.epsilon);
    if (fromSource.kind !== 'svcca') throw new Error(`a ${fromSource.kind} factor`);
    expect(convDataBuilt(convOf(rep))).toBe(false);
    expect(fromSource.factor.spectrum).toEqual(fromMatrix.spectrum);
    expect(fromSource.factor.k).toBe(fromMatrix.k);
    expect(Array.from(fromSource.factor.cca.z.data)).toEqual(Array.from(fromMatrix.cca.z.data));
    for (let f = 0; f < flat.rows; f++)
      for (let i = 0; i < n; i++) if (rows.data[i * flat.rows + f] !== flat.data[f * n + i]) throw new Error(`(${i}, ${f}) differs`);
  });

  it('CCA’s factor of a wide flattened layer from its datapoint-major rows is bit for bit the flattened matrix’s, dead features squeezed out (synthetic and real)', async () => {
    const cca: AnalysisOptions = { ...options, metric: 'cca', convReduction: 'flatten' };
    const cases: [string, number, number, number, number, Float32Array][] = [];
    // 40 datapoints × (3 channels × 5 × 6): one channel constant (30 dead features, 60 kept > 40: the
    // Gram of the squeezed rows), then two (30 kept ≤ 40: the kept covariance).
    for (const dead of [1, 2]) {
      const { nchw } = layer(13);
      for (let i = 0; i < n; i++) for (let ch = 0; ch < dead; ch++) nchw.fill(0.5, (i * c + ch) * h * w, (i * c + ch + 1) * h * w);
      cases.push([`synthetic, ${dead} dead channel(s)`, n, c, h, w, nchw]);
    }
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const bundle = await openBundlePath(join(root, 'test/fixtures/real/digits-cnn.npz'));
    const conv1 = bundle.entries.find((e) => e.shape.length === 4 && e.run === bundle.runs[0] && e.layer === 'conv1')!;
    const array = await conv1.load();
    const [, channels, height, width] = array.shape;
    cases.push([
      'digits CNN conv1, first 100 digits',
      100,
      channels,
      height,
      width,
      Float32Array.from(array.data.subarray(0, 100 * channels * height * width)),
    ]);
    let pruned = 0;
    for (const [label, m, ch, hh, ww, data] of cases) {
      const rep = toRepresentation({ shape: [m, ch, hh, ww], data }, 'datapoints-first', 'nchw');
      const fromSource = factorize(rep, cca, false);
      expect(convDataBuilt(convOf(rep)), label).toBe(false);
      const fromMatrix = ccaFactor(
        reduceToMatrix(toRepresentation({ shape: [m, ch, hh, ww], data }, 'datapoints-first', 'nchw'), 'flatten'),
        cca.epsilon,
        false,
      );
      if (fromSource.kind !== 'cca') throw new Error(`a ${fromSource.kind} factor`);
      expect(ch * hh * ww, label).toBeGreaterThan(m);
      expect(fromSource.factor, label).toEqual(fromMatrix);
      if (fromMatrix.dropped > 0) pruned++;
    }
    expect(pruned, 'cases with dead features').toBeGreaterThanOrEqual(2);
  });

  it('the same on a real layer: the digits CNN’s conv layers, cut to fewer datapoints than features', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const bundle = await openBundlePath(join(root, 'test/fixtures/real/digits-cnn.npz'));
    const entries = bundle.entries.filter((e) => e.shape.length === 4 && e.run === bundle.runs[0]);
    expect(entries.length).toBeGreaterThan(0);
    let checked = 0;
    for (const entry of [entries[0], entries[entries.length - 1]]) {
      const array = await entry.load();
      const [, channels, height, width] = array.shape;
      const m = channels * height * width - 28; // wide: 100 datapoints of 128 features for conv1
      const data = Float32Array.from(array.data.subarray(0, m * channels * height * width));
      const rep = toRepresentation({ shape: [m, channels, height, width], data }, 'datapoints-first', 'nchw');
      const expected = varianceSpectrum(reduceToMatrix(rep, 'flatten'));
      // Real activations: rank-deficient (ReLU zeros) and ill-conditioned, the case where a changed order of sums would show.
      expect(expected[expected.length - 1] / expected[0], entry.source).toBeLessThan(1e-3);
      expect(
        layerVarianceSpectrum(toRepresentation({ shape: [m, channels, height, width], data }, 'datapoints-first', 'nchw'), 'flatten'),
        entry.source,
      ).toEqual(expected);
      checked++;
    }
    expect(checked).toBe(2);
  });
});
