// The tiled product kernel (shaders/product-tiled.wgsl + product-reduce.wgsl), forced on Dawn's
// SwiftShader adapter (where `auto` would pick product-batched), against float64 products:
// every flag combination (transA, transB, accumulate, alpha, symmetric), the vec4 and the scalar
// load paths (aligned and odd offsets / leading dimensions), sizes that are multiples of neither the
// 128 tile nor 4, several tiles per side, batches of mixed sizes in one dispatch, split-K on and
// off, accumulation over datapoint chunks. Also the planner (pure: no GPU) and the choice by adapter.
// Matrices are row-major; X is neurons × datapoints (n × m), so X·Xᵀ is the n × n Gram.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { registerGpuBackend, resolveBackend } from '../../src/analysis/backend';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import { MIN_SLICE_K, planProducts, TILED_BK, TILED_TILE, tiledTiles, type ProductBatch, type ProductPlan } from '../../src/gpu/kernels/product';
import { nodeGpu } from '../../src/gpu/node';
import { runProducts, type ProductOptions } from '../../src/gpu/ops';
import type { GpuRuntime } from '../../src/gpu/runtime';
import { mulberry32 } from '../../src/math/random';
import { TOL } from '../helpers/tolerance';

let rt: GpuRuntime;

beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  rt = ((await resolveBackend('webgpu')).backend as GpuBackend).runtime;
}, 60_000);

/** Uniform values in [−1, 1) (a seeded stream), as f32 words: what the GPU multiplies. */
function values(seed: number, count: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count }, () => 2 * next() - 1);
}

/** Element (i, kk) of op(X): X stored row-major at `offset` with leading dimension `ld`, or its transpose. */
function opAt(x: Float32Array, offset: number, ld: number, trans: boolean, i: number, kk: number): number {
  return trans ? x[offset + kk * ld + i] : x[offset + i * ld + kk];
}

/**
 * Checks C (read back) against float64: for every entry, |c − (alpha·op(A)_i·op(B)_jᵀ + c₀)| ≤
 * TOL.f32ProductNorms · (|alpha|·‖op(A)_i‖·‖op(B)_j‖ + |c₀|), the forward-error scale of an f32 dot
 * product (its round-off is relative to the norms, not to the entry, which may be near 0).
 * Entries of C outside the products must be untouched (`before` there).
 */
function expectProducts(got: Float32Array, before: Float32Array, a: Float32Array, b: Float32Array, batches: ProductBatch[], label: string): void {
  const written = new Set<number>();
  let worst = 0;
  for (const [index, bt] of batches.entries()) {
    const alpha = bt.alpha ?? 1;
    const normA = Array.from({ length: bt.p }, (_, i) =>
      Math.hypot(...Array.from({ length: bt.k }, (_, kk) => opAt(a, bt.aOffset, bt.lda, !!bt.transA, i, kk))),
    );
    const normB = Array.from({ length: bt.q }, (_, j) =>
      Math.hypot(...Array.from({ length: bt.k }, (_, kk) => opAt(b, bt.bOffset, bt.ldb, !!bt.transB, j, kk))),
    );
    for (let i = 0; i < bt.p; i++)
      for (let j = 0; j < bt.q; j++) {
        const at = bt.cOffset + i * bt.ldc + j;
        let dot = 0;
        for (let kk = 0; kk < bt.k; kk++) dot += opAt(a, bt.aOffset, bt.lda, !!bt.transA, i, kk) * opAt(b, bt.bOffset, bt.ldb, !!bt.transB, j, kk);
        const start = bt.accumulate ? before[at] : 0;
        const want = alpha * dot + start;
        const scale = Math.abs(alpha) * normA[i] * normB[j] + Math.abs(start);
        const error = Math.abs(got[at] - want) / scale;
        worst = Math.max(worst, error);
        if (!(error <= TOL.f32ProductNorms))
          expect.fail(`${label}, product ${index}, C[${i}, ${j}]: got ${got[at]}, expected ${want} (relative error ${error.toExponential(2)})`);
        written.add(at);
      }
  }
  for (let at = 0; at < got.length; at++) if (!written.has(at) && got[at] !== before[at]) expect.fail(`${label}: C word ${at} outside the products changed`);
  if (process.env.PRODUCT_WORST) console.log(`${label}: worst relative error ${worst.toExponential(2)}`);
}

