#include "models/torch/network_spec.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace myoexo::models {
namespace {

std::filesystem::path config_path(const char* name) {
  return std::filesystem::path(MYOEXO_SOURCE_DIR) / "configs" / name;
}

TEST(NetworkSpec, DefaultConfigIsTheSeedsRealTimeCnn) {
  auto spec = load_network_spec(config_path("cnn1d.toml"));
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_EQ(spec->arch.kind, ArchKind::cnn1d);
  EXPECT_EQ(spec->arch.filters, (std::vector<std::size_t>{16, 32, 64}));
  EXPECT_EQ(spec->arch.kernel_size, 7u);
  EXPECT_EQ(spec->arch.pool_size, 2u);
  EXPECT_EQ(spec->input.window_length, 250u);
  EXPECT_EQ(spec->input.window_increment, 50u);
  EXPECT_EQ(spec->input.channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST"}));
  EXPECT_EQ(spec->input.filter.kind, "bandpass");
  EXPECT_DOUBLE_EQ(spec->input.filter.low_hz, 20.0);
  EXPECT_DOUBLE_EQ(spec->input.filter.high_hz, 450.0);
  EXPECT_EQ(spec->class_names.size(), 3u);
}

TEST(NetworkSpec, PaperConfigExpressesTheSeeds4000By16SpectrogramInput) {
  auto spec = load_network_spec(config_path("paper.toml"));
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_EQ(spec->arch.kind, ArchKind::spectrogram_cnn);
  EXPECT_EQ(spec->input.window_length, 4000u);
  EXPECT_EQ(spec->input.n_channels(), 16u);
  EXPECT_EQ(spec->arch.nperseg, 256u);
  EXPECT_EQ(spec->arch.noverlap, 128u);
  EXPECT_EQ(network_input_shape(spec->input, spec->arch), (std::vector<std::size_t>{16, 30, 129}));
}

TEST(NetworkSpec, EveryShippedModelConfigParses) {
  for (const char* name :
       {"cnn1d.toml", "paper.toml", "paper_uci.toml", "lstm.toml", "cnn_lstm.toml", "spectrogram_cnn.toml"}) {
    auto spec = load_network_spec(config_path(name));
    EXPECT_TRUE(spec) << name << ": " << (spec ? "" : spec.error().message());
  }
}

TEST(NetworkSpec, PaperUciConfigUsesTheReferenceBandStftAndClassNames) {
  auto spec = load_network_spec(config_path("paper_uci.toml"));
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_EQ(spec->input.filter.low_hz, 20.0);
  EXPECT_EQ(spec->input.filter.high_hz, 150.0);
  EXPECT_EQ(spec->arch.nperseg, 256u);
  EXPECT_EQ(spec->arch.noverlap, 128u);
  EXPECT_EQ(spec->arch.filters, (std::vector<std::size_t>{32, 64, 128}));
  EXPECT_EQ(network_input_shape(spec->input, spec->arch), (std::vector<std::size_t>{4, 9, 129}));
  const std::vector<std::pair<std::string, std::string>> map{  // TOML tables read in key order
      {"gait", "leg move"}, {"sitting", "leg descent"}, {"standing", "leg lift"}};
  EXPECT_EQ(spec->input.class_map, map);
  EXPECT_FALSE(spec->input.filter.denoise);
}

TEST(NetworkSpec, DenoiseAndClassMapRoundTripThroughTheModelFileAndBadOnesAreRefused) {
  auto spec = parse_network_spec(
      "[input]\n[input.class_map]\ngait = \"leg move\"\n[input.denoise]\nkind = \"wavelet\"\nblock = 64\n"
      "hop = 8\nguard = 8\nlevels = 3\nthreshold_scale = 0.5\n",
      "d.toml");
  ASSERT_TRUE(spec) << spec.error().message();
  ASSERT_TRUE(spec->input.filter.denoise);
  EXPECT_EQ(spec->input.filter.denoise->block, 64u);
  EXPECT_EQ(spec->input.filter.denoise->threshold_scale, 0.5);
  auto back = network_spec_from_json(network_spec_to_json(*spec));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back->input.filter.denoise, *spec->input.filter.denoise);
  EXPECT_EQ(back->input.class_map, spec->input.class_map);
  // Without the keys nothing is written and nothing comes back.
  auto plain = network_spec_from_json(network_spec_to_json(NetworkSpec{}));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->input.filter.denoise);
  EXPECT_TRUE(plain->input.class_map.empty());
  for (const char* bad : {"[input.denoise]\nhop = 0\n", "[input.denoise]\nkind = \"median\"\n",
                          "[input.denoise]\nblok = 128\n", "[input]\ndenoise = 3\n",
                          "[input.class_map]\ngait = 3\n", "[input.class_map]\ngait = \"\"\n"}) {
    auto r = parse_network_spec(bad, "bad.toml");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().file, "bad.toml") << bad;
  }
}

