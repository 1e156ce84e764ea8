#!/usr/bin/python3
"""PyTorch peer of the CNN on protocol UCI-LL v1 (section "Speed" of the README): the reference CNN
(3 x [Conv1d k7 + BN + ReLU + MaxPool 2], 16/32/64 filters, flatten, dense softmax; Adam 1e-3, batch 64,
cross-entropy) on the filtered 250-sample windows, per-channel standardisation fitted on the training windows,
no validation split, a fixed number of epochs (W/P 30, L 10 by default).

Data preparation (reading, sosfilt from zero state, exclusions, split, windows) is scripts/peer_protocol.py's,
so the windows are the ones the C++ protocol uses (same counts per fold).

Usage:
  python3 bench/peer_protocol_torch.py [--data ../shared/datasets] [--protocols W,P,L] [--epochs 30]
                                       [--epochs-loso 10] [--threads 1] [--seed 0] [--json out.json]
Prints per-protocol mean (min) accuracy and macro-F1, and the wall time of each protocol (training +
prediction, after loading) as JSON on the last line.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from scipy import signal  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))
import peer_protocol as pp  # noqa: E402


def windows(x, begin, end):
    """Raw windows [n_win, n_ch, WIN] at begin, begin+INC, ... inside [begin, end) of x [n_ch, n]."""
    starts = np.arange(begin, end - pp.WIN + 1, pp.INC)
    if len(starts) == 0:
        return np.zeros((0, x.shape[0], pp.WIN), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(x, pp.WIN, axis=1)
    return np.ascontiguousarray(view[:, starts, :].transpose(1, 0, 2)).astype(np.float32)


def load(data_root):
    sos = signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos")
    recs = []
    for p in sorted((data_root / "uci-lower-limb").rglob("*.txt")):
        m = pp.FILE_RE.match(p.name)
        if not m or p.stem in pp.EXCLUDE:
            continue
        x = signal.sosfilt(sos, pp.read_uci_ll(p), axis=0).T
        n = x.shape[1]
        s = int(np.floor(pp.SPLIT * n))
        recs.append({"name": p.stem, "subject": m.group(1).upper(), "label": pp.LABELS[m.group(2).lower()],
                     "train": windows(x, 0, s), "test": windows(x, s, n), "whole": windows(x, 0, n)})
    return recs


def make_model(channels, length, classes, filters=(16, 32, 64), kernel=7, pool=2):
    layers, c, n = [], channels, length
    for f in filters:
        layers += [nn.Conv1d(c, f, kernel, padding=kernel // 2), nn.BatchNorm1d(f), nn.ReLU(), nn.MaxPool1d(pool)]
        c, n = f, n // pool
    layers += [nn.Flatten(), nn.Linear(c * n, classes)]
    return nn.Sequential(*layers)


def fit_predict(xtr, ytr, xte, classes, epochs, seed, batch=64):
    torch.manual_seed(seed)
    mean = xtr.mean(axis=(0, 2), keepdims=True)
    std = xtr.std(axis=(0, 2), keepdims=True) + 1e-12
    xt = torch.from_numpy((xtr - mean) / std)
    yt = torch.from_numpy(ytr.astype(np.int64))
    model = make_model(xtr.shape[1], xtr.shape[2], classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = len(yt)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            if idx.numel() < 2:  # BatchNorm needs two samples
                continue
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        xe = torch.from_numpy((xte - mean) / std)
        return torch.cat([model(xe[i:i + 1024]).argmax(1) for i in range(0, len(xe), 1024)]).numpy()


def main():
    default_data = os.environ.get("MYOEXO_DATA") or str(HERE.parent.parent / "shared" / "datasets")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=default_data)
    ap.add_argument("--protocols", default="W,P,L")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--epochs-loso", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    recs = load(pathlib.Path(a.data))
    classes = sorted({r["label"] for r in recs})
    subjects = sorted({r["subject"] for r in recs})
    k = len(classes)

    def stack(rs, part):
        x = np.concatenate([r[part] for r in rs])
        y = np.concatenate([np.full(len(r[part]), classes.index(r["label"])) for r in rs])
        return x, y

    out = {"threads": a.threads, "seed": a.seed, "protocols": {}}
    for proto in [p.strip().upper() for p in a.protocols.split(",") if p.strip()]:
        t0 = time.perf_counter()
        if proto == "W":
            folds = [(s, stack([r for r in recs if r["subject"] == s], "train"),
                      stack([r for r in recs if r["subject"] == s], "test")) for s in subjects]
        elif proto == "P":
            folds = [("pooled", stack(recs, "train"), stack(recs, "test"))]
        else:
            folds = [(s, stack([r for r in recs if r["subject"] != s], "whole"),
                      stack([r for r in recs if r["subject"] == s], "whole")) for s in subjects]
        epochs = a.epochs_loso if proto == "L" else a.epochs
        per = []
        for i, (name, (xtr, ytr), (xte, yte)) in enumerate(folds):
            pred = fit_predict(xtr, ytr, xte, k, epochs, a.seed + i)
            sc = pp.scores(yte, pred, k)
            per.append({"name": name, "n_train": int(len(ytr)), "n_test": int(len(yte)),
                        **{m: float(sc[m]) for m in ("accuracy", "balanced_accuracy", "macro_f1")}})
            print(f"{proto} {name:8s} train {len(ytr):6d} test {len(yte):6d}  accuracy {sc['accuracy']:.4f}",
                  file=sys.stderr, flush=True)
        wall = time.perf_counter() - t0
        acc = [f["accuracy"] for f in per]
        worst = int(np.argmin(acc))
        out["protocols"][proto] = {"per_fold": per, "epochs": epochs, "wall_s": wall,
                                   "summary": {"mean_accuracy": float(np.mean(acc)), "min_accuracy": acc[worst],
                                               "min_fold": per[worst]["name"],
                                               "mean_macro_f1": float(np.mean([f["macro_f1"] for f in per]))}}
        s = out["protocols"][proto]["summary"]
        print(f"{proto}: mean {100 * s['mean_accuracy']:.1f} % (min {100 * s['min_accuracy']:.1f} %, {s['min_fold']})"
              f"  macro-F1 {s['mean_macro_f1']:.3f}  {epochs} epochs  wall {wall:.1f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print(json.dumps({p: {"wall_s": round(v["wall_s"], 2), "mean_accuracy": v["summary"]["mean_accuracy"]}
                      for p, v in out["protocols"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
