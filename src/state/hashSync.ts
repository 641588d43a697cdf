// Keeps the URL hash in step with the view (history.replaceState: no history entry per slider
// move), and applies a hash the user edits or pastes.

import { appStore } from './appStore';
import { recomputeView, setPendingDropped } from './explorer';
import { setStepFromLink } from './defaultStep';
import { parseHash, stateFromUrl, toHash } from './urlState';

/** Applies a hash to the store (before data arrives: the view waits for it). */
export function applyHash(hash: string): void {
  const url = parseHash(hash);
  appStore.setState(stateFromUrl(url, appStore.getState()));
  if (url.dropped) setPendingDropped(url.dropped);
  if (url.stepIndex !== undefined) setStepFromLink(true);
}

/** Starts writing the view into location.hash; returns a function that stops it. */
export function startHashSync(): () => void {
  let written = location.hash;
  const write = () => {
    const hash = toHash(appStore.getState());
    if (hash === written || (hash === '' && written === '')) return;
    written = hash;
    history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
  };
  let timer: ReturnType<typeof setTimeout> | null = null;
  const unsubscribe = appStore.subscribe(() => {
    if (timer === null)
      timer = setTimeout(() => {
        timer = null;
        write();
      }, 60);
  });
  const onHashChange = () => {
    if (location.hash === written) return;
    written = location.hash;
    applyHash(location.hash);
    recomputeView();
  };
  window.addEventListener('hashchange', onHashChange);
  return () => {
    unsubscribe();
    window.removeEventListener('hashchange', onHashChange);
  };
}
