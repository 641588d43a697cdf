// Helpers of the speed benchmark (scripts/bench.ts): the synthetic activation generator, the FLOP
// models of our engine and of the numpy reference, and small statistics/formatting functions.
// Pure functions only (no timing, no files), so test/bench/ can check them quickly.
//
// Shapes: the generator returns arrays as files hold them, datapoints first: (m, n) float32,
// row-major (datapoint d's n activations are contiguous). The engine turns them into
// n neurons × m datapoints.
//
// The generator (a linear-Gaussian model of a trained network, documented in the bench header):
//   X_l(t) = Q_l · S · (α_l(t) · L_l + β_l(t) · R_{l,t}) + μ_l        (n_l × m, before transposing)
//   S = diag(i^(−p/2)), i = 1..n_l, so the variance spectrum is λ_i ∝ i^(−p) (p = 2 by default:
//     the 99% rule keeps tens of directions, as in real networks; k grows slowly with n);
//   L_l: final-step latent datapoint factors, unit normals, chained across layers
//     L_l = a · L_{l−1} + sqrt(1 − a²) · E_l (per latent index), so neighbouring layers are similar;
//   R_{l,t}: fresh unit normals per (layer, step); β = sqrt(1 − α²) keeps the spectrum fixed;
//   α_l(t) = α0 + (1 − α0) · (1 − (1 − τ)^{c_l}), τ = t/(T − 1): lower layers (larger c_l)
//     converge first, and the last step is the final representation (α = 1);
//   Q_l: a random orthogonal basis, the product of 2⌈log2 n⌉ rounds of Givens rotations on random
//     disjoint neuron pairs with uniform angles (dense mixing in O(n log n) per datapoint);
//   μ_l: positive per-neuron offsets (like post-ReLU means), so centring matters.
// Randomness: mulberry32 uniforms (src/math/random.ts) and Box–Muller normals (both branches),
// seeded per (seed, layer, step): any checkpoint can be generated alone, in any order.

import { mulberry32 } from '../src/math/random';

// ---------------------------------------------------------------------------------------------
// Generator

export interface GeneratorSpec {
  seed: number;
  /** Width n_l of every layer. */
  widths: number[];
  /** Checkpoints t = 0..steps−1; the last one is the final (reference) representation. */
  steps: number;
  /** m: datapoints. */
  datapoints: number;
  /** p in λ_i ∝ i^(−p). */
  spectrumExponent: number;
  /** a: correlation of neighbouring layers' latents. */
  layerCorrelation: number;
  /** α0: alignment of a layer with its final representation at t = 0. */
  initialAlignment: number;
  /** c_l of the lowest and of the highest layer (interpolated linearly in between). */
  convergence: [number, number];
}

export const DEFAULT_GENERATOR: Omit<GeneratorSpec, 'widths' | 'steps' | 'datapoints'> = {
  seed: 20170802,
  spectrumExponent: 2,
  layerCorrelation: 0.9,
  initialAlignment: 0.1,
  convergence: [6, 1.5],
};

/** The spec as one line, for the printed header and the JSON. */
export function describeGenerator(spec: GeneratorSpec): string {
  const widths = new Set(spec.widths).size === 1 ? `n = ${spec.widths[0]}` : `n = ${spec.widths.join('/')}`;
  return (
    `X_l(t) = Q_l·diag(i^-${spec.spectrumExponent / 2})·(α_l(t)·L_l + β·R_l,t) + μ_l, λ_i ∝ i^-${spec.spectrumExponent}; ` +
    `${spec.widths.length} layers × ${spec.steps} steps, ${widths}, m = ${spec.datapoints}; ` +
    `layer chain a = ${spec.layerCorrelation}; α0 = ${spec.initialAlignment}, α_l(t) = α0 + (1−α0)(1−(1−τ)^c_l), ` +
    `c from ${spec.convergence[0]} (lowest layer) to ${spec.convergence[1]} (highest); Q_l = random Givens network; seed ${spec.seed}`
  );
}

