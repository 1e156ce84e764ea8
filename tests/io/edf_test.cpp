#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

using test::TempDir;

Recording make_recording(std::size_t n, double rate_hz) {
  Recording r;
  r.sample_rate_hz = rate_hz;
  r.channel_names = {"RF", "FX", "DIG"};
  r.channel_units = {"mV", "deg", ""};
  r.subject_id = "7N";
  r.label = "gait";
  r.n_samples = n;
  r.samples.resize(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    r.samples[i] = 0.0123 * std::sin(0.37 * static_cast<double>(i)) - 0.004;
    r.samples[n + i] = 20.0 + 45.0 * std::cos(0.003 * static_cast<double>(i));
    r.samples[2 * n + i] = 31.0;  // constant channel: PhysMin < PhysMax must still hold
  }
  for (std::size_t i = 0; i < n; ++i) r.sample_labels.push_back(static_cast<int>(i / 100 % 7));
  return r;
}

// The quantisation claim, from the file's own header: |x_read - x| <= (PhysMax - PhysMin) / (DigMax - DigMin) / 2.
// Returns the half step of signal k (0-based) read from the raw EDF/BDF header.
double half_step(const std::string& bytes, std::size_t k) {
  const std::size_t ns = static_cast<std::size_t>(std::strtol(bytes.substr(252, 4).c_str(), nullptr, 10));
  auto field = [&](std::size_t offset, std::size_t width) {
    return std::strtod(bytes.substr(256 + offset * ns + k * width, width).c_str(), nullptr);
  };
  const double pmin = field(96 + 8, 8), pmax = field(96 + 16, 8), dmin = field(96 + 24, 8), dmax = field(96 + 32, 8);
  return (pmax - pmin) / (dmax - dmin) / 2.0;
}

void expect_round_trip(const Recording& rec, const std::filesystem::path& path, double digital_steps) {
  ASSERT_TRUE(write_edf(rec, path).ok());
  auto back = read_edf(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->channel_names, rec.channel_names);
  EXPECT_EQ(back->channel_units, rec.channel_units);
  EXPECT_NEAR(back->sample_rate_hz, rec.sample_rate_hz, 1e-9 * rec.sample_rate_hz);
  ASSERT_EQ(back->n_samples, rec.n_samples);
  EXPECT_EQ(back->sample_labels, rec.sample_labels);
  EXPECT_EQ(back->subject_id, rec.subject_id);
  EXPECT_EQ(back->label, rec.label);
  const std::string bytes = test::read_all(path);
  for (std::size_t c = 0; c < rec.n_channels(); ++c) {
    const double tol = half_step(bytes, c);
    // The header range is the data range rounded outward to 8 characters: the step is what the bits allow.
    const auto ch = rec.channel(c);
    const double range = *std::max_element(ch.begin(), ch.end()) - *std::min_element(ch.begin(), ch.end());
    if (range > 0) {
      EXPECT_LE(tol, 0.5 * range / digital_steps * (1 + 1e-3)) << rec.channel_names[c];
    }
    double worst = 0;
    for (std::size_t i = 0; i < rec.n_samples; ++i)
      worst = std::max(worst, std::abs(back->channel(c)[i] - ch[i]));
    EXPECT_LE(worst, tol * (1 + 1e-9)) << rec.channel_names[c] << " in " << path.filename();
  }
}

TEST(Edf, EdfRoundTripIsWithinHalfAQuantisationStep) {
  TempDir dir;
  expect_round_trip(make_recording(2500, 1000.0), dir.path() / "a.edf", 65535.0);
}

TEST(Edf, BdfRoundTripIsWithinHalfATwentyFourBitStep) {
  TempDir dir;
  expect_round_trip(make_recording(2500, 1000.0), dir.path() / "a.bdf", 16777215.0);
}

TEST(Edf, SampleCountsThatAreNotWholeSecondsStillRoundTrip) {
  TempDir dir;
  expect_round_trip(make_recording(12973, 1000.0), dir.path() / "odd.edf", 65535.0);  // 7 x 17 x 109
  expect_round_trip(make_recording(1031, 200.0), dir.path() / "prime.edf", 65535.0);  // prime: 1-sample records
}

TEST(Edf, HeaderFollowsEdfPlusWithAnAnnotationSignal) {
  TempDir dir;
  const auto path = dir.path() / "h.edf";
  ASSERT_TRUE(write_edf(make_recording(3000, 1000.0), path).ok());  // 3 records of 1 s
  const std::string bytes = test::read_all(path);
  EXPECT_EQ(bytes.substr(0, 8), "0       ");
  EXPECT_EQ(bytes.substr(192, 5), "EDF+C");
  EXPECT_NE(bytes.find("EDF Annotations"), std::string::npos);
  EXPECT_EQ(bytes.substr(8, 10), "7N X X X  ");
  // Record 1 starts at 1 s (1000 samples per 1 s record): its time-keeping annotation says "+1".
  const std::size_t header = 256 * 6, record = 4 * 1000 * 2 + 60;  // 3 channels + label + annotations
  EXPECT_EQ(bytes.substr(header + record + 4 * 1000 * 2, 5), std::string("+1\x14\x14\0", 5));
  // No start time known: the EDF+ "not recorded" convention, and none read back.
  EXPECT_EQ(bytes.substr(88, 11), "Startdate X");
  EXPECT_FALSE(read_edf(path)->start_utc_ms.has_value());
}

