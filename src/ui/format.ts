// How numbers, metrics and conventions are written on screen. Pure.

// Metric and conv reduction names: analysis/metricDefs.ts (metricLabel, CONV_REDUCTION_LABELS).

import { printable } from '../io/printable';

import type { Keep } from '../analysis/types';

/** Fixed decimals, with a real minus sign; an em dash for missing or non-finite values. */
export function fixed(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(digits).replace(/^-/, '−');
}

/** Integers with thin grouping ("12 800"). */
export function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US').replace(/,/g, '\u202f') : '—';
}

/** "0.99 of variance" / "k = 20". */
export function keepLabel(keep: Keep | null): string {
  if (keep === null) return 'no SVD step';
  return keep.kind === 'variance' ? `${keep.fraction} of variance` : `k = ${keep.k}`;
}

/** "1e-10" rather than "1e-10" spelled out as 0.0000000001. */
export function epsilonLabel(eps: number): string {
  if (eps === 0) return '0';
  return Math.abs(eps) < 1e-3 || Math.abs(eps) >= 1e4 ? eps.toExponential().replace('e+', 'e') : String(eps);
}

/** "a · b" for per-side pairs. */
export function pair<T>(values: readonly [T, T], show: (v: T) => string = String): string {
  return `${show(values[0])} · ${show(values[1])}`;
}

/** A similarity with 6 decimals, the exact value for tooltips. */
export function exact(value: number | null | undefined): string {
  return fixed(value, 6);
}

/** A heatmap cell's value line: "SVCCA = 0.873210", "… not computed yet", or why it stays empty. */
export function cellValueLine(metric: string, value: number | null, blank: string | null): string {
  if (blank) return `${metric}: ${blank}`;
  return `${metric} = ${value === null ? 'not computed yet' : exact(value)}`;
}

/**
 * The backend line in plain words: which processor computed and why, from resolveBackend's reason
 * ("CPU (float64): the WebGPU adapter (google swiftshader (software fallback)) is a software
 * fallback, …"). Unknown reasons are shown as they are, after "Computed on".
 */
export function plainBackend(reason: string): string {
  const adapterName = (a: string) => a.replace(/\s*\(software fallback\)/i, '').trim();
  let m: RegExpMatchArray | null;
  if (reason === 'CPU (float64), as chosen') return 'Computed on the CPU in float64, as chosen under Backend.';
  if (reason === 'CPU (float64): WebGPU is not available here') return 'Computed on the CPU in float64: this browser offers no WebGPU.';
  if ((m = reason.match(/^CPU \(float64\): the WebGPU adapter \((.*)\) is a software fallback/))) {
    return `Computed on the CPU in float64: this browser’s WebGPU has no graphics card behind it (${adapterName(m[1])} draws on the processor), which is slower than the CPU path. Choose Backend: GPU to use it anyway.`;
  }
  if ((m = reason.match(/^WebGPU \(float32\) on (.*), as chosen$/)))
    return `Computed on the graphics card (${adapterName(m[1])}) with WebGPU in float32, as chosen under Backend.`;
  if ((m = reason.match(/^WebGPU \(float32\) on (.*)$/)))
    return `Computed on the graphics card (${adapterName(m[1])}) with WebGPU in float32: results within 1e-4 of the float64 path.`;
  if ((m = reason.match(/^CPU \(float64\): (.*)$/))) return `Computed on the CPU in float64: WebGPU could not be used (${m[1]}).`;
  return `Computed on: ${reason}`;
}

/**
 * A name taken from a file (array, member, dataset, run or layer name), as shown on the page:
 * control and bidi characters escaped (\x1b, \u202e) and long names cut (io/printable). React
 * already keeps such text from being markup; this keeps it from reordering or hiding what is shown.
 */
export function shownName(name: string): string {
  return printable(name);
}

/** A whole message that quotes a file (an error, a warning): escaped like shownName, not cut. */
export function shownMessage(message: string): string {
  return printable(message, Number.POSITIVE_INFINITY);
}

/**
 * When a layer starts to stay at or above the freeze threshold (t: index into steps, null: never).
 * A curve that reaches it only at the last step, the reference itself (where every layer is 1 to
 * itself), has not frozen: saying "from step 400" there reads as a finding.
 */
export function freezeText(t: number | null, steps: readonly number[], reference: number | null): string {
  if (t === null) return 'not yet';
  if (t === steps.length - 1 && steps[t] === reference) return `not before the reference step ${reference}`;
  return `from step ${steps[t]}`;
}
