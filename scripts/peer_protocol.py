#!/usr/bin/python3
"""Peer implementation of evaluation protocol UCI-LL v1 with SciPy + scikit-learn.

LDA (LinearDiscriminantAnalysis(), solver 'svd') on HTD features (per channel MAV, WL, ZC, SSC; ZC and SSC
thresholds 0.005 mV by default, the definitions of src/features/features.hpp), so its numbers can be compared with
the C++ protocol (`myoexo evaluate --model lda [--threshold T]`: make_lda_fit_predict on HTD). With 0.005 mV it
reproduces the scikit-learn numbers the README quotes (W 88.8 % (71.6 %), P 72.4 %, L 70.8 % (39.2 %)).

  - channels RF, BF, VM, ST; files 2Npie and 2Nsen dropped (copies of 1Npie / 1Nsen)
  - sosfilt(butter(4, [20, 450], 'bandpass', fs=1000, output='sos')) per recording from zero state
  - windows 250 / increment 50, label = the file's movement (gait, sitting, standing)
  - W, P: split each recording at floor(0.7 n); train/test parts windowed separately from their first sample
  - L: whole recordings, leave one subject out

Usage:
  python3 scripts/peer_protocol.py [--data ../shared/datasets] [--protocols W,P,L] [--subjects 1A,2N]
                                   [--json out.json] [--compare metrics.json]
--compare takes the metrics.json the C++ side writes (eval::evaluation_to_json) and prints both side by side.
Runs single-threaded (BLAS threads pinned to 1).
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # fixtures_features (AR reference)
from scipy import signal  # noqa: E402

LABELS = {"mar": "gait", "sen": "sitting", "pie": "standing"}
EXCLUDE = {"2Npie", "2Nsen"}
WIN, INC, SPLIT = 250, 50, 0.7
FILE_RE = re.compile(r"^(\d+[AN])(mar|sen|pie)\.txt$", re.IGNORECASE)


def read_uci_ll(path, n_values=4):
    """[n, n_values] RF, BF, VM, ST (and FX with n_values=5). Rows are kept as the C++ reader keeps them: exactly one
    token per header column ('Channel ...' and 'Digitals ...' lines), RF..FX finite numbers; other rows are
    skipped."""
    n_cols, rows, in_header = 0, [], True
    with open(path, "r", encoding="latin-1", newline="") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\r\n")
            if in_header:
                t = line.strip().lower()
                if t == "":
                    in_header = False
                elif t.startswith("channel") or t.startswith("digitals"):
                    n_cols += 1
                continue
            tok = line.split("\t")
            if len(tok) != n_cols:
                continue
            try:
                vals = [float(t) for t in tok[:5]]
            except ValueError:
                continue
            if all(np.isfinite(vals)):
                rows.append(vals[:n_values])
    return np.asarray(rows, dtype=np.float64)


THRESHOLD = 0.005  # --threshold: ZC and SSC threshold in mV (the peer used 0.005; 0 = every change)


def htd(windows):
    """windows [n_win, n_ch, N] -> [n_win, n_ch * 4], per channel MAV, WL, ZC, SSC (channel-major)."""
    d = np.diff(windows, axis=2)
    mav = np.mean(np.abs(windows), axis=2)
    wl = np.sum(np.abs(d), axis=2)
    s = np.sign(windows)
    zc = np.sum((s[:, :, :-1] == -s[:, :, 1:]) & (s[:, :, :-1] != 0) & (np.abs(d) >= THRESHOLD), axis=2)
    # SSC: sign(x[i]-x[i-1]) == sign(x[i]-x[i+1]) != 0  <=>  sign(d[i-1]) == -sign(d[i]) != 0
    sd = np.sign(d)
    ssc = np.sum((sd[:, :, :-1] == -sd[:, :, 1:]) & (sd[:, :, :-1] != 0)
                 & (np.maximum(np.abs(d[:, :, :-1]), np.abs(d[:, :, 1:])) >= THRESHOLD), axis=2)
    return np.stack([mav, wl, zc, ssc], axis=2).reshape(windows.shape[0], -1).astype(np.float64)


CONTEXT = 0  # --lda-context N: the declared variant (eval::LdaVariant{log_amplitude, context_samples = N})


def variant_block(w, per_sample):
    """The variant's features of one block w [n_ch, n] (myoexo evaluate --model lda_context's default set
    MAV, WL, ZC, SSC, RMS, AR1-4): log of the amplitudes MAV, WL, RMS (floored at 1e-12); with per_sample,
    WL, ZC and SSC divided by the samples covered (the context block, whose length varies)."""
    from fixtures_features import ar_yule_walker
    n = w.shape[1]
    h = htd(w[None]).reshape(-1, 4)  # MAV, WL, ZC, SSC per channel
    if per_sample:
        h[:, 1:] /= n
    rms = np.sqrt(np.mean(w * w, axis=1))
    ar = np.array([ar_yule_walker(ch, 4) for ch in w])
    f = np.concatenate([h, rms[:, None], ar], axis=1)  # [n_ch, 9]
    for j in (0, 1, 4):
        f[:, j] = np.log(np.maximum(f[:, j], 1e-12))
    return f.reshape(-1)


def window_features(x, begin, end):
    """HTD of windows [s, s+WIN) for s = begin, begin+INC, ... within [begin, end); x is [n_ch, n].
    With CONTEXT > 0, the C++ LdaVariant instead: variant_block of the window, and of [max(begin, s - CONTEXT),
    s + WIN) (the context never reaches before the segment start)."""
    starts = np.arange(begin, end - WIN + 1, INC)
    if not CONTEXT:
        if len(starts) == 0:
            return np.zeros((0, 4 * x.shape[0]))
        view = np.lib.stride_tricks.sliding_window_view(x, WIN, axis=1)  # [n_ch, n-WIN+1, WIN]
        return htd(np.ascontiguousarray(view[:, starts, :].transpose(1, 0, 2)))
    rows = [np.concatenate([variant_block(x[:, s:s + WIN], False),
                            variant_block(x[:, max(begin, s - CONTEXT):s + WIN], True)]) for s in starts]
    return np.asarray(rows) if rows else np.zeros((0, 18 * x.shape[0]))


def load(data_root, subjects=None):
    """Filtered HTD windows of every recording (of `subjects` only, if given)."""
    sos = signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos")
    recs = []
    for p in sorted((data_root / "uci-lower-limb").rglob("*.txt")):
        m = FILE_RE.match(p.name)
        if not m or p.stem in EXCLUDE or (subjects and m.group(1).upper() not in subjects):
            continue
        x = signal.sosfilt(sos, read_uci_ll(p), axis=0).T  # [4, n]
        n = x.shape[1]
        s = int(np.floor(SPLIT * n))
        recs.append({
            "name": p.stem, "subject": m.group(1).upper(), "label": LABELS[m.group(2).lower()],
            "train": window_features(x, 0, s), "test": window_features(x, s, n), "whole": window_features(x, 0, n),
        })
    return recs


def scores(y_true, y_pred, n_classes):
    from sklearn import metrics
    labels = np.arange(n_classes)
    return {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, y_pred),
        "macro_f1": metrics.f1_score(y_true, y_pred, average="macro", zero_division=0),
        "confusion": metrics.confusion_matrix(y_true, y_pred, labels=labels),
    }


def fit_predict(xtr, ytr, xte):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    return LinearDiscriminantAnalysis().fit(xtr, ytr).predict(xte)


SUBJECT_NORM = "none"  # --subject-norm: an experiment on L (see main's help), not part of the protocol


def subject_norm(x):
    """Standardise x's columns with the statistics of x itself (one subject's unlabeled windows)."""
    if SUBJECT_NORM == "none" or len(x) == 0:
        return x
    x = x - x.mean(axis=0)
    return x / (x.std(axis=0) + 1e-9) if SUBJECT_NORM == "zscore" else x


def stack(recs, part, classes):
    if SUBJECT_NORM != "none" and part == "whole":
        xs, ys = [], []
        for s in sorted({r["subject"] for r in recs}):
            mine = [r for r in recs if r["subject"] == s]
            xs.append(subject_norm(np.concatenate([r[part] for r in mine])))
            ys.append(np.concatenate([np.full(len(r[part]), classes.index(r["label"])) for r in mine]))
        return np.concatenate(xs), np.concatenate(ys)
    x = np.concatenate([r[part] for r in recs])
    y = np.concatenate([np.full(len(r[part]), classes.index(r["label"])) for r in recs])
    return x, y


def run(recs, protocols, subjects):
    classes = sorted({r["label"] for r in recs})
    all_subjects = sorted({r["subject"] for r in recs})
    held = subjects or all_subjects
    out = {"class_names": classes, "subjects": all_subjects, "protocols": {}}
    k = len(classes)
    for proto in protocols:
        folds = []
        if proto == "W":
            for s in held:
                mine = [r for r in recs if r["subject"] == s]
                folds.append((s, stack(mine, "train", classes), stack(mine, "test", classes)))
        elif proto == "P":
            folds.append(("pooled", stack(recs, "train", classes), stack(recs, "test", classes)))
        elif proto == "L":
            for s in held:
                folds.append((s, stack([r for r in recs if r["subject"] != s], "whole", classes),
                              stack([r for r in recs if r["subject"] == s], "whole", classes)))
        per, summed = [], np.zeros((k, k), dtype=np.int64)
        for name, (xtr, ytr), (xte, yte) in folds:
            sc = scores(yte, fit_predict(xtr, ytr, xte), k)
            summed += sc["confusion"]
            per.append({"name": name, "n_train": len(ytr), "n_test": len(yte),
                        **{m: float(sc[m]) for m in ("accuracy", "balanced_accuracy", "macro_f1")}})
        acc = [f["accuracy"] for f in per]
        worst = int(np.argmin(acc))
        out["protocols"][proto] = {
            "per_fold": per,
            "summary": {"mean_accuracy": float(np.mean(acc)), "min_accuracy": float(acc[worst]),
                        "min_fold": per[worst]["name"],
                        "mean_balanced_accuracy": float(np.mean([f["balanced_accuracy"] for f in per])),
                        "mean_macro_f1": float(np.mean([f["macro_f1"] for f in per]))},
            "summed": {"confusion": summed.tolist()},
        }
    return out


def main():
    here = pathlib.Path(__file__).resolve().parent
    default_data = os.environ.get("MYOEXO_DATA") or str(here.parent.parent / "shared" / "datasets")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=default_data)
    ap.add_argument("--protocols", default="W,P,L")
    ap.add_argument("--subjects", default="", help="comma-separated held-out subjects for W and L (default: all)")
    ap.add_argument("--json", help="write the results here (same shape as the C++ metrics.json, fewer fields)")
    ap.add_argument("--compare", help="a C++ metrics.json to print side by side")
    ap.add_argument("--lda-context", type=int, default=0,
                    help="declared variant: log amplitudes, MAV WL ZC SSC RMS AR1-4 over the window and over the "
                         "window + N past samples (compare: `myoexo evaluate --model lda_context --context N`)")
    ap.add_argument("--subject-norm", choices=("none", "center", "zscore"), default="none",
                    help="experiment, L only: centre (or z-score) every subject's feature rows with that subject's "
                         "own statistics over all its windows, the held-out subject's included (transductive: "
                         "it uses the test subject's unlabeled windows); not part of protocol UCI-LL v1")
    ap.add_argument("--threshold", type=float, default=0.005,
                    help="ZC and SSC threshold in mV (myoexo evaluate --threshold; default 0.005, as the issue's peer)")
    ap.add_argument("--swap-sitting-standing", default="", type=lambda v: {x.strip().upper() for x in v.split(",") if x},
                    help="diagnostic, not protocol UCI-LL v1: swap the sitting and standing labels of these subjects "
                         "(e.g. 2A, whose muscle pattern is the mirror of everyone else's: "
                         "scripts/uci_ll_muscle_pattern.py)")
    args = ap.parse_args()
    global CONTEXT, SUBJECT_NORM, THRESHOLD
    THRESHOLD = args.threshold
    CONTEXT = args.lda_context
    SUBJECT_NORM = args.subject_norm
    t0 = time.perf_counter()
    recs = load(pathlib.Path(args.data))
    for r in recs:  # diagnostic only (see --swap-sitting-standing)
        if r["subject"] in args.swap_sitting_standing and r["label"] in ("sitting", "standing"):
            r["label"] = "standing" if r["label"] == "sitting" else "sitting"
    t1 = time.perf_counter()
    res = run(recs, [p.strip().upper() for p in args.protocols.split(",") if p.strip()],
              [s.strip().upper() for s in args.subjects.split(",") if s.strip()])
    t2 = time.perf_counter()
    print(f"UCI-LL v1 peer: LDA (scikit-learn, svd) on {'the lda_context variant' if CONTEXT else 'HTD'}, {len(res['subjects'])} subjects, "
          f"{len(recs)} recordings (load+filter+features {t1 - t0:.1f} s, protocols {t2 - t1:.1f} s)")
    other = json.load(open(args.compare)) if args.compare else None
    for proto, r in res["protocols"].items():
        s = r["summary"]
        line = (f"{proto}: mean {100 * s['mean_accuracy']:.1f} % (min {100 * s['min_accuracy']:.1f} %, "
                f"{s['min_fold']})  balanced {100 * s['mean_balanced_accuracy']:.1f} %  "
                f"macro-F1 {s['mean_macro_f1']:.3f}")
        print(line)
        if other and proto in other.get("protocols", {}):
            o = other["protocols"][proto]["summary"]
            print(f"   C++: mean {100 * o['mean_accuracy']:.1f} % (min {100 * o['min_accuracy']:.1f} %, "
                  f"{o['min_fold']})  balanced {100 * o['mean_balanced_accuracy']:.1f} %  "
                  f"macro-F1 {o['mean_macro_f1']:.3f}")
            mine = {f["name"]: f for f in r["per_fold"]}
            for f in other["protocols"][proto]["per_fold"]:
                if f["name"] in mine and (abs(f["accuracy"] - mine[f["name"]]["accuracy"]) > 1e-9
                                          or f["n_test"] != mine[f["name"]]["n_test"]):
                    print(f"   differs on {f['name']}: peer {mine[f['name']]['accuracy']:.6f} "
                          f"({mine[f['name']]['n_test']} windows), C++ {f['accuracy']:.6f} ({f['n_test']} windows)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
