// Chance level of a similarity: its value between unrelated data. Two nulls (BaselineRequest.null):
//
// The Gaussian null (CCA, SVCCA, their DFT reduction): the canonical correlations against independent
// Gaussian data depend only on the dimensions each side keeps and the datapoint count, so they are
// drawn from those alone (src/math/canonicalNull.ts), O(k²) per draw and nothing per datapoint;
// gaussianChance below. It is the default ('auto') where it applies.
//
// The permutation null (every metric; the exact one): the same pair with one side's datapoints permuted.
//
// Permuting Y's datapoints breaks every correspondence between X and Y while keeping both sides'
// shapes, spectra, k and ε, so the permuted similarity carries exactly the overfitting of the
// observed one (with 600 datapoints and 126 kept directions, CCA between unrelated representations
// is far above 0). Whitening, the SVD step and centring are all equivariant under a permutation of
// the datapoints (columns), so the permuted factor is the factor re-indexed: no new SVD, only a
// k × m gather (factorPermuted below; the DFT reduction permutes every frequency block alike).
//
// Permutations are reproducible from (seed, m): mulberry32(seed) drives a Fisher–Yates shuffle,
// P shuffles drawn from one stream (scripts/baseline_reference.py draws the same ones in numpy).
//
// Shapes: every matrix here is rows × m datapoints, row-major; a permutation maps new column j to
// old column perm[j].

import { gaussianNullDraws, gaussianNullLimit, type CanonicalShape } from '../math/canonicalNull';
import type { CcaFactor } from '../math/cca';
import type { CkaFactor } from '../math/cka';
import { permuteColumns } from '../math/matrix';
import { mulberry32 } from '../math/random';
import type { Factor } from './metrics';
import { DEFAULT_BASELINE_SEED, DEFAULT_PERMUTATIONS, MAX_PERMUTATIONS } from './chanceDefs';
import { BASELINE_NULLS, type AnalysisOptions, type Baseline, type BaselineRequest } from './types';

export { freezeStep, freezeSteps, type FreezeStep } from './chanceDefs';

/** `count` permutations of 0..m−1 (Fisher–Yates, j = ⌊u·(i + 1)⌋ for i = m−1 … 1), one stream from `seed`. */
export function datapointPermutations(seed: number, m: number, count: number): Int32Array[] {
  const next = mulberry32(seed);
  const out: Int32Array[] = [];
  for (let p = 0; p < count; p++) {
    const perm = new Int32Array(m);
    for (let i = 0; i < m; i++) perm[i] = i;
    for (let i = m - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    out.push(perm);
  }
  return out;
}

/**
 * Permutations of the datapoints that keep each input's spatial positions together: under the
 * positions reduction a conv layer's datapoints are (input, position) pairs, input-major
 * (index = input · positionsPerInput + position), and the null hypothesis is "unrelated inputs",
 * so whole inputs are shuffled and each keeps its positions in order. With one position per input
 * these are datapointPermutations(seed, inputs, count) themselves.
 */
export function inputPermutations(seed: number, inputs: number, positionsPerInput: number, count: number): Int32Array[] {
  const base = datapointPermutations(seed, inputs, count);
  if (positionsPerInput === 1) return base;
  return base.map((perm) => {
    const out = new Int32Array(inputs * positionsPerInput);
    for (let i = 0; i < inputs; i++) for (let p = 0; p < positionsPerInput; p++) out[i * positionsPerInput + p] = perm[i] * positionsPerInput + p;
    return out;
  });
}

function permuteCca(f: CcaFactor, perm: Int32Array): CcaFactor {
  // Row means, the eigenbasis and the pruning do not depend on the order of the datapoints, nor do
  // PWCCA's neuron coordinates in a basis of Z's rows (math/cca.ts NeuronCoordinates); in the
  // datapoints' own basis they are Z and the centred rows, permuted alike.
  const z = permuteColumns(f.z, perm);
  if (f.pwcca?.basis !== 'datapoints') return { ...f, z };
  return { ...f, z, pwcca: { ...f.pwcca, z, neurons: permuteColumns(f.pwcca.neurons, perm) } };
}

function permuteCka(f: CkaFactor, perm: Int32Array): CkaFactor {
  const rowNorms = new Float64Array(perm.length);
  for (let j = 0; j < perm.length; j++) rowNorms[j] = f.rowNorms[perm[j]];
  if (f.centered) return { ...f, centered: permuteColumns(f.centered, perm), rowNorms };
  // The m × m kernel: K'[a][b] = K[perm[a]][perm[b]].
  const { kernel } = f;
  const m = perm.length;
  const permuted = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) permuted[a * m + b] = kernel!.data[perm[a] * m + perm[b]];
  return { ...f, kernel: { rows: m, cols: m, data: permuted }, rowNorms };
}

/** `perm` applied after what `before` already did (both map new index → old index). */
function compose(before: Int32Array | undefined, perm: Int32Array): Int32Array {
  if (!before) return perm;
  const out = new Int32Array(perm.length);
  for (let j = 0; j < perm.length; j++) out[j] = before[perm[j]];
  return out;
}

