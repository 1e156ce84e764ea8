#include "app/knee_network.hpp"

#include <algorithm>
#include <cmath>

#include "eval/angle_protocol.hpp"
#include "models/gradient_boosting.hpp"
#include "models/tree_ensemble.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include "app/train_cmd.hpp"
#include "eval/network_protocol.hpp"
#include "models/torch/network_regressor.hpp"
#include "models/torch/network_spec.hpp"
#include "train/train.hpp"
#endif

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

/// The front end of an LDA pipeline model as the evaluation stage's DataSpec (band-pass or none).
Result<eval::DataSpec> model_data_spec(const session::PipelineModel& m) {
  if (m.filter_order > 0 && m.filter_kind != "bandpass")
    return make_error(ErrorCode::unsupported, "a knee-angle network is trained on band-passed windows; the model's "
                                              "filter is " + m.filter_kind);
  eval::DataSpec ds;
  ds.name = "knee-angle network";
  ds.channels = m.channels;
  ds.filter_order = m.filter_order;
  ds.band_low_hz = m.band_low_hz;
  ds.band_high_hz = m.band_high_hz;
  ds.denoise = m.denoise;
  ds.window.length = m.window_len;
  ds.window.increment = m.increment;
  return ds;
}


/// The windows a knee-angle model of `m` trains on: the model's front end over `train`, every window whose target
/// (the goniometer at its last sample + lead) lies inside its recording, with the target. `set` indexes `data`.
struct KneeTrainingWindows {
  eval::AngleData data;
  eval::WindowSet set;
  std::vector<std::size_t> idx;
  std::vector<double> targets;
};

Result<std::unique_ptr<KneeTrainingWindows>> knee_training_windows(std::span<const io::Recording> train,
                                                                   const session::PipelineModel& m,
                                                                   const session::KneeAngleTraining& kt) {
  auto ds = model_data_spec(m);
  if (!ds) return ds.error();
  eval::AngleSpec as;
  as.data = *ds;
  as.target = kt.target;
  as.lead_samples = kt.lead_samples;
  auto data = eval::prepare_angle_data(train, as);
  if (!data) return data.error();
  auto w = std::make_unique<KneeTrainingWindows>();
  w->data = std::move(*data);
  w->set.data = &w->data.emg;
  w->set.length = m.window_len;
  w->set.id = eval::next_window_set_id();
  for (std::size_t r = 0; r < w->data.emg.recordings.size(); ++r) {
    const auto& target = w->data.targets[r].angle_deg;
    for (std::size_t i : eval::append_windows(w->set, r, 0, w->data.emg.recordings[r].n_samples, m.increment)) {
      const std::size_t at = w->set.windows[i].start + m.window_len - 1 + kt.lead_samples;
      if (at >= target.size()) continue;
      w->idx.push_back(i);
      w->targets.push_back(target[at]);
    }
  }
  if (w->idx.size() < 2) return make_error(ErrorCode::empty, "knee angle: no training windows");
  return w;
}

}  // namespace

Result<session::PipelineModel> train_knee_angle_network(const Context& ctx, std::span<const io::Recording> train,
                                                        session::PipelineModel m,
                                                        const session::KneeAngleTraining& kt,
                                                        const KneeNetworkOptions& options) {
#ifdef MYOEXO_HAVE_TORCH
  if (m.network)
    return make_error(ErrorCode::invalid_argument, "a knee-angle network is added to an LDA pipeline model; this "
                                                   "model is a network");
  auto loaded = load_network_config(options.config);
  if (!loaded) return loaded.error();
  const fs::path& cfg_path = loaded->path;
  const models::NetworkSpec& net = loaded->network;
  train::TrainConfig& cfg = loaded->train;
  if (options.epochs) cfg.epochs = *options.epochs;
  cfg.progress = false;
  const std::size_t wl = net.input.window_length;
  if (wl < m.window_len || wl - m.window_len > m.context_samples)
    return make_error(ErrorCode::invalid_argument,
                      cfg_path.string(), 0,
                      "the network reads " + std::to_string(wl) + "-sample windows; the model's stream keeps its " +
                          std::to_string(m.window_len) + "-sample window and " + std::to_string(m.context_samples) +
                          " past samples (train the LDA with --lda-context " + std::to_string(wl - m.window_len) +
                          ", or pick a network with a shorter window)");
  const std::size_t context = wl - m.window_len;
  auto windows = knee_training_windows(train, m, kt);
  if (!windows) return windows.error();
  const eval::WindowSet& set = (*windows)->set;
  const std::vector<std::size_t>& idx = (*windows)->idx;
  const std::vector<double>& targets = (*windows)->targets;
  auto ds = model_data_spec(m);
  if (!ds) return ds.error();
  const models::NetworkSpec arch = eval::network_spec_for((*windows)->data.emg, *ds, net, context);
  log_line(ctx, "training the knee-angle network (" + std::string(models::arch_kind_name(net.arch.kind)) + ", " +
                    cfg_path.filename().string() + ", " + std::to_string(cfg.epochs) + " epochs, " +
                    std::to_string(idx.size()) + " windows of " + std::to_string(wl) +
                    " samples; target: the goniometer " + kt.target.channel + ", flexion positive) ...");
  auto trained = eval::train_angle_network(arch, set, idx, targets, cfg, context);
  if (!trained) return trained.error();
  models::ModelCard card = trained->model.spec().card;
  card.signal_unit = m.signal_unit;
  card.trained_on.clear();
  for (const auto& r : train) card.trained_on.push_back(r.source_path.filename().string());
  card.provenance = session::current_provenance();
  trained->model.set_card(card);
  auto reg = models::NetworkAngleRegressor::create(std::move(trained->model));
  if (!reg) return reg.error();
  m.knee_angle = std::make_shared<const models::NetworkAngleRegressor>(std::move(*reg));
  m.knee_angle_network_file.clear();
  m.knee_angle_target = kt.target;
  m.knee_angle_lead_samples = kt.lead_samples;
  m.knee_angle_trained_on = card.trained_on;
  return m;
#else
  (void)ctx, (void)train, (void)m, (void)kt, (void)options;
  return make_error(ErrorCode::unsupported, "a knee-angle network needs LibTorch; this myoexo was built without it "
                                            "(use the ridge regressor)");
#endif
}

