"""The Python module against independent references (SciPy, scikit-learn, NumPy) on the same data, and against the
program itself where the number is the program's (a trained model's decisions, an evaluation's metrics).

Run: PYTHONPATH=build/python python3 -m pytest python/tests   (ctest -R Python does this)
"""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
from scipy import signal
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import myoexo

SOURCE = pathlib.Path(os.environ.get("MYOEXO_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
DATA = pathlib.Path(os.environ.get("MYOEXO_DATA", SOURCE.parent / "shared" / "datasets"))
UCI = DATA / "uci-lower-limb"
PROGRAM = os.environ.get("MYOEXO_BIN", str(SOURCE / "build" / "src" / "app" / "myoexo"))
needs_uci = pytest.mark.skipif(not (UCI / "N_TXT" / "1Nmar.txt").exists(), reason="UCI lower-limb data absent")


@pytest.mark.parametrize("order,cutoff,btype,fs", [
    (4, [20, 450], "bandpass", 1000), (4, [20, 150], "bandpass", 1000), (2, 6, "lowpass", 1000),
    (3, 20, "highpass", 2000), (4, [45, 55], "bandstop", 1000), (8, [10, 60], "bandpass", 200)])
def test_butter_equals_scipy(order, cutoff, btype, fs):
    got = myoexo.butter(order, cutoff, btype, fs=fs)
    ref = signal.butter(order, cutoff, btype, fs=fs, output="sos")
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_a_band_edge_near_nyquist_is_the_same_filter_with_sections_in_another_order():
    # Two pole pairs equally far from the unit circle (to the last bits) are a tie in the section order SciPy
    # sorts by: the sections may come in another order, the filter (response, output) is the same.
    got = myoexo.butter(8, [10, 90], "bandpass", fs=200)
    ref = signal.butter(8, [10, 90], "bandpass", fs=200, output="sos")
    _, h_got = signal.sosfreqz(got, worN=2048)
    _, h_ref = signal.sosfreqz(ref, worN=2048)
    np.testing.assert_allclose(h_got, h_ref, rtol=0, atol=1e-12)
    x = np.random.default_rng(5).standard_normal(4000)
    y_ref = signal.sosfilt(ref, x)
    np.testing.assert_allclose(myoexo.Filter(got).process(x), y_ref, rtol=0, atol=1e-12 * np.abs(y_ref).max())


def test_bad_designs_are_value_errors_that_say_why():
    with pytest.raises(ValueError, match="high"):
        myoexo.butter(4, [20, 600], "bandpass", fs=1000)
    with pytest.raises(ValueError, match="btype"):
        myoexo.butter(4, 20, "comb", fs=1000)
    with pytest.raises(ValueError):
        myoexo.Filter(np.zeros((2, 5)))


def test_filter_in_any_chunking_equals_scipy_sosfilt():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3000, 4))
    sos = myoexo.butter(4, [20, 450], "bandpass", fs=1000)
    ref = signal.sosfilt(signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos"), x, axis=0)
    whole = myoexo.Filter(sos, channels=4).process(x)
    f = myoexo.Filter(sos, channels=4)
    cuts = [0, 1, 8, 257, 1000, 2999, 3000]
    chunked = np.vstack([f.process(x[a:b]) for a, b in zip(cuts, cuts[1:])])
    np.testing.assert_array_equal(whole, chunked)
    np.testing.assert_allclose(whole, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    f.reset()
    np.testing.assert_array_equal(f.process(x), whole)


def test_sosfiltfilt_equals_scipy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1500))
    sos = myoexo.butter(2, 6, "lowpass", fs=1000)
    ref = signal.sosfiltfilt(signal.butter(2, 6, "lowpass", fs=1000, output="sos"), x, axis=1)
    np.testing.assert_allclose(myoexo.sosfiltfilt(sos, x), ref, rtol=0, atol=1e-9 * np.abs(ref).max())


def test_a_recording_made_in_python_round_trips_through_features():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 1000)) * np.array([[0.1], [0.4]])
    rec = myoexo.Recording(data, 1000.0, ["RF", "BF"], ["mV", "mV"])
    np.testing.assert_array_equal(rec.data, data)
    f = myoexo.window_features(rec, "RMS,MAV,WL", window=250, increment=50)
    assert f["columns"] == ["RF_RMS", "RF_MAV", "RF_WL", "BF_RMS", "BF_MAV", "BF_WL"]
    starts = f["window_starts"]
    assert list(starts) == list(range(0, 751, 50))
    for row, s in zip(f["values"], starts):
        w = data[:, s:s + 250]
        ref = np.column_stack([np.sqrt((w ** 2).mean(1)), np.abs(w).mean(1), np.abs(np.diff(w, axis=1)).sum(1)])
        np.testing.assert_allclose(row, ref.ravel(), rtol=1e-12)


