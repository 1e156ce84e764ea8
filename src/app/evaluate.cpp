// `myoexo evaluate`: UCI-LL v1 protocols with a model, written as a folder a person reads.
#include "app/evaluate.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <system_error>

#include "app/common.hpp"
#include "app/evaluate_tasks.hpp"
#include "models/front_end_settings.hpp"
#include "io/io.hpp"
#include "control/intent.hpp"
#include "eval/usage_metrics.hpp"
#include "realtime/postprocess.hpp"
#include "report/html.hpp"
#include "report/report.hpp"
#include "session/model.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include "eval/network_protocol.hpp"
#include "models/torch/network_spec.hpp"
#include "train/train.hpp"
#endif

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

std::string num(double v, int decimals = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string long_name(eval::Protocol p) {
  switch (p) {
    case eval::Protocol::within_subject: return "W: within subject (chronological 70/30 split per recording)";
    case eval::Protocol::pooled: return "P: pooled (one model on every subject's first 70 %)";
    case eval::Protocol::leave_one_subject_out: return "L: leave one subject out";
    case eval::Protocol::blocked_kfold: return "K: blocked k-fold";
  }
  return "?";
}

// Min over folds of a per-fold score (the summary only carries min accuracy).
template <typename Get>
double min_over_folds(const eval::ProtocolScores& p, Get get) {
  double m = std::numeric_limits<double>::infinity();
  for (const auto& f : p.folds) m = std::min(m, get(f.metrics));
  return p.folds.empty() ? 0.0 : m;
}

// "88.8 % (71.6 %)" for folds-per-subject protocols, "72.4 %" for P (one fold).
std::string mean_min_cell(const eval::ProtocolScores* p) {
  if (!p) return "—";
  if (p->protocol == eval::Protocol::pooled) return format_percent(p->mean_accuracy);
  return format_percent(p->mean_accuracy) + " (" + format_percent(p->min_accuracy) + ")";
}

// The 16 subjects the reference rows below were measured on (UCI lower-limb as kept in ../shared).
bool same_data_as_the_reference_rows(const eval::EvaluationResult& r, const eval::DataSpec& spec) {
  static const std::vector<std::string> kSubjects = {"11A", "11N", "1A", "1N", "2A", "2N", "3A", "3N",
                                                     "5A",  "5N",  "6A", "6N", "7A", "7N", "9A", "9N"};
  std::vector<std::string> subjects = r.subjects;
  std::sort(subjects.begin(), subjects.end());
  return r.spec_name == "UCI-LL v1" && subjects == kSubjects && spec.filter_order == 4 && spec.band_low_hz == 20.0 &&
         spec.band_high_hz == 450.0 && !spec.denoise;
}

// The comparison table: this run's row, then the rows of the Python reference implementations when they were
// measured on the same data with the same front end (else they would compare different things, and are left out).
std::vector<std::string> peer_table(const eval::EvaluationResult& r, const eval::DataSpec& spec) {
  using eval::Protocol;
  std::vector<std::string> t = {
      "| " + std::to_string(r.subjects.size()) + " subjects | W mean (min) | P | L mean (min) |",
      "|---|---|---|---|",
      "| **this run: " + r.model_name + "** | " + mean_min_cell(r.find(Protocol::within_subject)) + " | " +
          mean_min_cell(r.find(Protocol::pooled)) + " | " + mean_min_cell(r.find(Protocol::leave_one_subject_out)) +
          " |",
  };
  if (same_data_as_the_reference_rows(r, spec)) {
    t.push_back("| reference: LDA on HTD features, scikit-learn 1.2 | 88.8 % (71.6 %) | 72.4 % | 70.8 % (39.2 %) |");
    t.push_back("| reference: CNN, PyTorch 1.13, 30 epochs (L: 10) | 91.2 % (75.2 %) | 79.1 % | 69.0 % (37.7 %) |");
    t.push_back("");
    t.push_back("The first row was measured by this run. The reference rows are Python implementations of the same "
                "models (SciPy 1.10 filters, scikit-learn 1.2 LDA, PyTorch 1.13 CNN), measured once on these 16 "
                "subjects under the same protocol with the same 20-450 Hz band-pass (`bench/compare_protocol.py`). "
                "Targets: W mean >= 95 % with no subject below 85 %; L mean >= 80 % with no subject below 55 %.");
  } else {
    t.push_back("");
    t.push_back("Measured by this run. (The Python reference rows were measured on the 16 UCI subjects of this "
                "project's data folder with a 20-450 Hz band-pass and no wavelet stage; this run used other data or "
                "another front end, so they are not shown.)");
  }
  return t;
}

// Mean (min) accuracy of the held-out subjects of each group (UCI: "normal" and "abnormal" = knee pathology).
std::vector<std::string> group_table(const eval::EvaluationResult& r, std::span<const io::Recording> recordings) {
  std::map<std::string, std::string> group_of;
  for (const auto& rec : recordings)
    if (!rec.group.empty()) group_of[rec.subject_id] = rec.group == "abnormal" ? "knee pathology" : rec.group;
  std::set<std::string> groups;
  for (const auto& [s, g] : group_of) groups.insert(g);
  if (groups.size() < 2) return {};
  std::vector<std::string> t = {"| group | subjects | W mean (min) | L mean (min) |", "|---|---|---|---|"};
  for (const auto& g : groups) {
    std::string row = "| " + g + " | ";
    std::size_t n_subjects = 0;
    for (const auto& s : r.subjects) n_subjects += group_of.count(s) && group_of[s] == g;
    row += std::to_string(n_subjects) + " |";
    for (const auto proto : {eval::Protocol::within_subject, eval::Protocol::leave_one_subject_out}) {
      const eval::ProtocolScores* p = r.find(proto);
      double sum = 0, mn = 2;
      std::size_t n = 0;
      if (p)
        for (const auto& f : p->folds)
          if (group_of.count(f.name) && group_of[f.name] == g) {
            sum += f.metrics.accuracy;
            mn = std::min(mn, f.metrics.accuracy);
            ++n;
          }
      row += n ? " " + format_percent(sum / double(n)) + " (" + format_percent(mn) + ") |" : " — |";
    }
    t.push_back(row);
  }
  return t;
}

Status write_text(const fs::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::trunc);
  for (const auto& l : lines) out << l << '\n';
  if (!out) return make_error(ErrorCode::io, file.string(), 0, "cannot be written");
  return {};
}

// Row-normalised confusion matrix (seed Fig. 6).
Status write_confusion(const eval::EvaluationResult& r, const eval::ProtocolScores& p, const fs::path& png) {
  report::MatrixPlot m;
  m.title = std::string("Protocol ") + eval::protocol_code(p.protocol) + " - " + r.model_name +
            ": confusion (rows normalised), accuracy " + format_percent(p.summed.accuracy);
  m.row_names = r.class_names;
  m.col_names = r.class_names;
  m.values = p.summed.confusion_normalised;
  m.v_min = 0.0;
  m.v_max = 1.0;
  return report::plot_matrix(m, png);
}

// Per-class precision / recall / F1 bars (seed Fig. 9), from the confusion summed over folds.
Status write_per_class(const eval::EvaluationResult& r, const eval::ProtocolScores& p, const fs::path& png) {
  report::BarChart b;
  b.title = std::string("Protocol ") + eval::protocol_code(p.protocol) + " - " + r.model_name +
            ": per-class scores (summed over folds), macro-F1 " + num(p.summed.macro_f1);
  b.y_label = "Score";
  b.categories = r.class_names;
  b.groups = {"precision", "recall", "F1"};
  b.values.assign(3, {});
  for (const auto& c : p.summed.per_class) {
    b.values[0].push_back(c.precision);
    b.values[1].push_back(c.recall);
    b.values[2].push_back(c.f1);
  }
  b.y_min = 0.0;
  b.y_max = 1.1;  // room for the printed values above bars at 1.0
  return report::plot_bars(b, png);
}

