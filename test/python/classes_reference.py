"""Independent numpy reference for class sensitivity, the k sweep and k99 (issue 14, items 2 and 3).

Written from the definitions, not from src/: each layer is reduced by SVCCA's SVD step (np.linalg.svd,
keep the smallest k with cumulative variance >= 99%), whitened the way google/svcca's cca_core does
(covariance / xmax, eps added to the diagonal, inverse square root), and
  class sensitivity  rho_c = || Z y_c || / || y_c ||          (Z whitened, y_c the centred target)
  ... and, at eps = 0, also as sqrt(R^2) of a least-squares fit of y_c on the kept directions;
  sweep over k        mean singular value of Sxx^-1/2 Sxy Syy^-1/2 between the top-k directions of each side;
  k99                 the smallest k whose cumulative s_i^2 reaches 99% of the total.

usage: classes_reference.py seeded OUT_DIR    writes OUT_DIR/seeded.npz (a bundle) and prints expected JSON
       classes_reference.py demo NPZ RUN      prints expected JSON for the demo bundle's run
Layers are read datapoints first; conv layers (N, C, H, W) are flattened.
"""
import json
import sys

import numpy as np

KEEP = 0.99


def as_matrix(a):
    """datapoints x features, float64."""
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def svd_step(x):
    """The centred layer's SVD: U (m x r), s; and k99, the smallest k holding 99% of s^2."""
    xc = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    var = s ** 2
    k = int(np.argmax(np.cumsum(var) >= KEEP * var.sum() * (1 - 1e-12)) + 1) if var.sum() > 0 else 0
    return u, s, k


def whitened(d, eps):
    """cca_core's whitening of the m x k directions: rows of Z (k x m)."""
    m = d.shape[0]
    dc = d - d.mean(axis=0)
    sigma = dc.T @ dc / (m - 1)
    xmax = np.max(np.abs(sigma))
    sigma = sigma / xmax
    keep = np.abs(np.diag(sigma)) >= eps
    sigma = sigma[np.ix_(keep, keep)] + eps * np.eye(int(keep.sum()))
    w, v = np.linalg.eigh(sigma)
    good = w > 1e-12 * w.max()
    inv_sqrt = v[:, good] @ np.diag(w[good] ** -0.5) @ v[:, good].T
    return inv_sqrt @ dc[:, keep].T / np.sqrt((m - 1) * xmax)


def class_rho(d, targets, eps):
    """rho_c = || Z y_c || / || y_c || for the m x k directions d."""
    z = whitened(d, eps)
    out = []
    for y in targets:
        yc = y - y.mean()
        out.append(float(np.linalg.norm(z @ yc) / np.linalg.norm(yc)))
    return out


def lstsq_rho(d, targets):
    out = []
    for y in targets:
        yc = y - y.mean()
        coef, *_ = np.linalg.lstsq(d - d.mean(axis=0), yc, rcond=None)
        fit = (d - d.mean(axis=0)) @ coef
        out.append(float(np.sqrt((fit @ fit) / (yc @ yc))))
    return out


def svcca_at_k(a, b, k):
    """SVCCA with k directions on both sides, eps = 0, through cca_core's T = Sxx^-1/2 Sxy Syy^-1/2."""
    ua, sa, _ = svd_step(a)
    ub, sb, _ = svd_step(b)
    da, db = ua[:, :k] * sa[:k], ub[:, :k] * sb[:k]
    m = da.shape[0]
    da = da - da.mean(axis=0)
    db = db - db.mean(axis=0)
    sxx, syy, sxy = da.T @ da / (m - 1), db.T @ db / (m - 1), da.T @ db / (m - 1)

    def inv_sqrt(s):
        w, v = np.linalg.eigh(s)
        return v @ np.diag(w ** -0.5) @ v.T

    t = inv_sqrt(sxx) @ sxy @ inv_sqrt(syy)
    return float(np.linalg.svd(t, compute_uv=False).mean())


