#include "realtime/acquisition.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "realtime/timing.hpp"

namespace myoexo::realtime {

namespace {

bool stop_requested(const std::atomic<bool>* stop) noexcept {
  return stop && stop->load(std::memory_order_relaxed);
}

void sleep_checking(double seconds, const std::atomic<bool>* stop) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end && !stop_requested(stop))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

/// Reads once, reconnecting after a disconnect as the policy allows; keeps the report's counters.
class Acquirer {
 public:
  Acquirer(EmgSource& source, const ReconnectPolicy& policy, const std::atomic<bool>* stop, SessionReport& report)
      : source_(source), policy_(policy), stop_(stop), rep_(report) {}

  ReadResult read(std::span<double> out) {
    for (;;) {
      ReadResult r = source_.read(out);
      if (r.status == ReadStatus::ok) {
        const double fs = source_.sample_rate_hz();
        if (have_ && r.first_sample_s > expected_s_ + 0.5 / fs) ++rep_.runs_after_gap;
        have_ = true;
        expected_s_ = r.first_sample_s + static_cast<double>(r.frames) / fs;
        rep_.frames += r.frames;
        rep_.stream_duration_s = std::max(rep_.stream_duration_s, expected_s_);
        return r;
      }
      if (r.status != ReadStatus::disconnected) return r;
      ++rep_.disconnects;
      bool back = false;
      for (std::size_t attempt = 0; attempt < policy_.max_attempts && !stop_requested(stop_); ++attempt) {
        sleep_checking(policy_.interval_s, stop_);
        if (stop_requested(stop_)) break;
        if (source_.start().ok()) {
          back = true;
          break;
        }
      }
      if (!back) return r;
      ++rep_.reconnects;
    }
  }

 private:
  EmgSource& source_;
  ReconnectPolicy policy_;
  const std::atomic<bool>* stop_;
  SessionReport& rep_;
  bool have_ = false;
  double expected_s_ = 0.0;
};

}  // namespace

double SessionReport::file_seconds(double t) const noexcept {
  double lost_before = 0.0;
  for (const auto& g : gaps) {
    if (t >= g.stream_s) {
      lost_before += g.lost_s;
    } else {
      if (t > g.stream_s - g.lost_s) return g.file_s;  // inside the gap
      break;
    }
  }
  return t - first_stream_s - lost_before;
}

namespace {

bool duration_reached(const SessionReport& rep, double duration_s) noexcept {
  return duration_s > 0 && rep.stream_duration_s >= duration_s;
}

}  // namespace

Result<SessionReport> record_session(EmgSource& source, const std::filesystem::path& out,
                                     const RecordSessionOptions& options) {
  if (options.read_frames == 0) return make_error(ErrorCode::invalid_argument, "record: read_frames must be >= 1");
  auto rec = Recorder::create(out, source.channel_names(), source.channel_units(), source.sample_rate_hz(),
                              options.recorder);
  if (!rec) return rec.error();
  Status s = source.start();
  if (!s) return s.error();
  SessionReport rep;
  Acquirer acq(source, options.reconnect, options.stop, rep);
  const double fs = source.sample_rate_hz();
  bool have_next = false;
  double next_s = 0.0;  // stream time the next frame should carry
  std::vector<double> buf(options.read_frames * source.n_channels());
  for (;;) {
    if (stop_requested(options.stop) || duration_reached(rep, options.duration_s)) {
      rep.end_status = ReadStatus::ok;
      break;
    }
    ReadResult r = acq.read(buf);
    if (r.status == ReadStatus::ok && options.duration_s > 0) {
      // The last read may run past --seconds: keep what falls before it (the recording is exactly that long).
      const double room = std::ceil((options.duration_s - r.first_sample_s) * fs - 1e-6);
      const std::size_t keep = room <= 0 ? 0 : std::min<std::size_t>(r.frames, static_cast<std::size_t>(room));
      if (keep < r.frames) {
        rep.frames -= r.frames - keep;
        rep.stream_duration_s = std::max(r.first_sample_s, options.duration_s);
        r.frames = keep;
      }
    }
    if (r.status == ReadStatus::ok) {
      if (r.frames == 0) continue;  // all past the duration: the loop ends above
      if (!have_next) {
        have_next = true;
        rep.first_stream_s = r.first_sample_s;
      } else if (r.first_sample_s - next_s > 0.5 / fs) {
        const double lost = r.first_sample_s - next_s;
        rep.gaps.push_back({rec->written_s(), r.first_sample_s, lost});
        rec->annotate({rec->written_s(), 0.0,
                       "gap: " + std::to_string(static_cast<long long>(std::llround(lost * fs))) + " samples lost"});
      }
      next_s = r.first_sample_s + static_cast<double>(r.frames) / fs;
      Status w = rec->append(std::span<const double>(buf.data(), r.frames * source.n_channels()), r.first_sample_s);
      if (!w) {
        source.stop();
        return w.error();
      }
      if (options.on_progress) options.on_progress(rep.stream_duration_s);
    } else if (r.status != ReadStatus::no_data) {
      rep.end_status = r.status;
      break;
    }
  }
  source.stop();
  if (options.labels_at_end) rec->set_labels(options.labels_at_end(rep));
  Status f = rec->finish();
  if (!f) return f.error();
  if (rep.end_status == ReadStatus::error)
    return make_error(ErrorCode::io, out.string(), 0,
                      "record: the source failed after " + std::to_string(rep.frames) + " frames" +
                          (source.last_error().empty() ? std::string() : ": " + source.last_error()));
  return rep;
}

}  // namespace myoexo::realtime
