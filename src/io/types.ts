// Shared types of the file readers. Nothing here knows about the DOM, React or the store:
// inputs are Blobs (a browser File is a Blob; in Node, fs.openAsBlob gives one) or bytes.

/** An array read from a file, always in C (row-major) order: Fortran-ordered .npy data is
 *  re-laid into C order on read, so `shape` and `data` agree the way numpy's C order does. */
export interface NdArray {
  /** Dimensions, outermost first, exactly as stored (no layout guessing has happened yet). */
  shape: number[];
  /** The stored dtype as the file spells it ('<f4', '>f8', '|u1', 'F16', 'BF16', …). */
  dtype: string;
  /** Values converted to floats: f8 stays Float64Array; f4, f2, bf16 and integers become Float32Array
   *  (integers wider than 24 bits lose exactness, acceptable for activations). */
  data: Float32Array | Float64Array;
}

/** A bad input. `message` is one line, already prefixed with the source: "FILE[:MEMBER]: what is wrong". */
export class InputError extends Error {
  readonly source: string;
  readonly detail: string;
  constructor(source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'InputError';
    this.source = source;
    this.detail = detail;
  }
}

/** Limits checked against declared sizes before anything is allocated. */
export interface ReadLimits {
  /** Largest array (decoded, in bytes of its stored dtype) we agree to allocate. */
  maxArrayBytes: number;
  /** Largest header we agree to parse (npy header, safetensors JSON header), in bytes. */
  maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxArrayBytes: 2 ** 31, // 2 GiB: above this a browser tab cannot hold the array anyway
  maxHeaderBytes: 1 << 24, // 16 MiB of JSON header is already absurd
};

/** How the axes of an activation array are laid out. */
export type Layout = 'datapoints-first' | 'neurons-first';
/** Spatial layout of a 4-D conv activation (datapoints first): NCHW (PyTorch) or NHWC (Keras/Flax/svcca tutorials). */
export type ConvLayout = 'nchw' | 'nhwc';

export interface DetectedLayout {
  layout: Layout;
  /** Set for 4-D arrays (conv layers); 3-D arrays (N, T, D) are treated as datapoints × (T·D) or positions. */
  convLayout?: ConvLayout;
  /** One sentence saying what was assumed and why, shown to the user. */
  reason: string;
  /** Set when the datapoints axis of a 2-D array was guessed from its sizes alone (no other array
   *  confirmed it): the result then carries a warning saying so. */
  guessed?: true;
}

/** One array of a bundle: layer `layer` at training step `step` of run `run`. */
export interface BundleEntry {
  /** null when the bundle has a single, unnamed run. */
  run: string | null;
  step: number;
  layer: string;
  /** How messages name it: "bundle.npz:step_10/conv1", "runs/a/step_10/conv1.npy", "step_10.safetensors:conv1". */
  source: string;
  /** Shape and dtype as declared by the header (known before the data is read). */
  shape: number[];
  dtype: string;
  /** Reads and decodes the array (only now is the data touched). */
  load(): Promise<NdArray>;
}

/** Many layers × checkpoints (× runs) found in a set of files. */
export interface Bundle {
  /** The file or folder name the user gave. */
  name: string;
  /** Run names in order of appearance; [null] for a bundle without runs. */
  runs: (string | null)[];
  /** Every step found, ascending numerically. */
  steps: number[];
  /** Layer names in the order they first appear. */
  layers: string[];
  entries: BundleEntry[];
  /** Files or members that follow no bundle convention (listed to the user, never silently dropped). */
  unmatched: string[];
  /** Optional per-datapoint labels (a `labels` member / labels.npy), length = datapoints. */
  labels: NdArray | null;
  /** Parsed manifest.json member or file, if present. */
  manifest: unknown | null;
}

/** A file handed to openBundle: its path relative to what the user dropped, and its content. */
export interface InputFile {
  path: string;
  blob: Blob;
}