Result<session::PipelineModel> train_knee_angle_trees(const Context& ctx, std::span<const io::Recording> train,
                                                      session::PipelineModel m, const session::KneeAngleTraining& kt,
                                                      const KneeTreeTraining& options) {
  const models::LaggedEnvelope& envelope = options.envelope;
  if (m.network)
    return make_error(ErrorCode::invalid_argument, "knee-angle trees are added to an LDA pipeline model; this model "
                                                   "is a network");
  const std::size_t wl = envelope.window_length();
  if (wl < m.window_len || wl - m.window_len > m.context_samples)
    return make_error(ErrorCode::invalid_argument,
                      "the knee-angle trees read " + std::to_string(wl) + "-sample windows; the model's stream keeps its " +
                          std::to_string(m.window_len) + "-sample window and " + std::to_string(m.context_samples) +
                          " past samples (an LDA with a longer context: run --lda-context " +
                          std::to_string(wl > m.window_len ? wl - m.window_len : 0) + ", train --model lda_context "
                          "--context " + std::to_string(wl > m.window_len ? wl - m.window_len : 0) + ")");
  if (!models::gradient_boosting_available())
    return make_error(ErrorCode::unsupported, "knee-angle trees are trained with XGBoost; this myoexo was built "
                                              "without it (install libxgboost-dev and configure again)");
  auto windows = knee_training_windows(train, m, kt);
  if (!windows) return windows.error();
  const eval::WindowSet& set = (*windows)->set;
  const std::size_t ch = set.n_channels(), p = envelope.n_features(ch), n = (*windows)->idx.size();
  const auto& subjects = (*windows)->data.emg.subjects;
  int person = -1;
  if (!options.person.empty()) {
    person = int(std::find(subjects.begin(), subjects.end(), options.person) - subjects.begin());
    if (person == int(subjects.size())) {
      std::string known;
      for (const auto& sj : subjects) known += (known.empty() ? "" : ", ") + sj;
      return make_error(ErrorCode::invalid_argument, "knee-angle trees for person '" + options.person +
                                                         "': no recording of theirs among the training recordings "
                                                         "(subjects: " + known + ")");
    }
  }
  std::vector<float> x(n * p), y(n);
  std::vector<int> subject_of(n);
  std::vector<double> window(ch * wl);
  for (std::size_t i = 0; i < n; ++i) {
    set.copy_window_with_context((*windows)->idx[i], wl - m.window_len, window.data());
    envelope.compute(window.data(), ch, x.data() + i * p);
    y[i] = static_cast<float>((*windows)->targets[i]);
    subject_of[i] = set.windows[(*windows)->idx[i]].subject;
  }
  Result<models::TreeEnsemble> trees = make_error(ErrorCode::invalid_argument, "no trees");
  if (person < 0) {
    const models::GradientBoostingOptions& o = options.trees;
    log_line(ctx, "training the knee-angle trees (XGBoost, " + std::to_string(o.rounds) + " rounds of depth " +
                      std::to_string(o.max_depth) + ", on the " + envelope.describe() + ", " + std::to_string(n) +
                      " windows; target: the goniometer " + kt.target.channel + ", flexion positive) ...");
    trees = models::fit_gradient_boosting(x, n, p, y, o);
  } else {
    const models::PersonTreeOptions& o = options.person_trees;
    std::vector<float> own_x, own_y;
    for (std::size_t i = 0; i < n; ++i)
      if (subject_of[i] == person) {
        own_x.insert(own_x.end(), x.begin() + std::ptrdiff_t(i * p), x.begin() + std::ptrdiff_t((i + 1) * p));
        own_y.push_back(y[i]);
      }
    log_line(ctx, "training the knee-angle trees of " + options.person + ": pooled over " +
                      std::to_string(subjects.size()) + " subjects with a subject indicator (XGBoost, " +
                      std::to_string(o.pooled.rounds) + " rounds of depth " + std::to_string(o.pooled.max_depth) + ", " +
                      std::to_string(n) + " windows), mixed with their own trees (" + std::to_string(own_y.size()) +
                      " windows" + (own_y.size() < o.min_own_rows ? ": too few, the pooled trees alone" : "") +
                      "), on the " + envelope.describe() + "; target: the goniometer " + kt.target.channel +
                      ", flexion positive) ...");
    auto pooled = models::fit_pooled_trees(x, n, p, y, subject_of, subjects.size(), o.pooled);
    if (!pooled) return pooled.error();
    trees = models::fit_person_trees(*pooled, p, subjects.size(), person, own_x, own_y.size(), own_y, o);
  }
  if (!trees) return trees.error();
  auto reg = models::EnvelopeTreeRegressor::create(envelope, ch, std::move(*trees));
  if (!reg) return reg.error();
  m.knee_angle = std::make_shared<const models::EnvelopeTreeRegressor>(std::move(*reg));
  m.knee_angle_network_file.clear();
  m.knee_angle_target = kt.target;
  m.knee_angle_lead_samples = kt.lead_samples;
  m.knee_angle_trained_on.clear();
  for (const auto& r : train) m.knee_angle_trained_on.push_back(r.source_path.filename().string());
  return m;
}

