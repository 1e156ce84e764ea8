// BIDS events sidecars: written and read back, and turned into per-sample labels a training set can use.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "io/io.hpp"

namespace myoexo::io {
namespace {

namespace fs = std::filesystem;

fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("myoexo_events_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Recording two_seconds() {
  Recording r;
  r.sample_rate_hz = 100.0;
  r.channel_names = {"A0"};
  r.channel_units = {"mV"};
  r.n_samples = 200;
  r.samples.assign(200, 0.0);
  for (std::size_t i = 0; i < 200; ++i) r.samples[i] = double(i);
  return r;
}

TEST(EventsTsv, ASidecarLabelsEverySampleOfTheRecordingItSitsBeside) {
  const fs::path d = fresh("beside");
  ASSERT_TRUE(write_recording(two_seconds(), d / "s1.csv"));
  const std::vector<Event> events{{0.0, 0.5, "rest"}, {0.5, 1.0, "leg lift"}, {1.5, 0.5, "rest"}};
  ASSERT_TRUE(write_events_tsv(events_sidecar_path(d / "s1.csv"), events));
  EXPECT_EQ(events_sidecar_path(d / "s1.csv"), d / "s1_events.tsv");
  auto back = read_events_tsv(d / "s1_events.tsv");
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[1].label, "leg lift");
  EXPECT_DOUBLE_EQ((*back)[1].duration_s, 1.0);
  auto rec = read_recording(d / "s1.csv");
  ASSERT_TRUE(rec) << rec.error().message();
  ASSERT_EQ(rec->sample_labels.size(), 200u);
  EXPECT_EQ(rec->label_names, (std::vector<std::string>{"leg lift", "rest"}));
  EXPECT_EQ(rec->sample_labels[49], 1);   // 0.49 s: rest
  EXPECT_EQ(rec->sample_labels[50], 0);   // 0.50 s: the lift
  EXPECT_EQ(rec->sample_labels[149], 0);
  EXPECT_EQ(rec->sample_labels[150], 1);
  EXPECT_TRUE(rec->label.empty());
  // The data-set view does not take the sidecar for a recording.
  auto ds = load_dataset(d);
  ASSERT_TRUE(ds) << ds.error().message();
  EXPECT_EQ(ds->recordings.size(), 1u);
  EXPECT_TRUE(ds->unreadable.empty());
}

TEST(EventsTsv, OverlapsEventsPastTheEndAndMalformedRowsAreErrors) {
  const fs::path d = fresh("bad");
  ASSERT_TRUE(write_recording(two_seconds(), d / "s.csv"));
  const auto fails_with = [&](const std::string& tsv, const std::string& says) {
    std::ofstream(d / "s_events.tsv") << tsv;
    auto rec = read_recording(d / "s.csv");
    ASSERT_FALSE(rec) << tsv;
    EXPECT_NE(rec.error().message().find(says), std::string::npos) << rec.error().message();
    EXPECT_NE(rec.error().message().find("s_events.tsv"), std::string::npos) << rec.error().message();
  };
  fails_with("onset\tduration\ttrial_type\n0\t1\ta\n0.5\t1\tb\n", "overlap");
  fails_with("onset\tduration\ttrial_type\n1.5\t1\ta\n", "past the recording's end");
  fails_with("onset\tduration\ttrial_type\n0\t0\ta\n", "duration > 0");
  fails_with("onset\tduration\ttrial_type\nzero\t1\ta\n", "onset must be a number");
  fails_with("onset\tduration\n0\t1\n", "onset, duration and trial_type");
  fails_with("onset\tduration\ttrial_type\n0\t1\n", "2 fields");
  // Samples no event covers are unlabelled (-1), not a class.
  std::ofstream(d / "s_events.tsv") << "onset\tduration\ttrial_type\n0.5\t0.5\tlift\n";
  auto rec = read_recording(d / "s.csv");
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->sample_labels[0], -1);
  EXPECT_EQ(rec->sample_labels[60], 0);
  EXPECT_EQ(rec->sample_labels[100], -1);
}

}  // namespace
}  // namespace myoexo::io
