// End-to-end test of the serial path against a pseudo-terminal peer that plays the board: it waits for the
// start byte, sends garbage, frames with gaps and corrupt checksums, disconnects mid-stream, comes back on a
// new pseudo-terminal behind the same (symlink) port name, and finally goes away for good, name and all. The
// host side is the real SerialSource + WireFrameParser + record_session + Recorder; we assert exact counts and
// that every intact sample is in the recorded file.
#include "realtime/serial_source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "io/io.hpp"
#include "realtime/acquisition.hpp"

namespace myoexo::realtime {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kChannels = 4;

/// A pseudo-terminal master whose slave is reachable through `link` (re-pointed atomically).
struct PtyBoard {
  int master = -1;
  ~PtyBoard() { close_master(); }
  bool open_behind(const fs::path& link) {
    master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return false;
    const char* slave = ::ptsname(master);
    if (!slave) return false;
    const fs::path tmp = link.string() + ".new";
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_symlink(slave, tmp, ec);
    if (ec) return false;
    fs::rename(tmp, link, ec);  // atomic re-point
    return !ec;
  }
  void close_master() {
    if (master >= 0) ::close(master);
    master = -1;
  }
  /// Waits up to 5 s for `want` from the host; other bytes are ignored (like the firmware).
  bool wait_for_byte(std::uint8_t want) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0 && (p.revents & POLLIN)) {
        std::uint8_t b = 0;
        if (::read(master, &b, 1) == 1 && b == want) return true;
      }
    }
    return false;
  }
  void send(const std::vector<std::uint8_t>& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(master, bytes.data() + done, std::min<std::size_t>(256, bytes.size() - done));
      if (n > 0) done += static_cast<std::size_t>(n);
      else std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
};

/// Codes of frame `seq` in session `session`, nudged so that no 0xA5 0x5A pair appears inside a frame
/// (then a corrupt frame costs exactly itself and the counts below are exact).
std::vector<std::uint16_t> codes_for(int session, int seq) {
  for (std::uint16_t bump = 0;; ++bump) {
    std::vector<std::uint16_t> codes(kChannels);
    for (std::size_t c = 0; c < kChannels; ++c)
      codes[c] = static_cast<std::uint16_t>((seq * 37 + c * 101 + session * 7 + bump) % 1024);
    std::vector<std::uint8_t> f(wire_frame_bytes(kChannels));
    encode_wire_frame(static_cast<std::uint8_t>(seq), codes, f);
    bool clean = true;
    for (std::size_t i = 1; i + 1 < f.size(); ++i) clean &= !(f[i] == kWireSync1 && f[i + 1] == kWireSync2);
    clean &= f.back() != kWireSync1;
    if (clean) return codes;
  }
}

std::vector<std::uint8_t> frame(int session, int seq) {
  std::vector<std::uint8_t> f(wire_frame_bytes(kChannels));
  encode_wire_frame(static_cast<std::uint8_t>(seq), codes_for(session, seq), f);
  return f;
}

/// Forwards to a SerialSource and publishes the delivered frame count (so the peer knows when the host
/// has consumed everything before it hangs up).
class CountingSource final : public EmgSource {
 public:
  explicit CountingSource(SerialSource& s) : s_(s) {}
  std::size_t n_channels() const noexcept override { return s_.n_channels(); }
  double sample_rate_hz() const noexcept override { return s_.sample_rate_hz(); }
  const std::vector<std::string>& channel_names() const noexcept override { return s_.channel_names(); }
  const std::vector<std::string>& channel_units() const noexcept override { return s_.channel_units(); }
  Status start() override { return s_.start(); }
  void stop() noexcept override { s_.stop(); }
  ReadResult read(std::span<double> out) noexcept override {
    const ReadResult r = s_.read(out);
    if (r.status == ReadStatus::ok) delivered.fetch_add(r.frames);
    return r;
  }
  std::atomic<std::uint64_t> delivered{0};

 private:
  SerialSource& s_;
};

bool wait_until(const std::atomic<std::uint64_t>& v, std::uint64_t want) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (v.load() < want && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return v.load() >= want;
}

class SerialPtyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("myoexo_serial_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SerialPtyTest, RecordsEveryIntactFrameThroughGarbageLossCorruptionAndAReconnect) {
  const fs::path port = dir_ / "board";
  PtyBoard board;
  ASSERT_TRUE(board.open_behind(port));

  SerialOptions opt;
  opt.port = port.string();
  opt.n_channels = kChannels;
  opt.backend = SerialBackend::posix;  // libserialport refuses pseudo-terminals (see serial_source.hpp)
  opt.poll_timeout_ms = 10;
  // This peer sends as fast as it can, not at 1 kHz: arrival times say nothing about frame counts here
  // (a preempted peer thread would look like 256+ lost frames). The estimate has its own test below.
  opt.estimate_long_gaps = false;
  auto serial = SerialSource::create(opt).value();
  CountingSource src(serial);

  // Session 1: 100 frames, 10-12 dropped, 20 and 40 corrupt, 30 garbage bytes after 50, 5 before the first.
  // Session 2 (after reconnecting): 7 garbage bytes, 50 clean frames. Then the board vanishes.
  const std::vector<std::uint8_t> garbage5{0x00, 0x13, 0x5A, 0xFF, 0x42};
  std::vector<std::vector<std::uint16_t>> intact;  // expected recorded codes, in order
  std::vector<std::uint8_t> s1 = garbage5;
  for (int seq = 0; seq < 100; ++seq) {
    if (seq >= 10 && seq <= 12) continue;
    auto f = frame(1, seq);
    if (seq == 20 || seq == 40) {
      f[4] ^= 0x04;
    } else {
      intact.push_back(codes_for(1, seq));
    }
    s1.insert(s1.end(), f.begin(), f.end());
    if (seq == 50)
      for (int g = 0; g < 30; ++g) s1.push_back(static_cast<std::uint8_t>(0x10 + g));
  }
  const std::size_t n1 = intact.size();
  std::vector<std::uint8_t> s2{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  for (int seq = 0; seq < 50; ++seq) {
    const auto f = frame(2, seq);
    s2.insert(s2.end(), f.begin(), f.end());
    intact.push_back(codes_for(2, seq));
  }

  std::atomic<bool> peer_ok{true};
  std::thread peer([&] {
    if (!board.wait_for_byte(kWireStartByte)) { peer_ok = false; return; }
    board.send(s1);
    if (!wait_until(src.delivered, n1)) { peer_ok = false; }
    // Disconnect mid-stream. The port name goes first: pseudo-terminal numbers are reused at once, and a
    // stale link could lead the host's reconnect into another test's pseudo-terminal (ctest runs in parallel).
    fs::remove(port);
    board.close_master();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    PtyBoard again;
    if (!again.open_behind(port)) { peer_ok = false; return; }
    if (!again.wait_for_byte(kWireStartByte)) { peer_ok = false; return; }
    again.send(s2);
    if (!wait_until(src.delivered, intact.size())) { peer_ok = false; }
    fs::remove(port);  // gone for good: every reconnect attempt fails
    again.close_master();
  });

  RecordSessionOptions ro;
  ro.read_frames = 16;
  ro.reconnect.interval_s = 0.05;
  ro.reconnect.max_attempts = 5;
  const fs::path out = dir_ / "session.csv";
  auto first = record_session(src, out, ro);
  peer.join();
  ASSERT_TRUE(peer_ok.load());
  ASSERT_TRUE(first.ok()) << first.error().message();
  const SessionReport& rep = *first;

  const WireStats& w = serial.wire_stats();
  EXPECT_EQ(w.frames_ok, intact.size());
  EXPECT_EQ(w.crc_failures, 2u);
  EXPECT_EQ(w.frames_missing, 5u);  // 3 dropped + 2 corrupt
  EXPECT_EQ(w.bytes_discarded, 5u + 30u + 7u + 2u * wire_frame_bytes(kChannels));
  EXPECT_EQ(rep.frames, intact.size());
  EXPECT_EQ(rep.disconnects, 2u);
  EXPECT_EQ(rep.reconnects, 1u);
  EXPECT_EQ(rep.end_status, ReadStatus::disconnected);
  EXPECT_GE(rep.runs_after_gap, 3u);  // after 10-12, 20, 40 (and the reconnect)
  EXPECT_EQ(serial.stats().starts, 2u);

  // Every intact sample is in the file, in order, exactly.
  io::CsvOptions co;
  co.sample_rate_hz = 1000.0;
  co.time_column = "time_s";
  auto rec = io::read_csv(out, co);
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  ASSERT_EQ(rec->n_channels(), kChannels);
  ASSERT_EQ(rec->n_samples, intact.size());
  for (std::size_t i = 0; i < intact.size(); ++i)
    for (std::size_t c = 0; c < kChannels; ++c)
      ASSERT_EQ(rec->samples[c * rec->n_samples + i], intact[i][c]) << "frame " << i << " channel " << c;
}

TEST_F(SerialPtyTest, StartFailsCleanlyWhenThePortIsMissing) {
  SerialOptions opt;
  opt.port = (dir_ / "nothing").string();
  opt.backend = SerialBackend::posix;
  auto s = SerialSource::create(opt).value();
  const Status st = s.start();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::io);
  std::vector<double> buf(64);
  EXPECT_EQ(s.read(buf).status, ReadStatus::disconnected);
}

