// What a set of dropped or picked files is called: their shared top folder, else their one file,
// else their files ("runA.npz + runB.npz", "a.npz + 3 more"), leaving out labels.npy and
// manifest.json, which come with a bundle. Used when the pick arrives (ui/files.ts) and again
// once it is read, so that a bundle is named after the files that made it, never after a file that
// could not be read (worker). Paths are relative to what was picked ("folder/step_10/fc1.npy").

/** Files that come with a bundle rather than being one: they do not name what was picked. */
const COMPANIONS = new Set(['labels.npy', 'manifest.json']);

export function nameOfPaths(paths: readonly string[]): string {
  if (paths.length === 0) return 'nothing';
  const tops = [...new Set(paths.map((p) => p.split('/')[0]))];
  if (tops.length === 1) return tops[0];
  const main = tops.filter((t) => !COMPANIONS.has(t.toLowerCase()));
  const named = main.length > 0 ? main : tops;
  if (named.length <= 3) return named.join(' + ');
  return `${named[0]} + ${named.length - 1} more`;
}

/**
 * The paths of `picked` that made a bundle: those its entries (or labels, manifest) were read from
 * (an entry's source is its file's path, or "path:member").
 */
export function pathsThatMadeIt(picked: readonly string[], sources: readonly string[]): string[] {
  return picked.filter((path) => sources.some((s) => s === path || s.startsWith(`${path}:`)));
}