// One example spectrogram per class (seed Fig. 5): the spectrogram channel of the training part (the first
// split_fraction) of one recording per class, from the prepared (band-passed, causal) data the models see.
Status write_class_spectrograms(const Context& ctx, const eval::PreparedData& data, const eval::DataSpec& spec,
                                std::span<const io::Recording> sources, const EvaluateOptions& opt,
                                EvaluateOutcome& outcome, std::vector<std::string>& md) {
  const auto ch_it = std::find(data.channel_names.begin(), data.channel_names.end(), opt.spectrogram_channel);
  if (ch_it == data.channel_names.end())
    return make_error(ErrorCode::invalid_argument, "the evaluation channels have no '" + opt.spectrogram_channel + "'");
  const auto ch = static_cast<std::size_t>(ch_it - data.channel_names.begin());
  // The first subject (natural order) that has every class, so all examples come from one person.
  std::vector<std::size_t> order(data.subjects.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return subject_less(data.subjects[a], data.subjects[b]); });
  int subject = -1;
  for (std::size_t s : order) {
    std::vector<bool> has(data.class_names.size(), false);
    for (const auto& rec : data.recordings)
      if (rec.subject == static_cast<int>(s) && rec.label >= 0) has[static_cast<std::size_t>(rec.label)] = true;
    if (std::all_of(has.begin(), has.end(), [](bool b) { return b; })) {
      subject = static_cast<int>(s);
      break;
    }
  }
  if (subject < 0 && !order.empty()) subject = static_cast<int>(order.front());

  std::string unit;
  for (const auto& src : sources) {
    const int c = src.channel_index(opt.spectrogram_channel);
    if (c >= 0 && static_cast<std::size_t>(c) < src.channel_units.size()) {
      unit = src.channel_units[static_cast<std::size_t>(c)];
      break;
    }
  }
  const std::string subject_name = subject >= 0 ? data.subjects[static_cast<std::size_t>(subject)] : "?";
  md.push_back("## Example spectrograms (one per class)");
  md.push_back("");
  md.push_back("Subject " + subject_name + ", channel " + opt.spectrogram_channel + ", training part (first " +
               num(100 * spec.split_fraction, 0) + " %, at most 10 s) of one recording per class, after the "
               "protocol's causal front end (" +
               describe_front_end(spec.filter_order, spec.band_low_hz, spec.band_high_hz, spec.denoise) +
               "); Hann segments of 128 samples, 75 % overlap, PSD in dB.");
  md.push_back("");
  for (std::size_t k = 0; k < data.class_names.size(); ++k) {
    const eval::PreparedRecording* rec = nullptr;
    for (const auto& r : data.recordings)
      if (r.subject == subject && r.label == static_cast<int>(k)) {
        rec = &r;
        break;
      }
    if (!rec) {
      md.push_back("- " + data.class_names[k] + ": no recording of subject " + subject_name);
      continue;
    }
    const auto n_train = static_cast<std::size_t>(std::floor(spec.split_fraction * double(rec->n_samples)));
    const auto n = std::min<std::size_t>(n_train, static_cast<std::size_t>(10.0 * data.sample_rate_hz));
    const double* x = rec->samples.data() + ch * rec->n_samples;
    std::vector<double> part(x, x + n);
    auto s = compute_channel_spectrogram(part, data.sample_rate_hz, 128, 96, "hann");
    if (!s) return s.error();
    const std::string stem = "spectrogram_" + file_name_part(data.class_names[k]);
    const std::string title = "Subject " + subject_name + ", " + data.class_names[k] + " (" + rec->name + "): " +
                              opt.spectrogram_channel + " band-passed " + format_double(spec.band_low_hz) + "-" +
                              format_double(spec.band_high_hz) + " Hz, training part";
    if (auto w = write_spectrogram_outputs(*s, opt.out_dir / stem, title, {}, unit); !w) return w;
    outcome.files.push_back(stem + ".png");
    outcome.files.push_back(stem + ".csv");
    md.push_back("![" + data.class_names[k] + " spectrogram](" + stem + ".png)");
    md.push_back("");
    md.push_back("*What this shows: how the EMG's power (colour, dB) is spread over frequency (up) and time (across) "
                 "while the person performs " + data.class_names[k] + "; bursts of muscle activity are the bright "
                 "vertical bands.*");
    md.push_back("");
    log_line(ctx, "wrote " + (opt.out_dir / (stem + ".png")).string());
  }
  return {};
}

// The training curves of the folds trained so far, by protocol code (fold threads add, the task records take).
struct CurveStore {
  std::mutex mutex;
  std::map<std::string, std::vector<FoldCurves>> by_protocol;
};

// The model a protocol run uses: LDA or a network config.
struct ProtocolModel {
  std::string name;
  std::string config_path;
  bool network = false;
  std::uint64_t seed = 0;
  std::size_t parallel_folds = 1;
  /// Callback for one protocol run; `record` = keep its training curves (first seed only).
  std::function<eval::FitPredictFn(eval::Protocol, std::uint64_t seed, bool record)> fit_predict;
  std::shared_ptr<CurveStore> curves = std::make_shared<CurveStore>();
  std::string training_note;  ///< epochs, batch, lr ... for summary.md
  std::size_t context = 0;    ///< past samples per input (declared variant)
  std::shared_ptr<std::vector<fs::path>> saved_models = std::make_shared<std::vector<fs::path>>();
};

// "lda" -> "", a config name -> configs/<name>.toml of the source tree, a .toml path -> itself; checked before
// any data is read so a typo fails at once.
Result<fs::path> resolve_model_config(const std::string& model) {
  if (model.find('+') != std::string::npos) {  // an ensemble: check every member
    std::size_t a = 0;
    while (a <= model.size()) {
      const std::size_t b = std::min(model.find('+', a), model.size());
      if (b == a) return make_error(ErrorCode::invalid_argument, "--model '" + model + "': empty ensemble member");
      if (auto r = resolve_model_config(model.substr(a, b - a)); !r) return r.error();
      a = b + 1;
    }
    return fs::path();
  }
  if (ascii_lower(model) == "lda" || ascii_lower(model) == "lda_context") return fs::path();
  fs::path config = model;
  if (config.extension() != ".toml") config = resource_path(fs::path("configs") / (model + ".toml"));
  std::error_code ec;
  if (!fs::is_regular_file(config, ec))
    return make_error(ErrorCode::invalid_argument, "--model must be lda, a network config name (cnn1d, cnn1d_context, "
                                                   "lstm, cnn_lstm, spectrogram_cnn) or a .toml config; '" +
                                                       config.string() + "' does not exist");
#ifndef MYOEXO_HAVE_TORCH
  return make_error(ErrorCode::invalid_argument, "--model '" + model + "': this build has no LibTorch (only lda)");
#else
  return config;
#endif
}

