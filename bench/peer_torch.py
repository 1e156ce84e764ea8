#!/usr/bin/python3
"""PyTorch peer for bench_train: the same CNN1d (3 x [Conv1d k7 + BN + ReLU + MaxPool 2], 16/32/64 filters,
flatten, dense), Adam 1e-3, batch 64, cross-entropy, on random windows of the same shape, with the same
thread count. Prints one JSON line: per-epoch training samples/s and batch-1 eval latencies.

Usage: python3 bench/peer_torch.py --threads 1 --windows 2560 --epochs 4 --latency-runs 2000
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def make_model(channels, length, classes, filters=(16, 32, 64), kernel=7, pool=2):
    layers, c, n = [], channels, length
    for f in filters:
        layers += [nn.Conv1d(c, f, kernel, padding=kernel // 2), nn.BatchNorm1d(f), nn.ReLU(), nn.MaxPool1d(pool)]
        c, n = f, n // pool
    layers += [nn.Flatten(), nn.Linear(c * n, classes)]
    return nn.Sequential(*layers)


def loaded_blas():
    """The BLAS libraries mapped into this process (the system's libblas.so.3 alternative), as resolved paths."""
    seen = []
    with open("/proc/self/maps") as f:
        for line in f:
            i = line.find("/")
            if i >= 0 and "blas" in line[i:] and line[i:].strip() not in seen:
                seen.append(line[i:].strip())
    return ", ".join(seen) or "none loaded"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--windows", type=int, default=2560)
    ap.add_argument("--channels", type=int, default=4)
    ap.add_argument("--length", type=int, default=250)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--latency-runs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = torch.randn(a.windows, a.channels, a.length)
    y = torch.randint(0, a.classes, (a.windows,))
    model = make_model(a.channels, a.length, a.classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    epoch_rates = []
    for _ in range(a.epochs):
        model.train()
        perm = torch.randperm(a.windows)
        t0 = time.perf_counter()
        seen = 0
        for i in range(0, a.windows, a.batch):
            idx = perm[i:i + a.batch]
            if idx.numel() < 2:
                continue
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            # The C++ loop also reads the loss and the accuracy every batch.
            loss.item()
            (out.argmax(1) == yb).sum().item()
            seen += idx.numel()
        epoch_rates.append(seen / (time.perf_counter() - t0))
    model.eval()
    x1 = torch.randn(1, a.channels, a.length)
    lat = []
    with torch.no_grad():
        for _ in range(100):
            torch.softmax(model(x1), 1)
        for _ in range(a.latency_runs):
            t0 = time.perf_counter()
            torch.softmax(model(x1), 1)
            lat.append(time.perf_counter() - t0)
    lat.sort()
    print(json.dumps({
        "torch": torch.__version__,
        "threads": a.threads,
        "blas": loaded_blas(),
        "epoch_samples_per_s": epoch_rates,
        "latency_p50_us": lat[len(lat) // 2] * 1e6,
        "latency_p99_us": lat[int(len(lat) * 0.99)] * 1e6,
    }))


if __name__ == "__main__":
    main()
