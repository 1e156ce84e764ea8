// `myoexo run`: a host of session::Session (source, back-end, clock, option handling and the files it writes).
#include "app/run.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <sys/resource.h>
#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "app/common.hpp"
#include "app/knee_network.hpp"
#include "control/control.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/windowing.hpp"
#include "hw/mock_exo.hpp"
#include "io/io.hpp"
#include "realtime/cue_protocol.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/postprocess.hpp"
#include "realtime/recorder.hpp"
#include "realtime/replay_source.hpp"
#include "realtime/serial_source.hpp"
#include "realtime/timing.hpp"
#include "report/report.hpp"
#include "console/console.hpp"
#include "session/drivers.hpp"
#include "session/session.hpp"
#include "stream/stream.hpp"
#ifdef MYOEXO_HAVE_SIM
#include "sim/mujoco_exo.hpp"
#endif
#ifdef MYOEXO_HAVE_TORCH
#include "models/torch/torch_classifier.hpp"
#endif

namespace myoexo::app {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- the chain ----------------------------------------------------------------------------------------------

Result<realtime::FaultEvent> parse_fault(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (true) {
    const auto c = text.find(':', pos);
    parts.push_back(text.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::invalid_argument,
                      "--fault '" + text + "': " + why + " (expected KIND:START_S:DURATION_S[:CHANNEL])");
  };
  if (parts.size() < 3 || parts.size() > 4) return bad("wrong number of fields");
  realtime::FaultEvent ev;
  bool found = false;
  for (std::size_t k = 0; k < realtime::kFaultKindCount; ++k)
    if (parts[0] == realtime::fault_kind_name(realtime::FaultKind(k))) ev.kind = realtime::FaultKind(k), found = true;
  if (!found) return bad("unknown kind '" + parts[0] + "'");
  char* end = nullptr;
  ev.start_s = std::strtod(parts[1].c_str(), &end);
  if (parts[1].empty() || *end || !(ev.start_s >= 0)) return bad("bad start");
  ev.duration_s = std::strtod(parts[2].c_str(), &end);
  if (parts[2].empty() || *end || !(ev.duration_s > 0)) return bad("bad duration");
  if (parts.size() == 4) {
    const long ch = std::strtol(parts[3].c_str(), &end, 10);
    if (parts[3].empty() || *end || ch < -1) return bad("bad channel");
    ev.channel = int(ch);
  }
  return ev;
}

namespace {

struct Quantiles {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
  std::size_t count = 0;
};
Quantiles quantiles(std::vector<double> v) {
  Quantiles q;
  q.count = v.size();
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, std::size_t(std::ceil(p * double(v.size()))) - (p > 0))]; };
  q.p50 = at(0.5);
  q.p99 = at(0.99);
  q.max = v.back();
  double s = 0;
  for (double x : v) s += x;
  q.mean = s / double(v.size());
  return q;
}
/// The exoskeleton's knee (simulated) and the EMG estimate against the recorded knee angle: RMSE over the ticks
/// where both exist, and the lag of the knee behind the recording (the shift in [-1, 1] s, 10 ms steps, that
/// minimises the RMSE).
json knee_tracking_json(const std::vector<session::TickTelemetry>& rows, const std::vector<double>& ref,
                        bool proportional, double dt) {
  auto rmse_at = [&](auto&& value, long shift) {
    double se = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < rows.size() && i < ref.size(); ++i) {
      const long k = long(i) + shift;
      if (k < 0 || std::size_t(k) >= rows.size()) continue;
      const double v = value(std::size_t(k));
      if (!std::isfinite(v) || !std::isfinite(ref[i])) continue;
      se += (v - ref[i]) * (v - ref[i]);
      ++n;
    }
    return n > 0 ? std::sqrt(se / double(n)) : std::numeric_limits<double>::quiet_NaN();
  };
  auto knee = [&](std::size_t i) { return control::rad_to_deg(rows[i].q[1]); };
  auto estimate = [&](std::size_t i) { return rows[i].knee_estimate_deg; };
  const long step = std::max(1L, std::lround(0.01 / dt)), span = std::lround(1.0 / dt);
  double best = std::numeric_limits<double>::infinity();
  long best_shift = 0;
  for (long sh = -span; sh <= span; sh += step) {
    const double r = rmse_at(knee, sh);
    if (r < best) {
      best = r;
      best_shift = sh;
    }
  }
  std::size_t following = 0;
  for (const auto& r : rows) following += r.following ? 1 : 0;
  json j = {{"proportional", proportional},
            {"exo_rmse_deg", rmse_at(knee, 0)},
            // A best shift at the edge of the search means no lag within +-1 s explains the error: none given.
            {"exo_lag_ms", std::abs(best_shift) + step >= span ? std::numeric_limits<double>::quiet_NaN()
                                                              : double(best_shift) * dt * 1e3},
            {"exo_rmse_at_lag_deg", best},
            {"following_fraction", rows.empty() ? 0.0 : double(following) / double(rows.size())}};
  const double e = rmse_at(estimate, 0);
  if (std::isfinite(e)) j["estimate_rmse_deg"] = e;
  for (auto& [k, v] : j.items())
    if (v.is_number_float() && !std::isfinite(v.get<double>())) v = nullptr;
  return j;
}

json summary_us(const realtime::DurationSummary& d) {
  return {{"count", d.count},
          {"p50_us", d.p50_s * 1e6},
          {"p99_us", d.p99_s * 1e6},
          {"max_us", d.max_s * 1e6},
          {"mean_us", d.mean_s * 1e6}};
}

// User + system CPU time of this process so far [s].
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Ctrl-C during a run: the drivers end in order (hardware deactivated, logs written).
std::atomic<bool> g_run_stop{false};
extern "C" void on_run_sigint(int) { g_run_stop.store(true); }

// Extends the y range by a third above the data so the legend (top right) does not cover curves.
void leave_legend_room(report::LinePlot& p) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& sr : p.series)
    for (double v : sr.y)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(hi > lo)) return;
  p.y_min = lo - 0.05 * (hi - lo);
  p.y_max = hi + 0.45 * (hi - lo);
}

// Every n-th value (plots of long runs stay small).
template <typename F>
std::vector<double> every(std::size_t n, std::size_t stride, F f) {
  std::vector<double> v;
  for (std::size_t i = 0; i < n; i += stride) v.push_back(f(i));
  return v;
}

}  // namespace

