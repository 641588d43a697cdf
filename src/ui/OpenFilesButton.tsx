// "Open files" and "Open folder": visible buttons driving hidden file inputs (the folder one with
// webkitdirectory, so its files arrive with their paths inside the folder).

import { useEffect, useRef } from 'react';
import { loadInput } from '../state/store';
import { pickedFromInput } from './files';
import { ARRAY_EXTENSIONS } from '../io/formats';

/** What the file picker offers: every extension the readers take, and manifest.json. */
export const ACCEPT = [...ARRAY_EXTENSIONS, '.json'].join(',');
const INPUT_ID = 'file-input';
const FOLDER_ID = 'folder-input';

/** Opens the file dialog from anywhere (the page has one file input, in the header). */
export function openFileDialog(): void {
  document.getElementById(INPUT_ID)?.click();
}

export function openFolderDialog(): void {
  document.getElementById(FOLDER_ID)?.click();
}

function onPicked(input: HTMLInputElement): void {
  const picked = pickedFromInput(input.files ?? []);
  input.value = ''; // so choosing the same file again still fires
  void loadInput(picked.files, picked.name);
}

export function OpenFilesButton({ primary = false }: { primary?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (folder.current) folder.current.webkitdirectory = true;
  }, []);
  return (
    <>
      <button type="button" className={primary ? 'button primary' : 'button'} onClick={() => input.current?.click()}>
        Open files
      </button>
      <button type="button" className="button" onClick={() => folder.current?.click()}>
        Open folder
      </button>
      <input ref={input} id={INPUT_ID} type="file" multiple accept={ACCEPT} hidden data-testid="file-input" onChange={(e) => onPicked(e.currentTarget)} />
      <input ref={folder} id={FOLDER_ID} type="file" multiple hidden data-testid="folder-input" onChange={(e) => onPicked(e.currentTarget)} />
    </>
  );
}
