// `myoexo evaluate --target knee_angle`: continuous knee angle from EMG under protocols W and L, per movement
// and pooled: angle_metrics.json, summary.md, per-subject bars and estimate-vs-goniometer traces.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/evaluate.hpp"
#include "eval/angle_protocol.hpp"
#include "features/features.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include <thread>

#include "app/train_cmd.hpp"
#include "eval/network_protocol.hpp"
#include "models/torch/network_spec.hpp"
#include "train/train.hpp"
#endif
#include "report/html.hpp"
#include "report/report.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

Result<eval::AngleSpec> angle_spec_from_options(const EvaluateOptions& opt, double sample_rate_hz) {
  eval::AngleSpec spec;
  spec.data = eval::uci_ll_v1_spec();
  spec.data.name = "UCI-LL knee angle v1";
  if (Status s = apply_front_end_override(opt.front_end, spec.data.band_low_hz, spec.data.band_high_hz,
                                           spec.data.denoise);
      !s)
    return s.error();
  if (!(opt.lead_ms >= 0.0 && opt.lead_ms <= 500.0))
    return make_error(ErrorCode::invalid_argument, "--lead-ms must be in [0, 500]");
  spec.lead_samples = std::size_t(std::lround(opt.lead_ms * sample_rate_hz / 1000.0));
  spec.smoothing_ms = opt.smoothing_ms;
  auto conv = eval::parse_angle_convention(opt.angle_convention);
  if (!conv) return conv.error();
  spec.target.convention = *conv;
  return spec;
}

