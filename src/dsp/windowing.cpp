#include "dsp/windowing.hpp"

#include <algorithm>
#include <string>

namespace myoexo::dsp {

void WindowView::copy_channel_major(std::span<double> out) const noexcept {
  const std::size_t need = channels_ * length_;
  if (out.size() < need) return;
  for (std::size_t c = 0; c < channels_; ++c) std::copy_n(base_ + c * stride_, length_, out.data() + c * length_);
}

Result<StreamingWindower> StreamingWindower::create(std::size_t channels, std::size_t length, std::size_t increment) {
  if (channels == 0 || length == 0 || increment == 0)
    return make_error(ErrorCode::invalid_argument,
                      "StreamingWindower: channels, length and increment must all be >= 1 (got " +
                          std::to_string(channels) + ", " + std::to_string(length) + ", " + std::to_string(increment) + ")");
  // The ring holds 2 x length samples per channel; refuse sizes whose product would overflow or that no
  // EMG window needs (2^24 samples is 4.6 hours at 1 kHz).
  constexpr std::size_t kMaxWindowSamples = std::size_t{1} << 24;
  constexpr std::size_t kMaxChannels = 4096;
  if (length > kMaxWindowSamples || increment > kMaxWindowSamples || channels > kMaxChannels)
    return make_error(ErrorCode::invalid_argument,
                      "StreamingWindower: window of " + std::to_string(length) + " samples, increment " +
                          std::to_string(increment) + ", " + std::to_string(channels) +
                          " channels is beyond the supported size (2^24 samples, 4096 channels)");
  StreamingWindower w;
  w.channels_ = channels;
  w.length_ = length;
  w.increment_ = increment;
  w.ring_.assign(channels * 2 * length, 0.0);
  w.reset();
  return w;
}

void StreamingWindower::reset() noexcept {
  seen_ = 0;
  emitted_ = 0;
  next_end_ = length_;
  std::fill(ring_.begin(), ring_.end(), 0.0);
}

WindowView StreamingWindower::view() const noexcept {
  WindowView v;
  // The last `length` samples end at ring position seen_ % length (exclusive) in the mirrored copy.
  v.base_ = ring_.data() + seen_ % length_;
  v.stride_ = 2 * length_;
  v.index_ = emitted_;
  v.start_ = seen_ - length_;
  v.length_ = length_;
  v.channels_ = channels_;
  return v;
}

Status StreamingWindower::size_error(std::size_t size) const {
  return make_error(ErrorCode::mismatch, "StreamingWindower::push: " + std::to_string(size) +
                                             " values is not a whole number of " + std::to_string(channels_) +
                                             "-channel frames");
}

}  // namespace myoexo::dsp
