// myoexo::realtime — ReplaySource: any Recording streamed as an EmgSource, at real-time pace or as fast as
// possible, in fixed-size chunks, with injectable, seeded, deterministic faults.
//
// Why faults live in the source: the supervisor's sensor-fault detection and the pipeline's counters are
// tested against the same replay a user runs, with a known list of what was injected (`faults()`), so a
// test can assert that every injected fault was seen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/recording.hpp"
#include "realtime/source.hpp"

namespace myoexo::realtime {

enum class FaultKind {
  nan_burst,      ///< samples become NaN
  flat_line,      ///< samples hold the value of the event's first sample (electrode off / frozen ADC)
  saturation,     ///< samples sit at the rail (`value`, or the channel's max |x| when value == 0)
  dropped_chunk,  ///< chunks starting inside the event are never delivered (stream time jumps)
  stall,          ///< delivery pauses for duration_s, then the backlog follows (no sample lost)
  out_of_order,   ///< chunks starting inside the event report a first_sample_s two chunks in the past
};
inline constexpr std::size_t kFaultKindCount = 6;
const char* fault_kind_name(FaultKind k) noexcept;  ///< "nan_burst", "flat_line", ...

/// One injected fault, in stream time of the recording.
struct FaultEvent {
  FaultKind kind = FaultKind::nan_burst;
  double start_s = 0.0;     ///< >= 0
  double duration_s = 0.0;  ///< > 0
  int channel = -1;         ///< index among the streamed channels, -1 = all (sample faults only)
  double value = 0.0;       ///< saturation level in signal units (0 = the channel's max |x|)
};

/// How many random faults of each kind and how long they last.
struct RandomFaultOptions {
  std::size_t events_per_kind = 2;   ///< of every kind listed in `kinds`
  double min_duration_s = 0.02;
  double max_duration_s = 0.5;
  std::vector<FaultKind> kinds{FaultKind::nan_burst, FaultKind::flat_line,     FaultKind::saturation,
                               FaultKind::dropped_chunk, FaultKind::stall, FaultKind::out_of_order};
};

/// A deterministic fault list for a stream of `duration_s` seconds and `n_channels` channels: the same seed
/// gives the same list on every platform (mt19937_64 raw output, no std distributions). Sorted by start.
std::vector<FaultEvent> make_random_faults(double duration_s, std::size_t n_channels, std::uint64_t seed,
                                           const RandomFaultOptions& options = {});

enum class ReplayPace {
  fast,      ///< as fast as possible: read() never sleeps (stalls return no_data reads instead)
  realtime,  ///< chunk k is delivered when its last sample would have been acquired
};

struct ReplayOptions {
  std::size_t chunk_frames = 50;     ///< frames per read (>= 1); the last chunk may be shorter
  ReplayPace pace = ReplayPace::fast;
  std::vector<std::string> channels; ///< names of the channels to stream, in this order; empty = all
  std::vector<FaultEvent> faults;    ///< injected faults (any order)
};

/// What the replay did (ground truth for fault tests).
struct ReplayStats {
  std::uint64_t frames_delivered = 0;
  std::uint64_t chunks_delivered = 0;
  std::uint64_t chunks_dropped = 0;
  std::uint64_t frames_dropped = 0;
  std::uint64_t stall_reads = 0;          ///< no_data reads caused by stalls (fast pace)
  std::uint64_t stalls = 0;               ///< stall events applied
  std::uint64_t out_of_order_chunks = 0;  ///< chunks delivered with a backdated first_sample_s
  std::uint64_t nan_samples = 0;          ///< samples replaced (counted at create)
  std::uint64_t flat_samples = 0;
  std::uint64_t saturated_samples = 0;
};

class ReplaySource final : public EmgSource {
 public:
  /// Takes the recording (moved in). Errors: invalid_argument (chunk_frames 0, a fault with a bad time,
  /// channel or duration, an unknown channel name), empty (no samples, no channels, rate <= 0).
  static Result<ReplaySource> create(io::Recording recording, const ReplayOptions& options = {});

  std::size_t n_channels() const noexcept override { return names_.size(); }
  double sample_rate_hz() const noexcept override { return rate_hz_; }
  const std::vector<std::string>& channel_names() const noexcept override { return names_; }
  const std::vector<std::string>& channel_units() const noexcept override { return units_; }

  /// Rewinds to the first sample and starts the pace clock.
  Status start() override;
  void stop() noexcept override {}
  ReadResult read(std::span<double> out) noexcept override;

  const ReplayStats& stats() const noexcept { return stats_; }
  const std::vector<FaultEvent>& faults() const noexcept { return faults_; }
  std::size_t total_frames() const noexcept { return n_; }
  /// The streamed samples after the sample faults (channel-major [channels x total_frames()]): what an
  /// offline path sees.
  std::span<const double> faulted_samples() const noexcept { return samples_; }

 private:
  ReplaySource() = default;
  bool in_event(FaultKind kind, double t_s, std::size_t* index = nullptr) const noexcept;

  double rate_hz_ = 0.0;
  std::size_t n_ = 0;
  std::vector<std::string> names_, units_;
  std::vector<double> samples_;  // channel-major, faults applied
  ReplayOptions options_;
  std::vector<FaultEvent> faults_;
  std::vector<bool> stall_used_;
  std::size_t next_frame_ = 0;
  std::size_t pending_stall_reads_ = 0;
  std::int64_t start_ns_ = 0;
  std::int64_t delay_ns_ = 0;  // accumulated stall delay (real-time pace)
  ReplayStats stats_;
};

}  // namespace myoexo::realtime
