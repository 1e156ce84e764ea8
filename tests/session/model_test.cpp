// The model file: one format with its unit, class -> intent map and provenance; old files still load; integer
// fields are integers in range; a class map that names no intent is refused.
#include "session/model.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <functional>
#include <unistd.h>

#include "models/tree_ensemble.hpp"
#include "session/session_test_util.hpp"

namespace myoexo::session {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path temp_file(const std::string& name) {
  return fs::path(::testing::TempDir()) / ("myoexo_model_" + std::to_string(::getpid()) + "_" + name);
}

TEST(PipelineModelFile, RoundTripKeepsUnitClassMapAndProvenance) {
  auto m = test::make_model();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->signal_unit, "mV");
  EXPECT_FALSE(m->provenance.version.empty());
  EXPECT_FALSE(m->provenance.created_utc.empty());
  PipelineModel custom = *m;
  custom.class_intents = {{"gait", "gait"}, {"rest", "hold"}};
  const fs::path p = temp_file("rt.json");
  ASSERT_TRUE(save_pipeline_model(custom, p).ok());
  auto back = load_pipeline_model(p);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->signal_unit, "mV");
  EXPECT_EQ(back->provenance.version, m->provenance.version);
  EXPECT_EQ(back->provenance.created_utc, m->provenance.created_utc);
  auto intents = model_class_intents(*back);
  ASSERT_TRUE(intents);
  const auto& classes = model_class_names(*back);
  for (std::size_t c = 0; c < classes.size(); ++c)
    EXPECT_EQ((*intents)[c], classes[c] == "rest" ? control::IntentLabel::hold : control::IntentLabel::gait) << classes[c];
  fs::remove(p);
}

json saved(const PipelineModel& m) { return pipeline_model_to_json(m); }

Result<PipelineModel> load_json(const json& j, const std::string& name) {
  const fs::path p = temp_file(name);
  std::ofstream(p) << j.dump();
  auto r = load_pipeline_model(p);
  fs::remove(p);
  return r;
}

TEST(PipelineModelFile, VersionOneFilesLoadAsMillivoltsWithTheDataSetMap) {
  auto m = test::make_model();
  json j = saved(*m);
  j["version"] = 1;
  j.erase("signal_unit");
  j.erase("class_intents");
  j.erase("provenance");
  auto back = load_json(j, "v1.json");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->signal_unit, "mV");
  EXPECT_TRUE(back->class_intents.empty());
  EXPECT_TRUE(model_class_intents(*back));
}

TEST(PipelineModelFile, IntegerFieldsAreCheckedNotCast) {
  auto m = test::make_model();
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
  };
  const std::vector<Case> cases = {
      {"order 1e300", [](json& j) { j["filter"]["order"] = 1e300; }},
      {"order 2.5", [](json& j) { j["filter"]["order"] = 2.5; }},
      {"order -1", [](json& j) { j["filter"]["order"] = -1; }},
      {"increment 2^32+1", [](json& j) { j["increment"] = 4294967297ull; }},
      {"window_len -250", [](json& j) { j["window_len"] = -250; }},
      {"window_len \"250\"", [](json& j) { j["window_len"] = "250"; }},
      {"ar_order 1e9", [](json& j) { j["features"]["ar_order"] = 1000000000; }},
      {"class map to nothing", [](json& j) { j["class_intents"] = {{"gait", "jump"}, {"rest", "rest"}}; }},
      {"class map of an unknown class", [](json& j) { j["class_intents"] = {{"run", "gait"}}; }},
      {"empty unit", [](json& j) { j["signal_unit"] = ""; }},
      {"a version-2 file without its unit", [](json& j) { j.erase("signal_unit"); }},
  };
  for (const auto& c : cases) {
    json j = saved(*m);
    c.edit(j);
    auto r = load_json(j, "bad.json");
    ASSERT_FALSE(r) << c.what;
    EXPECT_TRUE(r.error().code == ErrorCode::invalid_argument || r.error().code == ErrorCode::parse) << c.what;
    EXPECT_FALSE(r.error().file.empty()) << c.what;
  }
}

