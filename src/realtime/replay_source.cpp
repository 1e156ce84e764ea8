#include "realtime/replay_source.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "realtime/timing.hpp"

namespace myoexo::realtime {

const char* read_status_name(ReadStatus s) noexcept {
  switch (s) {
    case ReadStatus::ok: return "ok";
    case ReadStatus::no_data: return "no_data";
    case ReadStatus::end_of_stream: return "end_of_stream";
    case ReadStatus::disconnected: return "disconnected";
    case ReadStatus::error: return "error";
  }
  return "unknown";
}

const char* fault_kind_name(FaultKind k) noexcept {
  switch (k) {
    case FaultKind::nan_burst: return "nan_burst";
    case FaultKind::flat_line: return "flat_line";
    case FaultKind::saturation: return "saturation";
    case FaultKind::dropped_chunk: return "dropped_chunk";
    case FaultKind::stall: return "stall";
    case FaultKind::out_of_order: return "out_of_order";
  }
  return "unknown";
}

namespace {

/// Uniform in [0, 1) from the raw 64-bit output (53 bits), identical on every platform.
double uniform01(std::uint64_t& state) noexcept {
  // splitmix64: tiny, well-mixed, fully specified (std distributions are implementation-defined).
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

bool is_sample_fault(FaultKind k) noexcept {
  return k == FaultKind::nan_burst || k == FaultKind::flat_line || k == FaultKind::saturation;
}

}  // namespace

std::vector<FaultEvent> make_random_faults(double duration_s, std::size_t n_channels, std::uint64_t seed,
                                           const RandomFaultOptions& options) {
  std::vector<FaultEvent> events;
  std::uint64_t state = seed;
  const double lo = std::max(0.0, options.min_duration_s);
  const double hi = std::max(lo, options.max_duration_s);
  for (FaultKind kind : options.kinds) {
    for (std::size_t e = 0; e < options.events_per_kind; ++e) {
      FaultEvent ev;
      ev.kind = kind;
      ev.duration_s = lo + (hi - lo) * uniform01(state);
      ev.start_s = std::max(0.0, duration_s - ev.duration_s) * uniform01(state);
      const double u = uniform01(state);
      ev.channel = (is_sample_fault(kind) && n_channels > 0 && u < 0.75)
                       ? static_cast<int>(std::min<std::size_t>(n_channels - 1,
                                                                static_cast<std::size_t>(uniform01(state) * n_channels)))
                       : -1;
      events.push_back(ev);
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.start_s < b.start_s; });
  return events;
}

Result<ReplaySource> ReplaySource::create(io::Recording rec, const ReplayOptions& options) {
  if (options.chunk_frames == 0)
    return make_error(ErrorCode::invalid_argument, "replay: chunk_frames must be >= 1");
  if (!(rec.sample_rate_hz > 0) || !std::isfinite(rec.sample_rate_hz))
    return make_error(ErrorCode::empty, rec.source_path.string(), 0, "replay: recording has no sample rate");
  if (rec.n_samples == 0 || rec.n_channels() == 0 || rec.samples.size() != rec.n_channels() * rec.n_samples)
    return make_error(ErrorCode::empty, rec.source_path.string(), 0, "replay: recording has no samples");

  std::vector<std::size_t> picked;
  if (options.channels.empty()) {
    for (std::size_t c = 0; c < rec.n_channels(); ++c) picked.push_back(c);
  } else {
    for (const auto& name : options.channels) {
      const int idx = rec.channel_index(name);
      if (idx < 0)
        return make_error(ErrorCode::invalid_argument, rec.source_path.string(), 0,
                          "replay: no channel named '" + name + "'");
      picked.push_back(static_cast<std::size_t>(idx));
    }
  }

  ReplaySource src;
  src.rate_hz_ = rec.sample_rate_hz;
  src.n_ = rec.n_samples;
  src.options_ = options;
  src.faults_ = options.faults;
  src.samples_.resize(picked.size() * rec.n_samples);
  for (std::size_t k = 0; k < picked.size(); ++k) {
    const std::size_t c = picked[k];
    src.names_.push_back(rec.channel_names[c]);
    src.units_.push_back(c < rec.channel_units.size() ? rec.channel_units[c] : std::string());
    std::copy_n(rec.samples.data() + c * rec.n_samples, rec.n_samples, src.samples_.data() + k * rec.n_samples);
  }

  // Validate and apply the sample faults once, to our copy: read() then only copies.
  const std::size_t nch = picked.size();
  for (const FaultEvent& ev : src.faults_) {
    if (!(ev.start_s >= 0) || !std::isfinite(ev.start_s) || !(ev.duration_s > 0) || !std::isfinite(ev.duration_s))
      return make_error(ErrorCode::invalid_argument,
                        std::string("replay: fault ") + fault_kind_name(ev.kind) + " needs start_s >= 0, duration_s > 0");
    if (ev.channel < -1 || (ev.channel >= 0 && static_cast<std::size_t>(ev.channel) >= nch))
      return make_error(ErrorCode::invalid_argument,
                        std::string("replay: fault ") + fault_kind_name(ev.kind) + " names channel " +
                            std::to_string(ev.channel) + " of " + std::to_string(nch));
    if (!is_sample_fault(ev.kind)) continue;
    const auto i0 = static_cast<std::size_t>(std::ceil(ev.start_s * src.rate_hz_ - 1e-9));
    const auto i1 = std::min(src.n_, static_cast<std::size_t>(std::ceil((ev.start_s + ev.duration_s) * src.rate_hz_ - 1e-9)));
    if (i0 >= i1) continue;
    for (std::size_t c = 0; c < nch; ++c) {
      if (ev.channel >= 0 && static_cast<std::size_t>(ev.channel) != c) continue;
      double* x = src.samples_.data() + c * src.n_;
      switch (ev.kind) {
        case FaultKind::nan_burst:
          std::fill(x + i0, x + i1, std::numeric_limits<double>::quiet_NaN());
          src.stats_.nan_samples += i1 - i0;
          break;
        case FaultKind::flat_line: {
          const double v = x[i0];
          std::fill(x + i0, x + i1, v);
          src.stats_.flat_samples += i1 - i0;
          break;
        }
        case FaultKind::saturation: {
          double rail = ev.value;
          if (rail == 0.0) {
            for (std::size_t i = 0; i < src.n_; ++i)
              if (std::isfinite(x[i])) rail = std::max(rail, std::abs(x[i]));
          }
          std::fill(x + i0, x + i1, rail);
          src.stats_.saturated_samples += i1 - i0;
          break;
        }
        default: break;
      }
    }
  }
  src.stall_used_.assign(src.faults_.size(), false);
  return src;
}

Status ReplaySource::start() {
  next_frame_ = 0;
  pending_stall_reads_ = 0;
  std::fill(stall_used_.begin(), stall_used_.end(), false);
  const ReplayStats sample_counts = stats_;
  stats_ = ReplayStats{};
  stats_.nan_samples = sample_counts.nan_samples;
  stats_.flat_samples = sample_counts.flat_samples;
  stats_.saturated_samples = sample_counts.saturated_samples;
  start_ns_ = steady_now_ns();
  return {};
}

bool ReplaySource::in_event(FaultKind kind, double t_s, std::size_t* index) const noexcept {
  for (std::size_t e = 0; e < faults_.size(); ++e) {
    const FaultEvent& ev = faults_[e];
    if (ev.kind == kind && t_s >= ev.start_s && t_s < ev.start_s + ev.duration_s) {
      if (index) *index = e;
      return true;
    }
  }
  return false;
}

ReadResult ReplaySource::read(std::span<double> out) noexcept {
  ReadResult r;
  const std::size_t nch = names_.size();
  const std::size_t chunk = options_.chunk_frames;
  const double chunk_s = static_cast<double>(chunk) / rate_hz_;

  // Dropped chunks are skipped without a read: the stream time of the next one jumps.
  while (next_frame_ < n_ && in_event(FaultKind::dropped_chunk, static_cast<double>(next_frame_) / rate_hz_)) {
    const std::size_t m = std::min(chunk, n_ - next_frame_);
    next_frame_ += m;
    ++stats_.chunks_dropped;
    stats_.frames_dropped += m;
  }
  if (next_frame_ >= n_) {
    r.status = ReadStatus::end_of_stream;
    return r;
  }
  const double t0 = static_cast<double>(next_frame_) / rate_hz_;
  const std::size_t m = std::min({chunk, n_ - next_frame_, out.size() / std::max<std::size_t>(nch, 1)});
  if (m == 0) {
    r.status = ReadStatus::error;  // caller's buffer holds less than one frame
    return r;
  }

  std::size_t stall = 0;
  const bool stalled = in_event(FaultKind::stall, t0, &stall);
  if (options_.pace == ReplayPace::fast) {
    if (stalled && !stall_used_[stall]) {
      stall_used_[stall] = true;
      ++stats_.stalls;
      pending_stall_reads_ = static_cast<std::size_t>(std::ceil(faults_[stall].duration_s / chunk_s));
    }
    if (pending_stall_reads_ > 0) {
      --pending_stall_reads_;
      ++stats_.stall_reads;
      r.status = ReadStatus::no_data;
      return r;
    }
  } else {
    double due_s = static_cast<double>(next_frame_ + m) / rate_hz_;
    if (stalled) {
      if (!stall_used_[stall]) {
        stall_used_[stall] = true;
        ++stats_.stalls;
      }
      due_s = std::max(due_s, faults_[stall].start_s + faults_[stall].duration_s);
    }
    const std::int64_t due_ns = start_ns_ + static_cast<std::int64_t>(due_s * 1e9);
    const std::int64_t now = steady_now_ns();
    if (due_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due_ns - now));
  }

  for (std::size_t j = 0; j < m; ++j)
    for (std::size_t c = 0; c < nch; ++c) out[j * nch + c] = samples_[c * n_ + next_frame_ + j];
  r.status = ReadStatus::ok;
  r.frames = m;
  r.first_sample_s = t0;
  if (in_event(FaultKind::out_of_order, t0)) {
    r.first_sample_s = t0 - 2.0 * chunk_s;
    ++stats_.out_of_order_chunks;
  }
  r.arrival_ns = steady_now_ns();
  next_frame_ += m;
  ++stats_.chunks_delivered;
  stats_.frames_delivered += m;
  return r;
}

}  // namespace myoexo::realtime
