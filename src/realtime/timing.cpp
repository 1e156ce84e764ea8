#include "realtime/timing.hpp"

#include <algorithm>
#include <cmath>

namespace myoexo::realtime {

void DurationHistogram::record_ns(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  const double s = static_cast<double>(ns) * 1e-9;
  std::size_t bin = 0;
  if (s > kMinS) {
    const double pos = std::log10(s / kMinS) * kBinsPerDecade;  // bin b covers (edge(b-1), edge(b)]
    bin = std::min<std::size_t>(kBins - 1, static_cast<std::size_t>(std::ceil(pos)));
  }
  ++bins_[bin];
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
  sum_s_ += s;
}

double DurationHistogram::quantile_s(double q) const noexcept {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBins; ++b) {
    seen += bins_[b];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      const double edge = kMinS * std::pow(10.0, static_cast<double>(b) / kBinsPerDecade);
      return std::min(edge, static_cast<double>(max_ns_) * 1e-9);  // never above the exact max
    }
  }
  return static_cast<double>(max_ns_) * 1e-9;
}

DurationSummary DurationHistogram::summary() const noexcept {
  DurationSummary s;
  s.count = count_;
  if (count_ == 0) return s;
  s.p50_s = quantile_s(0.5);
  s.p99_s = quantile_s(0.99);
  s.max_s = static_cast<double>(max_ns_) * 1e-9;
  s.mean_s = sum_s_ / static_cast<double>(count_);
  return s;
}

}  // namespace myoexo::realtime
