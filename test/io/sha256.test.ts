// io/sha256.ts: the incremental SHA-256 the browser hashes arrays with (analysis/provenance.ts), its
// WebAssembly loop (src/wasm/sha256.wat) and its JavaScript fallback alike. Reference values: FIPS 180-4's examples (NIST CSRC "SHA256.pdf": "abc", the 448-bit message, one
// million 'a') and the empty message; then Node's OpenSSL hash on random messages of every length
// around the block and padding boundaries, fed in random parts.

import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setSha256WasmEnabled, Sha256, sha256Kernel } from '../../src/io/sha256';

const text = (s: string) => new TextEncoder().encode(s);

afterEach(() => setSha256WasmEnabled(true));

it('runs its WebAssembly loop where WebAssembly is available, and the JavaScript one when that is off', () => {
  expect(sha256Kernel()).toBe('wasm');
  setSha256WasmEnabled(false);
  expect(sha256Kernel()).toBe('js');
});

describe.each(['wasm', 'js'] as const)('SHA-256, %s loop', (kernel) => {
  beforeEach(() => {
    setSha256WasmEnabled(kernel === 'wasm');
  });

  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ])('FIPS 180-4 example %j', (message, digest) => {
    expect(new Sha256().update(text(message)).digest('hex')).toBe(digest);
  });

  it('FIPS 180-4 example: one million "a", fed in parts of 1000', () => {
    const hash = new Sha256();
    const part = new Uint8Array(1000).fill(0x61);
    for (let k = 0; k < 1000; k++) hash.update(part);
    expect(hash.digest('hex')).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it("equals Node's hash on every length from 0 to 300 bytes and on larger ones, fed in random parts", () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const lengths = [...Array.from({ length: 301 }, (_, n) => n), 1023, 4096, 65537, 1_000_003];
    const wrong: number[] = [];
    for (const n of lengths) {
      const message = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      const hash = new Sha256();
      for (let at = 0; at < n;) {
        const take = Math.min(n - at, Math.floor(random() * 150));
        hash.update(message.subarray(at, at + take));
        at += take;
      }
      if (hash.digest('hex') !== createHash('sha256').update(message).digest('hex')) wrong.push(n);
    }
    expect(wrong).toEqual([]);
  });

  it('reads a view where it lies (an offset into a larger buffer; in one part, several of the loop’s 64 KiB), and gives the same digest twice', () => {
    const buffer = new Uint8Array(300_000).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    const view = buffer.subarray(13, 299_913);
    const hash = new Sha256().update(view);
    const once = hash.digest('hex');
    expect(once).toBe(createHash('sha256').update(view).digest('hex'));
    expect(hash.digest('hex')).toBe(once);
    expect(() => hash.update(view)).toThrow(/update after digest/);
  });
});
