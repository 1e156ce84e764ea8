#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "io/io.hpp"
#include "io_test_util.hpp"

namespace myoexo::io {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

const char* kHeader5 =
    "File Name: 3Nsen.log\r\n"
    "Channel 1: 'RF', 3 values, engineering units: mV, no filters.\r\n"
    "Channel 2: 'BF', 3 values, engineering units: mV, no filters.\r\n"
    "Channel 3: 'VM', 3 values, engineering units: mV, no filters.\r\n"
    "Channel 4: 'ST', 3 values, engineering units: mV, no filters.\r\n"
    "Channel 5: 'FX', 1 values, engineering units: deg, no filters, extrapolated from 50 to 1000 samples.\r\n"
    "\r\n";

TEST(UciLowerLimb, ChannelCodeMapsSpanishAndShortNames) {
  for (const char* n : {"RF", "rf", "Recto Femoral", "Recto femoral", "Rectus femoris"})
    EXPECT_EQ(uci_lower_limb_channel_code(n), "RF") << n;
  for (const char* n : {"BF", "Biceps Femoral", "biceps femoris"}) EXPECT_EQ(uci_lower_limb_channel_code(n), "BF") << n;
  for (const char* n : {"VM", "Vasto Medial", "Vastus medialis"}) EXPECT_EQ(uci_lower_limb_channel_code(n), "VM") << n;
  for (const char* n : {"ST", "Semitendinoso", "EMG Semitendinoso", " semitendinosus "})
    EXPECT_EQ(uci_lower_limb_channel_code(n), "ST") << n;
  for (const char* n : {"FX", "Flexo", "Flexo-Extension", "knee flexion"})
    EXPECT_EQ(uci_lower_limb_channel_code(n), "FX") << n;
  EXPECT_EQ(uci_lower_limb_channel_code("Gastrocnemius"), "");
  EXPECT_EQ(uci_lower_limb_channel_code(""), "");
}

TEST(UciLowerLimb, LabelFollowsFileSuffix) {
  EXPECT_EQ(uci_lower_limb_label("mar"), "gait");
  EXPECT_EQ(uci_lower_limb_label("SEN"), "sitting");
  EXPECT_EQ(uci_lower_limb_label("pie"), "standing");
  EXPECT_EQ(uci_lower_limb_label("xyz"), "");
}

TEST(UciLowerLimb, FiveChannelFileSkipsFxOnlyAndTabOnlyRowsAndCountsThem) {
  std::string text = std::string(kHeader5) +
                     "0.0007\t-0.0083\t0.0045\t-0.0091\t57.6\r\n"
                     "-0.0008\t-0.0038\t0.0007\t-0.0046\t57.5\r\n"
                     "1\t2\t3\t4\t5\r\n"
                     "\t\t\t\t7.5\r\n"
                     "\t\t\t\t\r\n";
  auto rec = parse_uci_lower_limb(text, "data/N_TXT/3Nsen.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 3u);
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST", "FX"}));
  EXPECT_EQ(rec->channel_units, (std::vector<std::string>{"mV", "mV", "mV", "mV", "deg"}));
  EXPECT_EQ(rec->sample_rate_hz, 1000.0);
  EXPECT_EQ(rec->rows_skipped, 2u);
  EXPECT_EQ(rec->skipped_lines, (std::vector<std::size_t>{11, 12}));
  EXPECT_EQ(rec->subject_id, "3N");
  EXPECT_EQ(rec->group, "normal");
  EXPECT_EQ(rec->label, "sitting");
  EXPECT_DOUBLE_EQ(rec->channel(0)[0], 0.0007);
  EXPECT_DOUBLE_EQ(rec->channel(1)[1], -0.0038);
  EXPECT_DOUBLE_EQ(rec->channel(4)[2], 5.0);
  EXPECT_TRUE(rec->warnings.empty()) << rec->warnings.front();  // 3 declared, 3 found
}

TEST(UciLowerLimb, SixColumnHeaderDropsTheDigitalColumn) {
  const std::string text =
      "File Name: 9Amar.log\r\n"
      "Channel 1: 'Recto femoral', 2 values, engineering units: mV, no filters.\r\n"
      "Channel 2: 'Biceps Femoral', 2 values, engineering units: mV, no filters.\r\n"
      "Channel 3: 'Vasto Medial', 2 values, engineering units: mV, no filters.\r\n"
      "Channel 4: 'Semitendinoso', 2 values, engineering units: mV, no filters.\r\n"
      "Channel 5: 'Flexo', 2 values, engineering units: deg, no filters.\r\n"
      "Digitals combined (event=16, d=8, c=4, b=2, a=1): 2 values, .\r\n"
      "\r\n"
      "0.0022\t0.0007\t-0.0068\t-0.0015\t-1.4\t31\r\n"
      "-0.0405\t-0.0068\t-0.021\t-0.003\t-1.5\t31\r\n"
      "\t\t\t\t\t\r\n";
  auto rec = parse_uci_lower_limb(text, "9Amar.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST", "FX"}));
  EXPECT_EQ(rec->n_samples, 2u);
  EXPECT_EQ(rec->rows_skipped, 1u);
  EXPECT_DOUBLE_EQ(rec->channel(4)[1], -1.5);
  EXPECT_EQ(rec->subject_id, "9A");
  EXPECT_EQ(rec->group, "abnormal");
  EXPECT_EQ(rec->label, "gait");
}

