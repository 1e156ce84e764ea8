"""myoexo: surface EMG of the leg to safe real-time commands for a lower-limb exoskeleton.

The C++ stages, bound with pybind11 (``myoexo._core``): the same objects the ``myoexo`` program runs.

    rec = myoexo.read_recording("1Nmar.txt")      # rec.data: [channels, samples] (no copy), rec.channel_names, ...
    sos = myoexo.butter(4, [20, 450], "bandpass", fs=rec.sample_rate_hz)   # == scipy.signal.butter(..., output="sos")
    f = myoexo.Filter(sos, channels=4)            # causal, stateful: f.process(chunk[frames, channels])
    feats = myoexo.window_features(rec, "HTD", window=250, increment=50)
    lda = myoexo.LDA.fit(X, y)                    # == sklearn LinearDiscriminantAnalysis
    model = myoexo.load_model("model.json")      # model.predict_proba(rec), model.pipeline().process(frames)
    metrics = myoexo.evaluate(myoexo.load_dataset("uci-lower-limb"), model="lda", protocol="W")
"""
from ._core import (  # noqa: F401
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

__all__ = [
    "LDA", "Event", "Filter", "Model", "Pipeline", "Recording", "butter", "evaluate", "feature_groups",
    "load_dataset", "load_model", "notch", "read_recording", "sosfiltfilt", "window_features",
]
