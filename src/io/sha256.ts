// SHA-256 (FIPS 180-4) fed in parts: the content hash of an array (analysis/provenance.ts) is
// taken over a header line and the array's own bytes, which WebCrypto can hash only as one buffer
// (a copy of the array, which WebCrypto then copies again). Fed in parts, an array is hashed where
// it lies, as the job reads it, with no copy and no second read. Node registers its native hash
// instead (cli/commands.ts); the digests are the same (test/io/sha256.test.ts).
//
// The blocks are compressed in WebAssembly (src/wasm/sha256.wat), 64 KiB at a time copied into the
// module's memory: in Chromium the same loop in JavaScript ran at ~50 MB/s, a quarter of its speed
// in Node, which made hashing a CNN's arrays as read cost more than reading them twice. The
// JavaScript loop stays as the fallback where WebAssembly is not available.

import { SHA256_BLOCKS } from './sha256.generated';

interface ShaKernel {
  memory: WebAssembly.Memory;
  blocks: (at: number, count: number) => void;
}

/** Where the module takes its blocks (the layout in sha256.wat), and how many bytes at a time. */
const DATA_AT = 1024;
const DATA_BYTES = 65536;

let kernel: ShaKernel | null | undefined;
let wasmEnabled = true;

function loadKernel(): ShaKernel | null {
  if (typeof WebAssembly !== 'object') return null;
  try {
    const binary = atob(SHA256_BLOCKS);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as ShaKernel;
  } catch {
    return null;
  }
}

function shaKernel(): ShaKernel | null {
  if (!wasmEnabled) return null;
  if (kernel === undefined) kernel = loadKernel();
  return kernel;
}

/** Which loop compresses the blocks: what the tests check and compare. */
export function sha256Kernel(): 'wasm' | 'js' {
  return shaKernel() ? 'wasm' : 'js';
}

/** Turns the WebAssembly loop off (false) or back on, for the tests of the fallback; returns the previous setting. */
export function setSha256WasmEnabled(on: boolean): boolean {
  const previous = wasmEnabled;
  wasmEnabled = on;
  return previous;
}

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** An incremental SHA-256: update with the message's parts in order, then digest once. */
export class Sha256 {
  private readonly state = Int32Array.from(INITIAL);
  private readonly schedule = new Int32Array(64);
  /** The bytes of an unfinished block (fewer than 64), waiting for the next part. */
  private readonly pending = new Uint8Array(64);
  private pendingBytes = 0;
  /** Message length in bytes (exact below 2⁵³). */
  private length = 0;
  private finished = false;

  update(bytes: Uint8Array): this {
    if (this.finished) throw new Error('SHA-256: update after digest');
    this.length += bytes.length;
    let at = 0;
    if (this.pendingBytes > 0) {
      const take = Math.min(64 - this.pendingBytes, bytes.length);
      this.pending.set(bytes.subarray(0, take), this.pendingBytes);
      this.pendingBytes += take;
      at = take;
      if (this.pendingBytes < 64) return this;
      this.blocks(this.pending, 0, 1);
      this.pendingBytes = 0;
    }
    const whole = Math.floor((bytes.length - at) / 64);
    if (whole > 0) this.blocks(bytes, at, whole);
    at += whole * 64;
    this.pending.set(bytes.subarray(at), 0);
    this.pendingBytes = bytes.length - at;
    return this;
  }

  /** The digest, as lowercase hex (the hash may not be updated after this). */
  digest(encoding: 'hex'): string {
    if (encoding !== 'hex') throw new Error(`SHA-256: unknown encoding ${String(encoding)}`);
    if (!this.finished) {
      const bits = this.length * 8;
      // 0x80, zeros to 56 bytes mod 64, then the length in bits as a 64-bit big-endian number.
      const tail = new Uint8Array(this.pendingBytes < 56 ? 64 : 128);
      tail.set(this.pending.subarray(0, this.pendingBytes));
      tail[this.pendingBytes] = 0x80;
      const view = new DataView(tail.buffer);
      view.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
      view.setUint32(tail.length - 4, bits >>> 0);
      this.blocks(tail, 0, tail.length / 64);
      this.finished = true;
    }
    return Array.from(this.state, (word) => (word >>> 0).toString(16).padStart(8, '0')).join('');
  }

  /** Compresses `count` 64-byte blocks of `bytes` from byte `start`. */
  private blocks(bytes: Uint8Array, start: number, count: number): void {
    const wasm = shaKernel();
    if (!wasm) return this.blocksJs(bytes, start, count);
    // The state goes in and comes back: every Sha256 keeps its own, and the module serves them all.
    const state = new Int32Array(wasm.memory.buffer, 0, 8);
    const heap = new Uint8Array(wasm.memory.buffer);
    state.set(this.state);
    for (let done = 0; done < count;) {
      const now = Math.min(count - done, DATA_BYTES / 64);
      heap.set(bytes.subarray(start + done * 64, start + (done + now) * 64), DATA_AT);
      wasm.blocks(DATA_AT, now);
      done += now;
    }
    this.state.set(state);
  }

  /** blocks in JavaScript: the fallback. */
  private blocksJs(bytes: Uint8Array, start: number, count: number): void {
    const w = this.schedule;
    const s = this.state;
    let a = s[0];
    let b = s[1];
    let c = s[2];
    let d = s[3];
    let e = s[4];
    let f = s[5];
    let g = s[6];
    let h = s[7];
    for (let block = 0; block < count; block++) {
      const base = start + block * 64;
      for (let t = 0; t < 16; t++) {
        const i = base + 4 * t;
        w[t] = (bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3];
      }
      for (let t = 16; t < 64; t++) {
        const x = w[t - 15];
        const y = w[t - 2];
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      let a0 = a;
      let b0 = b;
      let c0 = c;
      let d0 = d;
      let e0 = e;
      let f0 = f;
      let g0 = g;
      let h0 = h;
      for (let t = 0; t < 64; t++) {
        const sigma1 = ((e0 >>> 6) | (e0 << 26)) ^ ((e0 >>> 11) | (e0 << 21)) ^ ((e0 >>> 25) | (e0 << 7));
        const choose = (e0 & f0) ^ (~e0 & g0);
        const t1 = (h0 + sigma1 + choose + K[t] + w[t]) | 0;
        const sigma0 = ((a0 >>> 2) | (a0 << 30)) ^ ((a0 >>> 13) | (a0 << 19)) ^ ((a0 >>> 22) | (a0 << 10));
        const majority = (a0 & b0) ^ (a0 & c0) ^ (b0 & c0);
        const t2 = (sigma0 + majority) | 0;
        h0 = g0;
        g0 = f0;
        f0 = e0;
        e0 = (d0 + t1) | 0;
        d0 = c0;
        c0 = b0;
        b0 = a0;
        a0 = (t1 + t2) | 0;
      }
      a = (a + a0) | 0;
      b = (b + b0) | 0;
      c = (c + c0) | 0;
      d = (d + d0) | 0;
      e = (e + e0) | 0;
      f = (f + f0) | 0;
      g = (g + g0) | 0;
      h = (h + h0) | 0;
    }
    s[0] = a;
    s[1] = b;
    s[2] = c;
    s[3] = d;
    s[4] = e;
    s[5] = f;
    s[6] = g;
    s[7] = h;
  }
}
