// `myoexo train`: one LibTorch network on whole recordings, driven by a config file, or an LDA pipeline model.
#include "app/train_cmd.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "app/common.hpp"
#include "app/knee_network.hpp"
#include "control/intent.hpp"
#include "eval/network_protocol.hpp"
#include "models/torch/torch_classifier.hpp"
#include "report/report.hpp"
#include "session/model.hpp"
#include "train/train.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Accuracy and loss per epoch, train and validation (seed Fig. 7-8), next to the model file.
Status write_curves(const train::TrainHistory& h, const std::string& name, const fs::path& acc_png,
                    const fs::path& loss_png) {
  auto series = [&](const char* label, const char* column, double scale) {
    report::Series s;
    s.name = label;
    s.y = h.series(column);
    for (auto& v : s.y) v *= scale;
    for (std::size_t e = 0; e < s.y.size(); ++e) s.x.push_back(double(e + 1));
    return s;
  };
  const auto val = h.series("val_accuracy");
  const bool has_val = std::any_of(val.begin(), val.end(), [](double v) { return std::isfinite(v); });
  report::LinePlot acc;
  acc.title = name + ": accuracy per epoch (best epoch " + std::to_string(h.best_epoch) + ")";
  acc.x_label = "Epoch";
  acc.y_label = "Accuracy (%)";
  acc.series = {series("train", "train_accuracy", 100.0)};
  if (has_val) acc.series.push_back(series("validation", "val_accuracy", 100.0));
  if (auto s = report::plot_lines(acc, acc_png); !s) return s;
  report::LinePlot loss = acc;
  loss.title = name + ": cross-entropy loss per epoch";
  loss.y_label = "Loss";
  loss.series = {series("train", "train_loss", 1.0)};
  if (has_val) loss.series.push_back(series("validation", "val_loss", 1.0));
  return report::plot_lines(loss, loss_png);
}

// "stem_suffix" next to `file`.
fs::path sibling(const fs::path& file, const std::string& suffix) {
  return file.parent_path() / (file.stem().string() + suffix);
}

}  // namespace

Result<fs::path> resolve_network_config(const std::string& name_or_path) {
  if (name_or_path.empty()) return make_error(ErrorCode::invalid_argument, "--config is empty");
  fs::path config = name_or_path;
  if (config.extension() != ".toml") config = resource_path(fs::path("configs") / (name_or_path + ".toml"));
  std::error_code ec;
  if (!fs::is_regular_file(config, ec))
    return make_error(ErrorCode::invalid_argument, "--config must be a network config name (cnn1d, lstm, cnn_lstm, "
                                                   "spectrogram_cnn, paper) or a .toml file; '" + config.string() +
                                                       "' does not exist");
  return config;
}

Result<std::vector<io::Recording>> select_subjects(io::Dataset& ds, const std::vector<std::string>& keep,
                                                   const std::vector<std::string>& drop) {
  const std::vector<std::string> known = ds.subjects();
  for (const auto* list : {&keep, &drop})
    for (const auto& s : *list)
      if (!contains(known, s))
        return make_error(ErrorCode::invalid_argument, "unknown subject '" + s + "' (the data set has " +
                                                           join(known) + ")");
  std::vector<io::Recording> out;
  for (auto& r : ds.recordings)
    if ((keep.empty() || contains(keep, r.subject_id)) && !contains(drop, r.subject_id)) out.push_back(std::move(r));
  if (out.empty()) return make_error(ErrorCode::invalid_argument, "no recording left after the subject selection");
  return out;
}

std::vector<std::size_t> labelled_windows(const eval::PreparedData& data, const eval::DataSpec& spec, eval::WindowSet& set) {
  set.data = &data;
  set.length = spec.window.length;
  std::vector<std::size_t> idx;
  for (std::size_t r = 0; r < data.recordings.size(); ++r) {
    const eval::PreparedRecording& rec = data.recordings[r];
    for (std::size_t s = 0; s + set.length <= rec.n_samples; s += spec.window.increment) {
      int label = rec.label;
      if (label < 0 && !rec.sample_labels.empty()) {  // per-sample labels: the window must be one class
        label = rec.sample_labels[s];
        for (std::size_t i = s + 1; i < s + set.length && label >= 0; ++i)
          if (rec.sample_labels[i] != label) label = -1;
      }
      if (label < 0) continue;
      idx.push_back(set.windows.size());
      set.windows.push_back({std::uint32_t(r), std::uint32_t(s), label, rec.subject, 0});
    }
  }
  return idx;
}

Result<NetworkConfig> load_network_config(const std::string& name_or_path) {
  auto path = resolve_network_config(name_or_path);
  if (!path) return path.error();
  auto net = models::load_network_spec(*path);
  if (!net) return net.error();
  auto cfg = train::load_train_config(*path);
  if (!cfg) return cfg.error();
  return NetworkConfig{*path, std::move(*net), std::move(*cfg)};
}