/**
 * The float64 factor of the same representation with its datapoints permuted. Every metric: CCA,
 * SVCCA and PWCCA re-index Z, CKA its centred rows and
 * per-datapoint norms; a DFT spectrum carries the permutation, which dftSimilarity applies to every
 * frequency block's whitened rows (the per-frequency factors are memoised on the unpermuted spectrum).
 */
export function factorPermuted(f: Factor, perm: Int32Array): Factor {
  switch (f.kind) {
    case 'svcca':
      return { ...f, factor: { ...f.factor, cca: permuteCca(f.factor.cca, perm) } };
    case 'cca':
    case 'pwcca':
      return { ...f, factor: permuteCca(f.factor, perm) };
    case 'cka':
      return { ...f, factor: permuteCka(f.factor, perm) };
    case 'dft':
      return { ...f, permutation: compose(f.permutation, perm) };
  }
}

/**
 * Draws within this of the observed value (relative to max(1, |value|)) are ties, and an sd within
 * it of the mean is none: float64 rounding of a similarity that does not move under the null (a
 * layer wider than its datapoints, where CCA is 1 on every shared direction whatever the order).
 */
const ROUNDING_TIE = 1e-12;

/** Mean, sd (n − 1), z and the Monte-Carlo p of `observed` against the null's draws. */
export function baselineStatistics(observed: number, permuted: readonly number[], seed: number, kind: Baseline['null'] = 'permutation'): Baseline {
  const count = permuted.length;
  const mean = permuted.reduce((s, v) => s + v, 0) / count;
  const variance = count > 1 ? permuted.reduce((s, v) => s + (v - mean) ** 2, 0) / (count - 1) : 0;
  const sd = Math.sqrt(variance);
  // Ties count against the observed value (≥): identical layers give p = 1/(P + 1), never 0.
  const tie = ROUNDING_TIE * Math.max(1, Math.abs(observed));
  const atLeast = permuted.filter((v) => v >= observed - tie).length;
  return {
    mean,
    sd,
    z: sd > ROUNDING_TIE * Math.max(1, Math.abs(mean)) ? (observed - mean) / sd : null,
    p: (1 + atLeast) / (count + 1),
    permutations: count,
    seed,
    null: kind,
  };
}

/**
 * Which null a cell gets: the Gaussian null's draws (its shape applies), or why not (a sentence for
 * Baseline.nullNote; null: the permutation null was asked for, or 'auto' chose it by design).
 * `positionsPerInput` > 1 (the positions reduction): datapoints within an input are not independent.
 */
export function chooseNull(
  request: BaselineRequest,
  options: AnalysisOptions,
  shape: CanonicalShape | undefined,
  positionsPerInput: number,
): { gaussian: true } | { gaussian: false; note: string | null } {
  if (request.null === 'permutation') return { gaussian: false, note: null };
  const asked = request.null === 'gaussian';
  if (options.metric !== 'cca' && options.metric !== 'svcca') {
    return { gaussian: false, note: asked ? `the Gaussian null is for CCA and SVCCA, not ${options.metric}: datapoints permuted instead` : null };
  }
  if (positionsPerInput > 1) {
    return { gaussian: false, note: asked ? 'the positions reduction’s datapoints within one input are not independent: whole inputs permuted instead' : null };
  }
  if (!shape) return { gaussian: false, note: 'the kept dimensions were not known: datapoints permuted instead' };
  const limit = gaussianNullLimit(shape);
  return limit ? { gaussian: false, note: `the Gaussian null does not apply (${limit}): datapoints permuted instead` } : { gaussian: true };
}

/**
 * The Gaussian null's chance level of one cell: P draws of the mean canonical correlation between
 * representations of this shape and independent data, from `request.seed` (cells of one shape get
 * the same draws: the null depends on the shape alone).
 */
export function gaussianChance(observed: number, shape: CanonicalShape, request: BaselineRequest): Baseline {
  return baselineStatistics(observed, gaussianNullDraws(shape, request.seed, request.permutations), request.seed, 'gaussian');
}

/** A request with its defaults filled in and checked (throws a message for the user). */
export function resolveBaseline(request: Partial<BaselineRequest> | undefined | null): BaselineRequest | null {
  if (!request) return null;
  const permutations = request.permutations ?? DEFAULT_PERMUTATIONS;
  const seed = request.seed ?? DEFAULT_BASELINE_SEED;
  if (!Number.isInteger(permutations) || permutations < 2 || permutations > MAX_PERMUTATIONS) {
    throw new Error(`the chance level needs a whole number of permutations from 2 to ${MAX_PERMUTATIONS}, got ${permutations}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`the chance level's seed must be a whole number from 0 to 4294967295, got ${seed}`);
  const kind = request.null ?? 'auto';
  if (!BASELINE_NULLS.includes(kind)) throw new Error(`the chance level's null is one of ${BASELINE_NULLS.join(', ')}, got ${String(kind)}`);
  return { permutations, seed, cells: request.cells ?? 'all', null: kind };
}
