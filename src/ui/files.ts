// What the user dropped or picked, as files with paths relative to what was dropped: a folder's
// files arrive as "folder/step_10/fc1.npy". Folders are walked with the File and Directory
// Entries API (webkitGetAsEntry); where it is missing, dataTransfer.files is used as is.

import { nameOfPaths } from '../io/inputName';
import type { InputFileRef } from '../worker/protocol';

export interface Picked {
  files: InputFileRef[];
  /** What to call the set: the folder's or the file's name, else "N files". */
  name: string;
}

const byPath = (a: InputFileRef, b: InputFileRef) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const hidden = (path: string) => path.split('/').some((s) => s.startsWith('.'));

/**
 * Names a set of files after what the user picked (io/inputName.ts: the top folder, the one file,
 * or "runA.npz + runB.npz"). The store makes the name unique among those loaded; the worker names
 * the bundle again after the files that were read, if some could not be.
 */
export function nameOf(files: readonly InputFileRef[]): string {
  return nameOfPaths(files.map((f) => f.path));
}

/** Files from an <input type=file> (webkitRelativePath is set for a folder input). */
export function pickedFromInput(list: FileList | File[]): Picked {
  const files = Array.from(list)
    .map((file) => ({ path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name, file }))
    .filter((f) => !hidden(f.path))
    .sort(byPath);
  return { files, name: nameOf(files) };
}

type Entry = {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
  file?: (ok: (f: File) => void, fail: (e: unknown) => void) => void;
  createReader?: () => { readEntries(ok: (entries: Entry[]) => void, fail: (e: unknown) => void): void };
};

/**
 * Takes what a drop event carries. Must be called during the event: the entries are gone once the
 * handler returns, so they are taken now and read afterwards.
 */
export function takeDrop(dt: DataTransfer): () => Promise<Picked> {
  const items = Array.from(dt.items ?? []).filter((item) => item.kind === 'file');
  const entries = items.map((item) => (typeof item.webkitGetAsEntry === 'function' ? (item.webkitGetAsEntry() as unknown as Entry | null) : null));
  const plain = Array.from(dt.files ?? []);
  return async () => {
    if (entries.length > 0 && entries.every((e) => e !== null)) {
      const files: InputFileRef[] = [];
      for (const entry of entries) await walk(entry, files);
      const kept = files.filter((f) => !hidden(f.path)).sort(byPath);
      return { files: kept, name: nameOf(kept) };
    }
    const files = plain
      .map((file) => ({ path: file.name, file }))
      .filter((f) => !hidden(f.path))
      .sort(byPath);
    return { files, name: nameOf(files) };
  };
}

async function walk(entry: Entry, out: InputFileRef[]): Promise<void> {
  const path = entry.fullPath.replace(/^\/+/, '') || entry.name;
  if (entry.isFile && entry.file) {
    const file = await new Promise<File>((ok, fail) => entry.file!(ok, fail));
    out.push({ path, file });
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    // readEntries answers in batches (100 in Chromium) until an empty one.
    for (;;) {
      const batch = await new Promise<Entry[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}
