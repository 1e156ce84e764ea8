#include "models/tree_ensemble.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace myoexo::models {

void LaggedEnvelope::compute(const double* window, std::size_t channels, float* out) const noexcept {
  const std::size_t len = window_length();
  float* wl_out = out + channels * segments;
  for (std::size_t c = 0; c < channels; ++c) {
    const double* x = window + c * len;
    for (std::size_t k = 0; k < segments; ++k) {
      const double* seg = x + len - (k + 1) * segment;
      double s = seg[0] * seg[0], wl = 0.0;
      for (std::size_t i = 1; i < segment; ++i) {  // one pass over the segment for both
        s += seg[i] * seg[i];
        wl += std::abs(seg[i] - seg[i - 1]);
      }
      // All zeros is no amplitude at all, not a very quiet one: the stream's zeros before its start take the
      // oldest amplitude there is (the envelope held constant backwards); with none (a dead channel), missing,
      // which the trees send down each split's default branch.
      float& f = out[c * segments + k];
      float* g = waveform_length ? &wl_out[c * segments + k] : nullptr;
      if (s != 0.0) {
        f = static_cast<float>(0.5 * std::log(std::max(s / double(segment), 1e-24)));
        if (g) *g = static_cast<float>(std::log(std::max(wl / double(segment), 1e-24)));
      } else {
        f = k > 0 ? out[c * segments + k - 1] : std::numeric_limits<float>::quiet_NaN();
        if (g) *g = k > 0 ? *(g - 1) : std::numeric_limits<float>::quiet_NaN();
      }
    }
  }
}

std::string LaggedEnvelope::describe() const {
  return std::string(waveform_length ? "log RMS and log waveform length" : "log RMS") + " of " +
         std::to_string(segments) + " x " + std::to_string(segment) + "-sample segments per channel";
}

Result<TreeEnsemble> TreeEnsemble::create(std::vector<std::vector<Node>> trees, double base_score,
                                          std::size_t n_features) {
  if (!std::isfinite(base_score)) return make_error(ErrorCode::invalid_argument, "trees: base score is not finite");
  TreeEnsemble e;
  e.base_score_ = base_score;
  e.n_features_ = n_features;
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const auto& nodes = trees[t];
    const std::string where = "trees: tree " + std::to_string(t);
    if (nodes.empty()) return make_error(ErrorCode::invalid_argument, where + " has no node");
    const auto n = static_cast<std::int32_t>(nodes.size());
    for (std::int32_t i = 0; i < n; ++i) {
      const Node& nd = nodes[std::size_t(i)];
      if (nd.feature < 0) {
        if (!std::isfinite(nd.threshold)) return make_error(ErrorCode::invalid_argument, where + ": a leaf is not finite");
        continue;
      }
      // Children after their parent: every walk ends at a leaf.
      if (nd.left <= i || nd.right <= i || nd.left >= n || nd.right >= n)
        return make_error(ErrorCode::invalid_argument, where + ": node " + std::to_string(i) + " has a child outside "
                                                       "the tree or before it");
      if (std::size_t(nd.feature) >= n_features)
        return make_error(ErrorCode::invalid_argument, where + ": node " + std::to_string(i) + " reads feature " +
                                                           std::to_string(nd.feature) + " of " +
                                                           std::to_string(n_features));
      if (std::isnan(nd.threshold)) return make_error(ErrorCode::invalid_argument, where + ": a split is NaN");
    }
    e.roots_.push_back(static_cast<std::int32_t>(e.nodes_.size()));
    e.nodes_.insert(e.nodes_.end(), nodes.begin(), nodes.end());
  }
  return e;
}

double TreeEnsemble::predict(const float* x) const noexcept {
  double sum = 0.0;
  for (const std::int32_t root : roots_) {
    const Node* tree = nodes_.data() + root;
    std::int32_t i = 0;
    while (tree[i].feature >= 0) {
      const Node& nd = tree[i];
      const float v = x[nd.feature];
      const bool left = std::isnan(v) ? nd.default_left : v < nd.threshold;
      i = left ? nd.left : nd.right;
    }
    sum += tree[i].threshold;
  }
  return base_score_ + sum;
}

