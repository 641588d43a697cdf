// Node-only helpers for the CLI: files and folders on disk → the Blob-based readers. This is the one
// module of src/io that imports node: modules; everything else also runs in the browser.
//
// Shape convention: arrays are returned as stored (C order, the file's shape); nothing is
// transposed to neurons × datapoints here.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { openArrays, sniffFormat } from './arrays';
import { openBundle } from './bundle';
import type { OpenedBundle } from './bundle';
import { nameOfPaths } from './inputName';
import { ARRAY_EXTENSIONS, arrayExtension, orList } from './formats';
import type { ArrayFormat } from './formats';
import { DEFAULT_LIMITS, InputError } from './types';
import type { Bundle, InputFile, NdArray, ReadLimits } from './types';

/** `FILE.EXT:NAME` for any extension openArrays reads (the first such extension followed by ':'):
 *  `a.npz:fc1`, `b.pt:layer1.0.conv`, `c.h5:model/conv1`. */
const MEMBER_REF = new RegExp(`^(.+?(?:${ARRAY_EXTENSIONS.map((e) => e.replace('.', '\\.')).join('|')})):(.+)$`, 'i');

/**
 * A file on disk as a Blob (read lazily, slice by slice); InputError "PATH: no such file" when absent.
 * `sharedReads`: its array data is read into SharedArrayBuffers (FileBlob.readLarge says why).
 */
export async function openPathAsBlob(path: string, sharedReads = false): Promise<Blob> {
  const info = await statOrFail(path);
  if (info.isDirectory()) throw new InputError(path, 'is a folder, not a file');
  return new FileBlob(path, 0, info.size, { size: info.size, mtimeMs: info.mtimeMs }, sharedReads);
}

/**
 * A Blob over a file on disk whose reads are positioned reads (open, read the range into one
 * buffer of exactly its size, close): reading a member of a 6 GB archive costs that member's bytes
 * and nothing else, and nothing stays open between reads. Node's fs.openAsBlob does the same
 * lazily but assembles each read from 64 KiB chunks (about 4× slower on large members). Like it, a
 * read refuses a file that changed since it was opened, instead of mixing two versions.
 */
/** Slices up to this size are read synchronously (see FileBlob). */
const SYNC_READ_BYTES = 1 << 20;

class FileBlob extends Blob {
  constructor(
    private readonly path: string,
    private readonly start: number,
    private readonly end: number,
    private readonly opened: { size: number; mtimeMs: number },
    private readonly sharedReads = false,
  ) {
    super([]);
  }

  override get size(): number {
    return this.end - this.start;
  }

  override slice(start = 0, end = this.size): Blob {
    // Blob.slice semantics: negative positions count from the end; the range is clamped.
    const at = (p: number) => Math.min(this.size, Math.max(0, p < 0 ? this.size + p : p));
    const from = at(start);
    return new FileBlob(this.path, this.start + from, this.start + Math.max(from, at(end)), this.opened, this.sharedReads);
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    return this.size <= SYNC_READ_BYTES ? this.readSmall() : this.readLarge();
  }

  /** Headers and directories: synchronous calls, four system calls and no thread-pool round trips
   *  (archives of thousands of small members list twice as fast). */
  private readSmall(): ArrayBuffer {
    const fd = openSync(this.path, 'r');
    try {
      this.checkUnchanged(fstatSync(fd));
      const out = new Uint8Array(this.size);
      let done = 0;
      while (done < out.length) {
        const bytesRead = readSync(fd, out, done, out.length - done, this.start + done);
        if (bytesRead === 0) throw new InputError(this.path, 'ended early while it was being read');
        done += bytesRead;
      }
      return out.buffer;
    } finally {
      closeSync(fd);
    }
  }

  /** Array data: asynchronous, so the event loop (and the collector of the previous array's
   *  buffers) runs while the disk works; measured: peak RSS 340–370 MB instead of 570 MB on the
   *  1.2 GB large-file test with synchronous reads.
   *
   *  With `sharedReads` (the CLI's single arrays, loadArrayRef), into a SharedArrayBuffer, returned
   *  as the ArrayBuffer the Blob contract names (every reader of src/io only views, copies or
   *  inflates it, and Node's TextDecoder, DataView and fflate take it): the CLI's CPU pool then
   *  hands the array to its worker threads as it is (analysis/pool/protocol.ts) instead of copying
   *  it into a fresh shared buffer first, a copy whose page faults cost ~170 ms on the first
   *  512 × 10 000 pair of a process on the development VM (docs/benchmarks.md). Not for bundles:
   *  a learning-dynamics job reads array after array, and with shared buffers there the peak RSS of
   *  test/cli/largeFile.test.ts rose from under its 600 MB bound to 626 MB. */
  private async readLarge(): Promise<ArrayBuffer> {
    const handle = await open(this.path, 'r');
    try {
      this.checkUnchanged(await handle.stat());
      const out = this.sharedReads ? new Uint8Array(new SharedArrayBuffer(this.size)) : new Uint8Array(this.size);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, this.start + done);
        if (bytesRead === 0) throw new InputError(this.path, 'ended early while it was being read');
        done += bytesRead;
      }
      return out.buffer as ArrayBuffer;
    } finally {
      await handle.close();
    }
  }

  private checkUnchanged(now: { size: number; mtimeMs: number }): void {
    if (now.size !== this.opened.size || now.mtimeMs !== this.opened.mtimeMs) {
      throw new InputError(this.path, 'changed on disk while it was being read; open it again');
    }
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await this.arrayBuffer());
  }

  override async text(): Promise<string> {
    return new TextDecoder().decode(await this.arrayBuffer());
  }

  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    const chunk = 1 << 20;
    let position = 0;
    return new ReadableStream({
      pull: async (controller) => {
        if (position >= this.size) return controller.close();
        const next = Math.min(this.size, position + chunk);
        controller.enqueue(new Uint8Array(await this.slice(position, next).arrayBuffer()));
        position = next;
      },
    });
  }
}

