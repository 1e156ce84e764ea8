// `myoexo report --out DIR`: the README's main job, as a list of steps that each add files and a section of
// summary.md. Later stages (train, evaluate, replay) append their own steps to `report_steps()`.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <system_error>
#include <type_traits>

#include "app/common.hpp"
#include "app/evaluate.hpp"
#include "app/info_json.hpp"
#include "app/knee_network.hpp"
#include "app/run.hpp"
#include "io/io.hpp"
#include "models/gradient_boosting.hpp"
#include "report/html.hpp"
#include "session/model.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

/// What the steps share: the options, the loaded data set and the summary being written.
struct ReportState {
  const Context& ctx;
  const ReportOptions& opt;
  fs::path data_path;
  io::Dataset dataset;
  std::vector<std::string> summary;  ///< markdown lines, in step order
  fs::path cnn_model;                ///< the CNN step's L model of the replayed subject (empty: none)
};

/// The recording the replay step uses: opt.replay_file, else the first gait recording (index into recordings).
std::size_t replay_pick(const ReportState& st) {
  const auto& recs = st.dataset.recordings;
  std::size_t pick = recs.size();
  for (std::size_t i = 0; i < recs.size(); ++i)
    if (recs[i].source_path.stem() == st.opt.replay_file) pick = i;
  for (std::size_t i = 0; i < recs.size() && pick == recs.size(); ++i)
    if (recs[i].label == "gait") pick = i;
  return pick;
}

std::string replay_subject(const ReportState& st) {
  const std::size_t pick = replay_pick(st);
  return pick < st.dataset.recordings.size() ? st.dataset.recordings[pick].subject_id : std::string();
}

struct ReportStep {
  const char* name;
  std::function<Status(ReportState&)> run;
};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "gait 174, rest 81" from a count (or duration) per name, in name order.
template <typename T>
std::string counts_text(const std::map<std::string, T>& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    if constexpr (std::is_floating_point_v<T>)
      out += (out.empty() ? "" : ", ") + k + " " + fixed(v, 3);
    else
      out += (out.empty() ? "" : ", ") + k + " " + std::to_string(v);
  }
  return out.empty() ? "none" : out;
}

// Step 1: dataset.json, and the headline numbers for the summary.
Status step_dataset(ReportState& st) {
  log_line(st.ctx, "reading every recording below " + st.data_path.string() + " ...");
  auto ds = io::load_dataset(st.data_path);
  if (!ds) return ds.error();
  st.dataset = std::move(ds).value();
  const auto info = dataset_info_json(st.data_path, st.dataset.recordings, st.dataset.duplicates,
                                      st.dataset.unreadable, true);
  const fs::path file = st.opt.out_dir / "dataset.json";
  std::ofstream out(file, std::ios::trunc);
  out << info.dump(2) << '\n';
  if (!out) return make_error(ErrorCode::io, file.string(), 0, "cannot be written");

  auto& s = st.summary;
  s.push_back("## Data set");
  s.push_back("");
  s.push_back("`" + st.data_path.string() + "`: " + std::to_string(st.dataset.recordings.size()) + " recordings of " +
              std::to_string(st.dataset.subjects().size()) + " subjects, classes: " +
              [&] {
                std::string c;
                for (const auto& l : st.dataset.labels()) c += (c.empty() ? "" : ", ") + l;
                return c;
              }() +
              ". Total " + fixed(info["total_duration_s"].get<double>(), 1) + " s of recording; " +
              std::to_string(info["rows_skipped"].get<std::size_t>()) + " incomplete or corrupt rows were skipped.");
  if (!st.dataset.duplicates.empty()) {
    std::string d;
    for (const auto& p : st.dataset.duplicates)
      d += (d.empty() ? "" : ", ") + p.first.filename().string() + " = " + p.second.filename().string();
    s.push_back("");
    s.push_back("Identical recordings (keep their subjects in the same split): " + d + ".");
  }
  if (!st.dataset.unreadable.empty()) {
    s.push_back("");
    s.push_back(std::to_string(st.dataset.unreadable.size()) + " file(s) could not be read; see `dataset.json`.");
  }
  s.push_back("");
  s.push_back("Full per-file details: [dataset.json](dataset.json).");
  s.push_back("");
  return {};
}

