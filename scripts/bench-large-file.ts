// Benchmark: the CLI on a bundle larger than memory should need.
//
//   node bin/run-ts.mjs scripts/bench-large-file.ts --gb 6 [--dir /tmp] [--keep]
//
// Writes an uncompressed .npz of about GB gigabytes (scripts/large-bundle.ts: checkpoints × 4 conv
// layers of 1024 datapoints × 16 × 16 × 64 float32, 64 MiB each; past 4 GiB the archive needs
// ZIP64 offsets and end records, as np.savez writes them), runs
// `svcca-lens dynamics FILE --backend cpu --conv meanpool --json` on it as a child process, and
// reports the write time, the CLI's wall time, its read rate and its peak RSS, then deletes the
// file (unless --keep). The peak should not grow with the file: compare --gb 1 with --gb 6.
// Checks the disk first and refuses when the file would leave less than 2 GB free.

import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleBytes, memberDataBytes, runCliMeasured, specOfSize, writeLargeNpz } from './large-bundle';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const gb = Number(option('--gb') ?? '6');
if (!(gb > 0)) throw new Error(`--gb must be a positive number of gigabytes (got ${option('--gb')})`);
const parent = option('--dir') ?? tmpdir();
const keep = process.argv.includes('--keep');
const spec = specOfSize(gb * 1e9);
const planned = bundleBytes(spec);
const fs = statfsSync(parent);
const free = fs.bavail * fs.bsize;
if (planned + 2e9 > free) {
  console.error(
    `bench-large-file: ${(planned / 1e9).toFixed(1)} GB would leave less than 2 GB free in ${parent} (${(free / 1e9).toFixed(1)} GB free); use a smaller --gb or another --dir`,
  );
  process.exit(2);
}

const dir = mkdtempSync(join(parent, 'svcca-bench-large-'));
const file = join(dir, 'large.npz');
try {
  const writeStart = performance.now();
  const bytes = writeLargeNpz(file, spec);
  const writeSeconds = (performance.now() - writeStart) / 1000;
  console.log(
    `wrote ${file}: ${(bytes / 1e9).toFixed(2)} GB, ${spec.steps} checkpoints × ${spec.layers} layers of (${spec.datapoints}, ${spec.height}, ${spec.width}, ${spec.channels}) float32 ` +
      `(${(memberDataBytes(spec) / 2 ** 20).toFixed(0)} MiB each)${bytes > 2 ** 32 ? ', ZIP64' : ''} in ${writeSeconds.toFixed(1)} s`,
  );
  const run = await runCliMeasured(['dynamics', 'large.npz', '--backend', 'cpu', '--conv', 'meanpool', '--json'], dir);
  if (run.code !== 0) {
    console.error(run.stderr);
    throw new Error(`svcca-lens exited with ${run.code}`);
  }
  const result = JSON.parse(run.stdout) as { values: number[][][] };
  console.log(
    `svcca-lens dynamics: ${run.seconds.toFixed(1)} s (${(bytes / 1e6 / run.seconds).toFixed(0)} MB/s of file), ` +
      `peak RSS ${(run.peakRss / 1e6).toFixed(0)} MB (${((100 * run.peakRss) / bytes).toFixed(1)}% of the file), ` +
      `${result.values.length} × ${spec.layers} × ${spec.layers} similarities`,
  );
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
