// The analysis options: metric, SVCCA's keep rule, ε, how conv layers are reduced, the backend,
// and the CPU path's threads (a property of this machine, not of the numbers: state/workerThreads).

import { useEffect, useState } from 'react';
import type { Backend, ConvReduction, Keep, Metric } from '../analysis/types';
import { CONV_REDUCTION_LABELS, METRIC_DEFS, METRICS, hasSvdStep, usesEpsilon as metricUsesEpsilon } from '../analysis/metricDefs';
import { CONV_REDUCTIONS } from '../analysis/types';
import { useAppStore } from '../state/hooks';
import { useStore } from 'zustand';
import { dismissNotice, noticeStore, setOptions, undoSwitch } from '../state/store';
import { maxThreads, parseThreads, setThreads, threadsStore } from '../state/workerThreads';

/** A text field holding a draft; commits whenever the draft parses, marks itself invalid otherwise. */
function NumberField({
  label,
  value,
  parse,
  onCommit,
  disabled,
  hint,
  width = '7ch',
}: {
  label: string;
  value: number;
  parse: (text: string) => number | null;
  onCommit: (v: number) => void;
  disabled?: boolean;
  hint: string;
  width?: string;
}) {
  const [draft, setDraft] = useState(String(value));
  // A value changed elsewhere (e.g. switching the keep rule) replaces a stale draft.
  useEffect(() => {
    setDraft((d) => (parse(d) === value ? d : String(value)));
  }, [value, parse]);
  const invalid = parse(draft) === null;
  return (
    <input
      type="text"
      inputMode="decimal"
      aria-label={label}
      aria-invalid={invalid}
      title={invalid ? hint : undefined}
      disabled={disabled}
      style={{ width }}
      value={draft}
      onChange={(e) => {
        const text = e.currentTarget.value;
        setDraft(text);
        const v = parse(text);
        if (v !== null && v !== value) onCommit(v);
      }}
      onBlur={() => {
        if (parse(draft) === null) setDraft(String(value));
      }}
    />
  );
}

const parseFraction = (t: string) => {
  const v = Number(t.trim());
  return t.trim() !== '' && Number.isFinite(v) && v > 0 && v <= 1 ? v : null;
};
const parseK = (t: string) => {
  const v = Number(t.trim());
  return /^\d+$/.test(t.trim()) && v >= 1 ? v : null;
};
const parseEpsilon = (t: string) => {
  const v = Number(t.trim());
  return t.trim() !== '' && Number.isFinite(v) && v >= 0 && v < 1 ? v : null;
};

/** Threads of the float64 CPU path: auto (one per core but one) or 1 … this machine's cores. */
function ThreadsField() {
  const setting = useStore(threadsStore, (s) => s.setting);
  const inEffect = useStore(threadsStore, (s) => s.inEffect);
  const max = maxThreads(navigator.hardwareConcurrency);
  // A ?threads=N above this machine's cores is shown as it is (the worker caps it), not hidden.
  const counts = Array.from({ length: Math.max(max, setting === 'auto' ? 0 : setting) }, (_, k) => k + 1);
  return (
    <label className="field" title="Threads of the CPU (float64) path; the next job runs on them. The numbers do not depend on it.">
      <span>CPU threads</span>
      <select
        aria-label="CPU threads"
        value={String(setting)}
        onChange={(e) => {
          const next = parseThreads(e.currentTarget.value, counts.length);
          if (next !== null) void setThreads(next);
        }}
      >
        <option value="auto">{setting === 'auto' && inEffect !== null ? `auto (${inEffect})` : 'auto'}</option>
        {counts.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}

export function SettingsRow() {
  const options = useAppStore((s) => s.options);
  const keep = options.keep;
  const usesKeep = hasSvdStep(options.metric);
  const usesEpsilon = metricUsesEpsilon(options.metric);
  const notice = useStore(noticeStore, (s) => s.notice);
  return (
    <section className="card settings" aria-label="Settings">
      <label className="field">
        <span>Metric</span>
        <select value={options.metric} onChange={(e) => setOptions({ metric: e.currentTarget.value as Metric })}>
          {METRICS.map((m) => (
            <option key={m} value={m}>
              {METRIC_DEFS[m].label}
            </option>
          ))}
        </select>
      </label>

      <div className="field" role="group" aria-label="Keep">
        <span>Keep</span>
        <div className="inline">
          <select
            aria-label="Keep rule"
            disabled={!usesKeep}
            value={keep.kind}
            onChange={(e) => {
              const kind = e.currentTarget.value as Keep['kind'];
              setOptions({ keep: kind === 'variance' ? { kind, fraction: 0.99 } : { kind, k: 20 } });
            }}
          >
            <option value="variance">variance fraction</option>
            <option value="dims">fixed k</option>
          </select>
          {keep.kind === 'variance' ? (
            <NumberField
              label="Variance fraction"
              value={keep.fraction}
              parse={parseFraction}
              onCommit={(fraction) => setOptions({ keep: { kind: 'variance', fraction } })}
              disabled={!usesKeep}
              hint="a fraction in (0, 1]"
            />
          ) : (
            <NumberField
              label="Kept dimensions k"
              value={keep.k}
              parse={parseK}
              onCommit={(k) => setOptions({ keep: { kind: 'dims', k } })}
              disabled={!usesKeep}
              hint="a whole number ≥ 1"
              width="6ch"
            />
          )}
        </div>
      </div>

      <label className="field">
        <span>Epsilon</span>
        <NumberField
          label="Epsilon"
          value={options.epsilon}
          parse={parseEpsilon}
          onCommit={(epsilon) => setOptions({ epsilon })}
          disabled={!usesEpsilon}
          hint="a number in [0, 1), e.g. 1e-10"
          width="9ch"
        />
      </label>

      <label className="field">
        <span>Conv layers</span>
        <select value={options.convReduction} onChange={(e) => setOptions({ convReduction: e.currentTarget.value as ConvReduction })}>
          {CONV_REDUCTIONS.map((c) => (
            <option key={c} value={c}>
              {CONV_REDUCTION_LABELS[c]}
            </option>
          ))}
        </select>
      </label>

      <label className="field">
        <span>Backend</span>
        <select value={options.backend} onChange={(e) => setOptions({ backend: e.currentTarget.value as Backend })}>
          <option value="auto">auto</option>
          <option value="webgpu">GPU (float32)</option>
          <option value="cpu">CPU (float64)</option>
        </select>
      </label>

      <ThreadsField />

      <p className="settings-note">{METRIC_DEFS[options.metric].settingsNote}</p>
      {notice && (
        <p className="settings-notice" role="status" data-testid="settings-notice">
          <span>{notice.text}</span>{' '}
          <button type="button" className="link-button" onClick={undoSwitch}>
            {notice.undoLabel}
          </button>{' '}
          <button type="button" className="link-button" aria-label="Dismiss this notice" onClick={dismissNotice}>
            OK
          </button>
        </p>
      )}
    </section>
  );
}
