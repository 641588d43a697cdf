// A kernel is a pure description: WGSL source, the overrides it is compiled with, how its bindings
// are laid out, and, from the problem sizes, its dispatch size and the words of its parameter struct.
// It holds no device; the runtime compiles it (once per name + overrides) and dispatches it. Sizes
// travel in buffers/uniforms, so one pipeline serves every layer.

export type BindingKind = 'storage' | 'read-only-storage' | 'uniform';

/** Largest workgroup count per dimension WebGPU guarantees (maxComputeWorkgroupsPerDimension). */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/** A 4-byte WGSL scalar: every field of the kernels' parameter structs is one. */
export type ScalarType = 'u32' | 'f32';

/**
 * A WGSL struct of 4-byte scalars, field by field in declaration order, as the shader declares it
 * (test/gpu/kernelDescriptors.test.ts parses the WGSL and compares). Fields whose name starts with
 * `_` are padding and are written as 0.
 */
export interface StructLayout<F extends string = string> {
  /** The struct's name in the WGSL source. */
  struct: string;
  fields: readonly (readonly [name: F, type: ScalarType])[];
}

/** The values a struct needs: every field but the padding (booleans are written as 1 / 0). */
export type StructValues<F extends string> = Record<Exclude<F, `_${string}`>, number | boolean>;

export function structLayout<const F extends string>(struct: string, fields: readonly (readonly [F, ScalarType])[]): StructLayout<F> {
  return { struct, fields };
}

/**
 * The words of one struct, u32 fields as integers and f32 fields as their bit patterns, written into
 * `out` at word `at` (a fresh array by default).
 */
export function encodeStruct<F extends string>(
  layout: StructLayout<F>,
  values: StructValues<F>,
  out: Uint32Array<ArrayBuffer> = new Uint32Array(layout.fields.length),
  at = 0,
): Uint32Array<ArrayBuffer> {
  const floats = new Float32Array(out.buffer, out.byteOffset, out.length);
  layout.fields.forEach(([name, type], index) => {
    const value = name.startsWith('_') ? 0 : Number((values as Record<string, number | boolean>)[name]);
    if (type === 'f32') floats[at + index] = value;
    else out[at + index] = value;
  });
  return out;
}

export interface Kernel<Sizes = never> {
  /** Unique name, also the label prefix of every GPU object made for it ("jacobi-rotate.pipeline"). */
  name: string;
  /** WGSL source with one @compute entry point named `main`. */
  source: string;
  /** Pipeline-overridable constants (workgroup and tile sizes). */
  overrides: Record<string, number>;
  /** Binding kinds in @binding order, all in @group(0). */
  bindings: BindingKind[];
  /** The struct its parameter binding holds: the `uniform` binding's Params, or the batch table's
   *  element for product-batched (a storage array, since one dispatch carries many products). */
  params: StructLayout;
  /** Workgroups of one dispatch for these sizes, from the same workgroup constant as `overrides`. */
  workgroups(sizes: Sizes): [number, number, number];
  /** The parameter binding's words for these sizes (`params`, in order). */
  encodeUniforms(sizes: Sizes): Uint32Array<ArrayBuffer>;
}

/** Any kernel, whatever its sizes (what the runtime compiles and binds). */
export type AnyKernel = Kernel<never>;

/** Stable cache key of a compiled pipeline. */
export function pipelineKey(kernel: AnyKernel): string {
  const overrides = Object.entries(kernel.overrides)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${kernel.name}(${overrides})`;
}

export const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
