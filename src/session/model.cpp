#include "session/model.hpp"

#include "models/tree_ensemble.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <limits>
#include <set>

#include "dsp/sos_filter.hpp"
#include "models/front_end_settings.hpp"
#include "dsp/windowing.hpp"
#include "io/io.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/postprocess.hpp"

#ifndef MYOEXO_VERSION
#define MYOEXO_VERSION "unknown"
#endif
#ifndef MYOEXO_GIT_COMMIT
#define MYOEXO_GIT_COMMIT ""
#endif

namespace myoexo::session {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Status ensure_parent_dir(const fs::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) return make_error(ErrorCode::io, path.string(), 0, "cannot create its folder: " + ec.message());
  return {};
}

// An integer field in [lo, hi]: refuses floats (1e300), negatives for counts and values that would wrap.
template <typename T>
Status get_integer(const json& obj, const char* key, std::int64_t lo, std::int64_t hi, const fs::path& path,
                   const std::string& shown, T& out) {
  if (!obj.contains(key))
    return make_error(ErrorCode::parse, path.string(), 0, "bad pipeline model: '" + shown + "' is missing");
  const json& v = obj.at(key);
  bool ok = false;
  std::int64_t x = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    ok = u <= std::uint64_t(hi);
    x = ok ? std::int64_t(u) : 0;
  } else if (v.is_number_integer()) {
    x = v.get<std::int64_t>();
    ok = true;
  }
  if (!ok || x < lo || x > hi)
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      shown + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                          v.dump());
  out = static_cast<T>(x);
  return {};
}

std::vector<std::pair<std::string, std::string>> default_map_for(const PipelineModel& m) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto aliases = default_class_intents();
  for (const auto& c : model_class_names(m)) {
    std::string intent;
    for (const auto& [k, v] : aliases)
      if (k == c) intent = v;
    if (intent.empty() && control::parse_intent_label(c)) intent = c;
    if (!intent.empty()) out.emplace_back(c, intent);
  }
  return out;
}

}  // namespace

Status validate_model_geometry(const PipelineModel& m, const std::string& where) {
  if (!(m.sample_rate_hz > 0.0 && m.sample_rate_hz < 1e6))
    return make_error(ErrorCode::invalid_argument, where, 0,
                      "sample_rate_hz must be in (0, 1e6), got " + std::to_string(m.sample_rate_hz));
  if (m.window_len < 3 || m.window_len > (std::size_t{1} << 24) || m.increment < 1 || m.increment > m.window_len)
    return make_error(ErrorCode::invalid_argument, where, 0,
                      "the window length must be in [3, 2^24] and the increment in [1, window length], got " +
                          std::to_string(m.window_len) + " / " + std::to_string(m.increment));
  if (m.context_samples > (std::size_t{1} << 24) ||
      (m.context_samples + m.increment - 1) / m.increment + 1 > features::kMaxContextLengths)
    return make_error(ErrorCode::invalid_argument, where, 0,
                      "context_samples must be in [0, 2^24] and at most " +
                          std::to_string(features::kMaxContextLengths - 1) + " increments, got " +
                          std::to_string(m.context_samples) + " (increment " + std::to_string(m.increment) + ")");
  return {};
}

Provenance current_provenance() {
  Provenance p;
  p.version = MYOEXO_VERSION;
  p.commit = MYOEXO_GIT_COMMIT;
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  p.created_utc = buf;
  return p;
}

std::vector<std::pair<std::string, std::string>> default_class_intents() {
  return {{"gait", "gait"}, {"standing", "lift"}, {"sitting", "lower"}};
}

Result<std::vector<control::IntentLabel>> model_class_intents(const PipelineModel& m) {
  const auto& classes = model_class_names(m);
  if (m.class_intents.empty()) return realtime::map_classes_to_intents(classes, default_class_intents());
  for (const auto& [c, i] : m.class_intents) {
    if (!control::parse_intent_label(i))
      return make_error(ErrorCode::invalid_argument, "class '" + c + "' maps to '" + i +
                                                         "', which is not an intent (rest, lift, lower, gait, hold)");
    if (std::find(classes.begin(), classes.end(), c) == classes.end())
      return make_error(ErrorCode::invalid_argument, "class_intents names a class '" + c + "' the classifier does not have");
  }
  return realtime::map_classes_to_intents(classes, m.class_intents);
}


