// `myoexo run`: the whole chain in one simulated time base (see app/run.hpp), plus the pipeline-model file.
#include "app/run.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "app/common.hpp"
#include "control/control.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/windowing.hpp"
#include "hw/mock_exo.hpp"
#include "io/io.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/postprocess.hpp"
#include "realtime/replay_source.hpp"
#include "realtime/serial_source.hpp"
#include "realtime/timing.hpp"
#include "report/report.hpp"
#ifdef MYOEXO_HAVE_SIM
#include "sim/mujoco_exo.hpp"
#endif
#ifdef MYOEXO_HAVE_TORCH
#include "models/torch/torch_classifier.hpp"
#endif

namespace myoexo::app {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- pipeline model file ------------------------------------------------------------------------------------

json pipeline_model_to_json(const PipelineModel& m) {
  json j;
  j["format"] = "myoexo-pipeline-model";
  j["version"] = 1;
  j["sample_rate_hz"] = m.sample_rate_hz;
  j["channels"] = m.channels;
  j["filter"] = {{"order", m.filter_order}, {"low_hz", m.band_low_hz}, {"high_hz", m.band_high_hz}};
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
  j["lda"] = json::parse(m.lda.to_json());
  return j;
}

Status save_pipeline_model(const PipelineModel& m, const fs::path& path) {
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
      m.filter_order = j.at("filter").at("order").get<int>();
      m.band_low_hz = j.at("filter").at("low_hz").get<double>();
      m.band_high_hz = j.at("filter").at("high_hz").get<double>();
      m.window_len = j.at("window_len").get<std::size_t>();
      m.increment = j.at("increment").get<std::size_t>();
      const json& f = j.at("features");
      m.features.names = f.at("names").get<std::vector<std::string>>();
      m.features.thresholds.zc = f.value("zc", 0.0);
      m.features.thresholds.ssc = f.value("ssc", 0.0);
      m.features.thresholds.wamp = f.value("wamp", 0.002);
      m.features.ar_order = f.value("ar_order", 4);
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
    } else {
      return make_error(ErrorCode::parse, path.string(), 0,
                        "is neither a myoexo pipeline model nor an LDA model (no \"format\" or \"model\" key)");
    }
  } catch (const json::exception& e) {
    return make_error(ErrorCode::parse, path.string(), 0, std::string("bad pipeline model: ") + e.what());
  }
  // A model file is input: bound what it may ask for before anything is sized from it.
  if (!(m.sample_rate_hz > 0.0 && m.sample_rate_hz < 1e6))
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "sample_rate_hz must be in (0, 1e6), got " + std::to_string(m.sample_rate_hz));
  if (m.window_len < 3 || m.window_len > (std::size_t{1} << 24) || m.increment < 1 || m.increment > m.window_len)
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "window_len must be in [3, 2^24] and increment in [1, window_len], got " +
                          std::to_string(m.window_len) + " / " + std::to_string(m.increment));
  if (m.context_samples > (std::size_t{1} << 24) ||
      (m.context_samples + m.increment - 1) / m.increment + 1 > features::kMaxContextLengths)
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "context_samples must be in [0, 2^24] and at most " +
                          std::to_string(features::kMaxContextLengths - 1) + " increments, got " +
                          std::to_string(m.context_samples) + " (increment " + std::to_string(m.increment) + ")");
  m.features.sample_rate_hz = m.sample_rate_hz;
  return m;
}

const std::vector<std::string>& model_class_names(const PipelineModel& m) noexcept {
  return m.network ? m.network->class_names() : m.lda.class_names();
}

Result<ModelFileKind> detect_model_file_kind(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, path.string(), 0, "cannot be opened");
  char head[4] = {0, 0, 0, 0};
  in.read(head, 4);
  if (in.gcount() == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == '\x03' && head[3] == '\x04')
    return ModelFileKind::torch;
  // JSON: the first non-blank byte opens an object (a UTF-8 byte-order mark is tolerated).
  in.clear();
  in.seekg(0);
  std::string start(64, '\0');
  in.read(start.data(), 64);
  start.resize(static_cast<std::size_t>(in.gcount()));
  std::size_t i = start.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  while (i < start.size() && std::isspace(static_cast<unsigned char>(start[i]))) ++i;
  if (i < start.size() && start[i] == '{') return ModelFileKind::pipeline_json;
  return make_error(ErrorCode::parse, path.string(), 0,
                    "is neither a LibTorch model file (a zip archive, as written by `myoexo train`) nor a "
                    "pipeline-model / LDA JSON file");
}

Result<PipelineModel> load_torch_model(const fs::path& path) {
#ifdef MYOEXO_HAVE_TORCH
  auto net = models::TorchClassifier::load(path);
  if (!net) return net.error();
  const models::NetworkSpec& ns = net->spec();
  PipelineModel m;
  m.sample_rate_hz = ns.input.sample_rate_hz;
  m.channels = ns.input.channel_names;
  m.window_len = ns.input.window_length;
  m.increment = ns.input.window_increment;
  const models::FilterSettings& f = ns.input.filter;
  m.filter_kind = f.kind;
  m.filter_order = f.kind.empty() ? 0 : f.order;
  m.band_low_hz = f.low_hz;
  m.band_high_hz = f.high_hz;
  if (!f.kind.empty() && f.kind != "bandpass" && f.kind != "highpass" && f.kind != "lowpass")
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "the network's filter kind '" + f.kind + "' is not one the stream runs (bandpass, highpass, "
                      "lowpass or none)");
  m.network_trained_zero_phase = !f.kind.empty() && !f.causal;
  m.network_arch = models::arch_kind_name(ns.arch.kind);
  m.network_file = path;
  if (m.channels.empty())
    return make_error(ErrorCode::invalid_argument, path.string(), 0, "the network names no input channels");
  if (!(m.sample_rate_hz > 0.0 && m.sample_rate_hz < 1e6))
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "sample_rate_hz must be in (0, 1e6), got " + std::to_string(m.sample_rate_hz));
  if (m.window_len < 3 || m.window_len > (std::size_t{1} << 24) || m.increment < 1 || m.increment > m.window_len)
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "window_length must be in [3, 2^24] and window_increment in [1, window_length], got " +
                          std::to_string(m.window_len) + " / " + std::to_string(m.increment));
  m.features.sample_rate_hz = m.sample_rate_hz;
  m.network = std::make_shared<models::TorchClassifier>(std::move(*net));
  return m;
#else
  return make_error(ErrorCode::unsupported, path.string(), 0,
                    "is a LibTorch model file, but this myoexo was built without LibTorch (MYOEXO_WITH_TORCH "
                    "and libtorch-dev): use a pipeline-model JSON (--train-on ... --save-model) instead");
