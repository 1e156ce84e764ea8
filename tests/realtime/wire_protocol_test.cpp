#include "realtime/wire_protocol.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace myoexo::realtime {
namespace {

std::vector<std::uint8_t> frame_bytes(std::uint8_t seq, const std::vector<std::uint16_t>& codes) {
  std::vector<std::uint8_t> out(wire_frame_bytes(codes.size()));
  EXPECT_EQ(encode_wire_frame(seq, codes, out), out.size());
  return out;
}

std::vector<WireFrame> parse_all(WireFrameParser& p, const std::vector<std::uint8_t>& bytes, std::size_t chunk = 0) {
  std::vector<WireFrame> frames;
  auto sink = [&](const WireFrame& f) { frames.push_back(f); };
  if (chunk == 0) {
    p.feed(bytes, sink);
  } else {
    for (std::size_t i = 0; i < bytes.size(); i += chunk)
      p.feed(std::span<const std::uint8_t>(bytes).subspan(i, std::min(chunk, bytes.size() - i)), sink);
  }
  return frames;
}

TEST(WireProtocol, Crc8MatchesTheSmbusCheckValue) {
  const char* check = "123456789";
  EXPECT_EQ(crc8(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(check), 9)), 0xF4);
}

TEST(WireProtocol, DocumentedExampleFrameIsExact) {
  // firmware/PROTOCOL.md: 4 channels, seq 7, codes {1, 2, 3, 1023}.
  EXPECT_EQ(frame_bytes(7, {1, 2, 3, 1023}),
            (std::vector<std::uint8_t>{0xA5, 0x5A, 0x07, 0x01, 0x08, 0x30, 0xC0, 0xFF, 0xF2}));
}

TEST(WireProtocol, FrameSizesFollowTheTenBitPacking) {
  EXPECT_EQ(wire_frame_bytes(1), 6u);   // 2 sync + seq + 2 payload + crc
  EXPECT_EQ(wire_frame_bytes(4), 9u);   // 40 bits = 5 bytes
  EXPECT_EQ(wire_frame_bytes(6), 12u);  // 60 bits = 8 bytes
  EXPECT_EQ(wire_frame_bytes(16), 24u);
}

TEST(WireProtocol, EveryChannelCountRoundTripsEveryCode) {
  for (std::size_t n = 1; n <= kMaxWireChannels; ++n) {
    WireFrameParser p(n);
    std::vector<std::uint8_t> bytes;
    std::vector<std::vector<std::uint16_t>> sent;
    for (std::uint16_t k = 0; k < 64; ++k) {
      std::vector<std::uint16_t> codes(n);
      for (std::size_t c = 0; c < n; ++c) codes[c] = static_cast<std::uint16_t>((k * 97 + c * 331 + 1023 * (k % 2)) & 0x3FF);
      sent.push_back(codes);
      const auto f = frame_bytes(static_cast<std::uint8_t>(k), codes);
      bytes.insert(bytes.end(), f.begin(), f.end());
    }
    const auto got = parse_all(p, bytes);
    ASSERT_EQ(got.size(), sent.size()) << n << " channels";
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].seq, k);
      for (std::size_t c = 0; c < n; ++c) EXPECT_EQ(got[k].codes[c], sent[k][c]);
    }
    EXPECT_EQ(p.stats().frames_missing, 0u);
    EXPECT_EQ(p.stats().crc_failures, 0u);
    EXPECT_EQ(p.stats().bytes_discarded, 0u);
  }
}

TEST(WireProtocol, ParserOutputDoesNotDependOnChunking) {
  std::mt19937 gen(7);
  std::vector<std::uint8_t> bytes;
  for (int k = 0; k < 300; ++k) {
    if (k % 17 == 0)
      for (int g = 0; g < 5; ++g) bytes.push_back(static_cast<std::uint8_t>(gen()));  // garbage
    std::vector<std::uint16_t> codes{static_cast<std::uint16_t>(gen() & 0x3FF), static_cast<std::uint16_t>(gen() & 0x3FF),
                                     static_cast<std::uint16_t>(gen() & 0x3FF)};
    auto f = frame_bytes(static_cast<std::uint8_t>(k), codes);
    if (k % 23 == 0) f[4] ^= 0x10;  // corrupt
    if (k % 31 != 0) bytes.insert(bytes.end(), f.begin(), f.end());  // drop some
  }
  WireFrameParser whole(3);
  const auto ref = parse_all(whole, bytes);
  for (std::size_t chunk : {1u, 2u, 5u, 8u, 13u, 64u}) {
    WireFrameParser p(3);
    const auto got = parse_all(p, bytes, chunk);
    ASSERT_EQ(got.size(), ref.size()) << "chunk " << chunk;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].seq, ref[i].seq);
      EXPECT_EQ(got[i].missing_before, ref[i].missing_before);
      EXPECT_EQ(std::memcmp(got[i].codes.data(), ref[i].codes.data(), sizeof(got[i].codes)), 0);
    }
    EXPECT_EQ(p.stats().crc_failures, whole.stats().crc_failures);
    EXPECT_EQ(p.stats().bytes_discarded, whole.stats().bytes_discarded);
    EXPECT_EQ(p.stats().frames_missing, whole.stats().frames_missing);
  }
}