TEST_F(SerialPtyTest, LibSerialPortBackendReportsAnUnknownPort) {
  SerialOptions opt;
  opt.port = "/dev/myoexo-no-such-port";
  opt.backend = SerialBackend::libserialport;
  auto s = SerialSource::create(opt).value();
  const Status st = s.start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::io);
  (void)list_serial_ports();  // must not crash without ports
}

TEST_F(SerialPtyTest, StopSendsTheStopByte) {
  const fs::path port = dir_ / "board";
  PtyBoard board;
  ASSERT_TRUE(board.open_behind(port));
  SerialOptions opt;
  opt.port = port.string();
  opt.n_channels = 2;
  opt.backend = SerialBackend::posix;
  auto s = SerialSource::create(opt).value();
  ASSERT_TRUE(s.start().ok());
  EXPECT_TRUE(board.wait_for_byte(kWireStartByte));
  s.stop();
  EXPECT_TRUE(board.wait_for_byte(kWireStopByte));
}

/// A scripted link: each read() first sleeps `delay_ms` of its step, then returns the step's bytes.
class ScriptedLink final : public SerialLink {
 public:
  struct Step {
    int delay_ms;
    std::vector<std::uint8_t> bytes;
  };
  explicit ScriptedLink(std::vector<Step> steps) : steps_(std::move(steps)) {}
  Status open() override {
    open_ = true;
    return {};
  }
  void close() noexcept override { open_ = false; }
  bool is_open() const noexcept override { return open_; }
  long read(std::span<std::uint8_t> buf, int) noexcept override {
    if (next_ >= steps_.size()) {
      open_ = false;
      return -1;
    }
    const Step& s = steps_[next_++];
    std::this_thread::sleep_for(std::chrono::milliseconds(s.delay_ms));
    const std::size_t n = std::min(buf.size(), s.bytes.size());
    std::copy_n(s.bytes.begin(), n, buf.begin());
    return static_cast<long>(n);
  }
  bool write(std::span<const std::uint8_t>) noexcept override { return true; }
  const std::string& name() const noexcept override { return name_; }

 private:
  std::vector<Step> steps_;
  std::size_t next_ = 0;
  bool open_ = false;
  std::string name_ = "scripted";
};

