"""SciPy 1.10 reference fixtures for the dsp stage (called by scripts/make_fixtures.py).

Writes float64 C-order .npy files. Layout conventions (the C++ tests rely on them):
  - butter_params.npy  [K x 5]: kind (0 low, 1 high, 2 band-pass, 3 band-stop), order, f1_hz, f2_hz, fs_hz;
    butter_sos_<k>.npy [n_sections x 6] = scipy.signal.butter(order, Wn, btype, fs=fs, output='sos').
  - notch_params.npy [M x 3]: f0_hz, Q, fs_hz; notch_sos_<m>.npy [1 x 6] = iirnotch as one SOS row.
  - cascade_sos.npy: band-pass(4, 20-450 Hz) then notch(50 Hz, Q 30) at 1 kHz, stacked.
  - <sig>_x.npy [channels x n] channel-major input; <sig>_sosfilt_<design>.npy and
    <sig>_sosfiltfilt_<design>.npy outputs; designs in DESIGNS below; zi_<design>.npy = sosfilt_zi.
    sig = synth (always) and uci (first N_UCI complete rows of 1Nmar.txt, 4 EMG columns; only with data).
  - stft_<win>_<cfg>_{re,im}.npy [channels x freqs x times] = scipy.signal.stft(x, fs, window, nperseg,
    noverlap) (defaults boundary='zeros', padded=True, scaling='spectrum'); stftd_* the same with
    scaling='psd'. spec_<win>_<scaling>_<cfg>.npy = spectrogram(..., detrend='constant', mode='psd').
  - wavelet_*: pywt (Debian python3-pywt) db4 'periodization' decomposition, if pywt is installed.
"""
import pathlib

import numpy as np
from scipy import signal

N_UCI = 5000  # first complete rows of 1Nmar.txt (the C++ test reads the same rows)
UCI_FILE = pathlib.Path("uci-lower-limb") / "N_TXT" / "1Nmar.txt"

KINDS = ["lowpass", "highpass", "bandpass", "bandstop"]

# name -> list of (kind, order, f1, f2) stages at 1 kHz (notch: ("notch", f0, Q)).
DESIGNS = {
    "bp4": [("bandpass", 4, 20.0, 450.0)],
    "lp3": [("lowpass", 3, 30.0, 0.0)],
    "hp2": [("highpass", 2, 10.0, 0.0)],
    "bs2": [("bandstop", 2, 45.0, 55.0)],
    "bp4notch": [("bandpass", 4, 20.0, 450.0), ("notch", 50.0, 30.0)],
}
FS = 1000.0

STFT_CFGS = {"a": (256, 128), "b": (100, 60), "c": (65, 10)}  # nperseg, noverlap


def save(out_dir, name, arr):
    np.save(out_dir / f"{name}.npy", np.ascontiguousarray(np.asarray(arr, dtype=np.float64)))
    return 1


def design_sos(stages):
    parts = []
    for st in stages:
        if st[0] == "notch":
            b, a = signal.iirnotch(st[1], st[2], fs=FS)
            parts.append(np.concatenate([b, a])[None, :])
        elif st[0] in ("bandpass", "bandstop"):
            parts.append(signal.butter(st[1], [st[2], st[3]], st[0], fs=FS, output="sos"))
        else:
            parts.append(signal.butter(st[1], st[2], st[0], fs=FS, output="sos"))
    return np.vstack(parts)


def read_uci_rows(path, n_rows):
    """First n_rows complete rows: after the header (ends at the first blank line), a row is complete when
    its first 5 TAB-separated fields all parse as finite numbers. Returns [4 x n] EMG, channel-major."""
    rows = []
    with open(path, "r", encoding="latin-1") as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines) and lines[i].strip() != "":
        i += 1
    for line in lines[i + 1:]:
        fields = line.split("\t")
        if len(fields) < 5:
            continue
        try:
            vals = [float(v) for v in fields[:5]]
        except ValueError:
            continue
        if not all(np.isfinite(vals)):
            continue
        rows.append(vals[:4])
        if len(rows) == n_rows:
            break
    return np.array(rows).T.copy()


def butter_grid():
    cases = []
    for fs in (1000.0, 200.0, 2000.0):
        ny = fs / 2
        for order in range(1, 9):
            for f in (0.005 * ny, 0.04 * ny, 0.3 * ny, 0.9 * ny):
                cases.append((0, order, f, 0.0, fs))
                cases.append((1, order, f, 0.0, fs))
            # (0.45, 0.55) is symmetric about fs/4: a mathematical tie in SciPy's pairing (see butterworth_test.cpp).
            for f1, f2 in ((0.04 * ny, 0.9 * ny), (0.01 * ny, 0.2 * ny), (0.45 * ny, 0.55 * ny), (0.002 * ny, 0.97 * ny),
                           (0.3 * ny, 0.5 * ny)):
                cases.append((2, order, f1, f2, fs))
                cases.append((3, order, f1, f2, fs))
    return cases


