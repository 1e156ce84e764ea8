// myoexo::realtime — post-processing of classifier decisions into intents: rejection, majority vote,
// minimum dwell (LibEMG's add_rejection / add_majority_vote, plus a dwell). Fixed-size state, no
// allocation after create(); the same object serves the offline and the live path.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "control/intent.hpp"
#include "core/error.hpp"

namespace myoexo::realtime {

struct PostProcessOptions {
  double rejection_threshold = 0.9;  ///< in [0, 1]: a decision whose max probability is below it becomes rest
  std::size_t vote_window = 5;       ///< majority vote over the last N (1..kMaxVoteWindow) decisions; 1 = off
  std::size_t min_dwell = 1;         ///< a new label must win this many consecutive votes (>= 1) before the
                                     ///< output switches to it; 1 = switch at once
};

inline constexpr std::size_t kMaxVoteWindow = 64;

/// One post-processed decision.
struct PostDecision {
  control::IntentLabel label = control::IntentLabel::rest;  ///< the output (after vote and dwell)
  double confidence = 0.0;  ///< mean confidence of `label` over the vote window (0 when it has no vote there)
  bool rejected = false;    ///< this decision itself was rejected (-> a rest vote)
};

class IntentPostProcessor {
 public:
  /// class_intents[k] = intent of classifier class k (size = n_classes >= 1). Errors: invalid_argument.
  static Result<IntentPostProcessor> create(const PostProcessOptions& options,
                                            std::vector<control::IntentLabel> class_intents);

  /// Consumes one row of class probabilities (size n_classes; `valid` = false forces a rejection, e.g.
  /// non-finite input). Rejected decisions vote rest with confidence = the probability mass of the
  /// classes mapped to rest. Vote ties go to the tied label voted most recently. No allocation.
  PostDecision step(std::span<const double> probs, bool valid = true) noexcept;

  /// Output back to rest, vote history cleared.
  void reset() noexcept;

  const PostProcessOptions& options() const noexcept { return options_; }
  const std::vector<control::IntentLabel>& class_intents() const noexcept { return class_intents_; }

 private:
  IntentPostProcessor() = default;
  struct Vote {
    control::IntentLabel label = control::IntentLabel::rest;
    double confidence = 0.0;
  };
  PostProcessOptions options_;
  std::vector<control::IntentLabel> class_intents_;
  std::array<Vote, kMaxVoteWindow> votes_{};
  std::size_t n_votes_ = 0, next_vote_ = 0;
  control::IntentLabel current_ = control::IntentLabel::rest;
  control::IntentLabel candidate_ = control::IntentLabel::rest;
  std::size_t candidate_count_ = 0;
};

/// class name -> intent: the intent of each class by its name (intent_label_name spelling, e.g. "gait"),
/// or via `aliases` (pairs {class name, intent name}) first. An unmapped class is an invalid_argument error
/// naming it.
Result<std::vector<control::IntentLabel>> map_classes_to_intents(
    const std::vector<std::string>& class_names,
    std::span<const std::pair<std::string, std::string>> aliases = {});

}  // namespace myoexo::realtime
