// myoexo::eval — what a clinician sees of a decoder in use: its decisions after post-processing (rejection,
// majority vote, dwell), one per increment, scored as a stream rather than window by window.
//
// Definitions (per decision sequence, pooled by summing counts and times):
//  - active error rate: decisions whose output is an active intent (not rest) other than the true one, over all
//    decisions: the wrong movements the exoskeleton would have been asked for;
//  - rejection rate: decisions the post-processing rejected (they vote rest);
//  - instability: changes of the output per second of decisions;
//  - onset delay: from a movement onset (the first decision of a recording whose truth is an active intent, or a
//    change of the truth to an active intent) to the first decision whose output is that intent, while the truth
//    stays; onsets the output never reaches are counted apart;
//  - false activations per minute during rest: switches of the output from rest to an active intent while the
//    truth is rest, per minute of true rest (undefined when the data have no rest).
// Intents are integer ids (control::IntentLabel's values in the app); this stage needs no control types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace myoexo::eval {

/// One recording's post-processed decisions, in stream order.
struct DecisionSequence {
  std::string subject;
  double increment_s = 0.05;           ///< time between decisions [s] (> 0)
  int rest = 0;                        ///< the id of the rest intent
  std::vector<int> truth;              ///< the intent each decision should give; < 0 = unknown (skipped)
  std::vector<int> output;             ///< the intent it gave
  std::vector<std::uint8_t> rejected;  ///< 1 = the decision itself was rejected (empty = none was)
};

struct UsageMetrics {
  std::size_t decisions = 0;           ///< with a known truth
  double seconds = 0.0;                ///< decisions x increment
  std::size_t active_errors = 0, rejections = 0, changes = 0;
  double active_error_rate = 0.0, rejection_rate = 0.0, changes_per_s = 0.0;
  std::size_t onsets = 0, onsets_reached = 0;
  double mean_onset_delay_s = 0.0;     ///< over reached onsets (NaN when none)
  double max_onset_delay_s = 0.0;      ///< NaN when none
  double rest_s = 0.0;                 ///< time whose truth is rest
  std::size_t false_activations = 0;
  double false_activations_per_min = 0.0;  ///< NaN when rest_s == 0
};

/// Scores the sequences together (counts and times summed). Sequences whose sizes disagree are skipped.
UsageMetrics compute_usage_metrics(std::span<const DecisionSequence> sequences);

/// {"decisions", "seconds", "active_error_rate", "rejection_rate", "changes_per_s", "onsets", "onsets_reached",
/// "mean_onset_delay_s", "max_onset_delay_s", "rest_s", "false_activations", "false_activations_per_min"}; NaN
/// values are null.
nlohmann::json usage_metrics_to_json(const UsageMetrics& m);

}  // namespace myoexo::eval
