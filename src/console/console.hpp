// myoexo::console — the operator console: a small HTTP server that shows a live session in the browser and lets
// an operator stop it.
//
// The host (myoexo run/serve) drains the session as usual and hands each telemetry row and EMG chunk to feed_*();
// publish() turns what arrived since the last frame into one JSON frame (at most frame_hz a second) that every
// viewer receives over Server-Sent Events. Viewers never touch the session: a slow or stalled browser only loses
// frames (counted per viewer), never a control tick. Commands (emergency stop, reset, resume, stream on/off) are
// HTTP POSTs that need the per-session token printed at start; read-only viewers need none. Commands from a page
// of another origin are refused. The server binds 127.0.0.1 unless told otherwise, and a non-loopback address
// needs allow_remote.
//
// Endpoints: GET / (the page, its script and uPlot, all built into the program), GET /api/info (session, model,
// classes, channels), GET /api/stream (SSE frames), GET /api/stats, POST /api/command {"command": "...", "token"}.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dsp/sos_filter.hpp"
#include "session/session.hpp"

namespace myoexo::console {

struct ConsoleOptions {
  std::string bind = "127.0.0.1";
  int port = 8765;                  ///< 0 = any free port
  bool allow_remote = false;        ///< required to bind anything but a loopback address
  std::string token;                ///< empty = a fresh random token
  double frame_hz = 30.0;           ///< telemetry frames per second, (0, 60]
  std::size_t max_viewers = 16;     ///< concurrent telemetry streams
  std::size_t frames_kept = 64;     ///< frames a viewer may lag before it loses the oldest
  std::size_t max_body_bytes = 4096;
  std::size_t max_commands_per_s = 50;  ///< authenticated commands per second; beyond: 429 (never an e-stop)
  bool reference_knee = false;      ///< the host feeds a recorded knee angle (a replay's goniometer) with each tick
};

struct ConsoleStats {
  std::uint64_t frames_published = 0;
  std::uint64_t frames_dropped = 0;       ///< summed over viewers: frames a viewer was too slow to receive
  std::uint64_t viewers_now = 0, viewers_total = 0, viewers_refused = 0;
  std::uint64_t commands_accepted = 0, commands_refused = 0;
};

/// True for addresses the console may bind without allow_remote (127.0.0.0/8, ::1, localhost).
bool is_loopback_address(const std::string& address);

class ConsoleServer {
 public:
  /// Validates options (loopback unless allow_remote), makes the token. Does not listen yet.
  static Result<std::unique_ptr<ConsoleServer>> create(const ConsoleOptions& options, session::Session& session);
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  /// Binds and serves on a thread of its own. Errors: io (the address or port cannot be bound).
  Status start();
  /// Stops serving and joins; safe to call twice.
  void stop();
  int port() const noexcept { return port_; }
  const std::string& token() const noexcept { return token_; }
  std::string url() const;

  // ---- host thread ----
  /// One control tick; `reference_knee_deg` = the recorded knee angle at that time (a replay's goniometer), or NaN.
  void feed_tick(const session::TickTelemetry& row, double reference_knee_deg = std::numeric_limits<double>::quiet_NaN());
  /// Converted EMG frames (interleaved, model channel order) as they left the session.
  void feed_emg(std::span<const double> frames, double first_sample_s, std::int64_t arrival_ns = 0);
  void feed_decision(const realtime::Decision& d);
  void feed_event(const control::SafetyEvent& e);
  /// A recording start (true) or stop (false) asked for from the console since the last call; the host records.
  std::optional<bool> take_recording_request();
  /// What the host is recording to now ("" = nothing), shown in the page.
  void set_recording(const std::string& path) { recording_path_ = path; }
  /// The cue protocol's state for the page (null = none): {"protocol", "state" ready|running|done, "prompt",
  /// "label", "remaining_s", "next", "index", "count", "elapsed_s", "length_s"}; sent with every frame.
  void set_cue(nlohmann::json cue) { cue_ = std::move(cue); }
  /// Publishes one frame when 1/frame_hz has passed since the last one.
  void publish(bool force = false);

  ConsoleStats stats() const;

 private:
  ConsoleServer() = default;
  nlohmann::json info_json() const;
  struct Reply {
    int status;
    std::string body;
  };
  Reply handle_command(const std::string& body, const std::string& origin_header, const std::string& host_header,
                       const std::string& token_header);

  ConsoleOptions opt_;
  session::Session* session_ = nullptr;
  std::string token_;
  int port_ = 0;
  struct Http;
  std::unique_ptr<Http> http_;
  std::thread thread_;

  // Frames for viewers.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::uint64_t, std::string>> frames_;  // (sequence, "data: ...\n\n")
  std::uint64_t seq_ = 0;
  bool stopping_ = false;
  std::atomic<std::uint64_t> frames_dropped_{0}, viewers_now_{0}, viewers_total_{0}, viewers_refused_{0};
  std::atomic<std::uint64_t> commands_accepted_{0}, commands_refused_{0};
  std::atomic<int> recording_request_{-1};  // -1 none, 0 stop, 1 start
  std::string recording_path_;
  nlohmann::json cue_;  // null: no cue protocol
  std::atomic<std::int64_t> estop_request_ns_{0};  // an accepted stop not yet seen cutting the torque
  std::vector<double> estop_cut_ms_;               // request received -> the tick that cut the torque (under mu_)
  std::mutex cmd_mu_;
  std::deque<std::int64_t> recent_commands_ns_;

  // Accumulated by the host between frames.
  std::int64_t last_publish_ns_ = 0;
  nlohmann::json ticks_, emg_raw_, emg_filtered_, decisions_, events_;
  std::optional<session::TickTelemetry> last_tick_;
  std::atomic<bool> hardware_ok_{true};  // the last tick's hardware state, read by the HTTP thread (reset refusal)
  std::size_t tick_stride_ = 1, tick_count_ = 0;
  std::optional<dsp::SosFilter> filter_;
  std::vector<double> filtered_;
  // Electrode quality over the last second, per channel.
  struct Quality {
    std::deque<double> raw;
    std::deque<double> filtered;
  };
  std::vector<Quality> quality_;
  double emg_t0_ = 0.0, emg_t_end_ = 0.0;
  std::int64_t emg_arrival_ns_ = 0;  // arrival of the newest EMG chunk (steady clock)
  realtime::DurationHistogram decision_latency_;  // arrival -> decision, reset every frame window
  realtime::DurationHistogram tick_jitter_;       // |measured period - nominal| from the ticks' times, per frame
  double last_tick_t_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace myoexo::console
