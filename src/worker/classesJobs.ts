// The worker's class-sensitivity and k-sweep jobs: the engine's CPU
// float64 analyses (analysis/classes.ts, analysis/dimensionality.ts) on a loaded bundle, with the
// provenance the CLI's JSON carries (bundle, run, options, content hash, version).

import { computeClassSensitivity } from '../analysis/classes';
import { sweepK, type SweepK } from '../analysis/dimensionality';
import { inferDatapoints, prepare } from '../analysis/prepare';
import { appInfo, dynamicsEntries, inputHash } from '../analysis/provenance';
import type { JobControl } from '../analysis/types';
import { checkAborted } from '../cancel';
import { InputError, type Bundle, type BundleEntry } from '../io/types';
import { reduceToMatrix } from '../math/reduce';
import type { ClassesExport, ClassesJobRequest, EntryRef, SweepKJobRequest } from './protocol';

export const CLASSES_REASON = 'class sensitivity always runs in float64 on the CPU (its work is one SVD step per layer and checkpoint)';

export async function classesJob(bundle: Bundle, req: ClassesJobRequest, control: JobControl): Promise<ClassesExport> {
  const result = await computeClassSensitivity({ bundle, run: req.run, target: req.target, threshold: req.threshold }, req.options, control);
  const read = dynamicsEntries(bundle.entries, [...new Set([...result.layers, ...(result.logitsLayer ? [result.logitsLayer] : [])])], req.run);
  return {
    analysis: 'class-sensitivity',
    ...result,
    bundle: bundle.name,
    run: req.run,
    leftOut: req.dropped,
    options: { keep: req.options.keep, epsilon: req.options.epsilon, layout: req.options.layout, convReduction: result.convReduction },
    inputHash: await inputHash(read),
    inputArrays: read.length,
    computed: { backend: 'cpu', precision: 'float64', reason: CLASSES_REASON },
    app: appInfo(),
  };
}

function entryOf(bundle: Bundle, ref: EntryRef): BundleEntry {
  const entry = bundle.entries.find((e) => e.run === ref.run && e.step === ref.step && e.layer === ref.layer);
  if (!entry) throw new InputError(bundle.name, `has no array for step ${ref.step}, layer ${ref.layer}`);
  return entry;
}

/** The pair's k sweep, its arrays read as its grid read them (the same datapoint hint); conv layers flattened (or mean-pooled). */
export async function sweepKJob(a: Bundle, b: Bundle, req: SweepKJobRequest, control: JobControl): Promise<SweepK> {
  const ea = entryOf(a, req.a);
  const eb = entryOf(b, req.b);
  const shapes =
    req.scope === 'dynamics'
      ? a.entries.filter((e) => e.run === req.a.run).map((e) => e.shape)
      : [
          ...a.entries.filter((e) => e.run === req.a.run && e.step === req.a.step),
          ...b.entries.filter((e) => e.run === req.b.run && e.step === req.b.step),
        ].map((e) => e.shape);
  const hint = inferDatapoints(shapes);
  const reduction = req.options.convReduction === 'meanpool' ? 'meanpool' : 'flatten';
  const xa = reduceToMatrix(prepare({ name: ea.source, array: await ea.load() }, req.options, hint).rep, reduction);
  checkAborted(control.signal);
  const xb = reduceToMatrix(prepare({ name: eb.source, array: await eb.load() }, req.options, hint).rep, reduction);
  checkAborted(control.signal);
  if (xa.cols !== xb.cols) throw new InputError(eb.source, `has ${xb.cols} datapoints, ${ea.source} ${xa.cols}`);
  return sweepK(xa, xb);
}
