// Model files: detection, the one loader, and offline window probabilities (see model_file.hpp).
#include "app/model_file.hpp"

#include "app/knee_network.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>

#include "app/common.hpp"
#include "dsp/sos_filter.hpp"
#include "realtime/board_profile.hpp"
#include "realtime/pipeline.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include "models/torch/torch_classifier.hpp"
#endif

namespace myoexo::app {

namespace fs = std::filesystem;

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

Result<session::PipelineModel> load_torch_model(const fs::path& path) {
#ifdef MYOEXO_HAVE_TORCH
  auto net = models::TorchClassifier::load(path);
  if (!net) return net.error();
  const models::NetworkSpec& ns = net->spec();
  session::PipelineModel m;
  m.sample_rate_hz = ns.input.sample_rate_hz;
  m.channels = ns.input.channel_names;
  m.window_len = ns.input.window_length;
  m.increment = ns.input.window_increment;
  const models::FilterSettings& f = ns.input.filter;
  m.filter_kind = f.kind;
  m.filter_order = f.kind.empty() ? 0 : f.order;
  m.band_low_hz = f.low_hz;
  m.band_high_hz = f.high_hz;
  m.denoise = f.denoise;
  if (!f.kind.empty() && f.kind != "bandpass" && f.kind != "highpass" && f.kind != "lowpass")
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "the network's filter kind '" + f.kind + "' is not one the stream runs (bandpass, highpass, "
                      "lowpass or none)");
  m.network_trained_zero_phase = !f.kind.empty() && !f.causal;
  m.network_arch = models::arch_kind_name(ns.arch.kind);
  m.network_file = path;
  if (m.channels.empty())
    return make_error(ErrorCode::invalid_argument, path.string(), 0, "the network names no input channels");
  if (auto s = session::validate_model_geometry(m, path.string()); !s) return s.error();
  m.features.sample_rate_hz = m.sample_rate_hz;
  // The card: the unit of the training data, the class -> intent map, the training files and the provenance.
  m.signal_unit = ns.card.signal_unit;
  m.class_intents = ns.card.class_intents;
  m.trained_on = ns.card.trained_on;
  m.adapted_from = ns.card.adapted_from;
  m.provenance = ns.card.provenance;
  // A class map that names unknown classes or intents is refused when a session is configured from the model;
  // offline prediction of a network whose classes drive no intent (e.g. hand gestures) stays possible.
  m.network = std::make_shared<models::TorchClassifier>(std::move(*net));
  return m;
#else
  return make_error(ErrorCode::unsupported, path.string(), 0,
                    "is a LibTorch model file, but this myoexo was built without LibTorch (MYOEXO_WITH_TORCH "
                    "and libtorch-dev): use a pipeline-model JSON (--train-on ... --save-model) instead");
#endif
}

Result<session::PipelineModel> load_model(const fs::path& path) {
  auto kind = detect_model_file_kind(path);
  if (!kind) return kind.error();
  if (*kind == ModelFileKind::torch) return load_torch_model(path);
  auto m = session::load_pipeline_model(path);
  if (!m) return m.error();
  if (Status s = attach_knee_angle_network(*m); !s) return s.error();
  return m;
}


