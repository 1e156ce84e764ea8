// `myoexo evaluate`: UCI-LL v1 protocols with a model, written as a folder a person reads.
#include "app/evaluate.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <system_error>

#include "app/common.hpp"
#include "io/io.hpp"
#include "report/report.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * v);
  return buf;
}

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
  if (p->protocol == eval::Protocol::pooled) return pct(p->mean_accuracy);
  return pct(p->mean_accuracy) + " (" + pct(p->min_accuracy) + ")";
}

// The comparison table of issue 3 section 8: this run's row, then the peers' published-in-the-issue rows.
std::vector<std::string> peer_table(const eval::EvaluationResult& r) {
  using eval::Protocol;
  return {
      "| " + std::to_string(r.subjects.size()) + " subjects | W mean (min) | P | L mean (min) |",
      "|---|---|---|---|",
      "| **this run: " + r.model_name + "** | " + mean_min_cell(r.find(Protocol::within_subject)) + " | " +
          mean_min_cell(r.find(Protocol::pooled)) + " | " + mean_min_cell(r.find(Protocol::leave_one_subject_out)) +
          " |",
      "| LDA on HTD features (scikit-learn) | 88.8 % (71.6 %) | 72.4 % | 70.8 % (39.2 %) |",
      "| CNN, PyTorch, 30 epochs (L: 10) | 91.2 % (75.2 %) | 79.1 % | 69.0 % (37.7 %) |",
      "",
      "The first row was measured by this run; the peer rows are copied from issue 3 section 8 (measured once on "
      "the 16 subjects of ../shared with SciPy 1.10 / scikit-learn 1.2 / PyTorch 1.13 under the same protocol). "
      "Targets: W mean >= 95 % with no subject below 85 %; L mean >= 80 % with no subject below 55 %.",
  };
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
            ": confusion (rows normalised), accuracy " + pct(p.summed.accuracy);
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
               "protocol's causal Butterworth band-pass " + format_double(spec.band_low_hz) + "-" +
               format_double(spec.band_high_hz) + " Hz (order " + std::to_string(spec.filter_order) +
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
    const std::string stem = "spectrogram_" + data.class_names[k];
    const std::string title = "Subject " + subject_name + ", " + data.class_names[k] + " (" + rec->name + "): " +
                              opt.spectrogram_channel + " band-passed " + format_double(spec.band_low_hz) + "-" +
                              format_double(spec.band_high_hz) + " Hz, training part";
    if (auto w = write_spectrogram_outputs(*s, opt.out_dir / stem, title, {}, unit); !w) return w;
    outcome.files.push_back(stem + ".png");
    outcome.files.push_back(stem + ".csv");
    md.push_back("![" + data.class_names[k] + " spectrogram](" + stem + ".png)");
    md.push_back("");
    log_line(ctx, "wrote " + (opt.out_dir / (stem + ".png")).string());
  }
  return {};
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

Result<std::vector<eval::Protocol>> parse_protocols(const std::string& name) {
  using eval::Protocol;
  const std::string n = lower(name);
  if (n == "all") return std::vector<Protocol>{Protocol::within_subject, Protocol::pooled, Protocol::leave_one_subject_out};
  if (n == "w") return std::vector<Protocol>{Protocol::within_subject};
  if (n == "p") return std::vector<Protocol>{Protocol::pooled};
  if (n == "l") return std::vector<Protocol>{Protocol::leave_one_subject_out};
  return make_error(ErrorCode::invalid_argument, "--protocol must be W, P, L or all, not '" + name + "'");
}

