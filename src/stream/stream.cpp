#include "stream/stream.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "control/intent.hpp"
#include "realtime/timing.hpp"

namespace myoexo::stream {

namespace {

static_assert(std::endian::native == std::endian::little, "the EMG header and samples are little-endian");

using nlohmann::json;

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// The 28-byte EMG header (stream.hpp).
struct EmgHeader {
  std::uint16_t schema = kSchemaVersion;
  std::uint16_t channels = 0;
  std::uint32_t frames = 0;
  std::uint64_t first_index = 0;
  double rate_hz = 0.0;
};

void pack(const EmgHeader& h, std::uint8_t* out) {
  std::memcpy(out, "MXEM", 4);
  std::memcpy(out + 4, &h.schema, 2);
  std::memcpy(out + 6, &h.channels, 2);
  std::memcpy(out + 8, &h.frames, 4);
  std::memcpy(out + 12, &h.first_index, 8);
  std::memcpy(out + 20, &h.rate_hz, 8);
}

bool unpack(const std::uint8_t* in, std::size_t n, EmgHeader& h) {
  if (n != kEmgHeaderBytes || std::memcmp(in, "MXEM", 4) != 0) return false;
  std::memcpy(&h.schema, in + 4, 2);
  std::memcpy(&h.channels, in + 6, 2);
  std::memcpy(&h.frames, in + 8, 4);
  std::memcpy(&h.first_index, in + 12, 8);
  std::memcpy(&h.rate_hz, in + 20, 8);
  return true;
}

}  // namespace

// ---- Publisher ----------------------------------------------------------------------------------------------

struct Publisher::Impl {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::pub};
  PublisherOptions options;
  SessionDescription session;
  std::string endpoint;
  PublisherStats stats;
  double last_tick_t = -1e300;  // the decimation interval of the last tick published
  double last_heartbeat_t = -1e300;
  std::string session_json;

  void send(const char* topic, const std::string& payload) {
    const bool a = socket.send(zmq::buffer(std::string_view(topic)), zmq::send_flags::sndmore | zmq::send_flags::dontwait)
                       .has_value();
    if (!a) {
      ++stats.dropped;
      return;
    }
    (void)socket.send(zmq::buffer(payload), zmq::send_flags::dontwait);
    ++stats.sent;
  }
};

Publisher::Publisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Publisher::~Publisher() = default;

Result<std::unique_ptr<Publisher>> Publisher::create(const PublisherOptions& options, SessionDescription session) {
  if (options.endpoint.empty()) return make_error(ErrorCode::invalid_argument, "--publish: no endpoint given");
  if (!(options.tick_rate_hz >= 0) || !std::isfinite(options.tick_rate_hz))
    return make_error(ErrorCode::invalid_argument, "publisher: tick_rate_hz must be >= 0");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->session = std::move(session);
  try {
    impl->socket.set(zmq::sockopt::sndhwm, std::max(1, options.send_high_water_mark));
    impl->socket.set(zmq::sockopt::linger, 200);  // at the end, give queued messages 0.2 s to leave
    impl->socket.bind(options.endpoint);
    impl->endpoint = impl->socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::io, options.endpoint, 0, std::string("cannot publish there: ") + e.what());
  }
  const SessionDescription& s = impl->session;
  impl->session_json = json{{"schema", kSchemaVersion},
                            {"sample_rate_hz", s.sample_rate_hz},
                            {"channels", s.channels},
                            {"unit", s.unit},
                            {"classes", s.classes},
                            {"source", s.source},
                            {"program", "myoexo"}}
                           .dump();
  return std::unique_ptr<Publisher>(new Publisher(std::move(impl)));
}

const std::string& Publisher::endpoint() const noexcept { return impl_->endpoint; }
const PublisherStats& Publisher::stats() const noexcept { return impl_->stats; }

void Publisher::heartbeat(double t_s) {
  if (t_s - impl_->last_heartbeat_t < 1.0) return;
  impl_->last_heartbeat_t = t_s;
  impl_->send(kTopicSession, impl_->session_json);
}

void Publisher::decision(const realtime::Decision& d) {
  const auto& classes = impl_->session.classes;
  json probs = json::object();
  for (std::size_t c = 0; c < d.n_probabilities && c < classes.size(); ++c) probs[classes[c]] = d.probabilities[c];
  json j = {{"window_end_s", d.intent.window_end_s},
            {"window_index", d.window_index},
            {"class", d.raw_class >= 0 && std::size_t(d.raw_class) < classes.size()
                          ? json(classes[std::size_t(d.raw_class)])
                          : json(nullptr)},
            {"probability", d.raw_probability},
            {"probabilities", probs},
            {"rejected", d.rejected},
            {"nonfinite_input", d.nonfinite_input},
            {"intent", control::intent_label_name(d.intent.label)},
            {"confidence", d.intent.confidence},
            {"compute_us", double(d.compute_ns) / 1e3},
            {"knee_angle_deg", number_or_null(d.knee_angle_deg)}};
  impl_->send(kTopicDecision, j.dump());
  ++impl_->stats.decisions;
}