TEST(PipelineModelFile, TheWaveletStageRoundTripsAndReachesTheStreamAndTheTrainingRows) {
  auto m = test::make_model();
  ASSERT_TRUE(m);
  PipelineModel w = *m;
  w.denoise = dsp::WaveletStreamConfig{.block = 64, .hop = 8, .guard = 8, .levels = 3, .threshold_scale = 0.5};
  auto back = load_json(saved(w), "wavelet.json");
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->denoise);
  EXPECT_EQ(*back->denoise, *w.denoise);
  EXPECT_NE(describe_model_filter(*back).find("wavelet-denoised (delay 16 ms)"), std::string::npos)
      << describe_model_filter(*back);
  auto spec = pipeline_spec_for(*back, back->sample_rate_hz);
  ASSERT_TRUE(spec);
  ASSERT_TRUE(spec->denoise);
  EXPECT_EQ(spec->denoise->delay_samples(), 16u);
  // A model without the stage writes no key and loads without it.
  auto plain = load_json(saved(*m), "plain.json");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->denoise);
  EXPECT_FALSE(saved(*m).contains("denoise"));
  // prepare_channels (the rows training sees) applies the stage after the filter: the signal is delayed.
  const io::Recording rec = test::make_recording("gait", 2.0, 3);
  PipelineModel pure = *m;
  pure.denoise = dsp::WaveletStreamConfig{.threshold_scale = 0.0};  // no shrinkage: a pure delay
  auto a = prepare_channels(rec, *m), b = prepare_channels(rec, pure);
  ASSERT_TRUE(a && b);
  const std::size_t D = pure.denoise->delay_samples(), n = rec.n_samples;
  for (std::size_t c = 0; c < a->n_channels(); ++c)
    for (std::size_t i = D; i < n; ++i) ASSERT_NEAR(b->samples[c * n + i], a->samples[c * n + i - D], 1e-9);
  // Bad stage settings in a file are refused with the file named.
  for (auto edit : std::vector<std::function<void(json&)>>{
           [](json& j) { j["denoise"]["hop"] = 0; },
           [](json& j) { j["denoise"]["kind"] = "median"; },
           [](json& j) { j["denoise"]["wavelet"] = "sym8"; },
           [](json& j) { j["denoise"]["block"] = 100; },
           [](json& j) { j["denoise"]["blok"] = 128; },
           [](json& j) { j["denoise"] = 3; }}) {
    json j = saved(w);
    edit(j);
    auto r = load_json(j, "bad_wavelet.json");
    ASSERT_FALSE(r) << j["denoise"].dump();
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_FALSE(r.error().file.empty());
  }
}

TEST(PipelineModelFile, TrainingRefusesDataWithoutOrWithMixedUnits) {
  std::vector<io::Recording> train{test::make_recording("rest", 3.0, 1), test::make_recording("gait", 3.0, 2)};
  train[1].channel_units.assign(4, "uV");
  auto mixed = train_pipeline_model(train, PipelineModel{});
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code, ErrorCode::mismatch);
  train[1].channel_units.assign(4, "");
  auto none = train_pipeline_model(train, PipelineModel{});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().reason.find("no unit"), std::string::npos);
  train[0].channel_units.assign(4, "uV");
  train[1].channel_units.assign(4, "uV");
  auto uv = train_pipeline_model(train, PipelineModel{});
  ASSERT_TRUE(uv);
  EXPECT_EQ(uv->signal_unit, "uV");  // trained in the data's unit
}

// A guided recording (`record --cues`) labels its samples, not the file: the LDA trains on the windows that lie in
// one label, and learns what two single-class files of the same data teach it.
TEST(PipelineModelFile, TrainsOnPerSampleLabelsAsOnPerFileLabels) {
  const io::Recording rest = test::make_recording("rest", 20.0, 1), gait = test::make_recording("gait", 20.0, 2);
  io::Recording both = rest;
  both.label.clear();
  both.n_samples = rest.n_samples + gait.n_samples;
  both.samples.clear();
  for (std::size_t c = 0; c < 4; ++c) {
    both.samples.insert(both.samples.end(), rest.channel(c).begin(), rest.channel(c).end());
    both.samples.insert(both.samples.end(), gait.channel(c).begin(), gait.channel(c).end());
  }
  both.label_names = {"rest", "gait"};
  both.sample_labels.assign(rest.n_samples, 0);
  both.sample_labels.resize(both.n_samples, 1);
  auto per_sample = train_pipeline_model(std::vector<io::Recording>{both}, PipelineModel{});
  ASSERT_TRUE(per_sample) << per_sample.error().message();
  auto per_file = train_pipeline_model(std::vector<io::Recording>{rest, gait}, PipelineModel{});
  ASSERT_TRUE(per_file) << per_file.error().message();
  EXPECT_EQ(per_sample->lda.class_names(), (std::vector<std::string>{"gait", "rest"}));
  const auto& a = per_sample->lda.means();
  const auto& b = per_file->lda.means();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], b[i], 0.1 * std::abs(b[i]) + 1e-9) << "mean " << i;
  // One label only: not a training set.
  both.sample_labels.assign(both.n_samples, 0);
  EXPECT_FALSE(train_pipeline_model(std::vector<io::Recording>{both}, PipelineModel{}));
}

}  // namespace
}  // namespace myoexo::session

