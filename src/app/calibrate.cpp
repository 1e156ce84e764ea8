// `myoexo calibrate`: the transfer-learning protocol as a report folder.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <system_error>
#include <thread>

#include "app/common.hpp"
#include "app/train_cmd.hpp"
#include "eval/network_protocol.hpp"
#include "report/report.hpp"
#include "train/train.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Mean accuracy against calibration seconds: one line per mode starting at the 0-s LOSO model, and the
// LOSO baseline as a horizontal reference over the whole range.
Status write_calibration_plot(const eval::CalibrationResult& r, const std::string& model_name, const fs::path& png) {
  const double baseline = r.mean_accuracy(0.0, "none");
  const double max_s = r.seconds.empty() ? 1.0 : *std::max_element(r.seconds.begin(), r.seconds.end());
  std::vector<double> xs = r.seconds;
  std::sort(xs.begin(), xs.end());
  report::LinePlot plot;
  std::size_t n_subjects = 0;
  {
    std::vector<std::string> seen;
    for (const auto& c : r.cells)
      if (!contains(seen, c.subject)) seen.push_back(c.subject);
    n_subjects = seen.size();
  }
  plot.title = model_name + ": calibration, mean of " + std::to_string(n_subjects) + " held-out subject(s)";
  plot.x_label = "Calibration data per recording (s)";
  plot.y_label = "Accuracy on the rest (%)";
  for (const auto& mode : r.modes) {
    report::Series s;
    s.name = mode + " fine-tuning";
    s.x.push_back(0.0);
    s.y.push_back(100.0 * baseline);
    for (double x : xs) {
      s.x.push_back(x);
      s.y.push_back(100.0 * r.mean_accuracy(x, mode));
    }
    plot.series.push_back(std::move(s));
  }
  report::Series base;
  base.name = "no calibration (LOSO model)";
  base.x = {0.0, max_s};
  base.y = {100.0 * baseline, 100.0 * baseline};
  plot.series.push_back(std::move(base));
  return report::plot_lines(plot, png);
}

}  // namespace