void Publisher::tick(const session::TickTelemetry& t) {
  if (impl_->options.tick_rate_hz <= 0) return;
  // One tick per 1/rate interval of control time (the first tick in each), so wall-clock jitter neither drops nor
  // doubles any; time that went backwards publishes at once.
  const double bucket = std::floor(t.t_s * impl_->options.tick_rate_hz);
  if (bucket == impl_->last_tick_t) return;
  impl_->last_tick_t = bucket;
  auto deg = [](const std::array<double, control::kJointCount>& a) {
    return json::array({a[0] * 180.0 / M_PI, a[1] * 180.0 / M_PI});
  };
  json j = {{"t_s", t.t_s},
            {"tick", t.tick},
            {"mode", control::supervisor_mode_name(t.mode)},
            {"active_intent", control::intent_label_name(t.active)},
            {"decision", control::intent_label_name(t.decision)},
            {"confidence", t.confidence},
            {"setpoint_deg", deg(t.setpoint)},
            {"measured_deg", deg(t.q)},
            {"torque_nm", json::array({t.tau[0], t.tau[1]})},
            {"sensor_faults", t.sensor_faults},
            {"new_events", t.new_events},
            {"hardware_ok", t.hardware_ok},
            {"decision_delay_ms", number_or_null(t.decision_delay_s * 1e3)},
            {"knee_estimate_deg", number_or_null(t.knee_estimate_deg)},
            {"following", t.following}};
  impl_->send(kTopicTick, j.dump());
  ++impl_->stats.ticks;
}

void Publisher::event(const control::SafetyEvent& e) {
  json j = {{"t_s", e.t_s},
            {"reason", control::safety_reason_name(e.reason)},
            {"joint", e.joint},
            {"value", number_or_null(e.value)},
            {"limit", number_or_null(e.limit)}};
  impl_->send(kTopicEvent, j.dump());
  ++impl_->stats.events;
}

void Publisher::emg(std::span<const double> frames, double first_sample_s) {
  if (!impl_->options.emg) return;
  const std::size_t nch = impl_->session.channels.size();
  if (nch == 0 || frames.empty() || frames.size() % nch != 0) return;
  EmgHeader h;
  h.channels = std::uint16_t(nch);
  h.frames = std::uint32_t(frames.size() / nch);
  h.first_index = std::uint64_t(std::llround(first_sample_s * impl_->session.sample_rate_hz));
  h.rate_hz = impl_->session.sample_rate_hz;
  std::uint8_t header[kEmgHeaderBytes];
  pack(h, header);
  auto& sock = impl_->socket;
  const auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
  if (!sock.send(zmq::buffer(std::string_view(kTopicEmg)), more).has_value()) {
    ++impl_->stats.dropped;
    return;
  }
  (void)sock.send(zmq::buffer(header, sizeof header), more);
  (void)sock.send(zmq::buffer(frames.data(), frames.size() * sizeof(double)), zmq::send_flags::dontwait);
  ++impl_->stats.sent;
  ++impl_->stats.emg_chunks;
}

// ---- ZmqEmgSource ---------------------------------------------------------------------------------------------

struct ZmqEmgSource::Impl {
  ZmqSourceOptions options;
  std::vector<std::string> names, units;
  zmq::context_t context{1};
  std::optional<zmq::socket_t> socket;
  std::vector<double> pending;              // frames of the last message not yet delivered
  std::size_t pending_begin = 0, pending_end = 0;  // in frames
  std::uint64_t pending_index = 0;          // sample index of pending_begin
  std::uint64_t next_index = 0;
  bool have_index = false;
  bool described = false;                   // a session message validated the stream
  std::string session_bytes;                // that message, to recognise it again without parsing
  std::int64_t start_ns = 0, arrival_ns = 0;
  std::string error;
  ZmqSourceStats stats;

