// `myoexo calibrate`: the transfer-learning protocol as a report folder.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <system_error>
#include <thread>

#include "app/common.hpp"
#include "app/knee_network.hpp"
#include "app/model_file.hpp"
#include "session/model.hpp"
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

// Samples [begin, end) of a recording, labels kept.
io::Recording crop(const io::Recording& r, std::size_t begin, std::size_t end) {
  io::Recording out = r;
  out.n_samples = end - begin;
  out.samples.clear();
  out.samples.reserve(r.n_channels() * out.n_samples);
  for (std::size_t c = 0; c < r.n_channels(); ++c) {
    const auto ch = r.channel(c);
    out.samples.insert(out.samples.end(), ch.begin() + std::ptrdiff_t(begin), ch.begin() + std::ptrdiff_t(end));
  }
  if (!r.sample_labels.empty())
    out.sample_labels.assign(r.sample_labels.begin() + std::ptrdiff_t(begin), r.sample_labels.begin() + std::ptrdiff_t(end));
  return out;
}

struct Score {
  std::size_t windows = 0, correct = 0;
  double accuracy() const { return windows ? double(correct) / double(windows) : std::numeric_limits<double>::quiet_NaN(); }
};

// Window accuracy of a model on recordings, as `predict` classifies them: the class of highest probability against
// the window's label (the file's, or the per-sample label at the window's last sample).
Result<Score> score_model(const session::PipelineModel& m, const std::vector<io::Recording>& recordings) {
  Score sc;
  for (const auto& r : recordings) {
    auto wp = model_window_probabilities(m, r);
    if (!wp) return wp.error();
    const std::size_t k = wp->classes.size();
    for (std::size_t w = 0; w < wp->n_windows; ++w) {
      const std::string truth = window_label(r, w * wp->inc, wp->len);
      if (truth.empty()) continue;
      const double* p = wp->probs.data() + w * k;
      if (!std::isfinite(p[0])) continue;
      const std::size_t best = std::size_t(std::max_element(p, p + k) - p);
      ++sc.windows;
      if (wp->classes[best] == truth) ++sc.correct;
    }
  }
  return sc;
}

