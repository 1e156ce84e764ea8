#include "console/console.hpp"

// Commands are small requests that must not wait for a delayed ACK (Nagle): no-delay sockets.
#define CPPHTTPLIB_TCP_NODELAY true
#include <httplib.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>

#include "console/command.hpp"
#include "console/web_assets.hpp"
#include "realtime/timing.hpp"

namespace myoexo::console {

using nlohmann::json;

struct ConsoleServer::Http {
  httplib::Server server;
};

void serve_web_assets(httplib::Server& svr) {
  auto asset = [&](const char* path, const char* type) {
    svr.Get(path, [path, type](const httplib::Request&, httplib::Response& res) {
      const auto a = web_asset(path);
      if (a.empty()) {
        res.status = 404;
        return;
      }
      res.set_header("Cache-Control", "no-store");
      res.set_content(std::string(a), type);
    });
  };
  asset("/", "text/html; charset=utf-8");
  asset("/console.js", "text/javascript; charset=utf-8");
  asset("/uPlot.iife.min.js", "text/javascript; charset=utf-8");
  asset("/uPlot.min.css", "text/css; charset=utf-8");
}

bool is_loopback_address(const std::string& host) {
  if (host == "localhost") return true;
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return false;
}

namespace {

std::string random_token() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string t;
  for (int i = 0; i < 32; ++i) t += "0123456789abcdef"[hex(rd)];
  return t;
}

double round_to(double v, double q) { return std::isfinite(v) ? std::round(v / q) * q : 0.0; }

// Share of the signal's power at 50 Hz or 60 Hz (whichever is larger) and their first harmonics, by Goertzel.
double line_noise_share(const std::deque<double>& x, double fs) {
  if (x.size() < 64) return 0.0;
  double mean = 0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  double total = 0;
  for (double v : x) total += (v - mean) * (v - mean);
  if (!(total > 0)) return 0.0;
  auto power = [&](double f) {
    const double w = 2 * M_PI * f / fs, c = 2 * std::cos(w);
    double s1 = 0, s2 = 0;
    for (double v : x) {
      const double s0 = (v - mean) + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 2.0 * p / double(x.size());  // energy of that sinusoid over the window
  };
  double best = 0;
  for (double base : {50.0, 60.0}) {
    double p = 0;
    for (int h = 1; h <= 3; ++h)
      if (h * base < fs / 2) p += power(h * base);
    best = std::max(best, p);
  }
  return std::clamp(best / total, 0.0, 1.0);
}

}  // namespace

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::create(const ConsoleOptions& options, session::Session& session) {
  if (!is_loopback_address(options.bind) && !options.allow_remote)
    return make_error(ErrorCode::invalid_argument,
                      "console: refusing to bind " + options.bind +
                          ", which is not a loopback address (anyone who reaches it could watch the session); "
                          "pass --allow-remote to do it on purpose (commands still need the token)");
  if (options.port < 0 || options.port > 65535) return make_error(ErrorCode::invalid_argument, "console: port must be in [0, 65535]");
  if (!(options.frame_hz > 0 && options.frame_hz <= 60))
    return make_error(ErrorCode::invalid_argument, "console: frame_hz must be in (0, 60]");
  if (options.max_viewers == 0 || options.frames_kept == 0)
    return make_error(ErrorCode::invalid_argument, "console: max_viewers and frames_kept must be >= 1");
  if (!options.token.empty() && options.token.size() < 16)
    return make_error(ErrorCode::invalid_argument, "console: a token must have at least 16 characters");
  std::unique_ptr<ConsoleServer> c(new ConsoleServer());
  c->opt_ = options;
  c->session_ = &session;
  c->token_ = options.token.empty() ? random_token() : options.token;
  c->http_ = std::make_unique<Http>();
  const session::PipelineModel& m = session.model();
  const std::size_t nch = m.channels.size();
  c->quality_.resize(nch);
  auto design = session::design_model_filter(m, m.sample_rate_hz);
  if (!design) return design.error();
  if (*design) {
    auto f = dsp::SosFilter::create(**design, nch);
    if (!f) return f.error();
    c->filter_.emplace(std::move(*f));
  }
  c->tick_stride_ = std::max<std::size_t>(1, std::size_t(std::lround(session.spec().control_hz / 100.0)));
  c->ticks_ = json::object();
  c->emg_raw_ = json::array();
  c->emg_filtered_ = json::array();
  for (std::size_t k = 0; k < nch; ++k) c->emg_raw_.push_back(json::array()), c->emg_filtered_.push_back(json::array());
  c->decisions_ = json::array();
  c->events_ = json::array();
  return c;
}

ConsoleServer::~ConsoleServer() { stop(); }

std::string ConsoleServer::url() const {
  const std::string host = opt_.bind.find(':') != std::string::npos ? "[" + opt_.bind + "]" : opt_.bind;
  return "http://" + host + ":" + std::to_string(port_) + "/";
}

json ConsoleServer::info_json() const {
  const session::PipelineModel& m = session_->model();
  json classes = json::array(), intents = json::array();
  for (const auto& c : session::model_class_names(m)) classes.push_back(c);
  for (auto i : session_->class_intents()) intents.push_back(control::intent_label_name(i));
  const auto& L = session_->loop().spec().supervisor.limits;
  json limits = json::array();
  for (const auto& l : L) limits.push_back({{"min_deg", l.position_min_rad * 180 / M_PI}, {"max_deg", l.position_max_rad * 180 / M_PI}});
  return {{"program", "myoexo"},
          {"channels", m.channels},
          {"unit", m.signal_unit},
          {"sample_rate_hz", m.sample_rate_hz},
          {"filter", session::describe_model_filter(m)},
          {"classes", classes},
          {"class_intents", intents},
          {"rejection_threshold", session_->spec().post.rejection_threshold},
          {"control_hz", session_->spec().control_hz},
          {"clock", session_->spec().clock == session::SessionClock::wall ? "wall" : "stream"},
          {"input", session_->conversion().description},
          {"joint_limits", limits},
          {"frame_hz", opt_.frame_hz},
          {"reference_knee", opt_.reference_knee},
          {"knee_estimate", m.knee_angle != nullptr}};
}

Status ConsoleServer::start() {
  httplib::Server& svr = http_->server;
  svr.new_task_queue = [n = opt_.max_viewers + 8] { return new httplib::ThreadPool(n); };
  svr.set_payload_max_length(opt_.max_body_bytes);
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  serve_web_assets(svr);
  svr.Get("/api/info", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(info_json().dump(), "application/json");
  });
  svr.Get("/api/stats", [this](const httplib::Request&, httplib::Response& res) {
    const ConsoleStats s = stats();
    res.set_content(json{{"frames_published", s.frames_published},
                         {"frames_dropped", s.frames_dropped},
                         {"viewers_now", s.viewers_now},
                         {"viewers_total", s.viewers_total},
                         {"viewers_refused", s.viewers_refused},
                         {"commands_accepted", s.commands_accepted},
                         {"commands_refused", s.commands_refused},
                         {"stop_latched", session_->stop_latched()},
                         {"estop_to_torque_cut_ms", [&] {
                            std::lock_guard<std::mutex> lk(mu_);
                            return estop_cut_ms_;
                          }()}}
                        .dump(),
                    "application/json");
  });
  svr.Get("/api/stream", [this](const httplib::Request&, httplib::Response& res) {
    if (viewers_now_.fetch_add(1) >= opt_.max_viewers) {
      viewers_now_.fetch_sub(1);
      ++viewers_refused_;
      res.status = 503;
      res.set_content("{\"error\":\"too many viewers\"}", "application/json");
      return;
    }
    ++viewers_total_;
    res.set_header("Cache-Control", "no-store");
    auto next = std::make_shared<std::uint64_t>(0);
    {
      std::lock_guard<std::mutex> lk(mu_);
      *next = frames_.empty() ? seq_ : frames_.back().first;  // start with the newest frame
    }
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, next](std::size_t, httplib::DataSink& sink) {
          std::string out;
          {
            std::unique_lock<std::mutex> lk(mu_);
            cv_.wait_for(lk, std::chrono::milliseconds(500),
                         [&] { return stopping_ || (!frames_.empty() && frames_.back().first >= *next); });
            if (stopping_) return false;
            if (frames_.empty() || frames_.back().first < *next) {
              out = ": keep-alive\n\n";
            } else {
              if (frames_.front().first > *next) {  // this viewer fell behind: the oldest frames are gone
                frames_dropped_ += frames_.front().first - *next;
                *next = frames_.front().first;
              }
              for (const auto& [seq, text] : frames_)
                if (seq >= *next) out += text;
              *next = frames_.back().first + 1;
            }
          }
          return sink.write(out.data(), out.size());
        },
        [this](bool) { viewers_now_.fetch_sub(1); });
  });
  svr.Post("/api/command", [this](const httplib::Request& req, httplib::Response& res) {
    const Reply r = handle_command(req.body, req.get_header_value("Origin"), req.get_header_value("Host"),
                                   req.get_header_value("X-Myoexo-Token"));
    res.status = r.status;
    res.set_content(r.body, "application/json");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty())
      res.set_content("{\"error\":\"" + std::to_string(res.status) + "\"}",
                      "application/json");
  });
  port_ = opt_.port == 0 ? svr.bind_to_any_port(opt_.bind) : (svr.bind_to_port(opt_.bind, opt_.port) ? opt_.port : -1);
  if (port_ <= 0)
    return make_error(ErrorCode::io, "console: cannot listen on " + opt_.bind + ":" + std::to_string(opt_.port) +
                                         " (in use, or not an address of this machine)");
  thread_ = std::thread([this] { http_->server.listen_after_bind(); });
  return {};
}

