// The distribution of canonical correlations between a representation and INDEPENDENT data, drawn
// without the data: the cheap chance level of CCA and SVCCA (analysis/baseline.ts).
//
// If one side's m datapoints are i.i.d. Gaussian (any covariance) and independent of the other
// side, its centred row space is a uniformly random subspace of the (m − 1)-dimensional centred
// space, and so is its SVD-truncated or whitened part. The squared canonical correlations between
// a p- and a q-dimensional side (p ≤ q) are then the eigenvalues of A(A + B)⁻¹ with
// A ~ Wishart_p(q, I), B ~ Wishart_p(ν − q, I), ν = m − 1: the Jacobi (MANOVA) ensemble, with
// density ∝ |Δ(x)|^β Π x_i^{a−1} (1 − x_i)^{b−1}, a = β/2 (q − p + 1), b = β/2 (ν − q − p + 1)
// (real data: β = 1; the complex frequency blocks of the DFT reduction: β = 2). It depends on
// p, q and ν only, never on the data.
//
// Draws use the tridiagonal model of Killip & Nenciu (2004, Theorem 2): 2p − 1 Beta variates
// and the eigenvalues of a p × p tridiagonal matrix, O(p²) per draw and independent of m (a real
// pair costs p·q·m). test/math/canonicalNull.test.ts checks it against the explicit construction
// (Gaussian p × m and q × m matrices through the engine's own CCA) and against the exact p = 1 law
// ρ² ~ Beta(βq/2, β(ν − q)/2); test/python/canonicalNull.test.ts against numpy's explicit
// construction (scripts/canonical_null_reference.py: Gaussian matrices, QR, SVD).
//
// Random numbers: mulberry32 streams (src/math/random.ts), one per seed and block of a pair;
// normals by Box–Muller (cos branch, as randn), gammas by Marsaglia & Tsang (2000), O(1) per
// variate whatever the shape.

import { mulberry32 } from './random';

type Uniform = () => number;