Result<ProtocolModel> make_protocol_model(const Context& ctx, const EvaluateOptions& opt, const eval::PreparedData& data,
                                          const eval::DataSpec& spec) {
  ProtocolModel m;
  if (opt.model.find('+') != std::string::npos) {
    // Ensemble "A+B+...": members' probabilities averaged (eval::make_ensemble_fit_predict).
    std::vector<ProtocolModel> members;
    std::size_t a = 0;
    while (a <= opt.model.size()) {
      const std::size_t b = std::min(opt.model.find('+', a), opt.model.size());
      EvaluateOptions one = opt;
      one.model = opt.model.substr(a, b - a);
      auto mm = make_protocol_model(ctx, one, data, spec);
      if (!mm) return mm.error();
      members.push_back(std::move(*mm));
      a = b + 1;
    }
    m.name = "ensemble of ";
    for (std::size_t i = 0; i < members.size(); ++i) {
      const auto& mm = members[i];
      m.name += (i ? " + " : "") + mm.name;
      m.parallel_folds = std::max(m.parallel_folds, mm.parallel_folds);
      m.context = std::max(m.context, mm.context);
      if (mm.network && !m.network) {
        m.network = true;
        m.seed = mm.seed;
        m.curves = mm.curves;
        m.saved_models = mm.saved_models;
        m.training_note = mm.training_note;
        m.config_path = mm.config_path;
      }
    }
    m.fit_predict = [members](eval::Protocol proto, std::uint64_t seed, bool record) {
      std::vector<eval::FitPredictFn> fns;
      for (const auto& mm : members) fns.push_back(mm.fit_predict(proto, seed, record));
      return eval::make_ensemble_fit_predict(std::move(fns));
    };
    return m;
  }
  const bool context_lda = ascii_lower(opt.model) == "lda_context";
  const std::string fset = !opt.features.empty() ? opt.features : context_lda ? "MAV,WL,ZC,SSC,RMS,AR" : "HTD";
  auto fspec = features::make_feature_spec(fset);
  if (!fspec) return fspec.error();
  const double threshold = opt.zc_ssc_threshold >= 0.0 ? opt.zc_ssc_threshold : context_lda ? 0.0 : 0.005;
  fspec->thresholds.zc = threshold;
  fspec->thresholds.ssc = threshold;
  const features::FeatureSpec fs_sel = *fspec;
  const std::string thr = "ZC/SSC threshold " + format_double(threshold);
  if (ascii_lower(opt.model) == "lda") {
    m.name = "LDA on " + fset + " features (" + thr + ")";
    m.fit_predict = [fs_sel](eval::Protocol, std::uint64_t, bool) { return eval::make_lda_fit_predict(fs_sel); };
    return m;
  }
  if (ascii_lower(opt.model) == "lda_context") {
    // Declared variant: log amplitudes and a second feature block over the window plus up
    // to 750 past samples (never before the segment start); --context changes the 750.
    eval::LdaVariant v;
    v.log_amplitude = true;
    v.context_samples = opt.context > 0 ? opt.context : 750;
    m.context = v.context_samples;
    m.name = "LDA on log-amplitude " + fset + ", window + " + std::to_string(v.context_samples) + " past samples (" +
             thr + ")";
    m.fit_predict = [v, fs_sel](eval::Protocol, std::uint64_t, bool) { return eval::make_lda_fit_predict(fs_sel, {}, v); };
    return m;
  }
#ifdef MYOEXO_HAVE_TORCH
  auto resolved = resolve_model_config(opt.model);
  if (!resolved) return resolved.error();
  const fs::path config = *resolved;
  auto net = models::load_network_spec(config);
  if (!net) return net.error();
  auto cfg = train::load_train_config(config);
  if (!cfg) return cfg.error();
  if (opt.epochs) cfg->epochs = *opt.epochs;
  const std::size_t epochs_wp = cfg->epochs, epochs_l = opt.epochs_loso.value_or(cfg->epochs);
  if (epochs_wp == 0 || epochs_l == 0) return make_error(ErrorCode::invalid_argument, "--epochs must be >= 1");
  // A config whose window is longer than the protocol's declares the causal-context variant itself.
  std::size_t context = opt.context;
  if (context == 0 && net->input.window_length > spec.window.length) context = net->input.window_length - spec.window.length;
  if (context > 4000) return make_error(ErrorCode::invalid_argument, "--context must be <= 4000 samples");
  m.context = context;
  std::size_t jobs = opt.jobs;
  if (jobs == 0) jobs = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  m.network = true;
  m.seed = cfg->seed;
  m.parallel_folds = jobs;
  m.config_path = config.string();
  if (jobs > 1) {
    cfg->threads = 1;        // parallelism across folds, one LibTorch thread each
    cfg->progress = false;   // interleaved progress bars would be unreadable: one line per fold instead
  } else {
    cfg->progress = cfg->progress && !ctx.quiet;
  }
  m.name = std::string(models::arch_kind_name(net->arch.kind)) + " (" + config.filename().string() + ")";
  if (context > 0) m.name += " + " + std::to_string(context) + " samples causal context";
  char note[256];
  std::snprintf(note, sizeof note, "%s: epochs %zu (L: %zu), batch %zu, Adam lr %g, weight decay %g, validation %s, "
                "%zu fold(s) at once", config.filename().string().c_str(), epochs_wp, epochs_l, cfg->batch_size,
                cfg->learning_rate, cfg->weight_decay, train::validation_split_name(cfg->validation), jobs);
  m.training_note = note;
  const models::NetworkSpec arch = eval::network_spec_for(data, spec, *net, context);
  const train::TrainConfig base = *cfg;
  const fs::path history_dir = opt.out_dir / "history";
  const fs::path model_dir = opt.out_dir / "models";
  const std::vector<std::string> save = opt.save_loso_models;
  auto saved = m.saved_models;
  auto curves = m.curves;
  m.fit_predict = [=](eval::Protocol proto, std::uint64_t seed, bool record) {
    train::TrainConfig c = base;
    c.seed = seed;
    c.epochs = proto == eval::Protocol::leave_one_subject_out ? epochs_l : epochs_wp;
    eval::NetworkFitOptions o;
    o.context_samples = context;
    if (record) {
      std::error_code e;
      fs::create_directories(history_dir, e);
      c.history_csv = history_dir / "history.csv";  // becomes history_<protocol>_<fold>.csv per fold
      o.on_trained = [curves, save, model_dir, saved](const eval::FoldContext& f, const train::TrainHistory& h,
                                                      const models::TorchClassifier& model) {
        FoldCurves fc{f.name, f.index, h.series("train_loss"), h.series("val_loss"), h.series("train_accuracy"),
                      h.series("val_accuracy"), h.best_epoch};
        {
          std::lock_guard<std::mutex> lock(curves->mutex);
          curves->by_protocol[eval::protocol_code(f.protocol)].push_back(std::move(fc));
        }
        if (f.protocol == eval::Protocol::leave_one_subject_out &&
            (std::find(save.begin(), save.end(), f.name) != save.end() ||
             std::find(save.begin(), save.end(), "all") != save.end())) {
          std::error_code e;
          fs::create_directories(model_dir, e);
          const fs::path file = model_dir / ("L_" + f.name + ".pt");
          if (auto st = model.save(file); st) saved->push_back(file);
        }
      };
    }
    return eval::make_network_fit_predict(arch, c, o);
  };
  return m;
#else
  (void)ctx, (void)data, (void)spec;
  auto resolved = resolve_model_config(opt.model);
  if (!resolved) return resolved.error();
  return make_error(ErrorCode::invalid_argument, "--model '" + opt.model + "': this build has no LibTorch (only lda)");
#endif
}

// Mean over folds of a per-epoch series (folds stopped early contribute to the epochs they ran).
std::vector<double> mean_curve(const std::vector<FoldCurves>& folds, std::vector<double> FoldCurves::*field) {
  std::size_t n = 0;
  for (const auto& f : folds) n = std::max(n, (f.*field).size());
  std::vector<double> out(n, 0.0), count(n, 0.0);
  for (const auto& f : folds)
    for (std::size_t e = 0; e < (f.*field).size(); ++e)
      if (std::isfinite((f.*field)[e])) {
        out[e] += (f.*field)[e];
        count[e] += 1;
      }
  for (std::size_t e = 0; e < n; ++e) out[e] = count[e] > 0 ? out[e] / count[e] : std::nan("");
  return out;
}

