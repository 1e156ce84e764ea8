// myoexo::eval — continuous knee angle from EMG: the goniometer as a target, regression protocols and their
// metrics (RMSE in degrees, NMAE in % of the range of motion, R^2).
//
// Target: the knee angle recorded with the EMG (UCI lower-limb: channel FX, degrees), flexion positive, smoothed
// zero-phase: models::knee_angle_target (models/knee_angle.hpp), the one definition training shares.
//
// Windows as the classification protocols cut them (DataSpec: channels, band-pass, windows 250/50); a window's
// target is the angle at its last sample plus `lead` samples (the exoskeleton needs lead time), and a window
// whose target would fall outside its own segment (past the W split or the recording's end) is not used.
//
// Protocols: W = within subject, chronological split at floor(0.7 n) of every recording, one model per subject;
// L = leave one subject out. Each runs per movement (the model trained and tested on that movement only) and
// pooled (all movements). Metrics per held-out subject over all its test windows: RMSE, MAE, NMAE = MAE /
// (max - min of that subject's test targets) in %, R^2 = 1 - SS_res / SS_tot; summaries give the mean and the
// worst subject.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "eval/protocol.hpp"
#include "io/recording.hpp"
#include "models/gradient_boosting.hpp"
#include "models/knee_angle.hpp"
#include "models/tree_ensemble.hpp"
#include "models/ridge.hpp"

