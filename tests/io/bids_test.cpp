// BIDS-EMG sidecars read back: `_channels.tsv` and `_emg.json` beside a recording give its units and rate, name the
// columns of a file without a header row, and a recording that contradicts them is refused naming the sidecar.
#include <gtest/gtest.h>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

using test::TempDir;

const char* kChannels = "name\ttype\tunits\tsampling_frequency\tstatus\nA0\tEMG\tmV\t1000\tgood\nA1\tEMG\tmV\t1000\tbad\n";

TEST(Bids, SidecarsGiveTheUnitsAndRateAFileLacks) {
  TempDir dir;
  const auto csv = dir.write("sub-01_task-legs_emg.csv", "A0,A1\n0.1,0.2\n0.3,0.4\n0.5,0.6\n");
  // Without the sidecars the file states no rate: refused.
  ASSERT_FALSE(read_recording(csv));
  dir.write("sub-01_task-legs_emg_channels.tsv", kChannels);
  dir.write("sub-01_task-legs_emg_emg.json", R"({"TaskName": "legs", "SamplingFrequency": 1000, "RecordingDuration": 0.003})");
  auto rec = read_recording(csv);
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->sample_rate_hz, 1000.0);
  EXPECT_EQ(rec->channel_units, (std::vector<std::string>{"mV", "mV"}));
  EXPECT_EQ(rec->n_samples, 3u);
  // The channel marked bad is said, not dropped.
  ASSERT_EQ(rec->warnings.size(), 1u);
  EXPECT_NE(rec->warnings[0].find("'A1' is marked bad"), std::string::npos) << rec->warnings[0];
}

TEST(Bids, AFileWithoutAHeaderRowTakesTheSidecarsNamesAndRate) {
  TempDir dir;
  const auto csv = dir.write("s.csv", "1,2\n3,4\n5,6\n7,8\n");
  dir.write("s_channels.tsv", "name\ttype\tunits\nRF\tEMG\t\xC2\xB5V\nBF\tEMG\tuV\n");
  dir.write("s_emg.json", R"({"SamplingFrequency": 500})");
  auto rec = read_recording(csv);
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->sample_rate_hz, 500.0);
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"RF", "BF"}));
  EXPECT_EQ(rec->channel_units[1], "uV");
  EXPECT_DOUBLE_EQ(rec->samples[rec->n_samples + 3], 8.0);  // BF, last sample
}

TEST(Bids, ARecordingThatContradictsItsSidecarsIsRefusedNamingThem) {
  TempDir dir;
  // A time column at 1000 Hz against _emg.json's 500 Hz.
  const auto timed = dir.write("t.csv", "time,A0 [mV]\n0.000,1\n0.001,2\n0.002,3\n");
  dir.write("t_emg.json", R"({"SamplingFrequency": 500})");
  auto rate = read_recording(timed);
  ASSERT_FALSE(rate);
  EXPECT_EQ(rate.error().code, ErrorCode::mismatch);
  EXPECT_NE(rate.error().message().find("t_emg.json"), std::string::npos) << rate.error().message();
  EXPECT_NE(rate.error().message().find("1000"), std::string::npos) << rate.error().message();
  // A unit the file states otherwise.
  const auto unit = dir.write("u.csv", "time,A0 [mV]\n0.000,1\n0.001,2\n0.002,3\n");
  dir.write("u_channels.tsv", "name\ttype\tunits\nA0\tEMG\tuV\n");
  auto u = read_recording(unit);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, ErrorCode::mismatch);
  EXPECT_NE(u.error().message().find("u_channels.tsv"), std::string::npos);
  EXPECT_NE(u.error().message().find("'A0' is in uV here, but the recording says mV"), std::string::npos)
      << u.error().message();
  // A channel the recording does not have.
  const auto other = dir.write("o.csv", "time,A0\n0.000,1\n0.001,2\n");
  dir.write("o_channels.tsv", "name\ttype\tunits\nA3\tEMG\tmV\n");
  auto o = read_recording(other);
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message().find("'A3' is not in the recording (its channels: A0)"), std::string::npos)
      << o.error().message();
  // Rows that disagree on the rate.
  const auto rows = dir.write("r.csv", "A0,A1\n1,2\n");
  dir.write("r_channels.tsv", "name\ttype\tunits\tsampling_frequency\nA0\tEMG\tmV\t1000\nA1\tEMG\tmV\t2000\n");
  auto r = read_recording(rows);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::mismatch);
}

TEST(Bids, WrittenSidecarsReadBackAsWritten) {
  TempDir dir;
  const auto rec = dir.write("P01_legs.edf", "");  // only its name matters here
  BidsRecordingDescription d;
  d.task = "leg_movements";
  d.sample_rate_hz = 1000.0;
  d.channels = {"RF", "BF"};
  d.units = {"mV", ""};
  d.duration_s = 12.5;
  ASSERT_TRUE(write_bids_sidecars(rec, d));
  auto back = read_bids_sidecars(rec);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->has_value());
  const BidsSidecars& b = **back;
  EXPECT_EQ(b.task, "leg_movements");
  EXPECT_EQ(b.sampling_frequency_hz, 1000.0);
  EXPECT_EQ(b.recording_duration_s, 12.5);
  ASSERT_EQ(b.channels.size(), 2u);
  EXPECT_EQ(b.channels[0].name, "RF");
  EXPECT_EQ(b.channels[0].units, "mV");
  EXPECT_EQ(b.channels[1].units, "") << "an unknown unit is written as n/a and read back as unknown";
  d.units = {"mV"};
  EXPECT_EQ(write_bids_sidecars(rec, d).error().code, ErrorCode::invalid_argument);
}

TEST(Bids, DamagedSidecarsAreParseErrorsWithTheirLine) {
  TempDir dir;
  struct Case {
    std::string channels, emg, expect;
    std::size_t line;
  };
  const std::vector<Case> cases = {
      {"name\ttype\nA0\tEMG\n", "", "must name name, type and units", 1},
      {"name\ttype\tunits\tsampling_frequency\nA0\tEMG\tmV\tfast\n", "", "'fast' is not a positive number", 2},
      {"name\ttype\tunits\nA0\tEMG\n", "", "2 fields, the header has 3", 2},
      {"name\ttype\tunits\nA0\tEMG\tmV\nA0\tEMG\tmV\n", "", "listed twice", 3},
      {"", "not json", "is not a JSON object", 0},
      {"", R"({"SamplingFrequency": -5})", "SamplingFrequency must be a positive number", 0},
  };
  int k = 0;
  for (const auto& c : cases) {
    std::string stem = "d";
    stem += std::to_string(k++);
    const auto csv = dir.write(stem + ".csv", "time,A0\n0.000,1\n0.001,2\n");
    if (!c.channels.empty()) dir.write(stem + "_channels.tsv", c.channels);
    if (!c.emg.empty()) dir.write(stem + "_emg.json", c.emg);
    auto rec = read_recording(csv);
    ASSERT_FALSE(rec) << c.channels << c.emg;
    EXPECT_EQ(rec.error().code, ErrorCode::parse) << rec.error().message();
    EXPECT_NE(rec.error().message().find(c.expect), std::string::npos) << rec.error().message();
    EXPECT_EQ(rec.error().line, c.line) << rec.error().message();
  }
}

}  // namespace
}  // namespace myoexo::io