TEST(WireProtocol, ParserResynchronisesAfterGarbageAndCountsIt) {
  WireFrameParser p(2);
  std::vector<std::uint8_t> bytes{0x00, 0x11, 0xA5, 0x00, 0x5A, 0xA5};  // 6 garbage bytes, the last a lone sync
  const auto f = frame_bytes(0, {1, 2});
  bytes.insert(bytes.end(), f.begin(), f.end());
  const auto got = parse_all(p, bytes);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].codes[0], 1);
  EXPECT_EQ(got[0].codes[1], 2);
  EXPECT_EQ(p.stats().bytes_discarded, 6u);
}

TEST(WireProtocol, CorruptFrameIsCountedAndTheNextFrameSurvives) {
  WireFrameParser p(4);
  auto a = frame_bytes(0, {1, 2, 3, 4});
  auto b = frame_bytes(1, {5, 6, 7, 8});
  auto c = frame_bytes(2, {9, 10, 11, 12});
  b[5] ^= 0x01;  // one flipped payload bit
  std::vector<std::uint8_t> bytes = a;
  bytes.insert(bytes.end(), b.begin(), b.end());
  bytes.insert(bytes.end(), c.begin(), c.end());
  const auto got = parse_all(p, bytes);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].seq, 2);
  EXPECT_EQ(got[1].missing_before, 1u);
  EXPECT_EQ(p.stats().crc_failures, 1u);
  EXPECT_EQ(p.stats().frames_missing, 1u);
  EXPECT_EQ(p.stats().bytes_discarded, b.size());
}

TEST(WireProtocol, SequenceGapsAreCountedAcrossTheWrap) {
  WireFrameParser p(1);
  std::vector<std::uint8_t> bytes;
  for (int seq : {250, 251, 254, 255, 0, 3}) {  // missing 252, 253, then 1, 2
    const auto f = frame_bytes(static_cast<std::uint8_t>(seq), {static_cast<std::uint16_t>(seq)});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  const auto got = parse_all(p, bytes);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].missing_before, 0u);
  EXPECT_EQ(got[2].missing_before, 2u);
  EXPECT_EQ(got[4].missing_before, 0u);
  EXPECT_EQ(got[5].missing_before, 2u);
  EXPECT_EQ(p.stats().frames_missing, 4u);
}

TEST(WireProtocol, RestartSequenceForgetsHistoryButKeepsCounters) {
  WireFrameParser p(1);
  auto a = frame_bytes(40, {1});
  auto b = frame_bytes(0, {2});
  parse_all(p, a);
  p.restart_sequence();
  const auto got = parse_all(p, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].missing_before, 0u);
  EXPECT_EQ(p.stats().frames_ok, 2u);
}

// ---- gaps of >= 256 frames, sized from arrival times (1 kHz board: one period = 1 ms) ----------------------

constexpr std::int64_t kMs = 1'000'000;

/// Frames with stream indices [first, first + count) (seq = index mod 256), one code each.
std::vector<std::uint8_t> frames_bytes(int first, int count) {
  std::vector<std::uint8_t> b;
  for (int k = first; k < first + count; ++k) {
    const auto f = frame_bytes(static_cast<std::uint8_t>(k % 256), {static_cast<std::uint16_t>(k % 1024)});
    b.insert(b.end(), f.begin(), f.end());
  }
  return b;
}

/// Feeds the frames one read at a time as a 1 kHz board's would arrive: frame k at (k + 1) ms + latency.
std::vector<WireFrame> feed_live(WireFrameParser& p, int first, int count, std::int64_t latency_ns = 200'000) {
  std::vector<WireFrame> out;
  for (int k = first; k < first + count; ++k)
    p.feed(frames_bytes(k, 1), (k + 1) * kMs + latency_ns, [&](const WireFrame& f) { out.push_back(f); });
  return out;
}

