// Conv layers through the 2-D DFT (paper section 2.1, Theorem 1), float64.
//
// Spectrum: F[i, u, v, c] = Σ_{h,w} x[i, h, w, c]·exp(−2πi(u·h/H + v·w/W)), kept for v ≤ ⌊W/2⌋ and
// frequency-major (see Spectrum).
// For real inputs the covariance of the flattened layer is block-diagonal over frequencies when the
// dataset is closed under circular shifts, so CCA runs per frequency on C × N complex blocks.
//
// Pairs of layers with different spatial sizes keep only the shared low frequencies
// f ∈ [−⌊s/2⌋, ⌈s/2⌉ − 1] per axis, s = the smaller size (FFT ordering). (f_h, f_w) and
// (−f_h, −f_w) give identical ρ for real input: we compute one of each conjugate pair and count it
// twice. A layer's ρ are the union over all shared frequencies; summaries are over that union.
//
// Complex CCA runs through the real embedding R(X) = [[Re X, −Im X], [Im X, Re X]] (2C × 2N):
// R(X)R(Y)ᵀ = R(X Yᴴ), so every complex canonical correlation appears exactly twice among the real
// ones. We take every other one. Blocks are centred over datapoints in the complex domain first.

import { frequencyBlock, type CanonicalShape } from './canonicalNull';
import { ccaFactor, ccaFromFactors, chooseK, summarize, svdStep, svccaFactorFromStep, type CcaFactor, type KeepRule } from './cca';
import { multiply, permuteColumns, zeros, type Matrix } from './matrix';
import { convStrides, type Conv } from './reduce';
import { scratchFloat64 } from './scratch';

/** A step's stand-in for the block it no longer holds (sideFactors). */
const EMPTY: Matrix = { rows: 0, cols: 0, data: new Float64Array(0) };

export interface Spectrum {
  datapoints: number;
  height: number;
  width: number;
  channels: number;
  /**
   * Real and imaginary parts of the frequencies v = 0..⌊W/2⌋ only: the input is real, so the others
   * are their conjugates, F[u, v] = conj F[(H − u) mod H, W − v] (frequencyRun finds them). Laid out
   * frequency-major: frequency (u, v), then datapoint i, then channel c, at
   * ((u·(⌊W/2⌋ + 1) + v)·N + i)·C + c. One frequency's block (N datapoints × C channels) is one
   * contiguous run, which is what every reader of a spectrum takes (embeddedBlock); half of W is half
   * the memory, which a layer's spectrum has plenty of (16 × 28 × 28 over 1000 datapoints: 100 MB).
   */
  re: Float64Array;
  im: Float64Array;
}

/** Where frequency (u, v)'s N × C run lies in a spectrum's re and im, and whether it is stored as its conjugate. */
function frequencyRun(spec: Spectrum, u: number, v: number): { start: number; conjugate: boolean } {
  const { datapoints: n, height: h, width: w, channels: c } = spec;
  const stored = storedWidth(w);
  if (v < stored) return { start: (u * stored + v) * n * c, conjugate: false };
  return { start: (((h - u) % h) * stored + (w - v)) * n * c, conjugate: true };
}

/** The frequencies v a spectrum stores along W: 0..⌊W/2⌋. */
const storedWidth = (w: number) => Math.floor(w / 2) + 1;

/** F[i, u, v, c] of a spectrum: [real part, imaginary part], any u < H and v < W. */
export function spectrumValue(spec: Spectrum, i: number, u: number, v: number, c: number): [number, number] {
  const { start, conjugate } = frequencyRun(spec, u, v);
  const at = start + i * spec.channels + c;
  return [spec.re[at], conjugate ? -spec.im[at] : spec.im[at]];
}

