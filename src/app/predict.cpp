// `myoexo predict`: a trained model file (a network, or an LDA pipeline model) applied to one recording, window by
// window.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "app/common.hpp"
#include "app/model_file.hpp"
#include "app/train_cmd.hpp"

#include <nlohmann/json.hpp>

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

Status run_predict(const Context& ctx, const PredictOptions& opt) {
  if (opt.batch == 0) return make_error(ErrorCode::invalid_argument, "--batch must be >= 1");
  const fs::path model_path = resolve_input_path(ctx, opt.model);
  auto model = load_model(model_path);
  if (!model) return model.error();
  const fs::path input = resolve_input_path(ctx, opt.input);
  auto rec = io::read_recording(input);
  if (!rec) return rec.error();
  auto wp = model_window_probabilities(*model, *rec, opt.batch);
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

  if (ctx.json) {
    nlohmann::json j;
    j["input"] = input.string();
    j["model"] = model_path.string();
    j["classes"] = classes;
    j["windows"] = n_windows;
    j["window_samples"] = len;
    j["increment_samples"] = inc;
    j["sample_rate_hz"] = fs_hz;
    j["duration_s"] = double(n) / fs_hz;
    nlohmann::json counts = nlohmann::json::object();
    for (std::size_t c = 0; c < k; ++c) counts[classes[c]] = histogram[c];
    j["predicted_windows"] = counts;
    j["file_label"] = rec->label.empty() ? nlohmann::json(nullptr) : nlohmann::json(rec->label);
    const auto it = std::find(classes.begin(), classes.end(), rec->label);
    j["accuracy"] = (rec->label.empty() || it == classes.end() || n_windows == 0)
                        ? nlohmann::json(nullptr)
                        : nlohmann::json(double(histogram[std::size_t(it - classes.begin())]) / double(n_windows));
    j["predictions_csv"] = opt.out ? nlohmann::json(opt.out->string()) : nlohmann::json(nullptr);
    ctx.out << j.dump(2) << '\n';
    return {};
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