namespace {

std::string join_names(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string model_classifier_name(const session::PipelineModel& m) {
  if (m.network) return m.network_arch;
  return m.context_samples > 0 || m.log_amplitude ? "lda_context" : "lda";
}

std::string window_label(const io::Recording& rec, std::size_t start, std::size_t len) {
  if (!rec.label.empty()) return rec.label;
  const std::size_t last = start + len - 1;
  if (len == 0 || last >= rec.sample_labels.size()) return {};
  const int id = rec.sample_labels[last];
  return id >= 0 && std::size_t(id) < rec.label_names.size() ? rec.label_names[std::size_t(id)] : std::string();
}

Result<WindowProbabilities> model_window_probabilities(const session::PipelineModel& m, const io::Recording& rec,
                                                       std::size_t batch) {
  const std::string where = rec.source_path.empty() ? std::string("<recording>") : rec.source_path.string();
  if (batch == 0) return make_error(ErrorCode::invalid_argument, "the prediction batch must be >= 1");
  std::vector<std::string> missing;
  for (const auto& name : m.channels)
    if (rec.channel_index(name) < 0) missing.push_back(name);
  if (!missing.empty())
    return make_error(ErrorCode::mismatch, where, 0,
                      "the model needs channels " + join_names(m.channels) + " but the file has " +
                          join_names(rec.channel_names) + " (missing " + join_names(missing) + ")");
  if (std::abs(rec.sample_rate_hz - m.sample_rate_hz) > 1e-6 * m.sample_rate_hz)
    return make_error(ErrorCode::mismatch, where, 0,
                      "sampled at " + format_double(rec.sample_rate_hz) + " Hz; the model was trained at " +
                          format_double(m.sample_rate_hz) + " Hz");
  const std::size_t n = rec.n_samples, nch = m.channels.size(), len = m.window_len, inc = m.increment;
  if (n < len)
    return make_error(ErrorCode::invalid_argument, where, 0,
                      "has " + std::to_string(n) + " samples, fewer than one window (" + std::to_string(len) + ")");
  const auto& classes = session::model_class_names(m);
  const std::size_t k = classes.size();

  // The model's channels, channel-major, in the model's unit (a file in codes has no board here: refused).
  std::vector<double> block;
  block.reserve(nch * n);
  for (const auto& name : m.channels) {
    const std::size_t c = std::size_t(rec.channel_index(name));
    const std::string unit = c < rec.channel_units.size() ? rec.channel_units[c] : std::string();
    auto conv = realtime::plan_input_conversion(unit, m.signal_unit, nullptr);
    if (!conv) return make_error(ErrorCode::mismatch, where, 0, "channel " + name + ": " + conv.error().reason);
    for (double x : rec.channel(c)) block.push_back((x - conv->offset) * conv->scale);
  }

  WindowProbabilities out;
  out.classes = classes;
  out.len = len;
  out.inc = inc;
  out.fs_hz = m.sample_rate_hz;
  if (!m.network) {
    // The LDA family: the live pipeline's own causal filter, windows, features and context.
    if (k > realtime::kMaxDecisionClasses)
      return make_error(ErrorCode::unsupported, where, 0,
                        "the model has " + std::to_string(k) + " classes; a decision carries at most " +
                            std::to_string(realtime::kMaxDecisionClasses));
    auto spec = session::pipeline_spec_for(m, rec.sample_rate_hz);
    if (!spec) return spec.error();
    models::LdaClassifier lda = m.lda;
    auto decisions = realtime::decide_offline(*spec, lda, block, n);
    if (!decisions) return decisions.error();
    out.n_windows = decisions->size();
    out.probs.assign(out.n_windows * k, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t w = 0; w < out.n_windows; ++w)
      if ((*decisions)[w].raw_class >= 0)
        for (std::size_t c = 0; c < k; ++c) out.probs[w * k + c] = (*decisions)[w].probabilities[c];
    return out;
  }

  // A network: its filter over the whole recording (zero-phase when it was trained on zero-phase windows, as
  // an offline reading may be), then batches of raw windows.
  auto design = session::design_model_filter(m, m.sample_rate_hz);
  if (!design) return design.error();
  if (*design) {
    if (!m.network_trained_zero_phase) {
      auto filter = dsp::SosFilter::create(**design, nch);
      if (!filter) return filter.error();
      if (auto s = filter->process_channel_major(block, block, n); !s) return s.error();
    } else if (auto s = dsp::sosfiltfilt(**design, block, nch, block); !s) {
      return s.error();
    }
  }
  if (m.denoise) {
    auto w = dsp::WaveletDenoiseStream::create(*m.denoise, nch);
    if (!w) return w.error();
    if (auto s = w->process_channel_major(block, block, n); !s) return s.error();
  }
  models::Classifier& net = *m.network;
  const std::size_t n_windows = (n - len) / inc + 1, cols = nch * len, nb_max = std::min(batch, n_windows);
  if (auto s = net.reserve(nb_max); !s) return s.error();
  std::vector<double> rows(nb_max * cols);
  out.n_windows = n_windows;
  out.probs.assign(n_windows * k, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t w0 = 0; w0 < n_windows; w0 += nb_max) {
    const std::size_t nb = std::min(nb_max, n_windows - w0);
    for (std::size_t r = 0; r < nb; ++r) {
      const std::size_t start = (w0 + r) * inc;
      for (std::size_t c = 0; c < nch; ++c)
        std::copy_n(block.begin() + std::ptrdiff_t(c * n + start), len, rows.begin() + std::ptrdiff_t(r * cols + c * len));
    }
    if (auto s = net.predict_proba(rows.data(), nb, cols, out.probs.data() + w0 * k); !s) return s.error();
  }
  return out;
}

}  // namespace myoexo::app