// Training curves (seed Fig. 7-8): mean over folds of train/validation accuracy and loss per epoch.
Status write_training_curves(const std::string& code, const std::string& model_name,
                             const std::vector<FoldCurves>& folds, const fs::path& acc_png, const fs::path& loss_png) {
  auto series = [&](const std::string& name, std::vector<double> FoldCurves::*field, double scale) {
    report::Series s;
    s.name = name;
    s.y = mean_curve(folds, field);
    for (auto& v : s.y) v *= scale;
    for (std::size_t e = 0; e < s.y.size(); ++e) s.x.push_back(double(e + 1));
    return s;
  };
  report::LinePlot acc;
  acc.title = "Protocol " + code + " - " + model_name + ": accuracy per epoch (mean of " + std::to_string(folds.size()) +
              " fold(s))";
  acc.x_label = "Epoch";
  acc.y_label = "Accuracy (%)";
  acc.series = {series("train", &FoldCurves::train_accuracy, 100.0), series("validation", &FoldCurves::val_accuracy, 100.0)};
  if (acc.series[1].y.empty() || std::none_of(acc.series[1].y.begin(), acc.series[1].y.end(), [](double v) { return std::isfinite(v); }))
    acc.series.pop_back();
  if (auto s = report::plot_lines(acc, acc_png); !s) return s;
  report::LinePlot loss = acc;
  loss.title = "Protocol " + code + " - " + model_name + ": cross-entropy loss per epoch";
  loss.y_label = "Loss";
  loss.series = {series("train", &FoldCurves::train_loss, 1.0), series("validation", &FoldCurves::val_loss, 1.0)};
  if (acc.series.size() == 1) loss.series.pop_back();
  return report::plot_lines(loss, loss_png);
}

// What identifies an evaluation run in its task records: every option that changes a result, the seeds, the
// prepared data's fingerprint and the number of tasks. Records of runs that differ in any of them never mix.
// (data_path is where the data were read, for `myoexo merge`; it is not compared: shards may run on machines that
// mount the data elsewhere.)
nlohmann::json evaluation_run_settings(const EvaluateOptions& opt, const std::vector<std::uint64_t>& seeds,
                                       const std::string& fingerprint, std::size_t n_tasks) {
  auto opt_num = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(); };
  return {{"options",
           {{"model", opt.model},
            {"protocol", opt.protocol},
            {"subjects", opt.subjects},
            {"seeds", seeds},
            {"epochs", opt_num(opt.epochs)},
            {"epochs_loso", opt_num(opt.epochs_loso)},
            {"features", opt.features},
            {"threshold", opt.zc_ssc_threshold},
            {"context", opt.context},
            {"band_low_hz", opt_num(opt.front_end.band_low_hz)},
            {"band_high_hz", opt_num(opt.front_end.band_high_hz)},
            {"wavelet", opt_num(opt.front_end.wavelet)}}},
          {"data_fingerprint", fingerprint},
          {"tasks", n_tasks},
          {"data_path", opt.data ? fs::absolute(*opt.data).lexically_normal().string() : std::string()}};
}

}  // namespace


Result<std::vector<eval::Protocol>> parse_protocols(const std::string& name) {
  using eval::Protocol;
  bool want[3] = {false, false, false};  // W, P, L
  std::size_t a = 0;
  while (a <= name.size()) {
    const std::size_t b = std::min(name.find(',', a), name.size());
    const std::string n = ascii_lower(name.substr(a, b - a));
    if (n == "all") {
      want[0] = want[1] = want[2] = true;
    } else if (n == "w" || n == "within" || n == "within_subject") {
      want[0] = true;
    } else if (n == "p" || n == "pooled") {
      want[1] = true;
    } else if (n == "l" || n == "loso" || n == "leave_one_subject_out") {
      want[2] = true;
    } else {
      return make_error(ErrorCode::invalid_argument, "--protocol must be W (within), P (pooled), L (loso), a list "
                                                     "such as W,L, or all; not '" + name + "'");
    }
    a = b + 1;
  }
  std::vector<Protocol> out;
  if (want[0]) out.push_back(Protocol::within_subject);
  if (want[1]) out.push_back(Protocol::pooled);
  if (want[2]) out.push_back(Protocol::leave_one_subject_out);
  return out;
}

Status check_protocol_model(const std::string& model) {
  if (auto c = resolve_model_config(model); !c) return c.error();
  return {};
}

// UCI-LL v1 with the band and wavelet stage the model asks for (a network config's [input.filter] and
// [input.denoise]), then the command line's.
static Result<eval::DataSpec> protocol_data_spec(const EvaluateOptions& opt) {
  eval::DataSpec spec = eval::uci_ll_v1_spec();
#ifdef MYOEXO_HAVE_TORCH
  if (opt.model != "lda" && opt.model != "lda_context") {
    auto config = resolve_model_config(opt.model);
    if (!config) return config.error();
    auto net = models::load_network_spec(*config);
    if (!net) return net.error();
    const models::FilterSettings& f = net->input.filter;
    if (f.kind == "bandpass") {
      spec.filter_order = f.order;
      spec.band_low_hz = f.low_hz;
      spec.band_high_hz = f.high_hz;
    }
    spec.denoise = f.denoise;
    spec.class_map = net->input.class_map;
  }
#endif
  if (auto s = apply_front_end_override(opt.front_end, spec.band_low_hz, spec.band_high_hz, spec.denoise); !s)
    return s.error();
  return spec;
}

