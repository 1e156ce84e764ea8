#!/usr/bin/python3
"""Runs bench_dsp (Google Benchmark, JSON) and the same work through SciPy in the same run, single thread
on both sides, and prints: case, myoexo time, SciPy time, ratio (SciPy / myoexo; > 1 = myoexo faster).

Usage: /usr/bin/python3 bench/compare_scipy.py [--bench build/bench/bench_dsp] [--cpu 1] [--quick]

Both wall-clock and CPU time are reported: on a shared machine the CPU-time ratio is the steadier one.
SciPy outputs are not kept between calls (each result is dropped before the next call), so allocation of
fresh output pages does not dominate as it would if every output were kept.
"""
import os

# Single-threaded BLAS/OpenMP on the SciPy side; set before NumPy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy import signal  # noqa: E402

FS = 1000.0


def find_bench(arg):
    if arg:
        return pathlib.Path(arg)
    root = pathlib.Path(__file__).resolve().parent.parent
    for cand in sorted(root.glob("build*/bench/bench_dsp")):
        return cand
    raise SystemExit("bench_dsp not found: build it (cmake --build build --target bench_dsp) or pass --bench")


def run_bench(path, cpu, quick):
    cmd = [str(path), "--benchmark_format=json", "--benchmark_repetitions=%d" % (1 if quick else 3),
           "--benchmark_report_aggregates_only=true", "--benchmark_min_time=%s" % ("0.2" if quick else "1")]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu)] + cmd
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"]).replace("/real_time", "")
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        res[name] = (b["real_time"] * scale, b["cpu_time"] * scale)
    return res


def time_py(fn, repeats):
    """Median wall and CPU seconds per call; each result is dropped immediately."""
    fn()  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", help="path to bench_dsp")
    ap.add_argument("--cpu", type=int, default=1, help="CPU to pin both sides to (taskset / sched_setaffinity)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    ours = run_bench(find_bench(args.bench), args.cpu, args.quick)

    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 1_000_000))
    sos = signal.butter(4, [20.0, 450.0], "bandpass", fs=FS, output="sos")
    w = rng.standard_normal((16, 4000))
    reps_big = 3 if args.quick else 5
    reps_small = 50 if args.quick else 300
    py = {
        "sosfilt": time_py(lambda: signal.sosfilt(sos, x, axis=-1), reps_big),
        "sosfiltfilt": time_py(lambda: signal.sosfiltfilt(sos, x, axis=-1), reps_big),
        "stft": time_py(lambda: signal.stft(w, fs=FS, window="hann", nperseg=256, noverlap=128), reps_small),
        "spectrogram": time_py(lambda: signal.spectrogram(w, fs=FS, window="hann", nperseg=256, noverlap=128,
                                                          detrend="constant", scaling="density", mode="psd"),
                               reps_small),
    }
    try:
        import pywt

        v = rng.standard_normal(4000)

        def denoise():
            c = pywt.wavedec(v, "db4", mode="periodization")
            t = np.median(np.abs(c[-1])) / 0.6745 * np.sqrt(2 * np.log(len(v)))
            return pywt.waverec([c[0]] + [pywt.threshold(d, t, "soft") for d in c[1:]], "db4", mode="periodization")

        py["wavelet"] = time_py(denoise, reps_small)
    except ImportError:
        pass

    def per_window(name):
        batch = int(name.rsplit("/", 1)[1])
        r, c = ours[name]
        return r / batch, c / batch

    rows = []
    for name, (r, c) in ours.items():
        if name.startswith("BM_SosfiltBandpass4"):
            rows.append(("causal band-pass 4 (4 SOS), 16 ch x 1e6, " + name.split("_16ch_")[1], (r, c), py["sosfilt"],
                         "scipy.signal.sosfilt"))
        elif name.startswith("BM_SosfiltfiltBandpass4"):
            rows.append(("zero-phase band-pass 4, 16 ch x 1e6", (r, c), py["sosfiltfilt"], "scipy.signal.sosfiltfilt"))
        elif name.startswith("BM_StftBatch"):
            rows.append(("STFT 16 x 4000, 256/128, per window", per_window(name), py["stft"], "scipy.signal.stft"))
        elif name.startswith("BM_SpectrogramBatch"):
            rows.append(("spectrogram 16 x 4000, 256/128, per window", per_window(name), py["spectrogram"],
                         "scipy.signal.spectrogram"))
        elif name.startswith("BM_WaveletDenoise") and "wavelet" in py:
            rows.append(("wavelet denoise db4, 4000 samples", (r, c), py["wavelet"], "pywt (periodization)"))

    def fmt(s):
        return f"{s * 1e3:9.3f} ms" if s >= 1e-3 else f"{s * 1e6:9.1f} us"

    print(f"{'case':48} {'myoexo wall':>12} {'SciPy wall':>12} {'ratio':>6}   {'myoexo cpu':>12} {'SciPy cpu':>12} "
          f"{'ratio':>6}  reference")
    for label, (mr, mc), (pr, pc), ref in rows:
        print(f"{label:48} {fmt(mr):>12} {fmt(pr):>12} {pr / mr:6.2f}   {fmt(mc):>12} {fmt(pc):>12} {pc / mc:6.2f}  {ref}")
    print(f"(ratio = SciPy / myoexo; single thread; pinned to CPU {args.cpu}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
