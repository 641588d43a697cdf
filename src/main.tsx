// Composition root: start the analysis worker, hand its client to the store, restore the view from
// the URL hash, load ?data= (or the demo when there is no data), render the app.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { appStore, setAnalysisClient } from './state/store';
import type { Theme } from './state/store';
import { applyHash, startHashSync } from './state/hashSync';
import { loadDemo, loadFromUrl } from './state/sources';
import { loadInputList } from './state/localInputs';
import { App, THEME_KEY } from './ui/App';
import './ui/app.css';
import { createWorkerClient, threadsFromSearch } from './worker/client';
import { initialThreads, startThreads, THREADS_KEY } from './state/workerThreads';

// The CPU threads setting (state/workerThreads.ts) is sent before any job; ?threads=N still wins.
setAnalysisClient(createWorkerClient(null));
let storedThreads: string | null = null;
try {
  storedThreads = localStorage.getItem(THREADS_KEY);
} catch {
  // no storage: auto
}
void startThreads(initialThreads(threadsFromSearch(location.search), storedThreads, navigator.hardwareConcurrency));

try {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'light' || saved === 'dark') appStore.setState({ theme: saved as Theme });
} catch {
  // no storage: follow the system
}
applyHash(location.hash);
startHashSync();

const data = new URLSearchParams(location.search).get('data');
// ?inputs=: the files `svcca-lens view PATH…` serves next to the app.
const inputs = new URLSearchParams(location.search).get('inputs');
if (inputs) void loadInputList(new URL(inputs, location.href).href);
else if (data) void loadFromUrl(new URL(data, location.href).href);
else void loadDemo(new URL('./demo/index.json', location.href).href);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