json pipeline_model_to_json(const PipelineModel& m) {
  json j;
  j["format"] = "myoexo-pipeline-model";
  j["version"] = 2;
  j["sample_rate_hz"] = m.sample_rate_hz;
  j["channels"] = m.channels;
  j["signal_unit"] = m.signal_unit;
  j["filter"] = {{"order", m.filter_order}, {"low_hz", m.band_low_hz}, {"high_hz", m.band_high_hz}};
  if (m.denoise) j["denoise"] = models::wavelet_stream_to_json(*m.denoise);
  j["window_len"] = m.window_len;
  j["increment"] = m.increment;
  j["features"] = {{"names", m.features.names},
                   {"zc", m.features.thresholds.zc},
                   {"ssc", m.features.thresholds.ssc},
                   {"wamp", m.features.thresholds.wamp},
                   {"ar_order", m.features.ar_order}};
  j["context_samples"] = m.context_samples;
  j["log_amplitude"] = m.log_amplitude;
  j["trained_on"] = m.trained_on;
  if (!m.adapted_from.empty()) j["adapted_from"] = m.adapted_from;
  json ci = json::object();
  for (const auto& [c, i] : m.class_intents.empty() ? default_map_for(m) : m.class_intents) ci[c] = i;
  j["class_intents"] = ci;
  j["provenance"] = {{"program", m.provenance.program},
                     {"version", m.provenance.version},
                     {"commit", m.provenance.commit},
                     {"created_utc", m.provenance.created_utc}};
  j["lda"] = json::parse(m.lda.to_json());
  if (m.knee_angle) {
    j["knee_angle"] = {{"target",
                        {{"quantity", "knee angle"},
                         {"unit", "deg"},
                         {"output_convention", "flexion_positive"},
                         {"channel", m.knee_angle_target.channel},
                         {"convention", models::angle_convention_name(m.knee_angle_target.convention)},
                         {"lowpass_hz", m.knee_angle_target.lowpass_hz},
                         {"lowpass_order", m.knee_angle_target.lowpass_order}}},
                       {"lead_samples", m.knee_angle_lead_samples},
                       {"trained_on", m.knee_angle_trained_on}};
    if (const auto* ridge = dynamic_cast<const models::RidgeRegressor*>(m.knee_angle.get()))
      j["knee_angle"]["ridge"] = json::parse(ridge->to_json());
    else if (const auto* trees = dynamic_cast<const models::EnvelopeTreeRegressor*>(m.knee_angle.get()))
      j["knee_angle"]["trees"] = trees->to_json();
    else
      j["knee_angle"]["network_file"] = m.knee_angle_network_file.filename().string();
  }
  return j;
}

Status save_pipeline_model(const PipelineModel& m, const fs::path& path) {
  if (m.knee_angle && !dynamic_cast<const models::RidgeRegressor*>(m.knee_angle.get()) &&
      !dynamic_cast<const models::EnvelopeTreeRegressor*>(m.knee_angle.get()) &&
      (m.knee_angle_network_file.empty() || m.knee_angle_network_file.parent_path() != path.parent_path()))
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "the knee-angle network must be saved next to the model first (knee_angle_network_file)");
  if (auto s = ensure_parent_dir(path); !s) return s;
  std::ofstream out(path, std::ios::trunc);
  out << pipeline_model_to_json(m).dump(1) << '\n';
  if (!out) return make_error(ErrorCode::io, path.string(), 0, "cannot be written");
  return {};
}

