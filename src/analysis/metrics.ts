// One code path from a prepared representation to a similarity, for single pairs and for
// learning-dynamics grids alike: `factorize` does everything that depends on one representation
// (centring, SVD, whitening, DFT) once; `compareFactors` does the per-pair work.
//
// Shapes: dense representations are n neurons × m datapoints (row-major, see src/math/matrix.ts).

import { denseCanonicalShape, type CanonicalShape } from '../math/canonicalNull';
import { ccaFactor, ccaFromFactors, summarize, svccaFactor, type CcaFactor, type SvccaFactor } from '../math/cca';
import { ckaFactor, ckaFromFactors, type CkaFactor } from '../math/cka';
import { dft2, dftSimilarity, type Spectrum } from '../math/dft';
import { pwccaFromFactors } from '../math/pwcca';
import { denseAsConv, reduceToSource, type Representation } from '../math/reduce';
import type { AnalysisOptions } from './types';

export type Factor =
  | { kind: 'svcca'; factor: SvccaFactor; neurons: number; datapoints: number }
  | { kind: 'cca'; factor: CcaFactor; neurons: number; datapoints: number }
  | { kind: 'cka'; factor: CkaFactor; neurons: number; datapoints: number }
  | { kind: 'pwcca'; factor: CcaFactor; neurons: number; datapoints: number }
  | {
      kind: 'dft';
      spectrum: Spectrum;
      neurons: number;
      datapoints: number;
      /** Datapoints permuted (chance level, analysis/baseline.ts): new j ← old permutation[j]. */ permutation?: Int32Array;
    };

/** What one pair yields before it is dressed up as a PairResult. */
export interface PairNumbers {
  similarity: number;
  mean98: number | null;
  meanSquared: number | null;
  rho: number[];
  kept: [number, number];
  neurons: [number, number];
  dropped: [number, number];
  /** Directions treated as null by the pseudo-inverse (rank deficiency), per side. */
  clipped: [number, number];
  spectra: [number[], number[]] | null;
  /** Shared DFT frequencies (with conjugates), when the dft reduction ran. */
  frequencies: number | null;
  /** CCA and SVCCA (whole layers or through the DFT): the dimensions the Gaussian chance level
   *  depends on (src/math/canonicalNull.ts); absent for PWCCA and CKA. */
  canonical?: CanonicalShape;
  /** Set when a GPU backend handed this pair to the float64 path: why (a limit, layers wider than their datapoints, …). */
  fallback?: string;
  /** Set when the precision rule (src/analysis/precision.ts) sent a side to float64: per side, why (null: that side was fine on the GPU). */
  fallbackSides?: [string | null, string | null];
  /** Set when the precision rule sent this pair (not either side) to float64: why. */
  fallbackPair?: string;
}

/**
 * Per-representation work. `dft` says whether the pair this takes part in goes through the DFT
 * (then a dense layer is the DC term of a 1 × 1 conv layer). `withSpectrum`: a CKA factor also
 * keeps the variance spectrum of the Gram it forms (FactorPlan.factorSpectra; SVCCA's always does).
 */
export function factorize(rep: Representation, options: AnalysisOptions, dft: boolean, withSpectrum = false): Factor {
  if (dft) {
    const conv = rep.kind === 'conv' ? rep.conv : denseAsConv(rep.x);
    return { kind: 'dft', spectrum: dft2(conv), neurons: conv.channels * conv.height * conv.width, datapoints: conv.datapoints };
  }
  const reduction = options.convReduction === 'dft' ? 'flatten' : options.convReduction;
  if (options.metric === 'svcca') {
    // A stored dense layer is centred straight from its stored array (no float64 copy of it).
    const source = reduceToSource(rep, reduction);
    return { kind: 'svcca', factor: svccaFactor(source, options.keep, options.epsilon), neurons: source.rows, datapoints: source.cols };
  }
  if (options.metric === 'cka' || options.metric === 'cka-debiased') {
    // As SVCCA's: a wide layer's kernel is taken from its datapoint-major rows where it has them.
    const source = reduceToSource(rep, reduction);
    return { kind: 'cka', factor: ckaFactor(source, withSpectrum), neurons: source.rows, datapoints: source.cols };
  }
  // CCA and PWCCA: centred from where the values lie, as SVCCA's; only PWCCA's factor keeps its neurons (in NeuronCoordinates).
  const source = reduceToSource(rep, reduction);
  const base = { neurons: source.rows, datapoints: source.cols };
  switch (options.metric) {
    case 'cca':
      return { kind: 'cca', factor: ccaFactor(source, options.epsilon, false), ...base };
    case 'pwcca':
      return { kind: 'pwcca', factor: ccaFactor(source, options.epsilon, true), ...base };
  }
}

