#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string lower_limb_text(double offset) {
  std::string s =
      "File Name: x.log\r\n"
      "Channel 1: 'RF', 3 values, engineering units: mV, no filters.\r\n"
      "Channel 2: 'BF', 3 values, engineering units: mV, no filters.\r\n"
      "Channel 3: 'VM', 3 values, engineering units: mV, no filters.\r\n"
      "Channel 4: 'ST', 3 values, engineering units: mV, no filters.\r\n"
      "Channel 5: 'FX', 3 values, engineering units: deg, no filters.\r\n"
      "\r\n";
  for (int i = 0; i < 3; ++i) {
    const std::string v = std::to_string(offset + i);
    s += v + "\t" + v + "\t" + v + "\t" + v + "\t" + v + "\r\n";
  }
  return s + "\t\t\t\t\r\n";
}

const char* kGestures = "time\tchannel1\tchannel2\tclass\r\n1\t1e-05\t0\t0\r\n2\t1e-05\t0\t0\r\n6\t2e-05\t0\t1\r\n";

TEST(Dataset, DetectFormatSniffsContentNotJustTheExtension) {
  TempDir dir;
  EXPECT_EQ(detect_format(dir.write("1Nmar.txt", lower_limb_text(0))), FileFormat::uci_lower_limb);
  EXPECT_EQ(detect_format(dir.write("renamed.dat", lower_limb_text(0))), FileFormat::uci_lower_limb);
  EXPECT_EQ(detect_format(dir.write("01/1_raw.txt", kGestures)), FileFormat::uci_gestures);
  EXPECT_EQ(detect_format(dir.write("a.csv", "x,y\n1,2\n")), FileFormat::csv);
  EXPECT_EQ(detect_format(dir.write("a.txt", "time\tx\n1\t2\n")), FileFormat::csv);
  EXPECT_EQ(detect_format(dir.write("README.txt", "1.\tSuperficial EMG\nAbstract: words\n")), FileFormat::unknown);
  EXPECT_EQ(detect_format(dir.write("notes.md", "# notes\n")), FileFormat::unknown);
  EXPECT_EQ(detect_format(dir.path() / "missing.csv"), FileFormat::unknown);
  EXPECT_EQ(detect_format(dir.path()), FileFormat::unknown);
  EXPECT_STREQ(file_format_name(FileFormat::uci_gestures), "uci-gestures");
}

TEST(Dataset, WriteRecordingPicksTheFormatFromTheExtension) {
  TempDir dir;
  auto rec = parse_uci_lower_limb(lower_limb_text(0), "2Apie.txt");
  ASSERT_TRUE(rec.ok());
  for (const char* name : {"o.csv", "o.tsv", "o.edf", "o.bdf"}) {
    const auto p = dir.path() / name;
    ASSERT_TRUE(write_recording(*rec, p).ok()) << name;
    auto back = read_recording(p);
    ASSERT_TRUE(back.ok()) << name << ": " << back.error().message();
    EXPECT_EQ(back->channel_names, rec->channel_names) << name;
    EXPECT_EQ(back->n_samples, rec->n_samples) << name;
  }
  EXPECT_EQ(write_recording(*rec, dir.path() / "o.xyz").error().code, ErrorCode::unsupported);
}

TEST(Dataset, LoadGroupsBySubjectAndLabelAndReportsDuplicatesAndUnreadables) {
  TempDir dir;
  dir.write("N_TXT/1Nmar.txt", lower_limb_text(0));
  dir.write("N_TXT/1Npie.txt", lower_limb_text(10));
  dir.write("N_TXT/2Npie.txt", lower_limb_text(10));  // same data as 1Npie
  dir.write("A_TXT/3Asen.txt", lower_limb_text(20));
  dir.write("A_TXT/4Asen.txt", "File Name: broken\r\nChannel 1: 'XX', 1 values\r\n\r\n1\r\n");
  dir.write("README.md", "# not data\n");
  dir.write("BDSEMG_eng.txt", "1.\tSuperficial electromyography Database\nAbstract: text\n");
  auto ds = load_dataset(dir.path());
  ASSERT_TRUE(ds.ok()) << ds.error().message();
  ASSERT_EQ(ds->recordings.size(), 4u);
  EXPECT_EQ(ds->subjects(), (std::vector<std::string>{"1N", "2N", "3A"}));
  EXPECT_EQ(ds->labels(), (std::vector<std::string>{"gait", "sitting", "standing"}));
  EXPECT_EQ(ds->by_subject("1N").size(), 2u);
  const auto g = ds->grouped();
  ASSERT_EQ(g.at("1N").at("standing").size(), 1u);
  EXPECT_EQ(ds->recordings[g.at("1N").at("standing")[0]].source_path.filename(), "1Npie.txt");
  ASSERT_EQ(ds->duplicates.size(), 1u);
  EXPECT_EQ(ds->duplicates[0].first.filename(), "1Npie.txt");
  EXPECT_EQ(ds->duplicates[0].second.filename(), "2Npie.txt");
  ASSERT_EQ(ds->unreadable.size(), 1u);
  EXPECT_NE(ds->unreadable[0].file.find("4Asen.txt"), std::string::npos);
  EXPECT_EQ(ds->unreadable[0].line, 2u);
  // sorted by (subject, label, path)
  EXPECT_EQ(ds->recordings[0].subject_id, "1N");
  EXPECT_EQ(ds->recordings[0].label, "gait");
}