std::vector<std::vector<TreeEnsemble::Node>> TreeEnsemble::split_trees() const {
  std::vector<std::vector<Node>> trees;
  for (std::size_t t = 0; t < roots_.size(); ++t) {
    const std::size_t b = std::size_t(roots_[t]), e = t + 1 < roots_.size() ? std::size_t(roots_[t + 1]) : nodes_.size();
    trees.emplace_back(nodes_.begin() + std::ptrdiff_t(b), nodes_.begin() + std::ptrdiff_t(e));
  }
  return trees;
}

Result<TreeEnsemble> TreeEnsemble::fix_trailing_features(std::size_t keep, std::span<const float> fixed) const {
  if (keep == 0 || keep > n_features_ || fixed.size() != n_features_ - keep)
    return make_error(ErrorCode::invalid_argument, "trees: fixing features " + std::to_string(keep) + ".." +
                                                       std::to_string(n_features_) + " with " +
                                                       std::to_string(fixed.size()) + " values");
  std::vector<std::vector<Node>> out;
  for (const auto& tree : split_trees()) {
    // Preorder copy: a split on a fixed feature is replaced by the subtree its value selects, so children still
    // follow their parent.
    std::vector<Node> nodes;
    auto copy = [&](auto&& self, std::int32_t i) -> std::int32_t {
      while (tree[std::size_t(i)].feature >= std::int32_t(keep)) {
        const Node& nd = tree[std::size_t(i)];
        const float v = fixed[std::size_t(nd.feature) - keep];
        i = (std::isnan(v) ? nd.default_left : v < nd.threshold) ? nd.left : nd.right;
      }
      const auto at = static_cast<std::int32_t>(nodes.size());
      nodes.push_back(tree[std::size_t(i)]);
      if (nodes.back().feature >= 0) {
        const Node src = tree[std::size_t(i)];
        const std::int32_t l = self(self, src.left);
        const std::int32_t r = self(self, src.right);
        nodes[std::size_t(at)].left = l;
        nodes[std::size_t(at)].right = r;
      }
      return at;
    };
    copy(copy, 0);
    out.push_back(std::move(nodes));
  }
  return create(std::move(out), base_score_, keep);
}

Result<TreeEnsemble> TreeEnsemble::weighted_sum(std::span<const TreeEnsemble> parts, std::span<const double> weights) {
  if (parts.empty() || weights.size() != parts.size())
    return make_error(ErrorCode::invalid_argument, "trees: a weighted sum needs one weight per ensemble");
  std::vector<std::vector<Node>> out;
  double base = 0.0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const double w = weights[k];
    if (parts[k].n_features_ != parts[0].n_features_ || !std::isfinite(w))
      return make_error(ErrorCode::invalid_argument, "trees: a weighted sum needs finite weights and ensembles of "
                                                     "the same features (" + std::to_string(parts[0].n_features_) +
                                                     " vs " + std::to_string(parts[k].n_features_) + ")");
    for (auto tree : parts[k].split_trees()) {
      for (Node& nd : tree)
        if (nd.feature < 0) nd.threshold = static_cast<float>(w * double(nd.threshold));
      out.push_back(std::move(tree));
    }
    base += w * parts[k].base_score_;
  }
  return create(std::move(out), base, parts[0].n_features_);
}

Result<TreeEnsemble> TreeEnsemble::weighted_sum(const TreeEnsemble& a, double w_a, const TreeEnsemble& b, double w_b) {
  const TreeEnsemble parts[] = {a, b};
  const double weights[] = {w_a, w_b};
  return weighted_sum(parts, weights);
}

nlohmann::json TreeEnsemble::to_json() const {
  nlohmann::json trees = nlohmann::json::array();
  for (std::size_t t = 0; t < roots_.size(); ++t) {
    const std::size_t b = std::size_t(roots_[t]), e = t + 1 < roots_.size() ? std::size_t(roots_[t + 1]) : nodes_.size();
    nlohmann::json f = nlohmann::json::array(), th = f, l = f, r = f, d = f;
    for (std::size_t i = b; i < e; ++i) {
      f.push_back(nodes_[i].feature);
      th.push_back(nodes_[i].threshold);
      l.push_back(nodes_[i].left);
      r.push_back(nodes_[i].right);
      d.push_back(nodes_[i].default_left ? 1 : 0);
    }
    trees.push_back({{"feature", f}, {"threshold", th}, {"left", l}, {"right", r}, {"default_left", d}});
  }
  return {{"base_score", base_score_}, {"n_features", n_features_}, {"trees", trees}};
}