/** Deterministic 32-bit seed for a tuple of small integers (FNV-style mixing with a final avalanche). */
export function seedFor(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Standard normals from mulberry32 uniforms (the same recurrence as src/math/random.ts, inlined),
 * Box–Muller with both branches. `fill` writes a block at a time (much faster than a closure per value).
 */
export class NormalStream {
  private state: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  private uniform(): number {
    const a = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  next(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spare = radius * Math.sin(angle);
    this.hasSpare = true;
    return radius * Math.cos(angle);
  }

  /** out[0..count) ← normals. */
  fill(out: Float64Array, count = out.length): void {
    let i = 0;
    if (this.hasSpare && count > 0) {
      out[i++] = this.spare;
      this.hasSpare = false;
    }
    for (; i + 1 < count; i += 2) {
      const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
      const angle = 2 * Math.PI * this.uniform();
      out[i] = radius * Math.cos(angle);
      out[i + 1] = radius * Math.sin(angle);
    }
    if (i < count) out[i] = this.next();
  }
}

/** One Givens network: `rounds` rounds of rotations on disjoint pairs (p[i], q[i]) by (cos[i], sin[i]). */
export interface GivensNetwork {
  size: number;
  p: Int32Array;
  q: Int32Array;
  cos: Float64Array;
  sin: Float64Array;
}

export function givensNetwork(size: number, seed: number): GivensNetwork {
  const rounds = 2 * Math.max(1, Math.ceil(Math.log2(Math.max(size, 2))));
  const perRound = Math.floor(size / 2);
  const total = rounds * perRound;
  const p = new Int32Array(total);
  const q = new Int32Array(total);
  const cos = new Float64Array(total);
  const sin = new Float64Array(total);
  const next = mulberry32(seed);
  const order = Int32Array.from({ length: size }, (_, i) => i);
  let at = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = size - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    for (let i = 0; i < perRound; i++) {
      const angle = 2 * Math.PI * next();
      p[at] = order[2 * i];
      q[at] = order[2 * i + 1];
      cos[at] = Math.cos(angle);
      sin[at] = Math.sin(angle);
      at++;
    }
  }
  return { size, p, q, cos, sin };
}

/** v ← Q v in place (v has length size). */
export function applyGivens(net: GivensNetwork, v: Float64Array): void {
  applyGivensRows(net, v, 1);
}

/**
 * Each of `rows` consecutive vectors of v (rows × size, row-major) ← Q · that vector. Rotating a
 * block of rows per (p, q, cos, sin) amortises the index loads: about twice as fast as row by row.
 */
export function applyGivensRows(net: GivensNetwork, v: Float64Array, rows: number): void {
  const { p, q, cos, sin, size } = net;
  for (let r = 0; r < p.length; r++) {
    const pr = p[r];
    const qr = q[r];
    const c = cos[r];
    const s = sin[r];
    for (let b = 0, o = 0; b < rows; b++, o += size) {
      const x = v[o + pr];
      const y = v[o + qr];
      v[o + pr] = c * x - s * y;
      v[o + qr] = s * x + c * y;
    }
  }
}

/** α_l(t): how far layer l at step t has converged to its final representation. */
export function alignment(spec: GeneratorSpec, layer: number, step: number): number {
  if (step >= spec.steps - 1) return 1;
  const layers = spec.widths.length;
  const tau = spec.steps > 1 ? step / (spec.steps - 1) : 1;
  const c = layers > 1 ? spec.convergence[0] + ((spec.convergence[1] - spec.convergence[0]) * layer) / (layers - 1) : spec.convergence[0];
  return spec.initialAlignment + (1 - spec.initialAlignment) * (1 - (1 - tau) ** c);
}

/** Population variance spectrum λ_i = i^(−p) / Σ_j j^(−p), i = 1..n. */
export function populationSpectrum(n: number, exponent: number): Float64Array {
  const out = Float64Array.from({ length: n }, (_, i) => (i + 1) ** -exponent);
  const total = out.reduce((s, v) => s + v, 0);
  for (let i = 0; i < n; i++) out[i] /= total;
  return out;
}

/** Smallest k whose cumulative share reaches `fraction` (the engine's 99% rule on a spectrum). */
export function keepCount(spectrum: ArrayLike<number>, fraction: number): number {
  let total = 0;
  for (let i = 0; i < spectrum.length; i++) total += spectrum[i];
  let cumulative = 0;
  for (let i = 0; i < spectrum.length; i++) {
    cumulative += spectrum[i];
    if (cumulative >= fraction * total * (1 - 1e-12)) return i + 1;
  }
  return spectrum.length;
}

/**
 * Lazily generates X_l(t) as (m, n_l) float32, datapoints first. Only the final latents L_l are
 * kept (m × n_l float32 per layer); every checkpoint is regenerated from its own seed on demand.
 */
export class ActivationGenerator {
  readonly spec: GeneratorSpec;
  private readonly latents: Float32Array[] = [];
  private readonly networks: GivensNetwork[] = [];
  private readonly scales: Float64Array[] = [];
  private readonly offsets: Float64Array[] = [];

  constructor(spec: GeneratorSpec) {
    this.spec = spec;
    const m = spec.datapoints;
    const a = spec.layerCorrelation;
    const fresh = Math.sqrt(1 - a * a);
    spec.widths.forEach((n, l) => {
      const normals = new NormalStream(seedFor(spec.seed, 1, l));
      const latent = new Float32Array(m * n);
      const previous = l > 0 ? this.latents[l - 1] : null;
      const previousWidth = l > 0 ? spec.widths[l - 1] : 0;
      const shared = Math.min(n, previousWidth);
      const e = new Float64Array(n);
      for (let d = 0; d < m; d++) {
        normals.fill(e);
        for (let i = 0; i < n; i++) {
          latent[d * n + i] = previous && i < shared ? a * previous[d * previousWidth + i] + fresh * e[i] : e[i];
        }
      }
      this.latents.push(latent);
      this.networks.push(givensNetwork(n, seedFor(spec.seed, 2, l)));
      const scale = Float64Array.from({ length: n }, (_, i) => (i + 1) ** (-spec.spectrumExponent / 2));
      this.scales.push(scale);
      // Offsets: 0..3 typical standard deviations, positive (post-ReLU-like means).
      let variance = 0;
      for (let i = 0; i < n; i++) variance += scale[i] * scale[i];
      const typical = Math.sqrt(variance / n);
      const uniform = mulberry32(seedFor(spec.seed, 3, l));
      this.offsets.push(Float64Array.from({ length: n }, () => 3 * typical * uniform()));
    });
  }

  /** X_l(t): (m, n_l) float32, datapoints first. */
  generate(layer: number, step: number): Float32Array {
    const { datapoints: m } = this.spec;
    const n = this.spec.widths[layer];
    const alpha = alignment(this.spec, layer, step);
    const beta = Math.sqrt(Math.max(0, 1 - alpha * alpha));
    const latent = this.latents[layer];
    const scale = this.scales[layer];
    const offset = this.offsets[layer];
    const net = this.networks[layer];
    const normals = new NormalStream(seedFor(this.spec.seed, 4, layer, step));
    const out = new Float32Array(m * n);
    const block = 8; // datapoints rotated together (see applyGivensRows)
    const v = new Float64Array(block * n);
    const noise = new Float64Array(n);
    for (let d0 = 0; d0 < m; d0 += block) {
      const rows = Math.min(block, m - d0);
      for (let b = 0; b < rows; b++) {
        const row = (d0 + b) * n;
        if (beta > 0) normals.fill(noise);
        for (let i = 0; i < n; i++) v[b * n + i] = scale[i] * (alpha * latent[row + i] + beta * noise[i]);
      }
      applyGivensRows(net, v, rows);
      for (let b = 0; b < rows; b++) {
        const row = (d0 + b) * n;
        for (let i = 0; i < n; i++) out[row + i] = v[b * n + i] + offset[i];
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// FLOP models. Convention: 2 flops per multiply-add; memory-bound passes (transposes, copies)
// count 0. Ours: the work our kernels actually do. numpy: what each LAPACK/BLAS call does,
// with Golub & Van Loan's operation counts for the factorisations (estimates, labelled so).

/** Dot products multiplyABt computes for a p × q result: all of them, or the 4×4 blocks on and above the diagonal when symmetric. */
export function abtDotProducts(p: number, q: number, symmetric: boolean): number {
  if (!symmetric) return p * q;
  let dots = 0;
  for (let i = 0; i < p; i += 4) {
    const rows = Math.min(4, p - i);
    for (let j = i; j < q; j += 4) dots += rows * Math.min(4, q - j);
  }
  return dots;
}

/** Symmetric eigen with vectors: tred2 + tql2 ≈ 9n³ (GVL's symmetric QR estimate) above 32; Jacobi ≈ 6n³ per sweep (8 sweeps assumed) at or below. */
export function eigenFlops(n: number, jacobiSweeps = 8): number {
  return n > 32 ? 9 * n ** 3 : 6 * n ** 3 * jacobiSweeps;
}

export interface FactorFlops {
  centre: number;
  gram: number;
  eigen: number;
  project: number;
  whiten: number;
  total: number;
}

/** Our per-representation work: centre (2nm), Gram Xc·Xcᵀ (symmetric half), eigen of the n × n Gram, U_kᵀ·Xc (2knm), variances and scaling (3km). */
export function oursFactorFlops(n: number, m: number, k: number): FactorFlops {
  const centre = 2 * n * m;
  const gram = 2 * m * abtDotProducts(n, n, true);
  const eigen = eigenFlops(n);
  const project = 2 * k * n * m;
  const whiten = 3 * k * m;
  return { centre, gram, eigen, project, whiten, total: centre + gram + eigen + project + whiten };
}

export interface PairFlops {
  cross: number;
  small: number;
  total: number;
}

/** Our per-pair work: T = Zx·Zyᵀ (2·r1·r2·m), then T·Tᵀ (symmetric, r = min side) and its eigenvalues. */
export function oursPairFlops(r1: number, r2: number, m: number): PairFlops {
  const cross = 2 * r1 * r2 * m;
  const r = Math.min(r1, r2);
  const c = Math.max(r1, r2);
  const small = r === 0 ? 0 : 2 * c * abtDotProducts(r, r, true) + eigenFlops(r);
  return { cross, small, total: cross + small };
}

export interface ReferencePairFlops {
  centre: number;
  svd: number;
  reduce: number;
  cov: number;
  pinvSqrt: number;
  final: number;
  total: number;
}

/** Thin SVD of an n × m matrix (n ≤ m) with both factors: GVL's R-SVD, 6mn² + 20n³. */
export function thinSvdFlops(n: number, m: number): number {
  const small = Math.min(n, m);
  const large = Math.max(n, m);
  return 6 * large * small ** 2 + 20 * small ** 3;
}

/** Full SVD of a p × q matrix with both square factors: Golub–Reinsch, 4a²b + 8ab² + 9b³ (a ≥ b). */
export function fullSvdFlops(p: number, q: number): number {
  const a = Math.max(p, q);
  const b = Math.min(p, q);
  return 4 * a * a * b + 8 * a * b * b + 9 * b ** 3;
}

/** What scripts/reference_pairwise.py does for one pair (n1, n2 neurons, m datapoints, k1, k2 kept). */
export function referencePairFlops(n1: number, n2: number, m: number, k1: number, k2: number): ReferencePairFlops {
  const centre = 2 * (n1 + n2) * m;
  const svd = thinSvdFlops(n1, m) + thinSvdFlops(n2, m);
  const reduce = 2 * (k1 * k1 + k2 * k2) * m; // np.dot(s[:k]·I_k, V[:k])
  const stacked = k1 + k2;
  const cov = 2 * stacked * m + 2 * stacked * stacked * m; // np.cov: centre, then dot(X, X.T.conj()) (a copy: gemm, not syrk)
  // Per side: pinv = thin SVD (21k³) + Vᵀ·(s⁻¹Uᵀ) (2k³); eigh with vectors (9k³); v·(diag·vᵀ) (2·2k³).
  const side = (k: number) => 21 * k ** 3 + 2 * k ** 3 + 9 * k ** 3 + 4 * k ** 3;
  const pinvSqrt = side(k1) + side(k2);
  const final = 2 * k1 * k2 * k2 + 2 * k1 * k1 * k2 + fullSvdFlops(k1, k2); // Σxx^-½ (Σxy Σyy^-½), svd
  return { centre, svd, reduce, cov, pinvSqrt, final, total: centre + svd + reduce + cov + pinvSqrt + final };
}

// ---------------------------------------------------------------------------------------------
// Small statistics and formatting.

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Seeded sample of `count` distinct indices out of 0..total−1, in random order. */
export function sampleIndices(total: number, count: number, seed: number): number[] {
  const next = mulberry32(seed);
  const order = Array.from({ length: total }, (_, i) => i);
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, Math.min(count, total));
}

export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 0.01) return `${(s * 1000).toFixed(2)} ms`;
  if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
  if (s < 100) return `${s.toFixed(2)} s`;
  return `${s.toFixed(0)} s`;
}

export function formatRatio(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return '—';
  return r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

/** Left-aligned first column, right-aligned others. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
