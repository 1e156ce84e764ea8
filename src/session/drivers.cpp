#include "session/drivers.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <chrono>
#include <cmath>
#include <thread>

namespace myoexo::session {

namespace {
bool stop_requested(const std::atomic<bool>* stop) noexcept { return stop && stop->load(std::memory_order_relaxed); }
}  // namespace

Result<DriverReport> run_stream_clock(Session& session, const DriverOptions& o) {
  DriverReport rep;
  const double dt = session.control_period_s();
  const double fs = session.source().sample_rate_hz();
  const double chunk_s = double(session.spec().read_frames) / fs;
  double avail_s = 0.0;  // stream time up to which EMG has arrived
  std::uint64_t k = 0;
  bool done = false;
  while (!done) {
    if (stop_requested(o.stop)) {
      rep.stopped = true;
      break;
    }
    const Session::PumpResult r = session.pump();
    if (r.status == realtime::ReadStatus::end_of_stream) {
      rep.end_status = r.status;
      break;
    }
    if (r.status == realtime::ReadStatus::error || r.status == realtime::ReadStatus::disconnected) {
      rep.end_status = r.status;
      const std::string why = session.source().last_error();
      return make_error(ErrorCode::io, "the EMG source " + std::string(r.status == realtime::ReadStatus::error ? "failed" : "disconnected") +
                                           " at " + std::to_string(avail_s) + " s" + (why.empty() ? "" : ": " + why));
    }
    // A stall (no data) lets stream time pass without samples: the loop ticks on and the watchdog sees it.
    avail_s = r.status == realtime::ReadStatus::ok ? std::max(avail_s, r.stream_end_s) : avail_s + chunk_s;
    if (o.duration_s > 0 && avail_s >= o.duration_s) {
      avail_s = o.duration_s;
      done = true;
    }
    for (; double(k) * dt <= avail_s; ++k) {
      session.step(double(k) * dt, dt);
      rep.control_time_s = double(k) * dt;
    }
    if (o.service) o.service();
  }
  if (o.service) o.service();
  return rep;
}

Result<DriverReport> run_wall_clock(Session& session, const DriverOptions& o) {
  using clock = std::chrono::steady_clock;
  DriverReport rep;
  std::atomic<bool> finish{false};
  std::atomic<bool> stream_done{false};
  std::atomic<int> end_status{int(realtime::ReadStatus::ok)};
  std::atomic<std::int64_t> stream_done_ns{0};
  const auto origin = clock::time_point(std::chrono::nanoseconds(session.origin_ns()));

  std::thread stream([&] {
    while (!finish.load(std::memory_order_relaxed)) {
      const Session::PumpResult r = session.pump();
      if (r.status == realtime::ReadStatus::end_of_stream || r.status == realtime::ReadStatus::error ||
          r.status == realtime::ReadStatus::disconnected) {
        end_status.store(int(r.status));
        stream_done_ns.store(realtime::steady_now_ns());
        stream_done.store(true, std::memory_order_release);
        return;
      }
    }
  });

  realtime::DurationHistogram jitter, period;
  std::uint64_t misses = 0;
  double last_t = 0.0;
  std::atomic<bool> control_done{false};
  std::atomic<bool> realtime_priority{false};
  std::thread control([&] {
    // The control thread asks for what a real-time loop needs from Linux: the finest timer slack (sleep_until
    // wakes within microseconds instead of the default 50 us) and, where permitted (root, CAP_SYS_NICE or an
    // rtprio limit), SCHED_FIFO above ordinary threads. Without the permission it runs as a normal thread.
    (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    if (o.realtime_priority > 0) {
      sched_param sp{};
      sp.sched_priority = o.realtime_priority;
      realtime_priority.store(::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp) == 0);
    }
    const double dt_nominal = session.control_period_s();
    const auto step = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(dt_nominal));
    auto next = clock::now();
    auto last = next;
    bool first = true;
    for (;;) {
      std::this_thread::sleep_until(next);
      const auto now = clock::now();
      const double t = std::chrono::duration<double>(now - origin).count();
      if (finish.load(std::memory_order_relaxed) || stop_requested(o.stop) || (o.duration_s > 0 && t >= o.duration_s)) break;
      if (stream_done.load(std::memory_order_acquire) &&
          double(realtime::steady_now_ns() - stream_done_ns.load()) * 1e-9 >= o.drain_after_end_s)
        break;
      const double dt = first ? dt_nominal : std::chrono::duration<double>(now - last).count();
      if (!first) period.record_s(dt);
      jitter.record_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(now - next).count());
      first = false;
      last = now;
      session.step(t, dt);
      last_t = t;
      next += step;
      const auto after = clock::now();
      if (next <= after) {  // missed: the next deadline is the first one still ahead
        const auto behind = (after - next) / step + 1;
        misses += std::uint64_t(behind);
        next += step * behind;
      }
    }
    control_done.store(true, std::memory_order_release);
  });

  const auto wall0 = clock::now();
  const auto service_period = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.service_period_s));
  while (!control_done.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(service_period);
    if (o.service) o.service();
  }
  finish.store(true);
  control.join();
  stream.join();
  if (o.service) o.service();
  rep.wall_s = std::chrono::duration<double>(clock::now() - wall0).count();
  rep.control_time_s = last_t;
  rep.tick_jitter = jitter.summary();
  rep.tick_period = period.summary();
  rep.deadline_misses = misses;
  rep.realtime_priority = realtime_priority.load();
  rep.stopped = stop_requested(o.stop);
  rep.end_status = realtime::ReadStatus(end_status.load());
  if (rep.end_status == realtime::ReadStatus::error || rep.end_status == realtime::ReadStatus::disconnected)
    return make_error(ErrorCode::io, std::string("the EMG source ") +
                                         (rep.end_status == realtime::ReadStatus::error ? "failed" : "disconnected for good") +
                                         " after " + std::to_string(last_t) + " s" +
                                         (session.source().last_error().empty() ? std::string()
                                                                                : ": " + session.source().last_error()));
  return rep;
}

}  // namespace myoexo::session
