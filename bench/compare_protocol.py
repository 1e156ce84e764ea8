#!/usr/bin/python3
"""Side-by-side wall time of a full protocol run with the CNN: `myoexo evaluate` (C++/LibTorch) against the
PyTorch peer bench/peer_protocol_torch.py, same machine, same thread count, one run (the goal: a full L run on
16 subjects at 10 epochs in <= 0.5x the PyTorch peer's wall time). Both sides call the same system BLAS
(libblas.so.3: OpenBLAS after scripts/setup.sh), one BLAS thread per training thread.

Both train the same network (configs/cnn1d.toml's architecture = the peer's) on the same windows with Adam 1e-3,
batch 64, for the same epochs, without a validation split (the config's validation is switched off here so the
work is identical). The C++ side spreads folds over the threads (one LibTorch thread per fold); the peer gets
the same number of threads as torch.set_num_threads.

Usage:
  python3 bench/compare_protocol.py --myoexo build/src/app/myoexo [--protocol L] [--epochs 10] [--threads 2]
                                    [--data ../shared/datasets] [--out /tmp/compare_protocol]
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--myoexo", required=True)
    ap.add_argument("--protocol", default="L")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=os.environ.get("MYOEXO_DATA") or str(HERE.parent.parent / "shared" / "datasets"))
    ap.add_argument("--out", default="/tmp/compare_protocol")
    ap.add_argument("--skip-peer", action="store_true")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    # The shipped config with the validation split off (identical work to the peer's loop).
    cfg = (HERE.parent / "configs" / "cnn1d.toml").read_text()
    cfg = re.sub(r'(?m)^validation\s*=.*$', 'validation = "none"', cfg)
    cfg = re.sub(r'(?m)^progress\s*=.*$', 'progress = false', cfg)
    (out / "cnn1d_novalidation.toml").write_text(cfg)

    env = dict(os.environ, MYOEXO_DATA=a.data)
    cmd = [a.myoexo, "evaluate", "--model", str(out / "cnn1d_novalidation.toml"), "--protocol", a.protocol,
           "--epochs", str(a.epochs), "--epochs-loso", str(a.epochs), "--jobs", str(a.threads), "--no-plots",
           "--out", str(out / "cpp")]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    cpp_s = time.perf_counter() - t0
    cpp = json.load(open(out / "cpp" / "metrics.json"))["protocols"][a.protocol.upper()]["summary"]
    print(f"C++   {a.protocol} {a.epochs} epochs, {a.threads} thread(s): {cpp_s:7.1f} s   mean accuracy "
          f"{100 * cpp['mean_accuracy']:.1f} % (min {100 * cpp['min_accuracy']:.1f} %)", flush=True)
    if a.skip_peer:
        return 0
    t0 = time.perf_counter()
    subprocess.run(["/usr/bin/python3", str(HERE / "peer_protocol_torch.py"), "--data", a.data, "--protocols",
                    a.protocol, "--epochs", str(a.epochs), "--epochs-loso", str(a.epochs), "--threads",
                    str(a.threads), "--json", str(out / "peer.json")], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    peer_s = time.perf_counter() - t0
    peer = json.load(open(out / "peer.json"))["protocols"][a.protocol.upper()]["summary"]
    print(f"PyTorch {a.protocol} {a.epochs} epochs, {a.threads} thread(s): {peer_s:7.1f} s   mean accuracy "
          f"{100 * peer['mean_accuracy']:.1f} % (min {100 * peer['min_accuracy']:.1f} %)")
    print(f"wall-time ratio C++ / PyTorch = {cpp_s / peer_s:.2f} (goal <= 0.5)")
    print(json.dumps({"protocol": a.protocol, "epochs": a.epochs, "threads": a.threads, "cpp_s": round(cpp_s, 1),
                      "peer_s": round(peer_s, 1), "ratio": round(cpp_s / peer_s, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
