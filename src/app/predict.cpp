// `myoexo predict`: a trained model file (a network, or an LDA pipeline model) applied to one recording, window by
// window.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "app/common.hpp"
#include "app/train_cmd.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/sos_filter.hpp"
#include "models/torch/torch_classifier.hpp"
#include "app/run.hpp"
#include "realtime/board_profile.hpp"
#include "realtime/pipeline.hpp"
#include "session/model.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

// The design of the model's recorded filter for `fs_hz`, or nullopt for an unfiltered model.
Result<std::optional<dsp::SosDesign>> design_for(const models::FilterSettings& f, double fs_hz) {
  if (f.kind.empty()) return std::optional<dsp::SosDesign>{};
  auto design = [&]() -> Result<dsp::SosDesign> {
    if (f.kind == "bandpass") return dsp::design_bandpass(f.order, f.low_hz, f.high_hz, fs_hz);
    if (f.kind == "highpass") return dsp::design_highpass(f.order, f.low_hz, fs_hz);
    if (f.kind == "lowpass") return dsp::design_lowpass(f.order, f.high_hz, fs_hz);
    return make_error(ErrorCode::parse, "the model records an unknown filter kind '" + f.kind + "'");
  }();
  if (!design) return design.error();
  return std::optional<dsp::SosDesign>(std::move(design).value());
}

