// Feature-block post-processing (log amplitudes, per-sample counts) and ContextFeatureExtractor: the row
// definition of the "lda_context" variant, shared by offline evaluation, training and the live pipeline.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "features/features.hpp"

namespace myoexo::features {

namespace {

template <std::size_t N>
bool is_one_of(std::string_view name, const std::array<std::string_view, N>& names) noexcept {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

bool is_amplitude_feature(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 11> kNames{"MAV", "RMS", "VAR", "IAV", "WL", "DASDV",
                                                           "HA",  "TP",  "M0",  "M2",  "M4"};
  return is_one_of(name, kNames);
}

bool grows_with_length(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 5> kNames{"IAV", "WL", "ZC", "SSC", "WAMP"};
  return is_one_of(name, kNames);
}

void finish_feature_block(double* row, std::size_t n_channels, std::span<const std::string> feature_names,
                          std::size_t n_samples, const FeatureBlockOptions& options) noexcept {
  const std::size_t nf = feature_names.size();
  // Name tests once per feature, then every channel: the same two operations, in the same order, as a
  // per-value loop (evaluation's results depend on it bit for bit).
  for (std::size_t f = 0; f < nf; ++f) {
    const bool divide = options.per_sample && grows_with_length(feature_names[f]);
    const bool take_log = options.log_amplitude && is_amplitude_feature(feature_names[f]);
    if (!divide && !take_log) continue;
    for (std::size_t c = 0; c < n_channels; ++c) {
      double& v = row[c * nf + f];
      if (divide) v /= static_cast<double>(n_samples);
      if (take_log) v = std::log(std::max(v, kLogAmplitudeFloor));
    }
  }
}

Result<ContextFeatureExtractor> ContextFeatureExtractor::create(const FeatureSpec& spec, std::size_t n_channels,
                                                                std::size_t window_len, std::size_t increment,
                                                                std::size_t context_samples, bool log_amplitude) {
  if (increment == 0) return make_error(ErrorCode::invalid_argument, "increment must be >= 1 sample");
  const std::size_t steps = (context_samples + increment - 1) / increment;  // ceil(context / increment)
  if (steps >= kMaxContextLengths)
    return make_error(ErrorCode::invalid_argument,
                      "context_samples / increment needs " + std::to_string(steps + 1) + " context lengths (" +
                          std::to_string(context_samples) + " / " + std::to_string(increment) + "), at most " +
                          std::to_string(kMaxContextLengths) + " are supported");
  if (context_samples > (std::size_t{1} << 24))
    return make_error(ErrorCode::invalid_argument,
                      "context_samples must be <= 2^24, got " + std::to_string(context_samples));
  ContextFeatureExtractor out;
  out.n_channels_ = n_channels;
  out.window_len_ = window_len;
  out.increment_ = increment;
  out.context_ = context_samples;
  out.log_amplitude_ = log_amplitude;
  out.extractors_.reserve(steps + 1);
  for (std::size_t k = 0; k <= steps; ++k) {
    auto ex = FeatureExtractor::create(spec, n_channels, window_len + std::min(context_samples, k * increment));
    if (!ex) return ex.error();
    out.extractors_.push_back(std::move(*ex));
  }
  return out;
}

std::size_t ContextFeatureExtractor::n_features() const noexcept { return extractors_.front().n_features(); }
std::size_t ContextFeatureExtractor::n_columns() const noexcept {
  return extractors_.front().n_columns() * n_blocks();
}
const std::vector<std::string>& ContextFeatureExtractor::feature_names() const noexcept {
  return extractors_.front().feature_names();
}

std::vector<std::string> ContextFeatureExtractor::column_names(std::span<const std::string> channel_names) const {
  std::vector<std::string> cols = extractors_.front().column_names(channel_names);
  if (context_ == 0) return cols;
  const std::size_t n = cols.size();
  std::string suffix(1, '@');  // (not "@" + to_string: g++ 12 warns a false -Wrestrict on that)
  suffix += std::to_string(window_len_ + context_);
  cols.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) cols.push_back(cols[i] + suffix);
  return cols;
}

std::size_t ContextFeatureExtractor::context_length(std::size_t samples_before) const noexcept {
  return window_len_ + std::min(context_, samples_before);
}

bool ContextFeatureExtractor::compute(const double* window, std::size_t channel_stride, std::size_t samples_before,
                                      double* row, ComputeStatus& status) noexcept {
  std::size_t k = extractors_.size() - 1;
  if (samples_before < context_) {
    if (samples_before % increment_ != 0) return false;
    k = samples_before / increment_;
  }
  const auto& names = feature_names();
  status = extractors_.front().compute(window, channel_stride, row);
  finish_feature_block(row, n_channels_, names, window_len_, {false, log_amplitude_});
  if (context_ == 0) return true;
  const std::size_t before = std::min(context_, samples_before);
  const std::size_t n = window_len_ + before;
  double* ctx_row = row + extractors_.front().n_columns();
  if (extractors_[k].compute(window - before, channel_stride, ctx_row) != ComputeStatus::ok)
    status = ComputeStatus::nonfinite_input;
  finish_feature_block(ctx_row, n_channels_, names, n, {true, log_amplitude_});
  return true;
}

void ContextFeatureExtractor::reset() noexcept {
  for (auto& e : extractors_) e.reset();
}

}  // namespace myoexo::features
