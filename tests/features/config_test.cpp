// Feature sets from TOML and the --set selection.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "features/features.hpp"

namespace mf = myoexo::features;
using Names = std::vector<std::string>;

namespace {
std::filesystem::path repo_config() { return std::filesystem::path(MYOEXO_SOURCE_DIR) / "configs" / "features.toml"; }
}  // namespace

TEST(FeatureConfig, RepositoryConfigLoadsEverySet) {
  auto cfg = mf::load_feature_config(repo_config());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message();
  ASSERT_EQ(cfg->sets.count("mine"), 1u);
  EXPECT_EQ(cfg->sets.at("mine").names, (Names{"RMS", "WL"}));
  EXPECT_DOUBLE_EQ(cfg->sets.at("mine").thresholds.wamp, 0.002);
  // Every set must build an extractor for a 1 kHz, 250-sample window.
  for (auto spec_it : cfg->sets) {
    auto spec = spec_it.second;
    spec.sample_rate_hz = 1000.0;
    auto ex = mf::FeatureExtractor::create(spec, 4, 250);
    EXPECT_TRUE(ex.ok()) << spec_it.first << ": " << (ex.ok() ? "" : ex.error().message());
  }
}

TEST(FeatureConfig, PerSetValuesOverrideTheThresholdDefaults) {
  const char* text = R"(
[thresholds]
zc = 0.01
ssc = 0.02
wamp = 0.03
ar_order = 6

[sets.a]
features = ["HTD", "AR"]

[sets.b]
features = ["ZC"]
zc = 0.5
ar_order = 2
sample_rate_hz = 2000
)";
  auto cfg = mf::parse_feature_config(text, "inline.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message();
  const auto& a = cfg->sets.at("a");
  EXPECT_EQ(a.names, (Names{"HTD", "AR"}));
  EXPECT_DOUBLE_EQ(a.thresholds.zc, 0.01);
  EXPECT_DOUBLE_EQ(a.thresholds.ssc, 0.02);
  EXPECT_DOUBLE_EQ(a.thresholds.wamp, 0.03);
  EXPECT_EQ(a.ar_order, 6);
  const auto& b = cfg->sets.at("b");
  EXPECT_DOUBLE_EQ(b.thresholds.zc, 0.5);
  EXPECT_DOUBLE_EQ(b.thresholds.ssc, 0.02);
  EXPECT_EQ(b.ar_order, 2);
  EXPECT_DOUBLE_EQ(b.sample_rate_hz, 2000.0);
  auto ex = mf::FeatureExtractor::create(a, 1, 100);
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ(ex->n_features(), 10u);  // HTD + AR1..AR6
}

TEST(FeatureConfig, BadConfigsAreTypedErrorsWithFileAndLine) {
  struct Case {
    const char* text;
    myoexo::ErrorCode code;
    std::size_t line;
  };
  const std::vector<Case> cases{
      {"[sets.x]\nfeatures = [\"RMS\", \"NOPE\"]\n", myoexo::ErrorCode::invalid_argument, 2},
      {"[sets.x]\nfeatures = \"RMS\"\n", myoexo::ErrorCode::parse, 2},
      {"[sets.x]\nfeatures = [\"RMS\"]\nzc = -1.0\n", myoexo::ErrorCode::parse, 3},
      {"[sets.x]\nfeatures = [\"RMS\"]\nwamp = \"high\"\n", myoexo::ErrorCode::parse, 3},
      {"[sets.x]\nfeatures = [\"RMS\"]\nar_order = 0\n", myoexo::ErrorCode::parse, 3},
      {"[sets.x]\nfeatures = [1, 2]\n", myoexo::ErrorCode::parse, 2},
      {"[sets.x\nfeatures = []\n", myoexo::ErrorCode::parse, 1},
      {"[thresholds]\nzc = 0.1\n", myoexo::ErrorCode::empty, 0},
      {"", myoexo::ErrorCode::empty, 0},
  };
  for (const auto& c : cases) {
    auto cfg = mf::parse_feature_config(c.text, "bad.toml");
    ASSERT_FALSE(cfg.ok()) << c.text;
    EXPECT_EQ(cfg.error().code, c.code) << c.text << " -> " << cfg.error().message();
    EXPECT_EQ(cfg.error().file, "bad.toml");
    EXPECT_EQ(cfg.error().line, c.line) << c.text << " -> " << cfg.error().message();
  }
  auto missing = mf::load_feature_config("/nonexistent/features.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, myoexo::ErrorCode::io);
}

TEST(FeatureConfig, SelectionResolvesConfigSetsGroupsAndLists) {
  auto cfg = mf::parse_feature_config("[sets.HTD]\nfeatures = [\"RMS\"]\n[sets.mine]\nfeatures = [\"WL\"]\n", "x");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(mf::make_feature_spec("mine", &cfg.value())->names, (Names{"WL"}));
  EXPECT_EQ(mf::make_feature_spec("HTD", &cfg.value())->names, (Names{"RMS"}));  // a config set wins
  EXPECT_EQ(mf::make_feature_spec("HTD")->names, (Names{"HTD"}));
  EXPECT_EQ(mf::make_feature_spec(" rms , WL,TDPSD")->names, (Names{"rms", "WL", "TDPSD"}));
  EXPECT_FALSE(mf::make_feature_spec("mine").ok());  // no config given
  EXPECT_FALSE(mf::make_feature_spec("RMS,,WL").ok());
  EXPECT_FALSE(mf::make_feature_spec("").ok());
}
