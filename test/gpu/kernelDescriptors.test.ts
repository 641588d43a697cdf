// Every kernel descriptor against its WGSL (no GPU needed): the parameter struct's fields, in order
// and type, are what the encoder writes; the bindings' kinds are what the shader declares; every
// override exists in the source and sizes the workgroups; the encoded words decode, field by field
// by name, to the sizes given.
import { describe, expect, it } from 'vitest';
import { blockSquaresKernel } from '../../src/gpu/kernels/blockSquares';
import { encodeStruct, MAX_WORKGROUPS_PER_DIMENSION, structLayout, type AnyKernel, type BindingKind, type StructLayout } from '../../src/gpu/kernel';
import { dftAxisKernel, embedBlocksKernel, frequencyMeansKernel } from '../../src/gpu/kernels/dft';
import { jacobiMeasureKernel, jacobiRotateKernel, jacobiSweepsKernel } from '../../src/gpu/kernels/jacobi';
import { PRODUCT_FLAGS, productKernel, productReduceKernel, productTiledKernel, type ProductBatch } from '../../src/gpu/kernels/product';

/** Strips WGSL comments. */
const code = (source: string) => source.replace(/\/\/[^\n]*/g, '');

/** The fields (name, type) of `struct name { … }` in a WGSL source. */
function wgslStruct(source: string, name: string): [string, string][] {
  const matches = [...code(source).matchAll(new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`, 'g'))];
  expect(matches, `struct ${name}`).toHaveLength(1);
  return matches[0][1]
    .split(',')
    .map((field) => field.trim())
    .filter(Boolean)
    .map((field) => {
      const [fieldName, type] = field.split(':').map((part) => part.trim());
      return [fieldName, type];
    });
}

/** Binding kinds of @group(0), in @binding order, with each binding's declared type. */
function wgslBindings(source: string): { kind: BindingKind; type: string }[] {
  const bindings = [...code(source).matchAll(/@group\(0\)\s*@binding\((\d+)\)\s*var<([^>]+)>\s*\w+\s*:\s*([^;]+);/g)].map((m) => {
    const space = m[2].replace(/\s/g, '');
    const kind: BindingKind = space === 'uniform' ? 'uniform' : space === 'storage,read' ? 'read-only-storage' : 'storage';
    return { index: Number(m[1]), kind, type: m[3].trim() };
  });
  bindings.sort((a, b) => a.index - b.index);
  bindings.forEach((b, i) => expect(b.index).toBe(i));
  return bindings;
}

/** Reads field `name` of the struct at word `at` of `words` (u32, or f32 bits). */
function field(layout: StructLayout, words: Uint32Array, name: string, at = 0): number {
  const index = layout.fields.findIndex(([fieldName]) => fieldName === name);
  expect(index, `field ${name}`).toBeGreaterThanOrEqual(0);
  return layout.fields[index][1] === 'f32' ? new Float32Array(words.buffer, words.byteOffset, words.length)[at + index] : words[at + index];
}

const batch: ProductBatch = { aOffset: 3, bOffset: 5, cOffset: 7, p: 70, q: 130, k: 11, lda: 13, ldb: 17, ldc: 19, transB: true, accumulate: true, alpha: 0.5 };

/** Each kernel with sizes to encode and, per struct field, the value those sizes must give. */
const CASES: { kernel: AnyKernel; sizes: unknown; expected: Record<string, number>; workgroups: [number, number, number] }[] = [
  {
    kernel: dftAxisKernel,
    sizes: { n: 3, h: 5, w: 7, c: 2, axis: 1 },
    expected: { n: 3, h: 5, w: 7, c: 2, axis: 1, _pad0: 0 },
    workgroups: [Math.ceil(210 / 64), 1, 1],
  },
  {
    kernel: frequencyMeansKernel,
    sizes: { n: 3, h: 5, w: 7, c: 40, blocks: 9 },
    expected: { n: 3, h: 5, w: 7, c: 40, blocks: 9 },
    workgroups: [Math.ceil(360 / 64), 1, 1],
  },
  {
    kernel: embedBlocksKernel,
    sizes: { n: 30, h: 5, w: 7, c: 20, blocks: 9 },
    expected: { n: 30, c: 20, blocks: 9 },
    workgroups: [Math.ceil(60 / 16), Math.ceil(40 / 16), 9],
  },
  { kernel: jacobiRotateKernel, sizes: { n: 34, step: 5, count: 3, vectors: true }, expected: { n: 34, step: 5, count: 3, vectors: 1 }, workgroups: [3, 3, 6] },
  { kernel: jacobiMeasureKernel, sizes: { n: 34, count: 3 }, expected: { n: 34, step: 0, count: 3, vectors: 0 }, workgroups: [1, 3, 1] },
  ...(['workgroup', 'storage'] as const).map((place) => ({
    kernel: jacobiSweepsKernel(place, place === 'workgroup' ? 32 : 128),
    sizes: { n: 30, count: 4, vectors: false, sweepBudget: 3, maxSweeps: 40, tolerance: 2e-7, first: true },
    expected: { n: 30, count: 4, vectors: 0, sweep_budget: 3, max_sweeps: 40, tolerance: Math.fround(2e-7), first: 1, _pad: 0 },
    workgroups: [4, 1, 1] as [number, number, number],
  })),
  {
    kernel: blockSquaresKernel,
    sizes: [
      { offset: 3, rows: 5, cols: 7, ld: 11 },
      { offset: 0, rows: 1, cols: 1, ld: 1 },
    ],
    expected: { offset: 3, rows: 5, cols: 7, ld: 11 },
    workgroups: [2, 1, 1],
  },
  ...([8, 16] as const).map((edge) => ({
    kernel: productKernel(edge),
    sizes: [batch, { ...batch, p: 10, q: 10 }],
    expected: {
      a_offset: 3,
      b_offset: 5,
      c_offset: 7,
      p: 70,
      q: 130,
      k: 11,
      lda: 13,
      ldb: 17,
      ldc: 19,
      flags: PRODUCT_FLAGS.accumulate | PRODUCT_FLAGS.transB,
      alpha: 0.5,
    },
    workgroups: [Math.ceil(130 / (edge * 4)), Math.ceil(70 / (edge * 4)), 2] as [number, number, number],
  })),
  {
    // The same table as product-batched; 128 × 128 output tiles.
    kernel: productTiledKernel,
    sizes: [batch, { ...batch, p: 300, q: 10 }],
    expected: {
      a_offset: 3,
      b_offset: 5,
      c_offset: 7,
      p: 70,
      q: 130,
      k: 11,
      lda: 13,
      ldb: 17,
      ldc: 19,
      flags: PRODUCT_FLAGS.accumulate | PRODUCT_FLAGS.transB,
      alpha: 0.5,
    },
    workgroups: [2, 3, 2],
  },
  {
    kernel: productReduceKernel,
    sizes: [
      { cOffset: 7, ldc: 19, p: 70, q: 130, sOffset: 11, splits: 5, accumulate: true },
      { cOffset: 0, ldc: 3, p: 3, q: 3, sOffset: 0, splits: 2, accumulate: false },
    ],
    expected: { c_offset: 7, ldc: 19, p: 70, q: 130, s_offset: 11, splits: 5, flags: PRODUCT_FLAGS.accumulate, _pad: 0 },
    workgroups: [Math.ceil(130 / 16), Math.ceil(70 / 16), 2],
  },
];

describe('kernel descriptors match their WGSL', () => {
  it.each(CASES.map((c) => [`${c.kernel.name}(${JSON.stringify(c.kernel.overrides)})`, c] as const))('%s', (_, { kernel, sizes, expected, workgroups }) => {
    // The parameter struct: the encoder's fields, in order and type, are the shader's.
    expect(kernel.params.fields.map(([name, type]) => [name, type])).toEqual(wgslStruct(kernel.source, kernel.params.struct));
    // Bindings: the kinds the runtime lays out are those the shader declares, and the parameter
    // binding holds the struct (a uniform, or product-batched's storage table of them).
    const declared = wgslBindings(kernel.source);
    expect(declared.map((b) => b.kind)).toEqual(kernel.bindings);
    expect(declared.some((b) => b.type === kernel.params.struct || b.type === `array<${kernel.params.struct}>`)).toBe(true);
    // Overrides exist in the source, and one of them sizes the workgroup.
    for (const name of Object.keys(kernel.overrides)) expect(code(kernel.source)).toMatch(new RegExp(`override\\s+${name}\\s*:`));
    expect(code(kernel.source)).toMatch(/@workgroup_size\(WG/);
    // The words decode, by field name, to the sizes given; padding is zero.
    const call = kernel as unknown as { encodeUniforms(s: unknown): Uint32Array; workgroups(s: unknown): [number, number, number] };
    const words = call.encodeUniforms(sizes);
    const entries = Array.isArray(sizes) ? sizes.length : 1;
    expect(words.length).toBe(entries * kernel.params.fields.length);
    for (const [name, value] of Object.entries(expected)) expect(field(kernel.params, words, name), name).toBe(value);
    expect(call.workgroups(sizes)).toEqual(workgroups);
  });

  it('the product table encodes every batch at its own stride, with each flag bit', () => {
    const kernel = productKernel(16);
    const stride = kernel.params.fields.length;
    const words = kernel.encodeUniforms([batch, { ...batch, aOffset: 99, accumulate: false, transA: true, transB: false, symmetric: true, alpha: undefined }]);
    expect(field(kernel.params, words, 'a_offset', stride)).toBe(99);
    expect(field(kernel.params, words, 'flags', stride)).toBe(PRODUCT_FLAGS.transA | PRODUCT_FLAGS.symmetric);
    expect(field(kernel.params, words, 'alpha', stride)).toBe(1);
  });

  it('1-D work past the per-dimension limit folds into y (dft-axis rebuilds the index from num_workgroups)', () => {
    const sizes = { n: 4096, h: 32, w: 32, c: 64, axis: 0 as const }; // 2^28 elements, 2^22 workgroups of 64
    const [x, y, z] = dftAxisKernel.workgroups(sizes);
    expect(x).toBe(MAX_WORKGROUPS_PER_DIMENSION);
    expect(x * y * 64).toBeGreaterThanOrEqual(4096 * 32 * 32 * 64);
    expect(z).toBe(1);
    expect(dftAxisKernel.source).toMatch(/num_workgroups/);
  });

  it('encodeStruct writes u32 and f32 fields and zero padding', () => {
    const layout = structLayout('Example', [
      ['count', 'u32'],
      ['scale', 'f32'],
      ['_pad', 'u32'],
    ]);
    const words = encodeStruct(layout, { count: 7, scale: -1.5 });
    expect([...words.subarray(0, 1), new Float32Array(words.buffer)[1], words[2]]).toEqual([7, -1.5, 0]);
  });
});
