#!/usr/bin/python3
"""Reference fixtures for the LibTorch stage (models/torch), NumPy/SciPy only.

torch_spec_<name>_{input,db,params}.npy: the per-channel dB spectrogram a SpectrogramCNN sees
(SpectrogramTransform): scipy.signal.spectrogram(x, fs, window='hann', nperseg, noverlap, detrend=False,
scaling='spectrum', mode='psd'), 10 log10(max(P, 1e-12)), transposed to [channels, frames, bins].
params = [nperseg, noverlap, fs].
"""
import pathlib

import numpy as np
from scipy import signal


def spectrogram_db(x, fs, nperseg, noverlap, floor):
    _, _, sxx = signal.spectrogram(x, fs=fs, window="hann", nperseg=nperseg, noverlap=noverlap, detrend=False,
                                   scaling="spectrum", mode="psd")
    return np.ascontiguousarray(np.swapaxes(10.0 * np.log10(np.maximum(sxx, floor)), 1, 2))


def generate(out_dir: pathlib.Path, data_root: pathlib.Path) -> int:
    rng = np.random.default_rng(20240603)
    n = 0
    for name, channels, length, nperseg, noverlap in [("a", 3, 250, 64, 32), ("b", 2, 300, 256, 128)]:
        fs = 1000.0
        t = np.arange(length) / fs
        x = 0.3 * rng.standard_normal((channels, length))
        x += np.sin(2 * np.pi * 80.0 * t)[None, :] * np.arange(1, channels + 1)[:, None]
        x = x.astype(np.float32).astype(np.float64)  # the C++ transform takes float32 windows
        np.save(out_dir / f"torch_spec_{name}_input.npy", x)
        np.save(out_dir / f"torch_spec_{name}_db.npy", spectrogram_db(x, fs, nperseg, noverlap, 1e-12))
        np.save(out_dir / f"torch_spec_{name}_params.npy", np.array([nperseg, noverlap, fs]))
        n += 3
    return n
