// A restricted unpickler: reads Python pickles (protocols 0–5) into plain values WITHOUT running
// anything. Python's pickle executes whatever callables a file names (os.system, eval, …); here a
// pickle may only name the globals the reader passes in `globals` (a Map keyed "module.name"), each
// implemented in TypeScript: asking for any other global, an extension code, an out-of-band buffer
// or a persistent id nobody handles stops the read with an InputError naming what was asked for.
//
// Values: None → null, bool → boolean, int → number (bigint beyond 2^53), float → PyFloat,
// str → string, bytes → PyBytes, tuple → PyTuple, list → PyList, dict → PyDict, and objects made by
// the allowed globals (subclasses of PyObject). Nothing is copied out of the pickle's bytes:
// PyBytes views the input buffer.
//
// Bounds: every opcode consumes at least one byte, so work and memory are linear in the pickle's
// size; lengths are checked against the bytes left before anything is decoded; walking the result
// (collectLeaves) refuses cycles and caps the number of objects visited, so a pickle whose objects
// share children cannot make a name list exponentially long.

import { InputError } from './types';
import { printable } from './printable';

/** A Python float, kept apart from ints (a shape like (3.0, 4) is refused). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Python bytes (or a Python 2 str, which unpickles as bytes-like text; `py2str` says which). */
export class PyBytes {
  constructor(
    readonly bytes: Uint8Array,
    readonly py2str = false,
  ) {}
  /** The bytes read as latin-1 text (what Python 3 does with a Python 2 str when encoding='latin1'). */
  latin1(): string {
    let out = '';
    for (let i = 0; i < this.bytes.length; i += 8192) out += String.fromCharCode(...this.bytes.subarray(i, i + 8192));
    return out;
  }
}

/** A long str (over LONG_TEXT_BYTES of UTF-8), kept as its UTF-8 bytes until someone needs the text:
 *  protocols 0–2 store each array's bytes as such a str (then _codecs.encode(str, 'latin1')), and
 *  converting UTF-8 straight to latin-1 bytes is many times faster than building the JS string. */
export class PyText {
  constructor(readonly utf8: Uint8Array) {}
  text(fail: (why: string) => never): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.utf8);
    } catch {
      return fail('has a string that is not valid UTF-8');
    }
  }
}

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** An object made by an allowed global. BUILD (obj.__setstate__) is refused unless a subclass allows it. */
export abstract class PyObject {
  abstract readonly typeName: string;
  build(_state: PyValue, fail: (why: string) => never): void {
    fail(`cannot set the state of a ${this.typeName} object (BUILD)`);
  }
}

export class PyList extends PyObject {
  readonly typeName = 'list';
  constructor(readonly items: PyValue[] = []) {
    super();
  }
}

/** dict, collections.OrderedDict (ordered = true) and set/frozenset (keys only, values null). */
export class PyDict extends PyObject {
  readonly typeName: string;
  /** Insertion order; a key set twice keeps its first position and its last value, as in Python. */
  readonly entries: { key: PyValue; value: PyValue }[] = [];
  /** Index into `entries` by a canonical form of hashable keys (str, int, float, bool, None, bytes). */
  private readonly index = new Map<string, number>();
  constructor(typeName = 'dict') {
    super();
    this.typeName = typeName;
  }
  set(key: PyValue, value: PyValue): void {
    const canonical = canonicalKey(key);
    const at = canonical === null ? undefined : this.index.get(canonical);
    if (at !== undefined) {
      this.entries[at].value = value;
      return;
    }
    if (canonical !== null) this.index.set(canonical, this.entries.length);
    this.entries.push({ key, value });
  }
  override build(state: PyValue, fail: (why: string) => never): void {
    // OrderedDict subclasses carry attributes (a state_dict's `_metadata`): they name no arrays.
    if (this.typeName !== 'OrderedDict') super.build(state, fail);
  }
}

/** A global the pickle named; only allowed ones ever become a PyGlobal. */
export class PyGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly impl: GlobalImpl,
  ) {}
}

export type PyValue = null | boolean | number | bigint | string | PyText | PyFloat | PyBytes | PyTuple | PyObject | PyGlobal;

