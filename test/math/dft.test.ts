// Conv layers through the DFT. Conv tensors are NHWC (datapoints, height, width, channels).
import { describe, expect, it } from 'vitest';
import { cca, ccaFromFactors, chooseK, svcca, svccaFactorFromStep, svdStep } from '../../src/math/cca';
import { dft2, dftSimilarity, embeddedBlock, primeSideFactors, rememberSideFactors, sharedFrequencies, spectrumValue } from '../../src/math/dft';
import { randn } from '../../src/math/random';
import { denseAsConv, reduceToMatrix, type Conv } from '../../src/math/reduce';
import { TOL, expectClose } from '../helpers/tolerance';

/** A conv layer of random values: n datapoints × H × W × C. */
function randomConv(seed: number, n: number, h: number, w: number, c: number): Conv {
  return { datapoints: n, height: h, width: w, channels: c, data: randn(seed, 1, n * h * w * c).data };
}

/** A dataset holding every circular shift of each of n0 random images (H × W × C). */
function allShifts(seed: number, n0: number, h: number, w: number, c: number): Conv {
  const base = randn(seed, 1, n0 * h * w * c).data;
  const n = n0 * h * w;
  const data = new Float64Array(n * h * w * c);
  let i = 0;
  for (let img = 0; img < n0; img++)
    for (let dy = 0; dy < h; dy++)
      for (let dx = 0; dx < w; dx++, i++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            for (let ch = 0; ch < c; ch++) data[((i * h + y) * w + x) * c + ch] = base[((img * h + ((y + dy) % h)) * w + ((x + dx) % w)) * c + ch];
  return { datapoints: n, height: h, width: w, channels: c, data };
}

/** A second layer computed from the first by a fixed per-position channel mixing + nonlinearity + noise:
 *  it commutes with circular shifts only if applied the same way at every position, as a conv layer does. */
function convLayerOf(input: Conv, outChannels: number, seed: number): Conv {
  const { datapoints: n, height: h, width: w, channels: c } = input;
  const weights = randn(seed, outChannels, c * 3).data; // 1×3 kernel along W, circular
  const data = new Float64Array(n * h * w * outChannels);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let o = 0; o < outChannels; o++) {
          let s = 0;
          for (let k = 0; k < 3; k++)
            for (let ch = 0; ch < c; ch++) s += weights[(o * 3 + k) * c + ch] * input.data[((i * h + y) * w + ((x + k) % w)) * c + ch];
          data[((i * h + y) * w + x) * outChannels + o] = Math.tanh(s);
        }
  return { datapoints: n, height: h, width: w, channels: outChannels, data };
}

describe('2-D DFT', () => {
  it('matches the definition F[u,v] = Σ x[h,w]·e^{−2πi(uh/H + vw/W)} on odd and even sizes', () => {
    const conv: Conv = { datapoints: 2, height: 3, width: 4, channels: 2, data: randn(1, 1, 2 * 3 * 4 * 2).data };
    const s = dft2(conv);
    for (const [i, u, v, c] of [
      [0, 0, 0, 0],
      [1, 2, 3, 1],
      [0, 1, 2, 1],
      [1, 2, 1, 0],
    ]) {
      let re = 0,
        im = 0;
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 4; x++) {
          const value = conv.data[((i * 3 + y) * 4 + x) * 2 + c];
          const angle = -2 * Math.PI * ((u * y) / 3 + (v * x) / 4);
          re += value * Math.cos(angle);
          im += value * Math.sin(angle);
        }
      expectClose(spectrumValue(s, i, u, v, c), [re, im], TOL.f64Identity, `F[${i},${u},${v},${c}]`);
    }
  });
  it('every frequency of every channel is the definition, on sizes that run the WebAssembly products in several chunks', () => {
    // 7 × 6 (odd H, even W: the mirrored half of W), 6 × 5 (odd W), 1 × 9 and 8 × 1 (one axis of size 1);
    // 600 datapoints of 8·8·16 float64 values (8 KiB each) are two chunks of the 4 MB the input is cut
    // into (512 + 88 datapoints), so the last datapoint checked lies in the second one.
    for (const [n, h, w, c] of [
      [600, 8, 8, 16],
      [70, 7, 6, 48],
      [40, 6, 5, 3],
      [9, 1, 9, 2],
      [5, 8, 1, 4],
    ]) {
      const conv: Conv = { datapoints: n, height: h, width: w, channels: c, data: randn(n + h, 1, n * h * w * c).data };
      const s = dft2(conv);
      let scale = 0;
      for (const x of conv.data) scale = Math.max(scale, Math.abs(x));
      let worst = 0;
      // Every (u, v, c) of a few datapoints, the first and last included.
      for (const i of [0, 1, Math.floor(n / 2), n - 1])
        for (let u = 0; u < h; u++)
          for (let v = 0; v < w; v++)
            for (let ch = 0; ch < c; ch++) {
              let re = 0;
              let im = 0;
              for (let y = 0; y < h; y++)
                for (let x = 0; x < w; x++) {
                  const value = conv.data[((i * h + y) * w + x) * c + ch];
                  const angle = -2 * Math.PI * (((u * y) % h) / h + ((v * x) % w) / w);
                  re += value * Math.cos(angle);
                  im += value * Math.sin(angle);
                }
              const [gotRe, gotIm] = spectrumValue(s, i, u, v, ch);
              worst = Math.max(worst, Math.abs(gotRe - re), Math.abs(gotIm - im));
            }
      // Relative to the largest |F| possible, Σ|x| over the H·W positions.
      expect(worst / (scale * h * w), `${n} × ${h} × ${w} × ${c}`).toBeLessThan(TOL.f64Reordered);
    }
  });
});

