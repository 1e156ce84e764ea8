// EDF+ annotations: named per-sample labels are written as annotations (onset, duration, class name) that
// libbiosig's own EDF+ parser reads back as events at the same samples, notes without a duration survive a round
// trip, and malformed or overlapping annotations are clear errors naming the file and the data record.
#include <gtest/gtest.h>

#include <biosig.h>
#undef isfinite
#undef min
#undef max

#include <cmath>
#include <fstream>
#include <string>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

using test::TempDir;

// 12.5 s at 1 kHz: rest, gait, rest, standing, unlabelled tail.
Recording labelled(std::size_t n = 12500) {
  Recording r;
  r.sample_rate_hz = 1000.0;
  r.channel_names = {"RF", "BF"};
  r.channel_units = {"mV", "mV"};
  r.subject_id = "P01";
  r.n_samples = n;
  r.samples.resize(2 * n);
  for (std::size_t i = 0; i < 2 * n; ++i) r.samples[i] = 0.1 * std::sin(0.01 * double(i));
  r.label_names = {"rest", "gait", "standing"};
  r.sample_labels.assign(n, -1);
  auto run = [&](std::size_t from, std::size_t to, int id) {
    for (std::size_t i = from; i < std::min(to, n); ++i) r.sample_labels[i] = id;
  };
  run(0, 2000, 0);
  run(2000, 6500, 1);
  run(6500, 8000, 0);
  run(8000, 11250, 2);
  r.annotations = {{3.25, 0.0, "gap: 120 samples lost"}, {9.0, 0.0, "stream restarted"}};
  return r;
}

std::vector<std::string> names_per_sample(const Recording& r) {
  std::vector<std::string> out(r.n_samples);
  for (std::size_t i = 0; i < r.n_samples; ++i)
    out[i] = r.sample_labels[i] < 0 ? "" : r.label_names[std::size_t(r.sample_labels[i])];
  return out;
}

TEST(EdfAnnotations, NamedLabelsAndNotesRoundTripAsAnnotationsNotAsAChannel) {
  TempDir dir;
  const Recording rec = labelled();
  const auto path = dir.path() / "p01.edf";
  ASSERT_TRUE(write_edf(rec, path).ok());
  const std::string bytes = test::read_all(path);
  EXPECT_EQ(bytes.find("label           "), std::string::npos);  // no label channel
  EXPECT_NE(bytes.find(std::string("+2\x15" "4.5\x14gait\x14")), std::string::npos);
  EXPECT_NE(bytes.find(std::string("+3.25\x14gap: 120 samples lost\x14")), std::string::npos);
  auto back = read_edf(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->channel_names, rec.channel_names);
  EXPECT_EQ(names_per_sample(*back), names_per_sample(rec));
  ASSERT_EQ(back->annotations.size(), 2u);
  EXPECT_EQ(back->annotations[0].label, "gap: 120 samples lost");
  EXPECT_NEAR(back->annotations[0].onset_s, 3.25, 1e-12);
  EXPECT_EQ(back->annotations[1].label, "stream restarted");
  // Through the generic reader too (which a training run uses).
  auto via = read_recording(path);
  ASSERT_TRUE(via.ok()) << via.error().message();
  EXPECT_EQ(names_per_sample(*via), names_per_sample(rec));
}

// libbiosig parses EDF+ annotations on its own (into its event table): the same texts at the same samples with the
// same durations.
TEST(EdfAnnotations, AnIndependentEdfPlusParserSeesTheSameEvents) {
  TempDir dir;
  const Recording rec = labelled();
  const auto path = dir.path() / "p01.edf";
  ASSERT_TRUE(write_edf(rec, path).ok());
  HDRTYPE* hdr = sopen(path.string().c_str(), "r", nullptr);
  ASSERT_NE(hdr, nullptr);
  ASSERT_FALSE(biosig_check_error(hdr));
  const double fs = biosig_get_eventtable_samplerate(hdr);
  std::vector<std::tuple<std::string, double, double>> got;
  for (std::size_t k = 0; k < biosig_get_number_of_events(hdr); ++k) {
    uint16_t typ = 0, chn = 0;
    uint32_t pos = 0, dur = 0;
    gdf_time ts = 0;
    const char* desc = nullptr;
    ASSERT_EQ(biosig_get_nth_event(hdr, k, &typ, &pos, &chn, &dur, &ts, &desc), 0);
    got.emplace_back(desc ? desc : "", pos / fs, dur / fs);
  }
  sclose(hdr);
  destructHDR(hdr);
  const std::vector<std::tuple<std::string, double, double>> want = {
      {"rest", 0.0, 2.0},     {"gait", 2.0, 4.5},     {"gap: 120 samples lost", 3.25, 0.0},
      {"rest", 6.5, 1.5},     {"standing", 8.0, 3.25}, {"stream restarted", 9.0, 0.0}};
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    const auto& [name, onset, dur] = want[k];
    bool found = false;
    for (const auto& [gn, go, gd] : got)
      found |= gn == name && std::abs(go - onset) < 1e-9 && std::abs(gd - dur) < 1e-9;
    EXPECT_TRUE(found) << name << " at " << onset;
  }
}