TEST(UciLowerLimb, CorruptTokenRowIsSkippedAndCounted) {
  const std::string text = std::string(kHeader5) +
                           "1\t2\t3\t4\t7.5\r\n"
                           "1\t2\t3\t4\t7.5V\r\n"
                           "1\t2\t3\t4\t7.5\r\n"
                           "1\t2\tnan\t4\t7.5\r\n"
                           "1\t2\t3\t4\t7.5\r\n";
  auto rec = parse_uci_lower_limb(text, "3Nsen.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 3u);
  EXPECT_EQ(rec->rows_skipped, 2u);
  EXPECT_EQ(rec->skipped_lines, (std::vector<std::size_t>{9, 11}));
}

TEST(UciLowerLimb, HeaderCountDisagreementIsAWarningAndTheDataDecide) {
  std::string text = std::string(kHeader5) + "1\t2\t3\t4\t5\r\n1\t2\t3\t4\t5\r\n";
  auto rec = parse_uci_lower_limb(text, "3Nsen.txt");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->n_samples, 2u);
  ASSERT_EQ(rec->warnings.size(), 1u);
  EXPECT_NE(rec->warnings[0].find("declares 3"), std::string::npos);
}

TEST(UciLowerLimb, MoreRowsThanDeclaredGrowTheBufferAndKeepEveryValue) {
  std::string text = kHeader5;  // declares 3 values
  for (int i = 0; i < 100; ++i) {
    const std::string v = std::to_string(i);
    text += v + "\t" + v + ".5\t-" + v + "\t" + v + "e-3\t" + v + "\r\n";
  }
  auto rec = parse_uci_lower_limb(text, "3Nsen.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  ASSERT_EQ(rec->n_samples, 100u);
  ASSERT_EQ(rec->samples.size(), 500u);
  for (std::size_t i = 0; i < 100; ++i) {
    const double d = static_cast<double>(i);
    ASSERT_EQ(rec->channel(0)[i], d);
    ASSERT_EQ(rec->channel(1)[i], d + 0.5);
    ASSERT_EQ(rec->channel(2)[i], -d);
    ASSERT_EQ(rec->channel(3)[i], std::stod(std::to_string(i) + "e-3"));
    ASSERT_EQ(rec->channel(4)[i], d);
  }
  EXPECT_EQ(rec->warnings.size(), 1u);
}

// Regression (review finding): rows shorter than 2 bytes per column — single-digit values, an empty Digitals
// column and lone-CR line ends — once stopped the buffer from growing and the reader wrote past its end.
TEST(UciLowerLimb, RowsShorterThanTwoBytesPerColumnStillGrowTheBuffer) {
  std::string text =
      "File Name: 9Amar.log\r"
      "Channel 1: 'RF', 2 values, engineering units: mV, no filters.\r"
      "Channel 2: 'BF', 2 values, engineering units: mV, no filters.\r"
      "Channel 3: 'VM', 2 values, engineering units: mV, no filters.\r"
      "Channel 4: 'ST', 2 values, engineering units: mV, no filters.\r"
      "Channel 5: 'FX', 2 values, engineering units: deg, no filters.\r"
      "Digitals combined (event=16, d=8, c=4, b=2, a=1): 2 values, .\r"
      "\r";
  const std::size_t rows = 5000;
  for (std::size_t i = 0; i < rows; ++i) text += std::to_string(i % 10) + "\t1\t2\t3\t4\t\r";  // 11 bytes, 6 columns
  auto rec = parse_uci_lower_limb(text, "9Amar.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  ASSERT_EQ(rec->n_samples, rows);
  ASSERT_EQ(rec->samples.size(), 5 * rows);
  for (std::size_t i = 0; i < rows; ++i) {
    ASSERT_EQ(rec->channel(0)[i], static_cast<double>(i % 10));
    ASSERT_EQ(rec->channel(4)[i], 4.0);
  }
}

TEST(UciLowerLimb, LfAndLoneCrLineEndingsParseLikeCrlf) {
  std::string crlf = std::string(kHeader5) + "1\t2\t3\t4\t5\r\n6\t7\t8\t9\t10\r\n\t\t\t\t7.5\r\n";
  std::string lf = crlf, cr = crlf;
  lf.erase(std::remove(lf.begin(), lf.end(), '\r'), lf.end());
  cr.erase(std::remove(cr.begin(), cr.end(), '\n'), cr.end());
  auto a = parse_uci_lower_limb(crlf, "3Nsen.txt");
  auto b = parse_uci_lower_limb(lf, "3Nsen.txt");
  auto c = parse_uci_lower_limb(cr, "3Nsen.txt");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->samples, b->samples);
  EXPECT_EQ(a->samples, c->samples);
  EXPECT_EQ(a->skipped_lines, c->skipped_lines);
}

TEST(UciLowerLimb, UnconventionalFileNameLeavesSubjectEmptyWithAWarning) {
  auto rec = parse_uci_lower_limb(std::string(kHeader5) + "1\t2\t3\t4\t5\r\n", "session.txt");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->subject_id, "");
  EXPECT_EQ(rec->label, "");
  EXPECT_FALSE(rec->warnings.empty());
}

