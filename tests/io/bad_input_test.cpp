// Bad input: every case yields a typed Error naming the file and the line (0 only for errors about the path
// itself), or — for damage inside an otherwise good file — a skipped and counted row. Never a crash or hang.
//
// Decisions pinned here, per case:
//   empty file            -> ErrorCode::empty, line 1
//   header only           -> ErrorCode::empty, the line where data should start
//   binary garbage        -> ErrorCode::parse (or empty), line >= 1
//   truncated last line   -> row skipped and counted (the rest of the file is good data)
//   NaN/Inf in a row      -> row skipped and counted; NaN/Inf in every row -> ErrorCode::parse at the first
//   wrong column count    -> same as NaN/Inf: one row skipped; every row -> ErrorCode::parse at the first
//   10 MB single line     -> ErrorCode::parse at that line (no row is 1 MiB long)
//   unreadable path       -> ErrorCode::io, line 0 (missing, a folder, no permission)
//   folder, no recordings -> ErrorCode::empty from load_dataset
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include <unistd.h>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

struct Reader {
  const char* name;
  std::function<Result<Recording>(const fs::path&)> read;
  std::function<Result<Recording>(std::string_view, const std::string&)> parse;
  std::string header;    // a valid header
  std::string good_row;  // one valid data row (without line ending)
  std::string nan_row;
  std::string short_row;
  std::size_t header_lines;
};

std::vector<Reader> readers() {
  const std::string ll_header =
      "File Name: 1Nmar.log\r\n"
      "Channel 1: 'RF', 5 values, engineering units: mV, no filters.\r\n"
      "Channel 2: 'BF', 5 values, engineering units: mV, no filters.\r\n"
      "Channel 3: 'VM', 5 values, engineering units: mV, no filters.\r\n"
      "Channel 4: 'ST', 5 values, engineering units: mV, no filters.\r\n"
      "Channel 5: 'FX', 5 values, engineering units: deg, no filters.\r\n"
      "\r\n";
  CsvOptions csv_opts;
  return {
      {"uci_lower_limb", [](const fs::path& p) { return read_uci_lower_limb(p); },
       [](std::string_view t, const std::string& n) { return parse_uci_lower_limb(t, n); }, ll_header,
       "0.1\t0.2\t0.3\t0.4\t57.6", "0.1\tnan\t0.3\t0.4\t57.6", "0.1\t0.2\t0.3", 7},
      {"uci_gestures", [](const fs::path& p) { return read_uci_gestures(p); },
       [](std::string_view t, const std::string& n) { return parse_uci_gestures(t, n); },
       "time\tchannel1\tchannel2\tclass\r\n", "#T\t1e-05\t-2e-05\t0", "#T\tinf\t-2e-05\t0", "#T\t1e-05", 1},
      {"csv", [](const fs::path& p) { return read_csv(p); },
       [](std::string_view t, const std::string& n) { return parse_csv(t, n); }, "time_ms,a,b\n", "#T,0.5,-0.25",
       "#T,NaN,1", "#T,1", 1},
  };
}

// Row text with a time stamp (readers with a time column need increasing stamps).
std::string row(const std::string& tmpl, int i) {
  std::string r = tmpl;
  if (auto p = r.find("#T"); p != std::string::npos) r.replace(p, 2, std::to_string(i + 1));
  return r;
}

std::string rows(const Reader& rd, int n, const std::string& tmpl = "") {
  std::string s;
  for (int i = 0; i < n; ++i) s += row(tmpl.empty() ? rd.good_row : tmpl, i) + "\r\n";
  return s;
}

void expect_error(const Result<Recording>& r, const fs::path& p, const char* reader, const char* what) {
  ASSERT_FALSE(r.ok()) << reader << ": " << what << " was accepted";
  EXPECT_EQ(r.error().file, p.string()) << reader << ": " << what;
  EXPECT_FALSE(r.error().reason.empty());
}

TEST(BadInput, EmptyFileIsAnEmptyErrorOnLineOne) {
  TempDir dir;
  for (const auto& rd : readers()) {
    for (const char* content : {"", "\r\n", "   \n\n"}) {
      const auto p = dir.write(std::string(rd.name) + ".txt", content);
      auto r = rd.read(p);
      expect_error(r, p, rd.name, "empty file");
      EXPECT_EQ(r.error().code, ErrorCode::empty) << rd.name;
      EXPECT_EQ(r.error().line, 1u) << rd.name;
    }
  }
}

