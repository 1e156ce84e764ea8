// XDF files as LabRecorder writes them, built here byte by byte from the format's specification (chunks, stream
// headers in XML, samples with and without time stamps, marker streams), and damaged ones.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/io.hpp"

namespace io = myoexo::io;

namespace {

// ---- a minimal XDF writer (the specification, section "Chunks") ------------------------------------------------

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void varlen(std::string& out, std::uint64_t n, int bytes = 0) {
  if (bytes == 0) bytes = n < 256 ? 1 : (n <= 0xffffffffu ? 4 : 8);
  put(out, std::uint8_t(bytes));
  if (bytes == 1) put(out, std::uint8_t(n));
  if (bytes == 4) put(out, std::uint32_t(n));
  if (bytes == 8) put(out, std::uint64_t(n));
}
void chunk(std::string& out, std::uint16_t tag, const std::string& content, int length_bytes = 0) {
  varlen(out, content.size() + 2, length_bytes);
  put(out, tag);
  out += content;
}
std::string stream_header(std::uint32_t id, const std::string& name, const std::string& type, std::size_t nch,
                          double srate, const std::string& format, const std::vector<std::string>& labels = {},
                          const std::string& unit = "microvolts") {
  std::string xml = "<?xml version=\"1.0\"?><info><name>" + name + "</name><type>" + type + "</type><channel_count>" +
                    std::to_string(nch) + "</channel_count><nominal_srate>" + std::to_string(srate) +
                    "</nominal_srate><channel_format>" + format + "</channel_format><desc><channels>";
  for (const auto& l : labels) xml += "<channel><label>" + l + "</label><unit>" + unit + "</unit></channel>";
  xml += "</channels></desc></info>";
  std::string c;
  put(c, id);
  return c + xml;
}

// Two EMG channels at 1 kHz (float32, values k * 0.25 and -k * 0.5), time stamps only on every 10th sample (the
// others deduced, as LabRecorder writes them), a marker stream with two cues, a clock-offset and a boundary chunk.
std::string example_file(std::size_t n = 1200, double gap_s = 0.0) {
  std::string f = "XDF:";
  chunk(f, 1, "<?xml version=\"1.0\"?><info><version>1.0</version></info>");
  chunk(f, 2, stream_header(7, "Cues", "Markers", 1, 0.0, "string"));
  chunk(f, 2, stream_header(3, "MyoWare", "EMG", 2, 1000.0, "float32", {"RF", "BF"}), 4);
  for (std::size_t k0 = 0; k0 < n; k0 += 100) {
    std::string c;
    put(c, std::uint32_t(3));
    const std::size_t m = std::min<std::size_t>(100, n - k0);
    varlen(c, m, 4);
    for (std::size_t k = k0; k < k0 + m; ++k) {
      if (k % 10 == 0 || (gap_s > 0 && k == 600)) {
        put(c, std::uint8_t(8));
        put(c, 50.0 + double(k) / 1000.0 + (k >= 600 ? gap_s : 0.0));
      } else {
        put(c, std::uint8_t(0));
      }
      put(c, float(k) * 0.25f);
      put(c, -float(k) * 0.5f);
    }
    chunk(f, 3, c, 4);
  }
  for (const auto& [t, text] : std::vector<std::pair<double, std::string>>{{50.25, "lift"}, {50.9, "lower"}}) {
    std::string c;
    put(c, std::uint32_t(7));
    varlen(c, 1);
    put(c, std::uint8_t(8));
    put(c, t);
    varlen(c, text.size());
    c += text;
    chunk(f, 3, c);
  }
  std::string clock;
  put(clock, std::uint32_t(3));
  put(clock, 51.0);
  put(clock, -0.001);
  chunk(f, 4, clock);
  chunk(f, 5, std::string(16, '\x43'));
  return f;
}

}  // namespace

