// myoexo::models — the model files' description of the optional wavelet stage of the front end, shared by the
// LDA pipeline-model JSON and the network archive so both containers write and read it the same way.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "dsp/wavelet.hpp"

namespace myoexo::models {

/// {"kind": "wavelet", "wavelet": "db4", "block": 128, "hop": 16, "guard": 16, "levels": 4, "threshold_scale": 1}
nlohmann::json wavelet_stream_to_json(const dsp::WaveletStreamConfig& c);
/// Reads the object above: missing keys keep the defaults, unknown keys, another kind or wavelet, and values out of
/// range are errors (invalid_argument naming `where`).
Result<dsp::WaveletStreamConfig> wavelet_stream_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace myoexo::models
