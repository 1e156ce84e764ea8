#include "session/session.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

namespace myoexo::session {

namespace {

// The pipeline owns its classifier; the model's classifier is shared by every session that runs the model, so
// the pipeline gets this forwarding handle (the model itself stays immutable).
class SharedClassifier final : public models::Classifier {
 public:
  SharedClassifier(std::shared_ptr<const PipelineModel> keep, models::Classifier* c) : keep_(std::move(keep)), c_(c) {}
  std::size_t n_inputs() const noexcept override { return c_->n_inputs(); }
  std::size_t n_classes() const noexcept override { return c_->n_classes(); }
  const std::vector<std::string>& class_names() const noexcept override { return c_->class_names(); }
  const std::vector<std::string>& input_names() const noexcept override { return c_->input_names(); }
  models::InputKind input_kind() const noexcept override { return c_->input_kind(); }
  Status reserve(std::size_t max_rows) override { return c_->reserve(max_rows); }
  Status predict_proba(const double* in, std::size_t rows, std::size_t cols, double* out) override {
    return c_->predict_proba(in, rows, cols, out);
  }

 private:
  std::shared_ptr<const PipelineModel> keep_;
  models::Classifier* c_;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string format_safety_event(const control::SafetyEvent& e) {
  char buf[192];
  std::snprintf(buf, sizeof buf, "%.6f,%s,%s,%.9g,%.9g", e.t_s, control::safety_reason_name(e.reason),
                e.joint >= 0 ? control::joint_name(control::Joint(e.joint)) : "", e.value, e.limit);
  return buf;
}

Result<std::unique_ptr<Session>> Session::create(const SessionSpec& spec, std::shared_ptr<const PipelineModel> model,
                                                 std::unique_ptr<realtime::EmgSource> source,
                                                 control::ExoHardware& hardware) {
  if (!model) return make_error(ErrorCode::invalid_argument, "session: no model");
  if (!source) return make_error(ErrorCode::invalid_argument, "session: no source");
  if (!(spec.control_hz >= 100.0 && spec.control_hz <= 5000.0))
    return make_error(ErrorCode::invalid_argument, "session: control_hz must be in [100, 5000]");
  if (spec.read_frames == 0 || spec.decision_capacity == 0 || spec.telemetry_capacity == 0)
    return make_error(ErrorCode::invalid_argument, "session: read_frames and queue capacities must be >= 1");
  if (!(spec.emg_tap_seconds >= 0.0 && spec.emg_tap_seconds <= 600.0))
    return make_error(ErrorCode::invalid_argument, "session: emg_tap_seconds must be in [0, 600]");
  if (!(spec.full_scale >= 0.0) || !std::isfinite(spec.full_scale))
    return make_error(ErrorCode::invalid_argument, "session: full_scale must be finite and >= 0");
  const PipelineModel& m = *model;
  const std::size_t nch = m.channels.size();
  // Channels: the source must stream the model's channels, by name and in order.
  if (source->channel_names() != m.channels)
    return make_error(ErrorCode::mismatch, "the source streams channels [" + join(source->channel_names()) +
                                               "], the model needs [" + join(m.channels) + "] in this order");
  const double fs = source->sample_rate_hz();
  if (!(std::abs(fs - m.sample_rate_hz) <= 1e-6 * m.sample_rate_hz))
    return make_error(ErrorCode::mismatch, "the source streams at " + std::to_string(fs) + " Hz, the model was trained at " +
                                               std::to_string(m.sample_rate_hz) + " Hz");
  // Units: every channel in one unit, converted to the model's or refused.
  std::string unit;
  for (std::size_t c = 0; c < nch; ++c) {
    std::string u = c < source->channel_units().size() ? source->channel_units()[c] : std::string();
    if (u.empty()) u = spec.input_unit;
    if (c > 0 && u != unit)
      return make_error(ErrorCode::mismatch, "the source's channels are in different units ('" + unit + "', '" + u + "')");
    unit = u;
  }
  const realtime::BoardProfile* board = spec.board ? &*spec.board : nullptr;
  auto conv = realtime::plan_input_conversion(unit, m.signal_unit, board);
  if (!conv) return conv.error();
  auto intents = model_class_intents(m);
  if (!intents) return intents.error();

  std::unique_ptr<Session> s(new Session());
  s->spec_ = spec;
  s->model_ = model;
  s->hw_ = &hardware;
  s->conversion_ = std::move(*conv);
  s->class_intents_ = *intents;
  s->nch_ = nch;

  auto ps_r = pipeline_spec_for(m, fs, spec.post);
  if (!ps_r) return ps_r.error();
  realtime::PipelineSpec ps = std::move(*ps_r);
  ps.max_block_frames = std::max<std::size_t>(256, spec.read_frames);
  // An LDA is small: each session runs its own copy. A network is shared (its weights are large).
  std::unique_ptr<models::Classifier> clf;
  if (m.network)
    clf = std::make_unique<SharedClassifier>(model, m.network.get());
  else
    clf = std::make_unique<models::LdaClassifier>(m.lda);
  auto pipe = realtime::StreamingPipeline::create(ps, std::move(clf));
  if (!pipe) return pipe.error();
  s->pipeline_.emplace(std::move(*pipe));

  // Sensor faults, judged in the model's unit on the converted signal (a board's mid-scale offset removed).
  double full_scale = spec.full_scale;
  control::SensorFaultSpec fspec;
  if (realtime::is_adc_code_unit(unit)) {
    const double half = board->max_code() / 2.0;
    full_scale = half * s->conversion_.scale;
    fspec = control::default_sensor_fault_spec(nch, fs, full_scale);
    // Codes are quantised: a change below one code is no change, and a quiet muscle below one code (a few uV at
    // the skin) can hold one code for well over a second (1.4 s in the UCI recordings at MyoWare's gain); a lead
    // that is really off floats or saturates, so flat means no code change for 3 s.
    fspec.flat_epsilon = 0.5 * s->conversion_.scale;
    fspec.flat_min_samples = std::max<std::size_t>(2, std::size_t(std::llround(3.0 * fs)));
  } else {
    fspec = control::default_sensor_fault_spec(nch, fs, full_scale > 0 ? full_scale : 1.0);
    if (!(full_scale > 0)) {
      fspec.saturation_level = std::numeric_limits<double>::infinity();
      fspec.electrode_off_level = std::numeric_limits<double>::infinity();
    }
  }
  auto det = control::SensorFaultDetector::create(fspec);
  if (!det) return det.error();
  s->detector_.emplace(std::move(*det));

  control::ControlLoopSpec ls = spec.loop;
  if (ls.proportional.enabled && !model->knee_angle)
    return make_error(ErrorCode::invalid_argument, "proportional knee mode needs a model with a knee-angle regressor "
                                                   "(train one with the model: --knee-angle)");
  ls.rate_hz = spec.control_hz;
  ls.supervisor.nominal_period_s = 1.0 / spec.control_hz;
  auto loop = control::ControlLoop::create(ls, hardware);
  if (!loop) return loop.error();
  s->loop_.emplace(std::move(*loop));

  s->buf_.assign(spec.read_frames * nch, 0.0);
  s->source_ = std::move(source);
  s->decisions_ = realtime::SpscQueue<realtime::Decision>(spec.decision_capacity);
  s->delivered_ = realtime::SpscQueue<realtime::Decision>(spec.decision_capacity);
  s->telemetry_ = realtime::SpscQueue<TickTelemetry>(spec.telemetry_capacity);
  s->events_ = realtime::SpscQueue<control::SafetyEvent>(std::max<std::size_t>(64, ls.supervisor.log_capacity));
  if (spec.emg_tap_seconds > 0) {
    auto ring = realtime::FrameRing::create(nch, std::max<std::size_t>(spec.read_frames, std::size_t(spec.emg_tap_seconds * fs)));
    if (!ring) return ring.error();
    s->emg_tap_.emplace(std::move(*ring));
  }
  return s;
}

Session::~Session() {
  if (event_file_) std::fclose(event_file_);
}

Status Session::configure() {
  if (!spec_.event_log.empty() && !event_file_) {
    std::error_code ec;
    if (spec_.event_log.has_parent_path()) std::filesystem::create_directories(spec_.event_log.parent_path(), ec);
    event_file_ = std::fopen(spec_.event_log.c_str(), "w");
    if (!event_file_) return make_error(ErrorCode::io, spec_.event_log.string(), 0, "cannot be created (safety event log)");
    std::fprintf(event_file_, "%s\n", kEventLogHeader);
    std::fflush(event_file_);
  }
  return loop_->configure();
}

Status Session::activate(double t_s) {
  if (Status s = loop_->activate(t_s); !s) return s;
  events_seen_ = std::min(events_seen_, loop_->supervisor().events().size());
  if (Status s = source_->start(); !s) {
    (void)loop_->deactivate();
    return s;
  }
  stream_on_ = true;
  t0_ns_ = realtime::steady_now_ns() - std::int64_t(t_s * 1e9);
  return {};
}

Status Session::deactivate() {
  source_->stop();
  Status s = loop_->deactivate();
  Status f = flush_events();
  return s ? f : s;
}

Session::PumpResult Session::pump() noexcept {
  PumpResult pr;
  pr.stream_end_s = stream_end_s_;
  // Stream on/off requests ('1' / '0' to a board).
  const int req = stream_req_.exchange(-1, std::memory_order_acq_rel);
  if (req == 0 && stream_on_) {
    source_->stop();
    stream_on_ = false;
  } else if (req == 1 && !stream_on_) {
    stream_on_ = source_->start().ok();
  }
  if (!stream_on_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return pr;
  }
  if (reconnecting_) {
    const std::int64_t now = realtime::steady_now_ns();
    if (now < reconnect_due_ns_) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(reconnect_due_ns_ - now, 20'000'000)));
      return pr;
    }
    if (!source_->start().ok()) {
      if (++reconnect_failures_ >= spec_.reconnect_attempts) {
        pr.status = realtime::ReadStatus::disconnected;
        return pr;
      }
      reconnect_due_ns_ = now + std::int64_t(spec_.reconnect_interval_s * 1e9);
      return pr;
    }
    reconnecting_ = false;
    reconnect_failures_ = 0;
    ++reconnects_;
  }
  const realtime::ReadResult r = source_->read(buf_);
  pr.status = r.status;
  if (r.status == realtime::ReadStatus::disconnected) {
    ++disconnects_;
    if (spec_.reconnect_attempts == 0) return pr;
    reconnecting_ = true;
    reconnect_due_ns_ = realtime::steady_now_ns() + std::int64_t(spec_.reconnect_interval_s * 1e9);
    pr.status = realtime::ReadStatus::no_data;
    return pr;
  }
  if (r.status != realtime::ReadStatus::ok) return pr;
  // The board's own e-stop switch: the control thread latches the stop on its next tick.
  const bool board_estop = source_->device_estop();
  if (board_estop && !device_estop_seen_)
    device_estop_arrival_ns_.store(r.arrival_ns > 0 ? r.arrival_ns : realtime::steady_now_ns(), std::memory_order_relaxed);
  device_estop_seen_ = board_estop;
  device_estop_.store(board_estop, std::memory_order_release);
  const double fs = source_->sample_rate_hz();
  const std::span<double> frames(buf_.data(), r.frames * nch_);
  if (!conversion_.identity())
    for (double& x : frames) x = (x - conversion_.offset) * conversion_.scale;
  if (have_stream_ && r.first_sample_s > stream_end_s_ + 0.5 / fs) ++gaps_;
  for (std::size_t i = 0; i < r.frames; ++i) (void)detector_->push_frame(frames.subspan(i * nch_, nch_));
  std::uint64_t packed = 0;
  for (std::size_t c = 0; c < nch_ && c < 16; ++c) packed |= std::uint64_t(detector_->channel_faults(c) & 0xFu) << (4 * c);
  faults_.store(detector_->faults(), std::memory_order_release);
  channel_faults_.store(packed, std::memory_order_release);
  if (emg_tap_) (void)emg_tap_->push(frames, r.first_sample_s, fs, r.arrival_ns);
  (void)pipeline_->process(frames, realtime::ChunkTiming{r.first_sample_s, r.arrival_ns}, [&](const realtime::Decision& d) {
    ++decisions_made_;
    (void)decisions_.push(d);
  });
  frames_ += r.frames;
  have_stream_ = true;
  stream_end_s_ = std::max(stream_end_s_, r.first_sample_s + double(r.frames) / fs);
  pr.frames = r.frames;
  pr.stream_end_s = stream_end_s_;
  return pr;
}