@needs_uci
def test_reading_a_uci_file_gives_its_channels_in_mv_without_copying():
    rec = myoexo.read_recording(UCI / "N_TXT" / "1Nmar.txt")
    assert rec.channel_names == ["RF", "BF", "VM", "ST", "FX"]
    assert rec.channel_units[:4] == ["mV"] * 4 and rec.channel_units[4] == "deg"
    assert rec.sample_rate_hz == 1000.0 and rec.subject == "1N" and rec.label == "gait"
    a, b = rec.data, rec.data
    assert a.shape == (5, rec.n_samples) and np.shares_memory(a, b)  # a view of the recording, not a copy
    np.testing.assert_array_equal(rec.channel("BF"), a[1])
    # The causal band-pass on the real file, as the C++ tests check it.
    x = np.ascontiguousarray(a[:4].T)
    got = myoexo.Filter(myoexo.butter(4, [20, 450], fs=1000), channels=4).process(x)
    ref = signal.sosfilt(signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos"), x, axis=0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9 * np.abs(ref).max())


def test_a_missing_file_is_an_os_error_naming_it():
    with pytest.raises(OSError, match="no_such_file.txt"):
        myoexo.read_recording("/nonexistent/no_such_file.txt")


@pytest.mark.parametrize("solver,shrinkage", [("svd", None), ("lsqr", "auto"), ("eigen", 0.3)])
def test_lda_equals_scikit_learn(solver, shrinkage):
    rng = np.random.default_rng(11)
    means = rng.standard_normal((3, 6)) * 2
    y = np.repeat(np.arange(3), 80)
    X = means[y] + rng.standard_normal((240, 6))
    ours = myoexo.LDA.fit(X, y, ["a", "b", "c"], solver=solver, shrinkage=shrinkage)
    ref = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage).fit(X, y)
    Xt = means[np.arange(60) % 3] + rng.standard_normal((60, 6))
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    assert ours.classes == ["a", "b", "c"]


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    if not (UCI / "N_TXT" / "1Nmar.txt").exists():
        pytest.skip("UCI lower-limb data absent")
    out = tmp_path_factory.mktemp("model") / "lda.json"
    subprocess.run([PROGRAM, "-q", "train", "--model", "lda_context", "--dataset", str(UCI), "--subject", "1N,2N,3N",
                    "--out", str(out)], check=True, capture_output=True)
    return out


def test_a_trained_model_streams_the_same_decisions_in_any_chunking(trained_model):
    model = myoexo.load_model(trained_model)
    assert model.kind == "lda_context" and model.channels == ["RF", "BF", "VM", "ST"] and model.signal_unit == "mV"
    rec = myoexo.read_recording(UCI / "A_TXT" / "1Amar.txt")  # a subject the model never saw
    frames = np.ascontiguousarray(rec.data[:4].T[:6000])
    one = model.pipeline().process(frames)
    p = model.pipeline()
    parts = [p.process(frames[a:b]) for a, b in [(0, 7), (7, 1000), (1000, 1001), (1001, 6000)]]
    for key in ("window_start", "raw_class", "rejected", "probabilities"):
        np.testing.assert_array_equal(np.concatenate([d[key] for d in parts]), one[key])
    assert sum((d["intent"] for d in parts), []) == one["intent"]
    n = len(one["window_start"])
    assert n == (6000 - model.window) // model.increment + 1
    # The offline prediction is the same chain: the same probabilities per window.
    offline = model.predict_proba(rec)
    np.testing.assert_allclose(offline["probabilities"][:n], one["probabilities"], rtol=0, atol=1e-6)
    assert set(one["intent"]) <= {"rest", "gait", "lift", "lower", "hold"}
    # Gait, decoded from a gait recording of a new person: most accepted windows say so.
    accepted = ~one["rejected"]
    gait = offline["classes"].index("gait")
    assert accepted.sum() > 0 and (one["raw_class"][accepted] == gait).mean() > 0.5


def test_frames_of_the_wrong_width_are_refused(trained_model):
    p = myoexo.load_model(trained_model).pipeline()
    with pytest.raises(ValueError, match="channel order"):
        p.process(np.zeros((10, 3)))


