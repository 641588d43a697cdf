// ?inputs=URL: a list of files to load as one drop, written by `svcca-lens view PATH…` (which serves
// the app and the files from the same 127.0.0.1 origin). The list is JSON
// { name, files: [{ path, url }] }: paths as a dropped folder gives them ("runs/step_10/fc1.npy"),
// URLs relative to the list. Errors are one line each; the files that arrive still load.

import { appStore, message } from './appStore';
import { loadInput } from './explorer';

const addError = (line: string) => appStore.setState({ loadErrors: [...appStore.getState().loadErrors, line] });

interface InputList {
  name: string;
  files: { path: string; url: string }[];
}

function isInputList(v: unknown): v is InputList {
  const l = v as InputList;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.name === 'string' &&
    Array.isArray(l.files) &&
    l.files.every((f) => typeof f?.path === 'string' && typeof f?.url === 'string')
  );
}

export async function loadInputList(listUrl: string): Promise<void> {
  let list: unknown;
  try {
    const response = await fetch(listUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    list = await response.json();
  } catch (e) {
    addError(`${listUrl}: the list of files to load could not be read (${message(e)}); is svcca-lens view still running?`);
    return;
  }
  if (!isInputList(list)) {
    addError(`${listUrl}: not a list of files ({ name, files: [{ path, url }] })`);
    return;
  }
  const files: { path: string; file: File }[] = [];
  for (const [k, entry] of list.files.entries()) {
    appStore.setState({ loading: { done: k, total: list.files.length, stage: `fetching ${entry.path}` } });
    try {
      const response = await fetch(new URL(entry.url, listUrl));
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      files.push({ path: entry.path, file: new File([await response.blob()], entry.path.split('/').pop()!) });
    } catch (e) {
      addError(`${entry.path}: could not be fetched (${message(e)})`);
    }
  }
  appStore.setState({ loading: null });
  if (files.length > 0) await loadInput(files, list.name, 'url');
}
