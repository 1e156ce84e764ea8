// `myoexo evaluate --model-file M`: a trained model (an LDA pipeline model or a network, the files `train` writes
// and `run` loads) scored on recordings it was not trained on, window by window, as `predict` classifies them.
// Writes metrics.json, summary.md, a confusion matrix and per-class bars; prints the summary.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "app/common.hpp"
#include "app/evaluate.hpp"
#include "app/model_file.hpp"
#include "eval/metrics.hpp"
#include "eval/usage_metrics.hpp"
#include "realtime/postprocess.hpp"
#include "io/io.hpp"
#include "report/report.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string percent(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f %%", 100.0 * v);
  return b;
}

std::string join_list(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

struct SubjectTally {
  std::size_t correct = 0, windows = 0, recordings = 0;
};

}  // namespace

Status run_evaluate_model_file(const Context& ctx, const EvaluateOptions& opt) {
  const fs::path model_path = resolve_input_path(ctx, *opt.model_file);
  auto model = load_model(model_path);
  if (!model) return model.error();
  const std::vector<std::string>& classes = session::model_class_names(*model);
  const std::size_t k = classes.size();

  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  const fs::path data_path = ds->root;

  // Which recordings: the chosen subjects, one copy of content duplicates, and never a file the model was
  // trained on (its card lists them): a score on training data would say nothing about a new session.
  std::set<fs::path> second_copies;
  for (const auto& d : ds->duplicates) second_copies.insert(d.second);
  const std::set<std::string> trained(model->trained_on.begin(), model->trained_on.end());
  const std::set<std::string> wanted(opt.subjects.begin(), opt.subjects.end());
  for (const auto& s : opt.subjects) {
    const auto all = ds->subjects();
    if (std::find(all.begin(), all.end(), s) == all.end())
      return make_error(ErrorCode::invalid_argument,
                        "unknown subject '" + s + "' (the data set has " + join_list(all) + ")");
  }
  std::vector<const io::Recording*> test;
  std::vector<std::string> skipped_trained, skipped_label;
  for (const auto& r : ds->recordings) {
    if (!wanted.empty() && !wanted.count(r.subject_id)) continue;
    if (second_copies.count(r.source_path)) continue;
    if (trained.count(r.source_path.filename().string())) {
      skipped_trained.push_back(r.source_path.filename().string());
      continue;
    }
    if (r.label.empty() && r.sample_labels.empty()) continue;
    if (!r.label.empty() && std::find(classes.begin(), classes.end(), r.label) == classes.end()) {
      skipped_label.push_back(r.source_path.filename().string() + " (" + r.label + ")");
      continue;
    }
    test.push_back(&r);
  }
  if (test.empty())
    return make_error(ErrorCode::empty, data_path.string(), 0,
                      "no recording to test the model on: " +
                          (skipped_trained.empty() ? std::string("none of the chosen recordings has one of the "
                                                                 "model's classes (" + join_list(classes) + ")")
                                                   : std::to_string(skipped_trained.size()) +
                                                         " chosen recording(s) are in the model's training set"));

  // The decisions a clinician would see: each recording's windows through the live post-processing (rejection,
  // majority vote, dwell) with the model's class -> intent map. A model without one is scored window by window only.
  const realtime::PostProcessOptions post;  // the defaults of `run` and the console
  std::optional<std::vector<control::IntentLabel>> intents;
  if (auto ci = session::model_class_intents(*model)) intents = std::move(*ci);
  std::vector<eval::DecisionSequence> streams;

  // Every window of every test recording, as `predict` and the live pipeline classify it.
  std::vector<int> y_true, y_pred;
  std::map<std::string, SubjectTally> by_subject;
  std::size_t unclassified = 0, mixed = 0;
  for (std::size_t i = 0; i < test.size(); ++i) {
    const io::Recording& r = *test[i];
    if (!ctx.quiet && (i % 10 == 0 || i + 1 == test.size()))
      log_line(ctx, "classifying recording " + std::to_string(i + 1) + " of " + std::to_string(test.size()) + " (" +
                        r.source_path.filename().string() + ") ...");
    auto wp = model_window_probabilities(*model, r);
    if (!wp) return wp.error();
    SubjectTally& tally = by_subject[r.subject_id];
    ++tally.recordings;
    std::optional<realtime::IntentPostProcessor> pp;
    if (intents) {
      auto p = realtime::IntentPostProcessor::create(post, *intents);
      if (!p) return p.error();
      pp.emplace(std::move(*p));
      eval::DecisionSequence seq;
      seq.subject = r.subject_id;
      seq.increment_s = double(wp->inc) / wp->fs_hz;
      seq.rest = int(control::IntentLabel::rest);
      streams.push_back(std::move(seq));
    }
    for (std::size_t w = 0; w < wp->n_windows; ++w) {
      if (pp) {
        // The stream decides on every window, labelled or not; the truth is its class's intent (-1 unknown).
        const double* p = wp->probs.data() + w * k;
        const bool finite = !std::isnan(p[0]);
        const realtime::PostDecision d = pp->step({p, k}, finite);
        int truth_intent = -1;
        const auto it = std::find(classes.begin(), classes.end(), window_label(r, w * wp->inc, wp->len));
        if (it != classes.end()) truth_intent = int((*intents)[std::size_t(it - classes.begin())]);
        eval::DecisionSequence& seq = streams.back();
        seq.truth.push_back(truth_intent);
        seq.output.push_back(int(d.label));
        seq.rejected.push_back(d.rejected ? 1 : 0);
      }
      int truth = -1;
      if (!r.label.empty()) {
        truth = int(std::find(classes.begin(), classes.end(), r.label) - classes.begin());
      } else {
        // Per-sample labels: a window counts when it is one class, named as one of the model's classes.
        const std::size_t s0 = w * wp->inc;
        const int id = r.sample_labels[s0];
        bool uniform = id >= 0;
        for (std::size_t s = s0 + 1; uniform && s < s0 + wp->len; ++s) uniform = r.sample_labels[s] == id;
        if (!uniform || std::size_t(id) >= r.label_names.size()) {
          ++mixed;
          continue;
        }
        const auto it = std::find(classes.begin(), classes.end(), r.label_names[std::size_t(id)]);
        if (it == classes.end()) {
          ++mixed;
          continue;
        }
        truth = int(it - classes.begin());
      }
      const double* p = wp->probs.data() + w * k;
      if (std::isnan(p[0])) {
        ++unclassified;
        continue;
      }
      const int pred = int(std::max_element(p, p + k) - p);
      y_true.push_back(truth);
      y_pred.push_back(pred);
      ++tally.windows;
      tally.correct += pred == truth;
    }
  }
  if (y_true.empty()) return make_error(ErrorCode::empty, "no labelled window to score in the chosen recordings");
  auto metrics = eval::compute_metrics(y_true, y_pred, k);
  if (!metrics) return metrics.error();
  const eval::Metrics& mt = *metrics;

  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the folder: " + ec.message());
  std::vector<std::string> subjects;
  for (const auto& [s, t] : by_subject) subjects.push_back(s);
  std::sort(subjects.begin(), subjects.end(), subject_less);

  // metrics.json
  json j;
  j["mode"] = "model_file";
  j["model"] = {{"file", model_path.string()},
                {"classifier", model_classifier_name(*model)},
                {"signal_unit", model->signal_unit},
                {"channels", model->channels},
                {"window_samples", model->window_len},
                {"increment_samples", model->increment},
                {"filter", session::describe_model_filter(*model)},
                {"trained_on", model->trained_on.size()},
                {"provenance",
                 {{"version", model->provenance.version},
                  {"commit", model->provenance.commit},
                  {"created_utc", model->provenance.created_utc}}}};
  j["data"] = data_path.string();
  j["classes"] = classes;
  j["windows"] = mt.n_samples;
  j["windows_unclassified"] = unclassified;
  j["windows_mixed_or_unknown_label"] = mixed;
  j["recordings_tested"] = test.size();
  j["recordings_skipped_trained_on"] = skipped_trained;
  j["recordings_skipped_unknown_class"] = skipped_label;
  j["accuracy"] = mt.accuracy;
  j["balanced_accuracy"] = mt.balanced_accuracy;
  j["macro_f1"] = mt.macro_f1;
  json pc = json::object();
  for (std::size_t c = 0; c < k; ++c)
    pc[classes[c]] = {{"precision", mt.per_class[c].precision},
                      {"recall", mt.per_class[c].recall},
                      {"f1", mt.per_class[c].f1},
                      {"support", mt.per_class[c].support}};
  j["per_class"] = pc;
  j["confusion"] = mt.confusion;
  json subj = json::object();
  for (const auto& s : subjects) {
    const SubjectTally& t = by_subject[s];
    subj[s] = {{"accuracy", t.windows ? double(t.correct) / double(t.windows) : 0.0},
               {"windows", t.windows},
               {"recordings", t.recordings}};
  }
  j["by_subject"] = subj;
  // After post-processing, pooled and per subject.
  std::optional<eval::UsageMetrics> usage;
  std::map<std::string, eval::UsageMetrics> usage_by_subject;
  if (intents) {
    usage = eval::compute_usage_metrics(streams);
    json u = eval::usage_metrics_to_json(*usage);
    u["options"] = {{"rejection_threshold", post.rejection_threshold}, {"vote_window", post.vote_window},
                    {"min_dwell", post.min_dwell}};
    json us = json::object();
    for (const auto& s : subjects) {
      std::vector<eval::DecisionSequence> mine;
      for (const auto& q : streams)
        if (q.subject == s) mine.push_back(q);
      usage_by_subject[s] = eval::compute_usage_metrics(mine);
      us[s] = eval::usage_metrics_to_json(usage_by_subject[s]);
    }
    u["by_subject"] = us;
    j["post_processed"] = u;
  }
  {
    std::ofstream f(opt.out_dir / "metrics.json", std::ios::trunc);
    f << j.dump(2) << '\n';
    if (!f) return make_error(ErrorCode::io, (opt.out_dir / "metrics.json").string(), 0, "cannot be written");
  }

  // summary.md (and the same on the terminal)
  std::vector<std::string> md;
  md.push_back("# A trained model on recordings it did not see");
  md.push_back("");
  md.push_back("Model `" + model_path.filename().string() + "` (" + j["model"]["classifier"].get<std::string>() +
               ", channels " + join_list(model->channels, " ") + " in " + model->signal_unit + ", " +
               session::describe_model_filter(*model) + ", windows " + std::to_string(model->window_len) + "/" +
               std::to_string(model->increment) + ", trained on " + std::to_string(model->trained_on.size()) +
               " recordings). Every window classified as the live pipeline and `predict` classify it.");
  md.push_back("");
  md.push_back("- tested: " + std::to_string(test.size()) + " recordings of " + std::to_string(subjects.size()) +
               " subject(s), " + std::to_string(mt.n_samples) + " windows");
  if (!skipped_trained.empty())
    md.push_back("- left out: " + std::to_string(skipped_trained.size()) +
                 " recording(s) the model was trained on");
  if (!skipped_label.empty())
    md.push_back("- left out: " + std::to_string(skipped_label.size()) + " recording(s) of a class the model lacks: " +
                 join_list(skipped_label));
  if (unclassified) md.push_back("- not classified (non-finite samples): " + std::to_string(unclassified) + " windows");
  md.push_back("- accuracy " + percent(mt.accuracy) + ", balanced accuracy " + percent(mt.balanced_accuracy) +
               ", macro-F1 " + percent(mt.macro_f1));
  md.push_back("");
  md.push_back("| class | precision | recall | F1 | windows |");
  md.push_back("|---|---|---|---|---|");
  for (std::size_t c = 0; c < k; ++c) {
    const auto& s = mt.per_class[c];
    md.push_back("| " + classes[c] + " | " + percent(s.precision) + " | " + percent(s.recall) + " | " + percent(s.f1) +
                 " | " + std::to_string(s.support) + " |");
  }
  md.push_back("");
  md.push_back("| subject | accuracy | windows | recordings |");
  md.push_back("|---|---|---|---|");
  for (const auto& s : subjects) {
    const SubjectTally& t = by_subject[s];
    md.push_back("| " + s + " | " + percent(t.windows ? double(t.correct) / double(t.windows) : 0.0) + " | " +
                 std::to_string(t.windows) + " | " + std::to_string(t.recordings) + " |");
  }
  if (usage) {
    auto num = [](double v, double scale, const char* unit) {
      if (!std::isfinite(v)) return std::string("n/a");
      char b[48];
      std::snprintf(b, sizeof b, "%.2f%s", v * scale, unit);
      return std::string(b);
    };
    auto row = [&](const std::string& who, const eval::UsageMetrics& u) {
      return "| " + who + " | " + num(u.active_error_rate, 100, " %") + " | " + num(u.rejection_rate, 100, " %") +
             " | " + num(u.changes_per_s, 1, "") + " | " + num(u.mean_onset_delay_s, 1, " s") + " (" +
             std::to_string(u.onsets_reached) + "/" + std::to_string(u.onsets) + ") | " +
             num(u.false_activations_per_min, 1, "") + " |";
    };
    md.push_back("");
    md.push_back("After the live post-processing (rejection below " + format_double(post.rejection_threshold) +
                 ", majority vote over " + std::to_string(post.vote_window) + ", dwell " +
                 std::to_string(post.min_dwell) + "), one decision per increment: active errors (a wrong movement "
                 "asked for), rejections, output changes per second, the delay from a movement onset (a recording's "
                 "start or a label change) to its first correct intent (onsets reached / all), false activations "
                 "per minute of rest (n/a without a rest class).");
    md.push_back("");
    md.push_back("| subject | active error | rejected | changes/s | onset delay | false activations/min |");
    md.push_back("|---|---|---|---|---|---|");
    for (const auto& s : subjects) md.push_back(row(s, usage_by_subject[s]));
    md.push_back(row("**all**", *usage));
  }
  std::vector<std::string> files{"metrics.json", "summary.md"};
  if (opt.plots) {
    report::MatrixPlot m;
    m.title = model_path.filename().string() + " on unseen recordings: confusion (rows normalised), accuracy " +
              percent(mt.accuracy);
    m.row_names = classes;
    m.col_names = classes;
    m.values = mt.confusion_normalised;
    m.v_min = 0.0;
    m.v_max = 1.0;
    if (auto s = report::plot_matrix(m, opt.out_dir / "confusion.png"); !s) return s;
    report::BarChart b;
    b.title = model_path.filename().string() + " on unseen recordings: per-class scores, macro-F1 " +
              percent(mt.macro_f1);
    b.y_label = "Score";
    b.categories = classes;
    b.groups = {"precision", "recall", "F1"};
    b.values.assign(3, {});
    for (const auto& c : mt.per_class) {
      b.values[0].push_back(c.precision);
      b.values[1].push_back(c.recall);
      b.values[2].push_back(c.f1);
    }
    b.y_min = 0.0;
    b.y_max = 1.1;
    if (auto s = report::plot_bars(b, opt.out_dir / "per_class.png"); !s) return s;
    md.push_back("");
    md.push_back("![confusion](confusion.png) ![per-class scores](per_class.png)");
    files.push_back("confusion.png");
    files.push_back("per_class.png");
  }
  {
    std::ofstream f(opt.out_dir / "summary.md", std::ios::trunc);
    for (const auto& l : md) f << l << '\n';
    if (!f) return make_error(ErrorCode::io, (opt.out_dir / "summary.md").string(), 0, "cannot be written");
  }
  if (ctx.json) return print_json_file(ctx, opt.out_dir / "metrics.json");
  for (std::size_t i = 4; i < md.size(); ++i)
    if (md[i].rfind("![", 0) != 0) ctx.out << md[i] << '\n';
  ctx.out << "wrote " << join_list(files) << " in " << fs::absolute(opt.out_dir).lexically_normal().string() << '\n';
  return {};
}

}  // namespace myoexo::app
