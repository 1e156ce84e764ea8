#include "models/front_end_settings.hpp"

#include <cmath>
#include <cstdint>

namespace myoexo::models {

nlohmann::json wavelet_stream_to_json(const dsp::WaveletStreamConfig& c) {
  return {{"kind", "wavelet"}, {"wavelet", "db4"},       {"block", c.block},
          {"hop", c.hop},      {"guard", c.guard},       {"levels", c.levels},
          {"threshold_scale", c.threshold_scale}};
}

Result<dsp::WaveletStreamConfig> wavelet_stream_from_json(const nlohmann::json& j, const std::string& where) {
  auto bad = [&](const std::string& m) { return make_error(ErrorCode::invalid_argument, where, 0, "denoise: " + m); };
  if (!j.is_object()) return bad("must be an object");
  dsp::WaveletStreamConfig c;
  for (const auto& [key, v] : j.items()) {
    if (key == "kind" || key == "wavelet") {
      if (!v.is_string()) return bad(key + " must be a string");
      const std::string s = v.get<std::string>();
      if (key == "kind" && s != "wavelet") return bad("kind '" + s + "' is not known (wavelet)");
      if (key == "wavelet" && s != "db4") return bad("wavelet '" + s + "' is not available (db4)");
    } else if (key == "block" || key == "hop" || key == "guard" || key == "levels") {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > (1 << 20))
        return bad(key + " must be an integer in 0..2^20");
      const auto n = static_cast<std::size_t>(v.get<std::int64_t>());
      (key == "block" ? c.block : key == "hop" ? c.hop : key == "guard" ? c.guard : c.levels) = n;
    } else if (key == "threshold_scale") {
      if (!v.is_number()) return bad("threshold_scale must be a number");
      c.threshold_scale = v.get<double>();
    } else {
      return bad("unknown key '" + key + "'");
    }
  }
  if (Status s = dsp::validate_wavelet_stream_config(c); !s) return bad(s.error().message());
  return c;
}

}  // namespace myoexo::models
