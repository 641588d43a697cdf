// `node scripts/compare-bench.mjs BEFORE.json AFTER.json`: GPU job times of two WebGPU benchmark runs
// of the same sizes (scripts/bench-webgpu.ts JSON), as after/before ratios per job, with the share of
// the after-run spent on the precision work and its float64 fallbacks. Used by scripts/device-bench.sh
// to show what the precision contract costs, measured in one device run.
import { readFileSync } from 'node:fs';

const [beforePath, afterPath] = process.argv.slice(2);
const load = (path) => JSON.parse(readFileSync(path, 'utf8')).result;
const before = load(beforePath);
const after = load(afterPath);
for (const job of after.jobs) {
  const old = before.jobs.find((j) => j.name === job.name);
  if (!old) continue;
  const p = job.precision;
  const work = p ? p.hostEigenSeconds + p.refineSeconds : NaN;
  console.log(
    `${job.name}: GPU ${old.gpuSeconds.toFixed(3)} s before, ${job.gpuSeconds.toFixed(3)} s after: ${(job.gpuSeconds / old.gpuSeconds).toFixed(2)}× ` +
      `(precision work ${work.toFixed(3)} s = ${((work / job.gpuSeconds) * 100).toFixed(0)}%; max |Δ| vs float64 ${old.maxDelta?.toExponential(1) ?? '—'} before, ${job.maxDelta?.toExponential(1) ?? '—'} after; ` +
      `${p ? p.float64.length : '—'} float64 fallbacks)`,
  );
}
