// Reader of numpy's .npz archives: a zip of .npy members (np.savez stores them, np.savez_compressed
// deflates them; numpy always writes zip64 local headers, and archives over 4 GiB need zip64
// central-directory fields and end records).
//
// Shape convention: members are decoded by npy.ts and returned as stored (C order, the file's
// shape); nothing is transposed to neurons × datapoints here.
//
// Only the end-of-central-directory records and the central directory are read when the archive
// is opened; a member's local header and data are read (with Blob.slice) when it is asked for, so a
// 1 GB archive can be listed, and its members' shapes read, without loading it.

import { Inflate, inflateSync } from 'fflate';
import { crc32 } from './crc32';
import { listNames } from './arrayFile';
import { formatBytes } from './decode';
import { parseNpy, readNpyHeaderFrom } from './npy';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

export interface NpzMember {
  /** For .npy members the path without ".npy" (what np.load calls it); for other members the path. */
  name: string;
  /** Path inside the zip. */
  path: string;
  method: 'stored' | 'deflated';
  compressedSize: number;
  uncompressedSize: number;
}

export interface NpzArchive {
  /** The .npy members, in central-directory order. */
  members: NpzMember[];
  /** Members that are not .npy files (e.g. manifest.json), in central-directory order. */
  otherMembers: NpzMember[];
  /** The uncompressed bytes of a .npy member (a whole .npy file). */
  readBytes(name: string): Promise<Uint8Array>;
  /** Reads and decodes a .npy member. */
  read(name: string): Promise<NdArray>;
  /** Shape and dtype of a .npy member from its header alone (only its first bytes are read). */
  header(name: string): Promise<{ shape: number[]; dtype: string; fortranOrder: boolean }>;
  /** A non-.npy member (by its path) decoded as UTF-8 text; limited to limits.maxHeaderBytes. */
  readText(path: string): Promise<string>;
  /** Any member's uncompressed bytes by its path, size-checked against `maxBytes` and CRC-checked
   *  (torch.save archives hold data.pkl and raw storages). */
  readMember(path: string, maxBytes: number): Promise<Uint8Array>;
}

