// myoexo::realtime — lock-free single-producer single-consumer ring of multi-channel frames, the only link
// between the acquisition thread (producer: a source's read loop) and the processing thread (consumer: the
// StreamingPipeline).
//
// Why drop-newest and count: the producer must never block (a blocked serial reader loses bytes in the
// kernel/UART instead, silently), and it cannot overwrite the oldest frames without racing the consumer.
// So frames that do not fit are dropped at the producer and counted in overrun_frames(); the consumer sees
// the gap as a jump in the frames' stream time.
//
// Each frame carries a stamp: its stream time [s] and its arrival time [ns, steady clock] so the consumer
// can measure latency from the arrival of a window's last sample.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>

#include "core/error.hpp"

namespace myoexo::realtime {

/// Per-frame time stamps.
struct FrameStamp {
  double t_s = 0.0;              ///< stream time of the frame (sample index / rate, or the source's clock) [s]
  std::int64_t arrival_ns = 0;   ///< when the frame reached the host (steady clock) [ns]
};

/// A run of frames popped from the ring that arrived together (one producer push).
struct ChunkTiming {
  double first_sample_s = 0.0;   ///< stream time of the first frame [s]; later frames are 1/rate apart
  std::int64_t arrival_ns = 0;   ///< arrival time shared by the frames of the run [ns]
};

class FrameRing {
 public:
  /// A ring holding up to `capacity_frames` (>= 1) frames of `n_channels` (>= 1) doubles. Allocates here only.
  static Result<FrameRing> create(std::size_t n_channels, std::size_t capacity_frames) {
    if (n_channels == 0) return make_error(ErrorCode::invalid_argument, "FrameRing: n_channels must be >= 1");
    if (capacity_frames == 0) return make_error(ErrorCode::invalid_argument, "FrameRing: capacity must be >= 1");
    FrameRing r;
    r.channels_ = n_channels;
    r.capacity_ = capacity_frames;
    r.samples_ = std::make_unique<double[]>(n_channels * capacity_frames);
    r.stamps_ = std::make_unique<FrameStamp[]>(capacity_frames);
    r.counters_ = std::make_unique<Counters>();
    return r;
  }

  FrameRing(FrameRing&&) noexcept = default;
  FrameRing& operator=(FrameRing&&) noexcept = default;
  FrameRing(const FrameRing&) = delete;  // shared by two threads: one owner
  FrameRing& operator=(const FrameRing&) = delete;

  std::size_t n_channels() const noexcept { return channels_; }
  std::size_t capacity() const noexcept { return capacity_; }

  // ---- producer thread ----

  /// Appends interleaved frames ([frames x channels]; a trailing partial frame is ignored), stamping
  /// frame j with {first_sample_s + j / sample_rate_hz, arrival_ns}. Frames that do not fit are dropped
  /// and counted. Returns the frames written. Wait-free, no allocation.
  std::size_t push(std::span<const double> frames, double first_sample_s, double sample_rate_hz,
                   std::int64_t arrival_ns) noexcept {
    const std::size_t n = frames.size() / channels_;
    Counters& c = *counters_;
    const std::uint64_t head = c.head.load(std::memory_order_relaxed);
    const std::uint64_t tail = c.tail.load(std::memory_order_acquire);
    const std::size_t free_frames = capacity_ - static_cast<std::size_t>(head - tail);
    const std::size_t m = std::min(n, free_frames);
    const double dt = sample_rate_hz > 0 ? 1.0 / sample_rate_hz : 0.0;
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t slot = static_cast<std::size_t>((head + j) % capacity_);
      std::copy_n(frames.data() + j * channels_, channels_, samples_.get() + slot * channels_);
      stamps_[slot] = FrameStamp{first_sample_s + static_cast<double>(j) * dt, arrival_ns};
    }
    c.head.store(head + m, std::memory_order_release);
    if (m < n) c.overrun_frames.fetch_add(n - m, std::memory_order_relaxed);
    c.pushed_frames.fetch_add(m, std::memory_order_relaxed);
    return m;
  }

  /// Frames dropped because the ring was full (producer side; readable from any thread).
  std::uint64_t overrun_frames() const noexcept { return counters_->overrun_frames.load(std::memory_order_relaxed); }
  std::uint64_t pushed_frames() const noexcept { return counters_->pushed_frames.load(std::memory_order_relaxed); }

  // ---- consumer thread ----

  /// Frames currently readable.
  std::size_t size() const noexcept {
    return static_cast<std::size_t>(counters_->head.load(std::memory_order_acquire) -
                                    counters_->tail.load(std::memory_order_relaxed));
  }

  /// Pops up to out.size() / channels frames that share one arrival time (one producer push, or its
  /// remainder) into `out` (interleaved). Returns the frames popped (0 when empty) and their timing.
  /// Wait-free, no allocation.
  std::size_t pop(std::span<double> out, ChunkTiming& timing) noexcept {
    Counters& c = *counters_;
    const std::uint64_t tail = c.tail.load(std::memory_order_relaxed);
    const std::uint64_t head = c.head.load(std::memory_order_acquire);
    const std::size_t avail = static_cast<std::size_t>(head - tail);
    const std::size_t want = std::min(avail, out.size() / channels_);
    if (want == 0) return 0;
    const std::size_t first_slot = static_cast<std::size_t>(tail % capacity_);
    timing = ChunkTiming{stamps_[first_slot].t_s, stamps_[first_slot].arrival_ns};
    std::size_t m = 0;
    for (; m < want; ++m) {
      const std::size_t slot = static_cast<std::size_t>((tail + m) % capacity_);
      if (stamps_[slot].arrival_ns != timing.arrival_ns) break;
      std::copy_n(samples_.get() + slot * channels_, channels_, out.data() + m * channels_);
    }
    c.tail.store(tail + m, std::memory_order_release);
    return m;
  }

 private:
  FrameRing() = default;

  // Head and tail on their own cache lines: the producer writes head, the consumer tail.
  struct Counters {
    alignas(64) std::atomic<std::uint64_t> head{0};
    alignas(64) std::atomic<std::uint64_t> tail{0};
    alignas(64) std::atomic<std::uint64_t> overrun_frames{0};
    std::atomic<std::uint64_t> pushed_frames{0};
  };

  std::size_t channels_ = 0;
  std::size_t capacity_ = 0;
  std::unique_ptr<double[]> samples_;
  std::unique_ptr<FrameStamp[]> stamps_;
  std::unique_ptr<Counters> counters_;
};

}  // namespace myoexo::realtime