TEST(BadInput, HeaderOnlyIsAnEmptyErrorWhereDataShouldStart) {
  TempDir dir;
  for (const auto& rd : readers()) {
    const auto p = dir.write(std::string(rd.name) + ".txt", rd.header);
    auto r = rd.read(p);
    expect_error(r, p, rd.name, "header only");
    EXPECT_EQ(r.error().code, ErrorCode::empty) << rd.name;
    EXPECT_EQ(r.error().line, rd.header_lines + 1) << rd.name;
  }
  // A lower-limb header cut before its blank line is "header only" too.
  const auto p = dir.write("ll_cut.txt", "File Name: x\r\nChannel 1: 'RF', 1 values, engineering units: mV\r\n");
  auto r = read_uci_lower_limb(p);
  expect_error(r, p, "uci_lower_limb", "header without blank line");
  EXPECT_EQ(r.error().code, ErrorCode::empty);
  EXPECT_EQ(r.error().line, 2u);
}

TEST(BadInput, BinaryGarbageIsAnErrorWithALine) {
  TempDir dir;
  for (const auto& rd : readers()) {
    for (unsigned seed = 1; seed <= 5; ++seed) {
      const auto p = dir.write(std::string(rd.name) + ".bin", test::random_bytes(4096, seed));
      auto r = rd.read(p);
      expect_error(r, p, rd.name, "binary garbage");
      EXPECT_TRUE(r.error().code == ErrorCode::parse || r.error().code == ErrorCode::empty) << rd.name;
      EXPECT_GE(r.error().line, 1u) << rd.name;
    }
    // Garbage after a valid header: every row is corrupt -> parse error at the first data line.
    const auto p = dir.write(std::string(rd.name) + ".hb", rd.header + test::random_bytes(2000, 42));
    auto r = rd.read(p);
    expect_error(r, p, rd.name, "garbage after header");
    EXPECT_GE(r.error().line, rd.header_lines + 1) << rd.name;
  }
}

TEST(BadInput, TruncatedLastLineIsSkippedAndCounted) {
  for (const auto& rd : readers()) {
    std::string text = rd.header + rows(rd, 5);
    std::string last = row(rd.good_row, 5);
    text += last.substr(0, last.size() / 2);  // cut mid-row, no line ending
    auto r = rd.parse(text, "t.txt");
    ASSERT_TRUE(r.ok()) << rd.name << ": " << r.error().message();
    EXPECT_EQ(r->rows_skipped, 1u) << rd.name;
    EXPECT_EQ(r->skipped_lines, (std::vector<std::size_t>{rd.header_lines + 6})) << rd.name;
  }
}

TEST(BadInput, NanOrInfRowIsSkippedAndEveryRowNanIsAParseError) {
  for (const auto& rd : readers()) {
    std::string text = rd.header + rows(rd, 3) + row(rd.nan_row, 3) + "\r\n";
    for (int i = 4; i < 7; ++i) text += row(rd.good_row, i) + "\r\n";
    auto r = rd.parse(text, "n.txt");
    ASSERT_TRUE(r.ok()) << rd.name << ": " << r.error().message();
    EXPECT_EQ(r->rows_skipped, 1u) << rd.name;
    EXPECT_EQ(r->skipped_lines, (std::vector<std::size_t>{rd.header_lines + 4})) << rd.name;
    for (double v : r->samples) ASSERT_TRUE(std::isfinite(v)) << rd.name;

    auto all = rd.parse(rd.header + rows(rd, 4, rd.nan_row), "n.txt");
    ASSERT_FALSE(all.ok()) << rd.name;
    EXPECT_EQ(all.error().code, ErrorCode::parse) << rd.name;
    EXPECT_EQ(all.error().line, rd.header_lines + 1) << rd.name;
    EXPECT_EQ(all.error().file, "n.txt");
  }
}

TEST(BadInput, WrongColumnCountRowIsSkippedAndEveryRowWrongIsAParseError) {
  for (const auto& rd : readers()) {
    std::string text = rd.header + rows(rd, 2) + row(rd.short_row, 2) + "\r\n" + row(rd.good_row, 3) + "\t9,9\r\n";
    for (int i = 4; i < 8; ++i) text += row(rd.good_row, i) + "\r\n";
    auto r = rd.parse(text, "w.txt");
    ASSERT_TRUE(r.ok()) << rd.name << ": " << r.error().message();
    EXPECT_EQ(r->rows_skipped, 2u) << rd.name;  // one short, one long

    auto all = rd.parse(rd.header + rows(rd, 5, rd.short_row), "w.txt");
    ASSERT_FALSE(all.ok()) << rd.name;
    EXPECT_EQ(all.error().code, ErrorCode::parse) << rd.name;
    EXPECT_EQ(all.error().line, rd.header_lines + 1) << rd.name;
    EXPECT_NE(all.error().message().find("w.txt:"), std::string::npos) << all.error().message();
  }
}