/** How an allowed global behaves. `fail` throws an InputError about the pickle. */
export interface GlobalImpl {
  /** REDUCE: global(*args). */
  call?(args: PyValue[], fail: (why: string) => never): PyValue;
  /** NEWOBJ / OBJ / INST: cls.__new__(cls, *args). Defaults to `call`. */
  construct?(args: PyValue[], fail: (why: string) => never): PyValue;
}

export interface UnpickleOptions {
  /** The only globals the pickle may name, keyed "module.name". */
  globals: ReadonlyMap<string, GlobalImpl>;
  /** persistent_load (torch's storages); absent: a persistent id is refused. */
  persistentLoad?(pid: PyValue, fail: (why: string) => never): PyValue;
  /** What a refused global is compared to in the message ("tensors in dicts, lists and tuples"). */
  allowedWhat: string;
  /** Advice added after a refused global ("save model.state_dict() rather than the model"). */
  hint?: string;
}

export interface UnpickleResult {
  value: PyValue;
  /** Offset just after the STOP opcode (a legacy torch file holds several pickles in a row). */
  end: number;
}

const MAX_TEXT_LINE = 1 << 16;
/** Strings longer than this stay UTF-8 bytes (PyText) until needed. */
const LONG_TEXT_BYTES = 1 << 16;
/** A LONG of more digits is no count, shape or stride of anything we read. */
const MAX_LONG_BYTES = 64;

/**
 * Unpickles one pickle starting at `start` in `bytes`. Throws InputError(source, …) on anything
 * malformed or not allowed; never calls anything but the allowed globals' TypeScript code.
 */