Status attach_knee_angle_network(session::PipelineModel& m) {
  if (m.knee_angle || m.knee_angle_network_file.empty()) return {};
#ifdef MYOEXO_HAVE_TORCH
  const fs::path& file = m.knee_angle_network_file;
  auto reg = models::NetworkAngleRegressor::load(file, m.channels);
  if (!reg) return reg.error();
  const models::InputSpec& in = reg->network().spec().input;
  const models::FilterSettings& f = in.filter;
  const bool same_filter = (m.filter_order == 0 && f.kind.empty()) ||
                           (f.kind == m.filter_kind && f.order == m.filter_order &&
                            std::abs(f.low_hz - m.band_low_hz) < 1e-9 && std::abs(f.high_hz - m.band_high_hz) < 1e-9 &&
                            f.causal);
  if (!same_filter || f.denoise.has_value() != m.denoise.has_value())
    return make_error(ErrorCode::mismatch, file.string(), 0,
                      "the knee-angle network was trained on another front end than the model's (filter " +
                          (f.kind.empty() ? std::string("none") : f.kind) + " " + std::to_string(f.low_hz) + "-" +
                          std::to_string(f.high_hz) + " Hz)");
  if (std::abs(in.sample_rate_hz - m.sample_rate_hz) > 1e-9 * m.sample_rate_hz)
    return make_error(ErrorCode::mismatch, file.string(), 0, "the knee-angle network runs at another sample rate");
  if (reg->network().spec().card.signal_unit != m.signal_unit)
    return make_error(ErrorCode::mismatch, file.string(), 0,
                      "the knee-angle network was trained in " + reg->network().spec().card.signal_unit +
                          ", the model in " + m.signal_unit);
  if (in.window_length < m.window_len || in.window_length - m.window_len > m.context_samples)
    return make_error(ErrorCode::mismatch, file.string(), 0,
                      "the knee-angle network reads " + std::to_string(in.window_length) +
                          "-sample windows; the model's stream keeps " + std::to_string(m.window_len) + " + " +
                          std::to_string(m.context_samples) + " samples");
  m.knee_angle = std::make_shared<const models::NetworkAngleRegressor>(std::move(*reg));
  return {};
#else
  return make_error(ErrorCode::unsupported, m.knee_angle_network_file.string(), 0,
                    "is a knee-angle network (LibTorch); this myoexo was built without LibTorch");
#endif
}

Status save_pipeline_model_files(session::PipelineModel m, const fs::path& path) {
#ifdef MYOEXO_HAVE_TORCH
  if (const auto* net = dynamic_cast<const models::NetworkAngleRegressor*>(m.knee_angle.get())) {
    if (auto s = ensure_parent_dir(path); !s) return s;
    m.knee_angle_network_file = path.parent_path() / (path.stem().string() + ".knee_angle.pt");
    if (Status s = net->save(m.knee_angle_network_file); !s) return s;
  }
#endif
  return session::save_pipeline_model(m, path);
}

}  // namespace myoexo::app
