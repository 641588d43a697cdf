// A kernel is a pure description: WGSL source, the overrides it is compiled with and how its
// bindings are laid out. It holds no device; the runtime compiles it (once per name + overrides)
// and dispatches it. Sizes travel in buffers/uniforms, so one pipeline serves every layer.

export type BindingKind = 'storage' | 'read-only-storage' | 'uniform';

export interface Kernel {
  /** Unique name, also the label prefix of every GPU object made for it ("jacobi-rotate.pipeline"). */
  name: string;
  /** WGSL source with one @compute entry point named `main`. */
  source: string;
  /** Pipeline-overridable constants (workgroup and tile sizes). */
  overrides: Record<string, number>;
  /** Binding kinds in @binding order, all in @group(0). */
  bindings: BindingKind[];
}

/** Stable cache key of a compiled pipeline. */
export function pipelineKey(kernel: Kernel): string {
  const overrides = Object.entries(kernel.overrides)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${kernel.name}(${overrides})`;
}

export const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
