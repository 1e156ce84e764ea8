#include "realtime/acquisition.hpp"

#include <gtest/gtest.h>

#include <filesystem>
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

}  // namespace
}  // namespace myoexo::realtime
