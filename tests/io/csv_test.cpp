#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

using test::TempDir;

Recording make_recording(std::size_t n, double rate_hz, bool labels) {
  Recording r;
  r.sample_rate_hz = rate_hz;
  r.channel_names = {"RF", "knee, angle", "VM"};
  r.channel_units = {"mV", "deg", ""};
  r.n_samples = n;
  r.samples.resize(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    r.samples[i] = std::sin(0.1 * static_cast<double>(i)) * 1e-3;
    r.samples[n + i] = 45.0 + 30.0 * std::cos(0.01 * static_cast<double>(i));
    r.samples[2 * n + i] = 1.0 / 3.0 * static_cast<double>(i) - 1e-300;
  }
  if (labels)
    for (std::size_t i = 0; i < n; ++i) r.sample_labels.push_back(static_cast<int>(i / 10 % 4));
  return r;
}

TEST(Csv, WriteThenReadRoundTripsExactly) {
  TempDir dir;
  const auto rec = make_recording(257, 1000.0, true);
  const auto path = dir.path() / "out.csv";
  ASSERT_TRUE(write_csv(rec, path).ok());
  auto back = read_csv(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->channel_names, rec.channel_names);
  EXPECT_EQ(back->channel_units, rec.channel_units);
  EXPECT_EQ(back->sample_rate_hz, 1000.0);
  EXPECT_EQ(back->n_samples, rec.n_samples);
  EXPECT_EQ(back->samples, rec.samples);  // shortest round-trip decimal: bit-exact
  EXPECT_EQ(back->sample_labels, rec.sample_labels);
  EXPECT_EQ(back->rows_skipped, 0u);
  EXPECT_EQ(back->source_path, path);
}

TEST(Csv, RoundTripKeepsNonIntegerRates) {
  TempDir dir;
  for (double rate : {200.0, 2048.0, 1234.5, 3.0e4}) {
    const auto rec = make_recording(50, rate, false);
    const auto path = dir.path() / "r.csv";
    ASSERT_TRUE(write_csv(rec, path).ok());
    auto back = read_csv(path);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_NEAR(back->sample_rate_hz, rate, 1e-9 * rate);
  }
}

TEST(Csv, TsvWithMillisecondTimeColumnGivesTheRate) {
  const std::string text = "time\tch1\tch2\tclass\n1\t0.1\t0.2\t0\n2\t0.3\t0.4\t1\n3\t0.5\t0.6\t1\n";
  auto rec = parse_csv(text, "x.tsv");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->sample_rate_hz, 1000.0);  // step 1 with no unit: milliseconds
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"ch1", "ch2"}));
  EXPECT_EQ(rec->sample_labels, (std::vector<int>{0, 1, 1}));
  EXPECT_DOUBLE_EQ(rec->channel(1)[2], 0.6);
}

TEST(Csv, TimeUnitFromNameOrBracketsOrOption) {
  auto a = parse_csv("t [s],x\n0,1\n0.5,2\n1.0,3\n", "a.csv");
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->sample_rate_hz, 2.0);  // the unit wins over the step heuristic
  auto b = parse_csv("time_ms,x\n0,1\n4,2\n8,3\n", "b.csv");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sample_rate_hz, 250.0);
  CsvOptions o;
  o.time_column = "stamp";
  o.time_scale_s = 1e-6;
  auto c = parse_csv("stamp;x\n0;1\n500;2\n1000;3\n", "c.csv", o);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->sample_rate_hz, 2000.0);
  EXPECT_EQ(c->channel_names, (std::vector<std::string>{"x"}));
}

TEST(Csv, GivenRateOverridesAndNoRateAtAllIsAnError) {
  CsvOptions o;
  o.sample_rate_hz = 512.0;
  auto a = parse_csv("a,b\n1,2\n3,4\n", "a.csv", o);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->sample_rate_hz, 512.0);
  auto b = parse_csv("a,b\n1,2\n3,4\n", "a.csv");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::invalid_argument);
  o.sample_rate_hz = -1.0;
  EXPECT_EQ(parse_csv("a,b\n1,2\n", "a.csv", o).error().code, ErrorCode::invalid_argument);
}