Status run_calibrate(const Context& ctx, const CalibrateOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto config = resolve_network_config(opt.config);
  if (!config) return config.error();
  auto net = models::load_network_spec(*config);
  if (!net) return net.error();
  auto cfg = train::load_train_config(*config);
  if (!cfg) return cfg.error();
  auto spec = data_spec_for_network(*net);
  if (!spec) return spec.error();

  eval::CalibrationOptions co;
  co.seconds = opt.seconds;
  if (co.seconds.empty()) return make_error(ErrorCode::invalid_argument, "--seconds: give at least one duration");
  for (double s : co.seconds)
    if (!(s > 0) || !std::isfinite(s))
      return make_error(ErrorCode::invalid_argument, "--seconds: durations must be > 0, not " + format_double(s));
  co.modes.clear();
  for (const auto& m : opt.modes) {
    if (m == "head") co.modes.push_back(eval::FineTuneMode::head);
    else if (m == "full") co.modes.push_back(eval::FineTuneMode::full);
    else return make_error(ErrorCode::invalid_argument, "--modes: each mode must be head or full, not '" + m + "'");
  }
  if (co.modes.empty()) return make_error(ErrorCode::invalid_argument, "--modes: give head, full or both");
  if (opt.fine_tune_epochs == 0) return make_error(ErrorCode::invalid_argument, "--fine-tune-epochs must be >= 1");

  co.base = *cfg;
  if (opt.epochs) co.base.epochs = *opt.epochs;
  co.base.history_csv.clear();
  co.fine_tune = co.base;
  co.fine_tune.epochs = opt.fine_tune_epochs;
  co.fine_tune.early_stopping_patience = 0;
  co.fine_tune.progress = false;  // dozens of short runs: the per-cell lines say enough
  if (opt.fine_tune_lr) co.fine_tune.learning_rate = *opt.fine_tune_lr;
  if (auto s = train::validate_train_config(co.base); !s) return s;
  co.fine_tune.validation = train::ValidationSplit::none;
  if (auto s = train::validate_train_config(co.fine_tune); !s) return s;

  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the output folder");

  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  const std::vector<std::string> known = ds->subjects();
  for (const auto& s : opt.subjects)
    if (!contains(known, s))
      return make_error(ErrorCode::invalid_argument, "unknown subject '" + s + "' (the data set has " + join(known) + ")");
  std::vector<std::string> keep;
  if (!opt.train_subjects.empty()) {
    keep = opt.train_subjects;
    for (const auto& s : opt.subjects)
      if (!contains(keep, s)) keep.push_back(s);
  }
  auto recordings = select_subjects(*ds, keep, {});
  if (!recordings) return recordings.error();
  auto data = eval::prepare_data(*recordings, *spec);
  if (!data) return data.error();
  co.subjects = opt.subjects;
  {
    // The test windows lie after the largest N: say which --seconds a short-recorded subject allows, before
    // any training (the library would only fail after training that subject's LOSO model).
    const double max_s = *std::max_element(opt.seconds.begin(), opt.seconds.end());
    const double window_s = double(spec->window.length) / data->sample_rate_hz;
    for (std::size_t si = 0; si < data->subjects.size(); ++si) {
      const std::string& name = data->subjects[si];
      if (!opt.subjects.empty() && !contains(opt.subjects, name)) continue;
      double longest_s = 0;
      for (const auto& r : data->recordings)
        if (r.subject == int(si)) longest_s = std::max(longest_s, double(r.n_samples) / data->sample_rate_hz);
      if (max_s + window_s > longest_s)
        return make_error(ErrorCode::invalid_argument,
                          "--seconds " + format_double(max_s) + ": subject " + name + "'s longest recording is " +
                              format_double(std::floor(longest_s * 10) / 10) + " s, so no test window is left after " +
                              format_double(max_s) + " s; use durations below " +
                              format_double(std::floor((longest_s - window_s) * 10) / 10) +
                              " s or hold out other subjects");
    }
  }

  const std::size_t n_held = opt.subjects.empty() ? data->subjects.size() : opt.subjects.size();
  std::size_t jobs = opt.jobs;
  if (jobs == 0) jobs = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  jobs = std::max<std::size_t>(1, std::min(jobs, n_held));
  co.parallel_subjects = jobs;
  if (jobs > 1) {
    // One LibTorch thread per subject, and no interleaved progress bars.
    co.base.threads = 1;
    co.fine_tune.threads = 1;
    co.base.progress = false;
  }
  if (ctx.quiet) co.base.progress = false;
  if (!ctx.quiet) co.progress = [&ctx](const std::string& line) { ctx.err << "myoexo: " << line << '\n'; };

  const std::string model_name = std::string(models::arch_kind_name(net->arch.kind)) + " (" +
                                 config->filename().string() + ")";
  log_line(ctx, "calibration of " + model_name + ": " + std::to_string(n_held) + " held-out subject(s), LOSO base " +
                    std::to_string(co.base.epochs) + " epoch(s), fine-tuning " + std::to_string(co.fine_tune.epochs) +
                    " epoch(s), " + std::to_string(jobs) + " job(s) ...");
  if (opt.loso_models) {
    const fs::path dir = *opt.loso_models;
    co.base_model = [dir](const std::string& subject) -> Result<models::TorchClassifier> {
      const fs::path file = dir / ("L_" + subject + ".pt");
      std::error_code e;
      if (!fs::is_regular_file(file, e))
        return make_error(ErrorCode::io, file.string(), 0, "no leave-one-subject-out model for subject " + subject);
      return models::TorchClassifier::load(file);
    };
  }
  auto result = eval::run_calibration(*data, *spec, *net, co);
  if (!result) return result.error();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::vector<std::string> held_out = opt.subjects.empty() ? data->subjects : opt.subjects;
  const double max_s = *std::max_element(opt.seconds.begin(), opt.seconds.end());
  nlohmann::json j = eval::calibration_to_json(*result);
  j["model"] = model_name;
  j["config"] = config->string();
  j["spec"] = spec->name;
  j["subjects"] = data->subjects;
  j["held_out"] = held_out;
  j["options"] = {{"base_epochs", co.base.epochs},
                  {"fine_tune_epochs", co.fine_tune.epochs},
                  {"fine_tune_learning_rate", co.fine_tune.learning_rate},
                  {"jobs", jobs},
                  {"window", {{"length", spec->window.length}, {"increment", spec->window.increment}}}};
  j["wall_s"] = wall_s;
  if (opt.loso_models) j["options"]["loso_models"] = opt.loso_models->string();
  {
    const fs::path file = opt.out_dir / "calibration.json";
    std::ofstream out(file, std::ios::trunc);
    out << j.dump(2) << '\n';
    if (!out) return make_error(ErrorCode::io, file.string(), 0, "cannot be written");
  }
  const std::string table = eval::calibration_table_markdown(*result);
  {
    const fs::path file = opt.out_dir / "calibration.md";
    std::ofstream md(file, std::ios::trunc);
    md << "# myoexo calibration: " << model_name << "\n\n"
       << "Transfer learning. For each held-out subject (" << join(held_out) << ") a "
       << "leave-one-subject-out model "
       << (opt.loso_models ? "trained on every other subject is loaded from " + opt.loso_models->string() + " (`myoexo evaluate "
                                 "--protocol L --save-loso-models`)"
                           : "is trained on every other subject (" + std::to_string(co.base.epochs) + " epochs)")
       << ", then "
       << "fine-tuned (" << co.fine_tune.epochs << " epochs, head = dense layers only, full = every layer) on the "
       << "windows lying entirely in the first N s of each of the subject's recordings, and tested on the windows "
       << "lying entirely after " << format_double(max_s) << " s (the same test windows for every N and mode). Row 0 is the "
       << "un-adapted model. Cells: mean (min) accuracy over held-out subjects. Data: " << spec->name
       << ", windows " << spec->window.length << "/" << spec->window.increment << ". All numbers: "
       << "[calibration.json](calibration.json).\n\n"
       << table << '\n';
    if (opt.plots) md << "![accuracy against calibration seconds](calibration.png)\n";
    if (!md) return make_error(ErrorCode::io, file.string(), 0, "cannot be written");
  }
  if (opt.plots)
    if (auto s = write_calibration_plot(*result, model_name, opt.out_dir / "calibration.png"); !s) return s;

  ctx.out << "calibration of " << model_name << " on " << held_out.size() << " held-out subject(s), "
          << format_double(std::round(wall_s * 10) / 10) << " s\n"
          << table << "written to " << fs::absolute(opt.out_dir).lexically_normal().string()
          << " (calibration.json, calibration.md" << (opt.plots ? ", calibration.png" : "") << ")\n";
  return {};
}

}  // namespace myoexo::app