struct WindowProbabilities {
  std::vector<std::string> classes;
  std::vector<double> probs;  // [n_windows x classes]; NaN for a window that could not be classified
  std::size_t n_windows = 0, len = 0, inc = 0;
  double fs_hz = 0.0;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Per-window class probabilities of a network file on `rec` (its channels by name, its recorded filter).
Result<WindowProbabilities> network_probabilities(const fs::path& model_path, const fs::path& input,
                                                  const io::Recording& rec, std::size_t batch_size) {
  auto model = models::TorchClassifier::load(model_path);
  if (!model) return model.error();
  const models::NetworkSpec& spec = model->spec();
  const models::InputSpec& in = spec.input;


  // The model's channels, by name, in the model's order.
  std::vector<std::size_t> which;
  std::vector<std::string> missing;
  for (const auto& name : in.channel_names) {
    const int c = rec.channel_index(name);
    if (c < 0) missing.push_back(name);
    else which.push_back(std::size_t(c));
  }
  if (!missing.empty())
    return make_error(ErrorCode::mismatch, input.string(), 0,
                      "the model needs channels " + join(in.channel_names) + " but the file has " +
                          join(rec.channel_names) + " (missing " + join(missing) + ")");
  if (std::abs(rec.sample_rate_hz - in.sample_rate_hz) > 1e-6 * in.sample_rate_hz)
    return make_error(ErrorCode::mismatch, input.string(), 0,
                      "sampled at " + format_double(rec.sample_rate_hz) + " Hz; the model was trained at " +
                          format_double(in.sample_rate_hz) + " Hz");
  const std::size_t n = rec.n_samples, nch = which.size(), len = in.window_length, inc = in.window_increment;
  if (n < len)
    return make_error(ErrorCode::invalid_argument, input.string() + " has " + std::to_string(n) +
                                                       " samples, fewer than one window (" + std::to_string(len) + ")");

  // The model's channels as one channel-major block, filtered as the model's training data were.
  std::vector<double> block(nch * n);
  for (std::size_t k = 0; k < nch; ++k) {
    auto ch = rec.channel(which[k]);
    std::copy(ch.begin(), ch.end(), block.begin() + std::ptrdiff_t(k * n));
  }
  auto design = design_for(in.filter, in.sample_rate_hz);
  if (!design) return design.error();
  if (*design) {
    if (in.filter.causal) {
      auto filter = dsp::SosFilter::create(**design, nch);
      if (!filter) return filter.error();
      if (auto s = filter->process_channel_major(block, block, n); !s) return s.error();
    } else if (auto s = dsp::sosfiltfilt(**design, block, nch, block); !s) {
      return s.error();
    }
  }

  const std::size_t n_windows = (n - len) / inc + 1, k = model->n_classes(), cols = nch * len;
  const std::size_t batch = std::min(batch_size, n_windows);
  if (auto s = model->reserve(batch); !s) return s.error();
  std::vector<double> rows(batch * cols), probs(n_windows * k);
  for (std::size_t w0 = 0; w0 < n_windows; w0 += batch) {
    const std::size_t nb = std::min(batch, n_windows - w0);
    for (std::size_t r = 0; r < nb; ++r) {
      const std::size_t start = (w0 + r) * inc;
      for (std::size_t c = 0; c < nch; ++c)
        std::copy_n(block.begin() + std::ptrdiff_t(c * n + start), len, rows.begin() + std::ptrdiff_t(r * cols + c * len));
    }
    if (auto s = model->predict_proba(rows.data(), nb, cols, probs.data() + w0 * k); !s) return s.error();
  }
  WindowProbabilities out;
  out.classes = model->class_names();
  out.probs = std::move(probs);
  out.n_windows = n_windows;
  out.len = len;
  out.inc = inc;
  out.fs_hz = in.sample_rate_hz;
  return out;
}

// Per-window class probabilities of a pipeline-model file (LDA, lda_context) on `rec`: the live pipeline's own
// windows and features (realtime::decide_offline), the recording converted to the model's unit or refused.
Result<WindowProbabilities> pipeline_probabilities(const fs::path& model_path, const fs::path& input,
                                                   const io::Recording& rec) {
  auto m = session::load_pipeline_model(model_path);
  if (!m) return m.error();
  std::vector<std::string> missing;
  for (const auto& name : m->channels)
    if (rec.channel_index(name) < 0) missing.push_back(name);
  if (!missing.empty())
    return make_error(ErrorCode::mismatch, input.string(), 0,
                      "the model needs channels " + join(m->channels) + " but the file has " +
                          join(rec.channel_names) + " (missing " + join(missing) + ")");
  if (std::abs(rec.sample_rate_hz - m->sample_rate_hz) > 1e-6 * m->sample_rate_hz)
    return make_error(ErrorCode::mismatch, input.string(), 0,
                      "sampled at " + format_double(rec.sample_rate_hz) + " Hz; the model was trained at " +
                          format_double(m->sample_rate_hz) + " Hz");
  const std::size_t n = rec.n_samples, nch = m->channels.size();
  if (n < m->window_len)
    return make_error(ErrorCode::invalid_argument, input.string() + " has " + std::to_string(n) +
                                                       " samples, fewer than one window (" +
                                                       std::to_string(m->window_len) + ")");
  std::vector<double> block;
  block.reserve(nch * n);
  for (const auto& name : m->channels) {
    const std::size_t c = std::size_t(rec.channel_index(name));
    const std::string unit = c < rec.channel_units.size() ? rec.channel_units[c] : std::string();
    auto conv = realtime::plan_input_conversion(unit, m->signal_unit, nullptr);
    if (!conv) return make_error(ErrorCode::mismatch, input.string(), 0, "channel " + name + ": " + conv.error().reason);
    for (double x : rec.channel(c)) block.push_back((x - conv->offset) * conv->scale);
  }
  auto spec = session::pipeline_spec_for(*m, rec.sample_rate_hz);
  if (!spec) return spec.error();
  models::LdaClassifier lda = m->lda;
  auto decisions = realtime::decide_offline(*spec, lda, block, n);
  if (!decisions) return decisions.error();
  WindowProbabilities out;
  out.classes = m->lda.class_names();
  const std::size_t k = out.classes.size();
  if (k > realtime::kMaxDecisionClasses)
    return make_error(ErrorCode::unsupported, model_path.string(), 0,
                      "has " + std::to_string(k) + " classes; prediction reports at most " +
                          std::to_string(realtime::kMaxDecisionClasses));
  out.n_windows = decisions->size();
  out.probs.assign(out.n_windows * k, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t w = 0; w < out.n_windows; ++w)
    if ((*decisions)[w].raw_class >= 0)
      for (std::size_t c = 0; c < k; ++c) out.probs[w * k + c] = (*decisions)[w].probabilities[c];
  out.len = m->window_len;
  out.inc = m->increment;
  out.fs_hz = m->sample_rate_hz;
  return out;
}

}  // namespace