// Step 2: one spectrogram per movement class, channel RF of one subject, causal band-pass first.
Status step_spectrograms(ReportState& st) {
  const auto grouped = st.dataset.grouped();
  const auto labels = st.dataset.labels();
  if (labels.empty()) return make_error(ErrorCode::empty, st.data_path.string(), 0, "has no per-file classes");
  std::string subject = st.opt.subject;
  if (subject.empty()) {
    std::vector<std::string> subjects;
    for (const auto& [sub, by_label] : grouped) subjects.push_back(sub);
    std::sort(subjects.begin(), subjects.end(), subject_less);
    for (const auto& sub : subjects)
      if (grouped.at(sub).size() == labels.size()) {
        subject = sub;
        break;
      }
    if (subject.empty()) subject = subjects.front();
  }
  const auto it = grouped.find(subject);
  if (it == grouped.end())
    return make_error(ErrorCode::invalid_argument, st.data_path.string(), 0, "has no subject '" + subject + "'");

  auto& s = st.summary;
  s.push_back("## Spectrograms by movement");
  s.push_back("");
  s.push_back("Subject " + subject + ", channel " + st.opt.channel + ", Butterworth band-pass " +
              format_double(st.opt.band_low_hz) + "-" + format_double(st.opt.band_high_hz) + " Hz (order " +
              std::to_string(st.opt.order) + ", causal, as the live path) before a Hann-windowed spectrogram " +
              "(256 samples, 50 % overlap, PSD in dB).");
  s.push_back("");
  std::size_t k = 0;
  for (const auto& [label, indices] : it->second) {
    ++k;
    const io::Recording& src = st.dataset.recordings[indices.front()];
    log_line(st.ctx, "spectrogram " + std::to_string(k) + "/" + std::to_string(it->second.size()) + ": " +
                         src.source_path.filename().string() + " (" + label + ")");
    const int c = src.channel_index(st.opt.channel);
    if (c < 0)
      return make_error(ErrorCode::invalid_argument, src.source_path.string(), 0,
                        "has no channel '" + st.opt.channel + "'");
    io::Recording one;
    one.sample_rate_hz = src.sample_rate_hz;
    one.channel_names = {st.opt.channel};
    one.channel_units = {""};
    one.n_samples = src.n_samples;
    auto ch = src.channel(static_cast<std::size_t>(c));
    one.samples.assign(ch.begin(), ch.end());
    auto design = design_from_options(src.sample_rate_hz, st.opt.band_low_hz, st.opt.band_high_hz, st.opt.order);
    if (!design) return design.error();
    if (auto f = filter_channels(one, *design, {0}, false); !f) return f;
    auto spec = compute_channel_spectrogram(one.samples, one.sample_rate_hz, 256, 128, "hann");
    if (!spec) return spec.error();
    const std::string stem = "spectrogram_" + file_name_part(label);
    const std::string title = "Subject " + subject + ", " + label + ": " + st.opt.channel + " band-passed " +
                              format_double(st.opt.band_low_hz) + "-" + format_double(st.opt.band_high_hz) + " Hz";
    if (auto w = write_spectrogram_outputs(*spec, st.opt.out_dir / stem, title, {},
                                           static_cast<std::size_t>(c) < src.channel_units.size() ? src.channel_units[static_cast<std::size_t>(c)] : ""); !w) return w;

    // Two numbers a person can compare across classes: where the mean in-band power peaks, and its median.
    const std::size_t nt = spec->times_s.size();
    std::vector<double> band_hz, band_power;
    for (std::size_t f = 0; f < spec->freqs_hz.size(); ++f) {
      const double hz = spec->freqs_hz[f];
      if (hz < st.opt.band_low_hz || hz > st.opt.band_high_hz) continue;
      double mean = 0;
      for (std::size_t t = 0; t < nt; ++t) mean += std::pow(10.0, spec->power_db[f * nt + t] / 10.0);
      band_hz.push_back(hz);
      band_power.push_back(mean / double(std::max<std::size_t>(nt, 1)));
    }
    double peak_f = 0, median_f = 0;
    if (!band_power.empty()) {
      peak_f = band_hz[std::max_element(band_power.begin(), band_power.end()) - band_power.begin()];
      double total = 0, acc = 0;
      for (double p : band_power) total += p;
      for (std::size_t i = 0; i < band_power.size(); ++i)
        if ((acc += band_power[i]) >= total / 2) {
          median_f = band_hz[i];
          break;
        }
    }
    s.push_back("### " + label);
    s.push_back("");
    // Built with append(): GCC 12's -Wrestrict misfires on a long "literal" + std::string chain here.
    std::string line = "`";
    line.append(src.source_path.filename().string()).append("`, ").append(fixed(src.duration_s(), 1));
    line.append(" s; in-band power peaks at ").append(fixed(peak_f, 0)).append(" Hz, median frequency ");
    line.append(fixed(median_f, 0)).append(" Hz. Numbers: [").append(stem).append(".csv](").append(stem);
    line.append(".csv).");
    s.push_back(std::move(line));
    s.push_back("");
    s.push_back("![" + label + " spectrogram](" + stem + ".png)");
    s.push_back("");
    s.push_back("*What this shows: the power of the EMG (colour, dB) by frequency (up) and time (across) during " + label +
                "; each burst of muscle activity is a bright vertical band.*");
    s.push_back("");
  }
  return {};
}