TEST(EdfAnnotations, ManyEventsInOneRecordWidenTheAnnotationSignal) {
  TempDir dir;
  Recording rec = labelled(2000);
  rec.label_names = {"a", "b"};
  for (std::size_t i = 0; i < rec.n_samples; ++i) rec.sample_labels[i] = int(i / 10 % 2);  // 200 events
  rec.annotations.clear();
  const auto path = dir.path() / "dense.edf";
  ASSERT_TRUE(write_edf(rec, path).ok());
  auto back = read_edf(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(names_per_sample(*back), names_per_sample(rec));
}

// Corrupts the first annotation TAL of the file in place.
void corrupt(const std::filesystem::path& path, const std::string& from, const std::string& to) {
  std::string b = test::read_all(path);
  const auto at = b.find(from);
  ASSERT_NE(at, std::string::npos);
  b.replace(at, from.size(), to);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << b;
}

TEST(EdfAnnotations, MalformedOrOverlappingAnnotationsAreErrorsNamingTheRecord) {
  TempDir dir;
  const auto path = dir.path() / "bad.edf";
  struct Case {
    std::string from, to, expect;
  };
  const std::vector<Case> cases = {
      {std::string("+2\x15" "4.5\x14gait"), std::string("+2\x15" "4.x\x14gait"), "duration '4.x'"},
      {std::string("+2\x15" "4.5\x14gait"), std::string("?2\x15" "4.5\x14gait"), "does not start with an onset"},
      {std::string("+2\x15" "4.5\x14gait"), std::string("+2\x15" "9.5\x14gait"), "overlap"},
      {std::string("+8\x15" "3.25\x14standing"), std::string("+8\x15" "9.25\x14standing"), "past the recording's end"},
      // Wholly before the first sample (an onset relative to a later time-keeping annotation): an error, never a
      // label spread over the whole recording.
      {std::string("+2\x15" "4.5\x14gait"), std::string("-9\x15" "4.5\x14gait"), "before the recording's first sample"},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(write_edf(labelled(), path).ok());
    corrupt(path, c.from, c.to);
    auto r = read_edf(path);
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_NE(r.error().message().find(c.expect), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().file, path.string());
  }
  // A TAL whose terminator is gone.
  ASSERT_TRUE(write_edf(labelled(), path).ok());
  std::string b = test::read_all(path);
  const auto at = b.find(std::string("+2\x15" "4.5\x14gait\x14"));
  ASSERT_NE(at, std::string::npos);
  for (std::size_t i = at; i < b.size() && i < at + 200; ++i)
    if (b[i] == '\0') b[i] = 'x';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << b;
  auto r = read_edf(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("EDF+ annotations of data record"), std::string::npos) << r.error().message();
}

TEST(EdfAnnotations, UnnamedIdsKeepTheLabelChannelAndBdfHasNoAnnotations) {
  TempDir dir;
  Recording rec = labelled(3000);
  rec.label_names.clear();
  rec.annotations.clear();
  ASSERT_TRUE(write_edf(rec, dir.path() / "ids.edf").ok());
  auto back = read_edf(dir.path() / "ids.edf");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->sample_labels, rec.sample_labels);
  rec = labelled(3000);
  rec.annotations.clear();
  ASSERT_TRUE(write_edf(rec, dir.path() / "named.bdf").ok());
  auto bdf = read_edf(dir.path() / "named.bdf");
  ASSERT_TRUE(bdf.ok()) << bdf.error().message();
  EXPECT_EQ(bdf->sample_labels, rec.sample_labels);
}

}  // namespace
}  // namespace myoexo::io