def generate(out_dir: pathlib.Path, data_root: pathlib.Path) -> int:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0

    # 1. Butterworth grid and notches.
    cases = butter_grid()
    n += save(out_dir, "butter_params", np.array(cases))
    for k, (kind, order, f1, f2, fs) in enumerate(cases):
        wn = [f1, f2] if kind >= 2 else f1
        n += save(out_dir, f"butter_sos_{k}", signal.butter(order, wn, KINDS[kind], fs=fs, output="sos"))
    notches = [(50.0, 30.0, 1000.0), (60.0, 10.0, 1000.0), (50.0, 5.0, 200.0), (400.0, 35.0, 1000.0), (100.0, 1.0, 2000.0)]
    n += save(out_dir, "notch_params", np.array(notches))
    for m, (f0, q, fs) in enumerate(notches):
        b, a = signal.iirnotch(f0, q, fs=fs)
        n += save(out_dir, f"notch_sos_{m}", np.concatenate([b, a])[None, :])
    n += save(out_dir, "cascade_sos", design_sos(DESIGNS["bp4notch"]))

    # 2. Signals: synthetic always, real when the data set is present.
    rng = np.random.default_rng(20240501)
    t = np.arange(3000) / FS
    synth = np.vstack([
        rng.standard_normal(3000) * 0.05 + 0.2 * np.sin(2 * np.pi * 50 * t) + 0.3,  # noise + mains + offset
        np.sin(2 * np.pi * 7 * t) + 0.5 * np.sin(2 * np.pi * 180 * t),
        np.cumsum(rng.standard_normal(3000)) * 1e-3,  # drifting random walk
    ])
    signals = {"synth": synth}
    uci_path = pathlib.Path(data_root) / UCI_FILE
    if uci_path.is_file():
        signals["uci"] = read_uci_rows(uci_path, N_UCI)
    for name, x in signals.items():
        n += save(out_dir, f"{name}_x", x)
        for dname, stages in DESIGNS.items():
            sos = design_sos(stages)
            n += save(out_dir, f"{name}_sosfilt_{dname}", signal.sosfilt(sos, x, axis=-1))
            n += save(out_dir, f"{name}_sosfiltfilt_{dname}", signal.sosfiltfilt(sos, x, axis=-1))
    for dname, stages in DESIGNS.items():
        n += save(out_dir, f"zi_{dname}", signal.sosfilt_zi(design_sos(stages)))

    # 3. STFT / spectrogram (on the real signal when present, else synthetic).
    x = signals.get("uci", synth)
    n += save(out_dir, "stft_x", x)
    for win in ("hann", "hamming"):
        n += save(out_dir, f"window_{win}_256", signal.get_window(win, 256))
        for cfg, (nperseg, noverlap) in STFT_CFGS.items():
            f, t, z = signal.stft(x, fs=FS, window=win, nperseg=nperseg, noverlap=noverlap)
            if win == "hann":
                n += save(out_dir, f"stft_freqs_{cfg}", f)
                n += save(out_dir, f"stft_times_{cfg}", t)
            n += save(out_dir, f"stft_{win}_{cfg}_re", z.real)
            n += save(out_dir, f"stft_{win}_{cfg}_im", z.imag)
            _, _, z = signal.stft(x, fs=FS, window=win, nperseg=nperseg, noverlap=noverlap, scaling="psd")
            n += save(out_dir, f"stftd_{win}_{cfg}_re", z.real)
            n += save(out_dir, f"stftd_{win}_{cfg}_im", z.imag)
            for scaling in ("density", "spectrum"):
                _, t, s = signal.spectrogram(x, fs=FS, window=win, nperseg=nperseg, noverlap=noverlap,
                                             detrend="constant", scaling=scaling, mode="psd")
                if win == "hann" and scaling == "density":
                    n += save(out_dir, f"spec_times_{cfg}", t)
                n += save(out_dir, f"spec_{win}_{scaling}_{cfg}", s)

    # 4. Wavelet (db4, periodization) through PyWavelets when Debian's python3-pywt is installed.
    try:
        import pywt
    except ImportError:
        pywt = None
    if pywt is not None:
        w = synth[0, :2999]  # odd length on purpose: exercises pywt's odd-length rule
        n += save(out_dir, "wavelet_x", w)
        coeffs = pywt.wavedec(w, "db4", mode="periodization")
        n += save(out_dir, "wavelet_levels", np.array([len(coeffs) - 1]))
        for i, c in enumerate(coeffs):  # [cA_L, cD_L, ..., cD_1]
            n += save(out_dir, f"wavelet_coeff_{i}", c)
        sigma = np.median(np.abs(coeffs[-1])) / 0.6745
        thr = sigma * np.sqrt(2 * np.log(len(w)))
        den = [coeffs[0]] + [pywt.threshold(c, thr, mode="soft") for c in coeffs[1:]]
        n += save(out_dir, "wavelet_denoised", pywt.waverec(den, "db4", mode="periodization")[: len(w)])
        n += save(out_dir, "wavelet_threshold", np.array([thr]))
    return n
