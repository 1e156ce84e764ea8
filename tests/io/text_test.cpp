#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "io/text.hpp"

namespace myoexo::io::detail {
namespace {

// The fast decimal path must give exactly what std::from_chars gives, bit for bit.
TEST(Text, NumberParserIsBitIdenticalToFromChars) {
  std::mt19937_64 rng(7);
  std::vector<std::string> toks = {"0",       "-0",      "0.0007", "-0.0083", "57.6",  "31",     "1e-05",
                                   "-2e-05",  "7.5",     "1E3",    "123456789012345678", "1.7976931348623157e308",
                                   "4.9e-324", "9007199254740993", "0.1234567890123456789", "12345678901234567890123",
                                   "1e22",    "1e23",    "3.0e-22", "2.5e-23", ".5",    "5.",     "00012.500"};
  for (int i = 0; i < 20000; ++i) {
    char buf[64];
    const int digits = 1 + static_cast<int>(rng() % 17);
    const double v = std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 80) - 70);
    std::snprintf(buf, sizeof buf, (rng() & 1) ? "%.*g" : "%.*e", digits, (rng() & 1) ? -v : v);
    toks.emplace_back(buf);
  }
  for (const auto& t : toks) {
    double ref = 0, got = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), ref);
    ASSERT_EQ(ec, std::errc{}) << t;
    ASSERT_TRUE(parse_finite(t, got)) << t;
    ASSERT_EQ(ptr, t.data() + t.size()) << t;
    EXPECT_EQ(std::memcmp(&ref, &got, sizeof ref), 0) << t << ": " << ref << " vs " << got;
  }
}

TEST(Text, NumberParserRejectsJunkAndNonFinite) {
  double v = 0;
  for (const char* bad : {"", "7.5V", "nan", "-nan", "inf", "Infinity", "1e400", "-", "+", "+-1", "1e", ".", "1.2.3",
                          " 1", "1 ", "0x10", "--1"})
    EXPECT_FALSE(parse_finite(bad, v)) << bad;
  EXPECT_TRUE(parse_finite("+1.5", v));
  EXPECT_EQ(v, 1.5);
  const char* s = "7.5\tx";
  EXPECT_EQ(parse_number_prefix(s, s + 5, v), s + 3);
  const char* t = "2e+\t";
  EXPECT_EQ(parse_number_prefix(t, t + 4, v), t + 1);  // "2", then junk: as from_chars does
}

TEST(Text, LineCursorHandlesCrlfLfAndLoneCr) {
  LineCursor c("a\r\nb\nc\rd\r\n\r\ne");
  std::string_view l;
  std::vector<std::string> got;
  while (c.next(l)) got.emplace_back(l);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c", "d", "", "e"}));
  EXPECT_EQ(c.line_number(), 6u);
}

}  // namespace
}  // namespace myoexo::io::detail
