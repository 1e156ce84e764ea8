#include "core/paths.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace myoexo {
namespace {

TEST(DatasetRoot, FlagWinsOverEnvironment) {
  ::setenv(kDataEnvVar, "/from/env", 1);
  auto root = find_dataset_root(std::string("/from/flag"));
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->string(), "/from/flag");
  root = find_dataset_root();
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->string(), "/from/env");
  ::unsetenv(kDataEnvVar);
}

TEST(DatasetRoot, EmptyEnvironmentFallsBackToCheckoutLayout) {
  ::setenv(kDataEnvVar, "", 1);
  auto root = find_dataset_root();
  if (root) {
    EXPECT_NE(root->string(), "");
    EXPECT_TRUE(std::filesystem::is_directory(*root)) << root->string();
  }
  ::unsetenv(kDataEnvVar);
}

}  // namespace
}  // namespace myoexo