namespace myoexo::session {
namespace {

TEST(KneeAngleModel, TheRegressorRoundTripsAndRefusesWhatItCannotTrainOn) {
  auto m = test::make_angle_model();
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->knee_angle);
  EXPECT_EQ(m->knee_angle->n_inputs(), m->lda.n_inputs());  // the same feature row
  const fs::path p = temp_file("knee.json");
  ASSERT_TRUE(save_pipeline_model(*m, p).ok());
  auto back = load_pipeline_model(p);
  fs::remove(p);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->knee_angle);
  const auto* ridge = dynamic_cast<const models::RidgeRegressor*>(m->knee_angle.get());
  const auto* ridge_back = dynamic_cast<const models::RidgeRegressor*>(back->knee_angle.get());
  ASSERT_TRUE(ridge && ridge_back);
  EXPECT_EQ(ridge_back->coef(), ridge->coef());
  EXPECT_EQ(ridge_back->intercept(), ridge->intercept());
  EXPECT_EQ(back->knee_angle_target.channel, "FX");
  EXPECT_EQ(back->knee_angle_trained_on, m->knee_angle_trained_on);

  // A file that says its angle is in another unit or convention is refused, not guessed.
  json j = pipeline_model_to_json(*m);
  j["knee_angle"]["target"]["unit"] = "rad";
  EXPECT_FALSE(load_json(j, "rad.json"));
  j = pipeline_model_to_json(*m);
  j["knee_angle"]["target"]["output_convention"] = "flexion_negative";
  EXPECT_FALSE(load_json(j, "neg.json"));
  // A knee-angle network is named beside the model: a path that leaves the folder, or an empty name, is refused.
  for (const char* hostile : {"../elsewhere/knee.pt", "/etc/passwd", "sub/knee.pt", ""}) {
    j = pipeline_model_to_json(*m);
    j["knee_angle"].erase("ridge");
    j["knee_angle"]["network_file"] = hostile;
    auto r = load_json(j, "hostile.json");
    ASSERT_FALSE(r) << hostile;
    EXPECT_NE(r.error().message().find("next to the model"), std::string::npos) << r.error().message();
  }
  // A plain name loads as a file to read; until the app's loader has read it, no stream is built from the model.
  j = pipeline_model_to_json(*m);
  j["knee_angle"].erase("ridge");
  j["knee_angle"]["network_file"] = "knee.knee_angle.pt";
  auto named = load_json(j, "named.json");
  ASSERT_TRUE(named) << named.error().message();
  EXPECT_FALSE(named->knee_angle);
  EXPECT_EQ(named->knee_angle_network_file.filename(), "knee.knee_angle.pt");
  auto no_stream = pipeline_spec_for(*named, 1000.0);
  ASSERT_FALSE(no_stream);
  EXPECT_EQ(no_stream.error().code, ErrorCode::unsupported);
  // Saving a model with a regressor that is not a ridge and has no file beside the JSON is refused, and nothing is
  // written (the app saves the network first).
  struct OtherRegressor final : models::AngleRegressor {
    models::InputKind input_kind() const noexcept override { return models::InputKind::windows; }
    std::size_t n_inputs() const noexcept override { return 4000; }
    std::string kind_name() const override { return "other"; }
    double estimate(std::span<const double>) noexcept override { return 0.0; }
    std::unique_ptr<models::AngleRegressor> clone() const override { return std::make_unique<OtherRegressor>(); }
  };
  named->knee_angle = std::make_shared<OtherRegressor>();
  named->knee_angle_network_file.clear();
  const fs::path unsaved = temp_file("unsaved.json");
  fs::remove(unsaved);
  auto refused_save = save_pipeline_model(*named, unsaved);
  ASSERT_FALSE(refused_save.ok());
  EXPECT_NE(refused_save.error().message().find("knee-angle network must be saved"), std::string::npos);
  EXPECT_FALSE(fs::exists(unsaved));

  // Training data without a goniometer: the error names the file and the missing channel.
  std::vector<io::Recording> no_fx{test::make_recording("rest", 5.0, 1), test::make_recording("gait", 5.0, 2)};
  auto base = train_pipeline_model(no_fx, lda_context_model(750));
  ASSERT_TRUE(base);
  auto bad = train_knee_angle_regressor(no_fx, *base);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("no knee-angle channel 'FX'"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("rest1.txt"), std::string::npos) << bad.error().message();
  // A stated convention refuses a goniometer mounted the other way round.
  std::vector<io::Recording> neg{test::make_angle_recording(10.0, 5, /*flexion_negative=*/true)};
  KneeAngleTraining kt;
  kt.target.convention = models::AngleConvention::flexion_positive;
  auto refused = train_knee_angle_regressor(neg, *base, kt);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("flexion-negative"), std::string::npos);
}