// `myoexo calibrate --model BASE --dataset PERSON --seconds S --out PERSON_MODEL`: a calibrated model for one
// person, written as a model file `run` loads, and scored against the base on the rest of the person's recordings.
Status run_calibrate_person(const Context& ctx, const CalibrateOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.seconds.size() != 1 || !(opt.seconds[0] > 0) || !std::isfinite(opt.seconds[0]))
    return make_error(ErrorCode::invalid_argument, "--seconds: one duration > 0 with --model (the calibration time "
                                                   "per recording)");
  if (!opt.model_out || opt.model_out->empty())
    return make_error(ErrorCode::invalid_argument, "--out FILE: where to write the calibrated model");
  const double seconds = opt.seconds[0];
  const double test_from = opt.test_from_s.value_or(seconds);
  if (!(test_from >= seconds) || !std::isfinite(test_from))
    return make_error(ErrorCode::invalid_argument, "--test-from must be at least --seconds (the calibration data are "
                                                   "not test data)");
  auto base = load_model(*opt.model);
  if (!base) return base.error();
  const bool network = base->network != nullptr;
  if (network && opt.modes.size() != 1)
    return make_error(ErrorCode::invalid_argument, "--modes: one fine-tuning mode (head or full) with --model");
  if (network && opt.lda_method != "refit")
    return make_error(ErrorCode::invalid_argument, "--lda-method: the model is a network (it is fine-tuned)");
  if (opt.lda_method != "refit" && opt.lda_method != "adapt")
    return make_error(ErrorCode::invalid_argument, "--lda-method: refit or adapt, not '" + opt.lda_method + "'");
  if (network && opt.modes[0] != "head" && opt.modes[0] != "full")
    return make_error(ErrorCode::invalid_argument, "--modes: head or full, not '" + opt.modes[0] + "'");
  if (const auto ext = opt.model_out->extension().string(); network ? ext != ".pt" : ext != ".json")
    return make_error(ErrorCode::invalid_argument, opt.model_out->string(), 0,
                      std::string("--out: a calibrated ") + (network ? "network is a .pt file" : "LDA model is a .json file"));
  if (auto s = ensure_parent_dir(*opt.model_out); !s) return s;

  // The person's labelled recordings, each cut at S s: before it calibrates, after it tests.
  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  auto recordings = select_subjects(*ds, opt.subjects, {});
  if (!recordings) return recordings.error();
  std::vector<io::Recording> calib, rest;
  std::vector<std::string> calib_files, subjects;
  for (const auto& r : *recordings) {
    if (r.label.empty() && r.sample_labels.empty()) continue;
    const bool copy_of_another = std::any_of(ds->duplicates.begin(), ds->duplicates.end(),
                                             [&](const auto& d) { return d.second == r.source_path; });
    if (copy_of_another) continue;  // a content duplicate (UCI's 2Npie/2Nsen): the first copy only
    if (std::abs(r.sample_rate_hz - base->sample_rate_hz) > 1e-9)
      return make_error(ErrorCode::mismatch, r.source_path.string(), 0,
                        "sampled at " + format_double(r.sample_rate_hz) + " Hz; the model at " +
                            format_double(base->sample_rate_hz) + " Hz");
    const std::size_t cut = std::min(r.n_samples, std::size_t(std::llround(seconds * r.sample_rate_hz)));
    if (cut < base->window_len) continue;  // too short to give one calibration window
    calib.push_back(crop(r, 0, cut));
    calib_files.push_back(r.source_path.filename().string());
    const std::size_t test_cut = std::size_t(std::llround(test_from * r.sample_rate_hz));
    if (r.n_samples >= test_cut + base->window_len) rest.push_back(crop(r, test_cut, r.n_samples));
    if (std::find(subjects.begin(), subjects.end(), r.subject_id) == subjects.end()) subjects.push_back(r.subject_id);
  }
  if (calib.empty())
    return make_error(ErrorCode::invalid_argument, "no labelled recording of the chosen person is longer than one "
                                                   "window (" + std::to_string(base->window_len) + " samples)");
  std::string who = join(subjects);
  if (who.empty()) who = "the person";
  const std::string from = opt.model->filename().string() + ", first " + format_double(seconds) + " s of " +
                           std::to_string(calib.size()) + " recording(s) of " + who;
  log_line(ctx, "calibrating " + model_classifier_name(*base) + " (" + opt.model->filename().string() + ") to " + who +
                    " with the first " + format_double(seconds) + " s of " + std::to_string(calib.size()) +
                    " recording(s) ...");

  std::string how;
  if (network) {
    auto loaded = models::TorchClassifier::load(*opt.model);
    if (!loaded) return loaded.error();
    models::TorchClassifier& copy = *loaded;
    auto spec = data_spec_for_network(copy.spec());
    if (!spec) return spec.error();
    auto data = eval::prepare_data(calib, *spec);
    if (!data) return data.error();
    if (data->class_names != copy.class_names())
      return make_error(ErrorCode::mismatch, "the person's recordings have classes " + join(data->class_names) +
                                                 "; the model has " + join(copy.class_names()) +
                                                 " (record every class the model decides)");
    eval::WindowSet set;
    const std::vector<std::size_t> idx = labelled_windows(*data, *spec, set);
    if (idx.size() < 2) return make_error(ErrorCode::empty, "fewer than two calibration windows");
    auto config = resolve_network_config(opt.config);
    if (!config) return config.error();
    auto cfg = train::load_train_config(*config);
    if (!cfg) return cfg.error();
    train::TrainConfig ft = *cfg;
    ft.epochs = opt.fine_tune_epochs;
    ft.early_stopping_patience = 0;
    ft.validation = train::ValidationSplit::none;
    ft.history_csv.clear();
    ft.trainable = opt.modes[0] == "head" ? train::Trainable::head : train::Trainable::all;
    if (opt.fine_tune_lr) ft.learning_rate = *opt.fine_tune_lr;
    if (ctx.quiet) ft.progress = false;
    if (auto s = train::validate_train_config(ft); !s) return s;
    auto h = train::fine_tune(copy, eval::make_training_set(set, idx), ft);
    if (!h) return h.error();
    models::ModelCard card = copy.spec().card;
    card.trained_on.insert(card.trained_on.end(), calib_files.begin(), calib_files.end());
    card.adapted_from = from + " (fine-tuning: " + opt.modes[0] + ", " + std::to_string(ft.epochs) + " epochs, " +
                        std::to_string(idx.size()) + " windows)";
    card.provenance = session::current_provenance();
    copy.set_card(std::move(card));
    if (auto s = copy.save(*opt.model_out); !s) return s;
    how = opt.modes[0] + " fine-tuning, " + std::to_string(ft.epochs) + " epochs on " + std::to_string(idx.size()) +
          " windows";
  } else if (opt.lda_method == "adapt") {
    // The LDA family, adapted: the base's class means and pooled covariance move towards the person's, so a few
    // seconds shift the boundaries without the person's few windows having to define them alone.
    auto adapted = session::adapt_pipeline_model(calib, *base, opt.base_weight_windows);
    if (!adapted) return adapted.error();
    adapted->class_intents = base->class_intents;
    adapted->adapted_from = from + " (class means and covariance adapted to the person's windows, the base weighing " +
                            format_double(opt.base_weight_windows) + " windows; filter and features kept)";
    if (auto s = save_pipeline_model_files(*adapted, *opt.model_out); !s) return s;
    how = "class means and covariance adapted, base weight " + format_double(opt.base_weight_windows) + " windows";
  } else {
    // The LDA family: the same filter, windows and features, the discriminant refitted on the person's windows.
    // Seconds of data give fewer windows than the features need for a covariance of their own: Ledoit-Wolf
    // shrinkage keeps the refit well conditioned (without it 2 s per recording fell below the base model).
    models::LdaOptions lda_options;
    lda_options.solver = models::LdaSolver::lsqr;
    lda_options.shrinkage = models::LdaShrinkage::ledoit_wolf;
    auto refit = session::train_pipeline_model(calib, *base, lda_options);
    if (!refit) return refit.error();
    if (refit->lda.class_names() != base->lda.class_names())
      return make_error(ErrorCode::mismatch, "the person's recordings have classes " + join(refit->lda.class_names()) +
                                                 "; the model has " + join(base->lda.class_names()) +
                                                 " (record every class the model decides)");
    refit->class_intents = base->class_intents;
    refit->adapted_from = from + " (the discriminant refitted on the person's windows with Ledoit-Wolf shrinkage; "
                                 "filter and features kept)";
    if (auto s = save_pipeline_model_files(*refit, *opt.model_out); !s) return s;
    how = "the discriminant refitted on the person's windows, Ledoit-Wolf shrinkage";
  }
  const double calib_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Both models on the rest of the person's recordings, as `predict` classifies.
  auto calibrated = load_model(*opt.model_out);
  if (!calibrated) return calibrated.error();
  Score before, after;
  if (!rest.empty()) {
    auto b = score_model(*base, rest);
    if (!b) return b.error();
    auto a = score_model(*calibrated, rest);
    if (!a) return a.error();
    before = *b;
    after = *a;
  }
  nlohmann::json j;
  j["base_model"] = opt.model->string();
  j["calibrated_model"] = opt.model_out->string();
  j["classifier"] = model_classifier_name(*base);
  j["calibration"] = {{"seconds_per_recording", seconds}, {"recordings", calib_files}, {"subjects", subjects},
                      {"method", how}, {"wall_s", calib_wall_s}};
  j["test"] = {{"from_s", test_from}, {"recordings", rest.size()}, {"windows", before.windows},
               {"base_accuracy", before.windows ? nlohmann::json(before.accuracy()) : nlohmann::json()},
               {"calibrated_accuracy", after.windows ? nlohmann::json(after.accuracy()) : nlohmann::json()}};
  fs::path report = *opt.model_out;
  report.replace_extension(".calibration.json");
  {
    std::ofstream out(report, std::ios::trunc);
    out << j.dump(2) << '\n';
    if (!out) return make_error(ErrorCode::io, report.string(), 0, "cannot be written");
  }
  ctx.out << "calibrated " << model_classifier_name(*base) << " to " << who << " (" << how << ") in "
          << format_double(std::round(calib_wall_s * 10) / 10) << " s; wrote " << opt.model_out->string() << "\n";
  if (before.windows > 0) {
    char line[200];
    std::snprintf(line, sizeof line, "on the rest of the person's recordings (%zu windows after %s s): base %.1f %%, "
                  "calibrated %.1f %%\n", before.windows, format_double(test_from).c_str(), 100 * before.accuracy(),
                  100 * after.accuracy());
    ctx.out << line;
  } else {
    ctx.out << "no recording is longer than " << format_double(test_from) << " s plus a window: nothing left to test on\n";
  }
  ctx.out << "report: " << report.string() << "\n";
  return {};
}

}  // namespace

Status run_calibrate(const Context& ctx, const CalibrateOptions& opt) {
  if (opt.model) return run_calibrate_person(ctx, opt);
  const auto t0 = std::chrono::steady_clock::now();
  auto loaded = load_network_config(opt.config);
  if (!loaded) return loaded.error();
  const models::NetworkSpec& net = loaded->network;
  const train::TrainConfig& cfg = loaded->train;
  auto spec = data_spec_for_network(net);
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

  co.base = cfg;
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

  const std::string model_name = std::string(models::arch_kind_name(net.arch.kind)) + " (" +
                                 loaded->path.filename().string() + ")";
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
  auto result = eval::run_calibration(*data, *spec, net, co);
  if (!result) return result.error();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::vector<std::string> held_out = opt.subjects.empty() ? data->subjects : opt.subjects;
  const double max_s = *std::max_element(opt.seconds.begin(), opt.seconds.end());
  nlohmann::json j = eval::calibration_to_json(*result);
  j["model"] = model_name;
  j["config"] = loaded->path.string();
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