export function unpickle(bytes: Uint8Array, source: string, options: UnpickleOptions, start = 0): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let opPos = start;
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const fail = (why: string): never => {
    throw new InputError(source, `pickle ${why} (at byte ${opPos})`);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) fail(`is truncated: ${n} more bytes needed, ${Math.max(0, bytes.length - pos)} left`);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => {
    need(1);
    return bytes[pos++];
  };
  const u16 = () => {
    need(2);
    pos += 2;
    return view.getUint16(pos - 2, true);
  };
  const u32 = () => {
    need(4);
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const i32 = () => {
    need(4);
    pos += 4;
    return view.getInt32(pos - 4, true);
  };
  const u64 = () => {
    need(8);
    pos += 8;
    const value = view.getUint32(pos - 4, true) * 4294967296 + view.getUint32(pos - 8, true);
    if (!Number.isSafeInteger(value)) fail('declares a length beyond 2^53');
    return value;
  };
  /** Text up to the next newline (protocol 0 operands), newline consumed. */
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('is truncated: a text operand has no terminating newline');
    if (end - pos > MAX_TEXT_LINE) fail('has a text operand over 64 KiB');
    const text = latin1(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const utf8 = (raw: Uint8Array): string | PyText => {
    if (raw.length > LONG_TEXT_BYTES) return new PyText(raw);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return fail('has a string that is not valid UTF-8');
    }
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail('pops from an empty stack');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const mark = marks.pop();
    if (mark === undefined) fail('has no MARK to pop to');
    return stack.splice(mark as number);
  };
  const memoGet = (index: number): PyValue => {
    const value = memo.get(index);
    if (value === undefined) fail(`refers to memo entry ${index}, which was never stored`);
    return value as PyValue;
  };
  const memoPut = (index: number) => memo.set(index, top());
  const findGlobal = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    const impl = options.globals.get(qualified);
    if (!impl) {
      const hint = options.hint ? `; ${options.hint}` : '';
      fail(`asks for the Python object '${printable(qualified)}', which is not allowed here (only ${options.allowedWhat} can be read; nothing was run)${hint}`);
    }
    return new PyGlobal(qualified, impl as GlobalImpl);
  };
  const callGlobal = (callable: PyValue, args: PyValue[], how: 'call' | 'construct'): PyValue => {
    if (!(callable instanceof PyGlobal)) fail(`calls something that is not an allowed global (a ${typeOf(callable)})`);
    const { impl, qualifiedName } = callable as PyGlobal;
    const fn = how === 'construct' ? (impl.construct ?? impl.call) : impl.call;
    if (!fn) fail(`uses '${printable(qualifiedName)}' in a way this reader does not support`);
    const wrapped = (why: string): never => fail(`${printable(qualifiedName)}: ${why}`);
    return fn!.call(impl, args, wrapped);
  };
  const asText = (value: PyValue, what: string): string => {
    if (typeof value === 'string') return value;
    if (value instanceof PyText) return value.text(fail);
    if (value instanceof PyBytes && value.py2str) return value.latin1();
    return fail(`has a ${what} that is not a string`);
  };
  const setItems = (target: PyValue, items: PyValue[]) => {
    if (!(target instanceof PyDict)) fail(`sets items on a ${typeOf(target)}, not a dict`);
    if (items.length % 2 !== 0) fail('has an odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) (target as PyDict).set(items[i], items[i + 1]);
  };
  const appendItems = (target: PyValue, items: PyValue[]) => {
    // One push per item: spreading a 200 000-item APPENDS into push() would overflow the call stack.
    if (target instanceof PyList) for (const item of items) target.items.push(item);
    else if (target instanceof PyDict && (target.typeName === 'set' || target.typeName === 'frozenset')) for (const item of items) target.set(item, null);
    else fail(`appends to a ${typeOf(target)}, not a list`);
  };

  if (pos >= bytes.length) fail('is empty');
  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: {
        // PROTO
        const protocol = u8();
        if (protocol > 5) fail(`uses protocol ${protocol} (protocols 0 to 5 can be read)`);
        break;
      }
      case 0x95: // FRAME: a length prefix only; the bytes follow inline
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`ends with ${stack.length} values on the stack instead of 1`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length > 0 && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: {
        // INT (text; I01/I00 are bools)
        const text = line();
        if (text === '01' || text === '00') stack.push(text === '01');
        else stack.push(parseIntText(text, fail));
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4c: // LONG (text, trailing L)
        stack.push(parseIntText(line().replace(/L$/, ''), fail));
        break;
      case 0x8a: // LONG1
        stack.push(littleEndianSigned(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const length = i32();
        if (length < 0 || length > MAX_LONG_BYTES) fail(`has a ${length}-byte integer`);
        stack.push(littleEndianSigned(take(length)));
        break;
      }
      case 0x46: {
        // FLOAT (text)
        const text = line().trim();
        if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|nan)$/i.test(text)) fail('has a malformed float');
        stack.push(new PyFloat(/^[-+]?inf$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : /nan/i.test(text) ? NaN : Number(text)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(new PyFloat(view.getFloat64(pos, false)));
        pos += 8;
        break;
      case 0x53: // STRING (protocol 0 Python 2 str: a quoted repr)
        stack.push(new PyBytes(parseQuotedString(line(), fail), true));
        break;
      case 0x54: {
        // BINSTRING
        const length = i32();
        if (length < 0) fail('has a negative string length');
        stack.push(new PyBytes(take(length), true));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new PyBytes(take(u8()), true));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(decodeRawUnicodeEscape(line(), fail));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x42: // BINBYTES
        stack.push(new PyBytes(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new PyBytes(take(u8())));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(new PyBytes(take(u64())));
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail('uses out-of-band buffers (pickle protocol 5 buffer_callback), which are not in the file');
        break;
      case 0x5d: // EMPTY_LIST
        stack.push(new PyList());
        break;
      case 0x6c: // LIST
        stack.push(new PyList(popMark()));
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const dict = new PyDict();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new PyDict('set'));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: {
        // FROZENSET
        const set = new PyDict('frozenset');
        for (const item of popMark()) set.set(item, null);
        stack.push(set);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        stack.push(findGlobal(asText(module, 'module name'), asText(name, 'global name')));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(args instanceof PyTuple)) fail(`calls with arguments that are a ${typeOf(args)}, not a tuple`);
        stack.push(callGlobal(callable, (args as PyTuple).items, 'call'));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple)) fail(`constructs with arguments that are a ${typeOf(args)}, not a tuple`);
        stack.push(callGlobal(cls, (args as PyTuple).items, 'construct'));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple)) fail('constructs with arguments that are not a tuple');
        if (!(kwargs instanceof PyDict) || kwargs.entries.length > 0) fail('constructs with keyword arguments, which this reader does not support');
        stack.push(callGlobal(cls, (args as PyTuple).items, 'construct'));
        break;
      }
      case 0x69: {
        // INST "module\nname\n", args after MARK
        const module = line();
        const name = line();
        const cls = findGlobal(module, name);
        stack.push(callGlobal(cls, popMark(), 'construct'));
        break;
      }
      case 0x6f: {
        // OBJ: MARK cls args…
        const items = popMark();
        if (items.length === 0) fail('has OBJ without a class');
        stack.push(callGlobal(items[0], items.slice(1), 'construct'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (!(target instanceof PyObject)) fail(`sets the state of a ${typeOf(target)} (BUILD)`);
        (target as PyObject).build(state, fail);
        break;
      }
      case 0x70: // PUT (text index)
        memoPut(parseIndex(line(), fail));
        break;
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x67: // GET
        stack.push(memoGet(parseIndex(line(), fail)));
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x50: // PERSID (text)
      case 0x51: {
        // BINPERSID
        const pid = op === 0x50 ? line() : pop();
        if (!options.persistentLoad) fail('refers to an object stored outside the pickle (a persistent id), which this file type does not have');
        stack.push(options.persistentLoad!(pid, fail));
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        fail('uses the copyreg extension registry, which is not allowed here (nothing was run)');
        break;
      default:
        fail(`has an unknown opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle, or corrupt)`);
    }
  }
}