TEST(Csv, QuotedHeaderTrailingDelimiterBomAndSpacesAreTolerated) {
  const std::string text = "\xEF\xBB\xBF\"a, b\",\"c \"\"q\"\"\",t\n 1 , 2 ,0,\n3,4,1,\n";
  auto rec = parse_csv(text, "q.csv");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"a, b", "c \"q\""}));
  EXPECT_EQ(rec->n_samples, 2u);
  EXPECT_EQ(rec->rows_skipped, 0u);
}

TEST(Csv, DelimiterInsideQuotesDoesNotDecideTheDelimiter) {
  auto rec = parse_csv("\"a, b\";c;t\n1;2;0\n3;4;1\n", "s.csv");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"a, b", "c"}));
  EXPECT_EQ(rec->n_samples, 2u);
}

TEST(Csv, NamedColumnThatIsMissingIsAMismatch) {
  CsvOptions o;
  o.time_column = "when";
  auto rec = parse_csv("a,b\n1,2\n", "m.csv", o);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.error().code, ErrorCode::mismatch);
  EXPECT_EQ(rec.error().line, 1u);
}

TEST(Csv, HeaderOfNumbersIsRejected) {
  CsvOptions o;
  o.sample_rate_hz = 100.0;
  auto rec = parse_csv("1,2\n3,4\n", "n.csv", o);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.error().code, ErrorCode::parse);
  EXPECT_EQ(rec.error().line, 1u);
}

TEST(Csv, WriterRejectsInconsistentRecordings) {
  TempDir dir;
  auto rec = make_recording(10, 100.0, false);
  rec.samples.pop_back();
  EXPECT_EQ(write_csv(rec, dir.path() / "x.csv").error().code, ErrorCode::invalid_argument);
  rec = make_recording(10, 100.0, false);
  rec.samples[3] = std::nan("");
  EXPECT_EQ(write_csv(rec, dir.path() / "x.csv").error().code, ErrorCode::invalid_argument);
  rec = make_recording(10, 100.0, false);
  EXPECT_EQ(write_csv(rec, dir.path() / "no" / "such" / "dir.csv").error().code, ErrorCode::io);
}

// Files as MATLAB or an amplifier's tool writes them: '%' comment lines, and no header row at all (the rate given).
TEST(Csv, CommentLinesAreSkippedAndAFileWithoutHeaderNeedsItsRate) {
  const std::string commented = "% OpenBCI raw EMG\n% gain 24\ntime_s,RF,BF\n0.000,1,2\n% a note mid-file\n0.001,3,4\n0.002,5,6\n";
  auto c = parse_csv(commented, "commented.csv");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->channel_names, (std::vector<std::string>{"RF", "BF"}));
  EXPECT_EQ(c->n_samples, 3u);
  EXPECT_EQ(c->rows_skipped, 0u);
  EXPECT_DOUBLE_EQ(c->sample_rate_hz, 1000.0);

  const std::string bare = "# channels: RF BF\n0.5,-0.25\n1.5,-1.25\n2.5,-2.25\n";
  auto refused = parse_csv(bare, "bare.txt");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("--csv-rate"), std::string::npos) << refused.error().message();
  EXPECT_EQ(refused.error().line, 2u);  // the first row that is not a comment
  CsvOptions o;
  o.headerless_rate_hz = 500.0;
  auto r = parse_csv(bare, "bare.txt", o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->channel_names, (std::vector<std::string>{"ch1", "ch2"}));
  EXPECT_DOUBLE_EQ(r->sample_rate_hz, 500.0);
  ASSERT_EQ(r->n_samples, 3u);  // the first row is a sample, not a header
  EXPECT_DOUBLE_EQ(r->channel(0)[0], 0.5);
  EXPECT_DOUBLE_EQ(r->channel(1)[2], -2.25);
  // read_recording with the program's --csv-rate: a .txt of numbers is recognised and read.
  TempDir dir;
  const auto path = dir.path() / "amp_export.txt";
  {
    std::ofstream f(path);
    f << bare;
  }
  EXPECT_FALSE(read_recording(path));  // no rate: not recognised as a recording
  set_headerless_csv_rate(500.0);
  auto rr = read_recording(path);
  set_headerless_csv_rate(0.0);
  ASSERT_TRUE(rr) << rr.error().message();
  EXPECT_EQ(rr->n_samples, 3u);
  EXPECT_FALSE(parse_csv("% only\n% comments\n", "c.csv"));
}

}  // namespace
}  // namespace myoexo::io
