#!/usr/bin/env python3
"""Writes the fixtures of the file-reader tests (test/io/) into test/fixtures/io/.

Run from the repository root:

    python3 scripts/make_io_fixtures.py

Needs only numpy (>= 1.17, for .npy format versions 2 and 3) and the standard library; the
safetensors files are written by hand (8-byte little-endian header length, JSON header, data), so
the `safetensors` package is not needed. The output is deterministic: rerunning the script gives
byte-identical files except for zip timestamps inside the .npz archives (the tests never look at
those).

Every array holds distinct values (np.arange-based) so that a wrong axis order, byte order or
Fortran re-layout shows up as a wrong value. `expected.json` records, for every array the tests
read, its logical shape, the dtype string as the file spells it, and its values flattened in C
order after conversion to what the reader returns (float32 for everything except float64), so
the TypeScript tests compare exactly.

Layout of test/fixtures/io/:
  npy/*.npy                 every supported dtype, both byte orders, C and Fortran order,
                            format versions 1.0, 2.0, 3.0, a scalar, a 1-D and an empty array
  npz/stored.npz            np.savez (members stored, zip64 local headers as numpy writes them)
  npz/compressed.npz        np.savez_compressed (members deflated), same arrays
  npz/single.npz            one array
  npz/zip64.npz             stored.npz rewritten with zip64 central-directory extra fields and a
                            ZIP64 end-of-central-directory record (what very large archives have)
  bundle/steps.npz          step_<N>/<layer> members (steps 0, 2, 10; layer names with '.' and
                            '/'), a `labels` member, manifest.json, and one stray member; step 10
                            lacks one layer
  bundle/runs.npz           <run>/step_<N>/<layer> members, deflated
  bundle/tree/...           a folder: <run>/step_<N>/<layer>.npy, labels.npy, manifest.json, notes.txt
  bundle/st/step_<N>.safetensors   one file per step, one tensor per layer
  safetensors/dtypes.safetensors   F32, F16, BF16, F64, I8, I32, I64, U8, BOOL tensors + __metadata__
  expected.json
"""

import io
import json
import os
import shutil
import struct
import zipfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'io')

expected = {}


def values(a):
    """Values the reader returns, flattened in C order: float64 stays, everything else float32."""
    a = np.asarray(a)
    target = np.float64 if a.dtype == np.float64 else np.float32
    return a.astype(target).ravel(order='C').tolist()


def record(key, a, dtype):
    expected[key] = {'shape': list(np.shape(a)), 'dtype': dtype, 'values': values(a)}


def write_npy(rel, a, version=None, fortran=False):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # np.array(order='C') keeps 0-d arrays 0-d (np.ascontiguousarray would make them 1-d).
    arr = np.asfortranarray(a) if fortran else np.array(a, order='C')
    with open(path, 'wb') as f:
        np.lib.format.write_array(f, arr, version=version)
    record(rel, a, np.lib.format.dtype_to_descr(arr.dtype))


def ramp(shape, dtype, scale=0.5, offset=-1.0):
    """Distinct values: arange * scale + offset, reshaped (exact in every float dtype used)."""
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float64) * scale + offset).reshape(shape).astype(dtype)


def make_npy():
    for code in ['f2', 'f4', 'f8']:
        for order, name in [('<', 'le'), ('>', 'be')]:
            write_npy(f'npy/{code}_{name}.npy', ramp((3, 4), np.dtype(order + code)))
    signed = np.arange(12).reshape(3, 4) - 5
    for code in ['i1', 'i2', 'i4', 'i8']:
        write_npy(f'npy/{code}.npy', signed.astype('<' + code))
    write_npy('npy/i2_be.npy', signed.astype('>i2'))
    write_npy('npy/i4_be.npy', signed.astype('>i4'))
    # 64-bit integers beyond 32 bits, exact in float32, to check the high word and its sign.
    write_npy('npy/i8_big.npy', np.array([-(2 ** 40), 2 ** 40, -1, 3 * 2 ** 33], dtype='<i8'))
    write_npy('npy/i8_be.npy', np.array([-(2 ** 40), 2 ** 40, -1, 3 * 2 ** 33], dtype='>i8'))
    unsigned = np.arange(12).reshape(3, 4)
    for code in ['u1', 'u2', 'u4', 'u8']:
        write_npy(f'npy/{code}.npy', unsigned.astype('<' + code))
    write_npy('npy/u8_big.npy', np.array([0, 2 ** 40, 2 ** 63, 5], dtype='<u8'))
    write_npy('npy/b1.npy', (np.arange(12).reshape(3, 4) % 3 == 0))
    # Fortran order: 2-D and 3-D, values distinct so a missing re-layout shows.
    write_npy('npy/f4_fortran.npy', ramp((2, 3, 4), '<f4'), fortran=True)
    write_npy('npy/f8_fortran.npy', ramp((3, 4), '<f8'), fortran=True)
    write_npy('npy/i2_be_fortran.npy', ramp((3, 4), '>i2', scale=1, offset=-5), fortran=True)
    # Format versions (the header length is a u16 in 1.0, a u32 in 2.0 and 3.0; 3.0 is utf-8).
    for v in [(1, 0), (2, 0), (3, 0)]:
        write_npy(f'npy/v{v[0]}.npy', ramp((2, 3), '<f4'), version=v)
    write_npy('npy/scalar.npy', np.array(2.5, dtype='<f8'))
    write_npy('npy/vector.npy', ramp((5,), '<f4'))
    write_npy('npy/empty.npy', np.zeros((0, 4), dtype='<f4'))