Result<PipelineModel> load_pipeline_model(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::io, path.string(), 0, "cannot be opened");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    return make_error(ErrorCode::parse, path.string(), 0, std::string("is not JSON: ") + e.what());
  }
  PipelineModel m;
  try {
    if (j.value("format", "") == "myoexo-pipeline-model") {
      auto lda = models::LdaClassifier::from_json(j.at("lda").dump(), path.string());
      if (!lda) return lda.error();
      m.lda = std::move(*lda);
      m.sample_rate_hz = j.at("sample_rate_hz").get<double>();
      m.channels = j.at("channels").get<std::vector<std::string>>();
      if (auto s = get_integer(j.at("filter"), "order", 0, 8, path, "filter.order", m.filter_order); !s) return s.error();
      m.band_low_hz = j.at("filter").at("low_hz").get<double>();
      m.band_high_hz = j.at("filter").at("high_hz").get<double>();
      if (j.contains("denoise")) {
        auto d = models::wavelet_stream_from_json(j.at("denoise"), path.string());
        if (!d) return d.error();
        m.denoise = *d;
      }
      if (auto s = get_integer(j, "window_len", 3, std::int64_t{1} << 24, path, "window_len", m.window_len); !s)
        return s.error();
      if (auto s = get_integer(j, "increment", 1, std::int64_t{1} << 24, path, "increment", m.increment); !s)
        return s.error();
      const json& f = j.at("features");
      m.features.names = f.at("names").get<std::vector<std::string>>();
      m.features.thresholds.zc = f.value("zc", 0.0);
      m.features.thresholds.ssc = f.value("ssc", 0.0);
      m.features.thresholds.wamp = f.value("wamp", 0.002);
      m.features.ar_order = 4;
      if (f.contains("ar_order"))
        if (auto s = get_integer(f, "ar_order", 1, 32, path, "features.ar_order", m.features.ar_order); !s)
          return s.error();
      // Absent in files written before the lda_context variant: the plain window-feature LDA.
      if (j.contains("context_samples")) {
        const json& c = j["context_samples"];
        if (!c.is_number_unsigned())
          return make_error(ErrorCode::invalid_argument, path.string(), 0,
                            "context_samples must be an integer in [0, 2^24], got " + c.dump());
        m.context_samples = c.get<std::size_t>();
      }
      if (j.contains("log_amplitude")) {
        if (!j["log_amplitude"].is_boolean())
          return make_error(ErrorCode::invalid_argument, path.string(), 0,
                            "log_amplitude must be true or false, got " + j["log_amplitude"].dump());
        m.log_amplitude = j["log_amplitude"].get<bool>();
      }
      m.trained_on = j.value("trained_on", std::vector<std::string>{});
      if (j.contains("adapted_from") && j["adapted_from"].is_string()) m.adapted_from = j["adapted_from"].get<std::string>();
      if (j.contains("signal_unit")) {
        if (!j["signal_unit"].is_string() || j["signal_unit"].get<std::string>().empty())
          return make_error(ErrorCode::invalid_argument, path.string(), 0,
                            "signal_unit must be a non-empty string (\"mV\", \"V\", \"uV\", ...), got " +
                                j["signal_unit"].dump());
        m.signal_unit = j["signal_unit"].get<std::string>();
      } else if (j.value("version", 1) >= 2) {
        // Version 1 files predate units and were all trained on millivolt readers; a later file names its unit.
        return make_error(ErrorCode::invalid_argument, path.string(), 0,
                          "names no signal_unit (the unit the model was trained in): refused rather than guessed");
      }
      if (j.contains("class_intents")) {
        const json& ci = j["class_intents"];
        if (!ci.is_object())
          return make_error(ErrorCode::invalid_argument, path.string(), 0,
                            "class_intents must map class names to intent names, got " + ci.dump());
        for (const auto& [c, i] : ci.items()) {
          if (!i.is_string())
            return make_error(ErrorCode::invalid_argument, path.string(), 0,
                              "class_intents[\"" + c + "\"] must be an intent name, got " + i.dump());
          m.class_intents.emplace_back(c, i.get<std::string>());
        }
      }
      if (j.contains("knee_angle")) {
        const json& k = j.at("knee_angle");
        if (k.contains("ridge")) {
          auto ridge = models::RidgeRegressor::from_json(k.at("ridge").dump(), path.string());
          if (!ridge) return ridge.error();
          m.knee_angle = std::make_shared<const models::RidgeRegressor>(std::move(*ridge));
        } else if (k.contains("trees")) {
          auto trees = models::EnvelopeTreeRegressor::from_json(k.at("trees"));
          if (!trees) return make_error(trees.error().code, path.string(), 0, trees.error().message());
          const std::size_t wl = trees->window_length();
          if (trees->channels() != m.channels.size() || wl < m.window_len || wl - m.window_len > m.context_samples)
            return make_error(ErrorCode::mismatch, path.string(), 0,
                              "knee_angle.trees read " + std::to_string(trees->channels()) + " channels x " +
                                  std::to_string(wl) + " samples; the model's stream has " +
                                  std::to_string(m.channels.size()) + " channels and keeps " +
                                  std::to_string(m.window_len) + " + " + std::to_string(m.context_samples) +
                                  " samples");
          m.knee_angle = std::make_shared<const models::EnvelopeTreeRegressor>(std::move(*trees));
        } else {
          const std::string name = k.at("network_file").get<std::string>();
          if (name.empty() || fs::path(name).filename().string() != name)
            return make_error(ErrorCode::invalid_argument, path.string(), 0,
                              "knee_angle.network_file must name a file next to the model, got '" + name + "'");
          m.knee_angle_network_file = path.parent_path() / name;
        }
        const json& t = k.at("target");
        if (t.value("unit", "") != "deg" || t.value("output_convention", "") != "flexion_positive")
          return make_error(ErrorCode::unsupported, path.string(), 0,
                            "knee_angle: only degrees, flexion positive, are supported (got " + t.dump() + ")");
        auto conv = models::parse_angle_convention(t.value("convention", std::string("detect")));
        if (!conv) return make_error(ErrorCode::parse, path.string(), 0, "knee_angle: " + conv.error().message());
        m.knee_angle_target.convention = *conv;
        m.knee_angle_target.channel = t.value("channel", std::string("FX"));
        m.knee_angle_target.lowpass_hz = t.value("lowpass_hz", 6.0);
        if (auto s = get_integer(t, "lowpass_order", 1, 8, path, "knee_angle.target.lowpass_order",
                                 m.knee_angle_target.lowpass_order);
            !s)
          return s.error();
        if (auto s = get_integer(k, "lead_samples", 0, std::int64_t{1} << 20, path, "knee_angle.lead_samples",
                                 m.knee_angle_lead_samples);
            !s)
          return s.error();
        m.knee_angle_trained_on = k.value("trained_on", std::vector<std::string>{});
      }
      if (j.contains("provenance") && j["provenance"].is_object()) {
        const json& p = j["provenance"];
        m.provenance.program = p.value("program", "");
        m.provenance.version = p.value("version", "");
        m.provenance.commit = p.value("commit", "");
        m.provenance.created_utc = p.value("created_utc", "");
      } else {
        m.provenance = Provenance{"", "", "", ""};
      }
    } else if (j.value("model", "") == "lda") {
      auto lda = models::LdaClassifier::from_json(j.dump(), path.string());
      if (!lda) return lda.error();
      m.lda = std::move(*lda);
      // Channels and features from the column names "<channel>_<feature>", in column order.
      std::vector<std::string> chans, feats;
      for (const auto& name : m.lda.input_names()) {
        const auto u = name.find('_');
        if (u == std::string::npos)
          return make_error(ErrorCode::invalid_argument, path.string(), 0,
                            "LDA feature name '" + name + "' is not <channel>_<feature>; save a pipeline model");
        const std::string c = name.substr(0, u), f = name.substr(u + 1);
        if (std::find(chans.begin(), chans.end(), c) == chans.end()) chans.push_back(c);
        if (chans.size() == 1) feats.push_back(f);
      }
      if (chans.empty())
        return make_error(ErrorCode::invalid_argument, path.string(), 0, "LDA model has no feature names");
      // The pipeline lays columns out channel-major (<ch0>_<f0>, <ch0>_<f1>, ..., <ch1>_<f0>, ...): refuse any
      // other order rather than feed columns to the wrong coefficients.
      std::size_t col = 0;
      for (const auto& c : chans)
        for (const auto& f : feats)
          if (col >= m.lda.input_names().size() || m.lda.input_names()[col++] != c + "_" + f)
            return make_error(ErrorCode::mismatch, path.string(), 0,
                              "LDA feature columns are not channel-major <channel>_<feature> with the same features "
                              "per channel (expected '" + c + "_" + f + "'); save a pipeline model instead");
      if (col != m.lda.input_names().size())
        return make_error(ErrorCode::mismatch, path.string(), 0, "LDA feature columns are not channels x features");
      m.channels = chans;
      m.features.names = feats;
      m.provenance = Provenance{"", "", "", ""};
    } else {
      return make_error(ErrorCode::parse, path.string(), 0,
                        "is neither a myoexo pipeline model nor an LDA model (no \"format\" or \"model\" key)");
    }
  } catch (const json::exception& e) {
    return make_error(ErrorCode::parse, path.string(), 0, std::string("bad pipeline model: ") + e.what());
  }
  // A model file is input: bound what it may ask for before anything is sized from it.
  if (auto s = validate_model_geometry(m, path.string()); !s) return s.error();
  m.features.sample_rate_hz = m.sample_rate_hz;
  if (auto ci = model_class_intents(m); !ci)
    return make_error(ErrorCode::invalid_argument, path.string(), 0, ci.error().reason);
  return m;
}

