#!/usr/bin/env python3
"""Writes the fixtures of the PyTorch, pickle and HDF5 reader tests into test/fixtures/formats/.

Run from the repository root with Debian's Python (it has torch, numpy and h5py; a pyenv python3
on PATH may not):

    /usr/bin/python3 scripts/make_format_fixtures.py

Written with torch 1.13, numpy 1.24 and h5py 3.7 (Debian bookworm's python3-torch, python3-numpy,
python3-h5py); the versions used are recorded in expected.json under "versions". Every file is
written by the real library (torch.save, pickle.dump of numpy arrays, h5py), except three that are
derived from real files by a documented byte edit: numpy2-names.pkl (the GLOBAL opcodes renamed to
numpy 2's `numpy._core` modules), evil-*.pkl / evil.pt (pickles that ask for a forbidden callable,
written with pickle itself from a class whose __reduce__ names os.system; never loaded here).

The output is deterministic except torch/legacy.pt, whose storage keys are memory addresses (a
rerun changes those bytes, not the values), and HDF5 files, which h5py may write differently across
versions.

Every array holds distinct values so a wrong axis order, stride or byte order shows up as a wrong
value. `expected.json` maps "FILE:NAME" to {shape, dtype, values} where values are the array's
values flattened in C order as the TypeScript readers return them (float64 stays float64,
everything else float32), and "FILE" to the list of entry names in order.

Layout of test/fixtures/formats/:
  torch/state_dict.pt     OrderedDict state_dict of a small nn.Sequential (conv, batch norm, linear:
                          names like "0.weight", "1.running_mean", "1.num_batches_tracked")
  torch/nested.pt         dict of dicts, lists and tuples of tensors, plus non-tensor leaves
                          (an int, a string, None, a float)
  torch/views.pt          non-contiguous views: a transpose, a strided slice, a narrow with a
                          storage offset, and two views sharing one storage
  torch/dtypes.pt         float32, float64, float16, bfloat16, int8/16/32/64, uint8, bool tensors
  torch/checkpoint.pt     {'epoch', 'model': state_dict, 'optimizer': Adam state_dict after one step}
  torch/module.pt         torch.save(model) of a whole nn.Sequential (must be refused)
  torch/tensor.pt         a bare tensor (not in a container)
  torch/parameters.pt     a list of nn.Parameter (torch._utils._rebuild_parameter)
  torch/legacy.pt         the pre-1.6 format (_use_new_zipfile_serialization=False) of nested.pt's dict
  torch/evil.pt           a zip whose data.pkl calls os.system (must be refused, never executed)
  pickle/p2.pkl           dict of numpy arrays, pickle protocol 2 (bytes via _codecs.encode)
  pickle/p4.pkl           the same dict, protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL)
  pickle/p5.pkl           the same dict, protocol 5 (numpy.core.numeric._frombuffer)
  pickle/p0.pkl           the same dict, protocol 0 (text opcodes)
  pickle/py2-p0.pkl       the same arrays as a Python 2 pickle, protocol 0 (STRING opcodes, escaped)
  pickle/py2-p2.pkl       the same arrays as a Python 2 pickle, protocol 2 (SHORT_BINSTRING/BINSTRING)
  pickle/array.pkl        one bare array (float64, Fortran order), protocol 3
  pickle/list.pkl         a list of arrays with a big-endian one, protocol 2
  pickle/numpy2-names.pkl p2.pkl with numpy 2's module names (numpy._core.multiarray)
  pickle/object.pkl       an object array (must be refused)
  pickle/evil.pkl         calls os.system (must be refused, never executed)
  hdf5/datasets.h5        datasets at the top and in groups: f4, f8, f2, i4, u1, a gzip-chunked one,
                          a scalar, an empty one, a string dataset (skipped) and a compound one (skipped),
                          a soft link and an external link (both skipped)
  hdf5/lzf.h5             one dataset compressed with h5py's LZF filter (not in HDF5 itself: refused)
  bundles/steps.pt        a torch.save bundle as a dict of dicts: {"step_0": {"conv1": t, "layer1":
                          {"0": {"fc": t}}}, "step_10": …, "step_20": …, "labels": t, "epoch": 3,
                          "note": t} (layers conv1 and layer1.0.fc; "note" is an array outside it)
  bundles/runs.pt         a torch.save bundle with flat keys "<run>/step_<N>/<layer>" (runs seedA, seedB)
  bundles/steps.pkl       steps.pt's arrays as numpy arrays in a pickle (protocol 4), same nesting
  bundles/steps.h5        steps.pt's arrays as HDF5 groups /step_<N>/conv1, /step_<N>/layer1.0.fc,
                          /labels, plus /notes (a string dataset: listed, not read)
  bundles/step_30.pt      the layers of one step in a file named after it: {"conv1": t, "fc": t}
  cross/acts.pt           {"layer1": {"0": {"conv": X}}} (X: 120 datapoints × 16 float32)
  cross/acts.h5           /model/conv1 = Y (120 × 12 float64, a noisy linear map of X), /model/fc = X[:, :5]
  cross/x.npy, cross/y.npy  X and Y as .npy (the same arrays: the CLI's cross-format check)
  expected.json
"""

