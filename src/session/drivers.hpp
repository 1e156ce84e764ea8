// myoexo::session — the two ways to run a Session.
//
// run_stream_clock: one thread, the control time is the stream's time (deterministic: the same recording gives
//   the same ticks, decisions and commands on any machine). The source is read until EMG up to the next tick has
//   arrived (an injected stall lets simulated time pass without data), then the tick runs. For replays.
// run_wall_clock: the control loop ticks on its own thread at control_hz with absolute deadlines (sleep_until,
//   skipping ahead after a miss instead of bursting), so the watchdog is checked every period whatever the
//   stream does; a second thread pumps the stream; the calling thread services the host (telemetry, safety log)
//   every service period. For boards and real-time replays.
#pragma once

#include <atomic>
#include <functional>

#include "core/error.hpp"
#include "realtime/timing.hpp"
#include "session/session.hpp"

namespace myoexo::session {

struct DriverOptions {
  double duration_s = 0.0;                     ///< stop after this much control time (0 = until the stream ends)
  const std::atomic<bool>* stop = nullptr;     ///< set by another thread (Ctrl-C) to end the run in order
  std::function<void()> service;               ///< host work (drain telemetry, write logs); calling thread
  double service_period_s = 0.01;              ///< wall clock: how often `service` runs
  int realtime_priority = 80;                  ///< wall clock: SCHED_FIFO priority asked for the control thread (0 = none)
  double drain_after_end_s = 0.1;              ///< wall clock: keep ticking this long after the stream ended (the
                                               ///< last decisions reach the loop)
};

struct DriverReport {
  double control_time_s = 0.0;                 ///< time of the last tick
  realtime::ReadStatus end_status = realtime::ReadStatus::ok;  ///< why the stream ended (ok: duration or stop)
  bool stopped = false;                        ///< ended by the stop flag
  // wall clock only
  realtime::DurationSummary tick_jitter;       ///< tick start - its deadline
  realtime::DurationSummary tick_period;       ///< measured period between tick starts
  std::uint64_t deadline_misses = 0;           ///< deadlines passed before the previous tick returned
  bool realtime_priority = false;              ///< the control thread got SCHED_FIFO
  double wall_s = 0.0;
};

/// Runs `session` (activated) in stream time. Errors: the source failed.
Result<DriverReport> run_stream_clock(Session& session, const DriverOptions& options = {});
/// Runs `session` (activated) on the wall clock (see above). Errors: the source failed.
Result<DriverReport> run_wall_clock(Session& session, const DriverOptions& options = {});

}  // namespace myoexo::session
