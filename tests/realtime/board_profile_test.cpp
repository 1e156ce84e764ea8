// Board profiles and unit conversion: what a code means, from a small TOML file; mismatches refused.
#include "realtime/board_profile.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace myoexo::realtime {
namespace {

namespace fs = std::filesystem;

fs::path write_toml(const std::string& name, const std::string& text) {
  const fs::path p = fs::path(::testing::TempDir()) / ("myoexo_board_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p) << text;
  return p;
}

TEST(BoardProfile, DefaultIsMyoWareRawOnA5VoltUno) {
  const BoardProfile b = default_board_profile();
  EXPECT_EQ(b.max_code(), 1023.0);
  EXPECT_EQ(b.zero_code(), 511.5);
  EXPECT_NEAR(1.0 / b.millivolts_per_code(), 40.92, 0.01);  // ~41 codes per mV at the skin
  auto c = plan_input_conversion("adc", "mV", &b);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 511.5);
  EXPECT_NEAR((1023.0 - c->offset) * c->scale, 12.5, 0.01);  // full scale +-12.5 mV at the skin
}

TEST(BoardProfile, ShippedProfileFilesLoad) {
  for (const char* f : {"myoware2_raw_uno.toml", "myoware2_raw_uno_3v3.toml", "myoware2_env_uno.toml"}) {
    auto b = load_board_profile(fs::path(MYOEXO_SOURCE_DIR) / "configs" / "boards" / f);
    ASSERT_TRUE(b) << f << ": " << b.error().message();
  }
  auto d = load_board_profile(fs::path(MYOEXO_SOURCE_DIR) / "configs" / "boards" / "myoware2_raw_uno.toml").value();
  EXPECT_EQ(d.millivolts_per_code(), default_board_profile().millivolts_per_code());
}

TEST(BoardProfile, BadFilesAreRefusedWithFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"unknown.toml", "adc_bits = 10\nvolts = 5\n"},
      {"bits.toml", "adc_bits = 40\n"},
      {"bits_float.toml", "adc_bits = 10.5\n"},
      {"gain.toml", "gain = -3\n"},
      {"ref.toml", "reference_volts = 0\n"},
      {"output.toml", "output = \"envelope\"\n"},
      {"offset.toml", "offset_code = 5000\n"},
      {"syntax.toml", "adc_bits = = 10\n"},
      {"nan.toml", "gain = nan\n"},
  };
  for (const auto& [name, text] : bad) {
    auto r = load_board_profile(write_toml(name, text));
    ASSERT_FALSE(r) << name;
    EXPECT_NE(r.error().file.find(name), std::string::npos) << name;
  }
  auto ok = load_board_profile(write_toml("ok.toml", "name = \"Mega\"\nadc_bits = 12\nreference_volts = 3.3\n"
                                                     "gain = 200\noutput = \"raw\"\noffset_code = 2040\n"));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->zero_code(), 2040.0);
  EXPECT_NEAR(ok->millivolts_per_code(), 3.3 / 4095.0 / 200.0 * 1e3, 1e-15);
}

TEST(BoardProfile, ConversionsBetweenUnitsAndRefusals) {
  EXPECT_EQ(plan_input_conversion("V", "mV", nullptr)->scale, 1000.0);
  EXPECT_EQ(plan_input_conversion("uV", "mV", nullptr)->scale, 0.001);
  EXPECT_TRUE(plan_input_conversion("mV", "mV", nullptr)->identity());
  EXPECT_TRUE(plan_input_conversion("counts", "counts", nullptr)->identity());
  EXPECT_FALSE(plan_input_conversion("", "mV", nullptr));
  EXPECT_FALSE(plan_input_conversion("mV", "", nullptr));
  EXPECT_FALSE(plan_input_conversion("counts", "mV", nullptr));
  EXPECT_FALSE(plan_input_conversion("adc", "mV", nullptr));  // codes need a profile
  BoardProfile env = default_board_profile();
  env.output = BoardOutput::envelope;
  EXPECT_FALSE(plan_input_conversion("adc", "mV", &env));     // an envelope is not raw EMG
  const BoardProfile raw = default_board_profile();
  EXPECT_FALSE(plan_input_conversion("adc", "counts", &raw));  // codes become volts, not another unit
  EXPECT_EQ(plan_input_conversion("adc", "mV", &raw)->scale, raw.millivolts_per_code());
}

}  // namespace
}  // namespace myoexo::realtime