void Session::step(double t_s, double dt_s) noexcept {
  const std::int64_t start_ns = realtime::steady_now_ns();
  control::ControlLoop& loop = *loop_;
  // A stop asked for in this step wins over a reset asked for in the same step (two operators, or a control
  // thread that was late): the reset is refused, the stop stays latched.
  bool stopped_now = false;
  if (estop_req_.exchange(false, std::memory_order_acq_rel)) {
    ++estop_requests_;
    loop.trigger_emergency_stop(t_s);
    stopped_now = true;
  }
  const bool device_estop = device_estop_.load(std::memory_order_acquire);
  if (device_estop && !device_estop_latched_) {
    ++device_estops_;
    loop.trigger_emergency_stop(t_s);
    stopped_now = true;
    const std::int64_t arrival = device_estop_arrival_ns_.load(std::memory_order_relaxed);
    if (arrival > 0) device_estop_latency_ns_.store(realtime::steady_now_ns() - arrival, std::memory_order_relaxed);
  }
  device_estop_latched_ = device_estop;
  if (reset_req_.exchange(false, std::memory_order_acq_rel)) {
    ++reset_requests_;
    // A reset while the device still fails, or while the board's e-stop is still pressed, would only re-latch:
    // refuse it, visibly.
    if (stopped_now || !hw_ok_ || device_estop || !loop.reset_emergency_stop(t_s)) ++resets_refused_;
  }
  if (resume_req_.exchange(false, std::memory_order_acq_rel)) {
    ++resume_requests_;
    loop.resume_after_hold();
  }

  const bool wall = spec_.clock == SessionClock::wall;
  std::size_t n_tick = 0;
  double delay = std::numeric_limits<double>::quiet_NaN();
  realtime::Decision d;
  while (decisions_.peek(d)) {
    if (!wall && d.intent.window_end_s > t_s) break;  // stream time: not acquired yet at this tick
    // Wall clock: a decision emitted after this tick read the clock waits for the next tick (a negative age would
    // make it look stale: refused, lost, and logged as a stale intent).
    if (wall && double(d.emit_ns - t0_ns_) * 1e-9 > t_s + 1e-9) break;
    (void)decisions_.pop(d);
    control::Intent in = d.intent;
    // Freshness is measured from when the decision really left the pipeline: its window end in stream time,
    // its emit stamp on the wall clock.
    in.emit_s = wall ? double(d.emit_ns - t0_ns_) * 1e-9 : d.intent.window_end_s;
    loop.push_intent(in, t_s);
    // Proportional mode: the estimate of the same window, stamped like the intent (the follower's freshness).
    if (model_->knee_angle) {
      (void)loop.push_knee_estimate(d.knee_angle_deg, in.emit_s);
      knee_estimate_deg_ = d.knee_angle_deg;
    }
    delay = t_s - d.intent.window_end_s;
    last_delivered_ = d;
    any_delivered_ = true;
    ++delivered_count_;
    if (n_tick < tick_decisions_.size()) tick_decisions_[n_tick++] = d;
    (void)delivered_.push(d);
  }
  loop.set_sensor_faults(faults_.load(std::memory_order_acquire), t_s);
  const control::HwStatus hs = loop.tick(t_s, dt_s);
  hw_ok_ = hs == control::HwStatus::ok;
  if (!hw_ok_) ++hw_errors_;
  latched_.store(loop.supervisor().stop_latched(), std::memory_order_relaxed);
  const std::int64_t end_ns = realtime::steady_now_ns();
  for (std::size_t i = 0; i < n_tick; ++i) {
    const realtime::Decision& x = tick_decisions_[i];
    // Wall clock: the command for this decision is written now. Stream clock (a fast replay compresses the
    // simulated wait for the tick): the measured pipeline latency plus this tick's measured compute.
    arrival_to_command_.record_ns(wall ? end_ns - x.last_sample_arrival_ns
                                       : (x.emit_ns - x.last_sample_arrival_ns) + (end_ns - start_ns));
  }

  const auto events = loop.supervisor().events();
  std::uint32_t new_events = 0;
  for (; events_seen_ < events.size(); ++events_seen_, ++new_events)
    if (!events_.push(events[events_seen_])) ++events_unqueued_;

  TickTelemetry row;
  row.t_s = t_s;
  row.tick = tick_++;
  if (any_delivered_) {
    row.decision = last_delivered_.intent.label;
    row.confidence = last_delivered_.intent.confidence;
    row.probabilities = last_delivered_.probabilities;
    row.n_classes = last_delivered_.n_probabilities;
  }
  row.decisions_delivered = std::uint32_t(n_tick);
  row.decision_delay_s = delay;
  row.active = loop.intents().active();
  row.mode = loop.supervisor().mode();
  row.knee_estimate_deg = knee_estimate_deg_;
  row.following = loop.following();
  for (std::size_t j = 0; j < control::kJointCount; ++j) {
    row.desired[j] = loop.desired()[j].position_rad;
    row.setpoint[j] = loop.command().position_rad[j];
    row.q[j] = loop.state().joints[j].position_rad;
    row.tau[j] = loop.command().torque_nm[j];
  }
  row.sensor_faults = faults_.load(std::memory_order_relaxed);
  row.channel_faults = channel_faults_.load(std::memory_order_relaxed);
  row.new_events = new_events;
  row.hardware_ok = hw_ok_;
  (void)telemetry_.push(row);
  step_compute_.record_ns(realtime::steady_now_ns() - start_ns);
}

