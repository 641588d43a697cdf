// The batched product kernel (shaders/product-batched.wgsl) on Dawn against float64 products:
// general and symmetric (Gram) products, transposed operands, accumulation over datapoint chunks,
// several tiles per side, both tile sizes, several products in one dispatch.
// Matrices are row-major; X is neurons × datapoints (n × m), so X·Xᵀ is the n × n Gram.
import { beforeAll, describe, expect, it } from 'vitest';
import { registerGpuBackend, resolveBackend } from '../../src/analysis/backend';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import { productEdge, type ProductBatch } from '../../src/gpu/kernels/product';
import { nodeGpu } from '../../src/gpu/node';
import { runProducts } from '../../src/gpu/ops';
import type { GpuRuntime } from '../../src/gpu/runtime';
import { multiplyABt, transpose, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { TOL, expectClose } from '../helpers/tolerance';

let rt: GpuRuntime;

beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  rt = ((await resolveBackend('webgpu')).backend as GpuBackend).runtime;
}, 60_000);

/** Entries against the float64 product, relative to its largest entry (f32 sums of k ≤ 300 terms). */
function expectProduct(got: Float32Array, want: Matrix, ldc: number, offset: number, label: string): void {
  const rows: number[] = [];
  const expected: number[] = [];
  for (let i = 0; i < want.rows; i++)
    for (let j = 0; j < want.cols; j++) {
      rows.push(got[offset + i * ldc + j]);
      expected.push(want.data[i * want.cols + j]);
    }
  const scale = Math.max(...expected.map(Math.abs));
  expectClose(
    rows.map((v) => v / scale),
    expected.map((v) => v / scale),
    TOL.f32Product,
    label,
  );
}

async function product(a: Float32Array, b: Float32Array | null, batches: ProductBatch[], cWords: number): Promise<Float32Array> {
  const bufferA = rt.upload(a, 'test.a');
  const bufferB = b ? rt.upload(b, 'test.b') : bufferA;
  const c = rt.zeros(cWords * 4, 'test.c');
  runProducts(rt, bufferA, bufferB, c, batches, 'test.product');
  const out = await rt.read(c, cWords * 4, 'test.c');
  for (const buffer of new Set([bufferA, bufferB, c])) rt.release(buffer);
  return out;
}

const f32 = (m: Matrix) => Float32Array.from(m.data);

describe('product kernel on Dawn', () => {
  it.each([
    [20, 300],
    [70, 150],
    [130, 90],
  ])('Gram X·Xᵀ, n = %i, m = %i (symmetric: upper tiles mirrored)', async (n, m) => {
    const x = randn(n, n, m);
    const out = await product(f32(x), null, [{ aOffset: 0, bOffset: 0, cOffset: 0, p: n, q: n, k: m, lda: m, ldb: m, ldc: n }], n * n);
    expectProduct(out, multiplyABt(x, x), n, 0, `gram ${n}`);
  });

  it('a general X·Yᵀ over several tiles, and the tile size that wastes least', async () => {
    const x = randn(1, 70, 200);
    const y = randn(2, 33, 200);
    const batch = { aOffset: 0, bOffset: 0, cOffset: 0, p: 70, q: 33, k: 200, lda: 200, ldb: 200, ldc: 33 };
    const out = await product(f32(x), f32(y), [batch], 70 * 33);
    expectProduct(out, multiplyABt(x, y), 33, 0, 'x·yᵀ');
    expect(productEdge([{ ...batch, p: 32, q: 32 }])).toBe(8);
    expect(productEdge([{ ...batch, p: 64, q: 64 }])).toBe(16);
    expect(productEdge([{ ...batch, p: 128, q: 128 }])).toBe(16);
    expect(productEdge([{ ...batch, p: 128, q: 128, symmetric: true }])).toBe(8); // 10 of 16 small tiles vs 3 of 4 large
  });

  it('transposed operands: P·X with X stored n × m (op(B) = Xᵀ)', async () => {
    const p = randn(3, 5, 40); // 5 directions × 40 neurons
    const x = randn(4, 40, 120); // 40 neurons × 120 datapoints
    const out = await product(
      f32(p),
      f32(x),
      [{ aOffset: 0, bOffset: 0, cOffset: 0, p: 5, q: 120, k: 40, lda: 40, ldb: 120, ldc: 120, transB: true }],
      5 * 120,
    );
    expectProduct(out, multiplyABt(p, transpose(x)), 120, 0, 'p·x');
  });

  it('accumulation over datapoint chunks equals the whole product', async () => {
    const x = randn(5, 30, 256);
    const half = (from: number) => ({
      rows: 30,
      cols: 128,
      data: Float64Array.from({ length: 30 * 128 }, (_, i) => x.data[Math.floor(i / 128) * 256 + from + (i % 128)]),
    });
    const chunks = [half(0), half(128)];
    const c = rt.zeros(30 * 30 * 4, 'test.c');
    for (const [index, chunk] of chunks.entries()) {
      const buffer = rt.upload(f32(chunk), 'test.chunk');
      runProducts(
        rt,
        buffer,
        buffer,
        c,
        [{ aOffset: 0, bOffset: 0, cOffset: 0, p: 30, q: 30, k: 128, lda: 128, ldb: 128, ldc: 30, accumulate: index > 0 }],
        'test.chunked',
      );
      rt.release(buffer);
    }
    const out = await rt.read(c, 30 * 30 * 4, 'test.c');
    rt.release(c);
    expectProduct(out, multiplyABt(x, x), 30, 0, 'chunked gram');
  });

  it('several products of different sizes in one dispatch (stacked layers)', async () => {
    const layers = [randn(6, 12, 100), randn(7, 40, 100), randn(8, 3, 100)];
    const data = new Float32Array(55 * 100);
    let row = 0;
    const batches: ProductBatch[] = layers.map((layer, i) => {
      data.set(f32(layer), row * 100);
      const batch = { aOffset: row * 100, bOffset: row * 100, cOffset: i * 40 * 40, p: layer.rows, q: layer.rows, k: 100, lda: 100, ldb: 100, ldc: 40 };
      row += layer.rows;
      return batch;
    });
    const out = await product(data, null, batches, 3 * 40 * 40);
    layers.forEach((layer, i) => expectProduct(out, multiplyABt(layer, layer), 40, i * 40 * 40, `layer ${i}`));
  });
});
