#include "realtime/acquisition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "io/io.hpp"
#include "realtime_test_util.hpp"

namespace myoexo::realtime {
namespace {

namespace fs = std::filesystem;

class AcquisitionTest : public ::testing::Test {
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

TEST_F(AcquisitionTest, RecordSessionWritesTheReplayToCsv) {
  const fs::path out = fs::temp_directory_path() / ("myoexo_session_" + std::to_string(::getpid()) + ".csv");
  auto src = ReplaySource::create(rec_, chunked(64)).value();
  RecordSessionOptions o;
  o.duration_s = 2.0;
  auto rep = record_session(src, out, o);
  ASSERT_TRUE(rep.ok()) << rep.error().message();
  EXPECT_EQ(rep->frames, 2000u);  // exactly 2 s: the last 64-frame chunk is cut at the duration
  EXPECT_DOUBLE_EQ(rep->stream_duration_s, 2.0);
  io::CsvOptions co;
  co.sample_rate_hz = 1000.0;
  co.time_column = "time_s";
  auto back = io::read_csv(out, co).value();
  ASSERT_EQ(back.n_samples, 2000u);
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t i = 0; i < back.n_samples; ++i)
      ASSERT_EQ(back.samples[c * back.n_samples + i], rec_.samples[c * rec_.n_samples + i]);
  fs::remove(out);
}

// An EDF+ output of a stream with a gap: the intact samples back to back, the gap annotated where it falls in the
// file with the number of samples lost, and labels given in stream time placed on the file's time line (the time
// lost in the gap taken out), as annotations another EDF+ reader sees.
TEST_F(AcquisitionTest, AnEdfRecordingAnnotatesItsGapsAndKeepsLabelsOnTheFileTimeLine) {
  const fs::path out = fs::temp_directory_path() / ("myoexo_session_gap_" + std::to_string(::getpid()) + ".edf");
  ReplayOptions ro = chunked(100);
  ro.faults.push_back({FaultKind::dropped_chunk, 3.0, 0.45});  // chunks starting at 3.0 .. 3.4 s never arrive
  auto src = ReplaySource::create(rec_, ro).value();
  RecordSessionOptions o;
  o.duration_s = 6.0;
  o.read_frames = 100;  // one replay chunk per read
  o.recorder.subject = "P07";
  // Stream-time labels: rest until 2 s, "lift" 2..5 s (spanning the gap), rest after.
  o.labels_at_end = [](const SessionReport& r) {
    std::vector<io::Event> ev;
    for (auto [a, b, name] : {std::tuple{0.0, 2.0, "rest"}, {2.0, 5.0, "lift"}, {5.0, 6.0, "rest"}})
      ev.push_back({r.file_seconds(a), r.file_seconds(b) - r.file_seconds(a), name});
    return ev;
  };
  auto rep = record_session(src, out, o);
  ASSERT_TRUE(rep.ok()) << rep.error().message();
  ASSERT_EQ(rep->gaps.size(), 1u);
  EXPECT_NEAR(rep->gaps[0].lost_s, 0.5, 1e-9);   // five 100-frame chunks
  EXPECT_NEAR(rep->gaps[0].file_s, 3.0, 1e-9);
  EXPECT_EQ(rep->frames, 5500u);
  EXPECT_NEAR(rep->file_seconds(5.0), 4.5, 1e-9);
  EXPECT_NEAR(rep->file_seconds(3.2), 3.0, 1e-9);  // inside the gap: its place in the file
  auto back = io::read_recording(out);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->n_samples, 5500u);
  EXPECT_EQ(back->subject_id, "P07");
  ASSERT_EQ(back->annotations.size(), 1u);
  EXPECT_EQ(back->annotations[0].label, "gap: 500 samples lost");
  EXPECT_NEAR(back->annotations[0].onset_s, 3.0, 1e-9);
  ASSERT_EQ(back->sample_labels.size(), 5500u);
  auto name_at = [&](std::size_t i) { return back->label_names[std::size_t(back->sample_labels[i])]; };
  EXPECT_EQ(name_at(1999), "rest");
  EXPECT_EQ(name_at(2000), "lift");
  EXPECT_EQ(name_at(4499), "lift");  // stream 5.0 s is file 4.5 s
  EXPECT_EQ(name_at(4500), "rest");
  // The samples after the gap are the recording's from 3.5 s on.
  for (std::size_t c = 0; c < 4; ++c) {
    const double a = back->samples[c * 5500 + 3000], b = rec_.samples[c * rec_.n_samples + 3500];
    const auto ch = rec_.channel(c);
    const double range = *std::max_element(ch.begin(), ch.end()) - *std::min_element(ch.begin(), ch.end());
    EXPECT_NEAR(a, b, range / 65535.0 + 1e-9) << c;  // within one 16-bit EDF step of the channel's range
  }
  fs::remove(out);
}

}  // namespace
}  // namespace myoexo::realtime
