#!/usr/bin/python3
"""Peers of `myoexo evaluate --target knee_angle --protocol W`: scikit-learn regressors of the knee angle under
the same within-subject protocol, to show what models of another family reach on the same windows and targets.

Protocol (as src/eval/angle_protocol.hpp, per movement):
  - UCI lower-limb, channels RF, BF, VM, ST; files 2Npie and 2Nsen dropped (copies of 1N's)
  - EMG: sosfilt(butter(4, [20, 450], 'bandpass', fs=1000)) per recording from zero state (causal)
  - target: FX, negated when the recording reads flexion-negative (the 2 % / 98 % extremes rule of
    models::detect_flexion_sign), low-passed zero-phase (butter(2, 6 Hz), sosfiltfilt); the angle at each window's
    last sample (lead 0)
  - each recording split at floor(0.7 n); windows 250 / 50 cut in each part from its first sample; features never
    read before the part's start (a window's earliest segments repeat the first available one)
  - scores per subject and movement over its test windows: RMSE, NMAE = MAE / (max - min of the test targets), R^2

Features: log RMS of NSEG consecutive SEG-sample segments per channel, ending at the window's last sample (default
20 x 50 = the window and 750 past samples, what the live chain keeps for lda_context).

Models:
  ridge_lagged   StandardScaler + Ridge, alpha from 0.1-1000 on the late 30 % of the subject's training windows
  hgb_subject    HistGradientBoostingRegressor(max_iter 200, learning_rate 0.05) per subject
  mlp_pooled     StandardScaler + MLPRegressor((64,), alpha 1e-2, early stopping) on every subject's training
                 part of the movement, with a one-hot subject indicator as extra inputs (the test parts, the last
                 30 % of each recording, are never seen; the other subjects' early data is)
  hgb_mlp_mean   the mean of the two estimates above

Usage: /usr/bin/python3 bench/peer_knee_angle.py [--data ../shared/datasets] [--models ridge_lagged,hgb_subject]
                                                 [--json out.json]
Single thread (BLAS threads pinned to 1).
"""
import argparse
import json
import os
import pathlib
import sys
import time
import warnings

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
from scipy import signal  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
from peer_protocol import EXCLUDE, FILE_RE, LABELS, read_uci_ll  # noqa: E402  (the classifiers' peer reader)

WIN, INC, SPLIT, SEG, NSEG = 250, 50, 0.7, 50, 20
MODELS = ("ridge_lagged", "hgb_subject", "mlp_pooled", "hgb_mlp_mean", "hgb_person")


def flexion_sign(a):
    """models::detect_flexion_sign: +1, -1, or 0 (undecided: left as recorded)."""
    v = np.sort(a[np.isfinite(a)])
    if len(v) < 10:
        return 0
    lo, hi = v[int(0.02 * (len(v) - 1))], v[int(0.98 * (len(v) - 1))]
    if hi - lo < 5.0 or abs(abs(hi) - abs(lo)) < 5.0:
        return 0
    return 1 if abs(hi) > abs(lo) else -1


def features(x, begin, end):
    """Rows for the windows [s, s + WIN) within [begin, end) and the sample index of each target."""
    sq = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x * x, axis=1)], axis=1)
    rows, at = [], []
    for s in range(begin, end - WIN + 1, INC):
        e = s + WIN
        f = []
        for k in range(NSEG):
            hi = e - k * SEG
            lo = hi - SEG
            if lo < begin:
                lo, hi = begin, begin + SEG
            f.append(0.5 * np.log(np.maximum((sq[:, hi] - sq[:, lo]) / SEG, 1e-24)))
        rows.append(np.concatenate(f))
        at.append(e - 1)
    return np.asarray(rows), np.asarray(at, dtype=int)


def load(root):
    sos = signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos")
    lp = signal.butter(2, 6, fs=1000, output="sos")
    out = []
    for p in sorted((root / "uci-lower-limb").rglob("*.txt")):
        m = FILE_RE.match(p.name)
        if not m or p.stem in EXCLUDE:
            continue
        d = read_uci_ll(p, n_values=5)
        x = signal.sosfilt(sos, d[:, :4], axis=0).T
        a = d[:, 4] * (-1.0 if flexion_sign(d[:, 4]) < 0 else 1.0)
        a = signal.sosfiltfilt(lp, a)
        n = x.shape[1]
        s = int(np.floor(SPLIT * n))
        xtr, itr = features(x, 0, s)
        xte, ite = features(x, s, n)
        if len(xtr) < 10 or len(xte) < 2:
            continue
        out.append({"subject": m.group(1).upper(), "movement": LABELS[m.group(2).lower()],
                    "xtr": xtr, "ytr": a[itr], "xte": xte, "yte": a[ite]})
    return out


