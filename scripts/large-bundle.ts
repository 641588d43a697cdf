// Large bundles for the large-file test (test/cli/largeFile.test.ts) and benchmark
// (scripts/bench-large-file.ts): an uncompressed .npz written member by member and chunk by chunk,
// so that a file of several gigabytes is never in memory, and a runner of the CLI that reports the
// child's peak resident memory.
//
// The archive is what np.savez writes: stored members `step_<t>/<layer>.npy`, each a .npy of a conv
// layer (datapoints, height, width, channels) in float32, C order (NHWC), with ZIP64 local headers
// (numpy's force_zip64), ZIP64 central-directory fields and end records where an archive passes
// 4 GiB (or everywhere with `zip64: 'always'`, to exercise them at a size that fits a CI disk).
// Conv layers of large spatial size make large files whose maths is cheap under --conv meanpool
// (channels × datapoints per layer after pooling).

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32Update } from '../src/io/crc32';

export interface LargeBundleSpec {
  steps: number;
  layers: number;
  /** Stored shape of every member: (datapoints, height, width, channels). */
  datapoints: number;
  height: number;
  width: number;
  channels: number;
  /** ZIP64 records only where sizes or offsets need them ('auto', as numpy) or in every header. */
  zip64?: 'auto' | 'always';
}

const U32_MAX = 0xffffffff;

/** Bytes of one member's array data. */
export function memberDataBytes(spec: LargeBundleSpec): number {
  return spec.datapoints * spec.height * spec.width * spec.channels * 4;
}

/** Approximate archive size: every member's data (headers and directory are a few KB). */
export function bundleBytes(spec: LargeBundleSpec): number {
  return spec.steps * spec.layers * memberDataBytes(spec);
}

/** A spec of about `bytes` bytes: conv layers of 16×16 positions, 64 channels, 1024 datapoints
 *  (64 MiB each), 4 layers per checkpoint, as many checkpoints as the size asks for. */
export function specOfSize(bytes: number, zip64: 'auto' | 'always' = 'auto'): LargeBundleSpec {
  const base = { layers: 4, datapoints: 1024, height: 16, width: 16, channels: 64, zip64 };
  const perStep = base.layers * memberDataBytes({ ...base, steps: 1 });
  return { ...base, steps: Math.max(2, Math.ceil(bytes / perStep)) };
}

/** The .npy header (format 1.0) of a C-order little-endian float32 array, padded to 64 bytes as numpy does. */
function npyHeader(shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  const text = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

/** Deterministic pseudo-random float32 values in [-1, 1) (xorshift32). */
function fillNoise(out: Float32Array, seed: number): number {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2147483648 - 1;
  }
  return s;
}

interface Written {
  path: string;
  offset: number;
  size: number;
  crc: number;
}

/**
 * Writes the bundle to `path` and returns its size in bytes. Values: a per-(datapoint, channel)
 * signal shared by some channels of every member (so that pooled layers are related, as a
 * network's are), a member's own signal in the others, plus position noise. Memory use is one
 * chunk of a few MB, whatever the size.
 */
export function writeLargeNpz(path: string, spec: LargeBundleSpec): number {
  const always = spec.zip64 === 'always';
  const fd = openSync(path, 'w');
  let offset = 0;
  const write = (bytes: Uint8Array, at = offset) => {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
    if (at === offset) offset += bytes.length;
  };
  const { datapoints: n, height: h, width: w, channels: c } = spec;
  const positions = h * w;
  const signal = new Float32Array(n * c);
  fillNoise(signal, 12345);
  const perChunk = Math.max(1, Math.floor((4 << 20) / (positions * c * 4))); // datapoints per ~4 MB write
  const chunk = new Float32Array(perChunk * positions * c);
  const noise = new Float32Array(positions * c);
  const own = new Float32Array(n * c);
  const written: Written[] = [];
  try {
    for (let t = 0; t < spec.steps; t++) {
      for (let l = 0; l < spec.layers; l++) {
        const name = new TextEncoder().encode(`step_${t}/layer${l}.npy`);
        const header = npyHeader([n, h, w, c]);
        const size = header.length + memberDataBytes(spec);
        const localOffset = offset;
        write(localHeader(name, size, 0));
        let crc = crc32Update(0, header);
        write(header);
        // Channels below `shared` carry the common signal, the others this member's own: later
        // checkpoints share more, deeper layers less (a grid with structure, not all ones).
        fillNoise(noise, 1 + t * 1000 + l);
        fillNoise(own, 7 + t * 1000 + l);
        const shared = Math.round(c * (0.2 + (0.8 * (t + 1)) / spec.steps) * (1 - 0.15 * l));
        for (let first = 0; first < n; first += perChunk) {
          const count = Math.min(perChunk, n - first);
          for (let k = 0; k < count; k++) {
            const row = (first + k) * c;
            for (let p = 0; p < positions; p++) {
              const at = (k * positions + p) * c;
              for (let ch = 0; ch < c; ch++) chunk[at + ch] = (ch < shared ? signal[row + ch] : own[row + ch]) + 0.5 * noise[p * c + ch];
            }
          }
          const bytes = new Uint8Array(chunk.buffer, 0, count * positions * c * 4);
          crc = crc32Update(crc, bytes);
          write(bytes);
        }
        write(localHeader(name, size, crc), localOffset); // the CRC, now known
        written.push({ path: new TextDecoder().decode(name), offset: localOffset, size, crc });
      }
    }
    const directoryOffset = offset;
    for (const m of written) write(centralHeader(m, always));
    const directorySize = offset - directoryOffset;
    const needs64 = always || written.length >= 0xffff || directoryOffset >= U32_MAX || directorySize >= U32_MAX;
    if (needs64) {
      const recordOffset = offset;
      const record = new DataView(new ArrayBuffer(56));
      record.setUint32(0, 0x06064b50, true);
      record.setBigUint64(4, 44n, true);
      record.setUint16(12, 45, true);
      record.setUint16(14, 45, true);
      record.setBigUint64(24, BigInt(written.length), true);
      record.setBigUint64(32, BigInt(written.length), true);
      record.setBigUint64(40, BigInt(directorySize), true);
      record.setBigUint64(48, BigInt(directoryOffset), true);
      write(new Uint8Array(record.buffer));
      const locator = new DataView(new ArrayBuffer(20));
      locator.setUint32(0, 0x07064b50, true);
      locator.setBigUint64(8, BigInt(recordOffset), true);
      locator.setUint32(16, 1, true);
      write(new Uint8Array(locator.buffer));
    }
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, needs64 ? 0xffff : written.length, true);
    end.setUint16(10, needs64 ? 0xffff : written.length, true);
    end.setUint32(12, needs64 ? U32_MAX : directorySize, true);
    end.setUint32(16, needs64 ? U32_MAX : directoryOffset, true);
    write(new Uint8Array(end.buffer));
    return offset;
  } finally {
    closeSync(fd);
  }
}