TEST(SerialSource, GapOfHundredsOfFramesIsSizedFromArrivalTimes) {
  // A 2 kHz board: 10 frames, then the link loses 590 frames (a 295 ms outage: the 8-bit sequence says 78),
  // then 10 more frames. The host's clock sees ~300 ms between the runs: 590 = 78 + 2 x 256.
  // Timing slack: the estimate is right while the sleep overshoots by less than 128 periods (64 ms).
  auto run = [](int first, int count) {
    std::vector<std::uint8_t> b;
    for (int k = first; k < first + count; ++k) {
      const auto f = frame(3, k % 256);
      b.insert(b.end(), f.begin(), f.end());
    }
    return b;
  };
  std::vector<ScriptedLink::Step> steps{{0, run(0, 10)}, {300, run(600, 10)}};
  SerialOptions opt;
  opt.port = "scripted";
  opt.n_channels = kChannels;
  opt.sample_rate_hz = 2000.0;
  auto s = SerialSource::create(opt, std::make_unique<ScriptedLink>(std::move(steps))).value();
  ASSERT_TRUE(s.start().ok());
  std::vector<double> buf(64 * kChannels);
  std::vector<ReadResult> runs;
  for (int i = 0; i < 10; ++i) {
    const ReadResult r = s.read(buf);
    if (r.status == ReadStatus::disconnected) break;
    if (r.status == ReadStatus::ok) runs.push_back(r);
  }
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].frames, 10u);
  EXPECT_EQ(runs[1].frames, 10u);
  EXPECT_DOUBLE_EQ(runs[1].first_sample_s, 600.0 / 2000.0);  // stream time right across the gap
  EXPECT_EQ(s.wire_stats().frames_missing, 590u);
  EXPECT_EQ(s.wire_stats().frames_missing_estimated, 512u);
  EXPECT_EQ(s.wire_stats().gaps_estimated, 1u);
}

std::vector<std::uint8_t> frame_v2_bytes(std::uint16_t seq, std::uint8_t status, const std::vector<std::uint16_t>& codes) {
  std::vector<std::uint8_t> f(wire_frame_bytes_v2(codes.size()));
  encode_wire_frame_v2(seq, status, codes, f);
  return f;
}

// The board's e-stop bit in a frame in the middle of one read (a short press while the host lagged behind) is
// reported for that read, not overwritten by the released frames after it; the next read without it reports the
// release.
TEST(SerialSource, AShortEstopPressInsideOneReadIsReported) {
  auto run = [](int first, int count, int pressed) {
    std::vector<std::uint8_t> b;
    for (int k = first; k < first + count; ++k) {
      const auto f = frame_v2_bytes(std::uint16_t(k), k == pressed ? kWireStatusEstop : 0, codes_for(5, k));
      b.insert(b.end(), f.begin(), f.end());
    }
    return b;
  };
  std::vector<ScriptedLink::Step> steps{{0, run(0, 20, -1)}, {0, run(20, 20, 27)}, {0, run(40, 20, -1)}};
  SerialOptions opt;
  opt.port = "scripted";
  opt.n_channels = kChannels;
  opt.protocol = 2;
  auto s = SerialSource::create(opt, std::make_unique<ScriptedLink>(std::move(steps))).value();
  ASSERT_TRUE(s.start().ok());
  std::vector<double> buf(64 * kChannels);
  std::vector<bool> pressed;
  for (int i = 0; i < 10; ++i) {
    const ReadResult r = s.read(buf);
    if (r.status == ReadStatus::disconnected) break;
    if (r.status != ReadStatus::ok) continue;
    ASSERT_EQ(r.frames, 20u);
    pressed.push_back(s.device_estop());
  }
  EXPECT_EQ(pressed, (std::vector<bool>{false, true, false}));
}

/// A version-2 board behind a link that drops: each open() starts the next connection's scripted reads; a
/// connection ends in a disconnect (-1). Remembers the bytes the host wrote in each connection.
class DroppingLink final : public SerialLink {
 public:
  explicit DroppingLink(std::vector<std::vector<ScriptedLink::Step>> connections) : connections_(std::move(connections)) {}
  Status open() override {
    if (connection_ >= connections_.size()) return make_error(ErrorCode::io, "dropping: gone");
    ++connection_;
    next_ = 0;
    open_ = true;
    written.emplace_back();
    return {};
  }
  void close() noexcept override { open_ = false; }
  bool is_open() const noexcept override { return open_; }
  long read(std::span<std::uint8_t> buf, int) noexcept override {
    const auto& steps = connections_[connection_ - 1];
    if (next_ >= steps.size()) {
      open_ = false;
      return -1;
    }
    const ScriptedLink::Step& s = steps[next_++];
    std::this_thread::sleep_for(std::chrono::milliseconds(s.delay_ms));
    const std::size_t n = std::min(buf.size(), s.bytes.size());
    std::copy_n(s.bytes.begin(), n, buf.begin());
    return static_cast<long>(n);
  }
  bool write(std::span<const std::uint8_t> bytes) noexcept override {
    written.back().insert(written.back().end(), bytes.begin(), bytes.end());
    return true;
  }
  const std::string& name() const noexcept override { return name_; }
  std::vector<std::vector<std::uint8_t>> written;