describe('embedded blocks', () => {
  it('every row sums to zero over its 2N columns, stored and conjugate frequencies alike: SVCCA’s step takes them as centred', () => {
    const conv: Conv = { datapoints: 50, height: 5, width: 6, channels: 3, data: randn(5, 1, 50 * 5 * 6 * 3).data.map((v) => v + 2) };
    const s = dft2(conv);
    for (let u = 0; u < 5; u++)
      for (let v = 0; v < 6; v++) {
        const block = embeddedBlock(s, u, v);
        expect([block.rows, block.cols]).toEqual([6, 100]);
        let scale = 0;
        for (const x of block.data) scale = Math.max(scale, Math.abs(x));
        for (let r = 0; r < block.rows; r++) {
          let sum = 0;
          for (let j = 0; j < block.cols; j++) sum += block.data[r * block.cols + j];
          expect(Math.abs(sum) / (scale * block.cols), `(${u}, ${v}) row ${r}`).toBeLessThan(TOL.f64Reordered);
        }
        // Re and Im of datapoint 7, channel 1: the spectrum's value less its mean over datapoints.
        let meanRe = 0;
        let meanIm = 0;
        for (let i = 0; i < 50; i++) {
          const [re, im] = spectrumValue(s, i, u, v, 1);
          meanRe += re / 50;
          meanIm += im / 50;
        }
        const [re7, im7] = spectrumValue(s, 7, u, v, 1);
        expectClose([block.data[1 * 100 + 7], block.data[(3 + 1) * 100 + 7]], [re7 - meanRe, im7 - meanIm], TOL.f64Reordered * 100, `(${u}, ${v})`);
      }
  });

  it('their SVD step by Householder + QL (what sideFactors runs) keeps what Jacobi keeps: spectrum, subspace and canonical correlations', () => {
    // 16 channels: 32 × 32 Grams, the size the engine's 'auto' hands to Jacobi. A real layer's
    // spectrum decays; the embedded one comes in equal pairs (a degenerate pair per complex value).
    const layer = (seed: number): Conv => {
      const conv = randomConv(seed, 300, 6, 6, 16);
      for (let i = 0; i < conv.data.length; i++) conv.data[i] *= 1 / (1 + (i % 16));
      return conv;
    };
    const [sa, sb] = [dft2(layer(80)), dft2(layer(81))];
    const keep = { kind: 'variance' as const, fraction: 0.99 };
    for (const [u, v] of [
      [0, 0],
      [1, 2],
      [3, 3],
    ]) {
      const a = embeddedBlock(sa, u, v);
      const b = embeddedBlock(sb, u, v);
      const [jacobi, qlStep] = (['auto', 'tridiagonal'] as const).map((solver) => svdStep(a, { centred: true, solver }));
      const largest = jacobi.spectrum[0];
      jacobi.spectrum.forEach((value, i) => expect(Math.abs(value - qlStep.spectrum[i]) / largest, `(${u}, ${v}) λ${i}`).toBeLessThan(TOL.f64Reordered));
      // Whole pairs, as the global rule keeps them (k complex directions are 2k real ones).
      const k = 2 * Math.ceil(chooseK(jacobi.spectrum, keep) / 2);
      expect(k).toBeGreaterThan(1);
      // The kept subspace: the projectors onto the top k eigenvectors (any basis of a degenerate pair).
      const projector = (rows: Float64Array) => {
        const out = new Float64Array(32 * 32);
        for (let r = 0; r < k; r++) for (let i = 0; i < 32; i++) for (let j = 0; j < 32; j++) out[i * 32 + j] += rows[r * 32 + i] * rows[r * 32 + j];
        return out;
      };
      const [pj, pq] = [projector(jacobi.vectors.data), projector(qlStep.vectors.data)];
      expect(Math.max(...pj.map((x, i) => Math.abs(x - pq[i]))), `(${u}, ${v}) projector`).toBeLessThan(TOL.f64Reordered);
      // SVCCA's canonical correlations through either step.
      const other = svccaFactorFromStep(svdStep(b, { centred: true }), k, 1e-10).cca;
      const [rj, rq] = [jacobi, qlStep].map((step) => ccaFromFactors(svccaFactorFromStep({ ...step, centered: a }, k, 1e-10).cca, other).rho);
      expectClose(rq, rj, TOL.f64Reordered, `(${u}, ${v}) ρ`);
    }
  });
});