const std::vector<std::string>& model_class_names(const PipelineModel& m) noexcept {
  return m.network ? m.network->class_names() : m.lda.class_names();
}


// The model's causal filter at `fs_hz` (none when filter_order is 0).
Result<realtime::PipelineSpec> pipeline_spec_for(const PipelineModel& m, double fs_hz,
                                                 const realtime::PostProcessOptions& post) {
  realtime::PipelineSpec ps;
  ps.sample_rate_hz = fs_hz;
  ps.n_channels = m.channels.size();
  auto d = design_model_filter(m, fs_hz);
  if (!d) return d.error();
  ps.filter = std::move(*d);
  ps.denoise = m.denoise;
  ps.window_len = m.window_len;
  ps.increment = m.increment;
  ps.features = m.features;
  ps.features.sample_rate_hz = fs_hz;
  if (!m.network) {  // networks take raw windows: no feature blocks
    ps.context_samples = m.context_samples;
    ps.log_amplitude_features = m.log_amplitude;
  }
  ps.post = post;
  if (!m.knee_angle && !m.knee_angle_network_file.empty())
    return make_error(ErrorCode::unsupported, m.knee_angle_network_file.string(), 0,
                      "the model's knee-angle network is not loaded (load the model with the app's loader)");
  ps.knee_angle = m.knee_angle;
  auto intents = model_class_intents(m);
  if (!intents) return intents.error();
  ps.class_intents = std::move(*intents);
  return ps;
}

