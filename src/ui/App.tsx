// SVCCA Lens' first page: drop activation files, pick two arrays, see their similarity.

import { ArraysPanel } from './ArraysPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { LoadErrors } from './LoadErrors';
import { OpenFilesButton, openFileDialog } from './OpenFilesButton';
import { ResultsPanel } from './ResultsPanel';
import { SettingsRow } from './SettingsRow';
import { useWindowDrop } from './useWindowDrop';
import { useAppStore } from '../state/hooks';
import { addFiles } from '../state/store';

const onFiles = (files: File[]) => void addFiles(files);

export function App() {
  const dragging = useWindowDrop(onFiles);
  const hasArrays = useAppStore((s) => s.arrays.length > 0);
  const loading = useAppStore((s) => s.loading);
  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          <h1>SVCCA Lens</h1>
          <p className="tagline">How similar are two layers? SVCCA, CCA, PWCCA and CKA on your activations.</p>
        </div>
        <div className="top-actions">
          {loading && (
            <span className="loading" role="status">
              {loading.stage === 'done' ? 'Listing arrays…' : `${capitalise(loading.stage)} (${loading.done + 1}/${loading.total})…`}
            </span>
          )}
          <OpenFilesButton primary={hasArrays} />
        </div>
      </header>
      <p className="privacy">Your files are read inside this browser tab. Nothing leaves your machine.</p>

      <LoadErrors />

      <main>
        {hasArrays ? (
          <ErrorBoundary name="arrays">
            <ArraysPanel />
          </ErrorBoundary>
        ) : (
          <EmptyState />
        )}
        <SettingsRow />
        <ErrorBoundary name="results">
          <ResultsPanel />
        </ErrorBoundary>
      </main>

      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop .npy, .npz or .safetensors files</div>
        </div>
      )}
    </div>
  );
}

function EmptyState() {
  return (
    <section className="card empty" aria-label="Drop zone">
      <p className="empty-title">Drop activation files anywhere in this window</p>
      <p>
        <code>.npy</code>, <code>.npz</code> (every member is an array) or <code>.safetensors</code> (every tensor is an
        array). Rows are usually datapoints: <code>(N, features)</code>, conv layers <code>(N, C, H, W)</code> or{' '}
        <code>(N, H, W, C)</code>. Both arrays must hold the same datapoints in the same order.
      </p>
      <button type="button" className="button primary" onClick={openFileDialog}>
        Choose files…
      </button>
    </section>
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