  // Checks a session message against what the source was created for; stores it. False (error set) on mismatch.
  bool accept_session(const zmq::message_t& m) {
    const std::string_view text(static_cast<const char*>(m.data()), m.size());
    if (described && text == session_bytes) return true;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++stats.rejected;
      return true;  // not ours to judge: ignored, counted
    }
    const auto rate = j.value("sample_rate_hz", 0.0);
    const auto unit = j.value("unit", std::string());
    std::vector<std::string> channels;
    if (j.contains("channels") && j["channels"].is_array())
      for (const auto& c : j["channels"]) channels.push_back(c.is_string() ? c.get<std::string>() : std::string());
    std::string why;
    if (j.value("schema", 0) != kSchemaVersion)
      why = "schema " + std::to_string(j.value("schema", 0)) + ", this program reads " + std::to_string(kSchemaVersion);
    else if (std::abs(rate - options.sample_rate_hz) > 1e-9 * options.sample_rate_hz)
      why = "rate " + std::to_string(rate) + " Hz, expected " + std::to_string(options.sample_rate_hz) + " Hz";
    else if (channels.size() != options.n_channels)
      why = std::to_string(channels.size()) + " channels, expected " + std::to_string(options.n_channels);
    else if (!options.channel_names.empty() && channels != options.channel_names)
      why = "channels in another order or with other names than the model's";
    else if (unit != options.unit)
      why = "unit '" + unit + "', expected '" + options.unit + "' (the stream's unit is not converted)";
    if (!why.empty()) {
      error = options.endpoint + ": the stream says " + why;
      return false;
    }
    names = channels;
    units.assign(options.n_channels, unit);
    session_bytes.assign(text);
    described = true;
    return true;
  }
};

ZmqEmgSource::ZmqEmgSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZmqEmgSource::~ZmqEmgSource() { stop(); }

Result<std::unique_ptr<ZmqEmgSource>> ZmqEmgSource::create(const ZmqSourceOptions& options) {
  if (options.endpoint.empty()) return make_error(ErrorCode::invalid_argument, "zmq source: no endpoint given");
  if (options.n_channels == 0 || options.n_channels > 64)
    return make_error(ErrorCode::invalid_argument, "zmq source: n_channels must be 1..64");
  if (!(options.sample_rate_hz > 0) || !std::isfinite(options.sample_rate_hz))
    return make_error(ErrorCode::invalid_argument, "zmq source: sample_rate_hz must be > 0");
  if (!options.channel_names.empty() && options.channel_names.size() != options.n_channels)
    return make_error(ErrorCode::invalid_argument, "zmq source: channel_names must name every channel");
  if (options.max_chunk_frames == 0 || options.poll_timeout_ms < 0)
    return make_error(ErrorCode::invalid_argument, "zmq source: max_chunk_frames > 0, poll_timeout_ms >= 0");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->names = options.channel_names;
  if (impl->names.empty())
    for (std::size_t c = 0; c < options.n_channels; ++c) impl->names.push_back("ch" + std::to_string(c));
  impl->units.assign(options.n_channels, options.unit);
  impl->pending.resize(options.max_chunk_frames * options.n_channels);
  return std::unique_ptr<ZmqEmgSource>(new ZmqEmgSource(std::move(impl)));
}

std::size_t ZmqEmgSource::n_channels() const noexcept { return impl_->options.n_channels; }
double ZmqEmgSource::sample_rate_hz() const noexcept { return impl_->options.sample_rate_hz; }
const std::vector<std::string>& ZmqEmgSource::channel_names() const noexcept { return impl_->names; }
const std::vector<std::string>& ZmqEmgSource::channel_units() const noexcept { return impl_->units; }
std::string ZmqEmgSource::last_error() const { return impl_->error; }
const ZmqSourceStats& ZmqEmgSource::stats() const noexcept { return impl_->stats; }

Status ZmqEmgSource::start() {
  Impl& s = *impl_;
  if (s.socket) return {};
  try {
    s.socket.emplace(s.context, zmq::socket_type::sub);
    s.socket->set(zmq::sockopt::subscribe, kTopicSession);
    s.socket->set(zmq::sockopt::subscribe, kTopicEmg);
    s.socket->set(zmq::sockopt::rcvhwm, 100000);
    s.socket->connect(s.options.endpoint);
  } catch (const zmq::error_t& e) {
    s.socket.reset();
    return make_error(ErrorCode::io, s.options.endpoint, 0, std::string("cannot subscribe: ") + e.what());
  }
  s.start_ns = realtime::steady_now_ns();
  s.error.clear();
  return {};
}

void ZmqEmgSource::stop() noexcept {
  if (!impl_ || !impl_->socket) return;
  try {
    impl_->socket->close();
  } catch (...) {
  }
  impl_->socket.reset();
}

