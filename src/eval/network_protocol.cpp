#include "eval/network_protocol.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "eval/metrics.hpp"
#include "eval/parallel.hpp"
#include "models/torch/network_regressor.hpp"

namespace myoexo::eval {

namespace {

/// Writes window i (with `context` past samples, zeros before its origin) as float [channels x (context+len)].
void copy_input(const WindowSet& set, std::size_t i, std::size_t context, float* out) {
  set.copy_window_with_context(i, context, out);
}

/// Predicted classes of windows `idx` with `model`, in batches.
Status predict_windows(models::TorchClassifier& model, const WindowSet& set, std::span<const std::size_t> idx,
                       std::size_t context, std::size_t batch, std::span<int> predicted,
                       std::span<double> probabilities = {}) {
  const std::size_t cols = model.n_inputs(), k = model.n_classes();
  batch = std::max<std::size_t>(batch, 1);
  if (Status s = model.reserve(std::min(batch, std::max<std::size_t>(idx.size(), 1))); !s) return s;
  std::vector<float> rowf(cols);
  std::vector<double> rows(batch * cols), probs(batch * k);
  for (std::size_t b0 = 0; b0 < idx.size(); b0 += batch) {
    const std::size_t nb = std::min(batch, idx.size() - b0);
    for (std::size_t r = 0; r < nb; ++r) {
      copy_input(set, idx[b0 + r], context, rowf.data());
      std::copy(rowf.begin(), rowf.end(), rows.begin() + std::ptrdiff_t(r * cols));
    }
    if (Status s = model.predict_proba(rows.data(), nb, cols, probs.data()); !s) return s;
    for (std::size_t r = 0; r < nb; ++r) {
      const double* p = probs.data() + r * k;
      predicted[b0 + r] = int(std::max_element(p, p + k) - p);
      if (probabilities.size() == idx.size() * k) std::copy(p, p + k, probabilities.begin() + std::ptrdiff_t((b0 + r) * k));
    }
  }
  return {};
}

/// The network of one fold: the data's channels and class names, the caller's architecture and the filter the
/// data went through (the caller's spec knows it).
models::NetworkSpec fold_network_spec(const WindowSet& set, const models::NetworkSpec& spec,
                                      const NetworkFitOptions& options) {
  DataSpec ds;
  ds.window.length = set.length;
  ds.window.increment = spec.input.window_increment;
  ds.filter_order = spec.input.filter.kind.empty() ? 0 : spec.input.filter.order;
  ds.band_low_hz = spec.input.filter.low_hz;
  ds.band_high_hz = spec.input.filter.high_hz;
  ds.denoise = spec.input.filter.denoise;
  models::NetworkSpec s = network_spec_for(*set.data, ds, spec, options.context_samples);
  s.input.filter = spec.input.filter;
  return s;
}

/// Trains one fold's network (errors name the fold) and hands it to options.on_trained (serialised).
Result<train::TrainResult> train_fold(const models::NetworkSpec& s, const train::TrainingSet& data,
                                      const train::TrainConfig& c, const FoldContext& fold,
                                      const NetworkFitOptions& options, std::mutex& callback_mutex) {
  auto trained = train::train_network(s, data, c);
  if (!trained) {
    Error e = trained.error();
    e.reason = std::string("fold ") + protocol_code(fold.protocol) + " " + fold.name + ": " + e.reason;
    return e;
  }
  if (options.on_trained) {
    std::lock_guard<std::mutex> lock(callback_mutex);
    options.on_trained(fold, trained->history, trained->model);
  }
  return trained;
}

}  // namespace

train::TrainingSet make_training_set(const WindowSet& set, std::span<const std::size_t> idx, std::size_t context) {
  train::TrainingSet ts;
  ts.channels = set.n_channels();
  ts.length = context + set.length;
  ts.X.resize(idx.size() * ts.channels * ts.length);
  ts.y.resize(idx.size());
  ts.subject.resize(idx.size());
  ts.recording.resize(idx.size());
  ts.start.resize(idx.size());
  for (std::size_t i = 0; i < idx.size(); ++i) {
    const WindowRef& w = set.windows[idx[i]];
    copy_input(set, idx[i], context, ts.X.data() + i * ts.channels * ts.length);
    ts.y[i] = w.label;
    ts.subject[i] = w.subject;
    ts.recording[i] = int(w.recording);
    ts.start[i] = w.start;
  }
  return ts;
}

models::NetworkSpec network_spec_for(const PreparedData& data, const DataSpec& spec, const models::NetworkSpec& arch_spec,
                                     std::size_t context) {
  models::NetworkSpec s = arch_spec;
  s.input.sample_rate_hz = data.sample_rate_hz;
  s.input.channel_names = data.channel_names;
  s.input.window_length = spec.window.length + context;
  s.input.window_increment = spec.window.increment;
  if (spec.filter_order > 0) {
    s.input.filter.kind = "bandpass";
    s.input.filter.order = spec.filter_order;
    s.input.filter.low_hz = spec.band_low_hz;
    s.input.filter.high_hz = spec.band_high_hz;
    s.input.filter.causal = true;
  } else {
    s.input.filter.kind = "";
  }
  s.input.filter.denoise = spec.denoise;
  s.class_names = data.class_names;
  s.normalisation = {};
  return s;
}

FitPredictFn make_network_fit_predict(const models::NetworkSpec& spec, const train::TrainConfig& cfg,
                                      const NetworkFitOptions& options) {
  auto callback_mutex = std::make_shared<std::mutex>();
  return [spec, cfg, options, callback_mutex](const WindowSet& set, std::span<const std::size_t> train_idx,
                                              std::span<const std::size_t> test_idx, std::span<int> predicted,
                                              const FoldContext& fold) -> Status {
    // Every fold gets its own network, data copy and config: nothing shared between concurrent folds.
    models::NetworkSpec s = fold_network_spec(set, spec, options);
    train::TrainConfig c = cfg;
    c.seed = cfg.seed + options.seed_stride * fold.index;
    if (!cfg.history_csv.empty()) {
      auto p = cfg.history_csv;
      p.replace_filename(p.stem().string() + "_" + protocol_code(fold.protocol) + "_" + fold.name + p.extension().string());
      c.history_csv = p;
    }
    const train::TrainingSet data = make_training_set(set, train_idx, options.context_samples);
    auto trained = train_fold(s, data, c, fold, options, *callback_mutex);
    if (!trained) return trained.error();
    return predict_windows(trained->model, set, test_idx, options.context_samples, options.predict_batch, predicted,
                           fold.probabilities);
  };
}

Result<train::TrainResult> train_angle_network(const models::NetworkSpec& spec, const WindowSet& set,
                                               std::span<const std::size_t> idx, std::span<const double> targets,
                                               const train::TrainConfig& cfg, std::size_t context_samples) {
  if (targets.size() != idx.size())
    return make_error(ErrorCode::invalid_argument, "knee-angle network: one target per window is needed");
  models::NetworkSpec s = spec;
  s.class_names = {models::kKneeAngleOutputName};
  train::TrainConfig c = cfg;
  c.balance_classes = false;
  train::TrainingSet data = make_training_set(set, idx, context_samples);
  double mean = 0, var = 0;
  for (double t : targets) mean += t;
  mean /= double(std::max<std::size_t>(targets.size(), 1));
  for (double t : targets) var += (t - mean) * (t - mean);
  const double sd = std::max(std::sqrt(var / double(std::max<std::size_t>(targets.size(), 1))), 1e-6);
  data.target.resize(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) data.target[i] = float((targets[i] - mean) / sd);
  std::fill(data.y.begin(), data.y.end(), 0);
  auto trained = train::train_network(s, data, c);
  if (!trained) return trained.error();
  if (Status st = trained->model.scale_outputs(sd, mean); !st) return st.error();
  return trained;
}

RegressFn make_network_regress(const models::NetworkSpec& spec, const train::TrainConfig& cfg,
                               const NetworkFitOptions& options) {
  auto callback_mutex = std::make_shared<std::mutex>();
  return [spec, cfg, options, callback_mutex](const WindowSet& set, std::span<const std::size_t> train_idx,
                                              std::span<const double> targets, std::span<const std::size_t> test_idx,
                                              std::span<double> estimates, const FoldContext& fold) -> Status {
    const models::NetworkSpec s = fold_network_spec(set, spec, options);
    train::TrainConfig c = cfg;
    c.seed = cfg.seed + options.seed_stride * fold.index;
    auto trained = train_angle_network(s, set, train_idx, targets, c, options.context_samples);
    if (!trained) {
      Error e = trained.error();
      e.reason = std::string("fold ") + protocol_code(fold.protocol) + " " + fold.name + ": " + e.reason;
      return e;
    }
    if (options.on_trained) {
      std::lock_guard<std::mutex> lock(*callback_mutex);
      options.on_trained(fold, trained->history, trained->model);
    }
    models::TorchClassifier& model = trained->model;
    const std::size_t cols = model.n_inputs(), batch = std::max<std::size_t>(options.predict_batch, 1);
    if (Status st = model.reserve(std::min(batch, std::max<std::size_t>(test_idx.size(), 1))); !st) return st;
    std::vector<float> rowf(cols);
    std::vector<double> rows(batch * cols), out(batch);
    for (std::size_t b0 = 0; b0 < test_idx.size(); b0 += batch) {
      const std::size_t nb = std::min(batch, test_idx.size() - b0);
      for (std::size_t r = 0; r < nb; ++r) {
        copy_input(set, test_idx[b0 + r], options.context_samples, rowf.data());
        std::copy(rowf.begin(), rowf.end(), rows.begin() + std::ptrdiff_t(r * cols));
      }
      if (Status st = model.predict_outputs(rows.data(), nb, cols, out.data()); !st) return st;
      for (std::size_t r = 0; r < nb; ++r) estimates[b0 + r] = out[r];  // degrees (scale folded in)
    }
    return {};
  };
}

// ---- Calibration ----------------------------------------------------------------------------------------------

const char* fine_tune_mode_name(FineTuneMode m) noexcept { return m == FineTuneMode::head ? "head" : "full"; }

double CalibrationResult::mean_accuracy(double seconds_, const std::string& mode) const {
  double sum = 0;
  std::size_t n = 0;
  for (const auto& c : cells)
    if (c.seconds == seconds_ && (seconds_ == 0 || c.mode == mode)) {
      sum += c.accuracy;
      ++n;
    }
  return n ? sum / double(n) : std::nan("");
}


Result<CalibrationResult> run_calibration(const PreparedData& data, const DataSpec& spec,
                                          const models::NetworkSpec& arch_spec, const CalibrationOptions& opt) {
  if (opt.seconds.empty() || opt.modes.empty())
    return make_error(ErrorCode::invalid_argument, "calibration: give at least one duration and one mode");
  for (double s : opt.seconds)
    if (!(s > 0) || !std::isfinite(s))
      return make_error(ErrorCode::invalid_argument, "calibration: durations must be > 0 s");
  const std::size_t len = spec.window.length, inc = spec.window.increment;
  const double max_s = *std::max_element(opt.seconds.begin(), opt.seconds.end());
  const std::size_t cut = std::size_t(std::llround(max_s * data.sample_rate_hz));

  std::vector<std::string> subjects = opt.subjects.empty() ? data.subjects : opt.subjects;
  for (const auto& s : subjects)
    if (std::find(data.subjects.begin(), data.subjects.end(), s) == data.subjects.end())
      return make_error(ErrorCode::invalid_argument, "calibration: unknown subject '" + s + "'");

  // One WindowSet for everything: whole recordings (LOSO training), per subject the calibration windows of
  // each N (inside [0, N s)) and the test windows (inside [max N, end)).
  WindowSet set;
  set.data = &data;
  set.length = len;
  const std::size_t n_rec = data.recordings.size();
  std::vector<std::vector<std::size_t>> whole(n_rec), test(n_rec);
  std::vector<std::vector<std::vector<std::size_t>>> calib(n_rec, std::vector<std::vector<std::size_t>>(opt.seconds.size()));
  for (std::size_t r = 0; r < n_rec; ++r) {
    const std::size_t n = data.recordings[r].n_samples;
    whole[r] = append_windows(set, r, 0, n, inc);
    for (std::size_t j = 0; j < opt.seconds.size(); ++j) {
      const std::size_t end = std::min(n, std::size_t(std::llround(opt.seconds[j] * data.sample_rate_hz)));
      calib[r][j] = append_windows(set, r, 0, end, inc);
    }
    if (cut < n) test[r] = append_windows(set, r, cut, n, inc);
  }

  models::NetworkSpec net = network_spec_for(data, spec, arch_spec, opt.network.context_samples);
  CalibrationResult result;
  result.seconds = opt.seconds;
  for (auto m : opt.modes) result.modes.push_back(fine_tune_mode_name(m));

  std::vector<std::optional<Result<std::vector<CalibrationCell>>>> per_subject(subjects.size());
  std::mutex progress_mutex;
  auto say = [&](const std::string& line) {
    if (!opt.progress) return;
    std::lock_guard<std::mutex> lock(progress_mutex);
    opt.progress(line);
  };
  auto work_one = [&](std::size_t si) -> Result<std::vector<CalibrationCell>> {
    const std::string& subj = subjects[si];
    const int sid = int(std::find(data.subjects.begin(), data.subjects.end(), subj) - data.subjects.begin());
    std::vector<std::size_t> train_idx, test_idx;
    std::vector<std::vector<std::size_t>> calib_idx(opt.seconds.size());
    for (std::size_t r = 0; r < n_rec; ++r) {
      if (data.recordings[r].subject == sid) {
        test_idx.insert(test_idx.end(), test[r].begin(), test[r].end());
        for (std::size_t j = 0; j < opt.seconds.size(); ++j)
          calib_idx[j].insert(calib_idx[j].end(), calib[r][j].begin(), calib[r][j].end());
      } else {
        train_idx.insert(train_idx.end(), whole[r].begin(), whole[r].end());
      }
    }
    if (test_idx.empty())
      return make_error(ErrorCode::invalid_argument, "calibration: subject " + subj + " has no window after " +
                                                         std::to_string(max_s) + " s");
    if (train_idx.empty()) return make_error(ErrorCode::empty, "calibration: no training subjects besides " + subj);
    std::optional<models::TorchClassifier> loso;
    if (opt.base_model) {
      auto loaded = opt.base_model(subj);
      if (!loaded) return loaded.error();
      const auto& in = loaded->spec().input;
      if (in.channel_names != net.input.channel_names || in.window_length != net.input.window_length ||
          loaded->class_names() != net.class_names)
        return make_error(ErrorCode::mismatch, "calibration: the given model of " + subj +
                                                   " was made for other channels, window length or classes");
      loso.emplace(std::move(*loaded));
    } else {
      train::TrainConfig base = opt.base;
      base.seed = opt.base.seed + opt.network.seed_stride * si;
      auto trained = train::train_network(net, make_training_set(set, train_idx, opt.network.context_samples), base);
      if (!trained) return trained.error();
      loso.emplace(std::move(trained->model));
    }

    auto score = [&](models::TorchClassifier& model, double seconds, const std::string& mode,
                     std::size_t n_cal) -> Result<CalibrationCell> {
      std::vector<int> pred(test_idx.size(), -1);
      if (Status s = predict_windows(model, set, test_idx, opt.network.context_samples, opt.network.predict_batch, pred); !s)
        return s.error();
      std::vector<int> truth(test_idx.size());
      for (std::size_t i = 0; i < test_idx.size(); ++i) truth[i] = set.windows[test_idx[i]].label;
      auto m = compute_metrics(truth, pred, data.class_names.size());
      if (!m) return m.error();
      CalibrationCell c{subj, seconds, mode, n_cal, test_idx.size(), m->accuracy, m->balanced_accuracy, m->macro_f1};
      char line[160];
      std::snprintf(line, sizeof line, "calibration %-6s %5.1f s %-4s  calib %5zu test %5zu  accuracy %.4f",
                    subj.c_str(), seconds, mode.c_str(), n_cal, test_idx.size(), m->accuracy);
      say(line);
      return c;
    };
    std::vector<CalibrationCell> cells;
    auto base_cell = score(*loso, 0.0, "none", 0);
    if (!base_cell) return base_cell.error();
    cells.push_back(*base_cell);
    for (std::size_t j = 0; j < opt.seconds.size(); ++j) {
      if (calib_idx[j].size() < 2)
        return make_error(ErrorCode::invalid_argument, "calibration: subject " + subj + " has fewer than two windows in " +
                                                           std::to_string(opt.seconds[j]) + " s");
      const train::TrainingSet cal = make_training_set(set, calib_idx[j], opt.network.context_samples);
      for (FineTuneMode mode : opt.modes) {
        models::TorchClassifier copy = *loso;  // deep copy: every cell starts from the LOSO model
        train::TrainConfig ft = opt.fine_tune;
        ft.trainable = mode == FineTuneMode::head ? train::Trainable::head : train::Trainable::all;
        ft.validation = train::ValidationSplit::none;
        ft.seed = opt.fine_tune.seed + si;
        auto h = train::fine_tune(copy, cal, ft);
        if (!h) return h.error();
        auto cell = score(copy, opt.seconds[j], fine_tune_mode_name(mode), cal.size());
        if (!cell) return cell.error();
        cells.push_back(*cell);
      }
    }
    return cells;
  };
  for_each_index_parallel(subjects.size(), opt.parallel_subjects, [&](std::size_t si) {
    auto r = work_one(si);
    const bool ok = bool(r);
    per_subject[si] = std::move(r);
    return ok;
  });
  for (auto& r : per_subject)
    if (r && !*r) return r->error();
  for (auto& r : per_subject)
    if (r) result.cells.insert(result.cells.end(), (*r)->begin(), (*r)->end());
  return result;
}

nlohmann::json calibration_to_json(const CalibrationResult& r) {
  using nlohmann::json;
  json j;
  j["seconds"] = r.seconds;
  j["modes"] = r.modes;
  json cells = json::array();
  for (const auto& c : r.cells)
    cells.push_back({{"subject", c.subject}, {"seconds", c.seconds}, {"mode", c.mode}, {"n_calibration", c.n_calibration},
                     {"n_test", c.n_test}, {"accuracy", c.accuracy}, {"balanced_accuracy", c.balanced_accuracy},
                     {"macro_f1", c.macro_f1}});
  j["cells"] = std::move(cells);
  j["baseline"] = r.mean_accuracy(0.0, "none");
  json mean = json::object();
  for (const auto& m : r.modes) {
    json v = json::array();
    for (double s : r.seconds) v.push_back(r.mean_accuracy(s, m));
    mean[m] = std::move(v);
  }
  j["mean"] = std::move(mean);
  return j;
}

std::string calibration_table_markdown(const CalibrationResult& r) {
  auto cell = [&](double seconds, const std::string& mode) {
    double sum = 0, mn = 2;
    std::size_t n = 0;
    for (const auto& c : r.cells)
      if (c.seconds == seconds && (seconds == 0 || c.mode == mode)) {
        sum += c.accuracy;
        mn = std::min(mn, c.accuracy);
        ++n;
      }
    if (n == 0) return std::string("-");
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.1f %% (%.1f %%)", 100.0 * sum / double(n), 100.0 * mn);
    return std::string(buf);
  };
  std::string out = "| calibration s |";
  for (const auto& m : r.modes) out += " " + m + " fine-tune: mean (min) |";
  out += "\n|---|";
  for (std::size_t i = 0; i < r.modes.size(); ++i) out += "---|";
  out += "\n| 0 (LOSO model) |";
  for (std::size_t i = 0; i < r.modes.size(); ++i) out += " " + cell(0.0, "none") + " |";
  out += "\n";
  for (double s : r.seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "| %g |", s);
    out += buf;
    for (const auto& m : r.modes) out += " " + cell(s, m) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace myoexo::eval
