// The verdict on a GPU self-check: one list of what the WebGPU backend promised and did not do,
// shared by the Dawn parity suite (test/gpu/dawnParity.test.ts), the Chromium one (e2e/gpu.spec.ts)
// and the gpu-check page, so the tolerances and the reference values are written once.
// Pure and type-only imports: Playwright's loader can import it without the shaders.
import type { Metric } from './types';

/** |Δ similarity| and max |Δρ| allowed between a float32 GPU result and the float64 oracle. */
export const SELF_CHECK_TOLERANCE = { similarity: 1e-4, rho: 1e-3 } as const;

/** The semantics doc's reference case (docs/conventions.md): CCA and PWCCA (sign-free) similarity. */
export const SEMANTICS_DOC_REFERENCE = { cca: 0.658407, pwcca: 0.661973 } as const;

export interface CheckRow {
  name: string;
  metric: Metric;
  cpu: { similarity: number; rho: number[]; kept: [number, number] };
  gpu: { similarity: number; rho: number[]; kept: [number, number] };
  deltaSimilarity: number;
  maxDeltaRho: number;
  keptEqual: boolean;
  ok: boolean;
}

export interface GpuSelfCheck {
  rows: CheckRow[];
  gridMaxDelta: number;
  gridCkaMaxDelta: number;
  /** The same cases with datapoints streamed in column chunks (a 64 KiB binding cap forces it). */
  chunkedRows: CheckRow[];
  chunkedGridMaxDelta: number;
  /** Work beyond the device's limits (a 64 KiB binding limit): the float64 path, and a warning. */
  limitedRows: CheckRow[];
  limitedWarnings: string[];
}

export interface DeviceLossCheck {
  /** "DeviceLostError: …" from the interrupted job. */
  error: string;
  /** Checkpoints whose values arrived before the loss. */
  keptCheckpoints: number;
  /** A different backend (fresh adapter and device) was handed out after the loss. */
  freshBackend: boolean;
  /** The same job on the fresh backend against the CPU oracle. */
  recomputedMaxDelta: number;
}

/** The parts of a self-check, each judged on its own so a suite can report them separately. */
export type SelfCheckPart = 'rows' | 'reference' | 'grids' | 'chunked' | 'limited';

/** Every broken promise of `check`, as readable sentences grouped by part; empty when all hold. */
export function selfCheckFailures(check: GpuSelfCheck): Record<SelfCheckPart, string[]> {
  const { similarity, rho } = SELF_CHECK_TOLERANCE;
  const failures: Record<SelfCheckPart, string[]> = { rows: [], reference: [], grids: [], chunked: [], limited: [] };
  const atMost = (part: SelfCheckPart, what: string, value: number, limit: number) => {
    if (!(value <= limit)) failures[part].push(`${what}: ${value} > ${limit}`);
  };

  if (check.rows.length < 17) failures.rows.push(`only ${check.rows.length} seeded rows (17 or more expected)`);
  for (const row of check.rows) {
    const label = `${row.metric} on ${row.name}: cpu ${row.cpu.similarity} gpu ${row.gpu.similarity}`;
    atMost('rows', `${label}, |Δ similarity|`, row.deltaSimilarity, similarity);
    atMost('rows', `${label}, max |Δρ|`, row.maxDeltaRho, rho);
    if (!row.keptEqual) failures.rows.push(`${label}: kept ${row.cpu.kept} vs ${row.gpu.kept}`);
  }
  // Conv layers through the DFT (complex per-frequency blocks) are among them.
  const dft = check.rows.filter((r) => r.name.includes('through the DFT')).length;
  if (dft !== 4) failures.rows.push(`${dft} rows through the DFT (4 expected)`);

  const pwccaRows = check.rows.filter((r) => r.metric === 'pwcca').length;
  if (pwccaRows !== 3) failures.reference.push(`${pwccaRows} PWCCA rows (3 expected)`);
  for (const metric of ['cca', 'pwcca'] as const) {
    const row = check.rows.find((r) => r.metric === metric && r.name.startsWith('semantics-doc'));
    if (!row) failures.reference.push(`no ${metric} row on the semantics-doc case`);
    else
      atMost(
        'reference',
        `${metric} on the semantics-doc case, |gpu − ${SEMANTICS_DOC_REFERENCE[metric]}|`,
        Math.abs(row.gpu.similarity - SEMANTICS_DOC_REFERENCE[metric]),
        similarity,
      );
  }

  atMost('grids', 'SVCCA learning-dynamics grid, max |Δ|', check.gridMaxDelta, similarity);
  atMost('grids', 'CKA learning-dynamics grid, max |Δ|', check.gridCkaMaxDelta, similarity);

  if (check.chunkedRows.length < 8) failures.chunked.push(`only ${check.chunkedRows.length} chunked rows (8 or more expected)`);
  for (const row of check.chunkedRows) if (!row.ok) failures.chunked.push(`chunked ${row.metric} on ${row.name}: Δ ${row.deltaSimilarity}`);
  atMost('chunked', 'chunked learning-dynamics grid, max |Δ|', check.chunkedGridMaxDelta, similarity);

  if (check.limitedRows.length < 4) failures.limited.push(`only ${check.limitedRows.length} rows beyond the device limits (4 or more expected)`);
  for (const row of check.limitedRows) if (!row.ok) failures.limited.push(`limited ${row.metric}: Δ ${row.deltaSimilarity}`);
  if (!check.limitedWarnings.some((w) => /^computed in float64 on the CPU instead of WebGPU: .*beyond this GPU's 64 KiB/.test(w))) {
    failures.limited.push(`no float64 warning beyond the 64 KiB limit among: ${check.limitedWarnings.join(' | ') || '(none)'}`);
  }
  return failures;
}

/** What a device lost mid-job must leave: the error, one loss, finished checkpoints, a fresh adapter's equal numbers. */
export function deviceLossFailures(r: DeviceLossCheck, lostCount: number): string[] {
  const failures: string[] = [];
  if (!/DeviceLostError: the GPU device was lost/.test(r.error ?? '')) failures.push(`error ${r.error} is not a DeviceLostError`);
  if (lostCount !== 1) failures.push(`${lostCount} losses reported (1 expected)`);
  if (!(r.keptCheckpoints >= 1)) failures.push(`${r.keptCheckpoints} finished checkpoints kept`);
  if (!r.freshBackend) failures.push('no fresh backend');
  if (!(r.recomputedMaxDelta <= SELF_CHECK_TOLERANCE.similarity))
    failures.push(`recomputed max |Δ| ${r.recomputedMaxDelta} > ${SELF_CHECK_TOLERANCE.similarity}`);
  return failures;
}
