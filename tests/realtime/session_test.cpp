#include "realtime/session.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>
#include <vector>

#include "io/io.hpp"
#include "realtime_test_util.hpp"

namespace myoexo::realtime {
namespace {

namespace fs = std::filesystem;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rec_ = test::make_two_class_recording(8.0, 4, 17);
    lda_ = test::train_lda(rec_, 250, 50);
    ASSERT_TRUE(lda_);
  }
  StreamingPipeline make_pipeline() {
    return StreamingPipeline::create(test::make_spec(4, 250, 50), std::make_unique<models::LdaClassifier>(*lda_)).value();
  }
  io::Recording rec_;
  std::unique_ptr<models::LdaClassifier> lda_;
};

ReplayOptions chunked(std::size_t frames) {
  ReplayOptions o;
  o.chunk_frames = frames;
  return o;
}

TEST_F(SessionTest, ThreadedAndSingleThreadedReplaysMatchTheOfflinePath) {
  const auto offline = decide_offline(test::make_spec(4, 250, 50), *lda_, rec_.samples, rec_.n_samples).value();
  for (bool threaded : {false, true}) {
    auto p = make_pipeline();
    std::vector<Decision> got;
    RunOptions ro;
    ro.threaded = threaded;
    ro.read_frames = 37;
    ro.ring_frames = 1 << 15;  // large enough: nothing may be dropped in this comparison
    auto rep = run_replay(rec_, chunked(37), p, [&](const Decision& d) {
      got.push_back(d);
      p.record_command_sent(d, steady_now_ns());
    }, ro);
    ASSERT_TRUE(rep.ok()) << rep.error().message();
    EXPECT_EQ(rep->overrun_frames, 0u);
    EXPECT_EQ(rep->source.frames, rec_.n_samples);
    EXPECT_EQ(rep->source.end_status, ReadStatus::end_of_stream);
    EXPECT_EQ(rep->pipeline.decisions, offline.size());
    EXPECT_EQ(rep->end_to_end.count, offline.size());
    ASSERT_EQ(got.size(), offline.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].intent.label, offline[k].intent.label);
      EXPECT_EQ(got[k].intent.confidence, offline[k].intent.confidence);
      EXPECT_EQ(got[k].intent.window_end_s, offline[k].intent.window_end_s);
      EXPECT_LE(got[k].last_sample_arrival_ns, got[k].emit_ns);
    }
  }
}

TEST_F(SessionTest, FaultyReplayIsCountedEndToEnd) {
  ReplayOptions rp;
  rp.chunk_frames = 50;
  rp.faults = {FaultEvent{FaultKind::nan_burst, 2.0, 0.05, 1}, FaultEvent{FaultKind::dropped_chunk, 4.0, 0.1},
               FaultEvent{FaultKind::out_of_order, 6.0, 0.05}, FaultEvent{FaultKind::stall, 3.0, 0.2}};
  auto p = make_pipeline();
  RunOptions ro;
  ro.threaded = false;
  auto rep = run_replay(rec_, rp, p, nullptr, ro);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->source.frames, rec_.n_samples - 100);
  EXPECT_EQ(rep->pipeline.nonfinite_samples, 50u);
  EXPECT_GT(rep->pipeline.nonfinite_windows, 0u);
  EXPECT_EQ(rep->pipeline.gaps, 2u);                   // the dropped chunks, and the return after the backdated one
  EXPECT_EQ(rep->pipeline.timestamp_regressions, 1u);  // the backdated chunk
}

TEST_F(SessionTest, RecordSessionWritesTheReplayToCsv) {
  const fs::path out = fs::temp_directory_path() / ("myoexo_session_" + std::to_string(::getpid()) + ".csv");
  auto src = ReplaySource::create(rec_, chunked(64)).value();
  RecordSessionOptions o;
  o.duration_s = 2.0;
  auto rep = record_session(src, out, o);
  ASSERT_TRUE(rep.ok()) << rep.error().message();
  EXPECT_EQ(rep->frames, 2048u);  // whole chunks until >= 2 s
  io::CsvOptions co;
  co.sample_rate_hz = 1000.0;
  co.time_column = "time_s";
  auto back = io::read_csv(out, co).value();
  ASSERT_EQ(back.n_samples, 2048u);
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t i = 0; i < back.n_samples; ++i)
      ASSERT_EQ(back.samples[c * back.n_samples + i], rec_.samples[c * rec_.n_samples + i]);
  fs::remove(out);
}

TEST_F(SessionTest, MismatchedSourceAndPipelineAreRejected) {
  auto p = make_pipeline();
  io::Recording three = rec_;
  three.channel_names.resize(3);
  three.channel_units.resize(3);
  three.samples.resize(3 * three.n_samples);
  auto rep = run_replay(three, {}, p, nullptr);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::mismatch);
}

}  // namespace
}  // namespace myoexo::realtime
