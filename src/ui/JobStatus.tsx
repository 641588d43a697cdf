// Progress of a view's job (pairs done / total, elapsed, estimate) with Cancel; what a cancelled or
// failed job left; and which backend computed it. Progress reaches the DOM through a store
// subscription, not re-renders.

import { useEffect, useRef } from 'react';
import { useAppStore } from '../state/hooks';
import { appStore, cancelJob, runGrid } from '../state/store';
import { count, plainBackend, shownMessage } from './format';

function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function JobStatus({ kind }: { kind: 'dynamics' | 'cross' }) {
  const status = useAppStore((s) => s[kind]?.status ?? 'idle');
  const error = useAppStore((s) => s[kind]?.error ?? null);
  const backend = useAppStore((s) => s[kind]?.backend ?? null);
  const total = useAppStore((s) => s[kind]?.total ?? 0);
  const done = useAppStore((s) => (s[kind] ? countDone(s[kind].values) : 0));
  const text = useRef<HTMLSpanElement>(null);
  const bar = useRef<HTMLProgressElement>(null);

  useEffect(() => {
    if (status !== 'running') return;
    const update = () => {
      const s = appStore.getState();
      const job = s[kind];
      const p = kind === 'dynamics' ? s.dynamicsProgress : s.crossProgress;
      if (!job || !text.current || !bar.current) return;
      const finished = p?.done ?? 0;
      const all = p?.total ?? job.total;
      const elapsed = Date.now() - job.startedAt;
      const estimate = finished > 0 && finished < all ? ` · about ${seconds((elapsed * (all - finished)) / finished)} left` : '';
      text.current.textContent = `${count(finished)} / ${count(all)} pairs · ${seconds(elapsed)} elapsed${estimate}${p?.stage ? ` · ${p.stage}` : ''}`;
      bar.current.max = Math.max(1, all);
      bar.current.value = finished;
    };
    update();
    const unsubscribe = appStore.subscribe(update);
    const timer = setInterval(update, 250);
    return () => {
      unsubscribe();
      clearInterval(timer);
    };
  }, [status, kind]);

  if (status === 'running') {
    return (
      <div className="job-status running" role="status" aria-live="off">
        <progress ref={bar} aria-label="Progress" max={1} value={0} />
        <span ref={text} className="progress-text" data-testid={`${kind}-progress`} />
        <button type="button" className="button small" onClick={() => cancelJob(kind)}>
          Cancel
        </button>
      </div>
    );
  }
  if (status === 'cancelled') {
    return (
      <div className="job-status cancelled" role="status">
        <span>{`Cancelled: ${count(done)} of ${count(total)} pairs computed; they stay shown.`}</span>
        <button type="button" className="button small" onClick={() => void runGrid(kind, true)}>
          Recompute
        </button>
      </div>
    );
  }
  if (status === 'error' && error) {
    return (
      <p className="error-line" role="alert">
        {shownMessage(error)}
      </p>
    );
  }
  return null;
}

/** Which processor computed a finished job, and why, in plain words (shown under the charts). */
export function ComputedOn({ kind }: { kind: 'dynamics' | 'cross' }) {
  const status = useAppStore((s) => s[kind]?.status ?? 'idle');
  const backend = useAppStore((s) => s[kind]?.backend ?? null);
  if (status !== 'done' || !backend) return null;
  return (
    <p className="job-status computed-on" data-testid={`${kind}-backend`} title={backend}>
      {plainBackend(backend)}
    </p>
  );
}

function countDone(values: readonly (readonly (readonly (number | null)[])[])[]): number {
  let n = 0;
  for (const grid of values) for (const row of grid) for (const v of row) if (v !== null) n++;
  return n;
}