def scores(pred, y):
    mae = float(np.mean(np.abs(pred - y)))
    return {"rmse_deg": float(np.sqrt(np.mean((pred - y) ** 2))), "nmae_pct": 100.0 * mae / float(y.max() - y.min()),
            "r2": float(1.0 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))}


def ridge_lagged(r):
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler
    k = int(0.7 * len(r["xtr"]))
    best = None
    for alpha in (0.1, 1.0, 10.0, 100.0, 1000.0):
        sc = StandardScaler().fit(r["xtr"][:k])
        m = Ridge(alpha=alpha).fit(sc.transform(r["xtr"][:k]), r["ytr"][:k])
        e = np.sqrt(np.mean((m.predict(sc.transform(r["xtr"][k:])) - r["ytr"][k:]) ** 2))
        if best is None or e < best[0]:
            best = (e, alpha)
    sc = StandardScaler().fit(r["xtr"])
    m = Ridge(alpha=best[1]).fit(sc.transform(r["xtr"]), r["ytr"])
    return m.predict(sc.transform(r["xte"]))


def hgb_subject(r):
    from sklearn.ensemble import HistGradientBoostingRegressor
    m = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, random_state=0).fit(r["xtr"], r["ytr"])
    return m.predict(r["xte"])


def with_subject(x, s, subjects):
    """Rows x with the one-hot indicator of subject s among `subjects` appended."""
    o = np.zeros((len(x), len(subjects)))
    o[:, subjects.index(s)] = 1.0
    return np.hstack([x, o])


def mlp_pooled(recs, subjects):
    """One model per movement on every subject's training part, subject one-hot appended; predictions per record."""
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    xs = np.concatenate([with_subject(r["xtr"], r["subject"], subjects) for r in recs])
    ys = np.concatenate([r["ytr"] for r in recs])
    sc = StandardScaler().fit(xs)
    m = MLPRegressor((64,), alpha=1e-2, max_iter=300, early_stopping=True, random_state=0)
    m.fit(sc.transform(xs), ys)
    return [m.predict(sc.transform(with_subject(r["xte"], r["subject"], subjects))) for r in recs]


def hgb_pooled(recs, subjects):
    """One boosted model per movement on every subject's training part, subject one-hot appended."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    xs = np.concatenate([with_subject(r["xtr"], r["subject"], subjects) for r in recs])
    ys = np.concatenate([r["ytr"] for r in recs])
    m = HistGradientBoostingRegressor(max_iter=600, max_depth=6, learning_rate=0.05, early_stopping=False,
                                      random_state=0).fit(xs, ys)
    return [m.predict(with_subject(r["xte"], r["subject"], subjects)) for r in recs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("MYOEXO_DATA", "../shared/datasets"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--json")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            sys.exit(f"unknown model {m!r} (known: {', '.join(MODELS)})")
    warnings.filterwarnings("ignore")  # MLP early-stopping convergence notes
    recs = load(pathlib.Path(args.data))
    if not recs:
        sys.exit(f"no UCI lower-limb recordings below {args.data}")
    subjects = sorted({r["subject"] for r in recs})
    result = {"protocol": "W (chronological 70/30 per recording), per movement", "features":
              f"log RMS of {NSEG} x {SEG}-sample segments per channel", "models": {}}
    for model in models:
        t0 = time.perf_counter()
        rows = {}
        for movement in ("gait", "sitting", "standing"):
            rs = [r for r in recs if r["movement"] == movement]
            if model == "mlp_pooled":
                preds = mlp_pooled(rs, subjects)
            elif model == "hgb_mlp_mean":
                preds = [0.5 * (hgb_subject(r) + p) for r, p in zip(rs, mlp_pooled(rs, subjects))]
            elif model == "hgb_person":
                preds = [0.5 * (hgb_subject(r) + p) for r, p in zip(rs, hgb_pooled(rs, subjects))]
            else:
                preds = [globals()[model](r) for r in rs]
            rows[movement] = [dict(subject=r["subject"], **scores(p, r["yte"])) for r, p in zip(rs, preds)]
        result["models"][model] = {"seconds": time.perf_counter() - t0, "per_movement": rows}
        for movement, v in rows.items():
            a = {k: np.array([x[k] for x in v]) for k in ("rmse_deg", "nmae_pct", "r2")}
            print(f"{model:13s} W {movement:9s} RMSE {a['rmse_deg'].mean():5.1f} / {a['rmse_deg'].max():5.1f} deg  "
                  f"NMAE {a['nmae_pct'].mean():5.1f} / {a['nmae_pct'].max():5.1f} %  "
                  f"R2 {a['r2'].mean():5.2f} / {a['r2'].min():5.2f}  (mean / worst of {len(v)} subjects)", flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
