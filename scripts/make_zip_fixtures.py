#!/usr/bin/env python3
"""Writes the zip-structure fixtures of test/io/zipNames.test.ts into test/fixtures/io/zip/.

Run from the repository root with Debian's Python (numpy, standard library zipfile):

    /usr/bin/python3 scripts/make_zip_fixtures.py

Every archive is written by Python's zipfile (the library np.savez uses) and then read back with
np.load to check that numpy reads it as the test expects. Member data are .npy files written by
np.lib.format.write_array, each array 2 × 3 float32 with a distinct offset per member.

  zip64-python.npz    members written through zf.open(name, 'w', force_zip64=True) (ZIP64 local
                      headers, as np.savez writes them) with zipfile.ZIP64_LIMIT lowered to 0 while
                      writing, so that Python writes what it writes for archives over 4 GiB: ZIP64
                      extra fields in the central directory (sizes, and the offset wherever it is
                      not 0), a ZIP64 end-of-central-directory record and its locator.
  names-utf8.npz      np.savez with non-ASCII keyword names: zipfile encodes them as UTF-8 and sets
                      the UTF-8 flag (general purpose bit 11).
  names-cp437.npz     the same names encoded in CP437 without the flag (what older writers, Windows
                      tools and Python 2 wrote; zipfile and so np.load decode unflagged names as
                      CP437).
  names-unicode-extra.npz   CP437 names without the flag plus an Info-ZIP Unicode Path extra field
                      (0x7075: version 1, CRC-32 of the stored name, the UTF-8 name), and one member
                      whose extra field's CRC does not match its name (stale: must be ignored).
  names-raw-utf8.npz  UTF-8 bytes without the flag, what Info-ZIP's zip 3.0 writes on Linux
                      (np.load shows these as CP437 mojibake).
"""

import io
import os
import struct
import zipfile
import zlib

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'io', 'zip')
NAMES = ['café', 'ñandú/σ', 'plain']


def array(k):
    return (np.arange(6, dtype='<f4').reshape(2, 3) + 10 * k)


def npy_bytes(a):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a)
    return buf.getvalue()


def write_zip64():
    path = os.path.join(ROOT, 'zip64-python.npz')
    saved = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED, allowZip64=True) as zf:
            for k, name in enumerate(['a', 'b', 'c']):
                with zf.open(name + '.npy', 'w', force_zip64=True) as f:
                    np.lib.format.write_array(f, array(k))
    finally:
        zipfile.ZIP64_LIMIT = saved
    data = open(path, 'rb').read()
    assert b'PK\x06\x06' in data and b'PK\x06\x07' in data, 'expected ZIP64 end records'
    with np.load(path) as z:
        for k, name in enumerate(['a', 'b', 'c']):
            assert np.array_equal(z[name], array(k))


class RawNameInfo(zipfile.ZipInfo):
    """A ZipInfo whose stored name bytes are given (zipfile itself writes ASCII, or UTF-8 + flag)."""

    raw_name = b''

    def _encodeFilenameFlags(self):
        return self.raw_name, self.flag_bits


def unicode_path_extra(raw_name, name, crc_of=None):
    utf8 = name.encode('utf-8')
    crc = zlib.crc32(crc_of if crc_of is not None else raw_name)
    return struct.pack('<HHBI', 0x7075, 5 + len(utf8), 1, crc) + utf8


def write_raw_names(file, encode, extra=None):
    path = os.path.join(ROOT, file)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as zf:
        for k, name in enumerate(NAMES):
            info = RawNameInfo(name + '.npy', date_time=(1980, 1, 1, 0, 0, 0))
            info.raw_name = encode(name + '.npy')
            if extra:
                info.extra = extra(k, name + '.npy', info.raw_name)
            zf.writestr(info, npy_bytes(array(k)))
    return path


def main():
    os.makedirs(ROOT, exist_ok=True)
    write_zip64()

    path = os.path.join(ROOT, 'names-utf8.npz')
    np.savez(path, **{name: array(k) for k, name in enumerate(NAMES)})
    with zipfile.ZipFile(path) as zf:
        assert all(i.flag_bits & 0x800 for i in zf.infolist() if not i.filename.isascii())
    with np.load(path) as z:
        assert z.files == NAMES

    path = write_raw_names('names-cp437.npz', lambda n: n.encode('cp437'))
    with np.load(path) as z:
        assert z.files == NAMES, z.files  # numpy decodes unflagged names as CP437

    # Member 1 ('ñandú/σ') gets an extra field whose CRC is of other bytes: a stale Unicode path.
    def extra(k, name, raw):
        if name.isascii():
            return b''
        if k == 1:
            return unicode_path_extra(raw, 'stale/' + name, crc_of=b'other name')
        return unicode_path_extra(raw, name)

    write_raw_names('names-unicode-extra.npz', lambda n: n.replace('é', 'e').encode('cp437'), extra)

    path = write_raw_names('names-raw-utf8.npz', lambda n: n.encode('utf-8'))
    with np.load(path) as z:
        assert z.files == [n.encode('utf-8').decode('cp437') for n in NAMES], z.files


if __name__ == '__main__':
    main()
