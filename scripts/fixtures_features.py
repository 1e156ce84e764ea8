#!/usr/bin/python3
"""Reference values for every feature of myoexo::features, computed independently with NumPy/SciPy.

Called by scripts/make_fixtures.py (generate(out_dir, data_root)); by hand:
    python3 scripts/make_fixtures.py --out build/fixtures

Windows: several 250-sample windows of the 4 EMG channels (RF BF VM ST) of the real UCI lower-limb files
N_TXT/1Nmar.txt and A_TXT/3Asen.txt, plus synthetic edge cases (constant, zeros, a single spike, a sine with
DC offset in noise). Definitions follow src/features/features.hpp; SciPy functions are used where SciPy has
the feature (skew, kurtosis, periodogram, solve_toeplitz), NumPy one-liners elsewhere.

Files written (float64, C order):
  features_windows.npy       [W, 4, 250]  the windows (real first, then synthetic)
  features_reference.npy     [W, 4, 29]   features in FEATURES order, with the thresholds in PARAMS
  features_counts_thr0.npy   [W, 4, 3]    ZC, SSC, WAMP with all thresholds 0
  features_periodogram.npy   [W, 4, 126]  scipy.signal.periodogram(x, fs) (boxcar, constant detrend, density)
  features_params.npy        [6]          fs_hz, zc, ssc, wamp, ar_order, n_real_windows
  features_real_rows.npy     [n_real, 2]  (file index into REAL_FILES, first valid data row) per real window
"""
import pathlib
import warnings

import numpy as np
import scipy.linalg
import scipy.signal
import scipy.stats

FEATURES = ["MAV", "RMS", "VAR", "IAV", "WL", "ZC", "SSC", "WAMP", "LOG", "DASDV", "SKEW", "KURT",
            "HA", "HM", "HC", "AR1", "AR2", "AR3", "AR4", "MNF", "MDF", "TP", "PKF",
            "M0", "M2", "M4", "SPARSI", "IRF", "WLF"]
FS_HZ = 1000.0
N = 250
# Thresholds in mV, set at multiples of the DataLOG's ~0.00075 mV step so that ">=" ties really occur.
ZC_THR, SSC_THR, WAMP_THR = 0.0015, 0.0008, 0.003
AR_ORDER = 4
REAL_FILES = ["uci-lower-limb/N_TXT/1Nmar.txt", "uci-lower-limb/A_TXT/3Asen.txt"]
REAL_STARTS = [[0, 1200, 2600, 4100], [3000, 11000, 20000, 31000]]


def read_uci_rows(path):
    """Valid data rows [rows, 5] of a UCI lower-limb file: header lines up to the first blank line are
    skipped; a data row is kept when it has >= 5 TAB-separated fields and the first 5 parse as numbers
    (rows holding only the FX value, '7.5V' and the trailing tab-only line are skipped)."""
    rows = []
    in_data = False
    with open(path, "r", encoding="latin-1") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not in_data:
                if line.strip() == "":
                    in_data = True
                continue
            fields = line.split("\t")
            if len(fields) < 5:
                continue
            try:
                rows.append([float(f) for f in fields[:5]])
            except ValueError:
                continue
    return np.asarray(rows, dtype=np.float64)


def synthetic_windows():
    rng = np.random.default_rng(20240601)
    t = np.arange(N) / FS_HZ
    constant = np.full(N, 0.25)           # exactly representable: every implementation sees exact zeros
    zeros = np.zeros(N)
    spike = np.zeros(N)
    spike[125] = 1.0
    sine = 0.3 + 0.05 * np.sin(2 * np.pi * 80.0 * t) + 0.01 * rng.standard_normal(N)  # 80 Hz = bin 20
    chirp = scipy.signal.chirp(t, 20.0, t[-1], 300.0) * 0.02 + 0.003 * rng.standard_normal(N)
    return [np.stack([constant, zeros, spike, sine]), np.stack([sine, chirp, -spike, constant])]


def ar_yule_walker(x, p):
    mu = np.mean(x)
    y = x - mu
    r = np.array([np.dot(y[: len(y) - k], y[k:]) / len(y) for k in range(p + 1)])
    if not r[0] > (1e-15 * mu) ** 2:
        return np.zeros(p)
    return scipy.linalg.solve_toeplitz(r[:p], r[1:])


def tdpsd(x):
    """LibEMG getM0feat..getWLFfeat (Khushaba's TD-PSD): orientation of the descriptors of x and log(x^2+eps)."""
    def desc(w):
        n = len(w)
        d1 = np.diff(w)
        d2 = np.diff(d1)
        m0 = (np.sqrt(np.sum(w ** 2)) / (n - 1)) ** 0.1 / 0.1
        m2 = np.sqrt(np.sum(d1 ** 2) / (n - 1)) ** 0.1 / 0.1
        m4 = np.sqrt(np.sum(d2 ** 2) / (n - 1)) ** 0.1 / 0.1
        return np.array([np.log(np.abs(m0)), np.log(np.abs(m0 - m2)), np.log(np.abs(m0 - m4)),
                         np.log(np.abs(np.sqrt(np.abs((m0 - m2) * (m0 - m4))) / m0)),
                         np.log(np.abs(m2 / np.sqrt(m0 * m4))),
                         np.log(np.abs(np.sqrt(np.sum(np.abs(d1)) / np.sum(np.abs(d2)))))])
    a = desc(x)
    b = desc(np.log(x ** 2 + np.spacing(1)))
    out = -2 * a * b / (a * a + b * b)
    return np.where(np.isfinite(out), out, 0.0)