def targets_for(labels, classes, logits):
    if logits is None:
        return [(labels == c).astype(np.float64) for c in classes]
    return [logits[:, c] for c in classes]


def bundle_expectations(arrays, labels, run_prefix, eps, ks_pairs):
    steps = sorted({int(k.split('/')[-2][len('step_'):]) for k in arrays if k.startswith(run_prefix + 'step_')})
    layers = []
    for k in arrays:
        if k.startswith(f'{run_prefix}step_{steps[0]}/'):
            layers.append(k.split('/')[-1])
    classes = sorted(set(int(v) for v in labels))
    result = {'steps': steps, 'layers': layers, 'classes': classes, 'logits': {}, 'indicator': {}, 'lstsq': {}, 'k99': [], 'sweeps': []}
    for t, step in enumerate(steps):
        get = lambda layer: as_matrix(arrays[f'{run_prefix}step_{step}/{layer}'])
        logits = get('logits')
        k99_row = []
        for layer in layers:
            u, s, k = svd_step(get(layer))
            k99_row.append(k)
            d = u[:, :k] * s[:k]  # SVCCA's SVD step with the default keep (99%)
            for target, ys in (('logits', targets_for(labels, classes, logits)), ('indicator', targets_for(labels, classes, None))):
                result[target].setdefault(layer, []).append(class_rho(d, ys, eps))
                if eps == 0 and target == 'indicator':
                    result['lstsq'].setdefault(layer, []).append(lstsq_rho(d, ys))
        result['k99'].append(k99_row)
    for a_name, b_name, ks in ks_pairs:
        a, b = as_matrix(arrays[a_name]), as_matrix(arrays[b_name])
        result['sweeps'].append({'a': a_name, 'b': b_name, 'points': [{'k': k, 'similarity': svcca_at_k(a, b, k)} for k in ks]})
    return result


def seeded(out_dir):
    rng = np.random.default_rng(20171204)
    m, classes = 240, 6
    labels = np.repeat(np.arange(classes), m // classes).astype(np.int64)
    rng.shuffle(labels)
    onehot = np.eye(classes)[labels]
    arrays = {'labels': labels}
    for step in (0, 10, 30):
        signal = min(1.0, step / 30)  # classes become separable over "training"
        hidden = signal * onehot @ rng.normal(size=(classes, 20)) + rng.normal(size=(m, 20))
        dense = np.tanh(hidden @ rng.normal(size=(20, 30)))
        conv = (dense @ rng.normal(size=(30, 4 * 3 * 3))).reshape(m, 4, 3, 3) + 0.1 * rng.normal(size=(m, 4, 3, 3))
        logits = dense @ rng.normal(size=(30, classes))
        arrays[f'step_{step}/conv'] = conv
        arrays[f'step_{step}/dense'] = dense
        arrays[f'step_{step}/logits'] = logits
    np.savez(f'{out_dir}/seeded.npz', **arrays)
    pairs = [('step_30/dense', 'step_30/conv', list(range(1, 31))), ('step_0/dense', 'step_30/dense', list(range(1, 31)))]
    out = {'eps0': bundle_expectations(arrays, labels, '', 0.0, pairs), 'eps': bundle_expectations(arrays, labels, '', 1e-10, [])}
    print(json.dumps(out))


def demo(path, run):
    z = np.load(path)
    arrays = {k: z[k] for k in z.files if k.startswith(run + '/')}
    labels = z['labels'].astype(np.int64)
    pairs = [(f'{run}/step_700/s2b1', f'{run}/step_700/s3b1', list(range(1, 65)) + [72, 100, 128])]
    print(json.dumps(bundle_expectations(arrays, labels, run + '/', 1e-10, pairs)))


if __name__ == '__main__':
    if sys.argv[1] == 'seeded':
        seeded(sys.argv[2])
    else:
        demo(sys.argv[2], sys.argv[3])