Result<std::string> evaluate_angle_recordings(const Context& ctx, std::span<const io::Recording> recordings,
                                              const EvaluateOptions& opt) {
  const std::string model = ascii_lower(opt.model);
  // "lda" is the command's default model name: here it means the linear model on the same rows, ridge.
  const bool linear = model == "ridge" || model == "lda" || model == "lda_context";
  const bool trees = model == "trees";
  const bool person_trees = model == "person_trees";
  std::filesystem::path network_config;
  if (!linear && !trees && !person_trees) {
#ifdef MYOEXO_HAVE_TORCH
    auto c = resolve_network_config(opt.model);
    if (!c) return c.error();
    network_config = *c;
#else
    return make_error(ErrorCode::invalid_argument, "--model '" + opt.model + "': this build has no LibTorch (ridge only)");
#endif
  }
  auto protocols = parse_protocols(opt.protocol);
  if (!protocols) return protocols.error();
  std::vector<eval::Protocol> protos;
  for (eval::Protocol p : *protocols)
    if (p != eval::Protocol::pooled) protos.push_back(p);
  if (protos.empty())
    return make_error(ErrorCode::invalid_argument, "--target knee_angle: protocol P is not defined for the knee angle "
                                                   "(W and L are)");
  if (recordings.empty()) return make_error(ErrorCode::empty, "no recordings");
  auto spec = angle_spec_from_options(opt, recordings.front().sample_rate_hz);
  if (!spec) return spec.error();
  auto data = eval::prepare_angle_data(recordings, *spec);
  if (!data) return data.error();

  const std::string fset = !opt.features.empty() ? opt.features : "MAV,WL,ZC,SSC,RMS,AR";
  auto fspec = features::make_feature_spec(fset);
  if (!fspec) return fspec.error();
  const double threshold = opt.zc_ssc_threshold >= 0.0 ? opt.zc_ssc_threshold : 0.0;
  fspec->thresholds.zc = threshold;
  fspec->thresholds.ssc = threshold;
  eval::LdaVariant variant;
  variant.log_amplitude = true;
  variant.context_samples = opt.context > 0 ? opt.context : 750;
  models::RidgeOptions ro;
  ro.clip_to_training_range = true;  // as the live model (session::KneeAngleTraining)
  std::vector<double> alphas;
  char name[256];
  if (opt.ridge_alpha) {
    ro.alpha = *opt.ridge_alpha;
    std::snprintf(name, sizeof name, "ridge (alpha %g) on log-amplitude %s, window + %zu past samples", ro.alpha,
                  fset.c_str(), variant.context_samples);
  } else {
    alphas = {0.1, 1.0, 10.0, 100.0, 1000.0};
    std::snprintf(name, sizeof name, "ridge (alpha from 0.1-1000 by inner validation on the training windows) on "
                  "log-amplitude %s, window + %zu past samples", fset.c_str(), variant.context_samples);
  }

  eval::AngleRunOptions ro_run;
  ro_run.protocols = protos;
  ro_run.subjects = opt.subjects;
  ro_run.progress = [&ctx](const std::string& line) { log_line(ctx, line); };
  eval::AngleEvaluation merged;
  std::string model_name = name;
  // One protocol at a time: a network's W and L may train for different numbers of epochs.
  for (eval::Protocol proto : protos) {
    ro_run.protocols = {proto};
    eval::RegressFn regress;
    if (linear) {
      regress = eval::make_ridge_regress(*fspec, variant, ro, alphas);
    } else if (trees) {
      const models::LaggedEnvelope envelope;
      const models::GradientBoostingOptions go;
      regress = eval::make_tree_regress(envelope, go);
      char buf[384];
      std::snprintf(buf, sizeof buf, "gradient-boosted trees (XGBoost, %zu rounds, depth %zu, learning rate %g, rows "
                    "%g and features %g per tree) on the %s (window + %zu past samples)", go.rounds, go.max_depth,
                    go.learning_rate, go.subsample, go.colsample_bytree, envelope.describe().c_str(),
                    envelope.window_length() - spec->data.window.length);
      model_name = buf;
    } else if (person_trees) {
      const models::LaggedEnvelope envelope;
      const models::PersonTreeOptions po;
      regress = eval::make_person_tree_regress(envelope, po);
      // Under W every other subject's training part joins the fold (the pooled model); under L there is none of
      // the person's own data, and the pooled trees see a person they have not met.
      ro_run.w_other_subjects = proto == eval::Protocol::within_subject;
      char buf[512];
      std::snprintf(buf, sizeof buf, "person trees: the mean of XGBoost trees pooled over %s with a subject indicator "
                    "(%zu rounds, depth %zu) and the person's own trees (%zu rounds, depth %zu, rows %g, features %g "
                    "per tree), on the %s (window + %zu past samples)",
                    proto == eval::Protocol::within_subject ? "every subject's training part" : "the other subjects",
                    po.pooled.rounds, po.pooled.max_depth, po.own.rounds, po.own.max_depth, po.own.subsample,
                    po.own.colsample_bytree, envelope.describe().c_str(),
                    envelope.window_length() - spec->data.window.length);
      model_name = merged.model_name.empty() ? buf : merged.model_name + "; " + buf;
    } else {
#ifdef MYOEXO_HAVE_TORCH
      auto net = models::load_network_spec(network_config);
      if (!net) return net.error();
      auto cfg = train::load_train_config(network_config);
      if (!cfg) return cfg.error();
      if (opt.epochs) cfg->epochs = *opt.epochs;
      if (proto == eval::Protocol::leave_one_subject_out && opt.epochs_loso) cfg->epochs = *opt.epochs_loso;
      if (!opt.seeds.empty()) cfg->seed = opt.seeds.front();
      std::size_t jobs = opt.jobs;
      if (jobs == 0) jobs = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
      ro_run.parallel_folds = jobs;
      if (jobs > 1) cfg->threads = 1;
      cfg->progress = false;
      eval::NetworkFitOptions no;
      if (net->input.window_length > spec->data.window.length)
        no.context_samples = net->input.window_length - spec->data.window.length;
      if (opt.context > 0) no.context_samples = opt.context;
      const models::NetworkSpec arch = eval::network_spec_for(data->emg, spec->data, *net, no.context_samples);
      regress = eval::make_network_regress(arch, *cfg, no);
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s (%s, one output, mean squared error) %s %zu epochs%s",
                    models::arch_kind_name(net->arch.kind), network_config.filename().string().c_str(),
                    eval::protocol_code(proto), cfg->epochs,
                    no.context_samples ? (", + " + std::to_string(no.context_samples) + " samples context").c_str() : "");
      model_name = merged.model_name.empty() ? buf : merged.model_name + "; " + buf;
#else
      return make_error(ErrorCode::invalid_argument, "--model '" + opt.model + "': this build has no LibTorch (ridge only)");
#endif
    }
    ro_run.model_name = model_name;
    log_line(ctx, std::string("knee angle: ") + model_name + ", lead " + format_double(opt.lead_ms) + " ms, " +
                      std::to_string(data->emg.recordings.size()) + " recordings");
    auto part = eval::run_angle_protocol(*data, *spec, regress, ro_run);
    if (!part) return part.error();
    if (merged.protocols.empty() && merged.traces.empty()) {
      const double fit = merged.fit_seconds;
      merged = std::move(*part);
      merged.fit_seconds += fit;
    } else {
      merged.model_name = part->model_name;
      merged.fit_seconds += part->fit_seconds;
      for (auto& p : part->protocols) merged.protocols.push_back(std::move(p));
      for (auto& t : part->traces) merged.traces.push_back(std::move(t));
    }
  }
  auto result = &merged;

  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create: " + ec.message());
  nlohmann::json j = eval::angle_evaluation_to_json(*result);
  j["front_end"] = {{"band_hz", {spec->data.band_low_hz, spec->data.band_high_hz}},
                    {"filter_order", spec->data.filter_order},
                    {"window", {{"length", spec->data.window.length}, {"increment", spec->data.window.increment}}},
                    {"denoise", spec->data.denoise ? "wavelet" : "none"}};
  j["target"]["lowpass_hz"] = spec->target.lowpass_hz;
  j["target"]["lowpass_order"] = spec->target.lowpass_order;
  j["target"]["channel"] = spec->target.channel;
  {
    std::ofstream out(opt.out_dir / "angle_metrics.json");
    out << j.dump(1) << '\n';
    if (!out) return make_error(ErrorCode::io, (opt.out_dir / "angle_metrics.json").string(), 0, "write failed");
  }

  std::string md = "# Knee angle from EMG\n\n";
  md += "Model: " + result->model_name + ".\n\n";
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "Target: the goniometer (%s), flexion positive, low-passed zero-phase (Butterworth order %d, %g Hz), "
                "at each window's last sample%s. Inputs: %zu EMG channels, causal band-pass %g-%g Hz, windows %zu / "
                "%zu samples.\n\n",
                spec->target.channel.c_str(), spec->target.lowpass_order, spec->target.lowpass_hz,
                spec->lead_samples > 0 ? (" + " + std::to_string(spec->lead_samples) + " samples ahead").c_str() : "",
                data->emg.channel_names.size(), spec->data.band_low_hz, spec->data.band_high_hz,
                spec->data.window.length, spec->data.window.increment);
  md += buf;
  if (!result->negated_recordings.empty()) {
    md += "Recordings read flexion-negative and negated: ";
    for (std::size_t i = 0; i < result->negated_recordings.size(); ++i)
      md += (i ? ", " : "") + result->negated_recordings[i];
    md += ".\n\n";
  }
  md += "W: within subject, chronological 70/30 split of every recording; L: leave one subject out. NMAE = MAE / "
        "(max - min of the held-out subject's test angles); mean and worst subject.\n\n";
  md += eval::format_angle_summary(*result);
  if (const std::string groups = eval::format_angle_groups(*result); !groups.empty())
    md += "\nBy group (UCI lower-limb: subjects *A* have a knee pathology, subjects *N* do not):\n\n" + groups;

  if (opt.plots) {
    // Per-subject RMSE of the pooled scope, one bar group per protocol.
    report::BarChart bars;
    bars.title = "Knee angle RMSE per held-out subject (all movements)";
    bars.y_label = "RMSE (deg)";
    bars.categories = result->subjects;
    for (const auto& p : result->protocols) {
      if (p.scope != "all movements") continue;
      std::vector<double> v(result->subjects.size(), 0.0);
      for (const auto& f : p.folds) {
        const auto it = std::find(result->subjects.begin(), result->subjects.end(), f.name);
        if (it != result->subjects.end()) v[std::size_t(it - result->subjects.begin())] = f.rmse_deg;
      }
      bars.groups.push_back(std::string(eval::protocol_code(p.protocol)));
      bars.values.push_back(v);
    }
    bars.show_values = bars.categories.size() <= 12;
    if (!bars.groups.empty()) {
      if (auto s = report::plot_bars(bars, opt.out_dir / "angle_rmse_per_subject.png"); !s) return s.error();
      md += "\n![RMSE per subject](angle_rmse_per_subject.png)\n\n*What this shows: per held-out subject, the root "
            "mean square error of the estimated knee angle against the goniometer, in degrees (lower is better).*\n";
    }
    // Traces: the median-RMSE subject of L (what a typical new person gets), each test recording.
    for (const auto& p : result->protocols) {
      if (p.scope != "all movements" || p.folds.empty()) continue;
      std::vector<const eval::AngleFoldScore*> sorted;
      for (const auto& f : p.folds) sorted.push_back(&f);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->rmse_deg < b->rmse_deg; });
      const std::string subject = sorted[sorted.size() / 2]->name;
      for (const auto& tr : result->traces) {
        if (tr.protocol != p.protocol || tr.fold != subject) continue;
        report::LinePlot lp;
        lp.title = std::string(eval::protocol_code(p.protocol)) + ", subject " + subject + " (median RMSE), " +
                   tr.recording + ": knee angle from EMG vs goniometer";
        lp.x_label = "time in the recording (s)";
        lp.y_label = "knee flexion (deg)";
        lp.series.push_back({"goniometer (low-passed)", tr.t_s, tr.target_deg});
        lp.series.push_back({"estimate from EMG", tr.t_s, tr.estimate_deg});
        const std::string png = std::string("angle_trace_") + eval::protocol_code(p.protocol) + "_" + tr.recording + ".png";
        if (auto s = report::plot_lines(lp, opt.out_dir / png); !s) return s.error();
        md += "\n![" + tr.recording + "](" + png + ")\n\n*What this shows: the knee angle the goniometer measured "
              "(low-passed) and the angle estimated from EMG alone, over the held-out part of the recording.*\n";
      }
    }
  }
  {
    std::ofstream out(opt.out_dir / "summary.md");
    out << md;
    if (!out) return make_error(ErrorCode::io, (opt.out_dir / "summary.md").string(), 0, "write failed");
  }
  report::HtmlPageOptions page;
  page.title = "myoexo: knee angle from EMG";
  if (auto s = report::write_html_page(opt.out_dir / "summary.md", opt.out_dir / "summary.html", page); !s)
    return s.error();
  return eval::format_angle_summary(*result);
}

Status run_evaluate_angle(const Context& ctx, const EvaluateOptions& opt) {
  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  auto table = evaluate_angle_recordings(ctx, ds->recordings, opt);
  if (!table) return table.error();
  if (ctx.json) return print_json_file(ctx, opt.out_dir / "angle_metrics.json");
  ctx.out << *table;
  ctx.out << "knee-angle evaluation written to " << fs::absolute(opt.out_dir).lexically_normal().string()
          << " (open summary.md)\n";
  return {};
}

}  // namespace myoexo::app