void ConsoleServer::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (http_) http_->server.stop();
  if (thread_.joinable()) thread_.join();
}

ConsoleServer::Reply ConsoleServer::handle_command(const std::string& body, const std::string& origin,
                                                   const std::string& host, const std::string& token_header) {
  auto refuse = [&](int status, const std::string& why) {
    ++commands_refused_;
    return Reply{status, json{{"ok", false}, {"error", why}}.dump()};
  };
  // A page of another origin must not steer the leg through the operator's browser.
  if (!origin.empty() && origin != "http://" + host) return refuse(403, "commands from another origin are refused");
  // Authenticated first: requests without the token are refused without counting against the rate limit, so
  // nobody who can merely reach the port can use it up. An emergency stop is never rate limited.
  const ParsedCommand pc = parse_command(body, token_header, token_);
  if (!pc.ok) return refuse(pc.status, pc.error);
  if (pc.kind != CommandKind::estop) {
    std::lock_guard<std::mutex> lk(cmd_mu_);
    const std::int64_t now = realtime::steady_now_ns();
    while (!recent_commands_ns_.empty() && now - recent_commands_ns_.front() > 1'000'000'000) recent_commands_ns_.pop_front();
    if (recent_commands_ns_.size() >= opt_.max_commands_per_s) return refuse(429, "too many commands");
    recent_commands_ns_.push_back(now);
  }
  switch (pc.kind) {
    case CommandKind::estop:
      estop_request_ns_.store(realtime::steady_now_ns());
      session_->request_emergency_stop();  // always accepted from an authenticated client
      break;
    case CommandKind::reset:
      if (!hardware_ok_.load(std::memory_order_acquire))
        return refuse(409, "the hardware still reports a fault: reset refused");
      session_->request_reset();
      break;
    case CommandKind::resume: session_->request_resume(); break;
    case CommandKind::stream_on: session_->request_stream(true); break;
    case CommandKind::stream_off: session_->request_stream(false); break;
    case CommandKind::record_start: recording_request_.store(1); break;
    case CommandKind::record_stop: recording_request_.store(0); break;
  }
  const std::string cmd = command_name(pc.kind);
  ++commands_accepted_;
  return Reply{200, json{{"ok", true}, {"command", cmd}}.dump()};
}

std::optional<bool> ConsoleServer::take_recording_request() {
  const int r = recording_request_.exchange(-1);
  if (r < 0) return std::nullopt;
  return r == 1;
}

void ConsoleServer::feed_tick(const session::TickTelemetry& r, double reference_knee_deg) {
  last_tick_ = r;
  hardware_ok_.store(r.hardware_ok, std::memory_order_release);
  if (std::isfinite(last_tick_t_))
    tick_jitter_.record_s(std::abs((r.t_s - last_tick_t_) - 1.0 / session_->spec().control_hz));
  last_tick_t_ = r.t_s;
  // Request -> torque cut, timed by the tick itself (its control time on the session's steady-clock origin), not
  // by when this host thread got to see it.
  if (const std::int64_t req = estop_request_ns_.load(); req != 0 && r.mode == control::SupervisorMode::emergency_stop &&
                                                          r.tau[0] == 0.0 && r.tau[1] == 0.0) {
    const std::int64_t tick_ns = session_->origin_ns() + std::int64_t(r.t_s * 1e9);
    if (tick_ns >= req) {
      std::lock_guard<std::mutex> lk(mu_);
      estop_cut_ms_.push_back(double(tick_ns - req) * 1e-6);
      estop_request_ns_.store(0);
    }
  }
  if (tick_count_++ % tick_stride_ != 0) return;
  auto push = [&](const char* k, double v) { ticks_[k].push_back(v); };
  push("t", round_to(r.t_s, 1e-4));
  push("hip_sp", round_to(r.setpoint[0] * 180 / M_PI, 1e-3));
  push("hip_q", round_to(r.q[0] * 180 / M_PI, 1e-3));
  push("knee_sp", round_to(r.setpoint[1] * 180 / M_PI, 1e-3));
  push("knee_q", round_to(r.q[1] * 180 / M_PI, 1e-3));
  push("hip_tau", round_to(r.tau[0], 1e-3));
  push("knee_tau", round_to(r.tau[1], 1e-3));
  if (opt_.reference_knee) push("knee_ref", std::isfinite(reference_knee_deg) ? round_to(reference_knee_deg, 1e-2) : 0.0);
  // The knee angle estimated from EMG (models with a regressor); null until the first estimate.
  if (session_->model().knee_angle) {
    if (std::isfinite(r.knee_estimate_deg)) push("knee_est", round_to(r.knee_estimate_deg, 1e-2));
    else ticks_["knee_est"].push_back(nullptr);
  }
  ticks_["mode"].push_back(control::supervisor_mode_name(r.mode));
  ticks_["active"].push_back(control::intent_label_name(r.active));
}

void ConsoleServer::feed_emg(std::span<const double> frames, double first_sample_s, std::int64_t arrival_ns) {
  if (arrival_ns > 0) emg_arrival_ns_ = arrival_ns;
  const std::size_t nch = quality_.size();
  const std::size_t n = frames.size() / nch;
  const double fs = session_->model().sample_rate_hz;
  filtered_.assign(frames.begin(), frames.end());
  if (filter_) (void)filter_->process(filtered_, filtered_);
  if (!emg_raw_.empty() && emg_raw_[0].empty()) emg_t0_ = first_sample_s;
  const std::size_t keep = std::size_t(fs);  // one second for the quality figures
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < nch; ++c) {
      const double x = frames[i * nch + c], y = filtered_[i * nch + c];
      emg_raw_[c].push_back(round_to(x, 1e-5));
      emg_filtered_[c].push_back(round_to(y, 1e-5));
      auto& q = quality_[c];
      q.raw.push_back(x);
      q.filtered.push_back(y);
      if (q.raw.size() > keep) q.raw.pop_front(), q.filtered.pop_front();
    }
  emg_t_end_ = first_sample_s + double(n) / fs;
}

