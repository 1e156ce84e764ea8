#!/usr/bin/python3
"""Converts a TorchScript model written by `myoexo train --torchscript F.pt` to ONNX with Debian's python3-torch,
checks it with python3-onnx, and copies the model's description (classes, channels, rate, unit, filter, window)
into the ONNX metadata (key "myoexo").

    python3 scripts/export_onnx.py model_ts.pt model.onnx

Input of the ONNX graph: float32 [batch, channels, window samples] ("windows"), filtered as the description says;
for spectrogram_cnn the dB spectrogram [batch, channels, frames, frequency bins] that myoexo computes before the
network. Output: class probabilities [batch, classes] ("probabilities").
"""
import json
import sys
import warnings

import onnx
import torch


def input_shape(network):
    inp, arch = network["input"], network["model"]
    channels, window = len(inp["channels"]), inp["window_length"]
    if arch["arch"] == "spectrogram_cnn":
        step = arch["nperseg"] - arch["noverlap"]
        frames = 1 + (window - arch["nperseg"]) // step
        return (2, channels, frames, arch["nperseg"] // 2 + 1), "spectrogram"
    return (2, channels, window), "windows"


def export(ts_path, onnx_path):
    extra = {"myoexo.json": ""}
    module = torch.jit.load(ts_path, _extra_files=extra)
    if not extra["myoexo.json"]:
        raise SystemExit(f"{ts_path}: no myoexo.json inside (written by an older myoexo? export it again)")
    meta = json.loads(extra["myoexo.json"])
    shape, name = input_shape(meta["network"])
    example = torch.zeros(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), onnx_path, opset_version=13, input_names=[name],
                          output_names=["probabilities"],
                          dynamic_axes={name: {0: "batch"}, "probabilities": {0: "batch"}})
    model = onnx.load(onnx_path)
    onnx.checker.check_model(model)
    entry = model.metadata_props.add()
    entry.key, entry.value = "myoexo", json.dumps(meta)
    onnx.save(model, onnx_path)
    return model, meta


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model, meta = export(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[2]}: {meta['network']['model']['arch']}, {len(model.graph.node)} ONNX nodes, classes "
          f"{meta['network']['classes']}, checked by onnx.checker")
