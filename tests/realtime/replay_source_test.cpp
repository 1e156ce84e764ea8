#include "realtime/replay_source.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "realtime_test_util.hpp"

namespace myoexo::realtime {
namespace {

io::Recording ramp(std::size_t n, std::size_t channels = 2) {
  io::Recording r;
  r.sample_rate_hz = 1000.0;
  r.n_samples = n;
  for (std::size_t c = 0; c < channels; ++c) {
    r.channel_names.push_back(std::to_string(c).insert(0, 1, 'c'));
    r.channel_units.push_back("mV");
  }
  r.samples.resize(channels * n);
  for (std::size_t c = 0; c < channels; ++c)
    for (std::size_t i = 0; i < n; ++i) r.samples[c * n + i] = static_cast<double>(i) + 0.5 * static_cast<double>(c);
  return r;
}

struct Drained {
  std::vector<ReadResult> reads;
  std::vector<double> frames;  // interleaved, delivered
  std::size_t no_data = 0;
};

ReplayOptions opts(std::size_t chunk, ReplayPace pace = ReplayPace::fast, std::vector<std::string> channels = {}) {
  ReplayOptions o;
  o.chunk_frames = chunk;
  o.pace = pace;
  o.channels = std::move(channels);
  return o;
}

Drained drain(ReplaySource& src, std::size_t buf_frames = 1000) {
  Drained run;
  std::vector<double> buf(buf_frames * src.n_channels());
  EXPECT_TRUE(src.start().ok());
  for (int guard = 0; guard < 100000; ++guard) {
    const ReadResult r = src.read(buf);
    if (r.status == ReadStatus::end_of_stream) break;
    if (r.status == ReadStatus::no_data) {
      ++run.no_data;
      continue;
    }
    EXPECT_EQ(r.status, ReadStatus::ok);
    run.reads.push_back(r);
    run.frames.insert(run.frames.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.frames * src.n_channels()));
  }
  return run;
}

TEST(ReplaySource, DeliversEveryFrameInChunksWithStreamTimes) {
  auto src = ReplaySource::create(ramp(1003), opts(100)).value();
  const Drained run = drain(src);
  ASSERT_EQ(run.reads.size(), 11u);
  EXPECT_EQ(run.reads.back().frames, 3u);
  ASSERT_EQ(run.frames.size(), 2 * 1003u);
  for (std::size_t i = 0; i < 1003; ++i) {
    EXPECT_EQ(run.frames[2 * i], static_cast<double>(i));
    EXPECT_EQ(run.frames[2 * i + 1], static_cast<double>(i) + 0.5);
  }
  for (std::size_t k = 0; k < run.reads.size(); ++k) EXPECT_DOUBLE_EQ(run.reads[k].first_sample_s, 0.1 * k);
  EXPECT_EQ(src.stats().frames_delivered, 1003u);
}

TEST(ReplaySource, ChannelSelectionPicksAndOrders) {
  auto src = ReplaySource::create(ramp(10, 3), opts(10, ReplayPace::fast, {"c2", "c0"})).value();
  ASSERT_EQ(src.n_channels(), 2u);
  EXPECT_EQ(src.channel_names()[0], "c2");
  const Drained run = drain(src);
  EXPECT_EQ(run.frames[0], 1.0);
  EXPECT_EQ(run.frames[1], 0.0);
  EXPECT_FALSE(ReplaySource::create(ramp(10), opts(50, ReplayPace::fast, {"nope"})).ok());
}

TEST(ReplaySource, BadOptionsAreErrors) {
  EXPECT_FALSE(ReplaySource::create(ramp(10), opts(0)).ok());
  EXPECT_FALSE(ReplaySource::create(io::Recording{}, {}).ok());
  ReplayOptions o;
  o.faults = {FaultEvent{FaultKind::nan_burst, -1.0, 0.1}};
  EXPECT_FALSE(ReplaySource::create(ramp(10), o).ok());
  o.faults = {FaultEvent{FaultKind::nan_burst, 0.0, 0.1, 5}};
  EXPECT_FALSE(ReplaySource::create(ramp(10), o).ok());
}

TEST(ReplaySource, SampleFaultsChangeExactlyTheirSamples) {
  ReplayOptions o;
  o.chunk_frames = 64;
  o.faults = {FaultEvent{FaultKind::nan_burst, 0.100, 0.010, 0},
              FaultEvent{FaultKind::flat_line, 0.200, 0.050, -1},
              FaultEvent{FaultKind::saturation, 0.400, 0.020, 1, 5000.0}};
  auto src = ReplaySource::create(ramp(1000), o).value();
  EXPECT_EQ(src.stats().nan_samples, 10u);
  EXPECT_EQ(src.stats().flat_samples, 100u);  // 50 samples x 2 channels
  EXPECT_EQ(src.stats().saturated_samples, 20u);
  const Drained run = drain(src);
  for (std::size_t i = 0; i < 1000; ++i) {
    const double c0 = run.frames[2 * i], c1 = run.frames[2 * i + 1];
    if (i >= 100 && i < 110) {
      EXPECT_TRUE(std::isnan(c0));
      EXPECT_EQ(c1, i + 0.5);
    } else if (i >= 200 && i < 250) {
      EXPECT_EQ(c0, 200.0);
      EXPECT_EQ(c1, 200.5);
    } else if (i >= 400 && i < 420) {
      EXPECT_EQ(c0, static_cast<double>(i));
      EXPECT_EQ(c1, 5000.0);
    } else {
      EXPECT_EQ(c0, static_cast<double>(i));
    }
  }
}

TEST(ReplaySource, DroppedChunksJumpTheStreamTime) {
  ReplayOptions o;
  o.chunk_frames = 100;
  o.faults = {FaultEvent{FaultKind::dropped_chunk, 0.250, 0.1}};  // the chunk starting at 0.3 s
  auto src = ReplaySource::create(ramp(1000), o).value();
  const Drained run = drain(src);
  ASSERT_EQ(run.reads.size(), 9u);
  EXPECT_DOUBLE_EQ(run.reads[2].first_sample_s, 0.2);
  EXPECT_DOUBLE_EQ(run.reads[3].first_sample_s, 0.4);
  EXPECT_EQ(run.frames[2 * 300], 400.0);
  EXPECT_EQ(src.stats().chunks_dropped, 1u);
  EXPECT_EQ(src.stats().frames_dropped, 100u);
}

TEST(ReplaySource, StallsReturnNoDataThenEverySample) {
  ReplayOptions o;
  o.chunk_frames = 50;
  o.faults = {FaultEvent{FaultKind::stall, 0.2, 0.12}};
  auto src = ReplaySource::create(ramp(500), o).value();
  const Drained run = drain(src);
  EXPECT_EQ(run.no_data, 3u);  // ceil(0.12 s / 0.05 s)
  EXPECT_EQ(run.frames.size(), 2 * 500u);
  EXPECT_EQ(src.stats().stalls, 1u);
}

TEST(ReplaySource, OutOfOrderChunksAreBackdated) {
  ReplayOptions o;
  o.chunk_frames = 100;
  o.faults = {FaultEvent{FaultKind::out_of_order, 0.5, 0.05}};
  auto src = ReplaySource::create(ramp(1000), o).value();
  const Drained run = drain(src);
  EXPECT_DOUBLE_EQ(run.reads[5].first_sample_s, 0.3);
  EXPECT_DOUBLE_EQ(run.reads[6].first_sample_s, 0.6);
  EXPECT_EQ(src.stats().out_of_order_chunks, 1u);
}

TEST(ReplaySource, RandomFaultsAreDeterministicPerSeed) {
  const auto a = make_random_faults(30.0, 4, 77);
  const auto b = make_random_faults(30.0, 4, 77);
  const auto c = make_random_faults(30.0, 4, 78);
  ASSERT_EQ(a.size(), 12u);  // 2 of each of 6 kinds
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].start_s, b[i].start_s);
    EXPECT_EQ(a[i].duration_s, b[i].duration_s);
    EXPECT_EQ(a[i].channel, b[i].channel);
    EXPECT_GE(a[i].start_s, 0.0);
    EXPECT_LE(a[i].start_s + a[i].duration_s, 30.0);
    differs |= a[i].start_s != c[i].start_s;
    if (i) {
      EXPECT_LE(a[i - 1].start_s, a[i].start_s);
    }
  }
  EXPECT_TRUE(differs);
  // A replay with them runs to the end and reports what it injected.
  ReplayOptions o;
  o.faults = a;
  auto src = ReplaySource::create(test::make_two_class_recording(30.0, 4, 1), o).value();
  const Drained run = drain(src, 64);
  EXPECT_EQ(src.stats().frames_delivered + src.stats().frames_dropped, 30000u);
  EXPECT_GT(src.stats().nan_samples, 0u);
  EXPECT_EQ(src.faults().size(), 12u);
}

TEST(ReplaySource, RealTimePaceDeliversTheSameData) {
  auto fast = ReplaySource::create(ramp(60), opts(20)).value();
  auto paced = ReplaySource::create(ramp(60), opts(20, ReplayPace::realtime)).value();
  const Drained a = drain(fast), b = drain(paced);
  EXPECT_EQ(a.frames, b.frames);
  ASSERT_EQ(b.reads.size(), 3u);
  EXPECT_LE(b.reads[0].arrival_ns, b.reads[2].arrival_ns);
}

}  // namespace
}  // namespace myoexo::realtime