/** Runs `batches` on buffers holding a and b (one buffer when b is null: a Gram), C starting as `before`. */
async function runOn(a: Float32Array, b: Float32Array | null, before: Float32Array, batches: ProductBatch[], options: ProductOptions): Promise<Float32Array> {
  const bufferA = rt.upload(a, 'test.a');
  const bufferB = b ? rt.upload(b, 'test.b') : bufferA;
  const c = rt.upload(before, 'test.c');
  runProducts(rt, bufferA, bufferB, c, batches, 'test.tiled', options);
  const out = await rt.read(c, before.byteLength, 'test.c');
  for (const buffer of new Set([bufferA, bufferB, c])) rt.release(buffer);
  return out;
}

const TILED: ProductOptions = { kernel: 'tiled' };
/** More workgroups wanted than any test product has tiles: every product long enough is split. */
const SPLIT: ProductOptions = { kernel: 'tiled', targetWorkgroups: 4096 };
/** One workgroup wanted: never split. */
const UNSPLIT: ProductOptions = { kernel: 'tiled', targetWorkgroups: 1 };

/** Storage of an r × c operand (op = its transpose when trans) at `offset` with leading dimension `ld`. */
function operandWords(rows: number, k: number, trans: boolean, offset: number, ld: number): number {
  return offset + (trans ? k : rows) * ld;
}

