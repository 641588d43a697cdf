// "Open files": a visible button driving a hidden multi-file input.

import { useRef } from 'react';
import { addFiles } from '../state/store';

export const ACCEPT = '.npy,.npz,.safetensors';
const INPUT_ID = 'file-input';

/** Opens the file dialog from anywhere (the page has one file input, in the header). */
export function openFileDialog(): void {
  document.getElementById(INPUT_ID)?.click();
}

export function OpenFilesButton({ primary = false }: { primary?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className={primary ? 'button primary' : 'button'} onClick={() => input.current?.click()}>
        Open files
      </button>
      <input
        ref={input}
        id={INPUT_ID}
        type="file"
        multiple
        accept={ACCEPT}
        hidden
        data-testid="file-input"
        onChange={(e) => {
          const files = Array.from(e.currentTarget.files ?? []);
          e.currentTarget.value = ''; // so choosing the same file again still fires
          void addFiles(files);
        }}
      />
    </>
  );
}
