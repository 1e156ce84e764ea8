// myoexo::dsp — overlapping windows over a signal: whole-recording start indices (offline) and, further
// down, the streaming windower fed in chunks (live). Both define the same windows: window k covers samples
// [k*increment, k*increment + length).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/error.hpp"

namespace myoexo::dsp {

/// Start indices of every complete window of `length` samples, advancing by `increment`, over `n_samples`.
/// Empty when n_samples < length. length >= 1 and increment >= 1 (0 yields no windows).
inline std::vector<std::size_t> window_starts(std::size_t n_samples, std::size_t length, std::size_t increment) {
  std::vector<std::size_t> starts;
  if (length == 0 || increment == 0 || n_samples < length) return starts;
  starts.reserve((n_samples - length) / increment + 1);
  for (std::size_t s = 0; s + length <= n_samples; s += increment) starts.push_back(s);
  return starts;
}

/// One complete window handed out by StreamingWindower::push. Valid only inside the callback.
class WindowView {
 public:
  std::size_t index() const noexcept { return index_; }          ///< k: the k-th window since create/reset
  std::size_t start_sample() const noexcept { return start_; }   ///< k * increment (== window_starts()[k])
  std::size_t length() const noexcept { return length_; }
  std::size_t channels() const noexcept { return channels_; }
  /// Channel c's `length` samples, oldest first (contiguous; no copy).
  std::span<const double> channel(std::size_t c) const noexcept { return {base_ + c * stride_, length_}; }
  /// Copies the window channel-major into out ([channels x length]); out.size() must be >= that.
  void copy_channel_major(std::span<double> out) const noexcept;

 private:
  friend class StreamingWindower;
  const double* base_ = nullptr;
  std::size_t stride_ = 0, index_ = 0, start_ = 0, length_ = 0, channels_ = 0;
};

/// Cuts a stream of interleaved frames into the windows window_starts() defines, whatever the chunking.
///
/// Keeps the last `length` frames per channel in a mirrored ring (each sample written twice), so a
/// complete window is always contiguous per channel and can be handed out as a view. Memory:
/// 2 * channels * length doubles, allocated in create(); push() never allocates.
class StreamingWindower {
 public:
  /// channels >= 1, length >= 1, increment >= 1 (increment > length skips samples between windows).
  static Result<StreamingWindower> create(std::size_t channels, std::size_t length, std::size_t increment);

  std::size_t channels() const noexcept { return channels_; }
  std::size_t length() const noexcept { return length_; }
  std::size_t increment() const noexcept { return increment_; }
  /// Frames pushed since create/reset.
  std::size_t samples_seen() const noexcept { return seen_; }
  /// Windows emitted since create/reset.
  std::size_t windows_emitted() const noexcept { return emitted_; }

  /// Feeds interleaved frames ([frames x channels]; size must be a multiple of channels(), else mismatch
  /// and nothing is consumed) and calls on_window(const WindowView&) for each window completed, in order.
  template <typename OnWindow>
  Status push(std::span<const double> frames, OnWindow&& on_window) {
    if (frames.size() % channels_ != 0) return size_error(frames.size());
    const std::size_t n = frames.size() / channels_;
    for (std::size_t f = 0; f < n; ++f) {
      write_frame(frames.data() + f * channels_);
      if (seen_ == next_end_) {
        on_window(view());
        ++emitted_;
        next_end_ += increment_;
      }
    }
    return {};
  }

  /// Forgets all samples (as after create()).
  void reset() noexcept;

 private:
  StreamingWindower() = default;
  void write_frame(const double* frame) noexcept {
    const std::size_t pos = seen_ % length_;
    double* b = ring_.data();
    for (std::size_t c = 0; c < channels_; ++c) {
      b[c * 2 * length_ + pos] = frame[c];
      b[c * 2 * length_ + pos + length_] = frame[c];
    }
    ++seen_;
  }
  WindowView view() const noexcept;
  Status size_error(std::size_t size) const;

  std::size_t channels_ = 0, length_ = 0, increment_ = 0;
  std::size_t seen_ = 0, emitted_ = 0, next_end_ = 0;
  std::vector<double> ring_;  ///< [channels x 2*length], mirrored
};

}  // namespace myoexo::dsp
