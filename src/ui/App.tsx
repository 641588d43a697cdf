// SVCCA Lens: drop activation files or a folder (or open a link with ?data=, or see the demo), look
// at what was recognised, then explore: learning dynamics with convergence curves, across runs,
// one pair in depth, or two loose arrays compared directly.

import { useCallback, useEffect, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { ArraysPanel } from './ArraysPanel';
import { ClassesView } from './ClassesView';
import { CrossView } from './CrossView';
import { DataPreview } from './DataPreview';
import { DynamicsView } from './DynamicsView';
import { ErrorBoundary } from './ErrorBoundary';
import { LoadErrors } from './LoadErrors';
import { OpenFilesButton, openFileDialog, openFolderDialog } from './OpenFilesButton';
import { ResultsPanel } from './ResultsPanel';
import { SettingsRow } from './SettingsRow';
import { takeDrop } from './files';
import { USUAL_EXTENSIONS_TEXT } from '../io/formats';
import { useWindowDrop } from './useWindowDrop';
import { useAppStore } from '../state/hooks';
import { loadInput, setTab, setTheme } from '../state/store';
import type { Tab, Theme } from '../state/store';

const onDrop = (dt: DataTransfer) => {
  const read = takeDrop(dt);
  void read().then((picked) => loadInput(picked.files, picked.name));
};

const TAB_LABELS: Record<Tab, string> = {
  dynamics: 'Learning dynamics',
  cross: 'Across runs',
  arrays: 'Compare two arrays',
  classes: 'Classes',
};

export const THEME_KEY = 'svcca-lens-theme';

function useTheme(theme: Theme) {
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = theme;
    try {
      if (theme === 'system') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, theme);
    } catch {
      // storage may be unavailable (private mode); the choice still applies to this page
    }
  }, [theme]);
}

export function App() {
  const dragging = useWindowDrop(useCallback(onDrop, []));
  const hasArrays = useAppStore((s) => s.arrays.length > 0);
  const hasBundles = useAppStore((s) => s.bundles.length > 0);
  const loading = useAppStore((s) => s.loading);
  const tab = useAppStore((s) => s.tab);
  const theme = useAppStore((s) => s.theme);
  const demo = useAppStore((s) => (s.demo && s.demo.bundle === s.activeBundle ? s.demo : null));
  useTheme(theme);

  const tabs: Tab[] = [...(hasBundles ? (['dynamics', 'cross', 'classes'] as const) : []), ...(hasArrays ? (['arrays'] as const) : [])];
  const current: Tab | null = tabs.includes(tab) ? tab : (tabs[0] ?? null);
  const hasData = hasArrays || hasBundles;

  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!current || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
    e.preventDefault();
    const k = tabs.indexOf(current);
    const next = tabs[(k + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    setTab(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          <h1>SVCCA Lens</h1>
          <p className="tagline">How similar are two layers, and how do they learn? SVCCA, CCA, PWCCA and CKA on your activations.</p>
          <p className="privacy">Your files are read inside this browser tab. Nothing leaves your machine.</p>
        </div>
        <div className="top-actions">
          {loading && (
            <span className="loading" role="status">
              {loading.stage === 'done' ? 'Listing arrays…' : `${capitalise(loading.stage)}…`}
            </span>
          )}
          <OpenFilesButton primary={hasData} />
          <label className="theme-picker">
            <span className="visually-hidden">Theme</span>
            <select aria-label="Theme" value={theme} onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
              <option value="system">System theme</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
        </div>
      </header>

      {demo && <DemoCaption caption={demo.caption} />}

      <LoadErrors />

      <main>
        {!hasData && <EmptyState />}
        {hasBundles && (
          <ErrorBoundary name="preview">
            <DataPreview />
          </ErrorBoundary>
        )}
        {hasData && <SettingsRow />}
        {tabs.length > 0 && current && (
          <>
            <div className="tabs" role="tablist" aria-label="Views" onKeyDown={onTabKey}>
              {tabs.map((t) => (
                <button
                  key={t}
                  id={`tab-${t}`}
                  type="button"
                  role="tab"
                  aria-selected={t === current}
                  aria-controls={`panel-${t}`}
                  tabIndex={t === current ? 0 : -1}
                  className="tab"
                  onClick={() => setTab(t)}
                >
                  {TAB_LABELS[t]}
                </button>
              ))}
            </div>
            <div id={`panel-${current}`} role="tabpanel" aria-labelledby={`tab-${current}`} className="tab-panel">
              <ErrorBoundary name={TAB_LABELS[current]}>
                {current === 'dynamics' && <DynamicsView />}
                {current === 'cross' && <CrossView />}
                {current === 'classes' && <ClassesView />}
                {current === 'arrays' && (
                  <>
                    <ErrorBoundary name="arrays">
                      <ArraysPanel />
                    </ErrorBoundary>
                    <ErrorBoundary name="results">
                      <ResultsPanel />
                    </ErrorBoundary>
                  </>
                )}
              </ErrorBoundary>
            </div>
          </>
        )}
      </main>

      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop {USUAL_EXTENSIONS_TEXT} files, or a folder</div>
        </div>
      )}
    </div>
  );
}

/** "Demo: …" with the demo's caption (clamped, expandable) and how to load your own data. */
function DemoCaption({ caption }: { caption: string }) {
  const [open, setOpen] = useState(false);
  const long = caption.length > 260;
  return (
    <section className="demo-caption" aria-label="Demo" data-testid="demo-caption">
      <p className={long && !open ? 'clamped' : undefined}>
        <strong>Demo:</strong> {caption}
      </p>
      {/* The toggle at the right of the "own activations" line: one line less above the heatmap. */}
      <div className="demo-foot">
        <p className="own">
          Your own activations: drop an <code>.npz</code>, <code>.pt</code> or <code>.h5</code> (arrays <code>step_N/layer</code>) or a folder anywhere on this
          page, or{' '}
          <button type="button" className="link-button" onClick={openFileDialog}>
            Open files
          </button>{' '}
          /{' '}
          <button type="button" className="link-button" onClick={openFolderDialog}>
            Open folder
          </button>
          .
        </p>
        {long && (
          <button type="button" className="link-button toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? 'Show less' : 'Read the whole caption'}
          </button>
        )}
      </div>
    </section>
  );
}

function EmptyState() {
  return (
    <section className="card empty" aria-label="Drop zone">
      <p className="empty-title">Drop activation files or a folder anywhere in this window</p>
      <p>
        A <strong>bundle</strong> of checkpoints for learning dynamics: an <code>.npz</code>, <code>.pt</code> or <code>.h5</code> with arrays{' '}
        <code>[run/]step_N/layer</code> (a torch dict{' '}
        <code>
          {'{'}"step_N": {'{'}"layer": t{'}}'}
        </code>{' '}
        too), a folder <code>[run/]step_N/layer.npy</code>, or <code>step_N.safetensors</code> files. Or two arrays ({USUAL_EXTENSIONS_TEXT}) to compare
        directly. Rows are usually datapoints: <code>(N, features)</code>, conv layers <code>(N, C, H, W)</code> or <code>(N, H, W, C)</code>.
      </p>
      <div className="inline center">
        <button type="button" className="button primary" onClick={openFileDialog}>
          Choose files…
        </button>
        <button type="button" className="button" onClick={openFolderDialog}>
          Choose a folder…
        </button>
      </div>
    </section>
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
