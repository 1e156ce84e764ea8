#!/usr/bin/python3
"""Generates every SciPy/NumPy reference fixture the C++ tests compare against.

Usage: python3 scripts/make_fixtures.py --out build/fixtures [--data ../shared/datasets]
Each stage has its own module scripts/fixtures_<stage>.py with a `generate(out_dir, data_root)` function;
every such module found beside this script is run, in name order.
"""
import argparse
import importlib
import os
import pathlib
import sys



def main():
    here = pathlib.Path(__file__).resolve().parent
    default_data = os.environ.get("MYOEXO_DATA") or str(here.parent.parent / "shared" / "datasets")
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--data", default=default_data, help="data-set root (default: $MYOEXO_DATA or ../shared/datasets)")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(here))
    for path in sorted(here.glob("fixtures_*.py")):
        mod = importlib.import_module(path.stem)
        n = mod.generate(out, pathlib.Path(args.data))
        print(f"{path.stem}: {n} files in {out}")


if __name__ == "__main__":
    main()
