// myoexo::app — a knee-angle network for the live chain: trained on recordings with a goniometer for an LDA
// pipeline model, saved next to the model's JSON, loaded and checked with it.
//
// The network reads what the stream keeps for the LDA's context block: the model's filtered window and its past
// samples (window_length() = window + up to context_samples), so the pipeline computes both the classifier's row
// and the network's input from one history, with no second filter.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "app/common.hpp"
#include "core/error.hpp"
#include "io/recording.hpp"
#include "models/gradient_boosting.hpp"
#include "models/tree_ensemble.hpp"
#include "session/model.hpp"

namespace myoexo::app {

struct KneeNetworkOptions {
  std::string config = "cnn1d_context";  ///< a network config name or file (resolve_network_config)
  std::optional<std::size_t> epochs;     ///< overrides the config's [train] epochs
};

/// Adds a knee-angle network to the LDA pipeline model `m`: a fresh network from the config (one output, mean
/// squared error on the standardised goniometer angle at each window's last sample + kt.lead_samples, the
/// standardisation folded into its output layer) trained on every window of `train` that the model's own front
/// end cuts (channels, causal filter, window, increment). Errors: unsupported (no LibTorch), invalid_argument (a
/// network pipeline model, a network that reads more past samples than the model's stream keeps), mismatch (a
/// recording without the angle channel), those of training.
Result<session::PipelineModel> train_knee_angle_network(const Context& ctx, std::span<const io::Recording> train,
                                                        session::PipelineModel m,
                                                        const session::KneeAngleTraining& kt,
                                                        const KneeNetworkOptions& options);

/// Adds knee-angle trees to the LDA pipeline model `m`: gradient-boosted trees (XGBoost) on the lagged envelope of
/// the model's filtered window and the past samples before it (envelope.window_length() in all, which the model's
/// context must cover), target as for the network. Errors: invalid_argument (a network pipeline model, an envelope
/// longer than the stream keeps, a person without recordings), unsupported (no XGBoost), mismatch (no angle
/// channel), those of the fit.
/// The trees' settings. With `person` set, the trees are that person's: pooled over every subject of the training
/// recordings with a subject indicator, fixed at the person and mixed with trees on the person's own recordings
/// (models::fit_person_trees): how a new person's calibration joins a base data set.
struct KneeTreeTraining {
  models::LaggedEnvelope envelope;
  models::GradientBoostingOptions trees;  ///< without a person: one model over every window
  std::string person;                     ///< a subject of the training recordings, or "" (none)
  models::PersonTreeOptions person_trees;
};
Result<session::PipelineModel> train_knee_angle_trees(const Context& ctx, std::span<const io::Recording> train,
                                                      session::PipelineModel m, const session::KneeAngleTraining& kt,
                                                      const KneeTreeTraining& options = {});

/// Loads the knee-angle network a pipeline-model JSON names (m.knee_angle_network_file) and checks it against the
/// model: same channels, same causal filter, a window of the model's window plus at most its context. Nothing to do
/// when the model names none. Errors: unsupported (no LibTorch), io/parse of the file, mismatch.
Status attach_knee_angle_network(session::PipelineModel& m);

/// Saves a pipeline model; a knee-angle network first, as `<stem>.knee_angle.pt` beside `path`. Errors: io.
Status save_pipeline_model_files(session::PipelineModel m, const std::filesystem::path& path);

}  // namespace myoexo::app