 private:
  std::vector<std::vector<ScriptedLink::Step>> connections_;
  std::size_t connection_ = 0, next_ = 0;
  bool open_ = false;
  std::string name_ = "dropping";
};

TEST(SerialSource, AVersionTwoBoardThatKeptStreamingAcrossAReconnectIsCountedFromItsSequence) {
  // A 20 kHz version-2 board: 100 frames, the link drops, and 250 ms later (5000 frames: more than the 12-bit
  // sequence's 4096, so the clock supplies one wrap) the host has reconnected and the board, which kept
  // streaming, goes on with frame 5100. Then the link drops again and the board comes back restarted (a reset on
  // open): its first frame flags a new sequence, the gap is sized from the clock alone.
  // Timing slack: the wrap is right while the sleeps overshoot by less than half a wrap (102 ms).
  auto run = [](int first, int count, std::uint8_t first_status) {
    std::vector<std::uint8_t> b;
    for (int k = first; k < first + count; ++k) {
      const auto f = frame_v2_bytes(std::uint16_t(k % 4096), k == first ? first_status : 0, codes_for(4, k));
      b.insert(b.end(), f.begin(), f.end());
    }
    return b;
  };
  std::vector<std::vector<ScriptedLink::Step>> connections{{{0, run(0, 100, kWireStatusStreamStart)}},
                                                          {{250, run(5100, 10, 0)}},
                                                          {{100, run(0, 10, kWireStatusStreamStart)}}};
  auto link = std::make_unique<DroppingLink>(std::move(connections));
  const DroppingLink* board = link.get();
  SerialOptions opt;
  opt.port = "dropping";
  opt.n_channels = kChannels;
  opt.sample_rate_hz = 20000.0;
  auto s = SerialSource::create(opt, std::move(link)).value();
  ASSERT_TRUE(s.start().ok());
  std::vector<double> buf(256 * kChannels);
  std::vector<ReadResult> runs;
  WireStats after_reconnect;
  int disconnects = 0;
  for (int i = 0; i < 20 && disconnects < 3; ++i) {
    const ReadResult r = s.read(buf);
    if (r.status == ReadStatus::disconnected) {
      if (++disconnects < 3) {
        ASSERT_TRUE(s.start().ok());
      }
    } else if (r.status == ReadStatus::ok) {
      runs.push_back(r);
      if (runs.size() == 2) after_reconnect = s.wire_stats();
    }
  }
  ASSERT_EQ(runs.size(), 3u);
  ASSERT_EQ(board->written.size(), 3u);
  EXPECT_EQ(board->written[0], (std::vector<std::uint8_t>{'1', '2'}));
  EXPECT_EQ(board->written[1], (std::vector<std::uint8_t>{'2'})) << "a version-2 board is asked to go on";
  EXPECT_DOUBLE_EQ(runs[1].first_sample_s, 5100.0 / 20000.0) << "stream time right across the reconnect";
  EXPECT_EQ(after_reconnect.frames_missing, 5000u);
  EXPECT_EQ(after_reconnect.frames_missing_estimated, 4096u) << "the sequence counted 904, the clock one wrap";
  // The restarted board: ~100 ms (2000 frames) after frame 5109, sized from the clock.
  const double expected_s = 5110.0 / 20000.0 + 0.1;
  EXPECT_GE(runs[2].first_sample_s, expected_s - 0.005);
  EXPECT_LE(runs[2].first_sample_s, expected_s + 0.1);
  EXPECT_EQ(s.wire_stats().stream_starts, 2u);
}

