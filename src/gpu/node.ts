// WebGPU in Node, from the optional `webgpu` package (Dawn's Node bindings). Used by the CLI, the
// benchmark and the Node parity tests; never by the browser bundle (nothing in src/ui or src/worker
// imports this file).

/** The one Dawn instance of this process, kept for the life of the process. Why: the object that
 *  `create()` returns owns Dawn's instance, and the package's event pump keeps calling
 *  `InstanceBase::ProcessEvents` on it from a timer. If no JavaScript reference holds it, the
 *  garbage collector frees the instance while that timer still runs, and the process aborts
 *  (`std::system_error`, "The futex facility returned an unexpected error code", or a segfault
 *  in pthread_mutex_lock), on any Vulkan driver, as soon as a job lasts long enough for a
 *  collection. Holding it here is the whole fix. */
let dawnInstance: GPU | undefined;
let loadFailure: string | undefined;

/**
 * The `GPU` object for Node (like `navigator.gpu`), or undefined when the `webgpu` package is not
 * installed or cannot load here; `nodeGpuFailure()` then says why.
 */
export async function nodeGpu(): Promise<GPU | undefined> {
  if (dawnInstance) return dawnInstance;
  try {
    const { create, globals } = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: object };
    // The WebGPU constants (GPUBufferUsage, GPUMapMode, …) the runtime uses, as in a browser.
    Object.assign(globalThis, globals);
    dawnInstance = create([]);
    return dawnInstance;
  } catch (error) {
    loadFailure = (error as Error).message;
    return undefined;
  }
}

/** Why `nodeGpu()` returned nothing, if it did. */
export function nodeGpuFailure(): string | undefined {
  return loadFailure;
}
