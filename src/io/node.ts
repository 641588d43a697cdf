// Node-only helpers for the CLI: files and folders on disk → the Blob-based readers. This is the one
// module of src/io that imports node: modules; everything else also runs in the browser.
//
// Shape convention: arrays are returned as stored (C order, the file's shape); nothing is
// transposed to neurons × datapoints here.

import { openAsBlob } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { openBundle } from './bundle';
import { openNpy } from './npy';
import { openNpz } from './npz';
import { openSafetensors } from './safetensors';
import { DEFAULT_LIMITS, InputError } from './types';
import type { Bundle, InputFile, NdArray, ReadLimits } from './types';

/** `FILE.npz:MEMBER` or `FILE.safetensors:TENSOR` (the first such extension followed by ':'). */
const MEMBER_REF = /^(.+?\.(?:npz|safetensors)):(.+)$/i;

/** A file on disk as a Blob (read lazily, slice by slice); InputError "PATH: no such file" when absent. */
export async function openPathAsBlob(path: string): Promise<Blob> {
  const info = await statOrFail(path);
  if (info.isDirectory()) throw new InputError(path, 'is a folder, not a file');
  return openAsBlob(path);
}

/**
 * Loads one array named the CLI way: `file.npy`, `file.npz:member` (member without .npy),
 * `file.safetensors:tensor`, or `file.npz` / `file.safetensors` alone when it holds exactly one
 * array. `name` is the reference in that form (always naming the member).
 */
export async function loadArrayRef(ref: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<{ name: string; array: NdArray }> {
  const match = MEMBER_REF.exec(ref);
  const file = match ? match[1] : ref;
  const member = match ? match[2] : null;
  const lower = file.toLowerCase();
  if (lower.endsWith('.npy') && member === null) {
    const npy = await openNpy(await openPathAsBlob(file), file, limits);
    return { name: file, array: await npy.read() };
  }
  if (lower.endsWith('.npz')) {
    const archive = await openNpz(await openPathAsBlob(file), file, limits);
    const chosen = member ?? onlyOne(file, archive.members.map((m) => m.name), 'arrays', 'MEMBER');
    return { name: `${file}:${chosen}`, array: await archive.read(chosen) };
  }
  if (lower.endsWith('.safetensors')) {
    const tensors = await openSafetensors(await openPathAsBlob(file), file, limits);
    const chosen = member ?? onlyOne(file, tensors.tensors.map((t) => t.name), 'tensors', 'TENSOR');
    return { name: `${file}:${chosen}`, array: await tensors.read(chosen) };
  }
  throw new InputError(ref, 'expected FILE.npy, FILE.npz[:MEMBER] or FILE.safetensors[:TENSOR]');
}

/** Opens a bundle from a .npz file, a .safetensors file, or a folder (walked recursively). */
export async function openBundlePath(path: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<Bundle> {
  const info = await statOrFail(path);
  const name = basename(path);
  if (!info.isDirectory()) return openBundle(name, [{ path: name, blob: await openAsBlob(path) }], limits);
  // Paths start with the folder's own name, as a folder dropped in a browser arrives.
  const relativePaths = (await walk(path, '')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const files: InputFile[] = await Promise.all(
    relativePaths.map(async (rel) => ({ path: `${name}/${rel}`, blob: await openAsBlob(join(path, rel)) })),
  );
  return openBundle(name, files, limits);
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