#endif
}

Result<PipelineModel> load_run_model(const fs::path& path) {
  auto kind = detect_model_file_kind(path);
  if (!kind) return kind.error();
  return *kind == ModelFileKind::torch ? load_torch_model(path) : load_pipeline_model(path);
}

std::vector<std::pair<std::string, std::string>> intent_aliases() {
  return {{"gait", "gait"}, {"standing", "lift"}, {"sitting", "lower"}};
}

namespace {

// The model's causal filter at `fs_hz` (none when filter_order is 0).
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
  if (m.filter_order <= 0 || m.filter_kind.empty()) return "unfiltered";
  if (m.filter_kind == "highpass") return "high-passed " + format_double(m.band_low_hz) + " Hz";
  if (m.filter_kind == "lowpass") return "low-passed " + format_double(m.band_high_hz) + " Hz";
  return "band-passed " + format_double(m.band_low_hz) + "-" + format_double(m.band_high_hz) + " Hz";
}

// The pipeline owns its classifier; a model's network is shared with the PipelineModel (which stays const),
// so the pipeline gets this forwarding handle. Not copyable state: one run at a time uses a model.
class SharedClassifier final : public models::Classifier {
 public:
  explicit SharedClassifier(std::shared_ptr<models::Classifier> c) : c_(std::move(c)) {}
  std::size_t n_inputs() const noexcept override { return c_->n_inputs(); }
  std::size_t n_classes() const noexcept override { return c_->n_classes(); }
  const std::vector<std::string>& class_names() const noexcept override { return c_->class_names(); }
  const std::vector<std::string>& input_names() const noexcept override { return c_->input_names(); }
  models::InputKind input_kind() const noexcept override { return c_->input_kind(); }
  Status reserve(std::size_t max_rows) override { return c_->reserve(max_rows); }
  Status predict_proba(const double* in, std::size_t rows, std::size_t cols, double* out) override {
    return c_->predict_proba(in, rows, cols, out);
  }

 private:
  std::shared_ptr<models::Classifier> c_;
};

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
    if (auto s = filter_channels(out, *d, all, false); !s) return s.error();
  }
  return out;
}

}  // namespace

PipelineModel lda_context_model(std::size_t context_samples) {
  PipelineModel m;
  if (context_samples == 0) return m;
  // The feature list evaluate's lda_context uses (app/evaluate.cpp); make_feature_spec gives thresholds 0.
  m.features = features::make_feature_spec("MAV,WL,ZC,SSC,RMS,AR").value();
  m.context_samples = context_samples;
  m.log_amplitude = true;
  return m;
}

Result<PipelineModel> train_pipeline_model(std::span<const io::Recording> train, PipelineModel m) {
  std::set<std::string> label_set;
  for (const auto& r : train)
    if (!r.label.empty()) label_set.insert(r.label);
  if (label_set.size() < 2)
    return make_error(ErrorCode::invalid_argument, "training needs recordings of at least two classes (found " +
                                                       std::to_string(label_set.size()) + ")");
  const std::vector<std::string> classes(label_set.begin(), label_set.end());
  m.features.sample_rate_hz = m.sample_rate_hz;
  // The lda_context variant: rows exactly as the stream makes them (window block | context block clipped at
  // the recording start), from the one shared definition.
  const bool variant = m.context_samples > 0 || m.log_amplitude;
  std::optional<features::ContextFeatureExtractor> cfx;
  if (variant) {
    auto c = features::ContextFeatureExtractor::create(m.features, m.channels.size(), m.window_len, m.increment,
                                                       m.context_samples, m.log_amplitude);
    if (!c) return c.error();
    cfx.emplace(std::move(*c));
  }
  std::vector<double> X;
  std::vector<int> y;
  std::vector<std::string> cols;
  m.trained_on.clear();
  for (const auto& r : train) {
    if (r.label.empty()) continue;
    if (std::abs(r.sample_rate_hz - m.sample_rate_hz) > 1e-9)
      return make_error(ErrorCode::invalid_argument, r.source_path.string(), 0,
                        "sample rate " + format_double(r.sample_rate_hz) + " Hz differs from the model's " +
                            format_double(m.sample_rate_hz) + " Hz");
    auto p = prepare_channels(r, m);
    if (!p) return p.error();
    if (p->n_samples < m.window_len) continue;
    const int label = int(std::find(classes.begin(), classes.end(), r.label) - classes.begin());
    if (cfx) {
      cols = cfx->column_names(m.channels);
      std::vector<double> row(cfx->n_columns());
      for (std::size_t s : dsp::window_starts(p->n_samples, m.window_len, m.increment)) {
        features::ComputeStatus status = features::ComputeStatus::ok;
        if (!cfx->compute(p->samples.data() + s, p->n_samples, s, row.data(), status) ||
            status != features::ComputeStatus::ok ||
            !std::all_of(row.begin(), row.end(), [](double v) { return std::isfinite(v); }))
          continue;
        X.insert(X.end(), row.begin(), row.end());
        y.push_back(label);
      }
      m.trained_on.push_back(r.source_path.filename().string());
      continue;
    }
    auto fm = features::extract_features(*p, m.features, m.window_len, m.increment);
    if (!fm) return fm.error();
    cols = fm->column_names;
    for (std::size_t i = 0; i < fm->n_rows(); ++i) {
      auto row = fm->row(i);
      if (!std::all_of(row.begin(), row.end(), [](double v) { return std::isfinite(v); })) continue;
      X.insert(X.end(), row.begin(), row.end());
      y.push_back(label);
    }
    m.trained_on.push_back(r.source_path.filename().string());
  }
  if (y.empty()) return make_error(ErrorCode::empty, "no training windows");
  auto lda = models::LdaClassifier::fit(X.data(), y.size(), cols.size(), y, classes, cols);
  if (!lda) return lda.error();
  m.lda = std::move(*lda);
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

// ---- the chain ----------------------------------------------------------------------------------------------

namespace {

Result<realtime::FaultEvent> parse_fault(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (true) {
    const auto c = text.find(':', pos);
    parts.push_back(text.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::invalid_argument,
                      "--fault '" + text + "': " + why + " (expected KIND:START_S:DURATION_S[:CHANNEL])");
  };
  if (parts.size() < 3 || parts.size() > 4) return bad("wrong number of fields");
  realtime::FaultEvent ev;
  bool found = false;
  for (std::size_t k = 0; k < realtime::kFaultKindCount; ++k)
    if (parts[0] == realtime::fault_kind_name(realtime::FaultKind(k))) ev.kind = realtime::FaultKind(k), found = true;
  if (!found) return bad("unknown kind '" + parts[0] + "'");
  char* end = nullptr;
  ev.start_s = std::strtod(parts[1].c_str(), &end);
  if (parts[1].empty() || *end || !(ev.start_s >= 0)) return bad("bad start");
  ev.duration_s = std::strtod(parts[2].c_str(), &end);
  if (parts[2].empty() || *end || !(ev.duration_s > 0)) return bad("bad duration");
  if (parts.size() == 4) {
    const long ch = std::strtol(parts[3].c_str(), &end, 10);
    if (parts[3].empty() || *end || ch < -1) return bad("bad channel");
    ev.channel = int(ch);
  }
  return ev;
}

struct Quantiles {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
  std::size_t count = 0;
};
Quantiles quantiles(std::vector<double> v) {
  Quantiles q;
  q.count = v.size();
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, std::size_t(std::ceil(p * double(v.size()))) - (p > 0))]; };
  q.p50 = at(0.5);
  q.p99 = at(0.99);
  q.max = v.back();
  double s = 0;
  for (double x : v) s += x;
  q.mean = s / double(v.size());
  return q;
}
json summary_us(const realtime::DurationSummary& d) {
  return {{"count", d.count},
          {"p50_us", d.p50_s * 1e6},
          {"p99_us", d.p99_s * 1e6},
          {"max_us", d.max_s * 1e6},
          {"mean_us", d.mean_s * 1e6}};
}