/** What a format's arrays are called, and the placeholder for one in a FILE:NAME reference. */
const NAMED: Record<ArrayFormat, [string, string]> = {
  npy: ['arrays', 'NAME'],
  npz: ['arrays', 'MEMBER'],
  safetensors: ['tensors', 'TENSOR'],
  torch: ['tensors', 'TENSOR'],
  pickle: ['arrays', 'KEY'],
  hdf5: ['numeric datasets', 'DATASET'],
};

/**
 * Loads one array named the CLI way: `file.npy`, or `FILE:NAME` for a file of several arrays
 * (`file.npz:member` without .npy, `file.safetensors:tensor`, `file.pt:layer1.0.conv` (a torch or
 * pickle entry: nested keys joined with '.'), `file.h5:model/conv1` (an HDF5 dataset path)), or
 * such a file alone when it holds exactly one array. `name` is the reference in that form (always
 * naming the member). The file is closed once the array is read.
 */
export async function loadArrayRef(ref: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<{ name: string; array: NdArray }> {
  const match = MEMBER_REF.exec(ref);
  const file = match ? match[1] : ref;
  const member = match ? match[2] : null;
  const blob = await openPathAsBlob(file, true);
  if (!arrayExtension(file) && !(await sniffFormat(blob, file, limits))) {
    throw new InputError(ref, `expected FILE.npy or FILE.EXT[:NAME] with EXT one of ${orList(ARRAY_EXTENSIONS.filter((e) => e !== '.npy'))}`);
  }
  const opened = await openArrays(blob, file, limits);
  try {
    if (opened.format === 'npy') {
      if (member !== null) throw new InputError(ref, `${file} is a .npy file, which holds one array: name it without ':${member}'`);
      return { name: file, array: await opened.read(opened.entries[0].name) };
    }
    const [what, placeholder] = NAMED[opened.format];
    const chosen =
      member ??
      onlyOne(
        file,
        opened.entries.map((e) => e.name),
        what,
        placeholder,
      );
    return { name: `${file}:${chosen}`, array: await opened.read(chosen) };
  } finally {
    opened.close();
  }
}

/** Opens a bundle from one file of any format openArrays reads, or a folder (walked recursively). */
export async function openBundlePath(path: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<OpenedBundle> {
  return openBundlePaths([path], limits);
}

/**
 * Opens files and folders given together as one study, as the app reads the same files dropped
 * together (io/bundle's readInput groups them: several step_<N>/<layer> files with the same steps
 * and layers and no run prefix are one run per file, named after the file). Each file is read
 * under its own name, each folder's files under the folder's name (as a browser drop delivers them).
 */
export async function openBundlePaths(paths: readonly string[], limits: ReadLimits = DEFAULT_LIMITS): Promise<OpenedBundle> {
  const files: InputFile[] = [];
  const seen = new Map<string, string>();
  for (const path of paths) {
    const info = await statOrFail(path);
    const name = basename(path);
    const earlier = seen.get(name);
    if (earlier !== undefined && earlier !== path)
      throw new InputError(path, `has the same name as ${earlier}; a study names each run after its file, so give files of different names`);
    if (earlier !== undefined) continue;
    seen.set(name, path);
    if (!info.isDirectory()) {
      files.push({ path: name, blob: await openPathAsBlob(path) });
      continue;
    }
    // Paths start with the folder's own name, as a folder dropped in a browser arrives.
    const relativePaths = (await walk(path, '')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    files.push(...(await Promise.all(relativePaths.map(async (rel) => ({ path: `${name}/${rel}`, blob: await openPathAsBlob(join(path, rel)) })))));
  }
  return openBundle(nameOfPaths(files.length > 0 ? files.map((f) => f.path) : paths.map((p) => basename(p))), files, limits);
}

/** Relative paths ('/'-separated) of the files under `root`/`rel`. Hidden files and folders
 *  (.DS_Store, .git, …) are skipped since they are never part of a bundle; symbolic links are
 *  followed to files but not to folders (a link cycle would never end). */
async function walk(root: string, rel: string): Promise<string[]> {
  const found: string[] = [];
  for (const dirent of await readdir(join(root, rel), { withFileTypes: true })) {
    if (dirent.name.startsWith('.')) continue;
    const child = rel ? `${rel}/${dirent.name}` : dirent.name;
    if (dirent.isDirectory()) {
      found.push(...(await walk(root, child)));
    } else if (dirent.isFile() || (dirent.isSymbolicLink() && (await stat(join(root, child)).catch(() => null))?.isFile())) {
      found.push(child);
    }
  }
  return found;
}

function onlyOne(file: string, names: string[], what: string, placeholder: string): string {
  if (names.length === 1) return names[0];
  const listed = names.length === 0 ? 'none' : names.join(', ');
  throw new InputError(file, `holds ${names.length} ${what} (${listed}); name one as ${file}:${placeholder}`);
}

async function statOrFail(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(path, 'no such file');
    throw new InputError(path, `cannot be read: ${(error as Error).message}`);
  }
}
