// myoexo::realtime — timing built into the real-time path: a steady-clock reading and a fixed-size
// duration histogram (no allocation after construction) for per-decision compute time and latency.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace myoexo::realtime {

/// Steady (monotonic) clock [ns]: the time base of arrival/emit stamps.
inline std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Percentiles of durations.
struct DurationSummary {
  std::uint64_t count = 0;
  double p50_s = 0.0;   ///< median [s] (bin upper edge: resolution 1/kBinsPerDecade decade, ~7.5 %)
  double p99_s = 0.0;   ///< 99th percentile [s]
  double max_s = 0.0;   ///< exact maximum [s]
  double mean_s = 0.0;  ///< exact mean [s]
};

/// Log-spaced histogram of durations from 10 ns to 100 s (32 bins per decade; shorter -> first bin,
/// longer -> last bin). record() is O(1), wait-free for one writer, no allocation; the storage is inside
/// the object (about 2.5 kB).
class DurationHistogram {
 public:
  static constexpr int kBinsPerDecade = 32;
  static constexpr int kDecades = 10;        ///< 1e-8 s .. 1e2 s
  static constexpr double kMinS = 1e-8;
  static constexpr std::size_t kBins = static_cast<std::size_t>(kBinsPerDecade * kDecades);

  /// Adds one duration [ns]; negative values count as 0.
  void record_ns(std::int64_t ns) noexcept;
  void record_s(double s) noexcept { record_ns(static_cast<std::int64_t>(s * 1e9)); }
  void reset() noexcept { *this = DurationHistogram{}; }

  std::uint64_t count() const noexcept { return count_; }
  /// The q-quantile (q in [0, 1]) as a bin's upper edge [s]; 0 when empty.
  double quantile_s(double q) const noexcept;
  DurationSummary summary() const noexcept;

 private:
  std::array<std::uint64_t, kBins> bins_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ns_ = 0;
  double sum_s_ = 0.0;
};

}  // namespace myoexo::realtime
