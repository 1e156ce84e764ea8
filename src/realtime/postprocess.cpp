#include "realtime/postprocess.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace myoexo::realtime {

using control::IntentLabel;

Result<IntentPostProcessor> IntentPostProcessor::create(const PostProcessOptions& options,
                                                        std::vector<IntentLabel> class_intents) {
  if (!(options.rejection_threshold >= 0.0 && options.rejection_threshold <= 1.0))
    return make_error(ErrorCode::invalid_argument, "post-processing: rejection_threshold must be in [0, 1]");
  if (options.vote_window == 0 || options.vote_window > kMaxVoteWindow)
    return make_error(ErrorCode::invalid_argument,
                      "post-processing: vote_window must be 1.." + std::to_string(kMaxVoteWindow));
  if (options.min_dwell == 0) return make_error(ErrorCode::invalid_argument, "post-processing: min_dwell must be >= 1");
  if (class_intents.empty()) return make_error(ErrorCode::invalid_argument, "post-processing: no classes");
  for (IntentLabel l : class_intents)
    if (static_cast<std::size_t>(l) >= control::kIntentLabelCount)
      return make_error(ErrorCode::invalid_argument, "post-processing: bad intent label");
  IntentPostProcessor p;
  p.options_ = options;
  p.class_intents_ = std::move(class_intents);
  return p;
}

void IntentPostProcessor::reset() noexcept {
  n_votes_ = next_vote_ = 0;
  current_ = candidate_ = IntentLabel::rest;
  candidate_count_ = 0;
}

PostDecision IntentPostProcessor::step(std::span<const double> probs, bool valid) noexcept {
  PostDecision out;
  // 1. Rejection.
  Vote v;
  std::size_t best = 0;
  bool ok = valid && probs.size() == class_intents_.size();
  if (ok) {
    for (std::size_t k = 1; k < probs.size(); ++k)
      if (probs[k] > probs[best]) best = k;
    ok = std::isfinite(probs[best]) && probs[best] >= options_.rejection_threshold;
  }
  if (ok) {
    v.label = class_intents_[best];
    v.confidence = probs[best];
  } else {
    out.rejected = true;
    v.label = IntentLabel::rest;
    double rest_mass = 0.0;
    if (valid && probs.size() == class_intents_.size())
      for (std::size_t k = 0; k < probs.size(); ++k)
        if (class_intents_[k] == IntentLabel::rest && std::isfinite(probs[k])) rest_mass += probs[k];
    v.confidence = std::clamp(rest_mass, 0.0, 1.0);
  }
  // 2. Majority vote over the last N.
  const std::size_t n = options_.vote_window;
  votes_[next_vote_] = v;
  next_vote_ = (next_vote_ + 1) % n;
  n_votes_ = std::min(n_votes_ + 1, n);
  std::array<std::size_t, control::kIntentLabelCount> count{};
  std::array<std::size_t, control::kIntentLabelCount> recency{};  // age+1 of the newest vote (1 = newest)
  std::array<double, control::kIntentLabelCount> conf_sum{};
  for (std::size_t a = 0; a < n_votes_; ++a) {  // a = age, 0 = newest
    const Vote& w = votes_[(next_vote_ + n - 1 - a) % n];
    const auto l = static_cast<std::size_t>(w.label);
    ++count[l];
    conf_sum[l] += w.confidence;
    if (recency[l] == 0) recency[l] = a + 1;
  }
  std::size_t voted = static_cast<std::size_t>(v.label);
  for (std::size_t l = 0; l < control::kIntentLabelCount; ++l) {
    if (count[l] > count[voted] || (count[l] == count[voted] && count[l] > 0 && recency[l] < recency[voted]))
      voted = l;
  }
  // 3. Minimum dwell.
  const auto voted_label = static_cast<IntentLabel>(voted);
  if (voted_label == current_) {
    candidate_count_ = 0;
  } else {
    if (voted_label == candidate_ && candidate_count_ > 0) {
      ++candidate_count_;
    } else {
      candidate_ = voted_label;
      candidate_count_ = 1;
    }
    if (candidate_count_ >= options_.min_dwell) {
      current_ = voted_label;
      candidate_count_ = 0;
    }
  }
  out.label = current_;
  const auto cur = static_cast<std::size_t>(current_);
  out.confidence = count[cur] > 0 ? conf_sum[cur] / static_cast<double>(count[cur]) : 0.0;
  return out;
}

Result<std::vector<IntentLabel>> map_classes_to_intents(const std::vector<std::string>& class_names,
                                                        std::span<const std::pair<std::string, std::string>> aliases) {
  std::vector<IntentLabel> out;
  for (const auto& name : class_names) {
    std::optional<IntentLabel> l;
    for (const auto& [cls, intent] : aliases)
      if (cls == name) l = control::parse_intent_label(intent);
    if (!l) l = control::parse_intent_label(name);
    if (!l)
      return make_error(ErrorCode::invalid_argument,
                        "class '" + name + "' maps to no intent (rest, lift, lower, gait, hold): give an alias");
    out.push_back(*l);
  }
  if (out.empty()) return make_error(ErrorCode::invalid_argument, "no classes to map");
  return out;
}

}  // namespace myoexo::realtime
