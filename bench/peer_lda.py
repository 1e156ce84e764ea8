#!/usr/bin/python3
"""Peer of bench/bench_lda.cpp: NumPy HTD of one 4 x 250 window + scikit-learn LDA predict_proba on that one
row, single thread, batch 1 (the live classifier's per-decision work). Same LCG signals, gains and training
windows as the C++ bench.

Usage: /usr/bin/python3 bench/peer_lda.py [--seconds 2] [--json]
Prints CPU microseconds per window for HTD, for LDA predict_proba and for both (compare with the CPU
column of bench_lda).
"""
import argparse
import json
import os
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: E402

CHANNELS, WINDOW, SAMPLES, HOP = 4, 250, 20000, 50


def make_class_signal(cls, seed):
    state, mask = seed, (1 << 64) - 1
    out = np.empty((CHANNELS, SAMPLES))
    for c in range(CHANNELS):
        gain = (1.0 if c == cls else 0.3) * 0.1
        for i in range(SAMPLES):
            state = (state * 6364136223846793005 + 1442695040888963407) & mask
            out[c, i] = ((state >> 11) / 9007199254740992.0 - 0.5) * gain
    return out


def htd(w):
    """Per channel MAV, WL, ZC, SSC (thresholds 0), channel-major: src/features/features.hpp definitions."""
    d = np.diff(w, axis=1)
    s, sd = np.sign(w), np.sign(d)
    mav = np.mean(np.abs(w), axis=1)
    wl = np.sum(np.abs(d), axis=1)
    zc = np.sum((s[:, :-1] == -s[:, 1:]) & (s[:, :-1] != 0), axis=1)
    ssc = np.sum((sd[:, :-1] == -sd[:, 1:]) & (sd[:, :-1] != 0), axis=1)
    return np.stack([mav, wl, zc, ssc], axis=1).reshape(-1)


def per_call_us(fn, seconds):
    """Process CPU time per call (time.process_time: comparable with Google Benchmark's CPU column, and
    robust when other jobs share the cores; on an idle machine it equals the wall time of 1 thread)."""
    n, t0 = 0, time.process_time()
    while True:
        for _ in range(100):
            fn()
        n += 100
        t = time.process_time() - t0
        if t >= seconds:
            return 1e6 * t / n


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    signals = [make_class_signal(c, 20240601 + c) for c in range(3)]
    X, y = [], []
    for c, sig in enumerate(signals):
        for st in range(0, SAMPLES - WINDOW + 1, HOP):
            X.append(htd(sig[:, st:st + WINDOW]))
            y.append(c)
    lda = LinearDiscriminantAnalysis().fit(np.asarray(X), np.asarray(y))
    row = htd(signals[1][:, :WINDOW]).reshape(1, -1)
    pos = [0]

    def one_htd():
        st = pos[0]
        pos[0] = (st + HOP) % (SAMPLES - WINDOW)
        return htd(signals[0][:, st:st + WINDOW])

    def one_lda():
        return lda.predict_proba(row)

    def both():
        st = pos[0]
        pos[0] = (st + HOP) % (SAMPLES - WINDOW)
        return lda.predict_proba(htd(signals[2][:, st:st + WINDOW]).reshape(1, -1))

    res = {"htd_us": per_call_us(one_htd, args.seconds), "lda_predict_proba_us": per_call_us(one_lda, args.seconds),
           "htd_plus_lda_us": per_call_us(both, args.seconds)}
    if args.json:
        print(json.dumps(res))
    else:
        print("scikit-learn peer, 1 thread, batch 1, 4 x 250 window:")
        print(f"  HTD (NumPy)           : {res['htd_us']:8.2f} us per window")
        print(f"  LDA predict_proba     : {res['lda_predict_proba_us']:8.2f} us per window")
        print(f"  HTD + LDA             : {res['htd_plus_lda_us']:8.2f} us per window")


if __name__ == "__main__":
    main()
