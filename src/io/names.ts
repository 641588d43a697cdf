// Names taken from a file (zip member paths, safetensors tensor names, torch/pickle keys, HDF5
// dataset paths, run and layer names) are data: they are shown (through ./printable) and compared,
// never joined onto a path of this machine. A name that *looks* like a path leaving its container
// ("../x", "/etc/x", "C:\x", "a\..\b") is most likely a hostile or broken writer, so it is flagged
// to the user, while still being read as the plain string it is.

import { printable } from './printable';

/** Why `name` looks like a path that escapes its container, or null when it does not. */
export function traversalReason(name: string): string | null {
  if (name.startsWith('/')) return 'an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'a drive-letter path';
  if (name.includes('\\')) return 'a backslash';
  if (name.split('/').some((segment) => segment === '..')) return "a '..' segment";
  return null;
}

/**
 * One warning naming every traversal-like name of `where` (a file), or null when there is none.
 * The names are escaped and the list capped, as everything else taken from a file.
 */
export function traversalWarning(where: string, names: readonly string[]): string | null {
  const flagged = [...new Set(names)].flatMap((name) => {
    const reason = traversalReason(name);
    return reason ? [`'${printable(name)}' (${reason})`] : [];
  });
  if (flagged.length === 0) return null;
  const listed = flagged.length > 10 ? `${flagged.slice(0, 10).join(', ')} and ${flagged.length - 10} more` : flagged.join(', ');
  return `${where}: ${flagged.length} name${flagged.length === 1 ? '' : 's'} inside look${flagged.length === 1 ? 's' : ''} like ${flagged.length === 1 ? 'a path' : 'paths'} leaving the file: ${listed}; read as plain names, never as paths`;
}