// "What am I looking at" for the figures of a replay (run.cpp draws them).
const char* replay_figure_caption(std::string_view png) {
  if (png == "emg")
    return "the EMG of each muscle as the chain filtered it (causal band-pass), over the whole replay.";
  if (png == "intent")
    return "each decision of the decoder (colour = the movement it chose, height = its confidence) over time; "
           "grey decisions were rejected as too uncertain and count as rest.";
  if (png == "angles")
    return "the exoskeleton's hip and knee: the set-point the controller asked for and the angle the simulated "
           "joint reached, in degrees.";
  if (png == "knee_goniometer")
    return "the knee angle the goniometer recorded on the person and the simulated exoskeleton's knee, in degrees.";
  return "a figure of the replay.";
}

// Step 3: one recording replayed through the whole chain into the simulated exoskeleton, with an LDA trained
// on every OTHER subject (so the replay is out-of-subject, as a new user would meet it).
Status step_replay(ReportState& st) {
  if (!st.opt.replay) return {};
  const auto& recs = st.dataset.recordings;
  const std::size_t pick = replay_pick(st);
  if (pick == recs.size()) return make_error(ErrorCode::empty, st.data_path.string(), 0, "has no gait recording to replay");
  const io::Recording& target = recs[pick];
  std::set<fs::path> dup_second;
  for (const auto& d : st.dataset.duplicates) dup_second.insert(d.second);
  std::vector<io::Recording> train;
  for (const auto& r : recs)
    if (r.subject_id != target.subject_id && !dup_second.count(r.source_path)) train.push_back(r);
  // The declared lda_context variant, the model `myoexo evaluate --model lda_context` measures: log amplitudes,
  // MAV WL ZC SSC RMS AR over the window plus a block over the window and its 750 past samples.
  log_line(st.ctx, "training LDA (lda_context: log-amplitude MAV WL ZC SSC RMS AR, 250/50 windows + 750 past "
                   "samples) on " + std::to_string(train.size()) + " recordings of the other subjects ...");
  PipelineModel base = lda_context_model(750);
  base.sample_rate_hz = target.sample_rate_hz;
  auto model = train_pipeline_model(train, base);
  if (!model) return model.error();
  const fs::path dir = st.opt.out_dir / "replay";
  if (auto s = save_pipeline_model(*model, dir / "model.json"); !s) return s;
  RunCommandOptions ro;
  ro.replay = target.source_path;
  ro.out_dir = dir;
  auto res = run_chain(st.ctx, ro, *model);
  if (!res) return res.error();
  const RunSummary& j = *res;
  auto& s = st.summary;
  s.push_back("## Replay into the simulated exoskeleton");
  s.push_back("");
  s.push_back("`" + target.source_path.filename().string() + "` (subject " + target.subject_id + ", " + target.label +
              ") replayed as fast as possible in 50-sample chunks through the causal band-pass (20-450 Hz), " +
              "250/50-sample windows and the `lda_context` LDA of the evaluation (log-amplitude MAV, WL, ZC, SSC, " +
              "RMS, AR1-4 over the window, plus the same features over the window and its 750 past samples, " +
              "clipped at the stream start) trained on " + std::to_string(train.size()) +
              " recordings of the other subjects ([model.json](replay/model.json)); rejection below 0.9 -> rest, " +
              "majority vote over 5. Classes map to intents: gait -> gait, standing (knee flexion) -> lift, " +
              "sitting (leg extension) -> lower. Intents drive the state machine, minimum-jerk trajectories, the " +
              "PD + gravity controller and the safety supervisor of a MuJoCo hip-knee exoskeleton at " +
              format_double(j.control_hz) + " Hz (" + j.actuators + ").");
  s.push_back("");
  s.push_back("- decisions: " + std::to_string(j.session.pipeline.decisions) + ", intents " + counts_text(j.intents) +
              (j.expected_intent ? "; " + fixed(100 * j.expected_fraction_of_decisions, 1) +
                                       " % of decisions were the file's intent (" + *j.expected_intent + ")"
                                 : std::string()));
  s.push_back("- compute per decision p50 / p99 / max: " + fixed(j.compute.p50_s * 1e6, 1) + " / " +
              fixed(j.compute.p99_s * 1e6, 1) + " / " + fixed(j.compute.max_s * 1e6, 1) +
              " us; end-to-end (sample arrival -> command out of the supervisor, wall clock) p50 / p99: " +
              fixed(j.session.arrival_to_command.p50_s * 1e6, 1) + " / " +
              fixed(j.session.arrival_to_command.p99_s * 1e6, 1) + " us");
  s.push_back("- safety: " + std::to_string(j.events_logged) + " supervisor interventions logged " +
              counts_text(j.events_by_reason) + ", set-point limit violations " +
              std::to_string(j.setpoint_limit_violations) + "; time per supervisor mode (s) " +
              counts_text(j.supervisor_mode_time_s));
  s.push_back("- files: [run_log.csv](replay/run_log.csv), [decisions.csv](replay/decisions.csv), "
              "[events.csv](replay/events.csv), [summary.json](replay/summary.json); `myoexo review " +
              dir.string() + "` opens the run in the console and scrubs through it");
  s.push_back("");
  for (const char* png : {"emg", "intent", "angles", "knee_goniometer"})
    if (fs::exists(dir / (std::string(png) + ".png"))) {
      s.push_back("![" + std::string(png) + "](replay/" + png + ".png)");
      s.push_back("");
      s.push_back(std::string("*What this shows: ") + replay_figure_caption(png) + "*");
      s.push_back("");
    }

  // The same replay with the CNN of the CNN step (its leave-one-subject-out model for this subject).
  std::error_code ec;
  if (st.cnn_model.empty() || !fs::is_regular_file(st.cnn_model, ec)) return {};
  auto cnn = load_model(st.cnn_model);
  if (!cnn) return cnn.error();
  const fs::path cdir = st.opt.out_dir / "replay_cnn";
  RunCommandOptions co = ro;
  co.out_dir = cdir;
  auto cres = run_chain(st.ctx, co, *cnn);
  if (!cres) return cres.error();
  const RunSummary& c = *cres;
  const std::string rel = fs::relative(st.cnn_model, st.opt.out_dir, ec).string();
  s.push_back("### The same replay with the CNN");
  s.push_back("");
  s.push_back("Model: [" + rel + "](" + rel + "), the CNN step's leave-one-subject-out network for subject " +
              target.subject_id + " (never trained on this subject); same chain, post-processing and simulation.");
  s.push_back("");
  s.push_back("- decisions: " + std::to_string(c.session.pipeline.decisions) + ", intents " + counts_text(c.intents) +
              (c.expected_intent ? "; " + fixed(100 * c.expected_fraction_of_decisions, 1) +
                                       " % of decisions were the file's intent"
                                 : std::string()));
  s.push_back("- compute per decision p50 / p99 / max: " + fixed(c.compute.p50_s * 1e6, 1) + " / " +
              fixed(c.compute.p99_s * 1e6, 1) + " / " + fixed(c.compute.max_s * 1e6, 1) +
              " us; safety interventions " + std::to_string(c.events_logged) + ", set-point limit violations " +
              std::to_string(c.setpoint_limit_violations));
  s.push_back("- files: [run_log.csv](replay_cnn/run_log.csv), [summary.json](replay_cnn/summary.json)");
  s.push_back("");
  for (const char* png : {"intent", "angles"})
    if (fs::exists(cdir / (std::string(png) + ".png"))) {
      s.push_back("![cnn " + std::string(png) + "](replay_cnn/" + png + ".png)");
      s.push_back("");
      s.push_back(std::string("*What this shows: ") + replay_figure_caption(png) + "*");
      s.push_back("");
    }
  return {};
}

