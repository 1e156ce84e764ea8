#!/usr/bin/python3
"""NumPy peer of bench/bench_features.cpp: HTD and TDAR features per 4 x 250 window, single thread.

The same definitions as src/features/features.hpp (thresholds 0 as the C++ default for ZC/SSC), vectorized
across the 4 channels of a window, one window per call -- the per-window work a live classifier does.
AR(4) uses Yule-Walker with scipy.linalg.solve_toeplitz per channel.

Usage: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peer_features.py [--seconds 2] [--json]
Prints wall and CPU microseconds per window for each group; with --json one JSON object for a ratio script.
"""
import argparse
import json
import os
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

CHANNELS, WINDOW, SAMPLES, HOP = 4, 250, 20000, 50


def make_recording():
    """The bench's LCG noise (same generator and scaling as bench_features.cpp), channel-major."""
    state = 20240601
    out = np.empty(CHANNELS * SAMPLES)
    mask = (1 << 64) - 1
    for i in range(out.size):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        out[i] = ((state >> 11) / 9007199254740992.0 - 0.5) * 0.1
    return out.reshape(CHANNELS, SAMPLES)


def htd(w, zc_thr=0.0, ssc_thr=0.0):
    d = np.diff(w, axis=1)
    mav = np.mean(np.abs(w), axis=1)
    wl = np.sum(np.abs(d), axis=1)
    s = np.sign(w)
    zc = np.sum((s[:, :-1] * s[:, 1:] < 0) & (np.abs(d) >= zc_thr), axis=1)
    a = d[:, :-1]    # x[i] - x[i-1]
    b = -d[:, 1:]    # x[i] - x[i+1]
    ssc = np.sum((np.sign(a) * np.sign(b) > 0) & ((np.abs(a) >= ssc_thr) | (np.abs(b) >= ssc_thr)), axis=1)
    return np.concatenate([mav, wl, zc, ssc])


def ar4(w, p=4):
    y = w - w.mean(axis=1, keepdims=True)
    n = w.shape[1]
    out = np.empty((w.shape[0], p))
    for c in range(w.shape[0]):
        r = np.array([np.dot(y[c, : n - k], y[c, k:]) for k in range(p + 1)]) / n
        out[c] = scipy.linalg.solve_toeplitz(r[:p], r[1:])
    return out.ravel()


def tdar(w):
    return np.concatenate([htd(w), ar4(w)])


def time_per_window(fn, rec, seconds):
    """(wall us, CPU us) per window. CPU (process) time is the fair number on a shared, loaded machine; it
    is what Google Benchmark's "CPU" column reports for the C++ side."""
    starts = list(range(0, SAMPLES - WINDOW + 1, HOP))
    for s in starts[:50]:
        fn(rec[:, s:s + WINDOW])  # warm-up
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while True:
        for s in starts:
            fn(rec[:, s:s + WINDOW])
        n += len(starts)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return elapsed / n * 1e6, (time.process_time() - c0) / n * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="minimum time per case (default 2)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    rec = make_recording()
    htd_wall, htd_cpu = time_per_window(htd, rec, args.seconds)
    tdar_wall, tdar_cpu = time_per_window(tdar, rec, args.seconds)
    results = {"htd_us_per_window": htd_wall, "htd_cpu_us_per_window": htd_cpu,
               "tdar_us_per_window": tdar_wall, "tdar_cpu_us_per_window": tdar_cpu,
               "numpy": np.__version__, "window": f"{CHANNELS}x{WINDOW}"}
    if args.json:
        print(json.dumps(results))
    else:
        print(f"NumPy {np.__version__}, single thread, {CHANNELS} x {WINDOW} window (wall / CPU)")
        print(f"  HTD : {htd_wall:8.2f} / {htd_cpu:8.2f} us per window")
        print(f"  TDAR: {tdar_wall:8.2f} / {tdar_cpu:8.2f} us per window")


if __name__ == "__main__":
    main()