void Session::request_emergency_stop() noexcept { estop_req_.store(true, std::memory_order_release); }
void Session::request_reset() noexcept { reset_req_.store(true, std::memory_order_release); }
void Session::request_resume() noexcept { resume_req_.store(true, std::memory_order_release); }
void Session::request_stream(bool on) noexcept { stream_req_.store(on ? 1 : 0, std::memory_order_release); }

std::size_t Session::pop_emg(std::span<double> out, realtime::ChunkTiming& timing) noexcept {
  return emg_tap_ ? emg_tap_->pop(out, timing) : 0;
}

Status Session::flush_events(const std::function<void(const control::SafetyEvent&)>& also) {
  control::SafetyEvent e;
  bool any = false;
  while (events_.pop(e)) {
    any = true;
    if (also) also(e);
    if (event_file_) std::fprintf(event_file_, "%s\n", format_safety_event(e).c_str());
  }
  if (event_file_ && any && (std::fflush(event_file_) != 0 || std::ferror(event_file_)))
    return make_error(ErrorCode::io, spec_.event_log.string(), 0, "cannot be written (safety event log)");
  return {};
}

SessionStats Session::stats() const {
  SessionStats s;
  s.ticks = tick_;
  s.decisions_made = decisions_made_;
  s.decisions_delivered = delivered_count_;
  s.decisions_dropped = decisions_.dropped();
  s.telemetry_dropped = telemetry_.dropped();
  s.events_dropped = events_unqueued_ + loop_->supervisor().dropped_events();
  s.frames = frames_;
  s.stream_gaps = gaps_;
  s.disconnects = disconnects_;
  s.reconnects = reconnects_;
  s.hardware_errors = hw_errors_;
  s.estop_requests = estop_requests_;
  s.device_estops = device_estops_;
  if (const std::int64_t ns = device_estop_latency_ns_.load(std::memory_order_relaxed); ns >= 0)
    s.device_estop_latency_ms = double(ns) * 1e-6;
  s.reset_requests = reset_requests_;
  s.resets_refused = resets_refused_;
  s.resume_requests = resume_requests_;
  s.sensor_fault_onsets = detector_->fault_onsets();
  s.step_compute = step_compute_.summary();
  s.arrival_to_command = arrival_to_command_.summary();
  s.loop = loop_->stats();
  s.pipeline = pipeline_->stats();
  return s;
}

}  // namespace myoexo::session