Result<EvaluateOutcome> evaluate_recordings(const Context& ctx, std::span<const io::Recording> recordings,
                                            const EvaluateOptions& opt, const std::string& link_prefix) {
  auto protocols = parse_protocols(opt.protocol);
  if (!protocols) return protocols.error();
  if (auto c = resolve_model_config(opt.model); !c) return c.error();
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the output folder");

  auto front = protocol_data_spec(opt);
  if (!front) return front.error();
  const eval::DataSpec spec = *front;
  log_line(ctx, "preparing " + std::to_string(recordings.size()) + " recordings (" + spec.name + ", " +
                    describe_front_end(spec.filter_order, spec.band_low_hz, spec.band_high_hz, spec.denoise) + ") ...");
  auto data = eval::prepare_data(recordings, spec);
  if (!data) return data.error();

  auto model = make_protocol_model(ctx, opt, *data, spec);
  if (!model) return model.error();
  std::vector<std::uint64_t> seeds = opt.seeds;
  if (seeds.empty() || !model->network) seeds = {model->seed};

  // What a clinician would see: every test recording's windows, in order, through the live post-processing
  // (rejection, majority vote, dwell: `run`'s defaults) with the data set's class -> intent map (first seed).
  const realtime::PostProcessOptions post;
  std::vector<control::IntentLabel> class_intent;
  {
    const auto defaults = session::default_class_intents();
    for (const auto& c : data->class_names) {
      std::string name = c;
      for (const auto& [from, to] : spec.class_map)  // a renamed class: its data-set name's intent
        if (to == c) name = from;
      std::optional<control::IntentLabel> intent = control::parse_intent_label(name);
      for (const auto& [cls, in] : defaults)
        if (cls == name) intent = control::parse_intent_label(in);
      if (!intent) {
        class_intent.clear();
        break;
      }
      class_intent.push_back(*intent);
    }
  }
  // The run as a list of tasks, one per (seed, protocol, fold); every finished task leaves a record in
  // OUT/tasks, and the report below is assembled from the records in task order.
  const std::vector<std::string> held_out = opt.subjects.empty() ? data->subjects : opt.subjects;
  for (const auto& s : held_out)
    if (std::find(data->subjects.begin(), data->subjects.end(), s) == data->subjects.end())
      return make_error(ErrorCode::invalid_argument, "unknown subject '" + s + "' (the data set has " + [&] {
        std::string all;
        for (const auto& n : data->subjects) all += (all.empty() ? "" : ", ") + n;
        return all;
      }() + ")");
  const std::vector<TaskKey> tasks = make_task_list(seeds, *protocols, held_out);
  auto mpi = mpi_world_active();
  if (!mpi) return mpi.error();
  if (*mpi && !opt.shard.whole())
    return make_error(ErrorCode::invalid_argument, "--shard splits a run across separate processes; under mpirun the "
                                                   "ranks share the tasks already: leave --shard out");
  const nlohmann::json run_id = evaluation_run_settings(opt, seeds, data_fingerprint(*data), tasks.size());
  const fs::path tasks_dir = opt.out_dir / "tasks";
  const std::size_t k = data->class_names.size();
  std::vector<std::optional<TaskRecord>> records(tasks.size());
  std::size_t reused = 0;
  const bool merging = !opt.merge_from.empty();
  if (merging && *mpi && mpi_rank() != 0) {  // `merge` under mpirun: rank 0 alone writes the report
    EvaluateOutcome idle;
    idle.partial = true;
    return idle;
  }
  if (merging) {
    for (const auto& dir : opt.merge_from) {
      auto got = read_task_records(tasks_folder(dir), run_id, tasks, k);
      if (!got) return got.error();
      for (auto& rec : *got) {
        auto& slot = records[rec.key.task];
        if (slot && slot->score.metrics.confusion != rec.score.metrics.confusion)
          return make_error(ErrorCode::mismatch, dir.string(), 0,
                            "task " + std::to_string(rec.key.task) + " (" + eval::protocol_code(rec.key.protocol) +
                                " " + rec.key.fold_name + ") is in two shards with different results");
        if (!slot) slot = std::move(rec);
      }
    }
    std::vector<std::string> missing;
    for (const auto& t : tasks)
      if (!records[t.task])
        missing.push_back(std::to_string(t.task) + " (" + eval::protocol_code(t.protocol) + " " + t.fold_name +
                          (seeds.size() > 1 ? ", seed " + std::to_string(t.seed) : std::string()) + ")");
    if (!missing.empty()) {
      std::string list;
      for (std::size_t i = 0; i < missing.size() && i < 12; ++i) list += (i ? ", " : "") + missing[i];
      if (missing.size() > 12) list += ", ...";
      return make_error(ErrorCode::empty, "merge: " + std::to_string(missing.size()) + " of " +
                                              std::to_string(tasks.size()) + " tasks have no result in the shards given: " +
                                              list + ". Is a shard missing or unfinished? Nothing was written.");
    }
    reused = tasks.size();
  } else if (*mpi && mpi_rank() != 0) {
    // Another rank: rank 0 alone reads and clears the records and decides who runs what.
  } else if (opt.resume) {
    auto got = read_task_records(tasks_dir, run_id, tasks, k);
    if (!got) return got.error();
    for (auto& rec : *got) {
      ++reused;
      records[rec.key.task] = std::move(rec);
    }
    if (reused) log_line(ctx, "resuming: " + std::to_string(reused) + " of " + std::to_string(tasks.size()) +
                                  " tasks were finished by an earlier run and are not redone");
  } else if (opt.shard.whole()) {
    std::error_code e;
    std::vector<fs::path> stale;  // a fresh run: an earlier run's records go
    for (const auto& f : fs::directory_iterator(tasks_dir, e))
      if (f.path().filename().string().rfind("task_", 0) == 0) stale.push_back(f.path());
    for (const auto& f : stale) fs::remove(f, e);
  }
  if (!opt.shard.whole()) {
    std::size_t mine = 0;
    for (const auto& t : tasks) mine += opt.shard.owns(t.task);
    log_line(ctx, "shard " + std::to_string(opt.shard.index) + "/" + std::to_string(opt.shard.count) + ": " +
                      std::to_string(mine) + " of " + std::to_string(tasks.size()) + " tasks");
  }

  // A fold's test windows, in order, through the live post-processing: one decision stream per recording.
  auto observe = [&](const eval::FoldContext& fold, const eval::WindowSet& set, std::span<const std::size_t> test,
                     std::span<const double> probs, std::vector<eval::DecisionSequence>& seqs) {
    std::vector<std::size_t> order(test.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const auto &wa = set.windows[test[a]], &wb = set.windows[test[b]];
      return wa.recording != wb.recording ? wa.recording < wb.recording : wa.start < wb.start;
    });
    std::optional<realtime::IntentPostProcessor> pp;
    std::int64_t current = -1;
    for (std::size_t i : order) {
      const eval::WindowRef& w = set.windows[test[i]];
      if (std::int64_t(w.recording) != current) {  // a new recording: a fresh stream
        current = w.recording;
        auto p = realtime::IntentPostProcessor::create(post, class_intent);
        if (!p) return;
        pp.emplace(std::move(*p));
        eval::DecisionSequence seq;
        seq.subject = fold.protocol == eval::Protocol::pooled ? set.data->subjects[std::size_t(w.subject)] : fold.name;
        seq.increment_s = double(spec.window.increment) / set.data->sample_rate_hz;
        seq.rest = int(control::IntentLabel::rest);
        seqs.push_back(std::move(seq));
      }
      const double* p = probs.data() + i * k;
      const realtime::PostDecision d = pp->step({p, k}, !std::isnan(p[0]));
      eval::DecisionSequence& seq = seqs.back();
      seq.truth.push_back(w.label >= 0 ? int(class_intent[std::size_t(w.label)]) : -1);
      seq.output.push_back(int(d.label));
      seq.rejected.push_back(d.rejected ? 1 : 0);
    }
  };

  // Runs every task the broker grants this process, one (seed, protocol) at a time so a protocol's windows and
  // features are prepared once for all its folds here.
  std::size_t ran = 0;
  std::mutex ran_mutex;
  const bool on_mpi = *mpi;
  auto compute = [&](TaskBroker& broker) -> Status {
    std::size_t first = 0;  // the task number of the current (seed, protocol)'s fold 0
    for (std::size_t si = 0; si < seeds.size(); ++si) {
      for (eval::Protocol proto : *protocols) {
        const std::size_t base = first;
        first += proto == eval::Protocol::pooled ? 1 : held_out.size();
        bool any = false;
        for (std::size_t t = base; t < first && !any; ++t) any = broker.wanted(t);
        if (!any) continue;
        // Per finished fold: its post-processed test streams (first seed), until its record takes them.
        std::map<std::pair<int, std::size_t>, std::vector<eval::DecisionSequence>> fold_streams;
        eval::RunOptions run;
        run.protocols = {proto};
        run.subjects = opt.subjects;
        run.model_name = model->name;
        run.parallel_folds = on_mpi ? 1 : model->parallel_folds;  // on MPI the ranks are the parallelism
        if (si == 0 && !class_intent.empty())
          run.on_fold_probabilities = [&](const eval::FoldContext& fold, const eval::WindowSet& set,
                                          std::span<const std::size_t> test, std::span<const double> probs) {
            observe(fold, set, test, probs, fold_streams[{int(fold.protocol), fold.index}]);
          };
        run.claim_fold = [&, base](const eval::FoldContext& f) { return broker.claim(base + f.index); };
        Status done_status;
        run.on_fold_done = [&, base, si](const eval::FoldContext& f, const eval::FoldScore& score) {
          TaskRecord rec{tasks[base + f.index], score, {}, std::nullopt};
          if (auto it = fold_streams.find({int(f.protocol), f.index}); it != fold_streams.end()) {
            rec.decisions = std::move(it->second);
            fold_streams.erase(it);
          }
          if (si == 0) {
            std::lock_guard<std::mutex> lock(model->curves->mutex);
            for (const auto& c : model->curves->by_protocol[eval::protocol_code(f.protocol)])
              if (c.index == f.index) rec.curves = c;
          }
          if (auto w = broker.done(std::move(rec)); !w && done_status) done_status = w;
          std::lock_guard<std::mutex> lock(ran_mutex);
          ++ran;
        };
        if (!ctx.quiet) {
          const std::string who = on_mpi ? "rank " + std::to_string(mpi_rank()) + ": " : std::string();
          run.progress = [&ctx, who](const std::string& line) { ctx.err << "myoexo: " << who << line << '\n'; };
        }
        if (seeds.size() > 1) log_line(ctx, "seed " + std::to_string(seeds[si]) + " (" + std::to_string(si + 1) + "/" +
                                                std::to_string(seeds.size()) + "), protocol " + eval::protocol_code(proto));
        auto res = eval::run_protocol(*data, spec, model->fit_predict(proto, seeds[si], si == 0), run);
        if (!res) return res.error();
        if (!done_status) return done_status.error();  // stop: the broker could not keep a result
      }
    }
    return {};
  };

  std::optional<MpiTaskStats> mpi_stats;
  if (on_mpi && !merging) {
    auto st = mpi_run_tasks(tasks, run_id, k, tasks_dir, records, compute,
                            [&ctx](const std::string& line) { log_line(ctx, line); });
    if (!st) return st.error();
    mpi_stats = *st;
    if (mpi_rank() != 0) {  // a worker: rank 0 writes the report
      EvaluateOutcome worker;
      worker.partial = true;
      worker.tasks_run = ran;
      return worker;
    }
  } else if (!merging) {
    // This process alone: every task without a record, or a shard's share of them.
    class LocalBroker final : public TaskBroker {
     public:
      LocalBroker(std::vector<std::optional<TaskRecord>>& records, const ShardSpec& shard, const fs::path& dir,
                  const nlohmann::json& run)
          : records_(records), shard_(shard), dir_(dir), run_(run) {}
      bool wanted(std::size_t t) override { return !records_[t] && shard_.owns(t); }
      bool claim(std::size_t t) override { return wanted(t); }
      Status done(TaskRecord record) override {
        auto w = write_task_record(dir_, record, run_);
        const std::size_t t = record.key.task;
        records_[t] = std::move(record);
        return w;
      }

     private:
      std::vector<std::optional<TaskRecord>>& records_;
      const ShardSpec& shard_;
      const fs::path& dir_;
      const nlohmann::json& run_;
    } broker(records, opt.shard, tasks_dir, run_id);
    if (Status s = compute(broker); !s) return s.error();
  }

  EvaluateOutcome outcome;
  if (mpi_stats) {
    outcome.mpi_ranks = std::size_t(mpi_size());
    outcome.mpi_handed_back = mpi_stats->handed_back;
    outcome.mpi_wall_seconds = mpi_stats->wall_seconds;
  }
  outcome.tasks_total = tasks.size();
  outcome.tasks_run = mpi_stats ? tasks.size() - reused : ran;  // on MPI: every rank's
  outcome.tasks_reused = reused;
  for (const auto& f : *model->saved_models) outcome.files.push_back(fs::relative(f, opt.out_dir));
  if (!opt.shard.whole()) {  // a shard: its records are its output; `myoexo merge` writes the report
    outcome.partial = true;
    return outcome;
  }
  for (const auto& t : tasks)
    if (!records[t.task])
      return make_error(ErrorCode::empty, "task " + std::to_string(t.task) + " (" + eval::protocol_code(t.protocol) + " " +
                                              t.fold_name + ") has no result");

  // One full run per seed, assembled from the task records in task order; the first seed is the one the plots and
  // tables show, the others give the spread.
  std::vector<eval::EvaluationResult> runs;
  std::map<eval::Protocol, std::vector<eval::DecisionSequence>> streams;  // per protocol, one per test recording
  std::map<std::string, std::vector<FoldCurves>> curves;                  // per protocol code, first seed
  double task_seconds = 0.0, longest_task = 0.0;
  for (std::size_t si = 0; si < seeds.size(); ++si) {
    eval::EvaluationResult one;
    one.spec_name = spec.name;
    one.model_name = model->name;
    one.class_names = data->class_names;
    one.channel_names = data->channel_names;
    one.subjects = data->subjects;
    one.excluded = data->excluded;
    one.window = spec.window;
    one.split_fraction = spec.split_fraction;
    for (eval::Protocol proto : *protocols) {
      std::vector<eval::FoldScore> folds;
      for (const auto& rec : records) {
        if (rec->key.seed_index != si || rec->key.protocol != proto) continue;
        folds.push_back(rec->score);
        task_seconds += rec->score.seconds;
        longest_task = std::max(longest_task, rec->score.seconds);
        if (si > 0) continue;
        for (const auto& d : rec->decisions) streams[proto].push_back(d);
        if (rec->curves) curves[eval::protocol_code(proto)].push_back(*rec->curves);
      }
      auto scores = eval::summarise_folds(proto, std::move(folds), k);
      if (!scores) return scores.error();
      one.protocols.push_back(std::move(*scores));
    }
    runs.push_back(std::move(one));
  }
  outcome.task_seconds = task_seconds;
  outcome.longest_task_seconds = longest_task;
  outcome.result = runs.front();
  const eval::EvaluationResult& r = outcome.result;

  {
    const fs::path file = opt.out_dir / "metrics.json";
    std::ofstream out(file, std::ios::trunc);
    nlohmann::json j = eval::evaluation_to_json(r);
    j["front_end"] = {{"filter_order", spec.filter_order},
                      {"band_pass_hz", {spec.band_low_hz, spec.band_high_hz}},
                      {"denoise", spec.denoise ? models::wavelet_stream_to_json(*spec.denoise) : nlohmann::json()},
                      {"delay_samples", spec.denoise ? spec.denoise->delay_samples() : 0}};
    if (model->network) {
      j["training"] = model->training_note;
      j["config"] = model->config_path;
    }
    if (model->context > 0) j["context_samples"] = model->context;
    if (!streams.empty()) {
      nlohmann::json u = nlohmann::json::object();
      u["options"] = {{"rejection_threshold", post.rejection_threshold}, {"vote_window", post.vote_window},
                      {"min_dwell", post.min_dwell}};
      for (const auto& [proto, seqs] : streams) {
        nlohmann::json pj = eval::usage_metrics_to_json(eval::compute_usage_metrics(seqs));
        nlohmann::json by = nlohmann::json::object();
        std::set<std::string> names;
        for (const auto& q : seqs) names.insert(q.subject);
        for (const auto& name : names) {
          std::vector<eval::DecisionSequence> mine;
          for (const auto& q : seqs)
            if (q.subject == name) mine.push_back(q);
          by[name] = eval::usage_metrics_to_json(eval::compute_usage_metrics(mine));
        }
        pj["by_subject"] = std::move(by);
        u[eval::protocol_code(proto)] = std::move(pj);
      }
      j["post_processed"] = std::move(u);
    }
    if (runs.size() > 1) {
      // The seed spread: every protocol's mean/min accuracy and macro-F1 per seed.
      nlohmann::json sr = nlohmann::json::array();
      for (std::size_t i = 0; i < runs.size(); ++i) {
        nlohmann::json one{{"seed", seeds[i]}};
        for (const auto& p : runs[i].protocols)
          one[eval::protocol_code(p.protocol)] = {{"mean_accuracy", p.mean_accuracy}, {"min_accuracy", p.min_accuracy},
                                                  {"min_fold", p.min_fold}, {"mean_macro_f1", p.mean_macro_f1}};
        sr.push_back(std::move(one));
      }
      j["seed_runs"] = std::move(sr);
    }
    out << j.dump(2) << '\n';
    if (!out) return make_error(ErrorCode::io, file.string(), 0, "cannot be written");
    outcome.files.push_back("metrics.json");
  }

  std::vector<std::string> md = {
      "# myoexo evaluation: " + r.model_name + ", protocol " + r.spec_name,
      "",
      "Made by `myoexo evaluate --protocol " + opt.protocol + " --model " + opt.model +
          (opt.front_end.band_low_hz ? " --bandpass " + format_double(*opt.front_end.band_low_hz) + " " +
                                           format_double(*opt.front_end.band_high_hz)
                                     : std::string()) +
          (opt.front_end.wavelet ? std::string(" --denoise ") + (*opt.front_end.wavelet ? "wavelet" : "none")
                                 : std::string()) +
          "`" + (model->network ? " (" + model->training_note + ")" : std::string()) + ". Front end: " +
          describe_front_end(spec.filter_order, spec.band_low_hz, spec.band_high_hz, spec.denoise) + ". " +
          std::to_string(r.subjects.size()) + " subjects, classes " +
          [&] {
            std::string c;
            for (const auto& n : r.class_names) c += (c.empty() ? "" : ", ") + n;
            return c;
          }() +
          ", channels " +
          [&] {
            std::string c;
            for (const auto& n : r.channel_names) c += (c.empty() ? "" : ", ") + n;
            return c;
          }() +
          "; windows of " + std::to_string(r.window.length) + " samples every " + std::to_string(r.window.increment) +
          (r.excluded.empty() ? std::string() : "; excluded files (copies): " + [&] {
            std::string c;
            for (const auto& n : r.excluded) c += (c.empty() ? "" : ", ") + n;
            return c;
          }()) + ". All numbers: [metrics.json](metrics.json).",
      "",
      "## Against the reference implementations",
      "",
  };
  for (auto& l : peer_table(r, spec)) md.push_back(l);
  md.push_back("");
  if (auto groups = group_table(r, recordings); !groups.empty()) {
    md.push_back("## By group");
    md.push_back("");
    for (auto& l : groups) md.push_back(l);
    md.push_back("");
  }
  if (!streams.empty()) {
    auto cell = [](double v, double scale, const char* unit) {
      return std::isfinite(v) ? num(v * scale, 1) + unit : std::string("n/a");
    };
    md.push_back("## After post-processing: what the exoskeleton would be asked");
    md.push_back("");
    md.push_back("Each test recording's windows, in order, through the live post-processing (rejection below " +
                 format_double(post.rejection_threshold) + ", majority vote over " + std::to_string(post.vote_window) +
                 ", dwell " + std::to_string(post.min_dwell) + "), one decision per " +
                 std::to_string(spec.window.increment) + " samples: active errors (a wrong movement asked for), "
                 "rejections, output changes per second, the delay from a movement onset to its first correct intent "
                 "(onsets reached / all), false activations per minute of rest (n/a: the data have no rest class). "
                 "Per subject: metrics.json, `post_processed`.");
    md.push_back("");
    md.push_back("| protocol | active error | rejected | changes/s | onset delay | false activations/min |");
    md.push_back("|---|---|---|---|---|---|");
    for (const auto& [proto, seqs] : streams) {
      const eval::UsageMetrics u = eval::compute_usage_metrics(seqs);
      md.push_back(std::string("| ") + eval::protocol_code(proto) + " | " + cell(u.active_error_rate, 100, " %") +
                   " | " + cell(u.rejection_rate, 100, " %") + " | " + cell(u.changes_per_s, 1, "") + " | " +
                   cell(u.mean_onset_delay_s, 1, " s") + " (" + std::to_string(u.onsets_reached) + "/" +
                   std::to_string(u.onsets) + ") | " + cell(u.false_activations_per_min, 1, "") + " |");
    }
    md.push_back("");
  }
  if (model->network) {
    md.push_back("Training: " + model->training_note + ". Per-fold histories: history/.");
    md.push_back("");
  }
  if (runs.size() > 1) {
    md.push_back("## Seed spread");
    md.push_back("");
    md.push_back("Every protocol repeated with each seed (weights, shuffling); the tables below show the first seed.");
    md.push_back("");
    std::string head = "| seed |", rule = "|---|";
    for (const auto& p : r.protocols) {
      head += std::string(" ") + eval::protocol_code(p.protocol) + " mean (min) | " + eval::protocol_code(p.protocol) +
              " macro-F1 |";
      rule += "---|---|";
    }
    md.push_back(head);
    md.push_back(rule);
    std::vector<std::pair<double, double>> range(r.protocols.size(), {2.0, -1.0});
    for (std::size_t i = 0; i < runs.size(); ++i) {
      std::string row = "| " + std::to_string(seeds[i]) + " |";
      for (std::size_t k = 0; k < runs[i].protocols.size(); ++k) {
        const auto& p = runs[i].protocols[k];
        row += " " + mean_min_cell(&p) + " | " + num(p.mean_macro_f1) + " |";
        range[k].first = std::min(range[k].first, p.mean_accuracy);
        range[k].second = std::max(range[k].second, p.mean_accuracy);
      }
      md.push_back(row);
    }
    std::string spread = "| spread of the mean (max - min) |";
    for (const auto& rg : range) spread += " " + num(100.0 * (rg.second - rg.first), 1) + " points | |";
    md.push_back(spread);
    md.push_back("");
  }

  for (const auto& p : r.protocols) {
    const std::string code = eval::protocol_code(p.protocol);
    md.push_back("## " + long_name(p.protocol));
    md.push_back("");
    md.push_back("| metric | mean over folds | min over folds | summed confusion |");
    md.push_back("|---|---|---|---|");
    md.push_back("| accuracy | " + format_percent(p.mean_accuracy) + " | " + format_percent(p.min_accuracy) + " (" + p.min_fold + ") | " +
                 format_percent(p.summed.accuracy) + " |");
    md.push_back("| balanced accuracy | " + format_percent(p.mean_balanced_accuracy) + " | " +
                 format_percent(min_over_folds(p, [](const eval::Metrics& m) { return m.balanced_accuracy; })) + " | " +
                 format_percent(p.summed.balanced_accuracy) + " |");
    md.push_back("| macro-F1 | " + num(p.mean_macro_f1) + " | " +
                 num(min_over_folds(p, [](const eval::Metrics& m) { return m.macro_f1; })) + " | " +
                 num(p.summed.macro_f1) + " |");
    md.push_back("");
    md.push_back(p.protocol == eval::Protocol::pooled ? "Per fold:" : "Per held-out subject:");
    md.push_back("");
    md.push_back("| fold | train windows | test windows | accuracy | balanced accuracy | macro-F1 |");
    md.push_back("|---|---|---|---|---|---|");
    for (const auto& f : p.folds)
      md.push_back("| " + f.name + " | " + std::to_string(f.n_train) + " | " + std::to_string(f.n_test) + " | " +
                   format_percent(f.metrics.accuracy) + " | " + format_percent(f.metrics.balanced_accuracy) + " | " +
                   num(f.metrics.macro_f1) + " |");
    md.push_back("");
    if (opt.plots) {
      const std::string conf = "confusion_" + code + ".png", bars = "per_class_" + code + ".png";
      if (auto s = write_confusion(r, p, opt.out_dir / conf); !s) return s.error();
      if (auto s = write_per_class(r, p, opt.out_dir / bars); !s) return s.error();
      outcome.files.push_back(conf);
      outcome.files.push_back(bars);
      log_line(ctx, "wrote " + (opt.out_dir / conf).string() + ", " + bars);
      md.push_back("![confusion " + code + "](" + conf + ")");
      md.push_back("");
      md.push_back("*What this shows: each row is the true movement, each column what the model decided; a cell is "
                   "the share of that row's test windows (all held-out folds together), so a perfect model is 1.0 on "
                   "the diagonal and 0 elsewhere.*");
      md.push_back("");
      md.push_back("![per-class scores " + code + "](" + bars + ")");
      md.push_back("");
      md.push_back("*What this shows: per movement, precision (of the windows decided as it, the share that were it), "
                   "recall (of its windows, the share found) and F1 (their harmonic mean), from the summed confusion.*");
      md.push_back("");
      if (auto it = curves.find(code); it != curves.end() && !it->second.empty()) {
        const std::string acc = "training_accuracy_" + code + ".png", loss = "training_loss_" + code + ".png";
        if (auto s = write_training_curves(code, r.model_name, it->second, opt.out_dir / acc, opt.out_dir / loss); !s)
          return s.error();
        outcome.files.push_back(acc);
        outcome.files.push_back(loss);
        md.push_back("![training accuracy " + code + "](" + acc + ")");
        md.push_back("");
        md.push_back("*What this shows: accuracy per epoch on the training windows and on the validation windows "
                     "held out of training (never the test subject); a widening gap is over-fitting.*");
        md.push_back("");
        md.push_back("![training loss " + code + "](" + loss + ")");
        md.push_back("");
        md.push_back("*What this shows: the loss the training minimises, per epoch, on training and validation "
                     "windows.*");
        md.push_back("");
      }
    }
  }
  if (opt.plots) {
    if (auto s = write_class_spectrograms(ctx, *data, spec, recordings, opt, outcome, md); !s) return s.error();
  }
  if (auto s = write_text(opt.out_dir / "summary.md", md); !s) return s.error();
  outcome.files.push_back("summary.md");
  report::HtmlPageOptions page;
  page.title = "myoexo evaluation: " + r.model_name;
  if (auto s = report::write_html_page(opt.out_dir / "summary.md", opt.out_dir / "summary.html", page); !s)
    return s.error();
  outcome.files.push_back("summary.html");

  auto& h = outcome.headline_md;
  h.push_back("## Evaluation (" + r.model_name + ", " + r.spec_name + ")");
  h.push_back("");
  for (auto& l : peer_table(r, spec)) h.push_back(l);
  h.push_back("");
  if (auto groups = group_table(r, recordings); !groups.empty()) {
    for (auto& l : groups) h.push_back(l);
    h.push_back("");
  }
  std::string links = "Details: [summary](" + link_prefix + "summary.md), [metrics.json](" + link_prefix +
                      "metrics.json)";
  if (opt.plots)
    for (const auto& p : r.protocols) {
      const std::string code = eval::protocol_code(p.protocol);
      links += ", [confusion " + code + "](" + link_prefix + "confusion_" + code + ".png)";
    }
  h.push_back(links + ".");
  h.push_back("");
  return outcome;
}