import collections
import io
import json
import os
import pickle
import shutil
import zipfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'formats')

expected = {}


def values(a):
    """Values the reader returns, flattened in C order: float64 stays, everything else float32."""
    a = np.asarray(a)
    target = np.float64 if a.dtype == np.float64 else np.float32
    return a.astype(target).ravel(order='C').tolist()


def record(key, a, dtype):
    expected[key] = {'shape': list(np.shape(a)), 'dtype': dtype, 'values': values(a)}


def ramp(shape, dtype='float32', scale=0.25, offset=-2.0):
    n = int(np.prod(shape)) if shape else 1
    return (np.arange(n, dtype=np.float64) * scale + offset).reshape(shape).astype(dtype)


# --------------------------------------------------------------------------------------------- torch

TORCH_DTYPE_NAMES = {}


def make_torch():
    import torch

    for name in ['float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool']:
        TORCH_DTYPE_NAMES[getattr(torch, name)] = f'torch.{name}'

    base = os.path.join(ROOT, 'torch')
    os.makedirs(base, exist_ok=True)

    def rec(file, name, t):
        a = t.detach().float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()
        record(f'{file}:{name}', a, TORCH_DTYPE_NAMES[t.dtype])

    def names(file, entries):
        expected[file] = [n for n, _ in entries]
        for n, t in entries:
            rec(file, n, t)

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 2), torch.nn.BatchNorm2d(3), torch.nn.Flatten(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.from_numpy(ramp(tuple(p.shape), offset=float(i))))
        model[1].running_mean.copy_(torch.tensor([0.5, 1.5, 2.5]))
        model[1].num_batches_tracked.fill_(7)
    state = model.state_dict()
    torch.save(state, os.path.join(base, 'state_dict.pt'))
    names('torch/state_dict.pt', list(state.items()))

    nested = {
        'layer1': {'0': {'conv': torch.from_numpy(ramp((2, 3)))}, 'acts': [torch.from_numpy(ramp((3,), offset=5.0)), torch.from_numpy(ramp((1, 2), offset=9.0))]},
        'pair': (torch.from_numpy(ramp((2, 2), offset=20.0)), torch.from_numpy(ramp((2,), offset=30.0))),
        'epoch': 3,
        'note': 'trained on digits',
        'missing': None,
        'lr': 0.001,
        7: torch.from_numpy(ramp((2,), offset=40.0)),
    }
    torch.save(nested, os.path.join(base, 'nested.pt'))
    names('torch/nested.pt', [
        ('layer1.0.conv', nested['layer1']['0']['conv']),
        ('layer1.acts.0', nested['layer1']['acts'][0]),
        ('layer1.acts.1', nested['layer1']['acts'][1]),
        ('pair.0', nested['pair'][0]),
        ('pair.1', nested['pair'][1]),
        ('7', nested[7]),
    ])
    torch.save(nested, os.path.join(base, 'legacy.pt'), _use_new_zipfile_serialization=False)
    expected['torch/legacy.pt'] = expected['torch/nested.pt']
    for n in expected['torch/nested.pt']:
        expected[f'torch/legacy.pt:{n}'] = expected[f'torch/nested.pt:{n}']

    big = torch.from_numpy(ramp((4, 5)))
    views = {
        'transposed': big.t(),                 # strides (1, 5)
        'strided': big[::2, 1::2],             # strides (10, 2), offset 1
        'narrow': big.narrow(0, 1, 2),         # offset 5, contiguous
        'base': big,                           # shares the storage with the three above
        'expanded': torch.from_numpy(ramp((3,))).unsqueeze(0).expand(2, 3),  # stride 0
    }
    assert not views['transposed'].is_contiguous() and views['strided'].storage_offset() == 1
    torch.save(views, os.path.join(base, 'views.pt'))
    names('torch/views.pt', list(views.items()))

    dtypes = {}
    for name in ['float32', 'float64', 'float16', 'bfloat16']:
        dtypes[name] = torch.from_numpy(ramp((2, 3), offset=-1.0)).to(getattr(torch, name))
    for name in ['int8', 'int16', 'int32', 'int64']:
        dtypes[name] = torch.arange(-3, 3, dtype=getattr(torch, name)).reshape(2, 3)
    dtypes['int64_big'] = torch.tensor([2 ** 40 + 3, -(2 ** 33) - 1], dtype=torch.int64)
    dtypes['uint8'] = torch.arange(250, 256, dtype=torch.uint8)
    dtypes['bool'] = torch.tensor([True, False, True])
    torch.save(dtypes, os.path.join(base, 'dtypes.pt'))
    names('torch/dtypes.pt', list(dtypes.items()))

    # A training checkpoint as people save them: model and Adam optimizer state (after one step, so
    # it holds exp_avg / exp_avg_sq tensors and a step tensor), param_groups of floats, tuples,
    # bools and None, and an epoch number.
    small = torch.nn.Linear(2, 2)
    with torch.no_grad():
        small.weight.copy_(torch.from_numpy(ramp((2, 2))))
        small.bias.copy_(torch.from_numpy(ramp((2,), offset=1.0)))
    optimizer = torch.optim.Adam(small.parameters(), lr=0.01)
    small(torch.from_numpy(ramp((3, 2)))).sum().backward()
    optimizer.step()
    checkpoint = {'epoch': 3, 'model': small.state_dict(), 'optimizer': optimizer.state_dict()}
    torch.save(checkpoint, os.path.join(base, 'checkpoint.pt'))
    entries = [(f'model.{k}', v) for k, v in checkpoint['model'].items()]
    for index, state in checkpoint['optimizer']['state'].items():
        entries += [(f'optimizer.state.{index}.{k}', v) for k, v in state.items()]
    names('torch/checkpoint.pt', entries)

    # A whole pickled module (torch.save(model)): must be refused, naming the class.
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), os.path.join(base, 'module.pt'))

    tensor = torch.from_numpy(ramp((3, 2), 'float64'))
    torch.save(tensor, os.path.join(base, 'tensor.pt'))
    names('torch/tensor.pt', [('tensor', tensor)])

    params = [torch.nn.Parameter(torch.from_numpy(ramp((2, 2)))), torch.nn.Parameter(torch.from_numpy(ramp((3,), offset=1.0)), requires_grad=False)]
    torch.save(params, os.path.join(base, 'parameters.pt'))
    names('torch/parameters.pt', [('0', params[0]), ('1', params[1])])

    # evil.pt: tensor.pt's archive with data.pkl replaced by a pickle that calls os.system. The
    # pickle is produced by pickle.dumps of an object whose __reduce__ returns (os.system, (cmd,));
    # it is written, never loaded.
    with zipfile.ZipFile(os.path.join(base, 'tensor.pt')) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(os.path.join(base, 'evil.pt'), 'w') as out:
        for info, data in members:
            out.writestr(info, EVIL_PICKLE if info.filename.endswith('/data.pkl') else data)