TEST(WireProtocolGaps, GapLongerThanTheSequenceCounterIsEstimatedFromArrivalTimes) {
  WireFrameParser p(1, 1000.0);
  feed_live(p, 0, 10);
  const auto after = feed_live(p, 610, 5);  // frames 10..609 lost: 600 = 88 (seq gap) + 2 x 256
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[0].missing_before, 600u);
  EXPECT_TRUE(after[0].missing_estimated);
  EXPECT_EQ(after[1].missing_before, 0u);
  EXPECT_FALSE(after[1].missing_estimated);
  EXPECT_EQ(p.stats().frames_missing, 600u);
  EXPECT_EQ(p.stats().frames_missing_estimated, 512u);
  EXPECT_EQ(p.stats().gaps_estimated, 1u);
}

TEST(WireProtocolGaps, ExactlyOneWrapIsNoLongerInvisible) {
  WireFrameParser p(1, 1000.0);
  feed_live(p, 0, 10);
  const auto after = feed_live(p, 266, 1);  // 256 lost: the sequence gap is 0
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, 10);
  EXPECT_EQ(after[0].missing_before, 256u);
  EXPECT_TRUE(after[0].missing_estimated);
}

TEST(WireProtocolGaps, ArrivalJitterBelowHalfAWrapDoesNotChangeTheCount) {
  for (std::int64_t jitter_ms : {-100, -20, 0, 20, 100}) {
    WireFrameParser p(1, 1000.0);
    feed_live(p, 0, 10);
    const auto after = feed_live(p, 610, 1, jitter_ms * kMs);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].missing_before, 600u) << jitter_ms << " ms";
  }
  // Short gaps stay the sequence's business even with a late arrival (< 256 periods in all).
  WireFrameParser p(1, 1000.0);
  feed_live(p, 0, 10);
  const auto after = feed_live(p, 15, 1, 150 * kMs);
  EXPECT_EQ(after[0].missing_before, 5u);  // frames 10..14
  EXPECT_FALSE(after[0].missing_estimated);
}

