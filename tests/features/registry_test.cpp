// The acronym registry and group expansion.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "features/feature_fixture.hpp"
#include "features/features.hpp"

namespace mf = myoexo::features;
using Names = std::vector<std::string>;

namespace {
Names expand(const Names& in, int ar_order = 4) {
  auto r = mf::expand_feature_names(in, ar_order);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  return r.ok() ? r.value() : Names{};
}
}  // namespace

TEST(FeatureRegistry, GroupsExpandToTheirMembersInOrder) {
  EXPECT_EQ(expand({"HTD"}), (Names{"MAV", "WL", "ZC", "SSC"}));
  EXPECT_EQ(expand({"TDAR"}), (Names{"MAV", "WL", "ZC", "SSC", "AR1", "AR2", "AR3", "AR4"}));
  EXPECT_EQ(expand({"TDPSD"}), (Names{"M0", "M2", "M4", "SPARSI", "IRF", "WLF"}));
  EXPECT_EQ(expand({"HJORTH"}), (Names{"HA", "HM", "HC"}));
  EXPECT_EQ(expand({"SPECTRAL"}), (Names{"MNF", "MDF", "TP", "PKF"}));
  EXPECT_EQ(expand({"TDAR"}, 6).size(), 10u);
  EXPECT_EQ(expand({"AR"}, 2), (Names{"AR1", "AR2"}));
}

TEST(FeatureRegistry, AllGroupIsTheRegistryInCanonicalOrder) {
  EXPECT_EQ(expand({"ALL"}), myoexo::test::reference_feature_order());
  Names registry;
  for (const auto& info : mf::feature_registry()) registry.emplace_back(info.name);
  EXPECT_EQ(registry, myoexo::test::reference_feature_order());
}

TEST(FeatureRegistry, NamesAreCaseInsensitiveAndDuplicatesKeepFirstPosition) {
  EXPECT_EQ(expand({"rms", "htd", "Mav", "WL"}), (Names{"RMS", "MAV", "WL", "ZC", "SSC"}));
  EXPECT_EQ(expand({"ar3"}), (Names{"AR3"}));
}

TEST(FeatureRegistry, UnknownNamesAndBadOrdersAreErrorsNamingTheCulprit) {
  auto r = mf::expand_feature_names(Names{"MAV", "FOO"}, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, myoexo::ErrorCode::invalid_argument);
  EXPECT_NE(r.error().reason.find("'FOO'"), std::string::npos);
  EXPECT_FALSE(mf::expand_feature_names(Names{"AR5"}, 4).ok());   // beyond the order
  EXPECT_FALSE(mf::expand_feature_names(Names{"AR0"}, 4).ok());
  EXPECT_FALSE(mf::expand_feature_names(Names{"AR01"}, 4).ok());
  EXPECT_FALSE(mf::expand_feature_names(Names{"AR-1"}, 4).ok());
  EXPECT_FALSE(mf::expand_feature_names(Names{""}, 4).ok());
  EXPECT_FALSE(mf::expand_feature_names(Names{}, 4).ok());
  EXPECT_FALSE(mf::expand_feature_names(Names{"MAV"}, 0).ok());
  EXPECT_FALSE(mf::expand_feature_names(Names{"MAV"}, 33).ok());
}

TEST(FeatureRegistry, EveryEntryHasAUniqueNameUnitAndDescription) {
  std::set<std::string> seen;
  for (const auto& info : mf::feature_registry()) {
    EXPECT_TRUE(seen.insert(std::string(info.name)).second) << info.name;
    EXPECT_FALSE(info.unit.empty()) << info.name;
    EXPECT_FALSE(info.description.empty()) << info.name;
  }
  for (const auto& g : mf::feature_group_names()) EXPECT_EQ(seen.count(g), 0u) << "group shadows a feature: " << g;
}