/** "a dict", "an int": the Python type of a value, for messages. */
export function typeOf(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || typeof value === 'bigint') return 'int';
  if (typeof value === 'string' || value instanceof PyText) return 'str';
  if (value instanceof PyFloat) return 'float';
  if (value instanceof PyBytes) return value.py2str ? 'str (Python 2)' : 'bytes';
  if (value instanceof PyTuple) return 'tuple';
  if (value instanceof PyGlobal) return printable(value.qualifiedName);
  return value.typeName;
}

/** An int operand that must fit a JS number exactly. */
export function asInt(value: PyValue): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

/** A Python str, or a Python 2 str read as latin-1; null otherwise. */
export function asString(value: PyValue): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof PyText) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(value.utf8);
    } catch {
      return null;
    }
  }
  if (value instanceof PyBytes && value.py2str) return value.latin1();
  return null;
}

/** A tuple (or list) of safe integers, or null. */
export function asIntList(value: PyValue): number[] | null {
  const items = value instanceof PyTuple ? value.items : value instanceof PyList ? value.items : null;
  if (!items) return null;
  const out: number[] = [];
  for (const item of items) {
    const n = asInt(item);
    if (n === null) return null;
    out.push(n);
  }
  return out;
}

/** One leaf found by collectLeaves, named by its path of keys/indices joined with '.'. */
export interface NamedLeaf<T> {
  name: string;
  value: T;
}

export interface CollectOptions {
  /** Name of a leaf that is the pickle's root itself. */
  rootName: string;
  /** Objects visited before giving up (shared children are visited once per path). */
  maxVisits?: number;
  maxDepth?: number;
}

/**
 * Every value for which `isLeaf` holds, found under dicts (keys), lists and tuples (indices), in
 * order, with names like "layer1.0.conv" / "0". Other values (ints, strings, None, …) are skipped.
 * Refuses cycles, nesting deeper than maxDepth, more than maxVisits objects, dict keys that are not
 * str/int/bool/None, and two leaves that end up with the same name.
 */
export function collectLeaves<T>(root: PyValue, isLeaf: (v: PyValue) => v is PyValue & T, source: string, options: CollectOptions): NamedLeaf<T>[] {
  const maxVisits = options.maxVisits ?? 200_000;
  const maxDepth = options.maxDepth ?? 64;
  const found: NamedLeaf<T>[] = [];
  const names = new Set<string>();
  const onPath = new Set<PyValue>();
  const path: string[] = [];
  let visits = 0;

  const visit = (value: PyValue) => {
    if (++visits > maxVisits) throw new InputError(source, `holds more than ${maxVisits} nested objects (objects shared many times over?)`);
    if (isLeaf(value)) {
      const name = path.length === 0 ? options.rootName : path.join('.');
      if (names.has(name)) throw new InputError(source, `two arrays would both be named '${printable(name)}'`);
      names.add(name);
      found.push({ name, value });
      return;
    }
    const isDict = value instanceof PyDict && (value.typeName === 'dict' || value.typeName === 'OrderedDict');
    const items = value instanceof PyList || value instanceof PyTuple ? value.items : null;
    if (!isDict && !items) return;
    if (path.length >= maxDepth) throw new InputError(source, `nests containers more than ${maxDepth} deep`);
    if (onPath.has(value)) throw new InputError(source, `contains itself (a reference cycle at '${printable(path.join('.'))}')`);
    onPath.add(value);
    if (isDict) {
      for (const entry of value.entries) {
        path.push(keyName(entry.key, source));
        visit(entry.value);
        path.pop();
      }
    } else {
      items!.forEach((child, i) => {
        path.push(String(i));
        visit(child);
        path.pop();
      });
    }
    onPath.delete(value);
  };
  visit(root);
  return found;
}