TEST(NetworkSpec, UnknownKeyIsAParseErrorWithItsLine) {
  auto spec = parse_network_spec("[model]\narch = \"cnn1d\"\nfilterz = [1]\n", "x.toml");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, ErrorCode::parse);
  EXPECT_EQ(spec.error().line, 3u);
  EXPECT_NE(spec.error().reason.find("filterz"), std::string::npos);
}

TEST(NetworkSpec, UnknownArchitectureIsAParseError) {
  auto spec = parse_network_spec("[model]\narch = \"transformer\"\n");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, ErrorCode::parse);
}

TEST(NetworkSpec, PoolingThatShrinksTheWindowToNothingIsInvalid) {
  auto spec = parse_network_spec("[input]\nwindow_length = 8\n[model]\nfilters = [1, 1, 1, 1]\n");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(parse_network_spec("[model]\nkernel_size = 4\n"));   // even kernel: no "same" padding
  EXPECT_FALSE(parse_network_spec("[model]\ndropout = 1.0\n"));
  EXPECT_FALSE(parse_network_spec("[model]\narch = \"lstm\"\nframe_length = 400\n"));
}

TEST(NetworkSpec, JsonRoundTripKeepsEveryField) {
  NetworkSpec s;
  s.arch.kind = ArchKind::cnn_lstm;
  s.arch.filters = {3, 5};
  s.arch.dense_units = {7};
  s.arch.dropout = 0.25;
  s.arch.frame_length = 50;
  s.arch.frame_step = 20;
  s.input.filter.low_hz = 10.125;
  s.input.filter.causal = false;
  s.class_names = {"gait", "sitting", "standing"};
  s.normalisation.mean = {0.1, -0.2, 1.0 / 3.0, 4e-7};
  s.normalisation.std = {1.5, 2.5, 0.1, 1e-3};
  s.notes = "protocol W";
  auto back = network_spec_from_json(network_spec_to_json(s));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->arch.kind, s.arch.kind);
  EXPECT_EQ(back->arch.filters, s.arch.filters);
  EXPECT_EQ(back->arch.dense_units, s.arch.dense_units);
  EXPECT_EQ(back->arch.dropout, s.arch.dropout);
  EXPECT_EQ(back->arch.frame_step, 20u);
  EXPECT_EQ(back->input.filter.low_hz, 10.125);
  EXPECT_FALSE(back->input.filter.causal);
  EXPECT_EQ(back->class_names, s.class_names);
  EXPECT_EQ(back->normalisation.mean, s.normalisation.mean);  // exact: doubles round-trip
  EXPECT_EQ(back->normalisation.std, s.normalisation.std);
  EXPECT_EQ(back->notes, s.notes);
}

// The model card travels with the network: unit, class -> intent map, training files, provenance. A file written
// before the card existed (no "card" key) loads as millivolts with an empty provenance and the default map.
TEST(NetworkSpec, ModelCardRoundTripsAndOldFilesLoadAsMillivolts) {
  NetworkSpec s;
  s.class_names = {"gait", "sitting", "standing"};
  s.card.signal_unit = "uV";
  s.card.class_intents = {{"gait", "gait"}, {"sitting", "lower"}, {"standing", "lift"}};
  s.card.trained_on = {"1Amar.txt", "1Asen.txt"};
  s.card.provenance = {"myoexo", "0.1.0", "abc123", "2026-12-03T10:00:00Z"};
  const std::string text = network_spec_to_json(s);
  auto back = network_spec_from_json(text);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->card.signal_unit, "uV");
  EXPECT_EQ(back->card.class_intents, s.card.class_intents);
  EXPECT_EQ(back->card.trained_on, s.card.trained_on);
  EXPECT_EQ(back->card.provenance.version, "0.1.0");
  EXPECT_EQ(back->card.provenance.commit, "abc123");
  EXPECT_EQ(back->card.provenance.created_utc, "2026-12-03T10:00:00Z");

  auto j = nlohmann::json::parse(text);
  j.erase("card");
  auto old = network_spec_from_json(j.dump());
  ASSERT_TRUE(old) << old.error().message();
  EXPECT_EQ(old->card.signal_unit, "mV");
  EXPECT_TRUE(old->card.class_intents.empty());
  EXPECT_TRUE(old->card.provenance.version.empty());

  j = nlohmann::json::parse(text);
  j["card"]["class_intents"]["gait"] = 3;
  auto bad = network_spec_from_json(j.dump(), "m.pt");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::parse);
  EXPECT_NE(bad.error().reason.find("class_intents"), std::string::npos) << bad.error().reason;
}

TEST(NetworkSpec, MalformedJsonIsAParseError) {
  auto r = network_spec_from_json("{\"input\": 3}", "m.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::parse);
}

}  // namespace
}  // namespace myoexo::models