TEST(WireProtocolGaps, BacklogDeliveredLateAfterAHostStallIsNotALoss) {
  // The host did not read for 700 ms: the OS buffered every frame, all arrive in one (draining) read.
  // Frames later in the read were sampled after the first, so its time is arrival - 699 periods.
  WireFrameParser p(1, 1000.0);
  feed_live(p, 0, 10);
  std::vector<WireFrame> got;
  p.feed(frames_bytes(10, 700), 710 * kMs + 200'000, [&](const WireFrame& f) { got.push_back(f); });
  ASSERT_EQ(got.size(), 700u);
  EXPECT_EQ(p.stats().frames_missing, 0u);
  EXPECT_EQ(p.stats().gaps_estimated, 0u);
  // The same backlog in full reads (untimed: their arrival time says nothing about the last frame), then
  // a draining timed read: the time is carried by the sequence, still no loss.
  WireFrameParser q(1, 1000.0);
  feed_live(q, 0, 10);
  for (int k = 10; k < 700; k += 64) q.feed(frames_bytes(k, std::min(64, 700 - k)), [](const WireFrame&) {});
  q.feed(frames_bytes(700, 3), 703 * kMs + 200'000, [](const WireFrame&) {});
  EXPECT_EQ(q.stats().frames_missing, 0u);
  EXPECT_EQ(q.stats().gaps_estimated, 0u);
  // And a real loss behind such a backlog is still sized: 300 lost after the untimed stretch.
  for (int k = 703; k < 1003; k += 64) q.feed(frames_bytes(k, std::min(64, 1003 - k)), [](const WireFrame&) {});
  q.feed(frames_bytes(1303, 1), 1304 * kMs + 200'000, [](const WireFrame&) {});
  EXPECT_EQ(q.stats().frames_missing, 300u);
  EXPECT_EQ(q.stats().frames_missing_estimated, 256u);
}

TEST(WireProtocolGaps, UntimedFeedOrNoRateCountsModulo256) {
  WireFrameParser untimed(1, 1000.0);
  std::vector<WireFrame> got;
  auto sink = [&](const WireFrame& f) { got.push_back(f); };
  untimed.feed(frames_bytes(0, 10), sink);
  untimed.feed(frames_bytes(610, 1), sink);
  EXPECT_EQ(got.back().missing_before, 88u);
  EXPECT_FALSE(got.back().missing_estimated);
  WireFrameParser no_rate(1);  // no frame rate: the timed feed cannot estimate
  EXPECT_EQ(no_rate.frame_period_ns(), 0);
  feed_live(no_rate, 0, 10);
  EXPECT_EQ(feed_live(no_rate, 610, 1)[0].missing_before, 88u);
  EXPECT_EQ(no_rate.stats().gaps_estimated, 0u);
}

TEST(WireProtocolGaps, RestartSequenceForgetsTheClockToo) {
  WireFrameParser p(1, 1000.0);
  feed_live(p, 0, 10);
  p.restart_sequence();  // reconnect: the board restarts at seq 0, much later
  const auto after = feed_live(p, 5000, 1);
  EXPECT_EQ(after[0].missing_before, 0u);
  EXPECT_EQ(p.stats().frames_missing, 0u);
}

TEST(WireProtocol, RandomBytesNeverYieldMoreFramesThanPossible) {
  std::mt19937 gen(123);
  std::vector<std::uint8_t> bytes(20000);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(gen());
  WireFrameParser p(4);
  const auto got = parse_all(p, bytes, 7);
  EXPECT_LE(got.size() * p.frame_bytes(), bytes.size());
  EXPECT_EQ(p.stats().frames_ok, got.size());
  for (const auto& f : got)
    for (std::size_t c = 0; c < 4; ++c) EXPECT_LE(f.codes[c], kMaxAdcCode);
}

}  // namespace
}  // namespace myoexo::realtime

// ---- version 2 -----------------------------------------------------------------------------------------------------

namespace myoexo::realtime {
namespace {

std::vector<std::uint8_t> frame_v2(std::uint16_t seq, std::uint8_t status, const std::vector<std::uint16_t>& codes) {
  std::vector<std::uint8_t> out(wire_frame_bytes_v2(codes.size()));
  EXPECT_EQ(encode_wire_frame_v2(seq, status, codes, out), out.size());
  return out;
}

TEST(WireProtocolV2, Crc16MatchesTheCcittFalseCheckValue) {
  const char* text = "123456789";
  EXPECT_EQ(crc16(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text), 9)), 0x29B1);
}

TEST(WireProtocolV2, DocumentedExampleFrameIsExact) {
  // 4 channels, seq 7, the e-stop bit, codes {1, 2, 3, 1023} (PROTOCOL.md).
  const auto f = frame_v2(7, kWireStatusEstop, {1, 2, 3, 1023});
  const std::vector<std::uint8_t> want{0xA5, 0x5B, 0x07, 0x10, 0x01, 0x08, 0x30, 0xC0, 0xFF, f[9], f[10]};
  EXPECT_EQ(f, want);
  const std::uint16_t crc = crc16(std::span<const std::uint8_t>(f.data() + 2, 7));
  EXPECT_EQ(f[9], crc & 0xFF);
  EXPECT_EQ(f[10], crc >> 8);
  EXPECT_EQ(wire_frame_bytes_v2(4), 11u);
  EXPECT_EQ(wire_frame_bytes_v2(16), 26u);
}

TEST(WireProtocolV2, FramesRoundTripWithStatusAndTwelveBitSequence) {
  std::vector<std::uint8_t> bytes;
  for (std::uint16_t k = 0; k < 5000; ++k) {
    const auto f = frame_v2(k % 4096, k == 4500 ? (kWireStatusEstop | kWireStatusOverflow) : 0,
                            {std::uint16_t(k % 1024), std::uint16_t((k * 7) % 1024), 5, 1023});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  WireFrameParser p(4);
  const auto frames = parse_all(p, bytes, 7);
  ASSERT_EQ(frames.size(), 5000u);
  EXPECT_EQ(frames[4500].status, kWireStatusEstop | kWireStatusOverflow);
  EXPECT_EQ(frames[4500].version, 2);
  EXPECT_EQ(frames[4500].seq, 4500 % 4096);
  EXPECT_EQ(frames[4500].codes[0], 4500 % 1024);
  EXPECT_EQ(p.stats().frames_missing, 0u);  // across the 4095 -> 0 wrap
  EXPECT_EQ(p.stats().frames_v2, 5000u);
  EXPECT_EQ(p.stats().estop_frames, 1u);
  EXPECT_EQ(p.stats().overflow_flags, 1u);
  EXPECT_EQ(p.frame_bytes(), 11u);
}

TEST(WireProtocolV2, AGapOfTwoThousandFramesIsCountedFromTheSequenceAlone) {
  // 2 s of a 1 kHz stream lost (a Bluetooth drop): version 1 needs arrival times for that; version 2 counts it.
  std::vector<std::uint8_t> bytes;
  for (std::uint16_t k : {0, 1, 2, 2003, 2004}) {
    const auto f = frame_v2(k, 0, {1, 2, 3, 4});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  WireFrameParser p(4);  // untimed
  const auto frames = parse_all(p, bytes);
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[3].missing_before, 2000u);
  EXPECT_EQ(p.stats().frames_missing, 2000u);
}

TEST(WireProtocolV2, AStreamStartBitBeginsANewSequenceWhoseGapOnlyTheClockSizes) {
  // A board that restarted its stream after 2.5 s (an Uno reset when the host reopened its port) flags the first
  // frame of its new sequence: no sequence difference is counted across it, the clock sizes the gap.
  constexpr std::int64_t ms = 1'000'000;
  WireFrameParser p(4, 1000.0);
  std::vector<WireFrame> got;
  const auto sink = [&](const WireFrame& f) { got.push_back(f); };
  for (std::uint16_t k = 0; k < 100; ++k) p.feed(frame_v2(k, k == 0 ? kWireStatusStreamStart : 0, {1, 2, 3, 4}), k * ms, sink);
  p.feed(frame_v2(0, kWireStatusStreamStart, {5, 6, 7, 8}), (99 + 2500) * ms, sink);
  p.feed(frame_v2(1, 0, {5, 6, 7, 8}), (99 + 2501) * ms, sink);
  ASSERT_EQ(got.size(), 102u);
  EXPECT_FALSE(got[0].sequence_restarted) << "the first frame ever has nothing before it";
  EXPECT_TRUE(got[100].sequence_restarted);
  EXPECT_EQ(got[100].missing_before, 2499u);
  EXPECT_TRUE(got[100].missing_estimated);
  EXPECT_EQ(got[101].missing_before, 0u);
  EXPECT_EQ(p.stats().frames_missing, 2499u);
  EXPECT_EQ(p.stats().stream_starts, 2u);
  // Untimed, the clock cannot say: a new sequence, no gap.
  WireFrameParser q(4);
  std::vector<std::uint8_t> bytes;
  for (std::uint16_t k : {0, 1, 2}) {
    const auto f = frame_v2(k, 0, {1, 2, 3, 4});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  const auto f = frame_v2(0, kWireStatusStreamStart, {1, 2, 3, 4});
  bytes.insert(bytes.end(), f.begin(), f.end());
  const auto frames = parse_all(q, bytes);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[3].missing_before, 0u);
  EXPECT_EQ(q.stats().frames_missing, 0u);
}

TEST(WireProtocolV2, ABoardThatSwitchesFromVersionOneStartsANewSequence) {
  // The host sends "12": a version-2 board starts on '1' and switches on '2' a few frames later.
  std::vector<std::uint8_t> bytes;
  for (std::uint8_t k = 0; k < 3; ++k) {
    const auto f = frame_bytes(k, {1, 2, 3, 4});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  for (std::uint16_t k = 0; k < 3; ++k) {
    const auto f = frame_v2(k, 0, {5, 6, 7, 8});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  WireFrameParser p(4);
  const auto frames = parse_all(p, bytes, 5);
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(frames[2].version, 1);
  EXPECT_EQ(frames[3].version, 2);
  EXPECT_EQ(frames[3].missing_before, 0u);
  EXPECT_EQ(p.stats().frames_missing, 0u);
  EXPECT_EQ(p.stats().crc_failures, 0u);
}

TEST(WireProtocolV2, EverySingleAndDoubleBitErrorIsCaught) {
  const auto good = frame_v2(100, 0, {100, 200, 300, 400});
  std::size_t caught = 0, tried = 0;
  for (std::size_t i = 2 * 8; i < good.size() * 8; ++i)
    for (std::size_t j = i; j < good.size() * 8; ++j) {
      auto bad = good;
      bad[i / 8] ^= std::uint8_t(1u << (i % 8));
      if (j != i) bad[j / 8] ^= std::uint8_t(1u << (j % 8));
      WireFrameParser p(4);
      ++tried;
      caught += parse_all(p, bad).empty();
    }
  EXPECT_EQ(caught, tried) << "a corrupt version-2 frame was delivered";
}

TEST(WireProtocolV2, CorruptFrameBetweenVersionsCostsOnlyItself) {
  std::vector<std::uint8_t> bytes;
  for (std::uint16_t k = 0; k < 10; ++k) {
    auto f = frame_v2(k, 0, {std::uint16_t(k), 2, 3, 4});
    if (k == 4) f[6] ^= 0x10;  // payload bit flipped
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  WireFrameParser p(4);
  const auto frames = parse_all(p, bytes, 3);
  ASSERT_EQ(frames.size(), 9u);
  EXPECT_EQ(p.stats().crc_failures, 1u);
  EXPECT_EQ(p.stats().frames_missing, 1u);
  EXPECT_EQ(frames[4].missing_before, 1u);
}

}  // namespace
}  // namespace myoexo::realtime