TEST(Dataset, MissingFolderAndFolderWithoutRecordingsAreErrors) {
  TempDir dir;
  auto a = load_dataset(dir.path() / "nope");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::io);
  EXPECT_EQ(a.error().file, (dir.path() / "nope").string());
  auto b = load_dataset(dir.path());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::empty);
  dir.write("sub/readme.md", "text");
  dir.write("sub/bad.csv", "");
  auto c = load_dataset(dir.path());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::empty);
  EXPECT_NE(c.error().reason.find("bad.csv"), std::string::npos);
  auto d = load_dataset(dir.write("file.csv", "a,b\n"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::io);
}

TEST(Dataset, FindDuplicatesComparesContentNotNames) {
  auto a = parse_uci_lower_limb(lower_limb_text(0), "1Nmar.txt");
  auto b = parse_uci_lower_limb(lower_limb_text(0), "5Apie.txt");
  auto c = parse_uci_lower_limb(lower_limb_text(1), "6Apie.txt");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  a->source_path = "a";
  b->source_path = "b";
  c->source_path = "c";
  auto d = *c;
  d.samples.back() += 1e-12;  // one sample differs
  d.source_path = "d";
  const auto dups = find_duplicates({*a, *b, *c, d, *a});
  ASSERT_EQ(dups.size(), 2u);
  EXPECT_EQ(dups[0].first, "a");
  EXPECT_EQ(dups[0].second, "b");
  EXPECT_EQ(dups[1].first, "a");
  EXPECT_EQ(dups[1].second, "a");
}

// ---- real data ----

TEST(DatasetRealData, LowerLimbLoadsFortyEightFilesAndExactlyTheTwoKnownDuplicatePairs) {
  auto root = test::lower_limb_root();
  if (!root) GTEST_SKIP() << "uci-lower-limb data absent";
  auto ds = load_dataset(*root);
  ASSERT_TRUE(ds.ok()) << ds.error().message();
  EXPECT_EQ(ds->recordings.size(), 48u);
  EXPECT_TRUE(ds->unreadable.empty()) << ds->unreadable.front().message();  // BDSEMG_eng.txt is ignored
  EXPECT_EQ(ds->subjects().size(), 16u);
  EXPECT_EQ(ds->labels(), (std::vector<std::string>{"gait", "sitting", "standing"}));
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& d : ds->duplicates) pairs.insert({d.first.filename().string(), d.second.filename().string()});
  EXPECT_EQ(pairs, (std::set<std::pair<std::string, std::string>>{{"1Npie.txt", "2Npie.txt"}, {"1Nsen.txt", "2Nsen.txt"}}));
  for (const auto& [subject, by_label] : ds->grouped()) EXPECT_EQ(by_label.size(), 3u) << subject;
}

TEST(DatasetRealData, GesturesLoadTenSessionsOfFiveSubjects) {
  auto root = test::gestures_root();
  if (!root) GTEST_SKIP() << "uci-gestures data absent";
  auto ds = load_dataset(*root);
  ASSERT_TRUE(ds.ok()) << ds.error().message();
  EXPECT_EQ(ds->recordings.size(), 10u);
  EXPECT_EQ(ds->subjects().size(), 5u);
  EXPECT_TRUE(ds->duplicates.empty());
  for (const auto& r : ds->recordings) EXPECT_EQ(r.sample_rate_hz, 200.0);
}

}  // namespace
}  // namespace myoexo::io