Status run_evaluate(const Context& ctx, const EvaluateOptions& opt) {
  if ((!opt.shard.whole() || opt.resume) && (opt.target != "class" || opt.model_file))
    return make_error(ErrorCode::invalid_argument, "--shard and --resume split the class protocols (W, P, L) into "
                                                   "tasks; they do not apply to --target knee_angle or --model-file");
  if (opt.target == "knee_angle") return run_evaluate_angle(ctx, opt);
  if (opt.target != "class")
    return make_error(ErrorCode::invalid_argument, "--target '" + opt.target + "': expected class or knee_angle");
  if (opt.model_file) return run_evaluate_model_file(ctx, opt);
  // Check the cheap arguments before the (seconds-long) load.
  if (auto p = parse_protocols(opt.protocol); !p) return p.error();
  if (auto c = resolve_model_config(opt.model); !c) return c.error();
  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  auto outcome = evaluate_recordings(ctx, ds->recordings, opt);
  if (!outcome) return outcome.error();
  if (outcome->partial && opt.shard.whole()) return {};  // an MPI rank other than 0: rank 0 reports
  if (outcome->partial) {
    ctx.out << "shard " << opt.shard.index << "/" << opt.shard.count << ": " << outcome->tasks_run << " task(s) run"
            << (outcome->tasks_reused ? ", " + std::to_string(outcome->tasks_reused) + " kept from an earlier run"
                                      : std::string())
            << ", records in " << fs::absolute(opt.out_dir / "tasks").lexically_normal().string()
            << "\nwhen every shard has finished: myoexo merge --out DIR SHARD_OUT...\n";
    return {};
  }
  if (ctx.json) return print_json_file(ctx, opt.out_dir / "metrics.json");
  ctx.out << eval::format_summary(outcome->result);
  if (outcome->mpi_ranks > 0) {
    char line[200];
    std::snprintf(line, sizeof line, "%zu tasks on %zu MPI ranks in %.1f s (task compute %.1f s in all, the longest "
                  "%.1f s)%s\n", outcome->tasks_total, outcome->mpi_ranks, outcome->mpi_wall_seconds,
                  outcome->task_seconds, outcome->longest_task_seconds,
                  outcome->mpi_handed_back ? "; tasks handed out again after a rank lost them: see above" : "");
    ctx.out << line;
  }
  if (outcome->tasks_reused > 0)
    ctx.out << outcome->tasks_reused << " of " << outcome->tasks_total << " tasks kept from the interrupted run\n";
  ctx.out << "evaluation written to " << fs::absolute(opt.out_dir).lexically_normal().string()
          << " (open summary.md)\n";
  return {};
}