TEST(BadInput, MoreCorruptRowsThanGoodOnesIsAParseError) {
  for (const auto& rd : readers()) {
    std::string text = rd.header + rows(rd, 2);
    for (int i = 2; i < 6; ++i) text += row(rd.nan_row, i) + "\r\n";
    auto r = rd.parse(text, "m.txt");
    ASSERT_FALSE(r.ok()) << rd.name;
    EXPECT_EQ(r.error().code, ErrorCode::parse);
    EXPECT_EQ(r.error().line, rd.header_lines + 3) << rd.name;
  }
}

TEST(BadInput, TenMegabyteLineIsAParseErrorOnItsLine) {
  TempDir dir;
  const std::string big(10u << 20, '7');
  for (const auto& rd : readers()) {
    const auto p1 = dir.write(std::string(rd.name) + "_1.txt", big);
    auto r1 = rd.read(p1);
    expect_error(r1, p1, rd.name, "10 MB first line");
    EXPECT_EQ(r1.error().code, ErrorCode::parse) << rd.name;
    EXPECT_EQ(r1.error().line, 1u) << rd.name;

    const auto p2 = dir.write(std::string(rd.name) + "_2.txt", rd.header + rows(rd, 2) + big + "\r\n" + rows(rd, 2));
    auto r2 = rd.read(p2);
    expect_error(r2, p2, rd.name, "10 MB data line");
    EXPECT_EQ(r2.error().code, ErrorCode::parse) << rd.name;
    EXPECT_EQ(r2.error().line, rd.header_lines + 3) << rd.name;
  }
}

TEST(BadInput, UnreadablePathIsAnIoErrorNamingThePath) {
  TempDir dir;
  for (const auto& rd : readers()) {
    for (const auto& p : {dir.path() / "missing.txt", dir.path(), dir.path() / "missing" / "deeper.txt"}) {
      auto r = rd.read(p);
      expect_error(r, p, rd.name, "unreadable path");
      EXPECT_EQ(r.error().code, ErrorCode::io) << rd.name;
      EXPECT_EQ(r.error().line, 0u);
    }
  }
  auto r = read_recording(dir.path() / "missing.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_EQ(read_recording(dir.path()).error().code, ErrorCode::io);
  EXPECT_EQ(read_edf(dir.path()).error().code, ErrorCode::io);

  const auto locked = dir.write("locked.csv", "a,b\n1,2\n");
  fs::permissions(locked, fs::perms::none);
  if (::access(locked.c_str(), R_OK) == 0) GTEST_SKIP() << "running as root: permissions do not stop reads";
  auto l = read_csv(locked);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code, ErrorCode::io);
}

TEST(BadInput, FolderWithoutRecordingsIsAnEmptyError) {
  TempDir dir;
  dir.write("notes/readme.md", "hello");
  dir.write("notes/data.bin", test::random_bytes(100, 3));
  auto ds = load_dataset(dir.path());
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.error().code, ErrorCode::empty);
  EXPECT_EQ(ds.error().file, dir.path().string());
}

TEST(BadInput, UnknownFormatIsUnsupported) {
  TempDir dir;
  const auto p = dir.write("x.bin", test::random_bytes(100, 9));
  auto r = read_recording(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);
  EXPECT_EQ(r.error().file, p.string());
}

// A small deterministic fuzz pass in the unit tests (the libFuzzer targets in fuzz/ go further): random
// mutations of valid files never crash, and any error names the file.
TEST(BadInput, MutatedValidFilesNeverCrash) {
  std::mt19937 rng(1234);
  for (const auto& rd : readers()) {
    const std::string base = rd.header + rows(rd, 30);
    for (int iter = 0; iter < 300; ++iter) {
      std::string s = base;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits; ++e) {
        const std::size_t pos = rng() % (s.size() + 1);
        switch (rng() % 4) {
          case 0: if (pos < s.size()) s[pos] = static_cast<char>(rng() & 0xff); break;
          case 1: if (pos < s.size()) s.erase(pos, 1 + rng() % 16); break;
          case 2: s.insert(pos, 1, "\t\r\n,.-e+9x"[rng() % 10]); break;
          case 3: s.resize(pos); break;
        }
      }
      auto r = rd.parse(s, "mut.txt");
      if (!r.ok()) {
        EXPECT_EQ(r.error().file, "mut.txt");
      } else {
        EXPECT_EQ(r->samples.size(), r->n_samples * r->n_channels());
        EXPECT_EQ(r->channel_units.size(), r->n_channels());
        for (double v : r->samples) ASSERT_TRUE(std::isfinite(v));
      }
    }
  }
}

}  // namespace
}  // namespace myoexo::io