class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned > /tmp/svcca-lens-pwned',))


EVIL_PICKLE = pickle.dumps({'weights': Evil()}, protocol=2)


# ------------------------------------------------------------------------------------ numpy pickles

def make_pickles():
    base = os.path.join(ROOT, 'pickle')
    os.makedirs(base, exist_ok=True)
    arrays = {
        'conv1': ramp((2, 3, 2, 2)),
        'fc': ramp((3, 4), 'float64', offset=3.0),
        'half': ramp((5,), 'float16', offset=1.0),
        'ints': np.arange(-4, 2, dtype=np.int32).reshape(2, 3),
        'u8': np.arange(250, 256, dtype=np.uint8),
        'flags': np.array([True, False]),
        'i64': np.array([2 ** 40 + 1, -5], dtype=np.int64),
        'step': 12,
        'name': 'run-a',
    }
    array_names = [k for k, v in arrays.items() if isinstance(v, np.ndarray)]
    for protocol in (0, 2, 4, 5):
        rel = f'pickle/p{protocol}.pkl'
        with open(os.path.join(ROOT, rel), 'wb') as f:
            pickle.dump(arrays, f, protocol=protocol)
        expected[rel] = array_names
        for k in array_names:
            record(f'{rel}:{k}', arrays[k], arrays[k].dtype.str)

    # numpy 2 pickles name numpy._core.* instead of numpy.core.*: the same protocol 2 pickle with
    # its GLOBAL opcodes (newline-terminated text in protocol 2, no frames) renamed.
    data = open(os.path.join(base, 'p2.pkl'), 'rb').read()
    assert b'cnumpy.core.multiarray\n' in data
    data = data.replace(b'cnumpy.core.multiarray\n', b'cnumpy._core.multiarray\n')
    open(os.path.join(base, 'numpy2-names.pkl'), 'wb').write(data)
    expected['pickle/numpy2-names.pkl'] = array_names
    for k in array_names:
        expected[f'pickle/numpy2-names.pkl:{k}'] = expected[f'pickle/p2.pkl:{k}']

    # Python 2 pickles (svcca-era files): every str and bytes is a Python 2 str, written with the
    # STRING (protocol 0) or BINSTRING/SHORT_BINSTRING (protocol 2) opcodes. Python 3 no longer
    # writes these, so a pickle.Pickler subclass writes them the way Python 2's did; the result is
    # checked to load in Python 3 with encoding='latin1' (how such files are read) to the same arrays.
    py2_arrays = {k: v for k, v in arrays.items() if isinstance(v, np.ndarray)}
    for protocol in (0, 2):
        rel = f'pickle/py2-p{protocol}.pkl'
        buffer = io.BytesIO()
        Python2Pickler(buffer, protocol=protocol).dump(py2_arrays)
        loaded = pickle.loads(buffer.getvalue(), encoding='latin1')
        assert all(np.array_equal(loaded[k], v) and loaded[k].dtype == v.dtype for k, v in py2_arrays.items())
        with open(os.path.join(ROOT, rel), 'wb') as f:
            f.write(buffer.getvalue())
        expected[rel] = array_names
        for k in array_names:
            expected[f'{rel}:{k}'] = expected[f'pickle/p2.pkl:{k}']

    fortran = np.asfortranarray(ramp((3, 4), 'float64'))
    with open(os.path.join(base, 'array.pkl'), 'wb') as f:
        pickle.dump(fortran, f, protocol=3)
    expected['pickle/array.pkl'] = ['array']
    record('pickle/array.pkl:array', fortran, '<f8')

    items = [ramp((2, 2)), ramp((3,), '>f8', offset=1.0), ramp((2,), '>i2', scale=1.0, offset=-1.0)]
    with open(os.path.join(base, 'list.pkl'), 'wb') as f:
        pickle.dump(items, f, protocol=2)
    expected['pickle/list.pkl'] = ['0', '1', '2']
    for i, a in enumerate(items):
        record(f'pickle/list.pkl:{i}', a, a.dtype.str)

    with open(os.path.join(base, 'object.pkl'), 'wb') as f:
        pickle.dump({'bad': np.array([1, 'a', None], dtype=object)}, f, protocol=2)
    with open(os.path.join(base, 'evil.pkl'), 'wb') as f:
        f.write(EVIL_PICKLE)