describe('shared frequencies', () => {
  it('cover every frequency once, conjugate pairs counted twice', () => {
    for (const [h, w] of [
      [4, 4],
      [3, 5],
      [6, 2],
      [1, 1],
    ]) {
      const f = sharedFrequencies({ height: h, width: w }, { height: h, width: w });
      expect(
        f.reduce((s, x) => s + x.multiplicity, 0),
        `${h}×${w}`,
      ).toBe(h * w);
    }
  });
  it('crop to the smaller layer’s low frequencies in FFT ordering', () => {
    const f = sharedFrequencies({ height: 8, width: 8 }, { height: 4, width: 4 });
    expect(f.reduce((s, x) => s + x.multiplicity, 0)).toBe(16);
    const minus2 = f.find((x) => x.fh === -2 && x.fw === 0)!;
    expect(minus2.indexA).toEqual([6, 0]); // −2 mod 8
    expect(minus2.indexB).toEqual([2, 0]); // −2 mod 4 (the Nyquist row of the small layer)
    // In the 8×8 layer −2 and +2 differ, and +2 is not shared: no conjugate partner.
    expect(minus2.multiplicity).toBe(1);
  });
});

describe('Theorem 1 of the paper', () => {
  for (const [h, w] of [
    [3, 4],
    [4, 4],
    [5, 3],
  ]) {
    it(`on all circular shifts, per-frequency CCA equals CCA of the flattened layers (${h}×${w})`, () => {
      const a = allShifts(10 + h, 10, h, w, 2);
      const b = convLayerOf(a, 3, 20 + w);
      const flat = cca(reduceToMatrix({ kind: 'conv', conv: a }, 'flatten'), reduceToMatrix({ kind: 'conv', conv: b }, 'flatten'), 0);
      const viaDft = dftSimilarity(dft2(a), dft2(b), { metric: 'cca', keep: { kind: 'variance', fraction: 0.99 }, epsilon: 0 });
      expect(viaDft.rho).toHaveLength(flat.rho.length);
      expectClose(viaDft.rho, flat.rho, TOL.f64Identity, 'ρ union vs flattened ρ');
      expectClose(viaDft.mean, flat.mean, TOL.f64Identity, 'mean');
    });
  }
});