/**
 * Separable 2-D DFT over (H, W) of every channel of every datapoint; any size, not only 2^k. Each
 * axis is a product with its DFT matrix, so the work runs in the WebAssembly SIMD product kernels
 * (matrix.ts multiply) at GEMM speed instead of a scalar loop; DATAPOINT_CHUNK_BYTES of input at a
 * time, so the module's memory stays small whatever the layer. The input is real, so along W only
 * v = 0..⌊W/2⌋ are computed and kept; the other half is their mirror image, F[u, W − v] = conj F[−u, v].
 *
 * The input of a chunk goes per image row y as x × (i, c), read as stored (NCHW or NHWC); the
 * products keep (i, c) innermost, so the result lands in the frequency-major spectrum (u, v, i, c)
 * as one run of count·C values per frequency.
 */
export function dft2(conv: Conv): Spectrum {
  const { datapoints: n, height: h, width: w, channels: c } = conv;
  // The stored array where there is one (NCHW or NHWC, float32 or float64: the same values as `data`,
  // whose NHWC float64 copy is then never built), else the NHWC `data`.
  const { data, perDatapoint, perPosition, perChannel } = convStrides(conv);
  const half = storedWidth(w); // v = 0..⌊W/2⌋
  const re = new Float64Array(n * h * half * c);
  const im = new Float64Array(n * h * half * c);
  // Along W, Re and Im in one product: rows v of cos(2π·v·x/W), then rows v of −sin(2π·v·x/W)
  // (2·half × W, columns x).
  const alongW = zeros(2 * half, w);
  for (let v = 0; v < half; v++)
    for (let x = 0; x < w; x++) {
      const angle = (2 * Math.PI * ((v * x) % w)) / w;
      alongW.data[v * w + x] = Math.cos(angle);
      alongW.data[(half + v) * w + x] = -Math.sin(angle);
    }
  // Along H, complex on complex as one real product: [Re F; Im F] = [[C, S], [−S, C]]·[Re T; Im T],
  // C = cos(2π·u·y/H), S = sin(2π·u·y/H) (2H × 2H).
  const alongH = zeros(2 * h, 2 * h);
  for (let u = 0; u < h; u++)
    for (let y = 0; y < h; y++) {
      const angle = (2 * Math.PI * ((u * y) % h)) / h;
      const [cs, sn] = [Math.cos(angle), Math.sin(angle)];
      alongH.data[u * 2 * h + y] = cs;
      alongH.data[u * 2 * h + h + y] = sn;
      alongH.data[(h + u) * 2 * h + y] = -sn;
      alongH.data[(h + u) * 2 * h + h + y] = cs;
    }
  const chunk = Math.max(1, Math.min(n, Math.floor(DATAPOINT_CHUNK_BYTES / (8 * h * w * c))));
  // The work arrays of one chunk, made once for all chunks (sized for a full one): fresh arrays of
  // megabytes per chunk cost more in page faults than the products (Chromium maps each anew).
  const chunkRun = chunk * c;
  const rowBuffer = new Float64Array(w * chunkRun);
  const alongWBuffer = new Float64Array(2 * half * chunkRun);
  const stackedBuffer = new Float64Array(2 * h * half * chunkRun);
  const spectrumBuffer = new Float64Array(2 * h * half * chunkRun);
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const count = Math.min(chunk, n - i0);
    const run = count * c; // one frequency's (i, c) values of this chunk
    const columns = half * run; // the product along H: columns (v, i, c)
    // Right operand of the product along H: rows y of Re T (columns (v, i, c)), then rows y of Im T.
    const stacked = { rows: 2 * h, cols: columns, data: stackedBuffer.subarray(0, 2 * h * columns) };
    const row = { rows: w, cols: run, data: rowBuffer.subarray(0, w * run) }; // image row y of the chunk: rows x, columns (i, c)
    for (let y = 0; y < h; y++) {
      for (let i = 0; i < count; i++)
        for (let x = 0; x < w; x++) {
          const from = (i0 + i) * perDatapoint + (y * w + x) * perPosition;
          for (let ch = 0; ch < c; ch++) row.data[x * run + i * c + ch] = data[from + ch * perChannel];
        }
      const t = multiply(alongW, row, alongWBuffer).data; // rows v of Re T, then rows v of Im T; columns (i, c)
      stacked.data.set(t.subarray(0, columns), y * columns);
      stacked.data.set(t.subarray(columns), (h + y) * columns);
    }
    const spectrum = multiply(alongH, stacked, spectrumBuffer).data; // rows: Re F for u = 0..H−1, then Im F; columns (v, i, c)
    for (let u = 0; u < h; u++)
      for (let v = 0; v < half; v++) {
        const from = u * columns + v * run;
        const at = ((u * half + v) * n + i0) * c;
        re.set(spectrum.subarray(from, from + run), at);
        im.set(spectrum.subarray(h * columns + from, h * columns + from + run), at);
      }
  }
  return { datapoints: n, height: h, width: w, channels: c, re, im };
}

