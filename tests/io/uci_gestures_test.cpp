#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <string>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

namespace fs = std::filesystem;

const char* kHeader = "time\tchannel1\tchannel2\tclass\r\n";

// Rows every 1 ms; the value changes every 5 ms (a clean 200 Hz stream written at 1 kHz).
std::string synthetic_stream(int n_real, int first_ms = 1) {
  std::string s = kHeader;
  for (int k = 0; k < n_real; ++k)
    for (int r = 0; r < 5; ++r) {
      const int t = first_ms + 5 * k + r;
      s += std::to_string(t) + "\t" + std::to_string(k) + "e-05\t" + std::to_string(-k) + "e-05\t" +
           std::to_string(k < n_real / 2 ? 0 : 2) + "\r\n";
    }
  return s;
}

TEST(UciGestures, OneKilohertzRowsBecomeTheTwoHundredHertzStream) {
  auto rec = parse_uci_gestures(synthetic_stream(40), "uci-gestures/03/2_raw_data_09-34_11.04.16.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->sample_rate_hz, 200.0);
  ASSERT_EQ(rec->n_samples, 40u);
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"ch1", "ch2"}));
  for (std::size_t k = 0; k < 40; ++k) {
    EXPECT_DOUBLE_EQ(rec->channel(0)[k], static_cast<double>(k) * 1e-5);
    EXPECT_DOUBLE_EQ(rec->channel(1)[k], -static_cast<double>(k) * 1e-5);
    EXPECT_EQ(rec->sample_labels[k], k < 20 ? 0 : 2);
  }
  EXPECT_EQ(rec->label_names.size(), 8u);
  EXPECT_EQ(rec->label_names[2], "fist");
  EXPECT_EQ(rec->label, "");
  EXPECT_EQ(rec->subject_id, "03");
  EXPECT_EQ(rec->session, "2");
  EXPECT_EQ(rec->rows_skipped, 0u);
}

TEST(UciGestures, IrregularStampsAreHeldOnTheFiveMillisecondGrid) {
  // Stamps 10, 11, 23, 24 ms: grid points 10, 15, 20 hold 10/11/11; 25 > last stamp is not emitted.
  const std::string text = std::string(kHeader) + "10\t1\t1\t1\r\n11\t2\t2\t1\r\n23\t3\t3\t2\r\n24\t4\t4\t2\r\n";
  auto rec = parse_uci_gestures(text, "01/1_x.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  ASSERT_EQ(rec->n_samples, 3u);
  EXPECT_EQ(rec->channel(0)[0], 1.0);
  EXPECT_EQ(rec->channel(0)[1], 2.0);
  EXPECT_EQ(rec->channel(0)[2], 2.0);
  EXPECT_EQ(rec->sample_labels, (std::vector<int>{1, 1, 1}));
}

TEST(UciGestures, CorruptAndBackwardRowsAreSkippedAndCounted) {
  std::string text = synthetic_stream(10);
  text += "9\t1\t1\t0\r\n";      // stamp goes backwards
  text += "60\t1\tx\t0\r\n";     // corrupt value
  text += "61\t1\t1\t9\r\n";     // class out of range
  text += "62\t1\t1\r\n";        // missing column
  text += "63\t1\t1\t0\r\n";
  auto rec = parse_uci_gestures(text, "01/1_x.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->rows_skipped, 4u);
  EXPECT_EQ(rec->skipped_lines, (std::vector<std::size_t>{52, 53, 54, 55}));
}

TEST(UciGestures, AGapLongerThanATenthOfASecondIsAnErrorNotInventedData) {
  const std::string text = std::string(kHeader) + "1\t1\t1\t0\r\n2\t1\t1\t0\r\n500\t1\t1\t0\r\n";
  auto rec = parse_uci_gestures(text, "g.txt");
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.error().code, ErrorCode::parse);
  EXPECT_EQ(rec.error().line, 4u);
}

TEST(UciGestures, OneRowGivesOneSampleAndAbsurdStampsAreCorruptRows) {
  // Found by fuzz_uci_gestures: a lone row stamped 5e50 ms once produced an "ok" recording of 0 samples.
  const std::string text = std::string(kHeader) + "5elass\r\n5e50\t1\t1\t2\r\n7\t1\t2\t3\r\n8\t1\t2\t3\r\n9\t1\t2\t3\r\n";
  auto rec = parse_uci_gestures(text, "g.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 1u);  // stamps 7..9 ms: one 5 ms grid point
  EXPECT_EQ(rec->channel(1)[0], 2.0);
  EXPECT_EQ(rec->sample_labels, (std::vector<int>{3}));
  EXPECT_EQ(rec->rows_skipped, 2u);
}

TEST(UciGestures, WrongHeaderIsAParseError) {
  auto rec = parse_uci_gestures("a\tb\tc\r\n1\t2\t3\r\n", "g.txt");
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.error().code, ErrorCode::parse);
  EXPECT_EQ(rec.error().line, 1u);
}

// ---- real data ----

// First token of the first data line and of the last non-empty line: the time span the file covers (ms).
std::pair<double, double> time_span_ms(const std::string& text) {
  auto first_num = [](std::string_view line) {
    double v = 0;
    std::from_chars(line.data(), line.data() + line.size(), v);
    return v;
  };
  const auto l2 = text.find('\n') + 1;
  std::string_view body(text);
  body = body.substr(0, body.find_last_not_of("\r\n") + 1);
  return {first_num(std::string_view(text).substr(l2)), first_num(body.substr(body.rfind('\n') + 1))};
}

TEST(UciGesturesRealData, EveryFileIsTwoHundredHertzAndSpansTheTimeColumn) {
  auto root = test::gestures_root();
  if (!root) GTEST_SKIP() << "uci-gestures data absent";
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(*root)) {
    if (!e.is_regular_file() || e.path().filename().string().find("raw_data") == std::string::npos) continue;
    auto rec = read_uci_gestures(e.path());
    ASSERT_TRUE(rec.ok()) << rec.error().message();
    ++n;
    const auto [t0, t1] = time_span_ms(test::read_all(e.path()));
    EXPECT_EQ(rec->sample_rate_hz, 200.0);
    // Sample-and-hold on a 5 ms grid from t0 to t1 inclusive: duration = span + at most one sample.
    const double span_s = (t1 - t0) / 1000.0;
    EXPECT_GE(rec->duration_s(), span_s) << e.path();
    EXPECT_LE(rec->duration_s(), span_s + 1.0 / 200.0 + 1e-12) << e.path();
    EXPECT_GT(rec->duration_s(), 40.0);
    EXPECT_EQ(rec->n_channels(), 8u);
    EXPECT_EQ(rec->sample_labels.size(), rec->n_samples);
    for (int l : rec->sample_labels) ASSERT_TRUE(l >= 0 && l <= 7);
    EXPECT_EQ(rec->subject_id, e.path().parent_path().filename().string());
    EXPECT_EQ(rec->session, e.path().filename().string().substr(0, 1));
    EXPECT_EQ(rec->rows_skipped, 0u) << e.path();
    // Myo samples are int8 x 1e-5.
    for (double v : rec->channel(0)) ASSERT_LE(std::abs(v), 128e-5 + 1e-12);
  }
  EXPECT_EQ(n, 10u);
}

}  // namespace
}  // namespace myoexo::io