Result<eval::DataSpec> data_spec_for_network(const models::NetworkSpec& net) {
  eval::DataSpec spec = eval::uci_ll_v1_spec();
  spec.channels = net.input.channel_names;
  spec.window.length = net.input.window_length;
  spec.window.increment = net.input.window_increment;
  const models::FilterSettings& f = net.input.filter;
  if (f.kind.empty()) {
    spec.filter_order = 0;
  } else if (f.kind == "bandpass" && f.causal) {
    spec.filter_order = f.order;
    spec.band_low_hz = f.low_hz;
    spec.band_high_hz = f.high_hz;
  } else {
    return make_error(ErrorCode::invalid_argument, "[input.filter]: training data are prepared with a causal band-pass "
                                                   "(kind = \"bandpass\", causal = true) or none (kind = \"\"), not '" +
                                                       f.kind + (f.causal ? "" : "' non-causal") + "'");
  }
  spec.denoise = f.denoise;
  spec.class_map = net.input.class_map;
  return spec;
}

namespace {

// `myoexo train --model lda|lda_context`: the LDA pipeline model that `run`, `predict` and the session load, fitted
// on whole recordings as the live pipeline computes their rows.
Status run_train_lda(const Context& ctx, const TrainCommandOptions& opt) {
  if (opt.model != "lda" && opt.model != "lda_context")
    return make_error(ErrorCode::invalid_argument, "--model must be lda or lda_context, got '" + opt.model + "'");
  if (opt.model == "lda_context" && (opt.context_samples == 0 || opt.context_samples > 4000))
    return make_error(ErrorCode::invalid_argument, "--context must be in [1, 4000] samples");
  if (!opt.knee_person.empty() && ascii_lower(opt.knee_model) != "trees")
    return make_error(ErrorCode::invalid_argument, "--knee-person picks whose knee-angle trees to train: it needs "
                                                   "--knee-model trees");
  if (auto s = ensure_parent_dir(opt.out); !s) return s;
  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  std::vector<fs::path> copies;  // content duplicates (UCI's 2Npie/2Nsen): the first copy only
  for (const auto& d : ds->duplicates) copies.push_back(d.second);
  auto recordings = select_subjects(*ds, opt.subjects, opt.exclude_subjects);
  if (!recordings) return recordings.error();
  std::vector<io::Recording> train;
  for (auto& r : *recordings)
    if (std::find(copies.begin(), copies.end(), r.source_path) == copies.end()) train.push_back(std::move(r));
  if (train.empty()) return make_error(ErrorCode::invalid_argument, "no recording left after the subject selection");
  session::PipelineModel base = session::lda_context_model(opt.model == "lda" ? 0 : opt.context_samples);
  base.sample_rate_hz = train.front().sample_rate_hz;
  const io::Recording& first = train.front();
  if (!opt.channels.empty()) {
    base.channels = opt.channels;
  } else if (std::any_of(base.channels.begin(), base.channels.end(),
                         [&](const std::string& c) { return first.channel_index(c) < 0; })) {
    // Not UCI's montage (a board's pins): every channel of the data that is not an angle, in its order.
    base.channels.clear();
    for (std::size_t c = 0; c < first.n_channels(); ++c)
      if (c >= first.channel_units.size() || first.channel_units[c] != "deg") base.channels.push_back(first.channel_names[c]);
    log_line(ctx, "channels: " + join(base.channels) + " (the data's own; --channels picks others)");
  }
  if (auto s = apply_front_end_override(opt.front_end, base.band_low_hz, base.band_high_hz, base.denoise); !s) return s;
  log_line(ctx, "training " + opt.model + " on " + std::to_string(train.size()) + " recordings ...");
  auto m = session::train_pipeline_model(train, base);
  if (!m) return m.error();
  if (!opt.knee_model.empty()) {
    session::KneeAngleTraining kt;
    const std::string km = ascii_lower(opt.knee_model);
    Result<session::PipelineModel> k = make_error(ErrorCode::invalid_argument, "no knee model");
    if (km == "ridge") {
      log_line(ctx, "training the knee-angle regressor (ridge on the same rows; target: the goniometer " +
                        kt.target.channel + ", flexion positive) ...");
      k = session::train_knee_angle_regressor(train, std::move(*m), kt);
    } else if (km == "trees") {
      KneeTreeTraining tt;
      tt.person = opt.knee_person;
      k = train_knee_angle_trees(ctx, train, std::move(*m), kt, tt);
    } else {
      KneeNetworkOptions kn;
      kn.config = opt.knee_model;
      kn.epochs = opt.knee_epochs;
      k = train_knee_angle_network(ctx, train, std::move(*m), kt, kn);
    }
    if (!k) return k.error();
    m = std::move(k);
  }
  if (auto s = save_pipeline_model_files(*m, opt.out); !s) return s;
  ctx.out << "trained " << opt.model << " (" << m->lda.n_inputs() << " features, classes " << join(m->lda.class_names())
          << ", signal unit " << m->signal_unit << ", " << session::describe_model_filter(*m) << ")"
          << (m->knee_angle ? " with a knee-angle " + m->knee_angle->kind_name() + " regressor" : std::string())
          << " on " << m->trained_on.size() << " recordings; wrote " << opt.out.string() << "\n";
  return {};
}

}  // namespace