// Step 4: the LDA baseline under protocols W, P, L, written to evaluation/.
Status step_evaluate(ReportState& st) {
  EvaluateOptions ev;
  ev.out_dir = st.opt.out_dir / "evaluation";
  auto res = evaluate_recordings(st.ctx, st.dataset.recordings, ev, "evaluation/");
  if (!res) return res.error();
  for (const auto& l : res->headline_md) st.summary.push_back(l);
  return {};
}

// Step 4b: the best model on this data (the lda_context LDA: log-amplitude features of the window and of 750 past
// samples) under W, P and L, written to evaluation_best/.
Status step_evaluate_best(ReportState& st) {
  EvaluateOptions ev;
  ev.model = "lda_context";
  ev.out_dir = st.opt.out_dir / "evaluation_best";
  if (st.opt.quick) {
    const std::string subject = replay_subject(st);
    ev.subjects = {subject.empty() ? std::string("1A") : subject};
  }
  auto res = evaluate_recordings(st.ctx, st.dataset.recordings, ev, "evaluation_best/");
  if (!res) return res.error();
  st.summary.push_back("The best model measured on this data: the same LDA on log-amplitude features of the window "
                       "plus the same features over the window and 750 past samples (causal context).");
  st.summary.push_back("");
  for (const auto& l : res->headline_md) st.summary.push_back(l);
  return {};
}