/** The Gaussian null's view of a CCA pair: whitened directions (Z's rows) and kept dimensions per side. */
const ccaShape = (x: CcaFactor, y: CcaFactor): CanonicalShape => denseCanonicalShape([x.z.rows, y.z.rows], [x.keptDims, y.keptDims], x.datapoints);

export function compareFactors(a: Factor, b: Factor, options: AnalysisOptions): PairNumbers {
  if (a.kind === 'dft' && b.kind === 'dft') {
    if (options.metric !== 'svcca' && options.metric !== 'cca') throw new Error('unreachable: dft with ' + options.metric);
    if (a.permutation) throw new Error('unreachable: the chance level permutes the second side only');
    const r = dftSimilarity(a.spectrum, b.spectrum, { metric: options.metric, keep: options.keep, epsilon: options.epsilon }, b.permutation);
    return {
      similarity: r.mean,
      mean98: r.mean98,
      meanSquared: r.meanSquared,
      rho: r.rho,
      kept: r.kept,
      neurons: r.neurons,
      dropped: r.dropped,
      clipped: [0, 0],
      spectra: r.spectra,
      frequencies: r.frequencies,
      canonical: r.canonical,
    };
  }
  if (a.kind === 'svcca' && b.kind === 'svcca') {
    const s = ccaFromFactors(a.factor.cca, b.factor.cca);
    return {
      similarity: s.mean,
      mean98: s.mean98,
      meanSquared: s.meanSquared,
      rho: s.rho,
      kept: [a.factor.cca.keptDims, b.factor.cca.keptDims],
      neurons: [a.neurons, b.neurons],
      dropped: [a.factor.cca.dropped, b.factor.cca.dropped],
      clipped: [a.factor.cca.clipped, b.factor.cca.clipped],
      spectra: [a.factor.spectrum, b.factor.spectrum],
      frequencies: null,
      canonical: ccaShape(a.factor.cca, b.factor.cca),
    };
  }
  if (a.kind === 'cca' && b.kind === 'cca') {
    const s = ccaFromFactors(a.factor, b.factor);
    return {
      similarity: s.mean,
      mean98: s.mean98,
      meanSquared: s.meanSquared,
      rho: s.rho,
      kept: [a.factor.keptDims, b.factor.keptDims],
      neurons: [a.neurons, b.neurons],
      dropped: [a.factor.dropped, b.factor.dropped],
      clipped: [a.factor.clipped, b.factor.clipped],
      spectra: null,
      frequencies: null,
      canonical: ccaShape(a.factor, b.factor),
    };
  }
  if (a.kind === 'cka' && b.kind === 'cka') {
    return {
      similarity: ckaFromFactors(a.factor, b.factor, options.metric === 'cka-debiased'),
      mean98: null,
      meanSquared: null,
      rho: [],
      kept: [a.neurons, b.neurons],
      neurons: [a.neurons, b.neurons],
      dropped: [0, 0],
      clipped: [0, 0],
      spectra: null,
      frequencies: null,
    };
  }
  if (a.kind === 'pwcca' && b.kind === 'pwcca') {
    const r = pwccaFromFactors(a.factor, b.factor, options.pwccaVariant);
    const [fx, fy] = r.factors;
    const s = summarize(r.rho); // r.rho: min(n1', n2') correlations, as ccaFromFactors gives
    return {
      similarity: r.similarity,
      mean98: s.mean98,
      meanSquared: s.meanSquared,
      rho: s.rho,
      kept: [fx.keptDims, fy.keptDims],
      neurons: [a.neurons, b.neurons],
      dropped: [fx.dropped, fy.dropped],
      clipped: [fx.clipped, fy.clipped],
      spectra: null,
      frequencies: null,
    };
  }
  throw new Error(`unreachable: factors of different kinds (${a.kind}, ${b.kind})`);
}
