"""Re-derives the reference values used by test/math/reference.test.ts, with numpy.

Run: python3 scripts/reference_values.py   (numpy only; prints JSON; ~30 s, the generator is pure Python)

The inputs come from the portable generator of ../shared/docs/svcca-semantics.md (mulberry32 +
Box-Muller cos branch), so the TypeScript tests rebuild them bit for bit. The CCA steps follow
google/svcca's cca_core.get_cca_similarity as the semantics doc describes them (our own code):
np.cov, rescale by max |Sigma|, prune by epsilon, add epsilon*I, pinv, matrix square root by eigh,
SVD; "mean98" is cca_core's "mean" (sum_threshold at 0.98).

PWCCA is printed twice: as the reference code computes it (D = U^T (X - mu) + mu, whose value
depends on the sign LAPACK happens to give each singular vector) and as SVCCA Lens defines it
(D = U^T (X - mu), sign-independent). Shapes: X is neurons x datapoints, as in cca_core.
"""
import json

import numpy as np


def mulberry32(seed):
    a = seed & 0xFFFFFFFF
    while True:
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = ((a ^ (a >> 15)) * (a | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        yield ((t ^ (t >> 14)) & 0xFFFFFFFF) / 2**32


def randn(seed, rows, cols):
    g = mulberry32(seed)
    out = np.empty(rows * cols)
    for i in range(rows * cols):
        u1, u2 = next(g), next(g)
        out[i] = np.sqrt(-2 * np.log(1 - u1)) * np.cos(2 * np.pi * u2)
    return out.reshape(rows, cols)


def sum_threshold(s, threshold):
    for i in range(len(s)):
        if np.sum(s[:i]) / np.sum(s) >= threshold:
            return i
    return len(s)


def cca(x, y, eps):
    nx = x.shape[0]
    cov = np.cov(x, y)
    sxx, sxy, syy = cov[:nx, :nx], cov[:nx, nx:], cov[nx:, nx:]
    xmax, ymax = np.max(np.abs(sxx)), np.max(np.abs(syy))
    sxx, syy, sxy = sxx / xmax, syy / ymax, sxy / np.sqrt(xmax * ymax)
    xi, yi = np.abs(np.diag(sxx)) >= eps, np.abs(np.diag(syy)) >= eps
    sxx = sxx[xi][:, xi] + eps * np.eye(xi.sum())
    syy = syy[yi][:, yi] + eps * np.eye(yi.sum())
    sxy = sxy[xi][:, yi]

    def inv_sqrt(s):
        w, v = np.linalg.eigh(np.linalg.pinv(s))
        return v @ np.diag(np.sqrt(w)) @ v.T

    u, s, vh = np.linalg.svd(inv_sqrt(sxx) @ sxy @ inv_sqrt(syy))
    return u, np.abs(s), xi


def pwcca(x, y, eps, add_mean_back):
    u, s, xi = cca(x, y, eps)  # x keeps no more neurons than y in the cases below
    mu = x[xi].mean(1, keepdims=True)
    d = u.T @ (x[xi] - mu) + (mu if add_mean_back else 0)
    p, _ = np.linalg.qr(d.T)
    w = np.abs(p.T @ x[xi].T).sum(1)
    w /= w.sum()
    return float((w * s).sum())


def main():
    x = randn(1, 50, 2000)
    a = randn(3, 50, 50)
    noise = randn(4, 50, 2000)
    cases = {"independent": randn(2, 50, 2000), "AX+1N": a @ x + noise, "AX+5N": a @ x + 5 * noise}
    out = {}
    for name, y in cases.items():
        _, s, _ = cca(x, y, 0.0)
        out[name] = {"mean": float(s.mean()), "mean98": float(s[: sum_threshold(s, 0.98)].mean()), "rho0_2": s[:3].tolist()}
    y = cases["AX+5N"]
    out["AX+5N"]["pwcca_reference_code"] = pwcca(x, y, 1e-10, add_mean_back=True)
    out["AX+5N"]["pwcca_svcca_lens"] = pwcca(x, y, 1e-10, add_mean_back=False)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