/** A local file header, stored method, with ZIP64 sizes as numpy writes it (force_zip64): the 32-bit
 *  sizes are 0xFFFFFFFF and the real ones live in the extra field. */
function localHeader(name: Uint8Array, size: number, crc: number): Uint8Array {
  const zip64 = true;
  const out = new DataView(new ArrayBuffer(30 + name.length + (zip64 ? 20 : 0)));
  out.setUint32(0, 0x04034b50, true);
  out.setUint16(4, zip64 ? 45 : 20, true);
  out.setUint16(12, 0x21, true); // 1980-01-01
  out.setUint32(14, crc, true);
  out.setUint32(18, zip64 ? U32_MAX : size, true);
  out.setUint32(22, zip64 ? U32_MAX : size, true);
  out.setUint16(26, name.length, true);
  out.setUint16(28, zip64 ? 20 : 0, true);
  const bytes = new Uint8Array(out.buffer);
  bytes.set(name, 30);
  if (zip64) {
    out.setUint16(30 + name.length, 1, true);
    out.setUint16(32 + name.length, 16, true);
    out.setBigUint64(34 + name.length, BigInt(size), true);
    out.setBigUint64(42 + name.length, BigInt(size), true);
  }
  return bytes;
}

/** A central-directory header; 64-bit values for exactly the fields that do not fit (or all, `always`). */
function centralHeader(m: Written, always: boolean): Uint8Array {
  const name = new TextEncoder().encode(m.path);
  const bigSize = always || m.size >= U32_MAX;
  const bigOffset = always || m.offset >= U32_MAX;
  const extra: bigint[] = [];
  if (bigSize) extra.push(BigInt(m.size), BigInt(m.size)); // uncompressed, then compressed
  if (bigOffset) extra.push(BigInt(m.offset));
  const extraLength = extra.length ? 4 + 8 * extra.length : 0;
  const out = new DataView(new ArrayBuffer(46 + name.length + extraLength));
  out.setUint32(0, 0x02014b50, true);
  out.setUint16(4, 45, true);
  out.setUint16(6, extra.length ? 45 : 20, true);
  out.setUint16(14, 0x21, true);
  out.setUint32(16, m.crc, true);
  out.setUint32(20, bigSize ? U32_MAX : m.size, true);
  out.setUint32(24, bigSize ? U32_MAX : m.size, true);
  out.setUint16(28, name.length, true);
  out.setUint16(30, extraLength, true);
  out.setUint32(42, bigOffset ? U32_MAX : m.offset, true);
  const bytes = new Uint8Array(out.buffer);
  bytes.set(name, 46);
  if (extra.length) {
    out.setUint16(46 + name.length, 1, true);
    out.setUint16(48 + name.length, 8 * extra.length, true);
    extra.forEach((v, i) => out.setBigUint64(50 + name.length + 8 * i, v, true));
  }
  return bytes;
}

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the child in bytes (process.resourceUsage().maxRSS at exit). */
  peakRss: number;
  seconds: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs `node bin/svcca-lens.mjs ARGS` and reports the child's peak RSS (scripts/peak-rss.mjs writes it at exit). */
export function runCliMeasured(args: string[], cwd: string): Promise<MeasuredRun> {
  const rssFile = join(tmpdir(), `svcca-peak-rss-${process.pid}-${Date.now()}.txt`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', join(ROOT, 'scripts/peak-rss.mjs'), join(ROOT, 'bin/svcca-lens.mjs'), ...args], {
      cwd,
      env: { ...process.env, SVCCA_PEAK_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let peakRss = NaN;
      try {
        peakRss = Number(readFileSync(rssFile, 'utf8'));
        rmSync(rssFile, { force: true });
      } catch {
        // no report: the child died before its exit handler (peakRss stays NaN)
      }
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr, peakRss, seconds: (performance.now() - started) / 1000 });
    });
  });
}