Status run_merge(const Context& ctx, const MergeOptions& mopt) {
  if (mopt.shards.empty()) return make_error(ErrorCode::invalid_argument, "merge: no shard folders given");
  auto run = read_run_of_first_record(tasks_folder(mopt.shards.front()));
  if (!run) return run.error();
  EvaluateOptions opt;
  try {
    const nlohmann::json& o = run->at("options");
    opt.model = o.at("model").get<std::string>();
    opt.protocol = o.at("protocol").get<std::string>();
    opt.subjects = o.at("subjects").get<std::vector<std::string>>();
    opt.seeds = o.at("seeds").get<std::vector<std::uint64_t>>();
    if (!o.at("epochs").is_null()) opt.epochs = o["epochs"].get<std::size_t>();
    if (!o.at("epochs_loso").is_null()) opt.epochs_loso = o["epochs_loso"].get<std::size_t>();
    opt.features = o.at("features").get<std::string>();
    opt.zc_ssc_threshold = o.at("threshold").get<double>();
    opt.context = o.at("context").get<std::size_t>();
    if (!o.at("band_low_hz").is_null()) opt.front_end.band_low_hz = o["band_low_hz"].get<double>();
    if (!o.at("band_high_hz").is_null()) opt.front_end.band_high_hz = o["band_high_hz"].get<double>();
    if (!o.at("wavelet").is_null()) opt.front_end.wavelet = o["wavelet"].get<bool>();
    const std::string path = run->value("data_path", "");
    if (mopt.data) opt.data = *mopt.data;
    else if (!path.empty()) opt.data = fs::path(path);
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::parse, tasks_folder(mopt.shards.front()).string(), 0,
                      std::string("a task record's settings are damaged: ") + e.what());
  }
  opt.out_dir = mopt.out_dir;
  opt.plots = mopt.plots;
  opt.merge_from = mopt.shards;
  log_line(ctx, "merging " + std::to_string(mopt.shards.size()) + " shard folder(s): " + opt.model + ", protocol " +
                    opt.protocol + ", " + std::to_string(run->value("tasks", 0)) + " tasks");
  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  std::error_code ec;
  const bool existed = fs::exists(opt.out_dir, ec);
  auto outcome = evaluate_recordings(ctx, ds->recordings, opt);
  if (!outcome) {
    if (!existed) fs::remove(opt.out_dir, ec);  // only removes it if still empty: nothing half-merged is left
    return outcome.error();
  }
  if (outcome->partial) return {};  // an MPI rank other than 0
  if (ctx.json) return print_json_file(ctx, opt.out_dir / "metrics.json");
  ctx.out << eval::format_summary(outcome->result);
  char line[200];
  std::snprintf(line, sizeof line, "%zu tasks merged; their compute: %.1f s in all, the longest %.1f s\n",
                outcome->tasks_total, outcome->task_seconds, outcome->longest_task_seconds);
  ctx.out << line;
  ctx.out << "evaluation written to " << fs::absolute(opt.out_dir).lexically_normal().string()
          << " (open summary.md)\n";
  return {};
}

}  // namespace myoexo::app
