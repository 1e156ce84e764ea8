"""myoexo: surface EMG of the leg to safe real-time commands for a lower-limb exoskeleton.

The C++ stages, bound with pybind11 (``myoexo._core``): the same objects the ``myoexo`` program runs.

    rec = myoexo.read_recording("1Nmar.txt")      # rec.data: [channels, samples] (no copy), rec.channel_names, ...
    sos = myoexo.butter(4, [20, 450], "bandpass", fs=rec.sample_rate_hz)   # == scipy.signal.butter(..., output="sos")
    f = myoexo.Filter(sos, channels=4)            # causal, stateful: f.process(chunk[frames, channels])
    feats = myoexo.window_features(rec, "HTD", window=250, increment=50)
    lda = myoexo.LDA.fit(X, y)                    # == sklearn LinearDiscriminantAnalysis
    model = myoexo.load_model("model.json")      # model.predict_proba(rec), model.pipeline().process(frames)
    metrics = myoexo.evaluate(myoexo.load_dataset("uci-lower-limb"), model="lda", protocol="W")
    run = myoexo.replay(model, rec)               # the live session into the simulated exoskeleton:
                                                  # run.ticks, run.decisions (NumPy structured arrays), run.events
"""
import numpy as _np

from ._core import (  # noqa: F401
    _replay,
    LDA,
    Event,
    Filter,
    Model,
    Pipeline,
    Recording,
    butter,
    evaluate,
    feature_groups,
    load_dataset,
    load_model,
    notch,
    read_recording,
    sosfiltfilt,
    window_features,
)



class ReplayResult:
    """What a replay session did: `ticks` (one row per control tick: t_s, mode, decision, confidence,
    active_intent, hip/knee set-point and measured angle in degrees, torques in N m, sensor_faults,
    knee_estimate_deg, following), `decisions` (window_end_s, class, probability, rejected, intent) as NumPy
    structured arrays, `events` (the supervisor's safety events, dicts) and `control_hz`."""

    def __init__(self, raw):
        self.ticks = _records(raw["ticks"])
        self.decisions = _records(raw["decisions"])
        self.events = list(raw["events"])
        self.control_hz = raw["control_hz"]
        self.backend = raw["backend"]

    def __repr__(self):
        return (f"ReplayResult({len(self.ticks)} ticks at {self.control_hz:.0f} Hz, {len(self.decisions)} decisions, "
                f"{len(self.events)} safety events, {self.backend})")


def _records(columns):
    names = list(columns)
    arrays = [_np.asarray(columns[n]) for n in names]
    return _np.rec.fromarrays(arrays, names=names) if arrays and len(arrays[0]) else _np.recarray(0, dtype=[
        (n, a.dtype if a.dtype != object else "U16") for n, a in zip(names, arrays)])


def replay(model, recording, seconds=0.0, faults=(), proportional=False, backend="mujoco",
           rejection_threshold=0.9, vote_window=5, control_hz=500.0):
    """Runs the live session on a recording in stream time, as `myoexo run --replay` does (the same session,
    pipeline, state machine, trajectories and safety supervisor), into the MuJoCo exoskeleton (backend="mujoco")
    or ideal mock actuators ("mock"). `model`: a Model or a model file; `recording`: a Recording or a file;
    `faults`: texts as `run --fault` takes them ("flat_line:3:2:0"). Returns a ReplayResult."""
    if not isinstance(model, Model):
        model = load_model(model)
    if not isinstance(recording, Recording):
        recording = read_recording(recording)
    return ReplayResult(_replay(model, recording, float(seconds), list(faults), bool(proportional), backend,
                                float(rejection_threshold), int(vote_window), float(control_hz)))


__all__ = [
    "ReplayResult", "replay",
    "LDA", "Event", "Filter", "Model", "Pipeline", "Recording", "butter", "evaluate", "feature_groups",
    "load_dataset", "load_model", "notch", "read_recording", "sosfiltfilt", "window_features",
]