// Step 5: the default CNN (configs/cnn1d.toml) under W, P and L, written to evaluation_cnn/; keeps the L model
// of the replayed subject (trained without that subject) for the CNN replay.
Status step_evaluate_cnn(ReportState& st) {
#ifdef MYOEXO_HAVE_TORCH
  if (!st.opt.cnn) return {};
  EvaluateOptions ev;
  ev.model = "cnn1d";
  ev.out_dir = st.opt.out_dir / "evaluation_cnn";
  ev.epochs = st.opt.quick ? 2 : st.opt.cnn_epochs;
  ev.epochs_loso = st.opt.quick ? 1 : st.opt.cnn_epochs_loso;
  const std::string subject = replay_subject(st);
  if (!subject.empty()) ev.save_loso_models = {subject};
  if (st.opt.quick) {
    ev.subjects = {subject.empty() ? std::string("1A") : subject};
    st.summary.push_back("**Quick run (`--quick`): the CNN trained for 2 epochs (L: 1) with W and L held-out folds "
                         "for " + ev.subjects.front() + " only - a smoke test of the pipeline, not a result.**");
    st.summary.push_back("");
  }
  auto res = evaluate_recordings(st.ctx, st.dataset.recordings, ev, "evaluation_cnn/");
  if (!res) return res.error();
  for (const auto& l : res->headline_md) st.summary.push_back(l);
  st.cnn_model = ev.out_dir / "models" / ("L_" + subject + ".pt");
  return {};
#else
  st.summary.push_back("(No CNN step: this build has no LibTorch.)");
  st.summary.push_back("");
  return {};
#endif
}

