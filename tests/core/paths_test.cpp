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

TEST(ResourceDir, EnvironmentWinsElseTheBuildFindsTheSourceTreesConfigs) {
  ::setenv(kResourcesEnvVar, "/opt/elsewhere/share/myoexo", 1);
  EXPECT_EQ(resource_path("configs/cnn1d.toml").string(), "/opt/elsewhere/share/myoexo/configs/cnn1d.toml");
  ::unsetenv(kResourcesEnvVar);
  // A test binary is not installed (no ../share/myoexo beside it): the source tree it was built from.
  const auto dir = find_resource_dir();
  ASSERT_TRUE(dir.has_value());
  EXPECT_TRUE(std::filesystem::is_regular_file(*dir / "models" / "exo_leg.xml")) << dir->string();
  EXPECT_TRUE(std::filesystem::is_regular_file(resource_path("configs/cnn1d.toml")));
}

}  // namespace
}  // namespace myoexo