namespace myoexo::eval {

using models::AngleConvention;
using models::angle_convention_name;
using models::detect_flexion_sign;
using models::parse_angle_convention;

struct AngleSpec {
  DataSpec data = uci_ll_v1_spec();   ///< EMG channels, band-pass, windows, split (the classifiers' front end)
  models::KneeAngleTargetSpec target;  ///< channel FX, convention, zero-phase low-pass 6 Hz order 2
  std::size_t lead_samples = 0;       ///< predict the angle this many samples after the window's last sample
  /// Causal first-order smoothing of each recording's estimates in time order (time constant in ms; 0 = off):
  /// what the live chain applies to the estimate stream, so scored the same way here.
  double smoothing_ms = 0.0;
};

/// Smooths estimates that follow each other every `step_s` seconds with a first-order causal low-pass of
/// time constant tau_s (the first value passes unchanged); tau_s <= 0 leaves them. In place.
void smooth_estimates(std::span<double> estimates, double step_s, double tau_s) noexcept;

/// One recording's target, aligned with PreparedData::recordings (same order).
struct AngleTarget {
  std::string recording;
  std::vector<double> angle_deg;      ///< flexion positive, filtered, n_samples
  bool negated = false;               ///< read flexion-negative and negated
};

/// The prepared EMG (prepare_data with the target channel left out) and the targets. Errors: mismatch (a
/// recording without the target channel, a convention that disagrees, a target unit that is not degrees),
/// those of prepare_data.
struct AngleData {
  PreparedData emg;
  std::vector<AngleTarget> targets;
};
Result<AngleData> prepare_angle_data(std::span<const io::Recording> recordings, const AngleSpec& spec);

/// Fit on the train windows and their targets, write one estimate per test window (degrees, flexion positive).
using RegressFn = std::function<Status(const WindowSet& windows, std::span<const std::size_t> train,
                                       std::span<const double> train_targets, std::span<const std::size_t> test,
                                       std::span<double> estimates, const FoldContext& fold)>;

struct AngleFoldScore {
  std::string name;          ///< held-out subject
  std::size_t n_train = 0, n_test = 0;
  double rmse_deg = 0, mae_deg = 0, nmae_pct = 0, r2 = 0, range_deg = 0;
};

struct AngleProtocolScores {
  Protocol protocol = Protocol::within_subject;
  std::string scope;         ///< "all movements" or a class name
  std::vector<AngleFoldScore> folds;
  double mean_rmse_deg = 0, worst_rmse_deg = 0, mean_nmae_pct = 0, worst_nmae_pct = 0, mean_r2 = 0, worst_r2 = 0;
  std::string worst_fold;    ///< the subject with the largest NMAE
};

/// Estimates and targets of the test windows of one pooled-scope fold (for the plots).
struct AngleTrace {
  Protocol protocol = Protocol::within_subject;
  std::string fold, recording;
  std::vector<double> t_s, target_deg, estimate_deg;  ///< at each test window's target sample
};

struct AngleEvaluation {
  std::string model_name;
  std::vector<std::string> channel_names, subjects, class_names, negated_recordings;
  std::size_t lead_samples = 0;
  double sample_rate_hz = 0;
  std::vector<AngleProtocolScores> protocols;
  std::vector<AngleTrace> traces;
  double fit_seconds = 0;    ///< wall time of the folds' fitting and prediction
};

struct AngleRunOptions {
  std::vector<Protocol> protocols{Protocol::within_subject, Protocol::leave_one_subject_out};
  bool per_movement = true;  ///< also one run per class (movement); the pooled run is always made
  std::vector<std::string> subjects;  ///< held-out subjects (empty = all)
  /// W only: every other subject's training part (the first split fraction of each of their recordings) joins each
  /// fold's training windows, as a model pooled over other people joins a new person's calibration; the held-out
  /// subject's test part stays unseen, and no one's test part is trained on.
  bool w_other_subjects = false;
  std::string model_name = "model";
  std::function<void(const std::string&)> progress;
  /// Folds fitted at the same time (threads), >= 1; the callback must then be thread-safe. Results do not
  /// depend on it.
  std::size_t parallel_folds = 1;
};

/// Errors: invalid_argument (only W and L are defined here; unknown subject), empty (a fold without windows),
/// those of the callback.
Result<AngleEvaluation> run_angle_protocol(const AngleData& data, const AngleSpec& spec, const RegressFn& regress,
                                           const AngleRunOptions& options = {});

/// Ridge on the windows' feature rows (compute_window_features, cached per WindowSet). With `alphas` (non-empty)
/// the penalty is chosen per fold on the training windows only: inner leave-one-subject-out when they hold >= 3
/// subjects, else the last 30 % of each training recording's windows is the inner validation part; the alpha
/// with the lowest validation RMSE is refitted on all training windows. The test windows never take part.
RegressFn make_ridge_regress(const features::FeatureSpec& feature_spec, const LdaVariant& variant,
                             const models::RidgeOptions& ridge_options = {}, std::vector<double> alphas = {});

/// Gradient-boosted regression trees (models::fit_gradient_boosting, XGBoost) on the lagged envelope of each window
/// and the envelope.window_length() - window length samples before it (zeros where that past would reach before
/// the window's segment, as the live stream's zeros before its start); the envelope rows are computed once per
/// WindowSet. Errors: invalid_argument (an envelope shorter than the protocol's windows), unsupported (a build
/// without XGBoost), those of the fit.
RegressFn make_tree_regress(const models::LaggedEnvelope& envelope, const models::GradientBoostingOptions& options);

/// A person's trees from a model pooled over people (models::fit_person_trees): trees on every training window with
/// an indicator of its subject, fixed at the held-out subject's (none under L: a person the pool has not seen), mixed
/// with trees on the held-out subject's own training windows. Meant for W with AngleRunOptions::w_other_subjects,
/// where every fold trains on the same windows and the pooled fit is made once. Errors: those of make_tree_regress.
RegressFn make_person_tree_regress(const models::LaggedEnvelope& envelope, const models::PersonTreeOptions& options);

/// RMSE, MAE, NMAE (% of max - min of the targets), R^2 of estimates against targets (same size, >= 2).
AngleFoldScore angle_scores(std::span<const double> targets, std::span<const double> estimates);

/// UCI lower-limb's subject groups, from the id's last letter: "knee pathology" (A) or "healthy" (N); "" for any
/// other id (no groups).
std::string uci_subject_group(const std::string& subject);

/// Mean scores of one group's subjects in one protocol and scope.
struct AngleGroupScores {
  Protocol protocol = Protocol::within_subject;
  std::string scope, group;
  std::size_t n_subjects = 0;
  double mean_rmse_deg = 0, mean_nmae_pct = 0, mean_r2 = 0;
};
/// Per protocol and scope, the means over each group's subjects (uci_subject_group); empty when a subject has no
/// group or only one group is present.
std::vector<AngleGroupScores> angle_group_scores(const AngleEvaluation& r);

/// With "groups" (angle_group_scores) when there are any.
nlohmann::json angle_evaluation_to_json(const AngleEvaluation& r);
/// A table per protocol for a terminal or Markdown: scope, RMSE, NMAE, R^2 (mean, worst subject).
std::string format_angle_summary(const AngleEvaluation& r);
/// The group means as a Markdown table ("" when there are no groups).
std::string format_angle_groups(const AngleEvaluation& r);

}  // namespace myoexo::eval