describe('DFT similarity', () => {
  it('SVCCA through the DFT of a layer with itself is 1, with the 99% rule applied globally', () => {
    // Channels with very different scales, so that 99% of the variance needs fewer than all 36 directions.
    const data = randn(30, 1, 200 * 36).data.map((v, i) => v * [1, 0.3, 0.01][i % 3]);
    const a: Conv = { datapoints: 200, height: 4, width: 3, channels: 3, data };
    const r = dftSimilarity(dft2(a), dft2(a), { metric: 'svcca', keep: { kind: 'variance', fraction: 0.99 }, epsilon: 0 });
    expectClose(r.mean, 1, TOL.f64Identity, 'self');
    // Global rule: the kept count is less than all 36 complex directions, and the same on both sides.
    expect(r.kept[0]).toBeLessThan(36);
    expect(r.kept[0]).toBe(r.kept[1]);
    const total = r.spectra![0].reduce((s, v) => s + v, 0);
    const keptMass = r.spectra![0].slice(0, r.kept[0]).reduce((s, v) => s + v, 0);
    expect(keptMass / total).toBeGreaterThanOrEqual(0.99 - 1e-12);
  });
  it('a dense layer against a conv layer compares with the DC term only', () => {
    const conv: Conv = { datapoints: 300, height: 2, width: 2, channels: 3, data: randn(40, 1, 300 * 12).data };
    const dense = randn(41, 4, 300);
    const r = dftSimilarity(dft2(conv), dft2(denseAsConv(dense)), { metric: 'cca', keep: { kind: 'variance', fraction: 0.99 }, epsilon: 0 });
    expect(r.frequencies).toBe(1);
    // The DC term of the conv layer is its spatial sum: CCA with the mean-pooled layer.
    const pooled = reduceToMatrix({ kind: 'conv', conv }, 'meanpool');
    expectClose(r.rho, cca(pooled, dense, 0).rho, TOL.f64Identity, 'DC term');
  });
  it('a 1×1 "conv" through the DFT equals SVCCA of the dense layer', () => {
    const x = randn(50, 6, 400);
    const y = randn(51, 5, 400);
    const r = dftSimilarity(dft2(denseAsConv(x)), dft2(denseAsConv(y)), { metric: 'svcca', keep: { kind: 'variance', fraction: 0.99 }, epsilon: 1e-10 });
    expectClose(r.mean, svcca(x, y, { kind: 'variance', fraction: 0.99 }, 1e-10).mean, TOL.f64Identity, 'svcca');
  });
  it("a layer's per-frequency factors, kept with its spectrum, give the same numbers as fresh ones for every partner and option", () => {
    const conv = (seed: number, h: number, w: number, c: number) => randomConv(seed, 150, h, w, c);
    const a = dft2(conv(60, 5, 4, 3));
    const partners = [dft2(conv(61, 3, 2, 4)), dft2(conv(62, 5, 4, 2)), dft2(conv(63, 1, 1, 5))];
    const settings = [
      { metric: 'svcca' as const, keep: { kind: 'variance' as const, fraction: 0.99 }, epsilon: 1e-10 },
      { metric: 'svcca' as const, keep: { kind: 'dims' as const, k: 2 }, epsilon: 1e-10 },
      { metric: 'cca' as const, keep: { kind: 'variance' as const, fraction: 0.99 }, epsilon: 1e-6 },
    ];
    for (const options of settings) {
      for (const partner of partners) {
        const reused = dftSimilarity(a, partner, options);
        reused.spectra?.[0].reverse(); // a caller changing what it got must not change the memo
        const again = dftSimilarity(a, partner, options);
        const fresh = dftSimilarity(dft2(conv(60, 5, 4, 3)), { ...partner }, options);
        expect(again).toEqual(fresh);
      }
    }
  });
  it('factors primed on a copy of a spectrum (a pool worker) and kept with another copy are used, bit for bit, on either side of a pair', () => {
    const conv = (seed: number, h: number, w: number, c: number) => randomConv(seed, 120, h, w, c);
    const partners = [dft2(conv(71, 6, 5, 3)), dft2(conv(72, 3, 2, 4)), dft2(conv(73, 1, 1, 5))];
    for (const options of [
      { metric: 'svcca' as const, keep: { kind: 'variance' as const, fraction: 0.99 }, epsilon: 1e-10 },
      { metric: 'cca' as const, keep: { kind: 'variance' as const, fraction: 0.99 }, epsilon: 1e-6 },
    ]) {
      const expected = partners.map((p) => [dftSimilarity(dft2(conv(70, 6, 5, 3)), p, options), dftSimilarity({ ...p }, dft2(conv(70, 6, 5, 3)), options)]);
      // Primed in "another thread": a structured clone stands for the message both ways.
      const primed = structuredClone(primeSideFactors(structuredClone(dft2(conv(70, 6, 5, 3))), partners, options));
      // One list per distinct partner shape (the memo's limit is 4).
      expect(primed).toHaveLength(3);
      const kept = dft2(conv(70, 6, 5, 3));
      rememberSideFactors(kept, primed);
      // Zeroed after: were any block factored again here, the numbers would change.
      kept.re.fill(0);
      kept.im.fill(0);
      partners.forEach((p, k) => {
        expect(dftSimilarity(kept, p, options)).toEqual(expected[k][0]);
        expect(dftSimilarity({ ...p }, kept, options)).toEqual(expected[k][1]);
      });
    }
  });
});