Result<RunSummary> run_chain(const Context& ctx, const RunCommandOptions& opt, const PipelineModel& model_in) {
  using namespace control;
  if (opt.chunk_frames == 0) return make_error(ErrorCode::invalid_argument, "--chunk must be >= 1");
  if (!(opt.control_hz >= 100 && opt.control_hz <= 5000))
    return make_error(ErrorCode::invalid_argument, "--control-hz must be in [100, 5000]");
  const auto model = std::make_shared<const PipelineModel>(model_in);
  const bool from_zmq = !opt.zmq_in.empty();
  const bool live = !opt.port.empty() || from_zmq;
  std::unique_ptr<realtime::EmgSource> source;
  realtime::ReplaySource* replay = nullptr;          // the replay's stats and faults (null when live)
  realtime::SerialSource* serial = nullptr;          // the board's wire statistics (null on replay)
  stream::ZmqEmgSource* zmq_source = nullptr;        // the ZeroMQ stream's counters (null unless --zmq)
  const std::size_t nch = model->channels.size();
  double fs_hz = model->sample_rate_hz;
  std::optional<io::Recording> filtered;  // EMG for the plot
  std::vector<double> goniometer;
  double rec_duration_s = opt.seconds;
  std::string rec_name, rec_label, rec_subject;
  double full_scale = 0.0;
  std::optional<realtime::BoardProfile> board;
  if (from_zmq) {
    if (!(opt.seconds > 0 && opt.seconds <= kMaxLiveSeconds))
      return make_error(ErrorCode::invalid_argument, "--zmq needs --seconds in (0, " + format_double(kMaxLiveSeconds) + "]");
    if (!opt.faults.empty() || opt.random_faults > 0)
      return make_error(ErrorCode::invalid_argument, "--fault/--random-faults apply to --replay only");
    stream::ZmqSourceOptions zo;
    zo.endpoint = opt.zmq_in;
    zo.n_channels = nch;
    zo.sample_rate_hz = opt.port_rate_hz;
    zo.channel_names = model->channels;  // the stream must carry the model's channels, in order, in its unit
    zo.unit = model->signal_unit;
    auto z = stream::ZmqEmgSource::create(zo);
    if (!z) return z.error();
    zmq_source = z->get();
    source = std::move(*z);
    fs_hz = opt.port_rate_hz;
    rec_name = "zmq:" + opt.zmq_in;
  } else if (live) {
    if (!(opt.seconds > 0 && opt.seconds <= kMaxLiveSeconds))
      return make_error(ErrorCode::invalid_argument, "--port needs --seconds in (0, " + format_double(kMaxLiveSeconds) + "]");
    if (!opt.faults.empty() || opt.random_faults > 0)
      return make_error(ErrorCode::invalid_argument, "--fault/--random-faults apply to --replay only");
    board = realtime::default_board_profile();
    if (!opt.board.empty()) {
      auto b = realtime::load_board_profile(opt.board);
      if (!b) return b.error();
      board = std::move(*b);
    }
    realtime::SerialOptions so;
    so.port = opt.port;
    so.baud = opt.baud;
    so.n_channels = nch;
    so.sample_rate_hz = opt.port_rate_hz;
    so.channel_names = model->channels;  // the board's pins, in the model's channel order
    auto ser = realtime::SerialSource::create(so);  // streams codes (unit "adc"); the board profile converts them
    if (!ser) return ser.error();
    auto owned = std::make_unique<realtime::SerialSource>(std::move(*ser));
    serial = owned.get();
    source = std::move(owned);
    fs_hz = opt.port_rate_hz;
    rec_name = opt.port;
  } else {
    auto rec_r = io::read_recording(opt.replay);
    if (!rec_r) return rec_r.error();
    io::Recording rec = std::move(*rec_r);
    fs_hz = rec.sample_rate_hz;
    {
      // Every channel the model needs, named at once (a network file names its channels; a recording from
      // another montage must not be fed to it in the wrong order or with a channel missing).
      std::string missing, have;
      for (const auto& name : model->channels)
        if (rec.channel_index(name) < 0) missing += (missing.empty() ? "" : ", ") + name;
      if (!missing.empty()) {
        for (const auto& name : rec.channel_names) have += (have.empty() ? "" : ", ") + name;
        std::string need;
        for (const auto& name : model->channels) need += (need.empty() ? "" : ", ") + name;
        return make_error(ErrorCode::mismatch, rec.source_path.string(), 0,
                          "lacks channel(s) " + missing + " that the model needs (model channels, in order: " +
                              need + "; the recording has: " + have + ")");
      }
    }
    auto f = prepare_channels(rec, *model);  // for the EMG plot (before any injected fault)
    if (!f) return f.error();
    filtered = std::move(*f);
    for (const auto& name : model->channels)
      for (double x : rec.channel(std::size_t(rec.channel_index(name))))
        if (std::isfinite(x)) full_scale = std::max(full_scale, std::abs(x));
    const int fx = rec.channel_index("FX");
    if (fx >= 0) {
      auto c = rec.channel(std::size_t(fx));
      goniometer.assign(c.begin(), c.end());
    }
    rec_duration_s = rec.duration_s();
    rec_name = rec.source_path.filename().string();
    rec_label = rec.label;
    rec_subject = rec.subject_id;
    if (!opt.board.empty()) {  // a replay of a recording in ADC codes
      auto b = realtime::load_board_profile(opt.board);
      if (!b) return b.error();
      board = std::move(*b);
    }

    realtime::ReplayOptions ro;
    ro.chunk_frames = opt.chunk_frames;
    ro.pace = (opt.realtime || opt.console) ? realtime::ReplayPace::realtime : realtime::ReplayPace::fast;
    ro.channels = model->channels;
    for (const auto& fs_text : opt.faults) {
      auto ev = parse_fault(fs_text);
      if (!ev) return ev.error();
      if (ev->channel >= int(nch))
        return make_error(ErrorCode::invalid_argument, "--fault '" + fs_text + "': channel " +
                                                           std::to_string(ev->channel) + " >= " + std::to_string(nch) +
                                                           " streamed channels");
      // A fault must lie inside the recording: an unbounded stall would otherwise make the replay tick (and log)
      // for as long as the stall lasts.
      if (ev->start_s + ev->duration_s > rec_duration_s)
        return make_error(ErrorCode::invalid_argument, "--fault '" + fs_text + "': ends at " +
                                                           format_double(ev->start_s + ev->duration_s) +
                                                           " s, after the recording's " +
                                                           format_double(rec_duration_s) + " s");
      ro.faults.push_back(*ev);
    }
    if (opt.random_faults > 0) {
      realtime::RandomFaultOptions rf;
      rf.events_per_kind = opt.random_faults;
      auto more = realtime::make_random_faults(rec_duration_s, nch, opt.fault_seed, rf);
      ro.faults.insert(ro.faults.end(), more.begin(), more.end());
    }
    auto src_r = realtime::ReplaySource::create(std::move(rec), ro);
    if (!src_r) return src_r.error();
    auto owned = std::make_unique<realtime::ReplaySource>(std::move(*src_r));
    replay = owned.get();
    source = std::move(owned);
  }
  if (std::abs(fs_hz - model->sample_rate_hz) > 1e-6 * model->sample_rate_hz)
    return make_error(ErrorCode::mismatch, rec_name + " is sampled at " + format_double(fs_hz) + " Hz, the model at " +
                                               format_double(model->sample_rate_hz) + " Hz");
  if (model->network_trained_zero_phase)
    log_line(ctx, "warning: the network was trained on zero-phase filtered windows; the stream can only filter "
                  "causally, so its inputs differ from the training windows");
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the output folder");

  // Simulation (MuJoCo when built with it, else ideal mock actuators).
  fs::path mjcf = opt.sim_model.empty() ? resource_path(fs::path("models") / "exo_leg.xml") : opt.sim_model;
  std::unique_ptr<ExoHardware> hw;
  std::function<std::string()> hw_fault_text;  // the back-end's own description of its first fault, if it has one
  double dt = 1.0 / opt.control_hz;
  std::string backend = "mock";
#ifdef MYOEXO_HAVE_SIM
  {
    sim::MujocoExoSpec es;
    auto exo_r = sim::MujocoExo::load_file(mjcf, es);
    if (!exo_r) return exo_r.error();
    const double step = (*exo_r)->control_period_s();
    const double sub = 1.0 / (opt.control_hz * step);
    if (std::abs(sub - std::round(sub)) > 1e-6 || std::round(sub) < 1)
      return make_error(ErrorCode::invalid_argument, "--control-hz " + format_double(opt.control_hz) +
                                                         ": the period must be a multiple of the model timestep " +
                                                         format_double(step) + " s");
    es.substeps = int(std::round(sub));
    if (es.substeps != 1) {
      exo_r = sim::MujocoExo::load_file(mjcf, es);
      if (!exo_r) return exo_r.error();
    }
    dt = (*exo_r)->control_period_s();
    sim::MujocoExo* mj = exo_r->get();
    hw_fault_text = [mj]() -> std::string {
      const Status st = mj->fault_status();
      return st ? std::string() : st.error().reason;
    };
    hw = std::move(*exo_r);
    backend = "mujoco";
  }
#else
  log_line(ctx, "built without MuJoCo: driving the mock actuators (hw::MockExo) instead of the simulation");
  hw = std::make_unique<hw::MockExo>();
  mjcf.clear();
#endif

  // The session: the same object every host drives.
  session::SessionSpec ss;
  ss.control_hz = 1.0 / dt;
  ss.loop.supervisor.log_capacity = 1u << 16;
  ss.loop.proportional.enabled = opt.proportional;
  ss.post.rejection_threshold = opt.rejection_threshold;
  ss.post.vote_window = opt.vote_window;
  ss.post.min_dwell = opt.min_dwell;
  ss.board = board;
  ss.input_unit = opt.input_unit;
  ss.full_scale = full_scale;
  ss.read_frames = live ? 64 : opt.chunk_frames;
  ss.clock = (live || opt.realtime || opt.console) ? session::SessionClock::wall : session::SessionClock::stream;
  ss.event_log = opt.out_dir / "events.csv";
  ss.emg_tap_seconds = (live || opt.console || !opt.publish.empty()) ? 10.0 : 0.0;
  auto sess_r = session::Session::create(ss, model, std::move(source), *hw);
  if (!sess_r) return sess_r.error();
  session::Session& sess = **sess_r;
  if (!sess.conversion().identity()) log_line(ctx, "input: " + sess.conversion().description);
  if (auto s = sess.configure(); !s) return s.error();
  // The recorded knee angle, flexion positive (the UCI goniometer's sign differs between files: flexion is negative
  // in many), for the console and the plot.
  bool flip_goniometer = false;
  {
    std::vector<double> g;
    for (double v : goniometer)
      if (std::isfinite(v)) g.push_back(v);
    std::sort(g.begin(), g.end());
    flip_goniometer = !g.empty() && g[g.size() / 2] < 0 && std::abs(g.front()) > std::abs(g.back());
  }
  std::unique_ptr<console::ConsoleServer> con;
  json s_console;  // the console's counters, for summary.json
  if (opt.console) {
    console::ConsoleOptions co;
    co.reference_knee = !goniometer.empty();
    co.bind = opt.console_bind;
    co.port = opt.console_port;
    co.allow_remote = opt.console_allow_remote;
    co.token = opt.console_token;
    auto c = console::ConsoleServer::create(co, sess);
    if (!c) return c.error();
    con = std::move(*c);
    if (auto s = con->start(); !s) return s.error();
    // Like Jupyter: the token travels in the URL fragment (never sent to the server in a request line or logs).
    // (With --json, stdout carries the result alone: the address goes to stderr.)
    std::ostream& said = ctx.json ? ctx.err : ctx.out;
    said << "console: " << con->url() << "#token=" << con->token() << "\n"
         << "         (viewers without the token can watch but not command; Space = emergency stop)\n";
    said.flush();
  }
  // Results on ZeroMQ while the run goes on (decisions, decimated ticks, safety events, the converted EMG).
  std::unique_ptr<stream::Publisher> pub;
  if (!opt.publish.empty()) {
    stream::SessionDescription sd;
    sd.sample_rate_hz = fs_hz;
    sd.channels = model->channels;
    sd.unit = model->signal_unit;
    sd.classes = model_class_names(*model);
    sd.source = from_zmq ? "zmq:" + opt.zmq_in : live ? "serial:" + opt.port : "replay:" + rec_name;
    stream::PublisherOptions po;
    po.endpoint = opt.publish;
    auto p = stream::Publisher::create(po, sd);
    if (!p) return p.error();
    pub = std::move(*p);
    pub->heartbeat(0.0);
    (ctx.json ? ctx.err : ctx.out) << "publishing on " << pub->endpoint() << " (ZeroMQ; docs/streams.md)\n";
    if (opt.publish_wait_s > 0) {  // subscribers that connect now see the stream from its start
      std::this_thread::sleep_for(std::chrono::duration<double>(opt.publish_wait_s));
      pub->heartbeat(1e9);
    }
  }
  const ExoLimits limits = sess.loop().spec().supervisor.limits;
  const double margin = sess.loop().spec().supervisor.out_of_range_margin_rad;

  // Host side: drain telemetry into run_log.csv as it arrives, keep what the summary and plots need.
  const fs::path log_path = opt.out_dir / "run_log.csv";
  std::ofstream logf(log_path, std::ios::trunc);
  logf << "time_s,intent,confidence,active_intent,supervisor_mode,hip_desired_deg,knee_desired_deg,"
          "hip_setpoint_deg,knee_setpoint_deg,hip_deg,knee_deg,hip_torque_nm,knee_torque_nm,sensor_faults,"
          "safety_events,decision_delay_ms,knee_reference_deg,knee_estimate_deg,knee_following\n";
  // Every decision as it left the pipeline: what the decoder thought (class probabilities), whether it was
  // accepted, and the intent it became (the console's review and the report read it).
  const fs::path decisions_path = opt.out_dir / "decisions.csv";
  std::ofstream decf(decisions_path, std::ios::trunc);
  const std::vector<std::string>& class_names = model_class_names(*model);
  decf << "window_end_s,class,probability,rejected,nonfinite_input,intent,confidence";
  for (const auto& c : class_names) decf << ",p_" << c;
  decf << ",compute_us\n";
  std::vector<session::TickTelemetry> rows;  // every tick (plots decimate); live runs are bounded by --seconds
  std::vector<double> knee_refs;             // the recorded knee angle at each tick (NaN when none)
  std::vector<realtime::Decision> decisions;
  std::vector<double> delay_s, live_frames;
  std::uint64_t sp_violations = 0, q_violations = 0, ticks = 0;
  std::map<std::string, double> mode_s, active_s;
  double se[2] = {0, 0};
  std::string hw_fault;
  bool hw_fault_logged = false;
  const std::size_t live_keep = std::size_t(60.0 * fs_hz) * nch;  // the EMG plot shows the last minute at most
  Status host_failure;
  // A recording started from the console: the EMG as the session converted it (model unit), one CSV per start,
  // or with a cue protocol one EDF+ per start, labelled with the cues and ended by the protocol.
  std::optional<realtime::Recorder> console_recording;
  std::size_t console_recordings = 0;
  struct CueRun {
    std::string name;
    std::vector<realtime::Cue> schedule;
    std::optional<realtime::CueRecording> active;  // the recording running the protocol now
    std::size_t shown = std::size_t(-1);
    long shown_s = -1;
    std::string last_file;
  };
  std::optional<CueRun> cues;
  if (!opt.cues.empty()) {
    auto protocol = realtime::load_cue_protocol(opt.cues);
    if (!protocol) return protocol.error();
    CueRun c;
    c.name = opt.cues.stem().string();
    c.schedule = realtime::cue_schedule(*protocol);
    cues = std::move(c);
  }
  const auto show_cue = [&](bool force) {
    if (!cues || !con) return;
    CueRun& c = *cues;
    const double length_s = realtime::cue_schedule_end_s(c.schedule);
    json j = {{"protocol", c.name}, {"count", c.schedule.size()}, {"length_s", length_s}};
    if (!c.active || !c.active->started()) {
      if (!force && c.shown == std::size_t(-2)) return;
      c.shown = std::size_t(-2);
      j["state"] = c.last_file.empty() ? "ready" : "done";
      j["prompt"] = c.last_file.empty() ? "Press Record to start (" + format_double(std::round(length_s)) + " s)"
                                        : "Done: " + c.last_file;
      j["label"] = "rest";
      j["elapsed_s"] = 0.0;
      con->set_cue(std::move(j));
      return;
    }
    const double elapsed = c.active->elapsed_s();
    const std::size_t i = c.active->current();
    if (i >= c.schedule.size()) return;
    const realtime::Cue& cue = c.schedule[i];
    const double remaining = cue.onset_s + cue.duration_s - elapsed;
    const long whole_s = long(std::ceil(remaining));
    if (i != c.shown) {
      log_line(ctx, "cue " + std::to_string(i + 1) + "/" + std::to_string(c.schedule.size()) + ": " + cue.prompt +
                        " (" + format_double(cue.duration_s) + " s)" +
                        (i + 1 < c.schedule.size() ? "   next: " + c.schedule[i + 1].prompt : ""));
    } else if (whole_s == c.shown_s && !force) {
      return;
    }
    c.shown = i;
    c.shown_s = whole_s;
    j["state"] = "running";
    j["index"] = i + 1;
    j["prompt"] = cue.prompt;
    j["label"] = cue.label;
    j["remaining_s"] = remaining;
    j["elapsed_s"] = elapsed;
    // What comes next, and the movement after a rest, so the person can prepare.
    std::string next = i + 1 < c.schedule.size() ? c.schedule[i + 1].prompt : "";
    if (i + 2 < c.schedule.size() && c.schedule[i + 1].label == realtime::kRestLabel)
      next += ", then " + c.schedule[i + 2].prompt;
    j["next"] = next;
    con->set_cue(std::move(j));
  };
  auto stop_console_recording = [&] {
    if (!console_recording) return;
    std::vector<io::Event> labels;
    if (cues && cues->active) {
      labels = cues->active->labels();
      console_recording->set_labels(labels);
    }
    const fs::path path = console_recording->path();
    const double written_s = console_recording->written_s();
    if (auto s = console_recording->finish(); !s && host_failure.ok()) host_failure = s;
    if (cues) {
      if (auto s = io::write_events_tsv(io::events_sidecar_path(path), labels); !s && host_failure.ok()) host_failure = s;
      io::BidsRecordingDescription d;
      d.task = cues->name;
      d.sample_rate_hz = fs_hz;
      d.channels = model->channels;
      d.units.assign(nch, model->signal_unit);
      d.duration_s = written_s;
      d.manufacturer = sess.conversion().description;
      if (auto s = io::write_bids_sidecars(path, d); !s && host_failure.ok()) host_failure = s;
      log_line(ctx, "console: " + path.string() + " written, " + std::to_string(labels.size()) + " labelled intervals");
      cues->last_file = path.filename().string();
      cues->active.reset();
    }
    console_recording.reset();
    if (con) con->set_recording("");
    show_cue(true);
  };
  show_cue(true);
  auto service = [&] {
    if (con)
      if (const auto req = con->take_recording_request()) {
        if (*req && !console_recording) {
          const fs::path p = opt.out_dir / ("recording_" + std::to_string(++console_recordings) + (cues ? ".edf" : ".csv"));
          auto r = realtime::Recorder::create(p, model->channels, std::vector<std::string>(nch, model->signal_unit), fs_hz);
          if (r) {
            console_recording.emplace(std::move(*r));
            if (cues) cues->active.emplace(cues->schedule);
            con->set_recording(p.string());
            log_line(ctx, "console: recording to " + p.string());
          } else {
            log_line(ctx, "console: cannot record: " + r.error().message());
          }
        } else if (!*req) {
          stop_console_recording();
        }
      }
    session::TickTelemetry r;
    char line[512];
    while (sess.pop_telemetry(r)) {
      ++ticks;
      std::snprintf(line, sizeof line, "%.4f,%s,%.4f,%s,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%u,%u,", r.t_s,
                    intent_label_name(r.decision), r.confidence, intent_label_name(r.active),
                    supervisor_mode_name(r.mode), rad_to_deg(r.desired[0]), rad_to_deg(r.desired[1]),
                    rad_to_deg(r.setpoint[0]), rad_to_deg(r.setpoint[1]), rad_to_deg(r.q[0]), rad_to_deg(r.q[1]),
                    r.tau[0], r.tau[1], r.sensor_faults, r.new_events);
      logf << line;
      if (std::isfinite(r.decision_delay_s)) {
        logf << format_double(std::round(r.decision_delay_s * 1e6) / 1e3);
        delay_s.push_back(r.decision_delay_s);
      }
      const std::size_t gi = std::size_t(std::max(0.0, r.t_s) * fs_hz);
      const double knee_ref = gi < goniometer.size() ? (flip_goniometer ? -goniometer[gi] : goniometer[gi])
                                                     : std::numeric_limits<double>::quiet_NaN();
      logf << ',';
      if (std::isfinite(knee_ref)) {
        std::snprintf(line, sizeof line, "%.4f", knee_ref);
        logf << line;
      }
      logf << ',';
      if (std::isfinite(r.knee_estimate_deg)) {
        std::snprintf(line, sizeof line, "%.4f", r.knee_estimate_deg);
        logf << line;
      }
      logf << ',' << (r.following ? 1 : 0) << '\n';
      knee_refs.push_back(knee_ref);
      for (std::size_t j = 0; j < kJointCount; ++j) {
        const auto& L = limits[j];
        if (r.mode != SupervisorMode::emergency_stop &&
            (r.setpoint[j] < L.position_min_rad - 1e-9 || r.setpoint[j] > L.position_max_rad + 1e-9))
          ++sp_violations;
        if (r.q[j] < L.position_min_rad - margin || r.q[j] > L.position_max_rad + margin) ++q_violations;
        se[j] += (r.q[j] - r.setpoint[j]) * (r.q[j] - r.setpoint[j]);
      }
      mode_s[supervisor_mode_name(r.mode)] += dt;
      active_s[intent_label_name(r.active)] += dt;
      if (!r.hardware_ok && !hw_fault_logged && hw_fault_text) {
        hw_fault = hw_fault_text();  // once: the log says why the simulation stopped following commands
        hw_fault_logged = true;
        if (!hw_fault.empty()) log_line(ctx, "simulation fault: " + hw_fault);
      }
      rows.push_back(r);
      if (con) con->feed_tick(r, knee_ref);
      if (pub) {
        pub->tick(r);
        pub->heartbeat(r.t_s);
      }
    }
    realtime::Decision d;
    while (sess.pop_decision(d)) {
      decisions.push_back(d);
      std::snprintf(line, sizeof line, "%.4f,%s,%.4f,%d,%d,%s,%.4f", d.intent.window_end_s,
                    d.raw_class >= 0 && std::size_t(d.raw_class) < class_names.size()
                        ? class_names[std::size_t(d.raw_class)].c_str()
                        : "",
                    d.raw_probability, d.rejected ? 1 : 0, d.nonfinite_input ? 1 : 0, intent_label_name(d.intent.label),
                    d.intent.confidence);
      decf << line;
      for (std::size_t c = 0; c < class_names.size(); ++c) {
        std::snprintf(line, sizeof line, ",%.4f", c < d.n_probabilities ? double(d.probabilities[c]) : 0.0);
        decf << line;
      }
      std::snprintf(line, sizeof line, ",%.1f\n", double(d.compute_ns) / 1e3);
      decf << line;
      if (con) con->feed_decision(d);
      if (pub) pub->decision(d);
    }
    if (live || con || pub) {
      std::vector<double> chunk(256 * nch);
      realtime::ChunkTiming t;
      for (std::size_t m; (m = sess.pop_emg(chunk, t)) > 0;) {
        if (con) con->feed_emg(std::span<const double>(chunk.data(), m * nch), t.first_sample_s, t.arrival_ns);
        if (pub) pub->emg(std::span<const double>(chunk.data(), m * nch), t.first_sample_s);
        if (console_recording) {
          std::size_t keep = m;
          if (cues && cues->active) {
            const auto chunk_plan = cues->active->add_chunk(t.first_sample_s, m, fs_hz);
            keep = chunk_plan.keep;
            if (chunk_plan.lost_s > 0)
              console_recording->annotate({console_recording->written_s(), 0.0,
                                           "gap: " + std::to_string(std::llround(chunk_plan.lost_s * fs_hz)) +
                                               " samples lost"});
          }
          if (keep > 0)
            if (auto s = console_recording->append(std::span<const double>(chunk.data(), keep * nch), t.first_sample_s);
                !s && host_failure.ok())
              host_failure = s;
          if (cues && cues->active && cues->active->finished()) stop_console_recording();
        }
        if (live) live_frames.insert(live_frames.end(), chunk.begin(), chunk.begin() + std::ptrdiff_t(m * nch));
      }
      if (live_frames.size() > 2 * live_keep)
        live_frames.erase(live_frames.begin(), live_frames.end() - std::ptrdiff_t(live_keep));
    }
    show_cue(false);
    if (auto s = sess.flush_events([&](const SafetyEvent& e) {
          if (con) con->feed_event(e);
          if (pub) pub->event(e);
        });
        !s && host_failure.ok())
      host_failure = s;
    if (con) con->publish();
  };

  // The run. Ctrl-C ends a live run in order: the hardware is deactivated and every log written.
  log_line(ctx, std::string(live ? "streaming from " : "replaying ") + rec_name + " (" +
                    format_double(std::round(rec_duration_s * 10) / 10) + " s, " + std::to_string(nch) +
                    " channels) into " + backend + " at " + format_double(1.0 / dt) + " Hz" +
                    (ss.clock == session::SessionClock::wall ? " on the wall clock" : "") + " ...");
  g_run_stop.store(false);
  auto previous = std::signal(SIGINT, on_run_sigint);
  session::DriverOptions dopt;
  dopt.duration_s = opt.seconds;
  dopt.stop = &g_run_stop;
  dopt.service = service;
  Result<session::DriverReport> drv = make_error(ErrorCode::invalid_argument, "not run");
  if (auto s = sess.activate(0.0); !s) {
    std::signal(SIGINT, previous);
    return s.error();
  }
  drv = ss.clock == session::SessionClock::wall ? session::run_wall_clock(sess, dopt) : session::run_stream_clock(sess, dopt);
  const Status deact = sess.deactivate();
  std::signal(SIGINT, previous);
  service();
  stop_console_recording();
  if (con) {
    con->publish(true);
    const auto cs = con->stats();
    log_line(ctx, "console: " + std::to_string(cs.frames_published) + " frames, " + std::to_string(cs.viewers_total) +
                      " viewers, " + std::to_string(cs.frames_dropped) + " frames dropped for slow viewers, commands " +
                      std::to_string(cs.commands_accepted) + " accepted / " + std::to_string(cs.commands_refused) +
                      " refused");
    s_console = {{"frames_published", cs.frames_published},
                 {"frames_dropped", cs.frames_dropped},
                 {"viewers_total", cs.viewers_total},
                 {"commands_accepted", cs.commands_accepted},
                 {"commands_refused", cs.commands_refused}};
    con->stop();
  }
  logf.flush();
  if (!logf) return make_error(ErrorCode::io, log_path.string(), 0, "cannot be written");
  decf.flush();
  if (!decf) return make_error(ErrorCode::io, decisions_path.string(), 0, "cannot be written");
  if (!drv) return drv.error();
  if (!deact) return deact.error();
  if (!host_failure) return host_failure.error();
  if (drv->stopped) log_line(ctx, "stopped by Ctrl-C: hardware deactivated, logs written");
  const session::SessionStats st = sess.stats();
  const realtime::StreamingPipeline& pipe = sess.pipeline();
  const auto& loop = sess.loop();
  const auto aliases = model->class_intents.empty() ? session::default_class_intents() : model->class_intents;

  // ---- outputs ----
  const auto events = loop.supervisor().events();
  json s;
  s["source"] = from_zmq ? "zmq:" + opt.zmq_in : live ? "serial:" + opt.port : opt.replay.string();
  if (zmq_source) {
    const auto& zs = zmq_source->stats();
    s["zmq_source"] = {{"endpoint", opt.zmq_in}, {"messages", zs.messages},         {"frames", zs.frames},
                       {"gaps", zs.gaps},        {"frames_missing", zs.frames_missing}, {"rejected", zs.rejected}};
  }
  if (pub) {
    const auto& ps = pub->stats();
    s["publish"] = {{"endpoint", pub->endpoint()}, {"messages_sent", ps.sent},   {"messages_dropped", ps.dropped},
                    {"decisions", ps.decisions},   {"ticks", ps.ticks},          {"events", ps.events},
                    {"emg_chunks", ps.emg_chunks}};
  }
  s["recording"] = {{"file", rec_name},
                    {"subject", rec_subject},
                    {"class", rec_label},
                    {"duration_s", rec_duration_s},
                    {"sample_rate_hz", fs_hz}};
  s["model"] = {{"kind", model->network ? "torch" : "lda"},
                {"classes", class_names},
                {"channels", model->channels},
                {"features", model->network ? std::vector<std::string>{} : model->features.names},
                {"context_samples", model->network ? std::size_t{0} : model->context_samples},
                {"log_amplitude", !model->network && model->log_amplitude},
                {"window_len", model->window_len},
                {"increment", model->increment},
                {"filter", describe_model_filter(*model)},
                {"trained_on", model->trained_on}};
  if (model->network) {
    s["model"]["arch"] = model->network_arch;
    s["model"]["file"] = model->network_file.string();
    s["model"]["trained_zero_phase"] = model->network_trained_zero_phase;
  }
  json mapping = json::object();
  for (std::size_t c = 0; c < sess.class_intents().size(); ++c)
    mapping[class_names[c]] = intent_label_name(sess.class_intents()[c]);
  s["class_to_intent"] = mapping;
  s["post_processing"] = {{"rejection_threshold", ss.post.rejection_threshold},
                          {"vote", ss.post.vote_window},
                          {"min_dwell", ss.post.min_dwell}};
  s["pace"] = opt.realtime ? "realtime" : "fast";
  s["chunk_frames"] = opt.chunk_frames;
  s["control_hz"] = 1.0 / dt;
  s["actuators"] = backend;
  s["sim_model"] = mjcf.string();
  s["ticks"] = ticks;
  s["sim_time_s"] = rows.empty() ? 0.0 : rows.back().t_s;
  s["hardware_errors"] = st.hardware_errors;
  s["board_estops"] = st.device_estops;
  if (std::isfinite(st.device_estop_latency_ms)) s["board_estop_latency_ms"] = st.device_estop_latency_ms;
  s["operator"] = {{"estop_requests", st.estop_requests},
                   {"reset_requests", st.reset_requests},
                   {"resets_refused", st.resets_refused}};
  if (!hw_fault.empty()) s["hardware_fault"] = hw_fault;
  const auto& pst = pipe.stats();
  s["pipeline"] = {{"frames", pst.frames},
                   {"decisions", pst.decisions},
                   {"rejected", pst.rejected},
                   {"nonfinite_samples", pst.nonfinite_samples},
                   {"nonfinite_windows", pst.nonfinite_windows},
                   {"nonfinite_classifier_inputs", pst.nonfinite_classifier_inputs},
                   {"classifier_errors", pst.classifier_errors},
                   {"gaps", pst.gaps},
                   {"timestamp_regressions", pst.timestamp_regressions}};
  s["latency"] = {{"compute", summary_us(pipe.compute_time().summary())},
                  {"arrival_to_intent", summary_us(pipe.latency().summary())},
                  {"arrival_to_command", summary_us(st.arrival_to_command)},
                  {"end_to_end", summary_us(st.arrival_to_command)}};
  const Quantiles dq = quantiles(delay_s);
  s["latency"]["window_end_to_command_sim"] = {
      {"count", dq.count}, {"p50_ms", dq.p50 * 1e3}, {"p99_ms", dq.p99 * 1e3}, {"max_ms", dq.max * 1e3}};
  // The wavelet stage hands the windows a signal delay_samples() old: a decision about the muscle comes that much
  // later than its window's end says. (The band-pass's own group delay is not counted here.)
  const double front_delay_ms =
      model->denoise ? 1e3 * double(model->denoise->delay_samples()) / model->sample_rate_hz : 0.0;
  s["latency"]["front_end_delay_ms"] = front_delay_ms;
  s["latency"]["signal_to_command_sim"] = {{"count", dq.count},
                                           {"p50_ms", dq.p50 * 1e3 + front_delay_ms},
                                           {"p99_ms", dq.p99 * 1e3 + front_delay_ms},
                                           {"max_ms", dq.max * 1e3 + front_delay_ms}};
  std::map<std::string, std::size_t> hist;
  for (std::size_t i = 0; i < kIntentLabelCount; ++i) hist[intent_label_name(IntentLabel(i))] = 0;
  std::size_t expected_hits = 0, non_rest = 0;
  std::optional<IntentLabel> expected;
  for (const auto& [cls, in] : aliases)
    if (cls == rec_label) expected = parse_intent_label(in);
  if (!expected) expected = parse_intent_label(rec_label);
  for (const auto& d : decisions) {
    ++hist[intent_label_name(d.intent.label)];
    if (d.intent.label != IntentLabel::rest) {
      ++non_rest;
      if (expected && d.intent.label == *expected) ++expected_hits;
    }
  }
  s["intents"] = hist;
  if (expected) {
    s["expected_intent"] = intent_label_name(*expected);
    s["expected_fraction_of_decisions"] = decisions.empty() ? 0.0 : double(expected_hits) / double(decisions.size());
    s["expected_fraction_of_non_rest"] = non_rest == 0 ? 0.0 : double(expected_hits) / double(non_rest);
  }
  for (auto& [k2, v] : active_s) v = std::round(v * 1e3) / 1e3;
  s["active_intent_time_s"] = active_s;
  for (auto& [k2, v] : mode_s) v = std::round(v * 1e3) / 1e3;
  s["supervisor_mode_time_s"] = mode_s;
  json counts = json::object(), logged = json::object();
  for (std::size_t i = 0; i < kSafetyReasonCount; ++i) {
    const auto n = loop.supervisor().intervention_count(SafetyReason(i));
    if (n) counts[safety_reason_name(SafetyReason(i))] = n;
  }
  for (const auto& e : events) logged[safety_reason_name(e.reason)] = logged.value(safety_reason_name(e.reason), 0) + 1;
  if (!goniometer.empty()) s["knee_tracking"] = knee_tracking_json(rows, knee_refs, opt.proportional, dt);
  s["safety"] = {{"intervention_ticks", counts},
                 {"events_logged", events.size()},
                 {"events_by_reason", logged},
                 {"events_dropped", loop.supervisor().dropped_events()},
                 {"setpoint_limit_violations", sp_violations},
                 {"measured_out_of_range_ticks", q_violations},
                 {"sensor_fault_onsets", st.sensor_fault_onsets}};
  json faults = json::array();
  if (replay)
    for (const auto& f : replay->faults())
      faults.push_back({{"kind", realtime::fault_kind_name(f.kind)},
                        {"start_s", f.start_s},
                        {"duration_s", f.duration_s},
                        {"channel", f.channel}});
  s["faults_injected"] = faults;
  if (replay) {
    const auto& rs = replay->stats();
    s["replay_stats"] = {{"frames_delivered", rs.frames_delivered},
                         {"chunks_dropped", rs.chunks_dropped},
                         {"stalls", rs.stalls},
                         {"out_of_order_chunks", rs.out_of_order_chunks}};
  } else if (serial) {
    const auto& ws = serial->wire_stats();
    s["serial_stats"] = {{"frames_ok", ws.frames_ok},
                         {"frames_missing", ws.frames_missing},
                         {"frames_missing_estimated", ws.frames_missing_estimated},
                         {"gaps_estimated", ws.gaps_estimated},
                         {"crc_failures", ws.crc_failures},
                         {"bytes_discarded", ws.bytes_discarded},
                         {"reconnects", st.reconnects},
                         {"disconnects", st.disconnects}};
  }
  if (ticks > 0)
    s["tracking_rms_deg"] = {{"hip", rad_to_deg(std::sqrt(se[0] / double(ticks)))},
                             {"knee", rad_to_deg(std::sqrt(se[1] / double(ticks)))}};
  s["session"] = {{"clock", ss.clock == session::SessionClock::wall ? "wall" : "stream"},
                  {"input", sess.conversion().description},
                  {"signal_unit", model->signal_unit},
                  {"step_compute", summary_us(st.step_compute)},
                  {"decisions_dropped", st.decisions_dropped},
                  {"telemetry_dropped", st.telemetry_dropped},
                  {"events_dropped", st.events_dropped},
                  {"stopped_by_user", drv->stopped},
                  {"process_cpu_s", process_cpu_seconds()}};
  if (!s_console.is_null()) s["console"] = s_console;
  if (board) s["session"]["board"] = {{"name", board->name},
                                      {"adc_bits", board->adc_bits},
                                      {"reference_volts", board->reference_volts},
                                      {"gain", board->gain},
                                      {"output", realtime::board_output_name(board->output)},
                                      {"zero_code", board->zero_code()}};
  if (ss.clock == session::SessionClock::wall)
    s["session"]["control_tick"] = {{"jitter", summary_us(drv->tick_jitter)},
                                    {"period", summary_us(drv->tick_period)},
                                    {"deadline_misses", drv->deadline_misses},
                                    {"realtime_priority", drv->realtime_priority},
                                    {"wall_s", drv->wall_s}};
  {
    const fs::path p = opt.out_dir / "summary.json";
    std::ofstream f(p, std::ios::trunc);
    f << s.dump(2) << '\n';
    if (!f) return make_error(ErrorCode::io, p.string(), 0, "cannot be written");
  }
  RunSummary out;
  out.recording = rec_name;
  out.control_hz = 1.0 / dt;
  out.actuators = backend;
  out.sim_time_s = rows.empty() ? 0.0 : rows.back().t_s;
  out.intents = hist;
  if (expected) {
    out.expected_intent = intent_label_name(*expected);
    out.expected_fraction_of_decisions = decisions.empty() ? 0.0 : double(expected_hits) / double(decisions.size());
  }
  out.supervisor_mode_time_s = mode_s;
  out.events_logged = events.size();
  for (const auto& e : events) ++out.events_by_reason[safety_reason_name(e.reason)];
  out.setpoint_limit_violations = sp_violations;
  out.compute = pipe.compute_time().summary();
  out.session = st;

  // ---- plots ----
  if (opt.plots && !rows.empty()) {
    if (live && !live_frames.empty()) {
      io::Recording lr;
      lr.sample_rate_hz = fs_hz;
      lr.channel_names = model->channels;
      lr.channel_units.assign(nch, model->signal_unit);
      lr.n_samples = live_frames.size() / nch;
      lr.samples.resize(live_frames.size());
      for (std::size_t i = 0; i < lr.n_samples; ++i)
        for (std::size_t c = 0; c < nch; ++c) lr.samples[c * lr.n_samples + i] = live_frames[i * nch + c];
      if (lr.n_samples > 64) {
        auto f = prepare_channels(lr, *model);
        if (f) filtered = std::move(*f);
      }
    }
  }
  if (opt.plots && !rows.empty()) {
    const std::string who = rec_name + (rec_label.empty() ? "" : " (" + rec_label + ")");
    if (filtered) {
      const io::Recording& e = *filtered;
      // EMG: channels stacked with an offset so that each stays readable.
      double spread = 0;
      for (std::size_t c = 0; c < nch; ++c) {
        auto ch = e.channel(c);
        std::vector<double> a;
        for (double x : ch) a.push_back(std::abs(x));
        if (!a.empty()) {
          std::nth_element(a.begin(), a.begin() + std::ptrdiff_t(a.size() * 995 / 1000), a.end());
          spread = std::max(spread, 2.0 * a[a.size() * 995 / 1000]);
        }
      }
      if (!(spread > 0)) spread = 1;
      report::LinePlot emg;
      const std::string unit = e.channel_units.empty() || e.channel_units[0].empty() ? "units" : e.channel_units[0];
      emg.title = who + ": EMG " + describe_model_filter(*model) + " (causal)";
      emg.x_label = "time (s)";
      emg.y_label = "EMG (" + unit + "), offset per channel";
      emg.size = {1400, 800};
      char off[64];
      for (std::size_t c = 0; c < nch; ++c) {
        const double o = double(nch - 1 - c) * spread;
        std::snprintf(off, sizeof off, "%s (+%.2g)", e.channel_names[c].c_str(), o);
        auto ch = e.channel(c);
        emg.series.push_back({off, every(ch.size(), 1, [&](std::size_t i) { return double(i) / fs_hz; }),
                              every(ch.size(), 1, [&](std::size_t i) { return ch[i] + o; })});
      }
      if (auto r = report::plot_lines(emg, opt.out_dir / "emg.png"); !r) return r.error();
    }

    // Intent timeline: every decision at the classifier's max probability, coloured by the intent it became
    // (after rejection and vote), with the rejection threshold: points below it became rest.
    report::LinePlot ip;
    ip.title = rec_name + ": intent per decision (colour) and confidence";
    ip.x_label = "time (s)";
    ip.y_label = "classifier max probability";
    ip.y_min = 0.0;
    ip.y_max = 1.25;  // room for the legend above the data
    ip.size = {1400, 600};
    for (std::size_t l = 0; l < kIntentLabelCount; ++l) {
      report::Series sr{intent_label_name(IntentLabel(l)), {}, {}};
      bool any = false;
      for (const auto& d : decisions) {
        sr.x.push_back(d.intent.window_end_s);
        const bool on = d.intent.label == IntentLabel(l);
        any |= on;
        sr.y.push_back(on ? d.raw_probability : std::numeric_limits<double>::quiet_NaN());
      }
      if (any) ip.series.push_back(std::move(sr));
    }
    if (!decisions.empty()) {
      ip.series.push_back({"rejection threshold",
                           {decisions.front().intent.window_end_s, decisions.back().intent.window_end_s},
                           {opt.rejection_threshold, opt.rejection_threshold}});
      if (auto r = report::plot_lines(ip, opt.out_dir / "intent.png"); !r) return r.error();
    }

    const std::size_t stride = std::max<std::size_t>(1, std::size_t(0.01 / dt));  // 100 Hz in the plots
    auto tcol = every(rows.size(), stride, [&](std::size_t i) { return rows[i].t_s; });
    report::LinePlot ap;
    ap.title = rec_name + ": exoskeleton hip and knee, set-point vs simulated";
    ap.x_label = "time (s)";
    ap.y_label = "angle (deg, flexion +)";
    ap.size = {1400, 700};
    ap.series.push_back({"hip set-point", tcol,
                         every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].setpoint[0]); })});
    ap.series.push_back(
        {"hip simulated", tcol, every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].q[0]); })});
    ap.series.push_back({"knee set-point", tcol,
                         every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].setpoint[1]); })});
    ap.series.push_back(
        {"knee simulated", tcol, every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].q[1]); })});
    leave_legend_room(ap);
    if (auto r = report::plot_lines(ap, opt.out_dir / "angles.png"); !r) return r.error();

    if (!goniometer.empty()) {
      report::LinePlot kp;
      kp.title = rec_name + ": recorded knee angle (FX) and the exoskeleton's knee";
      kp.x_label = "time (s)";
      kp.y_label = "knee flexion (deg)";
      kp.size = {1400, 700};
      const double t_end = rows.back().t_s;
      const std::size_t n_fx = std::min(goniometer.size(), std::size_t(t_end * fs_hz) + 1);
      const std::size_t gs = std::max<std::size_t>(1, std::size_t(fs_hz / 100));
      std::vector<double> g(goniometer.begin(), goniometer.begin() + std::ptrdiff_t(n_fx));
      const bool flip = flip_goniometer;
      kp.series.push_back({flip ? "recorded knee (FX, sign flipped)" : "recorded knee (FX goniometer)",
                           every(n_fx, gs, [&](std::size_t i) { return double(i) / fs_hz; }),
                           every(n_fx, gs, [&](std::size_t i) { return flip ? -g[i] : g[i]; })});
      kp.series.push_back({"exoskeleton knee (simulated)", tcol,
                           every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].q[1]); })});
      kp.series.push_back({"exoskeleton knee set-point", tcol,
                           every(rows.size(), stride, [&](std::size_t i) { return rad_to_deg(rows[i].setpoint[1]); })});
      if (model->knee_angle)
        kp.series.push_back({opt.proportional ? "knee angle from EMG (followed during lift/lower)"
                                              : "knee angle from EMG (not followed)",
                             tcol, every(rows.size(), stride, [&](std::size_t i) { return rows[i].knee_estimate_deg; })});
      if (s.contains("knee_tracking")) {
        const json& kt = s["knee_tracking"];
        char sub[200];
        const auto num = [&](const char* k) { return kt.contains(k) && kt[k].is_number() ? kt[k].get<double>() : NAN; };
        const double rmse = num("exo_rmse_deg"), lag = num("exo_lag_ms");
        char lag_text[40] = "no lag within 1 s";
        if (std::isfinite(lag)) std::snprintf(lag_text, sizeof lag_text, "lag %.0f ms", lag);
        std::snprintf(sub, sizeof sub, " (RMSE %.1f deg, %s%s)", rmse, lag_text, opt.proportional ? ", proportional" : "");
        kp.title += sub;
      }
      leave_legend_room(kp);
      if (auto r = report::plot_lines(kp, opt.out_dir / "knee_goniometer.png"); !r) return r.error();
    }
  }
  out.json = std::move(s);
  return out;
}