TEST(UciLowerLimb, UnknownChannelNameIsAParseErrorOnItsLine) {
  std::string text = kHeader5;
  text.replace(text.find("'VM'"), 4, "'XX'");
  auto rec = parse_uci_lower_limb(text + "1\t2\t3\t4\t5\r\n", "f.txt");
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.error().code, ErrorCode::parse);
  EXPECT_EQ(rec.error().line, 4u);
  EXPECT_EQ(rec.error().file, "f.txt");
}

// ---- real data ----

TEST(UciLowerLimbRealData, AllFortyEightFilesReadWithCanonicalChannels) {
  auto root = test::lower_limb_root();
  if (!root) GTEST_SKIP() << "uci-lower-limb data absent";
  std::size_t n = 0;
  for (const char* sub : {"A_TXT", "N_TXT"}) {
    for (const auto& e : fs::directory_iterator(*root / sub)) {
      if (e.path().extension() != ".txt") continue;
      auto rec = read_uci_lower_limb(e.path());
      ASSERT_TRUE(rec.ok()) << rec.error().message();
      ++n;
      const std::string stem = e.path().stem().string();
      EXPECT_EQ(rec->channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST", "FX"})) << stem;
      EXPECT_EQ(rec->channel_units, (std::vector<std::string>{"mV", "mV", "mV", "mV", "deg"})) << stem;
      EXPECT_EQ(rec->sample_rate_hz, 1000.0);
      EXPECT_GT(rec->duration_s(), 4.0) << stem;
      EXPECT_LT(rec->duration_s(), 70.0) << stem;
      EXPECT_EQ(rec->subject_id, stem.substr(0, stem.size() - 3)) << stem;
      EXPECT_EQ(rec->group, std::string(sub) == "A_TXT" ? "abnormal" : "normal");
      EXPECT_EQ(rec->label, uci_lower_limb_label(stem.substr(stem.size() - 3)));
      EXPECT_GE(rec->rows_skipped, 1u) << stem << ": every file ends with a tab-only line";
      // The header's "N values" agrees with the complete rows everywhere except 7Npie (next test).
      if (stem != "7Npie") {
        EXPECT_TRUE(rec->warnings.empty()) << stem << ": " << rec->warnings.front();
      }
      EXPECT_EQ(rec->source_path, e.path());
    }
  }
  EXPECT_EQ(n, 48u);
}

TEST(UciLowerLimbRealData, OneNmarSkipsFxOnlyRowsAndTheCorruptSevenPointFiveV) {
  auto root = test::lower_limb_root();
  if (!root) GTEST_SKIP() << "uci-lower-limb data absent";
  auto rec = read_uci_lower_limb(*root / "N_TXT" / "1Nmar.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->n_samples, 5681u);  // as the header declares for RF..ST
  // 18 FX-only rows + the `\t\t\t\t7.5V` row (line 5690) + the tab-only last line.
  EXPECT_EQ(rec->rows_skipped, 20u);
  EXPECT_NE(std::find(rec->skipped_lines.begin(), rec->skipped_lines.end(), 5690u), rec->skipped_lines.end());
  EXPECT_EQ(rec->skipped_lines.front(), 5689u);
  EXPECT_DOUBLE_EQ(rec->channel(0)[0], 0.0007);
  EXPECT_DOUBLE_EQ(rec->channel(4)[0], 57.6);
}

TEST(UciLowerLimbRealData, SevenNpieLastRowWithoutFxIsSkippedAndTheHeaderCountIsFlagged) {
  auto root = test::lower_limb_root();
  if (!root) GTEST_SKIP() << "uci-lower-limb data absent";
  auto rec = read_uci_lower_limb(*root / "N_TXT" / "7Npie.txt");
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  // Its last data row holds RF..ST but no FX: incomplete, so skipped, one short of the declared 15941.
  EXPECT_EQ(rec->n_samples, 15940u);
  EXPECT_EQ(rec->rows_skipped, 2u);
  EXPECT_EQ(rec->skipped_lines.front(), 15948u);
  ASSERT_EQ(rec->warnings.size(), 1u);
  EXPECT_NE(rec->warnings[0].find("15941"), std::string::npos);
}

TEST(UciLowerLimbRealData, NineAAndElevenAHaveFourEmgPlusFxAfterDroppingColumnSix) {
  auto root = test::lower_limb_root();
  if (!root) GTEST_SKIP() << "uci-lower-limb data absent";
  for (const char* f : {"9Amar.txt", "9Apie.txt", "9Asen.txt", "11Amar.txt", "11Apie.txt", "11Asen.txt"}) {
    auto rec = read_uci_lower_limb(*root / "A_TXT" / f);
    ASSERT_TRUE(rec.ok()) << rec.error().message();
    EXPECT_EQ(rec->n_channels(), 5u) << f;
    EXPECT_EQ(rec->channel_names.back(), "FX") << f;
    EXPECT_EQ(rec->rows_skipped, 1u) << f;
    // The dropped column is a constant 31; FX is a knee angle, within a physical range.
    for (double v : rec->channel(4)) ASSERT_LT(std::abs(v), 180.0) << f;
  }
}

}  // namespace
}  // namespace myoexo::io