Status run_train(const Context& ctx, const TrainCommandOptions& opt) {
  if (opt.model == "lda" || opt.model == "lda_context") return run_train_lda(ctx, opt);
  const auto t0 = std::chrono::steady_clock::now();
  // Everything cheap first, so a typo fails before the (seconds-long) data load.
  auto config = resolve_network_config(opt.model.empty() ? opt.config : opt.model);
  if (!config) return config.error();
  auto net = models::load_network_spec(*config);
  if (!net) return net.error();
  if (opt.front_end.band_low_hz && net->input.filter.kind.empty()) net->input.filter.kind = "bandpass";
  if (auto s = apply_front_end_override(opt.front_end, net->input.filter.low_hz, net->input.filter.high_hz,
                                        net->input.filter.denoise);
      !s)
    return s;
  auto cfg = train::load_train_config(*config);
  if (!cfg) return cfg.error();
  if (opt.epochs) cfg->epochs = *opt.epochs;
  if (opt.threads) cfg->threads = *opt.threads;
  if (opt.seed) cfg->seed = *opt.seed;
  if (ctx.quiet) cfg->progress = false;
  const fs::path history = opt.history.value_or(sibling(opt.out, "_history.csv"));
  cfg->history_csv = history;
  if (auto s = train::validate_train_config(*cfg); !s) return s;
  auto spec = data_spec_for_network(*net);
  if (!spec) return spec.error();
  if (auto s = ensure_parent_dir(opt.out); !s) return s;
  if (auto s = ensure_parent_dir(history); !s) return s;
  if (opt.torchscript)
    if (auto s = ensure_parent_dir(*opt.torchscript); !s) return s;

  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  auto recordings = select_subjects(*ds, opt.subjects, opt.exclude_subjects);
  if (!recordings) return recordings.error();
  log_line(ctx, "preparing " + std::to_string(recordings->size()) + " recordings (" + spec->name + ", windows " +
                    std::to_string(spec->window.length) + "/" + std::to_string(spec->window.increment) + ") ...");
  auto data = eval::prepare_data(*recordings, *spec);
  if (!data) return data.error();
  if (data->class_names.size() < 2)
    return make_error(ErrorCode::invalid_argument, "training needs at least two classes; the chosen recordings have " +
                                                       join(data->class_names));
  if (!net->class_names.empty() && net->class_names != data->class_names)
    log_line(ctx, "note: the config lists classes " + join(net->class_names) + "; the data have " +
                      join(data->class_names) + " (the model uses the data's)");

  // Windows over whole recordings (no split: validation comes from [train] inside these windows).
  eval::WindowSet set;
  const std::vector<std::size_t> idx = labelled_windows(*data, *spec, set);
  if (idx.size() < 2) return make_error(ErrorCode::empty, "fewer than two windows in the chosen recordings");
  const train::TrainingSet ts = eval::make_training_set(set, idx);

  // The model card: the unit the network is trained in (that of the training data), the class -> intent map
  // (the data set's default, written out), the training files and who wrote the file.
  auto unit = session::training_signal_unit(*recordings, data->channel_names);
  if (!unit) return unit.error();
  models::NetworkSpec model_spec = eval::network_spec_for(*data, *spec, *net);
  model_spec.card.signal_unit = unit->empty() ? std::string("mV") : *unit;
  for (const auto& [data_cls, intent] : session::default_class_intents()) {
    std::string cls = data_cls;  // the model's name of the data set's class
    for (const auto& [from, to] : spec->class_map)
      if (from == data_cls) cls = to;
    if (std::find(data->class_names.begin(), data->class_names.end(), cls) != data->class_names.end())
      model_spec.card.class_intents.emplace_back(cls, intent);
  }
  for (const auto& c : data->class_names)
    if (control::parse_intent_label(c) &&
        std::none_of(model_spec.card.class_intents.begin(), model_spec.card.class_intents.end(),
                     [&](const auto& p) { return p.first == c; }))
      model_spec.card.class_intents.emplace_back(c, c);
  for (const auto& r : *recordings)
    if (std::find(data->excluded.begin(), data->excluded.end(), r.source_path.stem().string()) == data->excluded.end())
      model_spec.card.trained_on.push_back(r.source_path.filename().string());
  model_spec.card.provenance = session::current_provenance();
  model_spec.notes = "myoexo train --config " + config->filename().string() + "; data " + spec->name + ", subjects " +
                     join(data->subjects, " ") + "; " + std::to_string(idx.size()) + " windows";
  log_line(ctx, "training " + std::string(models::arch_kind_name(net->arch.kind)) + " on " +
                    std::to_string(idx.size()) + " windows of " + std::to_string(data->subjects.size()) +
                    " subject(s), " + std::to_string(cfg->epochs) + " epoch(s) ...");
  Result<train::TrainResult> trained = make_error(ErrorCode::empty, "not trained");
  if (opt.init) {
    // Fine-tuning an existing network: its weights and normalisation, the data's windows, the config's [train].
    auto start = models::TorchClassifier::load(*opt.init);
    if (!start) return start.error();
    const models::NetworkSpec& from = start->spec();
    if (from.input.channel_names != model_spec.input.channel_names ||
        from.input.window_length != model_spec.input.window_length || from.class_names != model_spec.class_names ||
        from.arch.kind != model_spec.arch.kind)
      return make_error(ErrorCode::mismatch, opt.init->string(), 0,
                        "--init: the model takes " + join(from.input.channel_names) + " x " +
                            std::to_string(from.input.window_length) + " samples into classes " +
                            join(from.class_names) + " (" + models::arch_kind_name(from.arch.kind) +
                            "); the data and config give " + join(model_spec.input.channel_names) + " x " +
                            std::to_string(model_spec.input.window_length) + " into " + join(model_spec.class_names) +
                            " (" + models::arch_kind_name(model_spec.arch.kind) + ")");
    models::ModelCard card = model_spec.card;
    card.trained_on.insert(card.trained_on.begin(), from.card.trained_on.begin(), from.card.trained_on.end());
    card.adapted_from = opt.init->filename().string() + ", fine-tuned on " + std::to_string(idx.size()) + " windows";
    start->set_card(std::move(card));
    auto h = train::fine_tune(*start, ts, *cfg);
    if (!h) return h.error();
    trained = train::TrainResult{std::move(*start), std::move(*h)};
  } else {
    trained = train::train_network(model_spec, ts, *cfg);
  }
  if (!trained) return trained.error();
  const train::TrainHistory& h = trained->history;

  if (auto s = trained->model.save(opt.out); !s) return s;
  if (auto s = train::write_history_csv(h, history); !s) return s;
  std::vector<std::string> written{opt.out.string(), history.string()};
  if (opt.plots) {
    const fs::path acc = sibling(opt.out, "_accuracy.png"), loss = sibling(opt.out, "_loss.png");
    if (auto s = write_curves(h, opt.out.filename().string() + " (" + models::arch_kind_name(net->arch.kind) + ")", acc,
                              loss);
        !s)
      return s;
    written.push_back(acc.string());
    written.push_back(loss.string());
  }
  if (opt.torchscript) {
    if (auto s = trained->model.export_torchscript(*opt.torchscript); !s) return s;
    written.push_back(opt.torchscript->string());
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const train::EpochRecord* best = h.best_epoch >= 1 && h.best_epoch <= h.epochs.size() ? &h.epochs[h.best_epoch - 1]
                                                                                         : nullptr;
  char line[256];
  ctx.out << "model:       " << opt.out.string() << " (" << models::arch_kind_name(net->arch.kind) << ", channels "
          << join(model_spec.input.channel_names, " ") << ", classes " << join(model_spec.class_names, " ")
          << ", windows " << model_spec.input.window_length << "/" << model_spec.input.window_increment << ")\n";
  ctx.out << "subjects:    " << join(data->subjects, " ") << "\n";
  std::snprintf(line, sizeof line, "windows:     %zu (train %zu, validation %zu: %s)\n", idx.size(), h.train_windows,
                h.val_windows, train::validation_split_name(cfg->validation));
  ctx.out << line;
  if (best) {
    std::snprintf(line, sizeof line, "best epoch:  %zu of %zu%s; train accuracy %.1f %%, loss %.4f", h.best_epoch,
                  h.epochs.size(), h.stopped_early ? " (stopped early)" : "", 100.0 * best->train_accuracy,
                  best->train_loss);
    ctx.out << line;
    if (std::isfinite(best->val_accuracy)) {
      std::snprintf(line, sizeof line, "; validation accuracy %.1f %%, loss %.4f", 100.0 * best->val_accuracy,
                    best->val_loss);
      ctx.out << line;
    }
    ctx.out << "\n";
  }
  std::snprintf(line, sizeof line, "wall time:   %.1f s (training %.0f samples/s)\n", wall_s, h.samples_per_second);
  ctx.out << line;
  ctx.out << "wrote:       " << join(written) << "\n";
  return {};
}

}  // namespace myoexo::app
