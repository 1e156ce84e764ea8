"""Reference fixtures for the models stage (LDA) and the eval stage (metrics), from scikit-learn.

generate(out_dir, data_root) writes .npy files (float64, C order):
  lda_<case>_{X,y,Xtest,means,coef,intercept,proba,proba_test}.npy   for each case in CASES (+ real-data cases)
  ridge_<case>_{X,y,Xtest,coef,intercept,pred_test}.npy              StandardScaler + Ridge(alpha), coef in input scale
  metrics_{y_true,y_pred,confusion,precision,recall,f1,support,scalars}.npy
Needs /usr/bin/python3 with NumPy, SciPy and scikit-learn (Debian python3-sklearn); writes nothing without
scikit-learn (the C++ tests then skip).
"""
import pathlib

import numpy as np

# Synthetic cases: (name, solver, shrinkage, n_classes)
CASES = [
    ("svd3", "svd", None, 3),
    ("svd2", "svd", None, 2),
    ("lsqr3", "lsqr", None, 3),
    ("lsqr3auto", "lsqr", "auto", 3),
    ("eigen3auto", "eigen", "auto", 3),
    ("eigen3fixed", "eigen", 0.3, 3),
    ("svd1", "svd", None, 1),
]


def _synthetic(n_classes, seed):
    rng = np.random.default_rng(seed)
    p = 6
    n_per = [60, 90, 45][:n_classes] if n_classes > 1 else [50]
    mix = rng.normal(size=(p, p))
    xs, ys = [], []
    for c, n in enumerate(n_per):
        centre = rng.normal(scale=2.0, size=p)
        xs.append(rng.normal(size=(n, p)) @ mix + centre)
        ys.append(np.full(n, c))
    X = np.concatenate(xs)
    y = np.concatenate(ys)
    # one nearly-collinear column: the svd solver must cope
    X[:, 5] = X[:, 0] + 1e-3 * rng.normal(size=X.shape[0])
    Xtest = rng.normal(size=(40, p)) @ mix * 1.5
    return X, y, Xtest