class Python2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 pickled its str type (STRING / SHORT_BINSTRING / BINSTRING)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        data = obj.encode('latin1') if isinstance(obj, str) else obj
        if self.proto >= 1:
            if len(data) < 256:
                self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
            else:
                self.write(pickle.BINSTRING + len(data).to_bytes(4, 'little') + data)
        else:
            self.write(pickle.STRING + repr(data)[1:].encode('ascii') + b'\n')
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str


# --------------------------------------------------------------------------------------------- HDF5

def make_hdf5():
    import h5py

    base = os.path.join(ROOT, 'hdf5')
    os.makedirs(base, exist_ok=True)
    path = os.path.join(base, 'datasets.h5')
    datasets = [
        ('top', ramp((3, 4))),
        ('model/conv1', ramp((2, 3, 2, 2), offset=1.0)),
        ('model/fc/out', ramp((4, 2), 'float64', offset=2.0)),
        ('model/half', ramp((5,), 'float16')),
        ('ints', np.arange(-3, 3, dtype=np.int32).reshape(3, 2)),
        ('bytes', np.arange(250, 256, dtype=np.uint8)),
        ('big_endian', ramp((4,), '>f4', offset=3.0)),
        ('compressed', ramp((40, 30), offset=0.5, scale=0.125)),
        ('scalar', np.float64(2.5)),
        ('empty', np.zeros((0, 3), dtype=np.float32)),
    ]
    with h5py.File(path, 'w', libver='earliest') as f:
        for name, a in datasets:
            if name == 'compressed':
                f.create_dataset(name, data=a, chunks=(8, 10), compression='gzip', compression_opts=4, shuffle=True)
            else:
                f.create_dataset(name, data=a)
        f.create_dataset('text', data=np.array([b'abc', b'de']))
        f.create_dataset('records', data=np.array([(1, 2.0)], dtype=[('a', '<i4'), ('b', '<f8')]))
        f.attrs['note'] = 'fixture'
        f['alias'] = h5py.SoftLink('/top')
        f['model/elsewhere'] = h5py.ExternalLink('other.h5', '/x')
    # A filter HDF5 does not build in (h5py's own LZF): listed, but reading it is refused.
    with h5py.File(os.path.join(base, 'lzf.h5'), 'w', libver='earliest') as f:
        # Repeated values, so LZF really compresses (an incompressible chunk is stored unfiltered).
        f.create_dataset('x', data=np.repeat(ramp((10,)), 10).reshape(10, 10), chunks=(5, 5), compression='lzf')
    # h5py/HDF5 visits links in name order (the reader lists them the same way).
    listed = sorted(name for name, _ in datasets)
    expected['hdf5/datasets.h5'] = listed
    dtype_names = {'float32': '<f4', 'float64': '<f8', 'float16': '<f2', 'int32': '<i4', 'uint8': '|u1'}
    for name, a in datasets:
        a = np.asarray(a)
        record(f'hdf5/datasets.h5:{name}', a, '>f4' if name == 'big_endian' else dtype_names[a.dtype.name])