// Step 6: continuous knee angle from EMG: the trees (the ridge in a quick report or without XGBoost) under W and L
// (knee_angle/), then the replayed subject's sitting leg extension through the whole chain with the knee following
// the estimate, and without.
Status step_knee_angle(ReportState& st) {
  const bool trees = !st.opt.quick && models::gradient_boosting_available();
  EvaluateOptions ev;
  ev.target = "knee_angle";
  ev.model = trees ? "trees" : "ridge";
  ev.out_dir = st.opt.out_dir / "knee_angle";
  if (st.opt.quick) ev.protocol = "W";
  auto table = evaluate_angle_recordings(st.ctx, st.dataset.recordings, ev);
  if (!table) return table.error();
  auto& s = st.summary;
  s.push_back("## Continuous knee angle from EMG");
  s.push_back("");
  s.push_back(std::string(trees ? "Gradient-boosted trees on the log RMS of 20 x 50-sample segments per channel (the "
                                   "window and its 750 past samples)"
                                 : "Ridge regression on the lda_context feature rows") +
              " against the goniometer (FX, flexion positive, low-passed zero-phase at 6 Hz), per movement and "
              "pooled; W = within subject (70/30 chronological), L = leave one subject out. Details: "
              "[knee_angle/summary.md](knee_angle/summary.md).");
  s.push_back("");
  for (std::string line; const char c : *table) {
    if (c != '\n') {
      line += c;
      continue;
    }
    s.push_back(line);
    line.clear();
  }
  s.push_back("");
  // The replayed subject's sitting leg extension, proportional mode on and off.
  const std::string subject = replay_subject(st);
  const io::Recording* target = nullptr;
  for (const auto& r : st.dataset.recordings)
    if (r.subject_id == subject && r.label == "sitting") target = &r;
  if (!target) return {};
  std::set<fs::path> dup_second;
  for (const auto& d : st.dataset.duplicates) dup_second.insert(d.second);
  std::vector<io::Recording> train;
  for (const auto& r : st.dataset.recordings)
    if (r.subject_id != subject && !dup_second.count(r.source_path)) train.push_back(r);
  PipelineModel base = lda_context_model(750);
  base.sample_rate_hz = target->sample_rate_hz;
  auto model = train_pipeline_model(train, base);
  if (!model) return model.error();
  auto knee = trees ? train_knee_angle_trees(st.ctx, train, std::move(*model), {})
                    : session::train_knee_angle_regressor(train, std::move(*model));
  if (!knee) return knee.error();
  s.push_back("`" + target->source_path.filename().string() + "` (subject " + subject + ", never trained on) "
              "replayed with the lda_context LDA and knee-angle " + (trees ? "trees" : "ridge") +
              " trained on the other subjects:");
  s.push_back("");
  s.push_back("| proportional mode | knee RMSE vs goniometer | lag | estimate RMSE | time following |");
  s.push_back("|---|---|---|---|---|");
  for (const bool on : {false, true}) {
    RunCommandOptions ro;
    ro.replay = target->source_path;
    ro.proportional = on;
    ro.out_dir = st.opt.out_dir / (on ? "replay_proportional" : "replay_sitting");
    auto res = run_chain(st.ctx, ro, *knee);
    if (!res) return res.error();
    const auto& k = res->json["knee_tracking"];
    auto num = [&](const char* key, int digits) {
      return k.contains(key) && k[key].is_number() ? fixed(k[key].get<double>(), digits) : std::string("-");
    };
    s.push_back(std::string("| ") + (on ? "on" : "off") + " | " + num("exo_rmse_deg", 1) + " deg | " +
                (k.contains("exo_lag_ms") && k["exo_lag_ms"].is_number() ? num("exo_lag_ms", 0) + " ms"
                                                                         : std::string("none within 1 s")) +
                " | " + num("estimate_rmse_deg", 1) + " deg | " +
                fixed(100.0 * k.value("following_fraction", 0.0), 0) + " % |");
  }
  s.push_back("");
  if (fs::exists(st.opt.out_dir / "replay_proportional" / "knee_goniometer.png")) {
    s.push_back("![knee, proportional](replay_proportional/knee_goniometer.png)");
    s.push_back("");
    s.push_back("*What this shows: the knee angle the goniometer recorded while the person moved, and the simulated "
                "exoskeleton's knee following the angle estimated from EMG (proportional mode) through the safety "
                "supervisor.*");
    s.push_back("");
  }
  return {};
}