Status run_run(const Context& ctx, const RunCommandOptions& opt) {
  if (int(!opt.replay.empty()) + int(!opt.port.empty()) + int(!opt.zmq_in.empty()) != 1)
    return make_error(ErrorCode::invalid_argument, "give exactly one of --replay FILE, --port DEV and --zmq ENDPOINT");
  if (opt.model.has_value() == !opt.train_on.empty())
    return make_error(ErrorCode::invalid_argument, "give exactly one of --model FILE and --train-on DIR|FILES");
  if (opt.model && opt.lda_context > 0)
    return make_error(ErrorCode::invalid_argument,
                      "--lda-context applies to --train-on (a --model file carries its own context)");
  if (!opt.cues.empty() && !opt.console)
    return make_error(ErrorCode::invalid_argument, "--cues is shown in the console: use `myoexo serve` (or run "
                                                   "--console); `myoexo record --cues` prompts on the terminal");
  std::error_code ec;
  const fs::path replay = opt.replay.empty() ? fs::path() : resolve_input_path(ctx, opt.replay);
  if (!opt.replay.empty() && !fs::is_regular_file(replay, ec))
    return make_error(ErrorCode::io, replay.string(), 0, "does not exist (the --replay recording)");
  RunCommandOptions o = opt;
  o.replay = replay;
  PipelineModel model;
  if (opt.model) {
    auto m = load_model(resolve_input_path(ctx, *opt.model));
    if (!m) return m.error();
    model = std::move(*m);
    if (model.network)
      log_line(ctx, "model: LibTorch " + model.network_arch + " on " + std::to_string(model.channels.size()) +
                        " channels, " + std::to_string(model.window_len) + "-sample windows every " +
                        std::to_string(model.increment));
  } else {
    io::Recording live_head;  // live: no replayed subject to leave out; the board's rate
    live_head.sample_rate_hz = opt.port_rate_hz;
    auto head = replay.empty() ? Result<io::Recording>(std::move(live_head)) : io::read_recording(replay);
    if (!head) return head.error();
    std::vector<fs::path> paths;
    for (const auto& p : opt.train_on) paths.push_back(resolve_input_path(ctx, p));
    auto recs = load_training_recordings(paths);
    if (!recs) return recs.error();
    std::vector<io::Recording> keep;
    const fs::path replay_abs = fs::weakly_canonical(replay, ec);
    for (auto& r : *recs) {
      if (!replay.empty() && fs::weakly_canonical(r.source_path, ec) == replay_abs) continue;  // never the replay
      if (!opt.include_same_subject && !head->subject_id.empty() && r.subject_id == head->subject_id) continue;
      keep.push_back(std::move(r));
    }
    model = lda_context_model(opt.lda_context);
    log_line(ctx, std::string(opt.lda_context > 0 ? "training LDA (lda_context: log-amplitude MAV WL ZC SSC RMS AR, + " +
                                                        std::to_string(opt.lda_context) + " past samples)"
                                                  : "training LDA") +
                      " on " + std::to_string(keep.size()) + " recordings" +
                      (opt.include_same_subject || head->subject_id.empty()
                           ? std::string()
                           : " (subject " + head->subject_id + " left out)") +
                      " ...");
    model.sample_rate_hz = head->sample_rate_hz;
    auto m = train_pipeline_model(keep, model);
    if (!m) return m.error();
    model = std::move(*m);
    if (opt.knee_angle || opt.proportional) {
      session::KneeAngleTraining kt;
      kt.lead_samples = std::size_t(std::lround(opt.knee_angle_lead_ms * model.sample_rate_hz / 1000.0));
      if (ascii_lower(opt.knee_model) == "ridge") {
        log_line(ctx, "training the knee-angle regressor (ridge, alpha " + format_double(kt.ridge.alpha) +
                          ", on the same rows; target: the goniometer " + kt.target.channel + ", flexion positive) ...");
        auto k = session::train_knee_angle_regressor(keep, model, kt);
        if (!k) return k.error();
        model = std::move(*k);
      } else if (ascii_lower(opt.knee_model) == "trees") {
        auto k = train_knee_angle_trees(ctx, keep, model, kt);
        if (!k) return k.error();
        model = std::move(*k);
      } else {
        KneeNetworkOptions kn;
        kn.config = opt.knee_model;
        kn.epochs = opt.knee_epochs;
        auto k = train_knee_angle_network(ctx, keep, model, kt, kn);
        if (!k) return k.error();
        model = std::move(*k);
      }
    }
  }
  if (opt.proportional && !model.knee_angle)
    return make_error(ErrorCode::invalid_argument, "--proportional needs a model with a knee-angle regressor (train "
                                                   "one with --train-on DIR --proportional, or `train --model lda_context --knee-model "
                                                   "ridge`)");
  if (opt.save_model) {
    if (model.network) {
      // A network is saved as the model file it came from (a byte copy: same weights, same spec).
      if (auto s = ensure_parent_dir(*opt.save_model); !s) return s;
      std::error_code cec;
      if (fs::weakly_canonical(*opt.save_model, cec) != fs::weakly_canonical(model.network_file, cec)) {
        fs::copy_file(model.network_file, *opt.save_model, fs::copy_options::overwrite_existing, cec);
        if (cec) return make_error(ErrorCode::io, opt.save_model->string(), 0, "cannot be written: " + cec.message());
      }
    } else if (auto s = save_pipeline_model_files(model, *opt.save_model); !s) {
      return s;
    }
  }
  auto s = run_chain(ctx, o, model);
  if (!s) return s.error();
  const json& j = s->json;
  if (ctx.json) {
    ctx.out << j.dump(2) << '\n';
    return {};
  }
  const auto& lat = j["latency"];
  ctx.out << (o.port.empty() && o.zmq_in.empty() ? "replayed " : "streamed from ") << j["recording"]["file"].get<std::string>() << " for "
          << format_double(std::round(j["sim_time_s"].get<double>() * 1000) / 1000) << " s at " << format_double(j["control_hz"].get<double>())
          << " Hz control: " << j["pipeline"]["decisions"].get<std::uint64_t>() << " decisions, intents "
          << j["intents"].dump() << "\ncompute p50/p99/max "
          << format_double(std::round(lat["compute"]["p50_us"].get<double>() * 10) / 10) << "/"
          << format_double(std::round(lat["compute"]["p99_us"].get<double>() * 10) / 10) << "/"
          << format_double(std::round(lat["compute"]["max_us"].get<double>() * 10) / 10) << " us"
          << (lat["front_end_delay_ms"].get<double>() > 0
                  ? "; wavelet stage delay " + format_double(lat["front_end_delay_ms"].get<double>()) + " ms"
                  : std::string())
          << "; safety events logged "
          << j["safety"]["events_logged"].get<std::size_t>() << ", limit violations "
          << j["safety"]["setpoint_limit_violations"].get<std::uint64_t>() << "\n"
          << "outputs in " << fs::absolute(opt.out_dir).lexically_normal().string() << "\n";
  return {};
}

}  // namespace myoexo::app
