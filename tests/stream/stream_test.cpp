// The ZeroMQ streams: what a subscriber receives from the publisher (schema, decimation, values), and what the EMG
// source makes of a publisher's stream (order, gaps, mismatches, silence).
#include "stream/stream.hpp"

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

namespace stream = myoexo::stream;
namespace rt = myoexo::realtime;
using nlohmann::json;

namespace {

// A loopback endpoint no other test uses (each test binds its own port).
std::string endpoint(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

// Collects every message a SUB socket receives within `ms`: topic -> parts.
std::multimap<std::string, std::vector<std::string>> collect(zmq::socket_t& sub, int ms) {
  std::multimap<std::string, std::vector<std::string>> got;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    zmq::message_t part;
    if (!sub.recv(part, zmq::recv_flags::dontwait)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    const std::string topic = part.to_string();
    std::vector<std::string> parts;
    while (part.more()) {
      (void)sub.recv(part, zmq::recv_flags::none);
      parts.push_back(part.to_string());
    }
    got.emplace(topic, std::move(parts));
  }
  return got;
}

stream::SessionDescription description() {
  stream::SessionDescription d;
  d.sample_rate_hz = 1000.0;
  d.channels = {"RF", "BF"};
  d.unit = "mV";
  d.classes = {"gait", "sitting", "standing"};
  d.source = "replay:test";
  return d;
}

// A subscriber connected to a freshly bound publisher (ZeroMQ's subscription takes a moment to arrive).
struct Fixture {
  zmq::context_t ctx{1};
  zmq::socket_t sub{ctx, zmq::socket_type::sub};
  std::unique_ptr<stream::Publisher> pub;
  explicit Fixture(int port, double tick_rate_hz = 100.0) {
    stream::PublisherOptions o;
    o.endpoint = endpoint(port);
    o.tick_rate_hz = tick_rate_hz;
    auto p = stream::Publisher::create(o, description());
    EXPECT_TRUE(p) << p.error().message();
    pub = std::move(*p);
    sub.set(zmq::sockopt::subscribe, "myoexo.");
    sub.connect(o.endpoint);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
};

}  // namespace

TEST(Publisher, ASubscriberReceivesTheSessionDecisionsDecimatedTicksEventsAndEmg) {
  Fixture f(47611);
  f.pub->heartbeat(0.0);
  rt::Decision d;
  d.intent.window_end_s = 0.25;
  d.intent.label = myoexo::control::IntentLabel::lift;
  d.intent.confidence = 0.93;
  d.raw_class = 2;
  d.raw_probability = 0.93f;
  d.n_probabilities = 3;
  d.probabilities = {0.02f, 0.05f, 0.93f};
  f.pub->decision(d);
  // One second of ticks at 1 kHz: 100 reach the subscriber at 100/s.
  for (int k = 0; k < 1000; ++k) {
    myoexo::session::TickTelemetry t;
    t.t_s = k * 1e-3;
    t.tick = std::uint64_t(k);
    t.mode = myoexo::control::SupervisorMode::normal;
    t.q = {0.1, 0.2};
    f.pub->tick(t);
  }
  myoexo::control::SafetyEvent e;
  e.t_s = 0.5;
  e.reason = myoexo::control::SafetyReason::watchdog;
  f.pub->event(e);
  const std::vector<double> frames = {1, -1, 2, -2, 3, -3};  // 3 frames x 2 channels
  f.pub->emg(frames, 2.0);
  const auto got = collect(f.sub, 400);

  ASSERT_EQ(got.count("myoexo.session"), 1u);
  const auto session = json::parse(got.find("myoexo.session")->second.at(0));
  EXPECT_EQ(session["schema"], 1);
  EXPECT_EQ(session["channels"], json::array({"RF", "BF"}));
  EXPECT_EQ(session["classes"].size(), 3u);
  EXPECT_EQ(session["unit"], "mV");

  ASSERT_EQ(got.count("myoexo.decision"), 1u);
  const auto dj = json::parse(got.find("myoexo.decision")->second.at(0));
  EXPECT_EQ(dj["class"], "standing");
  EXPECT_EQ(dj["intent"], "lift");
  EXPECT_NEAR(dj["probabilities"]["standing"].get<double>(), 0.93, 1e-6);
  EXPECT_NEAR(dj["window_end_s"].get<double>(), 0.25, 1e-12);
  EXPECT_TRUE(dj["knee_angle_deg"].is_null());

  EXPECT_EQ(got.count("myoexo.tick"), 100u);
  const auto tj = json::parse(got.find("myoexo.tick")->second.at(0));
  EXPECT_EQ(tj["mode"], "normal");
  EXPECT_NEAR(tj["measured_deg"][1].get<double>(), 0.2 * 180 / M_PI, 1e-9);

  ASSERT_EQ(got.count("myoexo.event"), 1u);
  EXPECT_EQ(json::parse(got.find("myoexo.event")->second.at(0))["reason"], "watchdog");

  ASSERT_EQ(got.count("myoexo.emg"), 1u);
  const auto& emg = got.find("myoexo.emg")->second;
  ASSERT_EQ(emg.size(), 2u);
  ASSERT_EQ(emg[0].size(), stream::kEmgHeaderBytes);
  EXPECT_EQ(emg[0].substr(0, 4), "MXEM");
  std::uint64_t first = 0;
  std::memcpy(&first, emg[0].data() + 12, 8);
  EXPECT_EQ(first, 2000u);  // 2.0 s at 1 kHz
  ASSERT_EQ(emg[1].size(), frames.size() * sizeof(double));
  std::vector<double> back(frames.size());
  std::memcpy(back.data(), emg[1].data(), emg[1].size());
  EXPECT_EQ(back, frames);
  EXPECT_EQ(f.pub->stats().dropped, 0u);
}

TEST(Publisher, AnEndpointThatCannotBeBoundIsAnIoErrorNamingIt) {
  stream::PublisherOptions o;
  o.endpoint = "tcp://256.1.1.1:5";
  auto p = stream::Publisher::create(o, description());
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, myoexo::ErrorCode::io);
  EXPECT_NE(p.error().message().find("256.1.1.1"), std::string::npos);
}

namespace {

// The source reading a publisher's EMG: every frame in order, each run at its stream time.
struct SourceRig {
  std::unique_ptr<stream::Publisher> pub;
  std::unique_ptr<stream::ZmqEmgSource> src;
  SourceRig(int port, stream::SessionDescription d, std::vector<std::string> names = {"RF", "BF"},
            std::string unit = "mV") {
    stream::PublisherOptions po;
    po.endpoint = endpoint(port);
    auto p = stream::Publisher::create(po, std::move(d));
    EXPECT_TRUE(p);
    pub = std::move(*p);
    stream::ZmqSourceOptions so;
    so.endpoint = po.endpoint;
    so.n_channels = 2;
    so.channel_names = std::move(names);
    so.unit = std::move(unit);
    so.first_data_timeout_s = 2.0;
    auto s = stream::ZmqEmgSource::create(so);
    EXPECT_TRUE(s);
    src = std::move(*s);
    EXPECT_TRUE(src->start());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pub->heartbeat(0.0);
  }
  // Reads until `frames` frames arrived or an error: (first_sample_s, frames) per run and the samples.
  rt::ReadStatus read_all(std::size_t frames, std::vector<std::pair<double, std::size_t>>& runs,
                          std::vector<double>& samples) {
    std::vector<double> buf(64 * 2);
    std::size_t n = 0;
    for (int tries = 0; tries < 200 && n < frames; ++tries) {
      const rt::ReadResult r = src->read(buf);
      if (r.status == rt::ReadStatus::error) return r.status;
      if (r.status != rt::ReadStatus::ok) continue;
      runs.emplace_back(r.first_sample_s, r.frames);
      samples.insert(samples.end(), buf.begin(), buf.begin() + std::ptrdiff_t(r.frames * 2));
      n += r.frames;
    }
    return rt::ReadStatus::ok;
  }
};

}  // namespace

TEST(ZmqEmgSource, ReadsEveryFrameInOrderAndAGapMovesTheStreamTime) {
  SourceRig rig(47612, description());
  std::vector<double> a(100 * 2), b(50 * 2);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = double(i);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = 1000.0 + double(i);
  rig.pub->emg(a, 0.0);    // samples 0..99
  rig.pub->emg(b, 0.150);  // samples 150..199: 50 lost
  std::vector<std::pair<double, std::size_t>> runs;
  std::vector<double> samples;
  ASSERT_EQ(rig.read_all(150, runs, samples), rt::ReadStatus::ok) << rig.src->last_error();
  ASSERT_EQ(samples.size(), 300u);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), samples.begin()));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), samples.begin() + 200));
  EXPECT_DOUBLE_EQ(runs.front().first, 0.0);
  // The run after the gap starts at 150 ms, not where the last one stopped.
  double t_after_gap = -1;
  std::size_t seen = 0;
  for (const auto& [t, n] : runs) {
    if (seen == 100) t_after_gap = t;
    seen += n;
  }
  EXPECT_DOUBLE_EQ(t_after_gap, 0.150);
  EXPECT_EQ(rig.src->stats().gaps, 1u);
  EXPECT_EQ(rig.src->stats().frames_missing, 50u);
}