void ConsoleServer::feed_decision(const realtime::Decision& d) {
  json p = json::array();
  for (std::size_t k = 0; k < d.n_probabilities; ++k) p.push_back(round_to(d.probabilities[k], 1e-4));
  decisions_.push_back({{"t", round_to(d.intent.window_end_s, 1e-4)},
                        {"intent", control::intent_label_name(d.intent.label)},
                        {"rejected", d.rejected},
                        {"p", p}});
  decision_latency_.record_ns(d.emit_ns - d.last_sample_arrival_ns);
}

void ConsoleServer::feed_event(const control::SafetyEvent& e) {
  events_.push_back({{"t", e.t_s}, {"reason", control::safety_reason_name(e.reason)}, {"joint", e.joint}, {"value", e.value}});
}

void ConsoleServer::publish(bool force) {
  const std::int64_t now = realtime::steady_now_ns();
  if (!force && now - last_publish_ns_ < std::int64_t(1e9 / opt_.frame_hz)) return;
  last_publish_ns_ = now;
  json f;
  f["seq"] = seq_;
  f["ticks"] = std::move(ticks_);
  f["emg"] = {{"t0", emg_t0_},
              {"fs", session_->model().sample_rate_hz},
              {"t_end", emg_t_end_},
              {"raw", std::move(emg_raw_)},
              {"filtered", std::move(emg_filtered_)}};
  f["decisions"] = std::move(decisions_);
  f["events"] = std::move(events_);
  if (last_tick_) {
    const auto& r = *last_tick_;
    json ch = json::array();
    const double fs = session_->model().sample_rate_hz;
    for (std::size_t c = 0; c < quality_.size(); ++c) {
      const auto& q = quality_[c];
      double dc = 0, ss = 0;
      for (double v : q.raw) dc += v;
      for (double v : q.filtered) ss += v * v;
      dc = q.raw.empty() ? 0 : dc / double(q.raw.size());
      const unsigned bits = unsigned((r.channel_faults >> (4 * c)) & 0xF);
      char names[96];
      control::sensor_fault_names(bits, names, sizeof names);
      ch.push_back({{"rms", q.filtered.empty() ? 0.0 : std::sqrt(ss / double(q.filtered.size()))},
                    {"dc", dc},
                    {"line_share", line_noise_share(q.raw, fs)},
                    {"faults", bits ? names : ""}});
    }
    json probs = json::array();
    for (std::size_t k = 0; k < r.n_classes; ++k) probs.push_back(round_to(r.probabilities[k], 1e-4));
    f["now"] = {{"t", r.t_s},
                {"mode", control::supervisor_mode_name(r.mode)},
                {"latched", session_->stop_latched()},
                {"active", control::intent_label_name(r.active)},
                {"decision", control::intent_label_name(r.decision)},
                {"confidence", r.confidence},
                {"probabilities", probs},
                {"hardware_ok", r.hardware_ok},
                {"recording", recording_path_},
                {"channels", ch}};
  }
  f["cue"] = cue_;
  const auto lat = decision_latency_.summary();
  // For the page's "sample arrival -> pixel" figure: how old the newest sample is as the frame leaves, and when it
  // leaves on the wall clock the browser shares on this machine.
  const auto jit = tick_jitter_.summary();
  tick_jitter_.reset();
  f["timing"] = {{"decision_latency_p50_ms", lat.p50_s * 1e3},
                 {"tick_jitter_p99_ms", jit.p99_s * 1e3},
                 {"tick_jitter_max_ms", jit.max_s * 1e3},
                 {"decision_latency_p99_ms", lat.p99_s * 1e3},
                 {"emg_age_ms", emg_arrival_ns_ > 0 ? double(now - emg_arrival_ns_) * 1e-6 : 0.0},
                 {"sent_unix_ms", double(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()) *
                                      1e-3}};
  decision_latency_.reset();
  // Fresh accumulators.
  const std::size_t nch = quality_.size();
  ticks_ = json::object();
  emg_raw_ = json::array();
  emg_filtered_ = json::array();
  for (std::size_t k = 0; k < nch; ++k) emg_raw_.push_back(json::array()), emg_filtered_.push_back(json::array());
  decisions_ = json::array();
  events_ = json::array();
  std::string text = "data: " + f.dump() + "\n\n";
  {
    std::lock_guard<std::mutex> lk(mu_);
    frames_.emplace_back(seq_++, std::move(text));
    while (frames_.size() > opt_.frames_kept) frames_.pop_front();
  }
  cv_.notify_all();
}

ConsoleStats ConsoleServer::stats() const {
  ConsoleStats s;
  {
    std::lock_guard<std::mutex> lk(mu_);
    s.frames_published = seq_;
  }
  s.frames_dropped = frames_dropped_;
  s.viewers_now = viewers_now_;
  s.viewers_total = viewers_total_;
  s.viewers_refused = viewers_refused_;
  s.commands_accepted = commands_accepted_;
  s.commands_refused = commands_refused_;
  return s;
}

}  // namespace myoexo::console