TEST(Xdf, TheEmgStreamItsChannelsUnitsValuesAndTheMarkersAsAnnotations) {
  auto rec = io::parse_xdf(example_file(), "session.xdf");
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"RF", "BF"}));
  EXPECT_EQ(rec->channel_units, (std::vector<std::string>{"uV", "uV"}));
  EXPECT_DOUBLE_EQ(rec->sample_rate_hz, 1000.0);
  ASSERT_EQ(rec->n_samples, 1200u);
  for (std::size_t k : {0u, 1u, 599u, 1199u}) {
    EXPECT_DOUBLE_EQ(rec->channel(0)[k], double(float(k) * 0.25f)) << k;
    EXPECT_DOUBLE_EQ(rec->channel(1)[k], double(-float(k) * 0.5f)) << k;
  }
  ASSERT_EQ(rec->annotations.size(), 2u);
  EXPECT_EQ(rec->annotations[0].label, "lift");
  EXPECT_NEAR(rec->annotations[0].onset_s, 0.25, 1e-9);
  EXPECT_EQ(rec->annotations[1].label, "lower");
  EXPECT_NEAR(rec->annotations[1].onset_s, 0.9, 1e-9);
  EXPECT_TRUE(rec->warnings.empty());
}

TEST(Xdf, AGapInTheTimeStampsIsReportedNotFilledIn) {
  auto rec = io::parse_xdf(example_file(1200, 0.2), "gap.xdf");
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 1200u);  // what was recorded, contiguous
  ASSERT_EQ(rec->warnings.size(), 1u);
  EXPECT_NE(rec->warnings[0].find("200 samples missing at 0.599"), std::string::npos) << rec->warnings[0];
}

TEST(Xdf, ReadRecordingKnowsTheFileByItsFirstBytes) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "myoexo_xdf_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "sub-01_task-legs.xdf";
  std::ofstream(path, std::ios::binary) << example_file();
  EXPECT_EQ(io::detect_format(path), io::FileFormat::xdf);
  auto rec = io::read_recording(path);
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 1200u);
  EXPECT_EQ(rec->source_path, path);
}

TEST(Xdf, DamagedFilesAreErrorsNamingTheFileAndNeverCrash) {
  const std::string good = example_file(300);
  // Every truncation: an error or (cut at a chunk boundary after the EMG) a shorter recording, never a crash.
  for (std::size_t n = 0; n < good.size(); n += 3) {
    auto rec = io::parse_xdf(good.substr(0, n), "cut.xdf");
    if (!rec) {
      EXPECT_NE(rec.error().message().find("cut.xdf"), std::string::npos);
    }
  }
  // Every byte flipped in turn.
  for (std::size_t i = 0; i < good.size(); i += 5) {
    std::string bad = good;
    bad[i] = char(bad[i] ^ 0xA5);
    auto rec = io::parse_xdf(bad, "flip.xdf");
    if (rec) {
      EXPECT_EQ(rec->channel_names.size(), rec->samples.size() / std::max<std::size_t>(rec->n_samples, 1));
    }
  }
  auto not_xdf = io::parse_xdf("XDX:....", "x.xdf");
  ASSERT_FALSE(not_xdf);
  EXPECT_NE(not_xdf.error().message().find("not an XDF file"), std::string::npos);
  // A sample count the chunk cannot hold is refused before anything is sized from it.
  std::string huge = "XDF:";
  chunk(huge, 2, stream_header(1, "E", "EMG", 2, 1000.0, "float32", {"A", "B"}));
  std::string c;
  put(c, std::uint32_t(1));
  varlen(c, std::uint64_t(1) << 60, 8);
  chunk(huge, 3, c);
  auto h = io::parse_xdf(huge, "huge.xdf");
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message().find("cannot fit"), std::string::npos) << h.error().message();
  // Two numeric streams, neither of type EMG: the reader does not guess.
  std::string two = "XDF:";
  chunk(two, 2, stream_header(1, "A", "EEG", 1, 500.0, "double64", {"x"}));
  chunk(two, 2, stream_header(2, "B", "Accel", 1, 100.0, "int16", {"y"}));
  for (std::uint32_t id : {1u, 2u}) {
    std::string s;
    put(s, id);
    varlen(s, 1);
    put(s, std::uint8_t(8));
    put(s, 1.0);
    if (id == 1) put(s, 1.5); else put(s, std::int16_t(3));
    chunk(two, 3, s);
  }
  auto t = io::parse_xdf(two, "two.xdf");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message().find("none of type EMG"), std::string::npos) << t.error().message();
}