TEST(ZmqEmgSource, AStreamInAnotherUnitOrChannelOrderIsRefusedWithTheReason) {
  {
    auto d = description();
    d.unit = "V";
    SourceRig rig(47613, d);
    rig.pub->emg(std::vector<double>(20, 0.0), 0.0);
    std::vector<std::pair<double, std::size_t>> runs;
    std::vector<double> samples;
    EXPECT_EQ(rig.read_all(10, runs, samples), rt::ReadStatus::error);
    EXPECT_NE(rig.src->last_error().find("unit 'V', expected 'mV'"), std::string::npos) << rig.src->last_error();
    EXPECT_TRUE(samples.empty());
  }
  {
    SourceRig rig(47614, description(), {"BF", "RF"});
    rig.pub->emg(std::vector<double>(20, 0.0), 0.0);
    std::vector<std::pair<double, std::size_t>> runs;
    std::vector<double> samples;
    EXPECT_EQ(rig.read_all(10, runs, samples), rt::ReadStatus::error);
    EXPECT_NE(rig.src->last_error().find("order"), std::string::npos) << rig.src->last_error();
  }
}

TEST(ZmqEmgSource, NoPublisherIsAClearErrorAfterTheTimeout) {
  stream::ZmqSourceOptions so;
  so.endpoint = endpoint(47615);
  so.n_channels = 2;
  so.first_data_timeout_s = 0.3;
  auto s = stream::ZmqEmgSource::create(so);
  ASSERT_TRUE(s);
  ASSERT_TRUE((*s)->start());
  std::vector<double> buf(128);
  rt::ReadResult r;
  const auto t0 = std::chrono::steady_clock::now();
  do r = (*s)->read(buf);
  while (r.status == rt::ReadStatus::no_data && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  EXPECT_EQ(r.status, rt::ReadStatus::error);
  EXPECT_NE((*s)->last_error().find("no publisher answered"), std::string::npos) << (*s)->last_error();
}