// The real start time: in the header's start date and time (and EDF+'s four-digit year), and read back.
TEST(Edf, TheStartTimeIsWrittenInTheHeaderAndReadBack) {
  TempDir dir;
  const auto path = dir.path() / "t.edf";
  auto rec = make_recording(2000, 1000.0);
  rec.start_utc_ms = std::int64_t(1796356805) * 1000 + 250;  // 2026-12-04 04:00:05.250 UTC
  ASSERT_TRUE(write_edf(rec, path).ok());
  const std::string bytes = test::read_all(path);
  EXPECT_EQ(bytes.substr(88, 21), "Startdate 04-DEC-2026");
  EXPECT_EQ(bytes.substr(168, 16), "04.12.2604.00.05");
  auto back = read_edf(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_TRUE(back->start_utc_ms.has_value());
  EXPECT_EQ(*back->start_utc_ms, std::int64_t(1796356805) * 1000);  // EDF keeps whole seconds
}

TEST(Edf, WriterRejectsBadRequests) {
  TempDir dir;
  auto rec = make_recording(100, 1000.0);
  EXPECT_EQ(write_edf(rec, dir.path() / "x.gdf").error().code, ErrorCode::invalid_argument);
  Recording empty;
  empty.sample_rate_hz = 100;
  EXPECT_EQ(write_edf(empty, dir.path() / "x.edf").error().code, ErrorCode::invalid_argument);
  rec.samples[5] = INFINITY;
  EXPECT_EQ(write_edf(rec, dir.path() / "x.edf").error().code, ErrorCode::invalid_argument);
  rec = make_recording(100, 1000.0);
  rec.samples[0] = 1e12;  // does not fit the 8-character physical range
  EXPECT_EQ(write_edf(rec, dir.path() / "x.edf").error().code, ErrorCode::unsupported);
}

TEST(Edf, ReaderRejectsFilesThatAreNotEdf) {
  TempDir dir;
  const auto p = dir.write("fake.edf", std::string(300, 'x'));
  auto rec = read_edf(p);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.error().code, ErrorCode::parse);
  EXPECT_EQ(rec.error().file, p.string());
  EXPECT_EQ(read_edf(dir.path() / "missing.edf").error().code, ErrorCode::io);
  std::string truncated = test::read_all([&] {
    const auto q = dir.path() / "t.edf";
    EXPECT_TRUE(write_edf(make_recording(100, 1000.0), q).ok());
    return q;
  }());
  const auto t = dir.write("trunc.edf", truncated.substr(0, 400));
  EXPECT_FALSE(read_edf(t).ok());
}

TEST(Edf, TruncatedDataRecordsReadAsFewerSamplesWithAWarning) {
  TempDir dir;
  const auto full = dir.path() / "full.edf";
  ASSERT_TRUE(write_edf(make_recording(2500, 1000.0), full).ok());  // 4 records of 625 samples
  const std::string bytes = test::read_all(full);
  const auto cut = dir.write("cut.edf", bytes.substr(0, bytes.size() - 1000));
  auto rec = read_edf(cut);
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 1875u);  // the last complete record ends at sample 1875
  ASSERT_FALSE(rec->warnings.empty());
  EXPECT_NE(rec->warnings.back().find("3 of 4"), std::string::npos) << rec->warnings.back();
}

// Signals whose samples per record share no small common multiple (997, 1009, 1013: about 10^9) would be
// resampled by biosig to a billion rows per record from a few kilobytes of file: refused from the header, with the
// file named, before anything is allocated.
TEST(Edf, SignalsWithoutACommonRateWithinBoundsAreRefusedFromTheHeader) {
  TempDir dir;
  const auto ok = dir.path() / "ok.edf";
  ASSERT_TRUE(write_edf(make_recording(1000, 1000.0), ok).ok());
  std::string bytes = test::read_all(ok);
  const std::size_t ns = static_cast<std::size_t>(std::strtol(bytes.substr(252, 4).c_str(), nullptr, 10));
  ASSERT_GE(ns, 3u);
  const char* spr[] = {"997     ", "1009    ", "1013    "};
  std::size_t record_bytes = 0;
  for (std::size_t k = 0; k < ns; ++k) {
    if (k < 3) bytes.replace(256 + ns * 216 + k * 8, 8, spr[k]);
    record_bytes += 2 * static_cast<std::size_t>(std::strtol(bytes.substr(256 + ns * 216 + k * 8, 8).c_str(), nullptr, 10));
  }
  bytes.replace(236, 8, "1       ");  // one data record, present in full
  bytes.resize(256 * (ns + 1) + record_bytes, '\0');
  const auto p = dir.write("no_common_rate.edf", bytes);
  auto rec = read_edf(p);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.error().code, ErrorCode::unsupported);
  EXPECT_EQ(rec.error().file, p.string());
  EXPECT_NE(rec.error().message().find("common rate"), std::string::npos) << rec.error().message();
}

TEST(EdfRealData, LowerLimbRecordingRoundTripsThroughEdf) {
  auto root = test::lower_limb_root();
  if (!root) GTEST_SKIP() << "uci-lower-limb data absent";
  auto rec = read_uci_lower_limb(*root / "N_TXT" / "1Nmar.txt");
  ASSERT_TRUE(rec.ok());
  TempDir dir;
  expect_round_trip(*rec, dir.path() / "1Nmar.edf", 65535.0);
}

}  // namespace
}  // namespace myoexo::io