function keyName(key: PyValue, source: string): string {
  if (typeof key === 'string') return key;
  if (key instanceof PyText) {
    const text = asString(key);
    if (text === null) throw new InputError(source, 'has a dict key that is not valid UTF-8');
    return text;
  }
  if (typeof key === 'number' || typeof key === 'bigint') return String(key);
  if (typeof key === 'boolean') return key ? 'True' : 'False';
  if (key === null) return 'None';
  if (key instanceof PyBytes && key.py2str) return key.latin1();
  if (key instanceof PyFloat) return String(key.value);
  throw new InputError(source, `has a dict key that is a ${typeOf(key)}; only str and int keys can name arrays`);
}

/** Key for dict identity: equal Python values that hash alike (1, 1.0, True) share one. */
function canonicalKey(key: PyValue): string | null {
  if (typeof key === 'string') return `s${key}`;
  if (key instanceof PyText) return `s${asString(key) ?? ''}`;
  if (typeof key === 'number' || typeof key === 'bigint') return `n${String(key)}`;
  if (typeof key === 'boolean') return `n${key ? 1 : 0}`;
  if (key === null) return 'None';
  if (key instanceof PyFloat) return Number.isInteger(key.value) ? `n${key.value}` : `f${key.value}`;
  if (key instanceof PyBytes) return `${key.py2str ? 's' : 'b'}${key.latin1()}`;
  return null;
}

function latin1(raw: Uint8Array): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 8192) out += String.fromCharCode(...raw.subarray(i, i + 8192));
  return out;
}

function parseIntText(text: string, fail: (why: string) => never): number | bigint {
  if (!/^[-+]?\d{1,400}$/.test(text.trim())) fail('has a malformed integer');
  const big = BigInt(text.trim());
  const small = Number(big);
  return Number.isSafeInteger(small) ? small : big;
}

function parseIndex(text: string, fail: (why: string) => never): number {
  if (!/^\d{1,10}$/.test(text)) fail('has a malformed memo index');
  return Number(text);
}

/** Two's-complement little-endian integer (LONG1/LONG4). */
function littleEndianSigned(raw: Uint8Array): number | bigint {
  if (raw.length === 0) return 0;
  let value = 0n;
  for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
  if (raw[raw.length - 1] & 0x80) value -= 1n << BigInt(8 * raw.length);
  const small = Number(value);
  return Number.isSafeInteger(small) ? small : value;
}

/** Protocol 0 UNICODE operand: latin-1 text where \uXXXX and \UXXXXXXXX are escapes. */
function decodeRawUnicodeEscape(text: string, fail: (why: string) => never): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/g, (_, hex: string) => {
    const code = parseInt(hex.slice(1), 16);
    if (code > 0x10ffff) fail('has an escape beyond U+10FFFF');
    return String.fromCodePoint(code);
  });
}

/** Protocol 0 STRING operand: a Python 2 repr ('…' or "…") with backslash escapes → bytes. */
function parseQuotedString(text: string, fail: (why: string) => never): Uint8Array {
  const quote = text[0];
  if ((quote !== "'" && quote !== '"') || text.length < 2 || text[text.length - 1] !== quote) fail('has a STRING operand that is not quoted');
  const body = text.slice(1, -1);
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '\n': -1 };
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 92) {
      out.push(c & 0xff);
      continue;
    }
    const next = body[++i];
    if (next === undefined) fail('has a STRING operand ending in a backslash');
    if (next === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail('has a bad \\x escape');
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(body.slice(i, i + 3))![0];
      out.push(parseInt(octal, 8) & 0xff);
      i += octal.length - 1;
    } else if (Object.prototype.hasOwnProperty.call(simple, next)) {
      if (simple[next] >= 0) out.push(simple[next]);
    } else {
      out.push(92, next.charCodeAt(0) & 0xff);
    }
  }
  return Uint8Array.from(out);
}