std::vector<ReportStep> report_steps() {
  return {
      {"data set summary", step_dataset},
      {"per-class spectrograms", step_spectrograms},
      {"evaluation (LDA, protocols W/P/L)", step_evaluate},
      {"evaluation (the best model, lda_context, protocols W/P/L)", step_evaluate_best},
      {"evaluation (CNN, protocols W/P/L)", step_evaluate_cnn},
      {"replay into the simulated exoskeleton", step_replay},
      {"knee angle from EMG (trees or ridge, W/L; proportional replay)", step_knee_angle},
  };
}

}  // namespace

Status run_report(const Context& ctx, const ReportOptions& opt) {
  auto root = resolve_data_root(ctx);
  fs::path data_path = fs::path(opt.dataset);
  std::error_code ec;
  if (!fs::is_directory(data_path, ec)) {
    if (!root)
      return make_error(ErrorCode::io, "no data-set root: pass --data DIR or set $MYOEXO_DATA (or run `myoexo "
                                       "download uci-lower-limb`)");
    data_path = *root / opt.dataset;
  }
  if (!fs::is_directory(data_path, ec))
    return make_error(ErrorCode::io, data_path.string(), 0,
                      "is not a folder (run `myoexo download " + opt.dataset + "` or pass --data DIR)");
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the report folder");

  ReportState st{ctx, opt, data_path, {}, {}, {}};
  const auto made_by = session::current_provenance();
  st.summary = {"# myoexo report", "",
                "Made by `myoexo report` (myoexo " + made_by.version +
                    (made_by.commit.empty() ? std::string() : ", commit " + made_by.commit) + ", " +
                    made_by.created_utc + ") from the data in `" + fs::absolute(data_path).lexically_normal().string() +
                    "`. Each section below is one step of the main job." +
                    (opt.quick ? " **Quick run: a smoke test of every step, not a result.**" : ""),
                ""};
  const auto steps = report_steps();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    log_line(ctx, "step " + std::to_string(i + 1) + "/" + std::to_string(steps.size()) + ": " + steps[i].name);
    if (auto s = steps[i].run(st); !s) return s;
  }
  const fs::path md = opt.out_dir / "summary.md";
  std::ofstream out(md, std::ios::trunc);
  for (const auto& line : st.summary) out << line << '\n';
  out.close();
  if (!out) return make_error(ErrorCode::io, md.string(), 0, "cannot be written");
  report::HtmlPageOptions page;
  page.title = "myoexo report";
  if (auto s = report::write_html_page(md, opt.out_dir / "report.html", page); !s) return s;
  ctx.out << "report written to " << fs::absolute(opt.out_dir).lexically_normal().string()
          << " (open report.html in a browser, or summary.md)\n";
  return {};
}

}  // namespace myoexo::app