def counts(x, zc_thr, ssc_thr, wamp_thr):
    d = np.diff(x)
    s = np.sign(x)
    zc = np.sum((s[:-1] * s[1:] < 0) & (np.abs(d) >= zc_thr))
    a = x[1:-1] - x[:-2]
    b = x[1:-1] - x[2:]
    ssc = np.sum((np.sign(a) * np.sign(b) > 0) & ((np.abs(a) >= ssc_thr) | (np.abs(b) >= ssc_thr)))
    wamp = np.sum(np.abs(d) >= wamp_thr)
    return float(zc), float(ssc), float(wamp)


def features_of(x):
    n = len(x)
    d1 = np.diff(x)
    d2 = np.diff(d1)
    zc, ssc, wamp = counts(x, ZC_THR, SSC_THR, WAMP_THR)
    skew = scipy.stats.skew(x)            # bias=True
    kurt = scipy.stats.kurtosis(x)        # fisher=True (excess), bias=True
    skew = 0.0 if np.isnan(skew) else skew
    kurt = 0.0 if np.isnan(kurt) else kurt
    v0, v1, v2 = np.var(x), np.var(d1), np.var(d2)
    hm = np.sqrt(v1 / v0) if v0 > 0 else 0.0
    hm1 = np.sqrt(v2 / v1) if v1 > 0 else 0.0
    hc = hm1 / hm if hm > 0 else 0.0
    ar = ar_yule_walker(x, AR_ORDER)
    f, p = scipy.signal.periodogram(x, fs=FS_HZ)
    total = np.sum(p)
    if total > 0:
        mnf = np.sum(f * p) / total
        mdf = f[np.searchsorted(np.cumsum(p), 0.5 * total, side="left")]
        pkf = f[np.argmax(p)]
        tp = total * (FS_HZ / n)
    else:
        mnf = mdf = pkf = tp = 0.0
    with np.errstate(divide="ignore"):
        log_det = np.exp(np.mean(np.log(np.abs(x))))
    row = [np.mean(np.abs(x)), np.sqrt(np.mean(x ** 2)), np.sum(x ** 2) / (n - 1), np.sum(np.abs(x)),
           np.sum(np.abs(d1)), zc, ssc, wamp, log_det, np.sqrt(np.mean(d1 ** 2)), skew, kurt,
           v0, hm, hc, *ar, mnf, mdf, tp, pkf, *tdpsd(x)]
    assert len(row) == len(FEATURES)
    return np.array(row, dtype=np.float64), np.array(counts(x, 0.0, 0.0, 0.0)), p


def generate(out_dir: pathlib.Path, data_root: pathlib.Path) -> int:
    out_dir = pathlib.Path(out_dir)
    windows, real_rows = [], []
    for fi, rel in enumerate(REAL_FILES):
        path = pathlib.Path(data_root) / rel
        if not path.exists():
            continue
        rows = read_uci_rows(path)
        for start in REAL_STARTS[fi]:
            windows.append(np.ascontiguousarray(rows[start:start + N, :4].T))
            real_rows.append([fi, start])
    n_real = len(windows)
    windows.extend(synthetic_windows())
    windows = np.stack(windows).astype(np.float64)
    ref = np.zeros((len(windows), 4, len(FEATURES)))
    thr0 = np.zeros((len(windows), 4, 3))
    psd = np.zeros((len(windows), 4, N // 2 + 1))
    # The constant windows make NumPy/SciPy warn (0/0, "catastrophic cancellation"): expected, handled above.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for w in range(len(windows)):
            for c in range(4):
                ref[w, c], thr0[w, c], psd[w, c] = features_of(windows[w, c])
    files = {
        "features_windows.npy": windows,
        "features_reference.npy": ref,
        "features_counts_thr0.npy": thr0,
        "features_periodogram.npy": psd,
        "features_params.npy": np.array([FS_HZ, ZC_THR, SSC_THR, WAMP_THR, AR_ORDER, n_real], dtype=np.float64),
        "features_real_rows.npy": np.array(real_rows, dtype=np.float64).reshape(-1, 2),
    }
    for name, arr in files.items():
        np.save(out_dir / name, np.ascontiguousarray(arr, dtype=np.float64))
    return len(files)


if __name__ == "__main__":
    import sys
    here = pathlib.Path(__file__).resolve().parent
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "build" / "fixtures"
    out.mkdir(parents=True, exist_ok=True)
    print(generate(out, here.parent.parent / "shared" / "datasets"), "files in", out)