# ------------------------------------------------------------------------------------------ bundles

def bundle_arrays():
    """Activations of a small bundle: 3 steps × 2 layers, 48 datapoints, distinct per step."""
    rng = np.random.RandomState(7)
    steps = {}
    for step in (0, 10, 20):
        steps[step] = {
            'conv1': rng.randn(48, 3, 2, 2).astype(np.float32),
            'layer1.0.fc': rng.randn(48, 6).astype(np.float32),
        }
    labels = (np.arange(48) % 4).astype(np.int64)
    return steps, labels


def make_bundles():
    import h5py
    import torch

    base = os.path.join(ROOT, 'bundles')
    os.makedirs(base, exist_ok=True)
    steps, labels = bundle_arrays()
    layers = ['conv1', 'layer1.0.fc']

    def nested(make):
        out = {}
        for step, arrays in steps.items():
            out[f'step_{step}'] = {'conv1': make(arrays['conv1']), 'layer1': {'0': {'fc': make(arrays['layer1.0.fc'])}}}
        return out

    note = np.arange(5, dtype=np.float32)
    checkpoint = nested(torch.from_numpy)
    checkpoint.update({'labels': torch.from_numpy(labels), 'epoch': 3, 'note': torch.from_numpy(note)})
    torch.save(checkpoint, os.path.join(base, 'steps.pt'))
    entry_names = [f'step_{s}.{n}' for s in steps for n in ('conv1', 'layer1.0.fc')]
    expected['bundles/steps.pt'] = entry_names + ['labels', 'note']

    pickled = nested(lambda a: a)
    pickled.update({'labels': labels, 'epoch': 3, 'note': note})
    with open(os.path.join(base, 'steps.pkl'), 'wb') as f:
        pickle.dump(pickled, f, protocol=4)
    expected['bundles/steps.pkl'] = expected['bundles/steps.pt']

    with h5py.File(os.path.join(base, 'steps.h5'), 'w', libver='earliest') as f:
        for step, arrays in steps.items():
            for layer in layers:
                f.create_dataset(f'step_{step}/{layer}', data=arrays[layer])
        f.create_dataset('labels', data=labels)
        f.create_dataset('notes', data=np.array([b'trained on noise']))
    expected['bundles/steps.h5'] = sorted(['labels'] + [f'step_{s}/{n}' for s in steps for n in layers])

    rng = np.random.RandomState(11)
    runs = {}
    for run in ('seedA', 'seedB'):
        for step in (0, 5):
            runs[f'{run}/step_{step}/fc'] = torch.from_numpy(rng.randn(30, 4).astype(np.float32))
    torch.save(runs, os.path.join(base, 'runs.pt'))
    expected['bundles/runs.pt'] = list(runs)

    one = {'conv1': torch.from_numpy(rng.randn(48, 3, 2, 2).astype(np.float32)), 'fc': torch.from_numpy(rng.randn(48, 6).astype(np.float32))}
    torch.save(one, os.path.join(base, 'step_30.pt'))
    expected['bundles/step_30.pt'] = list(one)

    # Every bundle array's values, for the readers' checks (C order, float32; labels int64 → float32).
    for step, arrays in steps.items():
        for layer in layers:
            record(f'bundles/steps.pt:step_{step}.{layer}', arrays[layer], 'torch.float32')
    record('bundles/steps.pt:labels', labels, 'torch.int64')

    cross = os.path.join(ROOT, 'cross')
    os.makedirs(cross, exist_ok=True)
    rng = np.random.RandomState(3)
    x = rng.randn(120, 16).astype(np.float32)
    y = (x.astype(np.float64) @ rng.randn(16, 12) + 0.5 * rng.randn(120, 12)).astype(np.float64)
    torch.save({'layer1': {'0': {'conv': torch.from_numpy(x)}}}, os.path.join(cross, 'acts.pt'))
    with h5py.File(os.path.join(cross, 'acts.h5'), 'w', libver='earliest') as f:
        f.create_dataset('model/conv1', data=y)
        f.create_dataset('model/fc', data=x[:, :5].copy())
    np.save(os.path.join(cross, 'x.npy'), x)
    np.save(os.path.join(cross, 'y.npy'), y)
    expected['cross/acts.pt'] = ['layer1.0.conv']
    expected['cross/acts.h5'] = ['model/conv1', 'model/fc']


def main():
    import h5py
    import torch

    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    make_torch()
    make_pickles()
    make_hdf5()
    make_bundles()
    expected['versions'] = {'torch': torch.__version__, 'numpy': np.__version__, 'h5py': h5py.__version__}
    with open(os.path.join(ROOT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main()