Result<TreeEnsemble> TreeEnsemble::from_json(const nlohmann::json& j) {
  try {
    std::vector<std::vector<Node>> trees;
    for (const auto& t : j.at("trees")) {
      const auto f = t.at("feature").get<std::vector<std::int32_t>>();
      const auto th = t.at("threshold").get<std::vector<float>>();
      const auto l = t.at("left").get<std::vector<std::int32_t>>();
      const auto r = t.at("right").get<std::vector<std::int32_t>>();
      const auto d = t.at("default_left").get<std::vector<int>>();
      if (th.size() != f.size() || l.size() != f.size() || r.size() != f.size() || d.size() != f.size())
        return make_error(ErrorCode::parse, "trees: a tree's node arrays differ in length");
      std::vector<Node> nodes(f.size());
      for (std::size_t i = 0; i < f.size(); ++i) nodes[i] = Node{f[i], th[i], l[i], r[i], d[i] != 0};
      trees.push_back(std::move(nodes));
    }
    return create(std::move(trees), j.at("base_score").get<double>(), j.at("n_features").get<std::size_t>());
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::parse, std::string("trees: ") + e.what());
  }
}

Result<EnvelopeTreeRegressor> EnvelopeTreeRegressor::create(LaggedEnvelope envelope, std::size_t channels,
                                                            TreeEnsemble trees) {
  if (envelope.segment == 0 || envelope.segments == 0 || channels == 0)
    return make_error(ErrorCode::invalid_argument, "envelope trees: segment, segments and channels must be >= 1");
  // Bounded before any product is formed: a window of segment x segments samples (and the features of every
  // channel) must not wrap around to a length that then passes the model's checks.
  constexpr std::size_t kMax = std::size_t{1} << 24;
  if (envelope.segment > kMax || envelope.segments > kMax || channels > 4096 ||
      envelope.segment * envelope.segments > kMax || channels * envelope.segments > kMax)
    return make_error(ErrorCode::invalid_argument,
                      "envelope trees: segment (" + std::to_string(envelope.segment) + ") x segments (" +
                          std::to_string(envelope.segments) + ") must be <= 2^24 samples, channels (" +
                          std::to_string(channels) + ") <= 4096");
  if (trees.n_features() != envelope.n_features(channels))
    return make_error(ErrorCode::invalid_argument, "envelope trees: the trees read " +
                                                       std::to_string(trees.n_features()) + " features, the envelope "
                                                       "of " + std::to_string(channels) + " channels has " +
                                                       std::to_string(envelope.n_features(channels)));
  return EnvelopeTreeRegressor(envelope, channels, std::make_shared<const TreeEnsemble>(std::move(trees)));
}

double EnvelopeTreeRegressor::estimate(std::span<const double> window) noexcept {
  if (window.size() != n_inputs()) return std::numeric_limits<double>::quiet_NaN();
  for (const double v : window)
    if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
  envelope_.compute(window.data(), channels_, features_.data());
  return trees_->predict(features_.data());
}

std::unique_ptr<AngleRegressor> EnvelopeTreeRegressor::clone() const {
  return std::unique_ptr<AngleRegressor>(new EnvelopeTreeRegressor(envelope_, channels_, trees_));
}

nlohmann::json EnvelopeTreeRegressor::to_json() const {
  return {{"kind", "envelope_trees"}, {"segment", envelope_.segment}, {"segments", envelope_.segments},
          {"waveform_length", envelope_.waveform_length}, {"channels", channels_}, {"trees", trees_->to_json()}};
}

Result<EnvelopeTreeRegressor> EnvelopeTreeRegressor::from_json(const nlohmann::json& j) {
  try {
    if (j.at("kind").get<std::string>() != "envelope_trees")
      return make_error(ErrorCode::parse, "envelope trees: kind is not envelope_trees");
    LaggedEnvelope e;
    e.segment = j.at("segment").get<std::size_t>();
    e.segments = j.at("segments").get<std::size_t>();
    e.waveform_length = j.value("waveform_length", false);  // files from before it: amplitude only
    auto t = TreeEnsemble::from_json(j.at("trees"));
    if (!t) return t.error();
    return create(e, j.at("channels").get<std::size_t>(), std::move(*t));
  } catch (const nlohmann::json::exception& ex) {
    return make_error(ErrorCode::parse, std::string("envelope trees: ") + ex.what());
  }
}

}  // namespace myoexo::models