@needs_uci
def test_the_lda_protocol_in_python_gives_the_programs_numbers(tmp_path):
    recs = myoexo.load_dataset(UCI)
    metrics = myoexo.evaluate(recs, model="lda", protocol="W", subjects=["1N", "2A"], out_dir=tmp_path / "py")
    subprocess.run([PROGRAM, "-q", "--data", str(DATA), "evaluate", "--model", "lda", "--protocol", "W",
                    "--subject", "1N,2A", "--no-plots", "--out", str(tmp_path / "cli")], check=True, capture_output=True)
    cli = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    w, w_cli = metrics["protocols"]["W"], cli["protocols"]["W"]
    assert [f["name"] for f in w["per_fold"]] == ["1N", "2A"]
    assert w["summary"] == w_cli["summary"]
    assert 0.5 < w["summary"]["mean_accuracy"] <= 1.0


def test_a_replay_session_returns_what_the_exoskeleton_did(trained_model):
    rec = myoexo.read_recording(UCI / "A_TXT" / "1Amar.txt")
    run = myoexo.replay(trained_model, rec, seconds=6, faults=["flat_line:3:1.5:0"])
    t = run.ticks
    assert run.control_hz == 500 and run.backend == "mujoco"
    assert len(t) == pytest.approx(6 * 500, abs=2) and np.all(np.diff(t.t_s) > 0)
    # The flat line on RF from 3 s is a sensor fault: the supervisor holds during it, and it ran normally before.
    assert "normal" in set(t.mode[t.t_s < 3])
    during = t[(t.t_s > 3.3) & (t.t_s < 4.4)]
    assert np.all(during.mode == "hold") and np.all(during.sensor_faults != 0)
    assert any(e["reason"] == "sensor_fault" for e in run.events)
    # Decisions: every 50 samples, mostly gait on a gait recording; the leg moved.
    d = run.decisions
    assert len(d) == pytest.approx((6000 - 250) / 50 + 1, abs=2)
    assert (d.intent == "gait").mean() > 0.4
    assert np.ptp(t.knee_deg) > 10
    # The same call twice gives the same session (stream time is deterministic).
    again = myoexo.replay(trained_model, rec, seconds=6, faults=["flat_line:3:1.5:0"])
    np.testing.assert_array_equal(again.ticks.knee_deg, t.knee_deg)
    # ... and the session `myoexo run --replay` hosts: the same ticks, modes and knee angles.
    out = pathlib.Path(trained_model).parent / "cli_replay"
    subprocess.run([PROGRAM, "-q", "run", "--replay", str(UCI / "A_TXT" / "1Amar.txt"), "--model", str(trained_model),
                    "--seconds", "6", "--fault", "flat_line:3:1.5:0", "--no-plots", "--out", str(out)],
                   check=True, capture_output=True)
    log = np.genfromtxt(out / "run_log.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert len(log) == len(t)
    np.testing.assert_allclose(log["knee_deg"], t.knee_deg, atol=1e-3)  # the log keeps 4 decimals
    assert list(log["supervisor_mode"]) == list(t.mode)


@needs_uci
@pytest.mark.parametrize("arch", ["cnn1d", "lstm"])
def test_a_trained_network_exports_to_torchscript_with_its_description_and_to_a_valid_onnx_graph(arch, tmp_path):
    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    ts = tmp_path / "model_ts.pt"
    subprocess.run([PROGRAM, "-q", "train", "--model", arch, "--dataset", str(UCI), "--subject", "1N", "--epochs", "1",
                    "--out", str(tmp_path / "model.pt"), "--torchscript", str(ts), "--no-plots"],
                   check=True, capture_output=True)
    extra = {"myoexo.json": ""}
    module = torch.jit.load(str(ts), _extra_files=extra)
    meta = json.loads(extra["myoexo.json"])
    net = meta["network"]
    assert net["input"]["channels"] == ["RF", "BF", "VM", "ST"] and net["card"]["signal_unit"] == "mV"
    assert net["classes"] == ["gait", "sitting", "standing"]
    x = torch.zeros(3, 4, net["input"]["window_length"])
    with torch.no_grad():
        p = module(x)
    np.testing.assert_allclose(p.sum(1).numpy(), 1.0, rtol=1e-5)  # probabilities per window
    out = subprocess.run(["/usr/bin/python3", str(SOURCE / "scripts" / "export_onnx.py"), str(ts),
                          str(tmp_path / "model.onnx")], check=True, capture_output=True, text=True)
    assert "checked by onnx.checker" in out.stdout
    model = onnx.load(str(tmp_path / "model.onnx"))
    onnx.checker.check_model(model)
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["myoexo"])["network"]["classes"] == net["classes"]
    assert [i.name for i in model.graph.input] == ["windows"]
