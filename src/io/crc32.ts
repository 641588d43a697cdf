// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as zip archives store it for every member,
// so that a corrupted stored member is refused instead of read as wrong activations.
//
// Slicing-by-8 (eight 256-entry tables, eight bytes per step): a member of hundreds of megabytes is
// checked at about 1 GB/s instead of a few hundred MB/s byte by byte. `crc32Update` continues a CRC
// over consecutive chunks, so a file written or read in pieces never needs to be whole in memory.

const TABLES = (() => {
  const tables = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c >>> 0;
  }
  // tables[k·256 + n]: the CRC of byte n followed by k zero bytes.
  for (let n = 0; n < 256; n++) {
    let c = tables[n];
    for (let k = 1; k < 8; k++) {
      c = tables[c & 0xff] ^ (c >>> 8);
      tables[k * 256 + n] = c >>> 0;
    }
  }
  return tables;
})();

/** CRC-32 of `bytes` as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}

/** Continues `crc` (the CRC-32 of the bytes before, 0 for none) over `bytes`: crc32Update(crc32(a), b) = crc32(a ++ b). */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = TABLES;
  let c = (crc ^ 0xffffffff) >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
