#include "core/error.hpp"

#include <gtest/gtest.h>

namespace myoexo {
namespace {

TEST(Error, MessageNamesFileLineAndReason) {
  Error e = make_error(ErrorCode::parse, "data/1Nmar.txt", 17, "expected 5 columns, found 3");
  EXPECT_EQ(e.message(), "parse error: data/1Nmar.txt:17: expected 5 columns, found 3");
  EXPECT_EQ(make_error(ErrorCode::io, "a.txt", 0, "cannot open").message(), "i/o error: a.txt: cannot open");
  EXPECT_EQ(make_error(ErrorCode::invalid_argument, "order must be 1..8").message(),
            "invalid argument: order must be 1..8");
}

TEST(Result, HoldsValueOrError) {
  Result<int> good = 3;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  Result<int> bad = make_error(ErrorCode::empty, "x", 0, "no rows");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::empty);
  EXPECT_THROW((void)bad.value(), ErrorException);
  try {
    (void)bad.value();
  } catch (const ErrorException& ex) {
    EXPECT_EQ(ex.error().reason, "no rows");
  }
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status f = make_error(ErrorCode::io, "disk full");
  EXPECT_FALSE(f.ok());
  EXPECT_THROW(f.throw_if_error(), ErrorException);
}

}  // namespace
}  // namespace myoexo
