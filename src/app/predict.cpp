// `myoexo predict`: a trained network file applied to one recording, window by window.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "app/common.hpp"
#include "app/train_cmd.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/sos_filter.hpp"
#include "models/torch/torch_classifier.hpp"

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

}  // namespace

Status run_predict(const Context& ctx, const PredictOptions& opt) {
  if (opt.batch == 0) return make_error(ErrorCode::invalid_argument, "--batch must be >= 1");
  auto model = models::TorchClassifier::load(resolve_input_path(ctx, opt.model));
  if (!model) return model.error();
  const models::NetworkSpec& spec = model->spec();
  const models::InputSpec& in = spec.input;

  const fs::path input = resolve_input_path(ctx, opt.input);
  auto rec = io::read_recording(input);
  if (!rec) return rec.error();

  // The model's channels, by name, in the model's order.
  std::vector<std::size_t> which;
  std::vector<std::string> missing;
  for (const auto& name : in.channel_names) {
    const int c = rec->channel_index(name);
    if (c < 0) missing.push_back(name);
    else which.push_back(std::size_t(c));
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (!missing.empty())
    return make_error(ErrorCode::mismatch, input.string(), 0,
                      "the model needs channels " + join(in.channel_names) + " but the file has " +
                          join(rec->channel_names) + " (missing " + join(missing) + ")");
  if (std::abs(rec->sample_rate_hz - in.sample_rate_hz) > 1e-6 * in.sample_rate_hz)
    return make_error(ErrorCode::mismatch, input.string(), 0,
                      "sampled at " + format_double(rec->sample_rate_hz) + " Hz; the model was trained at " +
                          format_double(in.sample_rate_hz) + " Hz");
  const std::size_t n = rec->n_samples, nch = which.size(), len = in.window_length, inc = in.window_increment;
  if (n < len)
    return make_error(ErrorCode::invalid_argument, input.string() + " has " + std::to_string(n) +
                                                       " samples, fewer than one window (" + std::to_string(len) + ")");

  // The model's channels as one channel-major block, filtered as the model's training data were.
  std::vector<double> block(nch * n);
  for (std::size_t k = 0; k < nch; ++k) {
    auto ch = rec->channel(which[k]);
    std::copy(ch.begin(), ch.end(), block.begin() + std::ptrdiff_t(k * n));
  }
  auto design = design_for(in.filter, in.sample_rate_hz);
  if (!design) return design.error();
  if (*design) {
    if (in.filter.causal) {
      auto filter = dsp::SosFilter::create(**design, nch);
      if (!filter) return filter.error();
      if (auto s = filter->process_channel_major(block, block, n); !s) return s;
    } else if (auto s = dsp::sosfiltfilt(**design, block, nch, block); !s) {
      return s;
    }
  }

  const std::size_t n_windows = (n - len) / inc + 1, k = model->n_classes(), cols = nch * len;
  const std::size_t batch = std::min(opt.batch, n_windows);
  if (auto s = model->reserve(batch); !s) return s;
  std::vector<double> rows(batch * cols), probs(n_windows * k);
  for (std::size_t w0 = 0; w0 < n_windows; w0 += batch) {
    const std::size_t nb = std::min(batch, n_windows - w0);
    for (std::size_t r = 0; r < nb; ++r) {
      const std::size_t start = (w0 + r) * inc;
      for (std::size_t c = 0; c < nch; ++c)
        std::copy_n(block.begin() + std::ptrdiff_t(c * n + start), len, rows.begin() + std::ptrdiff_t(r * cols + c * len));
    }
    if (auto s = model->predict_proba(rows.data(), nb, cols, probs.data() + w0 * k); !s) return s;
  }
  std::vector<std::size_t> predicted(n_windows), histogram(k, 0);
  for (std::size_t w = 0; w < n_windows; ++w) {
    const double* p = probs.data() + w * k;
    predicted[w] = std::size_t(std::max_element(p, p + k) - p);
    ++histogram[predicted[w]];
  }
  const auto& classes = model->class_names();

  if (opt.out) {
    if (auto s = ensure_parent_dir(*opt.out); !s) return s;
    std::ofstream csv(*opt.out, std::ios::trunc);
    csv << "window_start_s,window_end_s,predicted";
    for (const auto& c : classes) csv << ",p_" << c;
    csv << '\n';
    char buf[64];
    for (std::size_t w = 0; w < n_windows; ++w) {
      const double t0 = double(w * inc) / in.sample_rate_hz, t1 = double(w * inc + len) / in.sample_rate_hz;
      std::snprintf(buf, sizeof buf, "%.6g,%.6g,", t0, t1);
      csv << buf << classes[predicted[w]];
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
          << " (" << format_double(double(n) / in.sample_rate_hz) << " s), model classes " << join(classes) << "\n";
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