// One control tick's log row.
struct TickRow {
  double t_s;
  control::IntentLabel decision;
  double confidence;
  control::IntentLabel active;
  control::SupervisorMode mode;
  std::array<double, 2> desired, setpoint, q, tau;
  std::uint32_t sensor_faults;
  std::uint32_t new_events;
  double decision_delay_s;  // NaN when no decision was delivered at this tick
};

// Extends the y range by a third above the data so the legend (top right) does not cover curves.
void leave_legend_room(report::LinePlot& p) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& sr : p.series)
    for (double v : sr.y)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(hi > lo)) return;
  p.y_min = lo - 0.05 * (hi - lo);
  p.y_max = hi + 0.45 * (hi - lo);
}

// Every n-th value (plots of long runs stay small).
template <typename F>
std::vector<double> every(std::size_t n, std::size_t stride, F f) {
  std::vector<double> v;
  for (std::size_t i = 0; i < n; i += stride) v.push_back(f(i));
  return v;
}

}  // namespace

Result<json> run_chain(const Context& ctx, const RunCommandOptions& opt, const PipelineModel& model) {
  using namespace control;
  if (opt.chunk_frames == 0) return make_error(ErrorCode::invalid_argument, "--chunk must be >= 1");
  if (!(opt.control_hz >= 100 && opt.control_hz <= 5000))
    return make_error(ErrorCode::invalid_argument, "--control-hz must be in [100, 5000]");
  const bool live = !opt.port.empty();
  std::unique_ptr<realtime::EmgSource> source;
  realtime::ReplaySource* replay = nullptr;  // the replay's stats and faults (null when live)
  const std::size_t nch = model.channels.size();
  double fs_hz = model.sample_rate_hz;
  std::optional<io::Recording> filtered;  // EMG for the plot
  std::vector<double> goniometer;
  double rec_duration_s = opt.seconds;
  std::string rec_name, rec_label, rec_subject;
  double full_scale = 1.0;
  if (live) {
    if (!(opt.seconds > 0)) return make_error(ErrorCode::invalid_argument, "--port needs --seconds > 0");
    if (!opt.faults.empty() || opt.random_faults > 0)
      return make_error(ErrorCode::invalid_argument, "--fault/--random-faults apply to --replay only");
    realtime::SerialOptions so;
    so.port = opt.port;
    so.baud = opt.baud;
    so.n_channels = nch;
    so.sample_rate_hz = opt.port_rate_hz;
    so.channel_names = model.channels;  // the board's pins, in the model's channel order
    auto ser = realtime::SerialSource::create(so);
    if (!ser) return ser.error();
    source = std::make_unique<realtime::SerialSource>(std::move(*ser));
    fs_hz = opt.port_rate_hz;
    full_scale = 1023.0 * so.volts_per_code;  // 10-bit codes
    rec_name = opt.port;
  } else {
    auto rec_r = io::read_recording(opt.replay);
    if (!rec_r) return rec_r.error();
    io::Recording rec = std::move(*rec_r);
    fs_hz = rec.sample_rate_hz;
    {
      // Every channel the model needs, named at once (a network file names its channels; a recording from
      // another montage must not be fed to it in the wrong order or with a channel missing).
      std::string missing, have;
      for (const auto& name : model.channels)
        if (rec.channel_index(name) < 0) missing += (missing.empty() ? "" : ", ") + name;
      if (!missing.empty()) {
        for (const auto& name : rec.channel_names) have += (have.empty() ? "" : ", ") + name;
        std::string need;
        for (const auto& name : model.channels) need += (need.empty() ? "" : ", ") + name;
        return make_error(ErrorCode::mismatch, rec.source_path.string(), 0,
                          "lacks channel(s) " + missing + " that the model needs (model channels, in order: " +
                              need + "; the recording has: " + have + ")");
      }
    }
    auto f = prepare_channels(rec, model);  // for the EMG plot (before any injected fault)
    if (!f) return f.error();
    filtered = std::move(*f);
    full_scale = 0;
    for (const auto& name : model.channels)
      for (double x : rec.channel(std::size_t(rec.channel_index(name))))
        if (std::isfinite(x)) full_scale = std::max(full_scale, std::abs(x));
    if (!(full_scale > 0)) full_scale = 1.0;
    const int fx = rec.channel_index("FX");
    if (fx >= 0) {
      auto c = rec.channel(std::size_t(fx));
      goniometer.assign(c.begin(), c.end());
    }
    rec_duration_s = rec.duration_s();
    rec_name = rec.source_path.filename().string();
    rec_label = rec.label;
    rec_subject = rec.subject_id;

    realtime::ReplayOptions ro;
    ro.chunk_frames = opt.chunk_frames;
    ro.pace = opt.realtime ? realtime::ReplayPace::realtime : realtime::ReplayPace::fast;
    ro.channels = model.channels;
    for (const auto& fs_text : opt.faults) {
      auto ev = parse_fault(fs_text);
      if (!ev) return ev.error();
      if (ev->channel >= int(nch))
        return make_error(ErrorCode::invalid_argument, "--fault '" + fs_text + "': channel " +
                                                           std::to_string(ev->channel) + " >= " + std::to_string(nch) +
                                                           " streamed channels");
      // A fault must lie inside the recording: an unbounded stall would otherwise make the replay tick (and log)
      // for as long as the stall lasts.
      if (ev->start_s + ev->duration_s > rec_duration_s)
        return make_error(ErrorCode::invalid_argument, "--fault '" + fs_text + "': ends at " +
                                                           format_double(ev->start_s + ev->duration_s) +
                                                           " s, after the recording's " +
                                                           format_double(rec_duration_s) + " s");
      ro.faults.push_back(*ev);
    }
    if (opt.random_faults > 0) {
      realtime::RandomFaultOptions rf;
      rf.events_per_kind = opt.random_faults;
      auto more = realtime::make_random_faults(rec_duration_s, nch, opt.fault_seed, rf);
      ro.faults.insert(ro.faults.end(), more.begin(), more.end());
    }
    auto src_r = realtime::ReplaySource::create(std::move(rec), ro);
    if (!src_r) return src_r.error();
    auto owned = std::make_unique<realtime::ReplaySource>(std::move(*src_r));
    replay = owned.get();
    source = std::move(owned);
  }
  if (std::abs(fs_hz - model.sample_rate_hz) > 1e-6 * model.sample_rate_hz)
    return make_error(ErrorCode::mismatch, rec_name + " is sampled at " + format_double(fs_hz) + " Hz, the model at " +
                                               format_double(model.sample_rate_hz) + " Hz");
  realtime::EmgSource& src = *source;

  // Pipeline.
  realtime::PipelineSpec ps;
  ps.sample_rate_hz = fs_hz;
  ps.n_channels = nch;
  {
    auto d = design_model_filter(model, fs_hz);
    if (!d) return d.error();
    ps.filter = std::move(*d);
  }
  if (model.network_trained_zero_phase)
    log_line(ctx, "warning: the network was trained on zero-phase filtered windows; the stream can only filter "
                  "causally, so its inputs differ from the training windows");
  ps.window_len = model.window_len;
  ps.increment = model.increment;
  ps.features = model.features;
  ps.features.sample_rate_hz = fs_hz;
  if (!model.network) {  // networks take raw windows: no feature blocks
    ps.context_samples = model.context_samples;
    ps.log_amplitude_features = model.log_amplitude;
  }
  ps.post.rejection_threshold = opt.rejection_threshold;
  ps.post.vote_window = opt.vote_window;
  ps.post.min_dwell = opt.min_dwell;
  const auto aliases = intent_aliases();
  const std::vector<std::string>& class_names = model_class_names(model);
  auto ci = realtime::map_classes_to_intents(class_names, aliases);
  if (!ci) return ci.error();
  ps.class_intents = *ci;
  std::unique_ptr<models::Classifier> clf;
  if (model.network)
    clf = std::make_unique<SharedClassifier>(model.network);
  else
    clf = std::make_unique<models::LdaClassifier>(model.lda);
  auto pipe_r = realtime::StreamingPipeline::create(ps, std::move(clf));
  if (!pipe_r) return pipe_r.error();
  realtime::StreamingPipeline pipe = std::move(*pipe_r);

  auto det_r = SensorFaultDetector::create(default_sensor_fault_spec(nch, fs_hz, full_scale));
  if (!det_r) return det_r.error();
  SensorFaultDetector detector = std::move(*det_r);

  // Simulation (MuJoCo when built with it, else ideal mock actuators) and control loop.
  fs::path mjcf = opt.sim_model.empty() ? fs::path(MYOEXO_SOURCE_DIR) / "models" / "exo_leg.xml" : opt.sim_model;
  std::unique_ptr<ExoHardware> hw;
  std::function<std::string()> hw_fault_text;  // the back-end's own description of its first fault, if it has one
  double dt = 1.0 / opt.control_hz;
  std::string backend = "mock";
#ifdef MYOEXO_HAVE_SIM
  {
    sim::MujocoExoSpec es;
    auto exo_r = sim::MujocoExo::load_file(mjcf, es);
    if (!exo_r) return exo_r.error();
    const double step = (*exo_r)->control_period_s();
    const double sub = 1.0 / (opt.control_hz * step);
    if (std::abs(sub - std::round(sub)) > 1e-6 || std::round(sub) < 1)
      return make_error(ErrorCode::invalid_argument, "--control-hz " + format_double(opt.control_hz) +
                                                         ": the period must be a multiple of the model timestep " +
                                                         format_double(step) + " s");
    es.substeps = int(std::round(sub));
    if (es.substeps != 1) {
      exo_r = sim::MujocoExo::load_file(mjcf, es);
      if (!exo_r) return exo_r.error();
    }
    dt = (*exo_r)->control_period_s();
    sim::MujocoExo* mj = exo_r->get();
    hw_fault_text = [mj]() -> std::string {
      const Status st = mj->fault_status();
      return st ? std::string() : st.error().reason;
    };
    hw = std::move(*exo_r);
    backend = "mujoco";
  }
#else
  log_line(ctx, "built without MuJoCo: driving the mock actuators (hw::MockExo) instead of the simulation");
  hw = std::make_unique<hw::MockExo>();
  mjcf.clear();
#endif
  ExoHardware& exo = *hw;
  ControlLoopSpec ls;
  ls.rate_hz = 1.0 / dt;
  ls.supervisor.nominal_period_s = dt;
  ls.supervisor.log_capacity = 1u << 16;
  auto loop_r = ControlLoop::create(ls, exo);
  if (!loop_r) return loop_r.error();
  ControlLoop loop = std::move(*loop_r);
  if (auto s = loop.configure(); !s) return s.error();
  if (auto s = loop.activate(0.0); !s) return s.error();
  const ExoLimits limits = ls.supervisor.limits;

  // The run.
  log_line(ctx, "replaying " + rec_name + " (" + format_double(std::round(rec_duration_s * 10) / 10) + " s, " +
                    std::to_string(nch) + " channels) into MuJoCo at " + format_double(1.0 / dt) + " Hz ...");
  std::vector<double> buf(opt.chunk_frames * nch);
  std::vector<realtime::Decision> decisions, pending;
  decisions.reserve(std::size_t(rec_duration_s * fs_hz / double(model.increment)) + 16);
  std::vector<TickRow> rows;
  rows.reserve(std::size_t(rec_duration_s / dt) + 1024);
  std::vector<double> delay_s;
  std::vector<std::pair<realtime::Decision, bool>> awaiting_send;  // delivered this tick
  std::size_t k = 0, pending_head = 0, events_seen = 0;
  double avail_s = 0;  // sim time up to which EMG has arrived
  IntentLabel last_label = IntentLabel::rest;
  double last_conf = 0;
  std::uint32_t faults_bits = 0;
  std::uint64_t hw_errors = 0;
  std::string hw_fault;
  const double chunk_s = double(opt.chunk_frames) / fs_hz;
  std::size_t reconnects = 0;
  std::vector<double> live_frames;  // live: what arrived, interleaved, for the EMG plot
  if (auto st0 = src.start(); !st0) return st0.error();
  const std::int64_t wall0 = realtime::steady_now_ns();
  bool done = false;
  while (!done) {
    const auto rr = src.read(buf);
    if (rr.status == realtime::ReadStatus::end_of_stream) break;
    if (rr.status == realtime::ReadStatus::error)
      return make_error(ErrorCode::io, rec_name, 0, "the EMG source failed");
    if (rr.status == realtime::ReadStatus::disconnected) {
      // Live: try to reconnect for a while; the watchdog holds the exoskeleton meanwhile.
      if (!live || ++reconnects > 20) return make_error(ErrorCode::io, rec_name, 0, "the EMG source disconnected");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      (void)src.start();
      avail_s = std::max(avail_s, double(realtime::steady_now_ns() - wall0) * 1e-9);
    } else if (rr.status == realtime::ReadStatus::no_data) {
      // Replay: an injected stall, simulated time passes without data. Live: wall time passes.
      avail_s = live ? std::max(avail_s, double(realtime::steady_now_ns() - wall0) * 1e-9) : avail_s + chunk_s;
      if (live && avail_s >= opt.seconds) done = true;
    } else {
      const std::span<const double> frames(buf.data(), rr.frames * nch);
      if (live) live_frames.insert(live_frames.end(), frames.begin(), frames.end());
      for (std::size_t i = 0; i < rr.frames; ++i) (void)detector.push_frame(frames.subspan(i * nch, nch));
      faults_bits = detector.faults();
      (void)pipe.process(frames, realtime::ChunkTiming{rr.first_sample_s, realtime::steady_now_ns()},
                         [&](const realtime::Decision& d) {
                           decisions.push_back(d);
                           pending.push_back(d);
                         });
      avail_s = std::max(avail_s, rr.first_sample_s + double(rr.frames) / fs_hz);
      if (opt.seconds > 0 && avail_s >= opt.seconds) done = true;
    }
    for (; double(k) * dt <= avail_s; ++k) {
      const double t = double(k) * dt;
      awaiting_send.clear();
      double delay = std::numeric_limits<double>::quiet_NaN();
      while (pending_head < pending.size() && pending[pending_head].intent.window_end_s <= t) {
        realtime::Decision d = pending[pending_head++];
        Intent in = d.intent;
        // Stamp the intent with the stream time its window ended, not the tick time, so the supervisor's
        // stale-intent check sees the real age of the decision (review finding: `t` made every intent fresh).
        in.emit_s = d.intent.window_end_s;
        loop.push_intent(in, t);
        last_label = in.label;
        last_conf = in.confidence;
        delay = t - d.intent.window_end_s;
        delay_s.push_back(delay);
        awaiting_send.emplace_back(d, true);
      }
      if (pending_head == pending.size()) pending.clear(), pending_head = 0;
      loop.set_sensor_faults(faults_bits, t);
      const std::int64_t tick_start = realtime::steady_now_ns();
      if (loop.tick(t, dt) != HwStatus::ok && hw_errors++ == 0 && hw_fault_text) {
        hw_fault = hw_fault_text();  // once: the log says why the simulation stopped following commands
        if (!hw_fault.empty()) log_line(ctx, "simulation fault: " + hw_fault);
      }
      const std::int64_t tick_ns = realtime::steady_now_ns() - tick_start;
      // End to end = arrival -> intent emitted (measured) + the tick that turns it into a command (measured).
      // The ticks simulated in between (the fast replay compresses them) are not latency a live loop would see;
      // the wait for the next tick is reported in simulated time (window_end_to_command_sim, <= one period).
      for (const auto& [d, _] : awaiting_send) pipe.record_command_sent(d, d.emit_ns + tick_ns);
      const auto ev = loop.supervisor().events().size();
      TickRow r{};
      r.t_s = t;
      r.decision = last_label;
      r.confidence = last_conf;
      r.active = loop.intents().active();
      r.mode = loop.supervisor().mode();
      for (std::size_t j = 0; j < kJointCount; ++j) {
        r.desired[j] = loop.desired()[j].position_rad;
        r.setpoint[j] = loop.command().position_rad[j];
        r.q[j] = loop.state().joints[j].position_rad;
        r.tau[j] = loop.command().torque_nm[j];
      }
      r.sensor_faults = faults_bits;
      r.new_events = std::uint32_t(ev - events_seen);
      events_seen = ev;
      r.decision_delay_s = delay;
      rows.push_back(r);
    }
  }
  src.stop();
  (void)loop.deactivate();

  // ---- outputs ----
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the output folder");

  // Limit checks on what was commanded and measured (the property the supervisor guarantees).
  std::uint64_t sp_violations = 0, q_violations = 0;
  for (const auto& r : rows)
    for (std::size_t j = 0; j < kJointCount; ++j) {
      const auto& L = limits[j];
      if (r.mode != SupervisorMode::emergency_stop &&
          (r.setpoint[j] < L.position_min_rad - 1e-9 || r.setpoint[j] > L.position_max_rad + 1e-9))
        ++sp_violations;
      if (r.q[j] < L.position_min_rad - ls.supervisor.out_of_range_margin_rad ||
          r.q[j] > L.position_max_rad + ls.supervisor.out_of_range_margin_rad)
        ++q_violations;
    }

  {
    const fs::path p = opt.out_dir / "run_log.csv";
    std::ofstream f(p, std::ios::trunc);
    f << "time_s,intent,confidence,active_intent,supervisor_mode,hip_desired_deg,knee_desired_deg,"
         "hip_setpoint_deg,knee_setpoint_deg,hip_deg,knee_deg,hip_torque_nm,knee_torque_nm,sensor_faults,"
         "safety_events,decision_delay_ms\n";
    char line[512];
    for (const auto& r : rows) {
      std::snprintf(line, sizeof line, "%.4f,%s,%.4f,%s,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%u,%u,", r.t_s,
                    intent_label_name(r.decision), r.confidence, intent_label_name(r.active),
                    supervisor_mode_name(r.mode), rad_to_deg(r.desired[0]), rad_to_deg(r.desired[1]),
                    rad_to_deg(r.setpoint[0]), rad_to_deg(r.setpoint[1]), rad_to_deg(r.q[0]), rad_to_deg(r.q[1]),
                    r.tau[0], r.tau[1], r.sensor_faults, r.new_events);
      f << line;
      if (std::isfinite(r.decision_delay_s)) f << format_double(std::round(r.decision_delay_s * 1e6) / 1e3);
      f << '\n';
    }
    if (!f) return make_error(ErrorCode::io, p.string(), 0, "cannot be written");
  }
  const auto events = loop.supervisor().events();
  {
    const fs::path p = opt.out_dir / "events.csv";
    std::ofstream f(p, std::ios::trunc);
    f << "time_s,reason,joint,value,limit\n";
    for (const auto& e : events)
      f << format_double(e.t_s) << ',' << safety_reason_name(e.reason) << ','
        << (e.joint >= 0 ? joint_name(Joint(e.joint)) : "") << ',' << format_double(e.value) << ','
        << format_double(e.limit) << '\n';
    if (!f) return make_error(ErrorCode::io, p.string(), 0, "cannot be written");
  }

  json s;
  s["source"] = live ? "serial:" + opt.port : opt.replay.string();
  s["recording"] = {{"file", rec_name},
                    {"subject", rec_subject},
                    {"class", rec_label},
                    {"duration_s", rec_duration_s},
                    {"sample_rate_hz", fs_hz}};
  s["model"] = {{"kind", model.network ? "torch" : "lda"},
                {"classes", class_names},
                {"channels", model.channels},
                {"features", model.network ? std::vector<std::string>{} : model.features.names},
                {"context_samples", model.network ? std::size_t{0} : model.context_samples},
                {"log_amplitude", !model.network && model.log_amplitude},
                {"window_len", model.window_len},
                {"increment", model.increment},
                {"filter", describe_model_filter(model)},
                {"trained_on", model.trained_on}};
  if (model.network) {
    s["model"]["arch"] = model.network_arch;
    s["model"]["file"] = model.network_file.string();
    s["model"]["trained_zero_phase"] = model.network_trained_zero_phase;
  }
  json mapping = json::object();
  for (std::size_t c = 0; c < ps.class_intents.size(); ++c)
    mapping[class_names[c]] = intent_label_name(ps.class_intents[c]);
  s["class_to_intent"] = mapping;
  s["pace"] = opt.realtime ? "realtime" : "fast";
  s["chunk_frames"] = opt.chunk_frames;
  s["control_hz"] = 1.0 / dt;
  s["actuators"] = backend;
  s["sim_model"] = mjcf.string();
  s["ticks"] = rows.size();
  s["sim_time_s"] = rows.empty() ? 0.0 : rows.back().t_s;
  s["hardware_errors"] = hw_errors;
  if (!hw_fault.empty()) s["hardware_fault"] = hw_fault;
  const auto& st = pipe.stats();
  s["pipeline"] = {{"frames", st.frames},
                   {"decisions", st.decisions},
                   {"rejected", st.rejected},
                   {"nonfinite_samples", st.nonfinite_samples},
                   {"nonfinite_windows", st.nonfinite_windows},
                   {"nonfinite_classifier_inputs", st.nonfinite_classifier_inputs},
                   {"classifier_errors", st.classifier_errors},
                   {"gaps", st.gaps},
                   {"timestamp_regressions", st.timestamp_regressions}};
  s["latency"] = {{"compute", summary_us(pipe.compute_time().summary())},
                  {"arrival_to_intent", summary_us(pipe.latency().summary())},
                  {"end_to_end", summary_us(pipe.end_to_end().summary())}};
  const Quantiles dq = quantiles(delay_s);
  s["latency"]["window_end_to_command_sim"] = {
      {"count", dq.count}, {"p50_ms", dq.p50 * 1e3}, {"p99_ms", dq.p99 * 1e3}, {"max_ms", dq.max * 1e3}};
  std::map<std::string, std::size_t> hist;
  for (std::size_t i = 0; i < kIntentLabelCount; ++i) hist[intent_label_name(IntentLabel(i))] = 0;
  std::size_t expected_hits = 0, non_rest = 0;
  std::optional<IntentLabel> expected;
  for (const auto& [cls, in] : aliases)
    if (cls == rec_label) expected = parse_intent_label(in);
  if (!expected) expected = parse_intent_label(rec_label);
  for (const auto& d : decisions) {
    ++hist[intent_label_name(d.intent.label)];
    if (d.intent.label != IntentLabel::rest) {
      ++non_rest;
      if (expected && d.intent.label == *expected) ++expected_hits;
    }
  }
  s["intents"] = hist;
  if (expected) {
    s["expected_intent"] = intent_label_name(*expected);
    s["expected_fraction_of_decisions"] = decisions.empty() ? 0.0 : double(expected_hits) / double(decisions.size());
    s["expected_fraction_of_non_rest"] = non_rest == 0 ? 0.0 : double(expected_hits) / double(non_rest);
  }
  std::map<std::string, double> active_s;
  for (const auto& r : rows) active_s[intent_label_name(r.active)] += dt;
  for (auto& [k2, v] : active_s) v = std::round(v * 1e3) / 1e3;
  s["active_intent_time_s"] = active_s;
  std::map<std::string, double> mode_s;
  for (const auto& r : rows) mode_s[supervisor_mode_name(r.mode)] += dt;
  for (auto& [k2, v] : mode_s) v = std::round(v * 1e3) / 1e3;
  s["supervisor_mode_time_s"] = mode_s;
  json counts = json::object(), logged = json::object();
  for (std::size_t i = 0; i < kSafetyReasonCount; ++i) {
    const auto n = loop.supervisor().intervention_count(SafetyReason(i));
    if (n) counts[safety_reason_name(SafetyReason(i))] = n;
  }
  for (const auto& e : events) logged[safety_reason_name(e.reason)] = logged.value(safety_reason_name(e.reason), 0) + 1;
  s["safety"] = {{"intervention_ticks", counts},
                 {"events_logged", events.size()},
                 {"events_by_reason", logged},
                 {"events_dropped", loop.supervisor().dropped_events()},
                 {"setpoint_limit_violations", sp_violations},
                 {"measured_out_of_range_ticks", q_violations},
                 {"sensor_fault_onsets", detector.fault_onsets()}};
  json faults = json::array();
  if (replay)
    for (const auto& f : replay->faults())
      faults.push_back({{"kind", realtime::fault_kind_name(f.kind)},
                        {"start_s", f.start_s},
                        {"duration_s", f.duration_s},
                        {"channel", f.channel}});
  s["faults_injected"] = faults;
  if (replay) {
    const auto& rs = replay->stats();
    s["replay_stats"] = {{"frames_delivered", rs.frames_delivered},
                         {"chunks_dropped", rs.chunks_dropped},
                         {"stalls", rs.stalls},
                         {"out_of_order_chunks", rs.out_of_order_chunks}};
  } else {
    const auto& ws = static_cast<realtime::SerialSource&>(src).wire_stats();
    s["serial_stats"] = {{"frames_ok", ws.frames_ok},
                         {"frames_missing", ws.frames_missing},
                         {"frames_missing_estimated", ws.frames_missing_estimated},
                         {"gaps_estimated", ws.gaps_estimated},
                         {"crc_failures", ws.crc_failures},
                         {"bytes_discarded", ws.bytes_discarded},
                         {"reconnects", reconnects}};
  }
  double se[2] = {0, 0};
  for (const auto& r : rows)
    for (std::size_t j = 0; j < 2; ++j) se[j] += (r.q[j] - r.setpoint[j]) * (r.q[j] - r.setpoint[j]);
  if (!rows.empty())
    s["tracking_rms_deg"] = {{"hip", rad_to_deg(std::sqrt(se[0] / double(rows.size())))},
                             {"knee", rad_to_deg(std::sqrt(se[1] / double(rows.size())))}};
  {
    const fs::path p = opt.out_dir / "summary.json";
    std::ofstream f(p, std::ios::trunc);
    f << s.dump(2) << '\n';
    if (!f) return make_error(ErrorCode::io, p.string(), 0, "cannot be written");
  }

  // ---- plots ----
  if (opt.plots && !rows.empty()) {
    if (live && !live_frames.empty()) {
      io::Recording lr;
      lr.sample_rate_hz = fs_hz;
      lr.channel_names = model.channels;
      lr.channel_units.assign(nch, "adc");
      lr.n_samples = live_frames.size() / nch;
      lr.samples.resize(live_frames.size());
      for (std::size_t i = 0; i < lr.n_samples; ++i)
        for (std::size_t c = 0; c < nch; ++c) lr.samples[c * lr.n_samples + i] = live_frames[i * nch + c];
      if (lr.n_samples > 64) {
        auto f = prepare_channels(lr, model);
        if (f) filtered = std::move(*f);
      }
    }
  }
  if (opt.plots && !rows.empty()) {
    const std::string who = rec_name + (rec_label.empty() ? "" : " (" + rec_label + ")");
    if (filtered) {
      const io::Recording& e = *filtered;
      // EMG: channels stacked with an offset so that each stays readable.
      double spread = 0;
      for (std::size_t c = 0; c < nch; ++c) {
        auto ch = e.channel(c);
        std::vector<double> a;
        for (double x : ch) a.push_back(std::abs(x));
        if (!a.empty()) {
          std::nth_element(a.begin(), a.begin() + std::ptrdiff_t(a.size() * 995 / 1000), a.end());
          spread = std::max(spread, 2.0 * a[a.size() * 995 / 1000]);
        }
      }
      if (!(spread > 0)) spread = 1;
      report::LinePlot emg;
      const std::string unit = e.channel_units.empty() || e.channel_units[0].empty() ? "units" : e.channel_units[0];
      emg.title = who + ": EMG " + describe_model_filter(model) + " (causal)";
      emg.x_label = "time (s)";
      emg.y_label = "EMG (" + unit + "), offset per channel";
      emg.size = {1400, 800};
      char off[64];
      for (std::size_t c = 0; c < nch; ++c) {
        const double o = double(nch - 1 - c) * spread;
        std::snprintf(off, sizeof off, "%s (+%.2g)", e.channel_names[c].c_str(), o);
        auto ch = e.channel(c);
        emg.series.push_back({off, every(ch.size(), 1, [&](std::size_t i) { return double(i) / fs_hz; }),
                              every(ch.size(), 1, [&](std::size_t i) { return ch[i] + o; })});
      }
      if (auto r = report::plot_lines(emg, opt.out_dir / "emg.png"); !r) return r.error();
    }

    // Intent timeline: every decision at the classifier's max probability, coloured by the intent it became
    // (after rejection and vote), with the rejection threshold: points below it became rest.
    report::LinePlot ip;
    ip.title = rec_name + ": intent per decision (colour) and confidence";
    ip.x_label = "time (s)";
    ip.y_label = "classifier max probability";
    ip.y_min = 0.0;
    ip.y_max = 1.25;  // room for the legend above the data
    ip.size = {1400, 600};
    for (std::size_t l = 0; l < kIntentLabelCount; ++l) {
      report::Series sr{intent_label_name(IntentLabel(l)), {}, {}};
      bool any = false;
      for (const auto& d : decisions) {
        sr.x.push_back(d.intent.window_end_s);
        const bool on = d.intent.label == IntentLabel(l);
        any |= on;
        sr.y.push_back(on ? d.raw_probability : std::numeric_limits<double>::quiet_NaN());
      }
      if (any) ip.series.push_back(std::move(sr));
    }
    if (!decisions.empty()) {
      ip.series.push_back({"rejection threshold",
                           {decisions.front().intent.window_end_s, decisions.back().intent.window_end_s},
                           {opt.rejection_threshold, opt.rejection_threshold}});
      if (auto r = report::plot_lines(ip, opt.out_dir / "intent.png"); !r) return r.error();
    }

    const std::size_t stride = std::max<std::size_t>(1, std::size_t(0.01 / dt));  // 100 Hz in the plots
    auto tcol = every(rows.size(), stride, [&](std::size_t i) { return rows[i].t_s; });
    report::LinePlot ap;
    ap.title = rec_name + ": exoskeleton hip and knee, set-point vs simulated";
    ap.x_label = "time (s)";
    ap.y_label = "angle (deg, flexion +)";
    ap.size = {1400, 700};
    ap.series.push_back({"hip set-point", tcol,
                         every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].setpoint[0]); })});
    ap.series.push_back(
        {"hip simulated", tcol, every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].q[0]); })});
    ap.series.push_back({"knee set-point", tcol,
                         every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].setpoint[1]); })});
    ap.series.push_back(
        {"knee simulated", tcol, every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].q[1]); })});
    leave_legend_room(ap);
    if (auto r = report::plot_lines(ap, opt.out_dir / "angles.png"); !r) return r.error();

    if (!goniometer.empty()) {
      report::LinePlot kp;
      kp.title = rec_name + ": recorded knee angle (FX) and the exoskeleton's knee";
      kp.x_label = "time (s)";
      kp.y_label = "knee flexion (deg)";
      kp.size = {1400, 700};
      const double t_end = rows.back().t_s;
      const std::size_t n_fx = std::min(goniometer.size(), std::size_t(t_end * fs_hz) + 1);
      const std::size_t gs = std::max<std::size_t>(1, std::size_t(fs_hz / 100));
      // The UCI goniometer's sign differs between files (flexion negative in many): show flexion positive
      // when the recorded angle is mostly negative, and say so in the legend.
      std::vector<double> g(goniometer.begin(), goniometer.begin() + std::ptrdiff_t(n_fx));
      std::vector<double> sorted_g;
      for (double v : g)
        if (std::isfinite(v)) sorted_g.push_back(v);
      std::sort(sorted_g.begin(), sorted_g.end());
      const bool flip = !sorted_g.empty() && sorted_g[sorted_g.size() / 2] < 0 &&
                        std::abs(sorted_g.front()) > std::abs(sorted_g.back());
      kp.series.push_back({flip ? "recorded knee (FX, sign flipped)" : "recorded knee (FX goniometer)",
                           every(n_fx, gs, [&](std::size_t i) { return double(i) / fs_hz; }),
                           every(n_fx, gs, [&](std::size_t i) { return flip ? -g[i] : g[i]; })});
      kp.series.push_back({"exoskeleton knee (simulated)", tcol,
                           every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].q[1]); })});
      kp.series.push_back({"exoskeleton knee set-point", tcol,
                           every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].setpoint[1]); })});
      leave_legend_room(kp);
      if (auto r = report::plot_lines(kp, opt.out_dir / "knee_goniometer.png"); !r) return r.error();
    }
  }
  return s;
}