/** What the central directory says about one member, beyond what NpzMember exposes. */
interface Entry extends NpzMember {
  crc: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_BYTES = 56;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_BYTES = 46;
const LOCAL_SIGNATURE = 0x04034b50;
const LOCAL_BYTES = 30;
const ZIP64_EXTRA_ID = 0x0001;
const UNICODE_PATH_EXTRA_ID = 0x7075;
const UTF8_FLAG = 1 << 11;
const UTF8 = new TextDecoder('utf-8');
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Code page 437 (the zip format's default name encoding), bytes 0x80–0xFF; 0x00–0x7F are ASCII. */
const CP437_HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
/** Compressed bytes fed to the inflater per step while looking for a member's npy header. */
const HEADER_INFLATE_CHUNK = 16 * 1024;

const METHOD_NAMES: Record<number, string> = { 1: 'shrink', 6: 'implode', 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz', 99: 'AES encryption' };

/** Opens an .npz Blob: reads its central directory only. */
export async function openNpz(blob: Blob, source: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<NpzArchive> {
  const read = async (start: number, end: number) => new Uint8Array(await blob.slice(start, end).arrayBuffer());
  const entries = await readCentralDirectory(blob, source, limits, read);

  const members: Entry[] = [];
  const otherMembers: Entry[] = [];
  const byName = new Map<string, Entry>();
  const byPath = new Map<string, Entry>();
  for (const entry of entries) {
    if (byPath.has(entry.path)) throw new InputError(source, `member '${entry.path}' appears twice in the archive`);
    byPath.set(entry.path, entry);
    if (entry.path.endsWith('.npy')) {
      members.push(entry);
      byName.set(entry.name, entry);
    } else {
      otherMembers.push(entry);
    }
  }

  const memberSource = (entry: Entry) => `${source}:${entry.name}`;
  const findMember = (name: string): Entry => {
    const entry = byName.get(name);
    if (entry) return entry;
    throw new InputError(source, `has no array '${name}' (its arrays: ${listNames(members, (s) => s, name)})`);
  };

  /** Offset of a member's data: after its local header, whose name and extra lengths may differ
   *  from the central directory's. Sizes always come from the central directory (numpy's local
   *  headers may carry 0xFFFFFFFF placeholders or a data descriptor). */
  const dataStarts = new Map<Entry, number>();
  const dataStart = async (entry: Entry): Promise<number> => {
    const known = dataStarts.get(entry);
    if (known !== undefined) return known;
    const local = await read(entry.localHeaderOffset, entry.localHeaderOffset + LOCAL_BYTES);
    const view = new DataView(local.buffer, local.byteOffset, local.byteLength);
    if (local.length < LOCAL_BYTES || view.getUint32(0, true) !== LOCAL_SIGNATURE) {
      throw new InputError(memberSource(entry), 'corrupt archive: no local file header where the central directory points');
    }
    const start = entry.localHeaderOffset + LOCAL_BYTES + view.getUint16(26, true) + view.getUint16(28, true);
    if (start + entry.compressedSize > blob.size) {
      throw new InputError(memberSource(entry), 'member data runs past the end of the file (truncated archive?)');
    }
    dataStarts.set(entry, start);
    return start;
  };

  /** Uncompressed bytes of a member, size-checked before reading and CRC-checked after. */
  const memberBytes = async (entry: Entry, maxBytes: number, what: string): Promise<Uint8Array> => {
    const src = memberSource(entry);
    if (entry.uncompressedSize > maxBytes || entry.compressedSize > maxBytes) {
      throw new InputError(
        src,
        `member of ${formatBytes(Math.max(entry.uncompressedSize, entry.compressedSize))} is over the ${formatBytes(maxBytes)} limit for ${what}`,
      );
    }
    const start = await dataStart(entry);
    const raw = await read(start, start + entry.compressedSize);
    let bytes = raw;
    if (entry.method === 'deflated') {
      // One spare byte in the output buffer reveals a stream that inflates to more than declared
      // (fflate truncates to the buffer instead of growing it, so memory stays bounded).
      const out = new Uint8Array(entry.uncompressedSize + 1);
      try {
        bytes = inflateSync(raw, { out });
      } catch (error) {
        throw new InputError(src, `cannot inflate the member (corrupt data): ${(error as Error).message}`);
      }
      if (bytes.length !== entry.uncompressedSize) {
        const size = bytes.length > entry.uncompressedSize ? `more than ${entry.uncompressedSize}` : `${bytes.length}`;
        throw new InputError(src, `member inflates to ${size} bytes but the archive declares ${entry.uncompressedSize} (corrupt archive)`);
      }
    }
    if (crc32(bytes) !== entry.crc) throw new InputError(src, 'CRC mismatch: the member is corrupt');
    return bytes;
  };

  // An npy member holds one array plus its header.
  const maxMemberBytes = limits.maxArrayBytes + limits.maxHeaderBytes;

  return {
    members: members.map(publicMember),
    otherMembers: otherMembers.map(publicMember),
    readBytes: (name) => memberBytes(findMember(name), maxMemberBytes, 'one array'),
    read: async (name) => {
      const entry = findMember(name);
      return parseNpy(await memberBytes(entry, maxMemberBytes, 'one array'), memberSource(entry), limits);
    },
    header: async (name) => {
      const entry = findMember(name);
      const start = await dataStart(entry);
      const readPrefix =
        entry.method === 'stored'
          ? (length: number) => read(start, start + Math.min(length, entry.compressedSize))
          : inflatedPrefixReader(read, start, entry.compressedSize, memberSource(entry));
      const { shape, dtype, fortranOrder } = await readNpyHeaderFrom(readPrefix, memberSource(entry), limits);
      return { shape, dtype, fortranOrder };
    },
    readText: async (path) => {
      const entry = byPath.get(path);
      if (!entry) throw new InputError(source, `has no member '${path}'`);
      const bytes = await memberBytes(entry, limits.maxHeaderBytes, 'a text member');
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new InputError(memberSource(entry), 'is not UTF-8 text');
      }
    },
    readMember: async (path, maxBytes) => {
      const entry = byPath.get(path);
      if (!entry) throw new InputError(source, `has no member '${path}'`);
      return memberBytes(entry, maxBytes, 'one member');
    },
  };
}

function publicMember({ name, path, method, compressedSize, uncompressedSize }: Entry): NpzMember {
  return { name, path, method, compressedSize, uncompressedSize };
}

/**
 * A `readPrefix` for a deflated member: inflates it chunk by chunk, only as far as the bytes asked
 * for (an npy header is rarely more than 128 bytes), and keeps its state between calls.
 */
function inflatedPrefixReader(
  read: (start: number, end: number) => Promise<Uint8Array>,
  start: number,
  compressedSize: number,
  source: string,
): (length: number) => Promise<Uint8Array> {
  let output = new Uint8Array(0);
  let consumed = 0;
  const inflater = new Inflate((chunk) => {
    const grown = new Uint8Array(output.length + chunk.length);
    grown.set(output);
    grown.set(chunk, output.length);
    output = grown;
  });
  return async (length) => {
    while (output.length < length && consumed < compressedSize) {
      const end = Math.min(consumed + HEADER_INFLATE_CHUNK, compressedSize);
      const chunk = await read(start + consumed, start + end);
      consumed = end;
      try {
        inflater.push(chunk, consumed === compressedSize);
      } catch (error) {
        throw new InputError(source, `cannot inflate the member (corrupt data): ${(error as Error).message}`);
      }
    }
    return output.subarray(0, length);
  };
}

/** Finds the end records and parses the central directory into entries (directories skipped). */
async function readCentralDirectory(
  blob: Blob,
  source: string,
  limits: ReadLimits,
  read: (start: number, end: number) => Promise<Uint8Array>,
): Promise<Entry[]> {
  const size = blob.size;
  if (size === 0) throw new InputError(source, 'file is empty');
  // The EOCD record is the last thing in the file, followed only by a comment of ≤ 65535 bytes.
  const tailStart = Math.max(0, size - (MAX_COMMENT_BYTES + EOCD_BYTES));
  const tail = await read(tailStart, size);
  const tailView = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - EOCD_BYTES; i >= 0; i--) {
    if (tailView.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_BYTES + tailView.getUint16(i + 20, true) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const head = await read(0, 6);
    if (head[0] === 0x93 && String.fromCharCode(...head.subarray(1)) === 'NUMPY') {
      throw new InputError(source, 'is a .npy file, not an .npz archive');
    }
    if (head[0] === 0x50 && head[1] === 0x4b) {
      throw new InputError(source, 'truncated or corrupt zip archive: no end-of-central-directory record');
    }
    throw new InputError(source, 'not a zip archive (an .npz is a zip of .npy files)');
  }
  const eocdOffset = tailStart + eocd;
  let disk = tailView.getUint16(eocd + 4, true);
  let directoryDisk = tailView.getUint16(eocd + 6, true);
  let count = tailView.getUint16(eocd + 10, true);
  let directorySize = tailView.getUint32(eocd + 12, true);
  let directoryOffset = tailView.getUint32(eocd + 16, true);
  let directoryEnd = eocdOffset;

  // ZIP64: a locator just before the EOCD points at the ZIP64 EOCD record with 64-bit fields.
  if (eocdOffset >= ZIP64_LOCATOR_BYTES) {
    const locator = await read(eocdOffset - ZIP64_LOCATOR_BYTES, eocdOffset);
    const locatorView = new DataView(locator.buffer, locator.byteOffset, locator.byteLength);
    if (locatorView.getUint32(0, true) === ZIP64_LOCATOR_SIGNATURE) {
      const recordOffset = readU64(locatorView, 8, source);
      const record = await read(recordOffset, recordOffset + ZIP64_EOCD_BYTES);
      const recordView = new DataView(record.buffer, record.byteOffset, record.byteLength);
      if (record.length < ZIP64_EOCD_BYTES || recordView.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) {
        throw new InputError(source, 'corrupt zip archive: the ZIP64 end-of-central-directory record is missing');
      }
      disk = recordView.getUint32(16, true);
      directoryDisk = recordView.getUint32(20, true);
      count = readU64(recordView, 32, source);
      directorySize = readU64(recordView, 40, source);
      directoryOffset = readU64(recordView, 48, source);
      directoryEnd = recordOffset;
    }
  }
  if (disk !== 0 || directoryDisk !== 0) throw new InputError(source, 'multi-part (split) zip archives are not supported');
  if (directoryOffset + directorySize > directoryEnd) {
    throw new InputError(source, 'truncated or corrupt zip archive: the central directory lies outside the file');
  }
  if (directorySize > limits.maxHeaderBytes) {
    throw new InputError(source, `central directory of ${formatBytes(directorySize)} is over the ${formatBytes(limits.maxHeaderBytes)} limit`);
  }

  const directory = await read(directoryOffset, directoryOffset + directorySize);
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const corrupt = (why: string) => new InputError(source, `corrupt zip central directory: ${why}`);
  const entries: Entry[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + CENTRAL_BYTES > directory.length || view.getUint32(pos, true) !== CENTRAL_SIGNATURE) {
      throw corrupt(`entry ${i + 1} of ${count} is missing`);
    }
    const flags = view.getUint16(pos + 8, true);
    const method = view.getUint16(pos + 10, true);
    const crc = view.getUint32(pos + 16, true);
    let compressedSize = view.getUint32(pos + 20, true);
    let uncompressedSize = view.getUint32(pos + 24, true);
    const nameLength = view.getUint16(pos + 28, true);
    const extraLength = view.getUint16(pos + 30, true);
    const commentLength = view.getUint16(pos + 32, true);
    let localHeaderOffset = view.getUint32(pos + 42, true);
    const nameStart = pos + CENTRAL_BYTES;
    const extraStart = nameStart + nameLength;
    pos = extraStart + extraLength + commentLength;
    if (pos > directory.length) throw corrupt(`entry ${i + 1} runs past the directory`);
    const path = memberPath(directory.subarray(nameStart, extraStart), flags, view, extraStart, extraLength);

    // ZIP64 extra field: 64-bit values for exactly those fields that hold 0xFFFFFFFF, in this order.
    const needs64 = [uncompressedSize === 0xffffffff, compressedSize === 0xffffffff, localHeaderOffset === 0xffffffff];
    if (needs64.some(Boolean)) {
      const zip64 = findExtra(view, extraStart, extraLength, ZIP64_EXTRA_ID);
      if (!zip64) throw corrupt(`'${path}' has 32-bit placeholders but no ZIP64 extra field`);
      let field = zip64.start;
      const next = () => {
        if (field + 8 > zip64.start + zip64.length) throw corrupt(`'${path}' has a short ZIP64 extra field`);
        const value = readU64(view, field, source);
        field += 8;
        return value;
      };
      if (needs64[0]) uncompressedSize = next();
      if (needs64[1]) compressedSize = next();
      if (needs64[2]) localHeaderOffset = next();
    }
    if (path.endsWith('/')) continue; // a directory entry, no data

    const name = path.endsWith('.npy') ? path.slice(0, -'.npy'.length) : path;
    const entrySource = `${source}:${name}`;
    if (flags & 1) throw new InputError(entrySource, 'member is encrypted; encrypted archives cannot be read');
    if (method !== 0 && method !== 8) {
      const known = METHOD_NAMES[method] ? ` (${METHOD_NAMES[method]})` : '';
      throw new InputError(entrySource, `member is compressed with method ${method}${known}; only stored and deflated members can be read`);
    }
    if (method === 0 && compressedSize !== uncompressedSize) {
      throw corrupt(`stored member '${path}' has different compressed and uncompressed sizes`);
    }
    if (localHeaderOffset + LOCAL_BYTES > directoryOffset) throw corrupt(`'${path}' points past the member data`);
    entries.push({
      name,
      path,
      method: method === 0 ? 'stored' : 'deflated',
      compressedSize,
      uncompressedSize,
      crc,
      localHeaderOffset,
    });
  }
  return entries;
}

/**
 * A member's name as its writer wrote it (APPNOTE 4.4.4 and appendix D):
 * - general purpose bit 11 set: UTF-8 (what zipfile, and so np.savez, writes for non-ASCII names);
 * - otherwise an Info-ZIP Unicode Path extra field (0x7075, version 1) whose CRC-32 matches the
 *   stored name bytes gives the UTF-8 name (a stale one, left by a tool that renamed the member, is
 *   ignored);
 * - otherwise bytes that are valid UTF-8 are UTF-8 (ASCII reads the same in both encodings); beyond
 *   ASCII this is what Info-ZIP's zip on Linux and macOS
 *   stores the file system's UTF-8 names without the flag (np.load shows those as CP437 mojibake,
 *   "caf├⌐"; a real CP437 name is almost never valid UTF-8);
 * - otherwise CP437, the format's default (older writers, Windows tools, Python 2), as np.load reads it.
 */
function memberPath(raw: Uint8Array, flags: number, view: DataView, extraStart: number, extraLength: number): string {
  if (flags & UTF8_FLAG) return UTF8.decode(raw);
  const unicode = findExtra(view, extraStart, extraLength, UNICODE_PATH_EXTRA_ID);
  if (unicode && unicode.length > 5 && view.getUint8(unicode.start) === 1 && view.getUint32(unicode.start + 1, true) === crc32(raw)) {
    const utf8 = new Uint8Array(view.buffer, view.byteOffset + unicode.start + 5, unicode.length - 5);
    return UTF8.decode(utf8);
  }
  try {
    return STRICT_UTF8.decode(raw);
  } catch {
    return Array.from(raw, (b) => (b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80])).join('');
  }
}

/** Unsigned 64-bit little-endian value; refuses values beyond 2⁵³ (no real file is that large). */
function readU64(view: DataView, offset: number, source: string): number {
  const value = view.getUint32(offset + 4, true) * 4294967296 + view.getUint32(offset, true);
  if (!Number.isSafeInteger(value)) throw new InputError(source, 'corrupt zip archive: a 64-bit size or offset is beyond 2^53');
  return value;
}

/** Locates an extra field by id within [start, start + length) of the directory (its data: after the 4-byte id and length). */
function findExtra(view: DataView, start: number, length: number, id: number): { start: number; length: number } | null {
  let pos = start;
  while (pos + 4 <= start + length) {
    const fieldId = view.getUint16(pos, true);
    const fieldLength = view.getUint16(pos + 2, true);
    if (fieldId === id) return { start: pos + 4, length: Math.min(fieldLength, start + length - pos - 4) };
    pos += 4 + fieldLength;
  }
  return null;
}