Status run_predict(const Context& ctx, const PredictOptions& opt) {
  if (opt.batch == 0) return make_error(ErrorCode::invalid_argument, "--batch must be >= 1");
  const fs::path model_path = resolve_input_path(ctx, opt.model);
  auto kind = detect_model_file_kind(model_path);
  if (!kind) return kind.error();
  const fs::path input = resolve_input_path(ctx, opt.input);
  auto rec = io::read_recording(input);
  if (!rec) return rec.error();
  auto wp = *kind == ModelFileKind::torch ? network_probabilities(model_path, input, *rec, opt.batch)
                                          : pipeline_probabilities(model_path, input, *rec);
  if (!wp) return wp.error();
  const auto& classes = wp->classes;
  const auto& probs = wp->probs;
  const std::size_t n_windows = wp->n_windows, k = classes.size(), len = wp->len, inc = wp->inc, n = rec->n_samples;
  const double fs_hz = wp->fs_hz;
  std::vector<std::size_t> predicted(n_windows), histogram(k, 0);
  for (std::size_t w = 0; w < n_windows; ++w) {
    const double* p = probs.data() + w * k;
    predicted[w] = std::isnan(p[0]) ? k : std::size_t(std::max_element(p, p + k) - p);
    if (predicted[w] == k) continue;  // not classified (a non-finite sample in the window)
    ++histogram[predicted[w]];
  }

  if (opt.out) {
    if (auto s = ensure_parent_dir(*opt.out); !s) return s;
    std::ofstream csv(*opt.out, std::ios::trunc);
    csv << "window_start_s,window_end_s,predicted";
    for (const auto& c : classes) csv << ",p_" << c;
    csv << '\n';
    char buf[64];
    for (std::size_t w = 0; w < n_windows; ++w) {
      const double t0 = double(w * inc) / fs_hz, t1 = double(w * inc + len) / fs_hz;
      std::snprintf(buf, sizeof buf, "%.6g,%.6g,", t0, t1);
      csv << buf << (predicted[w] < k ? classes[predicted[w]] : std::string("none"));
      for (std::size_t c = 0; c < k; ++c) {
        std::snprintf(buf, sizeof buf, ",%.6g", probs[w * k + c]);
        csv << buf;
      }
      csv << '\n';
    }
    if (!csv) return make_error(ErrorCode::io, opt.out->string(), 0, "cannot be written");
  }

  char line[160];
  ctx.out << input.filename().string() << ": " << n_windows << " windows of " << len << " samples every " << inc
          << " (" << format_double(double(n) / fs_hz) << " s), model classes " << join(classes) << "\n";
  for (std::size_t c = 0; c < k; ++c) {
    std::snprintf(line, sizeof line, "  %-12s %6zu  %5.1f %%\n", classes[c].c_str(), histogram[c],
                  100.0 * double(histogram[c]) / double(n_windows));
    ctx.out << line;
  }
  if (!rec->label.empty()) {
    const auto it = std::find(classes.begin(), classes.end(), rec->label);
    if (it == classes.end()) {
      ctx.out << "file label '" << rec->label << "' is not one of the model's classes: no accuracy\n";
    } else {
      const std::size_t truth = std::size_t(it - classes.begin());
      std::snprintf(line, sizeof line, "accuracy against the file's label '%s': %.1f %% (%zu of %zu windows)\n",
                    rec->label.c_str(), 100.0 * double(histogram[truth]) / double(n_windows), histogram[truth],
                    n_windows);
      ctx.out << line;
    }
  }
  if (opt.out) ctx.out << "wrote " << opt.out->string() << "\n";
  return {};
}

}  // namespace myoexo::app