Status run_run(const Context& ctx, const RunCommandOptions& opt) {
  if (opt.replay.empty() == opt.port.empty())
    return make_error(ErrorCode::invalid_argument, "give exactly one of --replay FILE and --port DEV");
  if (opt.model.has_value() == !opt.train_on.empty())
    return make_error(ErrorCode::invalid_argument, "give exactly one of --model FILE and --train-on DIR|FILES");
  if (opt.model && opt.lda_context > 0)
    return make_error(ErrorCode::invalid_argument,
                      "--lda-context applies to --train-on (a --model file carries its own context)");
  std::error_code ec;
  const fs::path replay = opt.replay.empty() ? fs::path() : resolve_input_path(ctx, opt.replay);
  if (!opt.replay.empty() && !fs::is_regular_file(replay, ec))
    return make_error(ErrorCode::io, replay.string(), 0, "does not exist (the --replay recording)");
  RunCommandOptions o = opt;
  o.replay = replay;
  PipelineModel model;
  if (opt.model) {
    auto m = load_run_model(resolve_input_path(ctx, *opt.model));
    if (!m) return m.error();
    model = std::move(*m);
    if (model.network)
      log_line(ctx, "model: LibTorch " + model.network_arch + " on " + std::to_string(model.channels.size()) +
                        " channels, " + std::to_string(model.window_len) + "-sample windows every " +
                        std::to_string(model.increment));
  } else {
    io::Recording live_head;  // live: no replayed subject to leave out; the board's rate
    live_head.sample_rate_hz = opt.port_rate_hz;
    auto head = replay.empty() ? Result<io::Recording>(std::move(live_head)) : io::read_recording(replay);
    if (!head) return head.error();
    std::vector<fs::path> paths;
    for (const auto& p : opt.train_on) paths.push_back(resolve_input_path(ctx, p));
    auto recs = load_training_recordings(paths);
    if (!recs) return recs.error();
    std::vector<io::Recording> keep;
    const fs::path replay_abs = fs::weakly_canonical(replay, ec);
    for (auto& r : *recs) {
      if (!replay.empty() && fs::weakly_canonical(r.source_path, ec) == replay_abs) continue;  // never the replay
      if (!opt.include_same_subject && !head->subject_id.empty() && r.subject_id == head->subject_id) continue;
      keep.push_back(std::move(r));
    }
    model = lda_context_model(opt.lda_context);
    log_line(ctx, std::string(opt.lda_context > 0 ? "training LDA (lda_context: log-amplitude MAV WL ZC SSC RMS AR, + " +
                                                        std::to_string(opt.lda_context) + " past samples)"
                                                  : "training LDA") +
                      " on " + std::to_string(keep.size()) + " recordings" +
                      (opt.include_same_subject || head->subject_id.empty()
                           ? std::string()
                           : " (subject " + head->subject_id + " left out)") +
                      " ...");
    model.sample_rate_hz = head->sample_rate_hz;
    auto m = train_pipeline_model(keep, model);
    if (!m) return m.error();
    model = std::move(*m);
  }
  if (opt.save_model) {
    if (model.network) {
      // A network is saved as the model file it came from (a byte copy: same weights, same spec).
      if (auto s = ensure_parent_dir(*opt.save_model); !s) return s;
      std::error_code cec;
      if (fs::weakly_canonical(*opt.save_model, cec) != fs::weakly_canonical(model.network_file, cec)) {
        fs::copy_file(model.network_file, *opt.save_model, fs::copy_options::overwrite_existing, cec);
        if (cec) return make_error(ErrorCode::io, opt.save_model->string(), 0, "cannot be written: " + cec.message());
      }
    } else if (auto s = save_pipeline_model(model, *opt.save_model); !s) {
      return s;
    }
  }
  auto s = run_chain(ctx, o, model);
  if (!s) return s.error();
  const json& j = *s;
  const auto& lat = j["latency"];
  ctx.out << "replayed " << j["recording"]["file"].get<std::string>() << " for "
          << format_double(j["sim_time_s"].get<double>()) << " s at " << format_double(j["control_hz"].get<double>())
          << " Hz control: " << j["pipeline"]["decisions"].get<std::uint64_t>() << " decisions, intents "
          << j["intents"].dump() << "\ncompute p50/p99/max "
          << format_double(std::round(lat["compute"]["p50_us"].get<double>() * 10) / 10) << "/"
          << format_double(std::round(lat["compute"]["p99_us"].get<double>() * 10) / 10) << "/"
          << format_double(std::round(lat["compute"]["max_us"].get<double>() * 10) / 10) << " us; safety events logged "
          << j["safety"]["events_logged"].get<std::size_t>() << ", limit violations "
          << j["safety"]["setpoint_limit_violations"].get<std::uint64_t>() << "\n"
          << "outputs in " << fs::absolute(opt.out_dir).lexically_normal().string() << "\n";
  return {};
}

}  // namespace myoexo::app
