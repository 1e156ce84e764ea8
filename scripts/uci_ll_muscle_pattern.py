#!/usr/bin/python3
"""Muscle pattern of every non-gait recording of the UCI lower-limb data set: the share of each channel in the
summed RMS (after the protocol's causal 20-450 Hz band-pass) and the knee extensor / flexor ratio
(RF + VM) / (BF + ST).

Leg extension from sitting ("sen") is quadriceps work (ratio > 1), knee flexion standing ("pie") hamstring work
(ratio < 1). A recording whose ratio is on the wrong side of 1 for its label is flagged: on the 16 shared
subjects only 2A's two recordings are, each the mirror of every other subject's (the reason every model trained
on other subjects swaps 2A's sitting and standing under protocol L).

Usage: /usr/bin/python3 scripts/uci_ll_muscle_pattern.py [--data ../shared/datasets]
"""
import argparse
import os
import pathlib
import sys

import numpy as np
from scipy import signal

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import peer_protocol as pp  # noqa: E402


def main():
    here = pathlib.Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MYOEXO_DATA") or str(here.parent.parent / "shared" / "datasets"))
    args = ap.parse_args()
    sos = signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos")
    flagged = 0
    print(f"{'recording':10s} {'RF':>5s} {'BF':>5s} {'VM':>5s} {'ST':>5s}  (RF+VM)/(BF+ST)")
    for p in sorted((pathlib.Path(args.data) / "uci-lower-limb").rglob("*.txt")):
        m = pp.FILE_RE.match(p.name)
        if not m or p.stem in pp.EXCLUDE or m.group(2).lower() == "mar":
            continue
        x = signal.sosfilt(sos, pp.read_uci_ll(p), axis=0)
        r = np.sqrt((x ** 2).mean(axis=0))
        r = r / r.sum()
        ratio = (r[0] + r[2]) / (r[1] + r[3])
        wrong = (ratio < 1.0) if m.group(2).lower() == "sen" else (ratio > 1.0)
        flagged += int(wrong)
        print(f"{p.stem:10s} {r[0]:5.2f} {r[1]:5.2f} {r[2]:5.2f} {r[3]:5.2f}  {ratio:6.2f}"
              + ("   <- pattern of the other movement" if wrong else ""))
    print(f"{flagged} recording(s) with the other movement's pattern")
    return 0


if __name__ == "__main__":
    sys.exit(main())