NPZ_ARRAYS = {
    'a': ramp((3, 4), '<f4'),
    'b': np.asfortranarray(ramp((2, 3, 4), '<f8')),
    'c': (np.arange(6).reshape(2, 3) - 2).astype('>i2'),
}


def make_npz():
    os.makedirs(os.path.join(ROOT, 'npz'), exist_ok=True)
    np.savez(os.path.join(ROOT, 'npz', 'stored.npz'), **NPZ_ARRAYS)
    np.savez_compressed(os.path.join(ROOT, 'npz', 'compressed.npz'), **NPZ_ARRAYS)
    np.savez(os.path.join(ROOT, 'npz', 'single.npz'), only=ramp((4, 2), '<f4'))
    for name, a in NPZ_ARRAYS.items():
        record(f'npz:{name}', a, np.lib.format.dtype_to_descr(a.dtype))
    record('npz:only', ramp((4, 2), '<f4'), '<f4')
    with open(os.path.join(ROOT, 'npz', 'stored.npz'), 'rb') as f:
        stored = f.read()
    with open(os.path.join(ROOT, 'npz', 'zip64.npz'), 'wb') as f:
        f.write(rewrite_as_zip64(stored))
    # Check the hand-made zip64 archive with the standard library before the tests rely on it.
    with np.load(os.path.join(ROOT, 'npz', 'zip64.npz')) as z:
        for name, a in NPZ_ARRAYS.items():
            assert np.array_equal(z[name], a)