/// An Uno that resets when its port opens: its boot loader swallows every byte for `boot_ms`, then the sketch
/// streams frames once it has seen a start byte (or never, when `silent`).
class ResettingBoardLink final : public SerialLink {
 public:
  ResettingBoardLink(int boot_ms, bool silent) : boot_ms_(boot_ms), silent_(silent) {}
  Status open() override {
    open_ = true;
    opened_ = std::chrono::steady_clock::now();
    return {};
  }
  void close() noexcept override { open_ = false; }
  bool is_open() const noexcept override { return open_; }
  long read(std::span<std::uint8_t> buf, int timeout_ms) noexcept override {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 10)));
    if (!started_ || silent_) return 0;
    const auto f = frame(0, seq_++ % 256);
    const std::size_t n = std::min(buf.size(), f.size());
    std::copy_n(f.begin(), n, buf.begin());
    return long(n);
  }
  bool write(std::span<const std::uint8_t> bytes) noexcept override {
    const bool booted = std::chrono::steady_clock::now() - opened_ >= std::chrono::milliseconds(boot_ms_);
    for (auto b : bytes)
      if (b == kWireStartByte) (booted ? started_ : swallowed_) = true;
    return true;
  }
  const std::string& name() const noexcept override { return name_; }
  bool swallowed() const { return swallowed_; }

 private:
  int boot_ms_;
  bool silent_;
  bool open_ = false, started_ = false, swallowed_ = false;
  int seq_ = 0;
  std::chrono::steady_clock::time_point opened_;
  std::string name_ = "resetting-uno";
};

TEST(SerialSource, RepeatsTheStartByteUntilABoardThatResetOnOpenStreams) {
  SerialOptions opt;
  opt.port = "resetting-uno";
  opt.n_channels = kChannels;
  opt.start_retry_s = 0.1;
  auto link = std::make_unique<ResettingBoardLink>(350, false);
  const ResettingBoardLink* board = link.get();
  auto s = SerialSource::create(opt, std::move(link)).value();
  ASSERT_TRUE(s.start().ok());
  std::vector<double> buf(64 * kChannels);
  std::size_t frames = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (frames < 20 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3)) {
    const ReadResult r = s.read(buf);
    ASSERT_NE(r.status, ReadStatus::error) << s.last_error();
    if (r.status == ReadStatus::ok) frames += r.frames;
  }
  EXPECT_GE(frames, 20u);
  EXPECT_TRUE(board->swallowed()) << "the first start byte was lost in the boot loader";
  EXPECT_GE(s.stats().start_bytes_sent, 3u);  // 0, ~0.1, ~0.2, ~0.3 s lost; one after 0.35 s got through
  EXPECT_LE(s.stats().start_bytes_sent, 8u);  // and no more once frames flowed
}

TEST(SerialSource, ABoardThatNeverAnswersIsAClearErrorAfterTheTimeout) {
  SerialOptions opt;
  opt.port = "resetting-uno";
  opt.n_channels = kChannels;
  opt.start_retry_s = 0.1;
  opt.first_frame_timeout_s = 0.5;
  auto s = SerialSource::create(opt, std::make_unique<ResettingBoardLink>(0, true)).value();
  ASSERT_TRUE(s.start().ok());
  std::vector<double> buf(64 * kChannels);
  ReadResult r;
  const auto t0 = std::chrono::steady_clock::now();
  do r = s.read(buf);
  while (r.status == ReadStatus::no_data && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.status, ReadStatus::error);
  EXPECT_GE(waited, 0.5);
  EXPECT_LT(waited, 1.5);
  EXPECT_NE(s.last_error().find("no frame from the board within"), std::string::npos) << s.last_error();
  EXPECT_NE(s.last_error().find("115200 baud"), std::string::npos) << s.last_error();
  EXPECT_GE(s.stats().start_bytes_sent, 4u);
}

TEST(SerialSource, BadOptionsAreErrors) {
  SerialOptions opt;
  EXPECT_FALSE(SerialSource::create(opt).ok());  // no port
  opt.port = "/dev/null";
  opt.n_channels = 0;
  EXPECT_FALSE(SerialSource::create(opt).ok());
  opt.n_channels = 17;
  EXPECT_FALSE(SerialSource::create(opt).ok());
  opt.n_channels = 2;
  opt.channel_names = {"only one"};
  EXPECT_FALSE(SerialSource::create(opt).ok());
}

}  // namespace
}  // namespace myoexo::realtime
