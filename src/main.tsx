// Composition root: start the analysis worker, hand its client to the store, render the app.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setAnalysisClient } from './state/store';
import { App } from './ui/App';
import './ui/app.css';
import { createWorkerClient } from './worker/client';

setAnalysisClient(createWorkerClient());

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