def rewrite_as_zip64(data):
    """Rebuilds a zip whose central directory uses zip64 extra fields for every size and offset,
    ends with a ZIP64 end-of-central-directory record and locator, and has the 0xFFFF/0xFFFFFFFF
    markers in the classic EOCD. Local headers and member data are copied unchanged."""
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    # Everything before the central directory (local headers + data) is copied as it is.
    eocd = data.rfind(b'PK\x05\x06')
    cd_offset = struct.unpack_from('<I', data, eocd + 16)[0]
    body = data[:cd_offset]
    cd = bytearray()
    for info in infos:
        name = info.filename.encode('utf-8')
        extra = struct.pack('<HHQQQ', 1, 24, info.file_size, info.compress_size, info.header_offset)
        cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014B50, 45, 45, info.flag_bits, info.compress_type,
                          0, 0x21, info.CRC, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0,
                          0, 0xFFFFFFFF)
        cd += name + extra
    zip64_eocd_offset = len(body) + len(cd)
    zip64_eocd = struct.pack('<IQHHIIQQQQ', 0x06064B50, 44, 45, 45, 0, 0, len(infos), len(infos),
                             len(cd), len(body))
    locator = struct.pack('<IIQI', 0x07064B50, 0, zip64_eocd_offset, 1)
    classic = struct.pack('<IHHHHIIH', 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(body) + bytes(cd) + zip64_eocd + locator + classic


def layer_values(run, step, layer, shape=(6, 4)):
    """Distinct, recognisable values per (run, step, layer): offset encodes which entry it is."""
    code = {'conv1': 1, 'fc.out': 2, 'block1/conv': 3, 'l1': 4, 'l2': 5, 'encoder.layer.0': 6,
            'head': 7}[layer]
    run_code = {None: 0, 'runA': 100, 'runB': 200}[run]
    return ramp(shape, '<f4', scale=0.25, offset=run_code + step + code * 1000)


LABELS = np.array([0, 1, 2, 0, 1, 2], dtype='<i8')
MANIFEST = {'model': 'toy', 'datapoints': 6, 'note': 'written by scripts/make_io_fixtures.py'}


def make_bundles():
    base = os.path.join(ROOT, 'bundle')
    os.makedirs(base, exist_ok=True)

    # step_<N>/<layer>: steps 0, 2, 10 (numeric sort must put 10 last); step 10 lacks 'block1/conv'.
    members = {}
    for step in [0, 2, 10]:
        for layer in ['conv1', 'fc.out', 'block1/conv']:
            if step == 10 and layer == 'block1/conv':
                continue
            members[f'step_{step}/{layer}'] = layer_values(None, step, layer)
            record(f'steps.npz:step_{step}/{layer}', members[f'step_{step}/{layer}'], '<f4')
    members['labels'] = LABELS
    members['stray'] = np.arange(3, dtype='<f4')
    # Written out of step order on purpose: steps are sorted numerically, not by appearance.
    ordered = {k: members[k] for k in sorted(members, key=lambda k: (k.startswith('step_2/'), k))}
    path = os.path.join(base, 'steps.npz')
    np.savez(path, **ordered)
    with zipfile.ZipFile(path, 'a') as z:
        z.writestr('manifest.json', json.dumps(MANIFEST))
    record('labels', LABELS, '<i8')

    # <run>/step_<N>/<layer>, deflated.
    members = {}
    for run in ['runB', 'runA']:
        for step in [1, 2]:
            for layer in ['l1', 'l2']:
                members[f'{run}/step_{step}/{layer}'] = layer_values(run, step, layer)
                record(f'runs.npz:{run}/step_{step}/{layer}', members[f'{run}/step_{step}/{layer}'], '<f4')
    np.savez_compressed(os.path.join(base, 'runs.npz'), **members)

    # A folder tree as a user would drop it: tree/<run>/step_<N>/<layer>.npy.
    tree = os.path.join(base, 'tree')
    if os.path.exists(tree):
        shutil.rmtree(tree)
    for run in ['runA', 'runB']:
        for step in [1, 10]:
            for layer in ['conv1', 'block1/conv']:
                a = layer_values(run, step, layer)
                write_npy(f'bundle/tree/{run}/step_{step}/{layer}.npy', a)
    np.save(os.path.join(tree, 'labels.npy'), LABELS)
    with open(os.path.join(tree, 'manifest.json'), 'w') as f:
        json.dump(MANIFEST, f)
    with open(os.path.join(tree, 'notes.txt'), 'w') as f:
        f.write('not an array\n')

    # One safetensors file per step, one tensor per layer.
    st = os.path.join(base, 'st')
    os.makedirs(st, exist_ok=True)
    for step in [1, 2, 10]:
        tensors = {layer: layer_values(None, step, layer) for layer in ['encoder.layer.0', 'head']}
        write_safetensors(os.path.join(st, f'step_{step}.safetensors'),
                          [(name, 'F32', a.shape, a.tobytes()) for name, a in tensors.items()])
        for name, a in tensors.items():
            record(f'st:step_{step}/{name}', a, 'F32')


def bf16_bytes(a):
    """bfloat16 = the upper 16 bits of a float32 (values chosen to be exact in bfloat16)."""
    bits = np.asarray(a, dtype='<f4').view('<u4') >> 16
    return bits.astype('<u2').tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: (name, dtype, shape, little-endian bytes) in file order."""
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    offset = 0
    for name, dtype, shape, data in tensors:
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)  # the reference writer pads the header to a multiple of 8
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


def make_safetensors():
    os.makedirs(os.path.join(ROOT, 'safetensors'), exist_ok=True)
    f32 = ramp((3, 4), '<f4')
    f16 = ramp((2, 3), '<f2', scale=0.25)
    bf16 = ramp((2, 2, 2), '<f4', scale=0.5, offset=-2)
    f64 = ramp((2, 3), '<f8', scale=0.1)
    i8 = (np.arange(6) - 3).astype('<i1').reshape(2, 3)
    i32 = (np.arange(4) - 2).astype('<i4')
    i64 = np.array([-(2 ** 40), 7], dtype='<i8')
    u8 = np.arange(5, dtype='<u1')
    boolean = np.array([True, False, True])
    tensors = [
        ('f32', 'F32', f32.shape, f32.tobytes()),
        ('f16', 'F16', f16.shape, f16.tobytes()),
        ('bf16', 'BF16', bf16.shape, bf16_bytes(bf16)),
        ('f64', 'F64', f64.shape, f64.tobytes()),
        ('i8', 'I8', i8.shape, i8.tobytes()),
        ('i32', 'I32', i32.shape, i32.tobytes()),
        ('i64', 'I64', i64.shape, i64.tobytes()),
        ('u8', 'U8', u8.shape, u8.tobytes()),
        ('bool', 'BOOL', boolean.shape, boolean.astype('u1').tobytes()),
    ]
    write_safetensors(os.path.join(ROOT, 'safetensors', 'dtypes.safetensors'), tensors,
                      metadata={'format': 'pt', 'source': 'make_io_fixtures.py'})
    for (name, dtype, _, _), a in zip(tensors, [f32, f16, bf16, f64, i8, i32, i64, u8, boolean]):
        record(f'dtypes.safetensors:{name}', a, dtype)


def main():
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    make_npy()
    make_npz()
    make_bundles()
    make_safetensors()
    with open(os.path.join(ROOT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(ROOT) for n in ns)
    print(f'wrote {len(expected)} arrays, {total} bytes, into {os.path.relpath(ROOT)}')


if __name__ == '__main__':
    main()