realtime::ReadResult ZmqEmgSource::read(std::span<double> out) noexcept {
  Impl& s = *impl_;
  realtime::ReadResult r;
  const std::size_t nch = s.options.n_channels;
  const std::size_t cap = out.size() / nch;
  if (cap == 0 || !s.socket) {
    r.status = realtime::ReadStatus::error;
    if (!s.socket) s.error = "zmq source: read before start";
    return r;
  }
  try {
    while (s.pending_begin == s.pending_end) {
      zmq::pollitem_t item{s.socket->handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(s.options.poll_timeout_ms));
      if (!(item.revents & ZMQ_POLLIN)) {
        if (!s.have_index && s.options.first_data_timeout_s > 0 &&
            double(realtime::steady_now_ns() - s.start_ns) * 1e-9 >= s.options.first_data_timeout_s) {
          s.error = s.options.endpoint + ": no EMG within " + std::to_string(int(s.options.first_data_timeout_s)) +
                    " s (" + (s.described ? "the publisher described its stream but sent no samples"
                                          : "no publisher answered: is it running, and publishing \"myoexo.emg\"?") +
                    ")";
          r.status = realtime::ReadStatus::error;
          return r;
        }
        r.status = realtime::ReadStatus::no_data;
        return r;
      }
      zmq::message_t topic, header, data;
      if (!s.socket->recv(topic, zmq::recv_flags::dontwait)) continue;
      const std::string_view t(static_cast<const char*>(topic.data()), topic.size());
      if (t == kTopicSession) {
        if (!topic.more() || !s.socket->recv(header, zmq::recv_flags::none)) continue;
        while (header.more()) (void)s.socket->recv(data, zmq::recv_flags::none);  // extra parts: ignored
        if (!s.accept_session(header)) {
          r.status = realtime::ReadStatus::error;
          return r;
        }
        continue;
      }
      // "myoexo.emg": header and samples.
      bool ok = topic.more() && s.socket->recv(header, zmq::recv_flags::none).has_value() && header.more() &&
                s.socket->recv(data, zmq::recv_flags::none).has_value();
      while (ok && data.more()) {  // a malformed message with extra parts: drain it
        zmq::message_t extra;
        (void)s.socket->recv(extra, zmq::recv_flags::none);
        ok = extra.more();
        if (!ok) break;
      }
      EmgHeader h;
      if (!ok || !unpack(static_cast<const std::uint8_t*>(header.data()), header.size(), h) ||
          h.schema != kSchemaVersion || h.channels != nch || h.frames == 0 || h.frames > s.options.max_chunk_frames ||
          data.size() != std::size_t(h.frames) * nch * sizeof(double)) {
        ++s.stats.rejected;
        if (ok && h.channels != nch && h.frames > 0) {
          s.error = s.options.endpoint + ": EMG chunks of " + std::to_string(h.channels) + " channels, expected " +
                    std::to_string(nch);
          r.status = realtime::ReadStatus::error;
          return r;
        }
        continue;
      }
      if (!s.described) continue;  // EMG before the stream was described: not read (its names/unit are unknown)
      if (std::abs(h.rate_hz - s.options.sample_rate_hz) > 1e-9 * s.options.sample_rate_hz) {
        s.error = s.options.endpoint + ": EMG chunks at " + std::to_string(h.rate_hz) + " Hz, expected " +
                  std::to_string(s.options.sample_rate_hz) + " Hz";
        r.status = realtime::ReadStatus::error;
        return r;
      }
      if (s.have_index && h.first_index + h.frames <= s.next_index) {  // old or repeated: nothing new
        ++s.stats.rejected;
        continue;
      }
      std::size_t skip = 0;  // frames of this chunk already delivered (an overlapping chunk)
      if (s.have_index && h.first_index < s.next_index) skip = std::size_t(s.next_index - h.first_index);
      std::memcpy(s.pending.data(), static_cast<const double*>(data.data()) + skip * nch,
                  (h.frames - skip) * nch * sizeof(double));
      s.pending_begin = 0;
      s.pending_end = h.frames - skip;
      s.pending_index = h.first_index + skip;
      s.arrival_ns = realtime::steady_now_ns();
      ++s.stats.messages;
    }
  } catch (const zmq::error_t& e) {
    s.error = s.options.endpoint + ": " + e.what();
    r.status = realtime::ReadStatus::error;
    return r;
  }
  if (s.have_index && s.pending_index > s.next_index) {
    ++s.stats.gaps;
    s.stats.frames_missing += s.pending_index - s.next_index;
  }
  const std::size_t m = std::min(cap, s.pending_end - s.pending_begin);
  std::copy_n(s.pending.data() + s.pending_begin * nch, m * nch, out.data());
  r.status = realtime::ReadStatus::ok;
  r.frames = m;
  r.first_sample_s = double(s.pending_index) / s.options.sample_rate_hz;
  r.arrival_ns = s.arrival_ns;
  s.pending_begin += m;
  s.pending_index += m;
  s.next_index = s.pending_index;
  s.have_index = true;
  s.stats.frames += m;
  return r;
}

}  // namespace myoexo::stream
