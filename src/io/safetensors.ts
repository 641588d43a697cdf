// Reader of the safetensors format: an unsigned 64-bit little-endian header length N, N bytes of
// JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then
// the data section; offsets are relative to the data section; data is always little-endian, C order.
//
// Shape convention: tensors are returned as stored (the header's shape, C order); nothing is
// transposed to neurons × datapoints here.
//
// Opening reads the header only; each tensor's bytes are read (with Blob.slice) by read().

import { checkArrayBytes, decodeElements, elementCount, formatBytes, formatShape, ITEM_SIZE } from './decode';
import type { ElementType } from './decode';
import { listNames } from './arrayFile';
import { printable } from './printable';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

export interface SafetensorsTensor {
  name: string;
  /** As the header spells it: 'F32', 'F16', 'BF16', 'F64', 'I8', …, 'BOOL'. */
  dtype: string;
  shape: number[];
  /** Byte range within the data section (which starts at 8 + header length). */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  /** Tensors in the order the header lists them. */
  tensors: SafetensorsTensor[];
  /** The "__metadata__" entry (string → string), or null when absent. */
  metadata: Record<string, string> | null;
  read(name: string): Promise<NdArray>;
}

// A Map, not an object literal: a dtype spelled "constructor" or "__proto__" must not reach
// Object.prototype.
const DTYPES = new Map<string, ElementType>([
  ['F16', 'f2'],
  ['BF16', 'bf16'],
  ['F32', 'f4'],
  ['F64', 'f8'],
  ['I8', 'i1'],
  ['I16', 'i2'],
  ['I32', 'i4'],
  ['I64', 'i8'],
  ['U8', 'u1'],
  ['U16', 'u2'],
  ['U32', 'u4'],
  ['U64', 'u8'],
  ['BOOL', 'b1'],
]);

/** Opens a .safetensors Blob: reads and validates its header, not its data. */
export async function openSafetensors(blob: Blob, source: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<SafetensorsFile> {
  if (blob.size < 8) throw new InputError(source, `not a safetensors file: ${blob.size} bytes is too short for the 8-byte header length`);
  const lengthBytes = new DataView(await blob.slice(0, 8).arrayBuffer());
  const headerLength = lengthBytes.getUint32(4, true) * 4294967296 + lengthBytes.getUint32(0, true);
  if (headerLength > limits.maxHeaderBytes) {
    throw new InputError(source, `header length ${headerLength} is over the ${formatBytes(limits.maxHeaderBytes)} limit (not a safetensors file?)`);
  }
  if (8 + headerLength > blob.size) {
    throw new InputError(source, `header length ${headerLength} runs past the end of the ${blob.size}-byte file (truncated, or not a safetensors file)`);
  }
  const dataStart = 8 + headerLength;
  const dataSize = blob.size - dataStart;

  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await blob.slice(8, dataStart).arrayBuffer());
    header = JSON.parse(text);
  } catch (error) {
    throw new InputError(source, `header is not valid JSON: ${printable((error as Error).message.split('\n')[0])}`);
  }
  if (!isRecord(header)) throw new InputError(source, 'header is not a JSON object');

  let metadata: Record<string, string> | null = null;
  const tensors: SafetensorsTensor[] = [];
  // The header's own order: JSON.parse puts integer-like keys ("1", "10") first, so the keys are
  // taken from the text (which JSON.parse has just validated), the values from the parsed object.
  for (const name of topLevelKeys(text, source)) {
    const info = header[name];
    if (name === '__metadata__') {
      if (!isRecord(info) || Object.values(info).some((v) => typeof v !== 'string')) {
        throw new InputError(source, '"__metadata__" is not an object of strings');
      }
      metadata = info as Record<string, string>;
      continue;
    }
    tensors.push(parseTensor(name, info, `${source}:${printable(name)}`, dataSize));
  }
  checkTiling(tensors, dataSize, source);

  const byName = new Map(tensors.map((t) => [t.name, t]));
  return {
    tensors,
    metadata,
    read: async (name) => {
      const tensor = byName.get(name);
      if (!tensor) {
        throw new InputError(source, `has no tensor '${printable(name)}' (its tensors: ${listNames(tensors, printable, name)})`);
      }
      const tensorSource = `${source}:${printable(name)}`;
      const type = DTYPES.get(tensor.dtype)!;
      const count = elementCount(tensor.shape, tensorSource);
      checkArrayBytes(count, type, tensor.shape, tensor.dtype, tensorSource, limits);
      const bytes = new Uint8Array(await blob.slice(dataStart + tensor.begin, dataStart + tensor.end).arrayBuffer());
      return { shape: tensor.shape, dtype: tensor.dtype, data: decodeElements(bytes, type, count, true) };
    },
  };
}