def _read_uci_ll(path, columns=4):
    """The first `columns` of RF, BF, VM, ST, FX of one UCI lower-limb file; rows with a missing/corrupt token
    are skipped."""
    rows = []
    started = False
    with open(path, "r", encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not started:
                if line.strip() == "":
                    started = True
                continue
            tok = line.split("\t")
            if len(tok) < 5:
                continue
            try:
                rows.append([float(t) for t in tok[:5]])
            except ValueError:
                continue
    return np.asarray(rows)[:, :columns]


def htd(win):
    """HTD on one window [n_channels, n]: per channel MAV, ZC, SSC, WL (thresholds 0), channel-major."""
    d = np.diff(win, axis=1)
    mav = np.mean(np.abs(win), axis=1)
    zc = np.sum(win[:, :-1] * win[:, 1:] < 0, axis=1)
    ssc = np.sum(d[:, :-1] * d[:, 1:] < 0, axis=1)
    wl = np.sum(np.abs(d), axis=1)
    return np.stack([mav, zc, ssc, wl], axis=1).reshape(-1)


def _real_htd(data_root, subject):
    from scipy import signal

    sos = signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos")
    folder = data_root / "uci-lower-limb" / ("A_TXT" if subject.endswith("A") else "N_TXT")
    X, y = [], []
    for c, mov in enumerate(["mar", "pie", "sen"]):
        x = _read_uci_ll(folder / f"{subject}{mov}.txt")
        xf = signal.sosfilt(sos, x, axis=0).T
        for s in range(0, xf.shape[1] - 250 + 1, 50):
            X.append(htd(xf[:, s:s + 250]))
            y.append(c)
    return np.asarray(X, dtype=np.float64), np.asarray(y)


def _ridge_case(out_dir, name, alpha, X, y, Xtest):
    """scikit-learn StandardScaler + Ridge(alpha); the coefficients folded back into the input's scale."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(X, y)
    scaler, ridge = pipe[0], pipe[1]
    coef = ridge.coef_ / scaler.scale_
    intercept = ridge.intercept_ - np.dot(coef, scaler.mean_)
    files = {"X": X, "y": y, "Xtest": Xtest, "coef": coef, "intercept": [intercept, alpha],
             "pred_test": pipe.predict(Xtest)}
    for k, v in files.items():
        _save(out_dir, f"ridge_{name}_{k}", v)
    return len(files)


def _ridge_synthetic(seed):
    rng = np.random.default_rng(seed)
    n, p = 200, 7
    X = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) + rng.normal(scale=3.0, size=p)
    X[:, 5] = X[:, 0] + 1e-3 * rng.normal(size=n)  # nearly collinear: the penalty keeps it solvable
    X[:, 6] = 4.25                                  # constant: StandardScaler keeps scale 1
    y = X[:, :5] @ rng.normal(size=5) + rng.normal(scale=0.5, size=n) + 10.0
    Xtest = rng.normal(size=(30, p)) * 2.0
    Xtest[:, 6] = 4.25
    return X, y, Xtest


def _real_ridge(data_root):
    """HTD of subject 1A's three files (band-pass 20-450 Hz), target = the goniometer at each window's last sample."""
    from scipy import signal

    sos = signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos")
    folder = data_root / "uci-lower-limb" / "A_TXT"
    X, y = [], []
    for mov in ["mar", "pie", "sen"]:
        a = _read_uci_ll(folder / f"1A{mov}.txt", columns=5)
        xf = signal.sosfilt(sos, a[:, :4], axis=0).T
        for s in range(0, xf.shape[1] - 250 + 1, 50):
            X.append(htd(xf[:, s:s + 250]))
            y.append(a[s + 249, 4])
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    return X[::2], y[::2], X[1::2]


def _save(out_dir, name, arr):
    np.save(out_dir / f"{name}.npy", np.ascontiguousarray(np.asarray(arr, dtype=np.float64)))


def _lda_case(out_dir, name, solver, shrinkage, X, y, Xtest):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    lda = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage).fit(X, y)
    coef, intercept = lda.coef_, lda.intercept_
    if len(lda.classes_) == 1:
        # sklearn's predict_proba fails on one class (its predict() returns that class): probability 1.
        assert (lda.predict(Xtest) == lda.classes_[0]).all()
        proba, proba_test = np.ones((len(X), 1)), np.ones((len(Xtest), 1))
    else:
        proba, proba_test = lda.predict_proba(X), lda.predict_proba(Xtest)
    files = {
        "X": X, "y": y, "Xtest": Xtest, "means": lda.means_, "coef": coef, "intercept": intercept,
        "proba": proba, "proba_test": proba_test,
    }
    for k, v in files.items():
        _save(out_dir, f"lda_{name}_{k}", v)
    return len(files)


PEER_W_SUBJECTS = ["1A", "3N"]


def _peer_w(out_dir, data_root):
    """Protocol UCI-LL v1, W only, for two subjects, by the peer (scripts/peer_protocol.py): per subject
    [accuracy, balanced accuracy, macro-F1, n_train, n_test], rows in PEER_W_SUBJECTS order."""
    import peer_protocol

    peer_protocol.THRESHOLD = 0.0  # the C++ test uses the default FeatureSpec (ZC/SSC thresholds 0)
    recs = peer_protocol.load(data_root, set(PEER_W_SUBJECTS))
    res = peer_protocol.run(recs, ["W"], PEER_W_SUBJECTS)
    rows = [[f["accuracy"], f["balanced_accuracy"], f["macro_f1"], f["n_train"], f["n_test"]]
            for f in res["protocols"]["W"]["per_fold"]]
    _save(out_dir, "peer_w_two_subjects", rows)
    return 1


def _metrics(out_dir):
    from sklearn import metrics

    rng = np.random.default_rng(7)
    n, k = 200, 4
    y_true = rng.integers(0, 3, size=n)          # class 3 never true
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, k, size=n))
    labels = np.arange(k)
    p, r, f, s = metrics.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    scalars = [
        metrics.accuracy_score(y_true, y_pred),
        metrics.balanced_accuracy_score(y_true, y_pred),
        metrics.f1_score(y_true, y_pred, average="macro", zero_division=0),
    ]
    files = {
        "y_true": y_true, "y_pred": y_pred, "confusion": metrics.confusion_matrix(y_true, y_pred, labels=labels),
        "precision": p, "recall": r, "f1": f, "support": s, "scalars": scalars,
    }
    for name, v in files.items():
        _save(out_dir, f"metrics_{name}", v)
    return len(files)


def generate(out_dir: pathlib.Path, data_root: pathlib.Path) -> int:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("fixtures_models: scikit-learn missing (apt-get install python3-sklearn): no LDA/metrics fixtures")
        return 0
    import warnings

    warnings.simplefilter("ignore")
    out_dir = pathlib.Path(out_dir)
    n = 0
    for i, (name, solver, shrinkage, n_classes) in enumerate(CASES):
        X, y, Xtest = _synthetic(n_classes, seed=100 + i)
        n += _lda_case(out_dir, name, solver, shrinkage, X, y, Xtest)
    for i, alpha in enumerate([1.0, 0.01, 50.0]):
        X, y, Xtest = _ridge_synthetic(seed=300 + i)
        n += _ridge_case(out_dir, f"synthetic{i}", alpha, X, y, Xtest)
    if (pathlib.Path(data_root) / "uci-lower-limb" / "A_TXT" / "1Amar.txt").exists():
        X, y, Xt = _real_ridge(pathlib.Path(data_root))
        n += _ridge_case(out_dir, "real", 1.0, X, y, Xt)
        X, y = _real_htd(pathlib.Path(data_root), "1A")
        Xt, _ = _real_htd(pathlib.Path(data_root), "3N")
        n += _lda_case(out_dir, "real_svd", "svd", None, X, y, Xt)
        n += _lda_case(out_dir, "real_lsqrauto", "lsqr", "auto", X, y, Xt)
        n += _peer_w(out_dir, pathlib.Path(data_root))
    n += _metrics(out_dir)
    return n


if __name__ == "__main__":
    import sys

    here = pathlib.Path(__file__).resolve().parent
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures")
    out.mkdir(parents=True, exist_ok=True)
    print(generate(out, here.parent.parent / "shared" / "datasets"))