describe('product-tiled on Dawn (forced on SwiftShader)', () => {
  // p, q, k: multiples of neither 128 nor 4; p spans two tiles. Each layout is run with aligned
  // storage (offsets and leading dimensions multiples of 4: vec4 loads) and odd storage (scalar).
  const p = 133;
  const q = 70;
  const k = 45;
  const flagCases = [false, true].flatMap((transA) =>
    [false, true].flatMap((transB) =>
      [false, true].flatMap((accumulate) => [false, true].map((aligned) => ({ transA, transB, accumulate, aligned, alpha: accumulate ? -0.5 : 1 }))),
    ),
  );

  it.each(flagCases)(
    'general: transA $transA, transB $transB, accumulate $accumulate, aligned $aligned',
    async ({ transA, transB, accumulate, aligned, alpha }) => {
      const [aOffset, bOffset, cOffset] = aligned ? [8, 4, 0] : [3, 5, 1];
      const pad = aligned ? 3 : 2; // leading dimensions: 48 or 47 for k = 45 (aligned: rounded up to 4, + 0/4)
      const lda = aligned ? Math.ceil(((transA ? p : k) + pad) / 4) * 4 : (transA ? p : k) + pad;
      const ldb = aligned ? Math.ceil(((transB ? q : k) + pad) / 4) * 4 : (transB ? q : k) + pad;
      const ldc = q + 3;
      const a = values(1, operandWords(p, k, transA, aOffset, lda));
      const b = values(2, operandWords(q, k, transB, bOffset, ldb));
      const before = values(3, cOffset + p * ldc);
      const batch: ProductBatch = { aOffset, bOffset, cOffset, p, q, k, lda, ldb, ldc, transA, transB, accumulate, alpha };
      const out = await runOn(a, b, before, [batch], TILED);
      expectProducts(out, before, a, b, [batch], `${JSON.stringify({ transA, transB, accumulate, aligned })}`);
    },
  );

  it.each([
    { trans: false, aligned: true },
    { trans: false, aligned: false },
    { trans: true, aligned: true },
    { trans: true, aligned: false },
  ])('symmetric Gram over 3 × 3 tiles, upper tiles mirrored: trans $trans, aligned $aligned', async ({ trans, aligned }) => {
    const n = 301; // 3 tiles per side, the last one 45 wide
    const m = 37;
    const ld = aligned ? (trans ? 304 : 40) : trans ? n : m;
    const offset = aligned ? 4 : 1;
    const x = values(4, operandWords(n, m, trans, offset, ld));
    const before = new Float32Array(n * n);
    const batch: ProductBatch = {
      aOffset: offset,
      bOffset: offset,
      cOffset: 0,
      p: n,
      q: n,
      k: m,
      lda: ld,
      ldb: ld,
      ldc: n,
      transA: trans,
      transB: trans,
      alpha: 0.25,
    };
    const plan = planProducts([{ ...batch, symmetric: true }], { software: true, ...TILED, maxScratchWords: 1 << 24 });
    expect(plan.kernel === 'tiled' && plan.direct[0].symmetric).toBe(true); // runProducts sees the Gram (same buffer)
    const out = await runOn(x, null, before, [batch], TILED);
    expectProducts(out, before, x, x, [batch], `gram trans ${trans}`);
  });

  it('several products of mixed sizes and flags in one dispatch (layers stacked in one buffer)', async () => {
    // Layers of 12, 140 and 3 neurons × 90 datapoints, stacked by rows; their Grams and a cross
    // product of layer 1 with layer 0, each in its own block of C.
    const widths = [12, 140, 3];
    const m = 90;
    const x = values(5, 155 * m + 2);
    const rows = [0, 12, 152];
    const batches: ProductBatch[] = widths.map((n, i) => ({
      aOffset: rows[i] * m,
      bOffset: rows[i] * m,
      cOffset: i * 140 * 140,
      p: n,
      q: n,
      k: m,
      lda: m,
      ldb: m,
      ldc: 140,
    }));
    batches.push({ aOffset: 12 * m, bOffset: 0, cOffset: 3 * 140 * 140, p: 140, q: 12, k: m - 7, lda: m, ldb: m, ldc: 140, alpha: 2 });
    const before = new Float32Array(4 * 140 * 140);
    const out = await runOn(x, null, before, batches, TILED);
    expectProducts(out, before, x, x, batches, 'mixed batch');
  });

  it.each([
    ['split-K', SPLIT],
    ['no split', UNSPLIT],
  ] as const)('a long contracted dimension (k = 1037), general and Gram in one table, %s', async (name, options) => {
    const n = 70;
    const m = 1037;
    const x = values(6, 2 * n * m + 1);
    const gram: ProductBatch = { aOffset: 0, bOffset: 0, cOffset: 0, p: n, q: n, k: m, lda: m, ldb: m, ldc: n };
    const cross: ProductBatch = { aOffset: 0, bOffset: n * m + 1, cOffset: n * n, p: n, q: n - 3, k: m, lda: m, ldb: m, ldc: n, accumulate: true };
    const plan = planProducts([{ ...gram, symmetric: true }, cross], {
      software: true,
      ...options,
      maxScratchWords: Math.floor(Math.min(2 ** 28, rt.maxStorageBindingBytes) / 4),
    });
    expect(plan.kernel === 'tiled' && plan.split).toBe(name === 'split-K' ? Math.floor(m / MIN_SLICE_K) : 1);
    const before = values(7, 2 * n * n);
    const out = await runOn(x, null, before, [gram, cross], options);
    expectProducts(out, before, x, x, [gram, cross], name);
  });

  it.each([
    ['split-K', SPLIT],
    ['no split', UNSPLIT],
  ] as const)('accumulation over three datapoint chunks equals the whole product (%s), W·X (transB) too', async (name, options) => {
    // X: 50 neurons × 3 chunks of 600 datapoints, each chunk uploaded on its own (rows of 600);
    // W: 9 × 50. Per chunk: C += X_c·X_cᵀ (Gram) and D_c = W·X_c (op(B) = X_cᵀ, k = neurons).
    const n = 50;
    const m = 600;
    const chunks = [0, 1, 2].map((i) => values(10 + i, n * m));
    const w = values(13, 9 * n);
    const c = rt.zeros(n * n * 4, 'test.c');
    const d = rt.zeros(9 * m * 3 * 4, 'test.d');
    const wBuffer = rt.upload(w, 'test.w');
    const batches = chunks.map((_, i) => ({ aOffset: 0, bOffset: 0, cOffset: 0, p: n, q: n, k: m, lda: m, ldb: m, ldc: n, accumulate: i > 0 }));
    for (const [i, chunk] of chunks.entries()) {
      const buffer = rt.upload(chunk, 'test.chunk');
      runProducts(rt, buffer, buffer, c, [batches[i]], 'test.chunked', options);
      runProducts(
        rt,
        wBuffer,
        buffer,
        d,
        [{ aOffset: 0, bOffset: 0, cOffset: i * 9 * m, p: 9, q: m, k: n, lda: n, ldb: m, ldc: m, transB: true }],
        'test.wx',
        options,
      );
      rt.release(buffer);
    }
    const out = await rt.read(c, n * n * 4, 'test.c');
    const projected = await rt.read(d, 9 * m * 3 * 4, 'test.d');
    for (const buffer of [c, d, wBuffer]) rt.release(buffer);
    // The whole X (n × 3m) in one array: the reference product over all datapoints.
    const whole = new Float32Array(n * 3 * m);
    for (let row = 0; row < n; row++) chunks.forEach((chunk, i) => whole.set(chunk.subarray(row * m, (row + 1) * m), row * 3 * m + i * m));
    expectProducts(
      out,
      new Float32Array(n * n),
      whole,
      whole,
      [{ aOffset: 0, bOffset: 0, cOffset: 0, p: n, q: n, k: 3 * m, lda: 3 * m, ldb: 3 * m, ldc: n }],
      `chunked gram, ${name}`,
    );
    expectProducts(
      projected,
      new Float32Array(projected.length),
      w,
      whole,
      [0, 1, 2].map((i) => ({ aOffset: 0, bOffset: i * m, cOffset: i * 9 * m, p: 9, q: m, k: n, lda: n, ldb: 3 * m, ldc: m, transB: true })),
      `W·X per chunk, ${name}`,
    );
  });
});