/** Input of dft2 per product: a few MB, so the WebAssembly module's memory stays small. */
const DATAPOINT_CHUNK_BYTES = 4 << 20;

/** One frequency shared by both layers, with its row index in each spectrum and its multiplicity. */
export interface SharedFrequency {
  /** Signed frequencies in FFT ordering. */
  fh: number;
  fw: number;
  /** (u, v) index in layer A's and layer B's spectrum. */
  indexA: [number, number];
  indexB: [number, number];
  /** 2 when the conjugate partner (−fh, −fw) is also shared and distinct (computed once, counted twice). */
  multiplicity: 1 | 2;
}

function axisFrequencies(s: number): number[] {
  const out: number[] = [];
  for (let f = -Math.floor(s / 2); f <= Math.ceil(s / 2) - 1; f++) out.push(f);
  return out;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** The shared low frequencies of two layers, one representative per conjugate pair. */
export function sharedFrequencies(a: { height: number; width: number }, b: { height: number; width: number }): SharedFrequency[] {
  const sh = Math.min(a.height, b.height);
  const sw = Math.min(a.width, b.width);
  const inSet = (f: number, s: number) => f >= -Math.floor(s / 2) && f <= Math.ceil(s / 2) - 1;
  // Conjugate of f on an axis: −f, as the same frequency index in BOTH layers (mod their sizes).
  const conjugate = (f: number, s: number, sizeA: number, sizeB: number): number | null => {
    for (const candidate of [-f, -f - s, -f + s]) {
      if (inSet(candidate, s) && mod(candidate, sizeA) === mod(-f, sizeA) && mod(candidate, sizeB) === mod(-f, sizeB)) return candidate;
    }
    return null;
  };
  const out: SharedFrequency[] = [];
  const seen = new Set<string>();
  for (const fh of axisFrequencies(sh)) {
    for (const fw of axisFrequencies(sw)) {
      const key = `${fh},${fw}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const ch = conjugate(fh, sh, a.height, b.height);
      const cw = conjugate(fw, sw, a.width, b.width);
      let multiplicity: 1 | 2 = 1;
      if (ch !== null && cw !== null) {
        const partner = `${ch},${cw}`;
        if (partner !== key) {
          seen.add(partner);
          multiplicity = 2;
        }
      }
      out.push({
        fh,
        fw,
        indexA: [mod(fh, a.height), mod(fw, a.width)],
        indexB: [mod(fh, b.height), mod(fw, b.width)],
        multiplicity,
      });
    }
  }
  return out;
}

/**
 * The real embedding of frequency (u, v)'s block, centred over datapoints: 2C × 2N; written into
 * `into` (at least 2C·2N elements, every one of them written) where given.
 */
export function embeddedBlock(spec: Spectrum, u: number, v: number, into?: Float64Array): Matrix {
  const { datapoints: n, channels: c, re, im } = spec;
  const rows = 2 * c;
  const cols = 2 * n;
  const data = into ? into.subarray(0, rows * cols) : new Float64Array(rows * cols);
  const { start: base, conjugate } = frequencyRun(spec, u, v); // the frequency's N × C run
  // A conjugate's imaginary parts are the stored ones negated. Negation is exact, so the block is the
  // one a full spectrum gave, bit for bit (a sum of negated values is the negated sum).
  const imSign = conjugate ? -1 : 1;
  // Means per channel, each summed over datapoints 0..N−1 in order.
  const meanRe = new Float64Array(c);
  const meanIm = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const at = base + i * c;
    for (let ch = 0; ch < c; ch++) {
      meanRe[ch] += re[at + ch];
      meanIm[ch] += imSign * im[at + ch];
    }
  }
  for (let ch = 0; ch < c; ch++) {
    meanRe[ch] /= n;
    meanIm[ch] /= n;
  }
  for (let i = 0; i < n; i++) {
    const at = base + i * c;
    for (let ch = 0; ch < c; ch++) {
      const a = re[at + ch] - meanRe[ch];
      const b = imSign * im[at + ch] - meanIm[ch];
      const top = ch * cols;
      const bottom = (c + ch) * cols;
      data[top + i] = a; // [Re, −Im]
      data[top + n + i] = -b;
      data[bottom + i] = b; // [Im, Re]
      data[bottom + n + i] = a;
    }
  }
  return { rows, cols, data };
}

export interface DftResult {
  /** Union of per-frequency ρ (conjugate pairs counted twice), descending. */
  rho: number[];
  mean: number;
  mean98: number;
  meanSquared: number;
  /** Complex dimensions kept per side, summed over frequencies (with multiplicity). */
  kept: [number, number];
  /** Channels × shared frequencies per side. */
  neurons: [number, number];
  /** Complex dimensions pruned by ε per side (with multiplicity). */
  dropped: [number, number];
  /** Global variance spectrum per side for svcca (complex eigenvalues with multiplicity, descending). */
  spectra: [number[], number[]] | null;
  frequencies: number;
  /** What the Gaussian chance level of this pair depends on: each frequency block's dimensions (src/math/canonicalNull.ts). */
  canonical: CanonicalShape;
}

/** Every other value of a descending list of doubled values: the complex spectrum. */
export function halve(values: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 2) out.push(values[i]);
  return out;
}

/**
 * Per-frequency CCA (or SVCCA with the 99% rule applied globally over all blocks' eigenvalues)
 * between two spectra with the same datapoints.
 */
export function dftSimilarity(
  sa: Spectrum,
  sb: Spectrum,
  options: { metric: 'cca' | 'svcca'; keep: KeepRule; epsilon: number },
  /** B's datapoints permuted (new j ← old permutationB[j]), the same for every frequency block: the chance level. */
  permutationB?: Int32Array,
): DftResult {
  if (sa.datapoints !== sb.datapoints) throw new Error(`datapoint counts differ (${sa.datapoints} vs ${sb.datapoints})`);
  const frequencies = sharedFrequencies(sa, sb);
  const multiplicities = frequencies.map((f) => f.multiplicity);
  const sideA = sideFactors(
    sa,
    frequencies.map((f) => f.indexA),
    multiplicities,
    options,
  );
  const sideB = sideFactors(
    sb,
    frequencies.map((f) => f.indexB),
    multiplicities,
    options,
  );
  const factorsA = sideA.factors;
  // An embedded block's 2m columns are [datapoints | datapoints again] (see embeddedBlock): both halves move alike.
  const embedded = permutationB ? embeddedPermutation(permutationB) : null;
  const factorsB = embedded ? sideB.factors.map((f) => ({ ...f, z: permuteColumns(f.z, embedded) })) : sideB.factors;
  // Copies: the memo's arrays must not be handed out to callers that may sort or extend them.
  const spectra: [number[], number[]] | null = sideA.spectrum && sideB.spectrum ? [sideA.spectrum.slice(), sideB.spectrum.slice()] : null;
  const union: number[] = [];
  const kept: [number, number] = [0, 0];
  const dropped: [number, number] = [0, 0];
  frequencies.forEach((f, b) => {
    const rho = halve(ccaFromFactors(factorsA[b], factorsB[b]).rho);
    for (let t = 0; t < f.multiplicity; t++) union.push(...rho);
    kept[0] += (f.multiplicity * factorsA[b].keptDims) / 2;
    kept[1] += (f.multiplicity * factorsB[b].keptDims) / 2;
    dropped[0] += (f.multiplicity * factorsA[b].dropped) / 2;
    dropped[1] += (f.multiplicity * factorsB[b].dropped) / 2;
  });
  union.sort((x, y) => y - x);
  const totalFrequencies = frequencies.reduce((s, f) => s + f.multiplicity, 0);
  const summary = summarize(union);
  const blocks = frequencies.map((f, b) => frequencyBlock(f, [sa, sb], [factorsA[b].z.rows, factorsB[b].z.rows], [factorsA[b].keptDims, factorsB[b].keptDims]));
  return {
    ...summary,
    kept,
    neurons: [sa.channels * totalFrequencies, sb.channels * totalFrequencies],
    dropped,
    spectra,
    frequencies: totalFrequencies,
    canonical: { blocks, dof: sa.datapoints - 1 },
  };
}

/** A permutation of m datapoints lifted to an embedded block's 2m columns. */
function embeddedPermutation(perm: Int32Array): Int32Array {
  const m = perm.length;
  const out = new Int32Array(2 * m);
  for (let j = 0; j < m; j++) {
    out[j] = perm[j];
    out[m + j] = m + perm[j];
  }
  return out;
}

export interface SideFactors {
  /** One CCA factor per listed frequency's embedded block. */
  factors: CcaFactor[];
  /** SVCCA: the complex eigenvalues of every block, repeated by multiplicity, descending. */
  spectrum: number[] | null;
}

/**
 * One side's per-frequency factors depend only on its own spectrum, the frequencies listed, their
 * multiplicities (SVCCA's global 99% rule weighs them) and the options, not on the other side: they
 * are kept with the spectrum (a few lists each; a layer meets few partner shapes), so a layer
 * compared with many others, or the reference step of a dynamics job, is factored once.
 */
const sideMemo = new WeakMap<Spectrum, Map<string, SideFactors>>();
const SIDE_MEMO_LISTS = 4;

/** The memo's key of one side's factors: its frequency list, their multiplicities and the options. */
function sideKey(list: [number, number][], multiplicities: number[], options: { metric: 'cca' | 'svcca'; keep: KeepRule; epsilon: number }): string {
  return JSON.stringify([list, multiplicities, options.metric, options.keep, options.epsilon]);
}

/** Keeps `side` as `spec`'s factors under `key`, the oldest list making way beyond SIDE_MEMO_LISTS. */
function remember(spec: Spectrum, key: string, side: SideFactors): void {
  let memo = sideMemo.get(spec);
  if (!memo) sideMemo.set(spec, (memo = new Map()));
  if (!memo.has(key) && memo.size >= SIDE_MEMO_LISTS) memo.delete(memo.keys().next().value!);
  memo.set(key, side);
}

function sideFactors(
  spec: Spectrum,
  list: [number, number][],
  multiplicities: number[],
  options: { metric: 'cca' | 'svcca'; keep: KeepRule; epsilon: number },
): SideFactors {
  const key = sideKey(list, multiplicities, options);
  const hit = sideMemo.get(spec)?.get(key);
  if (hit) return hit;
  let result: SideFactors;
  if (options.metric === 'svcca') {
    // One block at a time, in the thread's scratch buffer: the step keeps its eigenvectors, not the
    // block (2C × 2N: 512 KB for 16 channels over 1000 datapoints, and a conv layer has hundreds),
    // which is built again for its projection once the global rule has chosen every block's k. The
    // same values both times, so the same bits as keeping every block; fresh memory for each block
    // cost more in page faults than building it twice. Nothing below uses the scratch buffer.
    const blockAt = (b: number) => {
      const [u, v] = list[b];
      return embeddedBlock(spec, u, v, scratchFloat64(4 * spec.channels * spec.datapoints));
    };
    // The blocks are centred already (embeddedBlock, in the complex domain; each row of the embedding
    // then sums to zero too), so the step uses them as they are instead of centring a copy. Householder
    // + QL, not Jacobi, even for blocks of up to SMALL_N rows: a layer has hundreds of 2C × 2C Grams
    // (420 of 32 × 32 for 16 channels at 28 × 28), where Jacobi's ~7 sweeps cost ~17× as much; the
    // step keeps the top directions only (99% of the variance), where the two agree to ~1e-14
    // (test/math/dft.test.ts); Jacobi's edge, the relative accuracy of the smallest eigenvalues, is
    // in the directions the step drops. Values moved by ≤ 1.8e-15 on a CNN's learning dynamics.
    const steps = list.map((_, b) => ({ ...svdStep(blockAt(b), { centred: true, solver: 'tridiagonal' }), centered: EMPTY }));
    const k = globalKeep(
      steps.map((st) => st.spectrum),
      multiplicities,
      options.keep,
    );
    // Embedded eigenvalues come in equal pairs: k complex directions are 2k real ones.
    const factors = steps.map((st, b) => svccaFactorFromStep({ ...st, centered: blockAt(b) }, 2 * k[b], options.epsilon).cca);
    const all: number[] = [];
    steps.forEach((st, b) => {
      const values = halve(st.spectrum);
      for (let t = 0; t < multiplicities[b]; t++) all.push(...values);
    });
    result = { factors, spectrum: all.sort((x, y) => y - x) };
  } else {
    // CCA's factor of each block, built one by one; none keeps its block (no PWCCA runs through the DFT).
    result = { factors: list.map(([u, v]) => ccaFactor(embeddedBlock(spec, u, v), options.epsilon, false)), spectrum: null };
  }
  remember(spec, key, result);
  return result;
}

/** One memo entry of a spectrum's side factors, as it travels between threads (primeSideFactors → rememberSideFactors). */
export interface PrimedSide {
  key: string;
  side: SideFactors;
}

/**
 * A spectrum's per-frequency factors against partners of the given heights and widths, computed
 * ahead of any pair: what dftSimilarity would compute on first meeting such a partner (the same
 * function on the same list, so the same bits), for a thread that factors (a CPU pool worker,
 * analysis/pool/work.ts) to hand to the thread that compares, which keeps them with its copy of the
 * spectrum (rememberSideFactors). One list per distinct key, at most SIDE_MEMO_LISTS.
 */
export function primeSideFactors(
  spec: Spectrum,
  partners: readonly { height: number; width: number }[],
  options: { metric: 'cca' | 'svcca'; keep: KeepRule; epsilon: number },
): PrimedSide[] {
  const primed: PrimedSide[] = [];
  for (const partner of partners) {
    // sharedFrequencies is symmetric: this side's list is the same whichever side of the pair it is on.
    const frequencies = sharedFrequencies(spec, partner);
    const list = frequencies.map((f) => f.indexA);
    const multiplicities = frequencies.map((f) => f.multiplicity);
    const key = sideKey(list, multiplicities, options);
    if (primed.some((p) => p.key === key)) continue;
    if (primed.length >= SIDE_MEMO_LISTS) break;
    primed.push({ key, side: sideFactors(spec, list, multiplicities, options) });
  }
  return primed;
}

/** Keeps side factors primed elsewhere (primeSideFactors, on a copy of `spec`) with `spec`: dftSimilarity then finds them. */
export function rememberSideFactors(spec: Spectrum, primed: readonly PrimedSide[]): void {
  for (const { key, side } of primed) remember(spec, key, side);
}

/**
 * The 99% (or fixed-k) rule applied to all blocks' complex eigenvalues together: complex directions
 * kept per block. `spectra` are the embedded (real) spectra, descending, whose values come in equal
 * pairs; each block counts with its frequency's multiplicity. Shared by the float64 and GPU paths.
 */
export function globalKeep(spectra: readonly (readonly number[])[], multiplicities: readonly number[], rule: KeepRule): number[] {
  const entries: { value: number; block: number }[] = [];
  spectra.forEach((spectrum, b) => {
    for (const value of halve(spectrum)) {
      for (let t = 0; t < multiplicities[b]; t++) entries.push({ value, block: b });
    }
  });
  entries.sort((x, y) => y.value - x.value);
  const total = chooseK(
    entries.map((e) => e.value),
    rule,
  );
  const perBlockCount = new Array<number>(spectra.length).fill(0);
  for (let i = 0; i < total; i++) perBlockCount[entries[i].block]++;
  // A conjugate pair's two copies are one block here: it keeps a direction when either copy made the cut.
  return perBlockCount.map((count, b) => Math.ceil(count / multiplicities[b]));
}