// Knee-angle trees travel inside the model's JSON (no file beside it) and give the same estimates when loaded;
// trees for other channels or a longer past than the stream keeps are refused on load, naming the model file.
TEST(KneeAngleModel, TreesRoundTripInTheModelFileAndAMismatchIsRefused) {
  auto base = test::make_angle_model();
  ASSERT_TRUE(base);
  PipelineModel m = *base;
  using N = models::TreeEnsemble::Node;
  // A split on an amplitude (feature 3) and one on a waveform length (feature 125: the second block).
  std::vector<std::vector<N>> trees{{N{3, -2.0f, 1, 2, true}, N{-1, -4.0f}, N{-1, 6.5f}},
                                    {N{125, -1.5f, 1, 2, false}, N{-1, 1.25f}, N{-1, -0.75f}}};
  auto e = models::TreeEnsemble::create(trees, 40.0, 160).value();
  m.knee_angle = std::make_shared<const models::EnvelopeTreeRegressor>(
      models::EnvelopeTreeRegressor::create(models::LaggedEnvelope{}, 4, e).value());
  const fs::path p = temp_file("trees.json");
  ASSERT_TRUE(save_pipeline_model(m, p).ok());
  EXPECT_FALSE(fs::exists(p.parent_path() / "trees.knee_angle.pt"));
  auto back = load_pipeline_model(p);
  fs::remove(p);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->knee_angle);
  EXPECT_EQ(back->knee_angle->window_length(), 1000u);
  std::vector<double> w(4 * 1000);
  std::mt19937 gen(3);
  std::normal_distribution<double> n(0.0, 0.3);
  for (int rep = 0; rep < 20; ++rep) {
    for (double& v : w) v = n(gen) * (rep % 3 == 0 ? 0.01 : 1.0);
    auto a = m.knee_angle->clone(), b = back->knee_angle->clone();
    EXPECT_EQ(a->estimate(w), b->estimate(w));
  }
  json j = pipeline_model_to_json(m);
  j["knee_angle"]["trees"]["channels"] = 3;  // the trees of a 3-channel model
  EXPECT_FALSE(load_json(j, "three.json"));
  j = pipeline_model_to_json(m);
  j["knee_angle"]["trees"]["segments"] = 40;  // 2000 samples: more than the 250 + 750 the stream keeps
  j["knee_angle"]["trees"]["trees"]["n_features"] = 320;
  auto longer = load_json(j, "long.json");
  ASSERT_FALSE(longer);
  EXPECT_NE(longer.error().message().find("keeps 250 + 750"), std::string::npos) << longer.error().message();
  j = pipeline_model_to_json(m);
  j["knee_angle"]["trees"]["trees"]["trees"][0]["left"][0] = 0;  // a cycle
  EXPECT_FALSE(load_json(j, "cycle.json"));
}

TEST(KneeAngleModel, TheStreamEstimatesTheAngleFromTheSameRowsAsTraining) {
  auto m = test::make_angle_model();
  ASSERT_TRUE(m);
  const io::Recording rec = test::make_angle_recording(20.0, 9);
  auto spec = pipeline_spec_for(*m, 1000.0);
  ASSERT_TRUE(spec);
  // decide_offline runs the stream's own objects; the estimates follow the recording's angle.
  auto lda = m->lda;
  std::vector<double> emg(rec.samples.begin(), rec.samples.begin() + std::ptrdiff_t(4 * rec.n_samples));
  auto decisions = realtime::decide_offline(*spec, lda, emg, rec.n_samples);
  ASSERT_TRUE(decisions) << decisions.error().message();
  double se = 0;
  std::size_t n = 0;
  for (const auto& d : *decisions) {
    ASSERT_TRUE(std::isfinite(d.knee_angle_deg));
    if (d.intent.window_end_s < 1.0) continue;  // the context block fills during the first 750 ms
    const double e = d.knee_angle_deg - test::knee_angle_at(d.intent.window_end_s, 9);
    se += e * e;
    ++n;
  }
  ASSERT_GT(n, 300u);
  EXPECT_LT(std::sqrt(se / double(n)), 8.0) << "knee estimate RMSE over a recording the model never saw";

  // The regressor must read the classifier's row: a size mismatch or a network classifier is refused.
  realtime::PipelineSpec bad = *spec;
  const std::vector<double> x{1, 2, 3, 4};
  bad.knee_angle = std::make_shared<const models::RidgeRegressor>(
      models::RidgeRegressor::fit(x.data(), 4, 1, std::vector<double>{1, 2, 3, 5}).value());
  EXPECT_FALSE(realtime::StreamingPipeline::create(bad, std::make_unique<models::LdaClassifier>(m->lda)));
}

}  // namespace
}  // namespace myoexo::session