describe('runProducts picks the kernel', () => {
  /** The kernels runProducts dispatches for one 40 × 40 Gram over 600 datapoints. */
  async function dispatched(options: ProductOptions = {}): Promise<string[]> {
    const spy = vi.spyOn(rt, 'dispatch');
    try {
      await runOn(
        values(20, 40 * 600),
        null,
        new Float32Array(40 * 40),
        [{ aOffset: 0, bOffset: 0, cOffset: 0, p: 40, q: 40, k: 600, lda: 600, ldb: 600, ldc: 40 }],
        options,
      );
      return spy.mock.calls.map(([, kernel]) => kernel.name);
    } finally {
      spy.mockRestore();
    }
  }

  it('by adapter (product-batched on SwiftShader); rt.productKernel forces either kernel for every caller', async () => {
    const tiled = ['product-tiled', 'product-reduce']; // 1 tile of 128: split into 2 slices of ≥ 256 datapoints
    expect(await dispatched()).toEqual(rt.software ? ['product-batched'] : tiled);
    try {
      rt.productKernel = 'tiled';
      expect(await dispatched()).toEqual(tiled);
      expect(await dispatched({ targetWorkgroups: 1 })).toEqual(['product-tiled']);
      expect(await dispatched({ kernel: 'batched' })).toEqual(['product-batched']); // the call's option wins
      rt.productKernel = 'batched';
      expect(await dispatched()).toEqual(['product-batched']);
    } finally {
      rt.productKernel = 'auto';
    }
  });
});