/** A standard normal from two uniforms (Box–Muller, cos branch, as src/math/random.ts randn). */
export function normal(next: Uniform): number {
  const u1 = next();
  const u2 = next();
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** Gamma(shape, 1): Marsaglia & Tsang's squeeze for shape ≥ 1, boosted by U^{1/shape} below 1. */
export function gamma(shape: number, next: Uniform): number {
  if (!(shape > 0)) throw new Error(`gamma: shape must be positive, got ${shape}`);
  if (shape < 1) {
    const u = 1 - next(); // (0, 1]
    return gamma(shape + 1, next) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(next);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - next(); // (0, 1]
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as G_a / (G_a + G_b). */
export function betaVariate(a: number, b: number, next: Uniform): number {
  const x = gamma(a, next);
  const y = gamma(b, next);
  return x / (x + y);
}

/** Chi-square with `dof` degrees of freedom (any positive real), O(1): 2·Gamma(dof/2). */
export function chiSquare(dof: number, next: Uniform): number {
  return 2 * gamma(dof / 2, next);
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix with diagonal `d` and off-diagonal `e`
 * (e[i] couples i and i + 1; length n − 1), by implicit QL without vectors (EISPACK tql1), O(n²).
 * `d` and `e` are overwritten; the eigenvalues are returned in `d`, unordered.
 */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  const off = new Float64Array(n);
  off.set(e.subarray(0, n - 1));
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(off[l]));
    let m = l;
    while (m < n - 1 && Math.abs(off[m]) > eps * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 60) throw new Error('tridiagonalEigenvalues: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * off[l]);
        // sqrt(x² + y²) without Math.hypot (several times slower in V8): here |p| ≤ ~1/ε_machine and
        // the entries are at most 1, so the squares cannot overflow.
        let r = Math.sqrt(p * p + 1);
        if (p < 0) r = -r;
        d[l] = off[l] / (p + r);
        d[l + 1] = off[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = off[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * off[i];
          h = c * p;
          r = Math.sqrt(p * p + off[i] * off[i]);
          off[i + 1] = s * r;
          s = off[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = (-s * s2 * c3 * el1 * off[l]) / dl1;
        off[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(off[l]) > eps * tst1);
    }
    d[l] += f;
    off[l] = 0;
  }
  return d;
}

/**
 * One draw of the Jacobi ensemble of size p with parameters (a, b) by Killip & Nenciu's tridiagonal
 * model: x ∈ [0, 1]^p with density ∝ |Δ(x)|^β Π x^{a−1} (1 − x)^{b−1}. Returned unordered.
 */
export function jacobiEnsemble(p: number, a: number, b: number, beta: 1 | 2, next: Uniform): Float64Array {
  // c_{2i−1} ~ Beta(β/2 (p − i) + a, β/2 (p − i) + b), c_{2i} ~ Beta(β/2 (p − i), β/2 (p − i − 1) + a + b).
  const odd = new Float64Array(p);
  const even = new Float64Array(p); // even[0] = c_0 = 0
  for (let i = 0; i < p; i++) {
    const t = (beta / 2) * (p - 1 - i);
    odd[i] = betaVariate(t + a, t + b, next);
    if (i > 0) even[i] = betaVariate((beta / 2) * (p - i), t + a + b, next);
  }
  // ξ_{2i−1} = (1 − c_{2i−2}) c_{2i−1}, ξ_{2i} = (1 − c_{2i−1}) c_{2i}; diagonal ξ_{2i−2} + ξ_{2i−1},
  // off-diagonal sqrt(ξ_{2i−1} ξ_{2i}).
  const diagonal = new Float64Array(p);
  const offDiagonal = new Float64Array(Math.max(0, p - 1));
  let previousEven = 0;
  for (let i = 0; i < p; i++) {
    const xiOdd = (1 - even[i]) * odd[i];
    diagonal[i] = previousEven + xiOdd;
    if (i + 1 < p) {
      previousEven = (1 - odd[i]) * even[i + 1];
      offDiagonal[i] = Math.sqrt(xiOdd * previousEven);
    }
  }
  return tridiagonalEigenvalues(diagonal, offDiagonal);
}

/**
 * One block of independent canonical correlations: the sides bring `ranks` directions (real, or
 * complex for β = 2), `count` correlations are reported (null directions count as 0: the smaller
 * side's kept dimensions, as ccaFromFactors pads), `multiplicity` copies enter the union (a DFT
 * frequency and its conjugate).
 */
export interface CanonicalBlock {
  ranks: [number, number];
  count: number;
  beta: 1 | 2;
  multiplicity: number;
}

/** What the null distribution of one pair depends on: its blocks and ν = m − 1 (datapoints after centring). */
export interface CanonicalShape {
  blocks: CanonicalBlock[];
  dof: number;
}

/**
 * Why the Gaussian null cannot describe this shape (null: it can). With p + q > ν some canonical
 * correlations are exactly 1 whatever the data, and B of the construction is singular.
 */
export function gaussianNullLimit(shape: CanonicalShape): string | null {
  for (const { ranks } of shape.blocks) {
    if (ranks[0] + ranks[1] > shape.dof) {
      return `${ranks[0]} + ${ranks[1]} directions exceed the ${shape.dof + 1} datapoints less one`;
    }
  }
  return null;
}

/** One draw of the canonical correlations of a block, descending, `count` of them (zeros beyond the smaller rank). */
export function drawCanonicalCorrelations(block: CanonicalBlock, dof: number, next: Uniform): number[] {
  const p = Math.min(block.ranks[0], block.ranks[1]);
  const q = Math.max(block.ranks[0], block.ranks[1]);
  const out = new Array<number>(block.count).fill(0);
  if (p === 0 || block.count === 0) return out;
  const halfBeta = block.beta / 2;
  const x = jacobiEnsemble(p, halfBeta * (q - p + 1), halfBeta * (dof - q - p + 1), block.beta, next);
  const rho = Array.from(x, (v) => Math.sqrt(Math.min(1, Math.max(0, v)))).sort((s, t) => t - s);
  for (let i = 0; i < Math.min(p, block.count); i++) out[i] = rho[i];
  return out;
}

/**
 * Per-block sums Σρ of `count` draws, memoised: they depend only on the block's dimensions, ν, the
 * seed and the block's index in its pair (a pair's blocks draw from streams of their own, so two
 * blocks of one shape in one pair are independent). A grid meets the same block shapes again and
 * again (a layer at every step against the reference), so most cells cost a lookup. Bounded.
 */
const blockMemo = new Map<string, Float64Array>();
const BLOCK_MEMO_ENTRIES = 16_384;

function blockSums(block: CanonicalBlock, dof: number, seed: number, index: number, count: number): Float64Array {
  const p = Math.min(block.ranks[0], block.ranks[1]);
  const q = Math.max(block.ranks[0], block.ranks[1]);
  const key = `${seed}|${index}|${count}|${block.beta}|${p}|${q}|${block.count}|${dof}`;
  const hit = blockMemo.get(key);
  if (hit) return hit;
  // Block 0 draws from mulberry32(seed) itself; block b from a stream offset by b golden-ratio steps.
  const next = mulberry32((seed + Math.imul(index, 0x9e3779b9)) >>> 0);
  const sums = new Float64Array(count);
  const canonical: CanonicalBlock = { ranks: [p, q], count: block.count, beta: block.beta, multiplicity: 1 };
  for (let d = 0; d < count; d++) sums[d] = drawCanonicalCorrelations(canonical, dof, next).reduce((s, r) => s + r, 0);
  if (blockMemo.size >= BLOCK_MEMO_ENTRIES) blockMemo.delete(blockMemo.keys().next().value!);
  blockMemo.set(key, sums);
  return sums;
}

/**
 * `count` draws of the mean canonical correlation (the paper's ρ̄ over the union of every block's
 * correlations, each block counted `multiplicity` times: the similarity of cca, svcca and their DFT
 * reduction) under independence, reproducible from `seed`: pairs of one shape get the same draws.
 * Throws where gaussianNullLimit says the shape is beyond the null.
 */
export function gaussianNullDraws(shape: CanonicalShape, seed: number, count: number): number[] {
  const limit = gaussianNullLimit(shape);
  if (limit) throw new Error(`the Gaussian null does not apply: ${limit}`);
  const total = shape.blocks.reduce((s, b) => s + b.multiplicity * b.count, 0);
  const draws = new Array<number>(count).fill(0);
  if (total === 0) return draws;
  shape.blocks.forEach((block, index) => {
    if (block.count === 0) return;
    const sums = blockSums(block, shape.dof, seed, index, count);
    for (let d = 0; d < count; d++) draws[d] += (block.multiplicity * sums[d]) / total;
  });
  return draws;
}

/**
 * The shape of a whole-layer pair (cca, svcca): `rows` = each side's whitened directions (Z's rows,
 * clipped null directions left out), `kept` = each side's kept dimensions (the count of correlations).
 */
export function denseCanonicalShape(rows: [number, number], kept: [number, number], datapoints: number): CanonicalShape {
  return { blocks: [{ ranks: rows, count: Math.min(kept[0], kept[1]), beta: 1, multiplicity: 1 }], dof: datapoints - 1 };
}

/** A frequency (u, v) of an h × w layer is its own conjugate (DC, Nyquist): its DFT block is real. */
const selfConjugate = ([u, v]: [number, number], size: { height: number; width: number }) => (2 * u) % size.height === 0 && (2 * v) % size.width === 0;

/**
 * One shared frequency of a DFT pair (src/math/dft.ts) as a block of the null. `rows` and `kept` count
 * the real embedding's dimensions (2 per complex one), as the per-frequency factors do; the block's
 * correlations are the complex ones (every other embedded one). A frequency real in both layers (DC,
 * Nyquist: its imaginary parts vanish, the embedding repeats the real block) is real CCA, β = 1; any
 * other is complex CCA, β = 2 (a circular complex Gaussian side makes the complex Jacobi ensemble
 * whatever the other side is).
 */
export function frequencyBlock(
  frequency: { indexA: [number, number]; indexB: [number, number]; multiplicity: number },
  sizes: [{ height: number; width: number }, { height: number; width: number }],
  rows: [number, number],
  kept: [number, number],
): CanonicalBlock {
  const real = selfConjugate(frequency.indexA, sizes[0]) && selfConjugate(frequency.indexB, sizes[1]);
  return {
    ranks: [Math.ceil(rows[0] / 2), Math.ceil(rows[1] / 2)],
    count: Math.ceil(Math.min(kept[0], kept[1]) / 2),
    beta: real ? 1 : 2,
    multiplicity: frequency.multiplicity,
  };
}
