#include "realtime/recorder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>
#include <vector>

#include "io/io.hpp"

namespace myoexo::realtime {
namespace {

namespace fs = std::filesystem;

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("myoexo_recorder_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(RecorderTest, CsvRoundTripsEverySampleExactly) {
  const fs::path out = dir_ / "rec.csv";
  auto r = Recorder::create(out, {"A0", "A1"}, {"adc", "adc"}, 1000.0).value();
  std::vector<double> frames;
  for (int i = 0; i < 500; ++i) {
    frames.push_back(i * 0.1);
    frames.push_back(1023 - i);
  }
  // Appended in uneven pieces.
  ASSERT_TRUE(r.append(std::span<const double>(frames).subspan(0, 2 * 123), 0.0).ok());
  ASSERT_TRUE(r.append(std::span<const double>(frames).subspan(2 * 123), 0.123).ok());
  ASSERT_TRUE(r.finish().ok());
  EXPECT_EQ(r.frames_written(), 500u);
  io::CsvOptions co;
  co.sample_rate_hz = 1000.0;
  co.time_column = "time_s";
  auto rec = io::read_csv(out, co).value();
  ASSERT_EQ(rec.n_samples, 500u);
  ASSERT_EQ(rec.n_channels(), 2u);
  EXPECT_EQ(rec.channel_names[0], "A0");
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(rec.samples[i], i * 0.1);  // shortest round-trip text: exact
    EXPECT_EQ(rec.samples[500 + i], 1023.0 - i);
  }
}

TEST_F(RecorderTest, FlushMakesRowsVisibleBeforeFinish) {
  const fs::path out = dir_ / "live.csv";
  RecorderOptions o;
  o.flush_interval_s = 1e-9;  // every append
  auto r = Recorder::create(out, {"x"}, {}, 100.0, o).value();
  const std::vector<double> v{1.5, 2.5, 3.5};
  ASSERT_TRUE(r.append(v, 10.0).ok());
  // Another reader (a crash-recovery tool) already sees the rows, with their stream times.
  EXPECT_EQ(slurp(out), "time_s,x\n10,1.5\n10.01,2.5\n10.02,3.5\n");
  EXPECT_GE(r.flushes(), 1u);
}

TEST_F(RecorderTest, NonFiniteSamplesAreWrittenAsNan) {
  const fs::path out = dir_ / "nan.csv";
  auto r = Recorder::create(out, {"x"}, {}, 1.0).value();
  const std::vector<double> v{std::numeric_limits<double>::quiet_NaN()};
  ASSERT_TRUE(r.append(v, 0.0).ok());
  ASSERT_TRUE(r.finish().ok());
  EXPECT_EQ(slurp(out), "time_s,x\n0,nan\n");
}

TEST_F(RecorderTest, EdfOutputIsConvertedAtFinish) {
  const fs::path out = dir_ / "rec.edf";
  auto r = Recorder::create(out, {"A0", "A1"}, {"mV", "mV"}, 1000.0).value();
  std::vector<double> frames;
  for (int i = 0; i < 2000; ++i) {
    frames.push_back(std::sin(i * 0.01));
    frames.push_back(std::cos(i * 0.02));
  }
  ASSERT_TRUE(r.append(frames, 0.0).ok());
  EXPECT_TRUE(fs::exists(r.csv_path()));
  const Status s = r.finish();
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_FALSE(fs::exists(r.csv_path()));
  auto rec = io::read_edf(out);
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->n_channels(), 2u);
  EXPECT_GE(rec->n_samples, 2000u);
  EXPECT_NEAR(rec->samples[100], std::sin(1.0), 1e-3);  // EDF is 16-bit: physical resolution
  // The header says when the recording started (the recorder's wall clock, to the second).
  ASSERT_TRUE(rec->start_utc_ms.has_value());
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(std::abs(now_ms - *rec->start_utc_ms), 5000) << *rec->start_utc_ms;
}

// Labels that do not fit (here: past the end) never cost the recording: the EDF+ is written unlabelled, the partial
// CSV is gone, and the error says the labels were left out.
TEST_F(RecorderTest, LabelsThatDoNotFitLeaveTheRecordingWrittenUnlabelled) {
  const fs::path out = dir_ / "labels.edf";
  auto r = Recorder::create(out, {"A0"}, {"mV"}, 1000.0).value();
  std::vector<double> frames(2000);
  for (int i = 0; i < 2000; ++i) frames[std::size_t(i)] = std::sin(i * 0.01);
  ASSERT_TRUE(r.append(frames, 0.0).ok());
  r.annotate({1.0, 0.0, "gap: 10 samples lost"});
  r.set_labels({{0.0, 1.0, "rest"}, {1.0, 5.0, "lift"}});  // runs 3 s past the end
  const Status s = r.finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("written without its labels"), std::string::npos) << s.error().message();
  EXPECT_FALSE(fs::exists(r.csv_path()));
  auto rec = io::read_edf(out);
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 2000u);
  EXPECT_TRUE(rec->sample_labels.empty());
  ASSERT_EQ(rec->annotations.size(), 1u);
  EXPECT_EQ(rec->annotations[0].label, "gap: 10 samples lost");
}

TEST_F(RecorderTest, BadArgumentsAreErrors) {
  EXPECT_FALSE(Recorder::create(dir_ / "a.csv", {}, {}, 1000.0).ok());
  EXPECT_FALSE(Recorder::create(dir_ / "a.csv", {"x"}, {"a", "b"}, 1000.0).ok());
  EXPECT_FALSE(Recorder::create(dir_ / "a.csv", {"x"}, {}, 0.0).ok());
  EXPECT_FALSE(Recorder::create(dir_ / "a.wav", {"x"}, {}, 1000.0).ok());
  EXPECT_EQ(Recorder::create(dir_ / "no" / "such" / "dir.csv", {"x"}, {}, 1000.0).error().code, ErrorCode::io);
}

}  // namespace
}  // namespace myoexo::realtime