Result<EvaluateOutcome> evaluate_recordings(const Context& ctx, std::span<const io::Recording> recordings,
                                            const EvaluateOptions& opt, const std::string& link_prefix) {
  auto protocols = parse_protocols(opt.protocol);
  if (!protocols) return protocols.error();
  if (lower(opt.model) != "lda")
    return make_error(ErrorCode::invalid_argument, "--model must be lda (the only model wired so far), not '" +
                                                       opt.model + "'");
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the output folder");

  const eval::DataSpec spec = eval::uci_ll_v1_spec();
  log_line(ctx, "preparing " + std::to_string(recordings.size()) + " recordings (" + spec.name + ") ...");
  auto data = eval::prepare_data(recordings, spec);
  if (!data) return data.error();

  eval::RunOptions run;
  run.protocols = *protocols;
  run.subjects = opt.subjects;
  run.model_name = "LDA on HTD features";
  if (!ctx.quiet) run.progress = [&ctx](const std::string& line) { ctx.err << "myoexo: " << line << '\n'; };
  auto res = eval::run_protocol(*data, spec, eval::make_lda_fit_predict(), run);
  if (!res) return res.error();

  EvaluateOutcome outcome;
  outcome.result = std::move(res).value();
  const eval::EvaluationResult& r = outcome.result;

  {
    const fs::path file = opt.out_dir / "metrics.json";
    std::ofstream out(file, std::ios::trunc);
    out << eval::evaluation_to_json(r).dump(2) << '\n';
    if (!out) return make_error(ErrorCode::io, file.string(), 0, "cannot be written");
    outcome.files.push_back("metrics.json");
  }

  std::vector<std::string> md = {
      "# myoexo evaluation: " + r.model_name + ", protocol " + r.spec_name,
      "",
      "Made by `myoexo evaluate --protocol " + opt.protocol + " --model " + opt.model + "`. " +
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
      "## Comparison with the peers (issue 3 section 8)",
      "",
  };
  for (auto& l : peer_table(r)) md.push_back(l);
  md.push_back("");

  for (const auto& p : r.protocols) {
    const std::string code = eval::protocol_code(p.protocol);
    md.push_back("## " + long_name(p.protocol));
    md.push_back("");
    md.push_back("| metric | mean over folds | min over folds | summed confusion |");
    md.push_back("|---|---|---|---|");
    md.push_back("| accuracy | " + pct(p.mean_accuracy) + " | " + pct(p.min_accuracy) + " (" + p.min_fold + ") | " +
                 pct(p.summed.accuracy) + " |");
    md.push_back("| balanced accuracy | " + pct(p.mean_balanced_accuracy) + " | " +
                 pct(min_over_folds(p, [](const eval::Metrics& m) { return m.balanced_accuracy; })) + " | " +
                 pct(p.summed.balanced_accuracy) + " |");
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
                   pct(f.metrics.accuracy) + " | " + pct(f.metrics.balanced_accuracy) + " | " +
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
      md.push_back("![per-class scores " + code + "](" + bars + ")");
      md.push_back("");
    }
  }
  if (opt.plots) {
    if (auto s = write_class_spectrograms(ctx, *data, spec, recordings, opt, outcome, md); !s) return s.error();
  }
  if (auto s = write_text(opt.out_dir / "summary.md", md); !s) return s.error();
  outcome.files.push_back("summary.md");

  auto& h = outcome.headline_md;
  h.push_back("## Evaluation (" + r.model_name + ", " + r.spec_name + ")");
  h.push_back("");
  for (auto& l : peer_table(r)) h.push_back(l);
  h.push_back("");
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
  // Check the cheap arguments before the (seconds-long) load.
  if (auto p = parse_protocols(opt.protocol); !p) return p.error();
  fs::path data_path;
  if (opt.data) {
    data_path = resolve_input_path(ctx, *opt.data);
  } else {
    auto root = resolve_data_root(ctx);
    if (!root)
      return make_error(ErrorCode::io, "no data-set root: pass --data DIR or set $MYOEXO_DATA (or run `myoexo "
                                       "download uci-lower-limb`)");
    data_path = *root / "uci-lower-limb";
  }
  std::error_code ec;
  if (!fs::is_directory(data_path, ec))
    return make_error(ErrorCode::io, data_path.string(), 0,
                      "is not a folder (run `myoexo download uci-lower-limb` or pass --data DIR)");
  log_line(ctx, "reading every recording below " + data_path.string() + " ...");
  auto ds = io::load_dataset(data_path);
  if (!ds) return ds.error();
  auto outcome = evaluate_recordings(ctx, ds->recordings, opt);
  if (!outcome) return outcome.error();
  ctx.out << eval::format_summary(outcome->result);
  ctx.out << "evaluation written to " << fs::absolute(opt.out_dir).lexically_normal().string()
          << " (open summary.md)\n";
  return {};
}

}  // namespace myoexo::app