Result<std::optional<dsp::SosDesign>> design_model_filter(const PipelineModel& m, double fs_hz) {
  if (m.filter_order <= 0 || m.filter_kind.empty()) return std::optional<dsp::SosDesign>{};
  Result<dsp::SosDesign> d = m.filter_kind == "highpass"
                                 ? dsp::design_butterworth(dsp::FilterKind::highpass, m.filter_order, m.band_low_hz, fs_hz)
                             : m.filter_kind == "lowpass"
                                 ? dsp::design_butterworth(dsp::FilterKind::lowpass, m.filter_order, m.band_high_hz, fs_hz)
                                 : dsp::design_bandpass(m.filter_order, m.band_low_hz, m.band_high_hz, fs_hz);
  if (!d) return d.error();
  return std::optional<dsp::SosDesign>(std::move(*d));
}

// One line for plot titles: "band-passed 20-450 Hz", "high-passed 20 Hz", "unfiltered".
std::string describe_model_filter(const PipelineModel& m) {
  std::string band = "unfiltered";
  if (m.filter_order > 0 && !m.filter_kind.empty())
    band = m.filter_kind == "highpass"  ? "high-passed " + format_double(m.band_low_hz) + " Hz"
           : m.filter_kind == "lowpass" ? "low-passed " + format_double(m.band_high_hz) + " Hz"
                                        : "band-passed " + format_double(m.band_low_hz) + "-" +
                                              format_double(m.band_high_hz) + " Hz";
  if (m.denoise)
    band += ", wavelet-denoised (delay " +
            format_double(1000.0 * double(m.denoise->delay_samples()) / m.sample_rate_hz) + " ms)";
  return band;
}