describe('planProducts (which kernel, which split)', () => {
  const gram = (n: number, m: number): ProductBatch => ({ aOffset: 0, bOffset: 0, cOffset: 0, p: n, q: n, k: m, lda: m, ldb: m, ldc: n, symmetric: true });
  const limits = { maxScratchWords: 2 ** 26 };
  const tiled = (plan: ProductPlan) => {
    if (plan.kernel !== 'tiled') throw new Error('expected the tiled kernel');
    return plan;
  };

  it('product-tiled on a hardware adapter, product-batched on a software one, unless forced', () => {
    expect(planProducts([gram(64, 500)], { software: false, ...limits }).kernel).toBe('tiled');
    expect(planProducts([gram(64, 500)], { software: true, ...limits }).kernel).toBe('batched');
    expect(planProducts([gram(64, 500)], { software: true, kernel: 'tiled', ...limits }).kernel).toBe('tiled');
    expect(planProducts([gram(64, 500)], { software: false, kernel: 'batched', ...limits }).kernel).toBe('batched');
  });

  it('a 512 × 512 Gram over m = 5000 is split to fill the GPU; slices cover the datapoints once, BK-aligned', () => {
    const plan = tiled(planProducts([gram(512, 5000)], { software: false, ...limits }));
    expect(tiledTiles(gram(512, 5000))).toBe(10); // 4 × 4 tiles of 128, 10 on and above the diagonal
    expect(plan.direct).toEqual([]);
    expect(plan.split).toBe(19); // ⌈256 / 10⌉ = 26 wanted, at most ⌊5000 / 256⌋ = 19 slices
    expect(plan.partial).toHaveLength(19); // 190 workgroups instead of 10
    expect(plan.partial.reduce((sum, b) => sum + b.k, 0)).toBe(5000);
    plan.partial.forEach((slice, s) => {
      expect(slice.aOffset % TILED_BK).toBe(0);
      expect(slice.aOffset).toBe(plan.partial.slice(0, s).reduce((sum, b) => sum + b.k, 0));
      expect(slice).toMatchObject({ cOffset: s * 512 * 512, ldc: 512, accumulate: false, symmetric: true });
    });
    expect(plan.reduce).toEqual([{ cOffset: 0, ldc: 512, p: 512, q: 512, sOffset: 0, splits: 19, accumulate: false }]);
    expect(plan.scratchWords).toBe(19 * 512 * 512);
  });

  it('no split when the tiles already fill the target, or the contracted dimension is short', () => {
    // 10 layers × 36 upper tiles of a 1024 Gram = 360 ≥ 256 workgroups.
    expect(tiled(planProducts(new Array(10).fill(gram(1024, 10000)), { software: false, ...limits })).split).toBe(1);
    // k = 300 < 2 · MIN_SLICE_K: one slice only.
    const short = tiled(planProducts([gram(128, 300)], { software: false, ...limits }));
    expect([short.split, short.direct.length, short.partial.length]).toEqual([1, 1, 0]);
  });

  it('transposed operands are sliced along their rows; the split halves until the scratch fits', () => {
    const batch: ProductBatch = {
      aOffset: 4,
      bOffset: 8,
      cOffset: 0,
      p: 256,
      q: 256,
      k: 4096,
      lda: 256,
      ldb: 260,
      ldc: 256,
      transA: true,
      transB: true,
      accumulate: true,
    };
    const plan = tiled(planProducts([batch], { software: false, ...limits }));
    expect(plan.split).toBe(16); // 4 tiles: ⌈256 / 4⌉ = 64 wanted, ⌊4096 / 256⌋ = 16
    expect(plan.partial[1]).toMatchObject({ aOffset: 4 + 256 * 256, bOffset: 8 + 256 * 260, k: 256, accumulate: false });
    expect(plan.reduce[0].accumulate).toBe(true);
    const small = tiled(planProducts([batch], { software: false, maxScratchWords: 5 * 256 * 256 }));
    expect(small.split).toBe(4); // 16 → 8 → 4 slices of 256 × 256 fit in 5 blocks
    expect(small.scratchWords).toBeLessThanOrEqual(5 * 256 * 256);
  });

  it('the tile edge the shader computes', () => {
    expect(tiledTiles({ ...gram(TILED_TILE + 1, 10), symmetric: false, q: 2 * TILED_TILE })).toBe(4);
  });
});