/** Validates one header entry: known dtype, valid shape, offsets inside the data section and
 *  consistent with shape × item size. */
function parseTensor(name: string, info: unknown, source: string, dataSize: number): SafetensorsTensor {
  if (!isRecord(info)) throw new InputError(source, 'header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') throw new InputError(source, 'header entry has no dtype');
  const type = DTYPES.get(dtype);
  if (!type) throw new InputError(source, `unknown or unsupported dtype '${printable(dtype)}' (${[...DTYPES.keys()].join(', ')} can be read)`);
  if (!Array.isArray(shape)) throw new InputError(source, 'header entry has no shape list');
  const count = elementCount(shape, source);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new InputError(source, 'data_offsets is not a pair of non-negative integers');
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new InputError(source, `data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataSize) {
    throw new InputError(source, `data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data section (truncated file?)`);
  }
  const expected = count * ITEM_SIZE[type];
  if (end - begin !== expected) {
    throw new InputError(
      source,
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${formatShape(shape as number[])} of ${dtype} needs ${expected}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * The format forbids overlapping tensors and bytes that belong to none: sorted by offset, each
 * tensor must begin where the previous one ends, the first at 0 and the last at the end of the
 * data section (as the reference implementation checks). Empty tensors take no bytes anywhere.
 */
function checkTiling(tensors: readonly SafetensorsTensor[], dataSize: number, source: string): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: SafetensorsTensor | null = null;
  for (const tensor of sorted) {
    if (tensor.begin === tensor.end) continue;
    const named = `'${printable(tensor.name)}' [${tensor.begin}, ${tensor.end}]`;
    if (tensor.begin < covered) {
      throw new InputError(
        source,
        `tensors overlap: ${named} begins inside '${printable(previous!.name)}' [${previous!.begin}, ${previous!.end}] (the format forbids overlapping data)`,
      );
    }
    if (tensor.begin > covered) {
      throw new InputError(
        source,
        `the data section has a hole: bytes [${covered}, ${tensor.begin}) before ${named} belong to no tensor (the format forbids holes)`,
      );
    }
    covered = tensor.end;
    previous = tensor;
  }
  if (covered !== dataSize) {
    throw new InputError(
      source,
      `the data section has ${dataSize - covered} byte${dataSize - covered === 1 ? '' : 's'} after the last tensor (bytes [${covered}, ${dataSize}) belong to no tensor; the format forbids them)`,
    );
  }
}

/**
 * The keys of the top-level object of `text` (valid JSON: JSON.parse has accepted it), in the order
 * they are written. A key written twice is refused: JSON.parse would silently keep the last one.
 */
function topLevelKeys(text: string, source: string): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  let pos = text.indexOf('{') + 1;
  let depth = 1;
  let expectKey = true;
  while (pos < text.length && depth > 0) {
    const c = text[pos];
    if (c === '"') {
      // A JSON string: find its closing quote, skipping escaped characters.
      let end = pos + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(pos, end + 1)) as string;
        if (seen.has(key)) throw new InputError(source, `header lists '${printable(key)}' twice`);
        seen.add(key);
        keys.push(key);
        expectKey = false;
      }
      pos = end + 1;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
    pos++;
  }
  return keys;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