// The model's channels of `rec`, causally filtered, as a new recording (label kept).
Result<io::Recording> prepare_channels(const io::Recording& rec, const PipelineModel& m) {
  io::Recording out;
  out.sample_rate_hz = rec.sample_rate_hz;
  out.n_samples = rec.n_samples;
  out.label = rec.label;
  out.subject_id = rec.subject_id;
  out.source_path = rec.source_path;
  for (const auto& name : m.channels) {
    const int c = rec.channel_index(name);
    if (c < 0)
      return make_error(ErrorCode::invalid_argument, rec.source_path.string(), 0,
                        "has no channel '" + name + "' (the model needs it)");
    out.channel_names.push_back(name);
    out.channel_units.push_back(rec.channel_units.size() > std::size_t(c) ? rec.channel_units[std::size_t(c)] : "");
    auto ch = rec.channel(std::size_t(c));
    out.samples.insert(out.samples.end(), ch.begin(), ch.end());
  }
  auto design = design_model_filter(m, rec.sample_rate_hz);
  if (!design) return design.error();
  if (auto& d = *design) {
    std::vector<std::size_t> all(out.channel_names.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    auto filter = dsp::SosFilter::create(*d, all.size());
    if (!filter) return filter.error();
    if (auto s = filter->process_channel_major(out.samples, out.samples, out.n_samples); !s) return s.error();
  }
  if (m.denoise) {
    auto w = dsp::WaveletDenoiseStream::create(*m.denoise, out.channel_names.size());
    if (!w) return w.error();
    if (auto s = w->process_channel_major(out.samples, out.samples, out.n_samples); !s) return s.error();
  }
  return out;
}


PipelineModel lda_context_model(std::size_t context_samples) {
  PipelineModel m;
  if (context_samples == 0) return m;
  // The feature list evaluate's lda_context uses (app/evaluate.cpp); make_feature_spec gives thresholds 0.
  m.features = features::make_feature_spec("MAV,WL,ZC,SSC,RMS,AR").value();
  m.context_samples = context_samples;
  m.log_amplitude = true;
  return m;
}

Result<std::string> training_signal_unit(std::span<const io::Recording> train, const std::vector<std::string>& channels) {
  // A model is trained in the unit of its training data: every channel of every labelled recording must agree,
  // and a recording without a unit cannot say what the model will expect live.
  std::string unit;
  for (const auto& r : train) {
    if (r.label.empty() && r.sample_labels.empty()) continue;
    for (const auto& name : channels) {
      const int c = r.channel_index(name);
      if (c < 0) continue;  // a missing channel is the caller's error to name
      const std::string u = std::size_t(c) < r.channel_units.size() ? r.channel_units[std::size_t(c)] : std::string();
      if (u.empty())
        return make_error(ErrorCode::mismatch, r.source_path.string(), 0,
                          "channel " + name + " has no unit; a model must know the unit it is trained in");
      if (unit.empty()) unit = u;
      if (u != unit)
        return make_error(ErrorCode::mismatch, r.source_path.string(), 0,
                          "channel " + name + " is in '" + u + "', other training data in '" + unit + "'");
    }
  }
  return unit;
}

namespace {

/// Every window of every recording `use` accepts, as the live pipeline computes its feature row (the lda_context
/// variant: window block | context block clipped at the recording start; else the window's features), rows with
/// a non-finite value skipped: on_row(recording, index in train, window start, row). Fills `cols` and the files
/// used. Errors: invalid_argument (rate mismatch, missing channel).
Status for_each_training_row(
    std::span<const io::Recording> train, const PipelineModel& m, const std::function<bool(const io::Recording&)>& use,
    const std::function<void(const io::Recording&, std::size_t, std::size_t, std::span<const double>)>& on_row,
    std::vector<std::string>& cols, std::vector<std::string>& files) {
  const bool variant = m.context_samples > 0 || m.log_amplitude;
  std::optional<features::ContextFeatureExtractor> cfx;
  if (variant) {
    auto c = features::ContextFeatureExtractor::create(m.features, m.channels.size(), m.window_len, m.increment,
                                                       m.context_samples, m.log_amplitude);
    if (!c) return c.error();
    cfx.emplace(std::move(*c));
  }
  auto finite = [](std::span<const double> row) {
    return std::all_of(row.begin(), row.end(), [](double v) { return std::isfinite(v); });
  };
  for (std::size_t ri = 0; ri < train.size(); ++ri) {
    const io::Recording& r = train[ri];
    if (!use(r)) continue;
    if (std::abs(r.sample_rate_hz - m.sample_rate_hz) > 1e-9)
      return make_error(ErrorCode::invalid_argument, r.source_path.string(), 0,
                        "sample rate " + format_double(r.sample_rate_hz) + " Hz differs from the model's " +
                            format_double(m.sample_rate_hz) + " Hz");
    auto p = prepare_channels(r, m);
    if (!p) return p.error();
    if (p->n_samples < m.window_len) continue;
    const std::vector<std::size_t> starts = dsp::window_starts(p->n_samples, m.window_len, m.increment);
    if (cfx) {
      cols = cfx->column_names(m.channels);
      std::vector<double> row(cfx->n_columns());
      for (std::size_t s : starts) {
        features::ComputeStatus status = features::ComputeStatus::ok;
        if (!cfx->compute(p->samples.data() + s, p->n_samples, s, row.data(), status) ||
            status != features::ComputeStatus::ok || !finite(row))
          continue;
        on_row(r, ri, s, row);
      }
    } else {
      auto fm = features::extract_features(*p, m.features, m.window_len, m.increment);
      if (!fm) return fm.error();
      cols = fm->column_names;
      for (std::size_t i = 0; i < fm->n_rows() && i < starts.size(); ++i)
        if (finite(fm->row(i))) on_row(r, ri, starts[i], fm->row(i));
    }
    files.push_back(r.source_path.filename().string());
  }
  return {};
}

}  // namespace

namespace {

// The class names the labelled recordings of `train` use: the files' labels and the per-sample label names that
// occur (a cue-labelled recording), sorted.
std::vector<std::string> recording_classes(std::span<const io::Recording> train) {
  std::set<std::string> label_set;
  for (const auto& r : train) {
    if (!r.label.empty()) label_set.insert(r.label);
    for (int id : r.sample_labels)
      if (id >= 0 && std::size_t(id) < r.label_names.size()) label_set.insert(r.label_names[std::size_t(id)]);
  }
  return {label_set.begin(), label_set.end()};
}

// The feature rows of every labelled window of `train` as the live pipeline computes them, with the index of
// the window's class in `classes` (every class of the recordings must be there). Sets m's signal unit and
// trained_on. Windows across a change of label, or unlabelled, are left out.
Status labelled_rows(std::span<const io::Recording> train, PipelineModel& m, const std::vector<std::string>& classes,
                     std::vector<double>& X, std::vector<int>& y, std::vector<std::string>& cols) {
  const auto window_class = [&](const io::Recording& r, std::size_t s) -> int {
    if (!r.label.empty()) return int(std::find(classes.begin(), classes.end(), r.label) - classes.begin());
    if (s + m.window_len > r.sample_labels.size()) return -1;
    const int id = r.sample_labels[s];
    for (std::size_t i = s + 1; i < s + m.window_len; ++i)
      if (r.sample_labels[i] != id) return -1;
    if (id < 0 || std::size_t(id) >= r.label_names.size()) return -1;
    return int(std::find(classes.begin(), classes.end(), r.label_names[std::size_t(id)]) - classes.begin());
  };
  m.features.sample_rate_hz = m.sample_rate_hz;
  auto unit = training_signal_unit(train, m.channels);
  if (!unit) return unit.error();
  if (!unit->empty()) m.signal_unit = *unit;
  m.trained_on.clear();
  auto rows = for_each_training_row(
      train, m, [](const io::Recording& r) { return !r.label.empty() || !r.sample_labels.empty(); },
      [&](const io::Recording& r, std::size_t, std::size_t s, std::span<const double> row) {
        const int label = window_class(r, s);
        if (label < 0) return;
        X.insert(X.end(), row.begin(), row.end());
        y.push_back(label);
      },
      cols, m.trained_on);
  if (!rows) return rows.error();
  if (y.empty()) return make_error(ErrorCode::empty, "no training windows");
  return {};
}

}  // namespace

Result<PipelineModel> train_pipeline_model(std::span<const io::Recording> train, PipelineModel m,
                                           const models::LdaOptions& lda_options) {
  const std::vector<std::string> classes = recording_classes(train);
  if (classes.size() < 2)
    return make_error(ErrorCode::invalid_argument, "training needs recordings of at least two classes (found " +
                                                       std::to_string(classes.size()) + ")");
  std::vector<double> X;
  std::vector<int> y;
  std::vector<std::string> cols;
  if (auto s = labelled_rows(train, m, classes, X, y, cols); !s) return s.error();
  auto lda = models::LdaClassifier::fit(X.data(), y.size(), cols.size(), y, classes, cols, lda_options);
  if (!lda) return lda.error();
  m.lda = std::move(*lda);
  m.provenance = current_provenance();
  return m;
}

Result<PipelineModel> adapt_pipeline_model(std::span<const io::Recording> train, PipelineModel m,
                                           double prior_windows) {
  if (m.network)
    return make_error(ErrorCode::invalid_argument, "adapting the discriminant needs an LDA pipeline model; this "
                                                   "model is a network (fine-tune it)");
  const std::vector<std::string>& classes = m.lda.class_names();
  for (const auto& c : recording_classes(train))
    if (std::find(classes.begin(), classes.end(), c) == classes.end())
      return make_error(ErrorCode::mismatch, "the person's recordings have class '" + c + "', which the model does "
                                             "not decide");
  const std::string unit_before = m.signal_unit;
  std::vector<double> X;
  std::vector<int> y;
  std::vector<std::string> cols;
  if (auto s = labelled_rows(train, m, classes, X, y, cols); !s) return s.error();
  if (m.signal_unit != unit_before)
    return make_error(ErrorCode::mismatch, "the person's recordings are in " + m.signal_unit + "; the model was "
                                           "trained in " + unit_before);
  if (cols != m.lda.input_names())
    return make_error(ErrorCode::mismatch, "the person's feature rows do not have the model's columns");
  auto lda = m.lda.adapt(X.data(), y.size(), cols.size(), y, prior_windows);
  if (!lda) return lda.error();
  m.lda = std::move(*lda);
  m.provenance = current_provenance();
  return m;
}

Result<PipelineModel> train_knee_angle_regressor(std::span<const io::Recording> train, PipelineModel m,
                                                 const KneeAngleTraining& opt) {
  if (m.network)
    return make_error(ErrorCode::invalid_argument, "a knee-angle regressor reads the feature row of an LDA pipeline "
                                                   "model; this model is a network");
  m.features.sample_rate_hz = m.sample_rate_hz;
  const std::size_t lead = opt.lead_samples;
  std::vector<double> X, y;
  std::vector<std::string> cols, files;
  std::vector<models::KneeAngleTarget> targets(train.size());
  for (std::size_t i = 0; i < train.size(); ++i) {
    auto t = models::knee_angle_target(train[i], opt.target);
    if (!t) return t.error();
    targets[i] = std::move(*t);
  }
  auto rows = for_each_training_row(
      train, m, [](const io::Recording&) { return true; },
      [&](const io::Recording&, std::size_t ri, std::size_t s, std::span<const double> row) {
        const std::size_t at = s + m.window_len - 1 + lead;
        if (at >= targets[ri].angle_deg.size()) return;
        X.insert(X.end(), row.begin(), row.end());
        y.push_back(targets[ri].angle_deg[at]);
      },
      cols, files);
  if (!rows) return rows.error();
  if (y.size() < 2) return make_error(ErrorCode::empty, "knee angle: no training windows");
  auto ridge = models::RidgeRegressor::fit(X.data(), y.size(), cols.size(), y, cols, opt.ridge);
  if (!ridge) return ridge.error();
  m.knee_angle = std::make_shared<const models::RidgeRegressor>(std::move(*ridge));
  m.knee_angle_target = opt.target;
  m.knee_angle_lead_samples = lead;
  m.knee_angle_trained_on = std::move(files);
  return m;
}

Result<std::vector<io::Recording>> load_training_recordings(const std::vector<fs::path>& paths) {
  std::vector<io::Recording> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      auto ds = io::load_dataset(p);
      if (!ds) return ds.error();
      std::set<fs::path> dup_second;
      for (const auto& d : ds->duplicates) dup_second.insert(d.second);
      for (auto& r : ds->recordings)
        if (!dup_second.count(r.source_path)) out.push_back(std::move(r));
    } else {
      auto r = io::read_recording(p);
      if (!r) return r.error();
      out.push_back(std::move(*r));
    }
  }
  return out;
}

}  // namespace myoexo::session
