// `myoexo evaluate`: metrics.json, summary.md and the PNGs of one evaluation run.
#include "app/evaluate.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/app_test_util.hpp"
#include "common/test_data.hpp"
#include "io/io.hpp"
#include "report/png_check.hpp"
#include "session/model.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::slurp;
namespace fs = std::filesystem;
namespace app = myoexo::app;
namespace session = myoexo::session;
using myoexo::ErrorCode;

namespace {

// metrics.json has every requested protocol with an accuracy in (0, 1]; the PNGs are real PNGs.
// same_data: the run is on the 16 UCI subjects the Python reference rows were measured on (then they are shown).
void expect_outputs(const fs::path& out, const std::vector<std::string>& codes, bool same_data = false) {
  const auto j = nlohmann::json::parse(slurp(out / "metrics.json"));
  ASSERT_TRUE(j.contains("protocols"));
  EXPECT_EQ(j["protocols"].size(), codes.size());
  for (const auto& c : codes) {
    ASSERT_TRUE(j["protocols"].contains(c)) << c;
    const double acc = j["protocols"][c]["summed"]["accuracy"].get<double>();
    EXPECT_GT(acc, 0.0) << c;
    EXPECT_LE(acc, 1.0) << c;
    const double mean = j["protocols"][c]["summary"]["mean_accuracy"].get<double>();
    EXPECT_GT(mean, 0.0) << c;
    EXPECT_LE(mean, 1.0) << c;
    for (const std::string stem : {"confusion_", "per_class_"}) {
      const auto png = out / (stem + c + ".png");
      EXPECT_TRUE(myoexo::test::read_png_header(png).has_value()) << png;
    }
  }
  const std::string md = slurp(out / "summary.md");
  if (same_data) {
    EXPECT_NE(md.find("| reference: LDA on HTD features, scikit-learn 1.2 |"), std::string::npos) << md;
  } else {
    // Synthetic subjects are not the data the Python reference rows were measured on: they are left out.
    EXPECT_EQ(md.find("scikit-learn 1.2 |"), std::string::npos) << "reference rows shown for other data";
    EXPECT_NE(md.find("this run used other data"), std::string::npos);
  }
  EXPECT_NE(md.find("## By group"), std::string::npos);
  // After the live post-processing, per protocol: what the exoskeleton would have been asked.
  EXPECT_NE(md.find("## After post-processing"), std::string::npos);
  ASSERT_TRUE(j.contains("post_processed"));
  for (const auto& c : codes) {
    const auto& u = j["post_processed"][c];
    EXPECT_GT(u["decisions"].get<int>(), 0) << c;
    EXPECT_GE(u["active_error_rate"].get<double>(), 0.0) << c;
    EXPECT_LE(u["active_error_rate"].get<double>() + u["rejection_rate"].get<double>(), 1.0) << c;
    EXPECT_FALSE(u["by_subject"].empty()) << c;
  }
  EXPECT_NE(md.find("| knee pathology |"), std::string::npos);
  EXPECT_NE(md.find("this run"), std::string::npos);
  // The same page in HTML, its figures embedded.
  const std::string html = slurp(out / "summary.html");
  EXPECT_NE(html.find("<table>"), std::string::npos);
  EXPECT_NE(html.find("src=\"data:image/png;base64,iVBOR"), std::string::npos);
  EXPECT_EQ(html.find("src=\"confusion_"), std::string::npos) << "a figure left as a link";
  for (const auto& label : j["class_names"]) {
    const auto png = out / ("spectrogram_" + label.get<std::string>() + ".png");
    EXPECT_TRUE(myoexo::test::read_png_header(png).has_value()) << png;
    EXPECT_NE(md.find("(spectrogram_" + label.get<std::string>() + ".png)"), std::string::npos);
  }
}

}  // namespace

TEST(Evaluate, ParsesProtocolNamesAndRejectsUnknown) {
  auto all = app::parse_protocols("all");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);
  auto w = app::parse_protocols("w");
  ASSERT_TRUE(w);
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0], myoexo::eval::Protocol::within_subject);
  auto list = app::parse_protocols("L,w");  // a list comes back in W, P, L order
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], myoexo::eval::Protocol::within_subject);
  EXPECT_EQ((*list)[1], myoexo::eval::Protocol::leave_one_subject_out);
  EXPECT_FALSE(app::parse_protocols("W,,L"));
  auto bad = app::parse_protocols("X");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, myoexo::ErrorCode::invalid_argument);
}

TEST(Evaluate, BadProtocolOrModelIsAnErrorAndWritesNothing) {
  const auto out = fresh_dir("out");
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, true};
  app::EvaluateOptions opt;
  opt.out_dir = out / "eval";
  opt.data = out;  // never read: the protocol is checked first
  opt.protocol = "Q";
  auto s = app::run_evaluate(ctx, opt);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, myoexo::ErrorCode::invalid_argument);
  EXPECT_FALSE(fs::exists(opt.out_dir));

  opt.protocol = "W";
  opt.model = "svm";
  const std::vector<myoexo::io::Recording> none;
  auto r = app::evaluate_recordings(ctx, none, opt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, myoexo::ErrorCode::invalid_argument);
}

// Runs without the real data: two synthetic subjects whose classes differ by the RF tone.
TEST(Evaluate, WritesReportFolderOnSyntheticSet) {
  const auto data = myoexo::test::write_uci_folder(fresh_dir("data") / "uci-lower-limb", 3000);
  const auto out = fresh_dir("out");
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, false};
  app::EvaluateOptions opt;
  opt.data = data;
  opt.out_dir = out;
  auto s = app::run_evaluate(ctx, opt);
  ASSERT_TRUE(s) << s.error().message();
  expect_outputs(out, {"W", "P", "L"});
  EXPECT_NE(o.str().find("W: accuracy mean"), std::string::npos) << o.str();
}

// The knee angle: a report folder with the metrics per protocol and movement; P, a stated convention the data
// contradicts and a regressor-less model name are refused with a reason.
TEST(Evaluate, KneeAngleWritesItsMetricsAndRefusesWhatItCannotScore) {
  const auto data = myoexo::test::write_uci_folder(fresh_dir("data") / "uci-lower-limb", 3000);
  const auto out = fresh_dir("out");
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, false};
  app::EvaluateOptions opt;
  opt.data = data;
  opt.out_dir = out;
  opt.target = "knee_angle";
  opt.model = "ridge";
  auto s = app::run_evaluate(ctx, opt);
  ASSERT_TRUE(s) << s.error().message();
  const auto j = nlohmann::json::parse(std::ifstream(out / "angle_metrics.json"));
  ASSERT_EQ(j["protocols"].size(), 8u);  // W and L x (all movements, gait, sitting, standing)
  for (const auto& p : j["protocols"]) {
    EXPECT_EQ(p["per_subject"].size(), 2u);
    EXPECT_TRUE(p["summary"]["mean_rmse_deg"].is_number());
  }
  EXPECT_EQ(j["target"]["convention"], "flexion_positive");
  EXPECT_TRUE(myoexo::test::read_png_header(out / "angle_rmse_per_subject.png").has_value());
  EXPECT_NE(o.str().find("| W | all movements |"), std::string::npos) << o.str();

  opt.protocol = "P";
  auto p = app::run_evaluate(ctx, opt);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("protocol P is not defined"), std::string::npos);
  opt.protocol = "W";
  opt.angle_convention = "flexion_negative";  // the synthetic goniometer reads 10-50 deg: flexion positive
  auto c = app::run_evaluate(ctx, opt);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("flexion-positive"), std::string::npos) << c.error().message();
  opt.angle_convention = "detect";
  opt.target = "torque";
  EXPECT_FALSE(app::run_evaluate(ctx, opt));
}

// A trained LDA pipeline model scored on the recordings it did not see: the subject it was trained on is left
// out (its card lists the files), the other one is scored, and the numbers agree with the confusion matrix.
TEST(Evaluate, ModelFileIsScoredOnlyOnRecordingsItWasNotTrainedOn) {
  const auto data = myoexo::test::write_uci_folder(fresh_dir("data") / "uci-lower-limb", 3000);
  auto recs = session::load_training_recordings({data / "N_TXT"});
  ASSERT_TRUE(recs) << recs.error().message();
  auto m = session::train_pipeline_model(*recs, session::lda_context_model(0));
  ASSERT_TRUE(m) << m.error().message();
  const auto model = fresh_dir("model") / "lda.json";
  ASSERT_TRUE(session::save_pipeline_model(*m, model));
  const auto out = fresh_dir("out");
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, true};
  app::EvaluateOptions opt;
  opt.data = data;
  opt.out_dir = out;
  opt.model_file = model;
  auto s = app::run_evaluate(ctx, opt);
  ASSERT_TRUE(s) << s.error().message();
  std::ifstream f(out / "metrics.json");
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["recordings_tested"].get<std::size_t>(), 3u);
  EXPECT_EQ(j["recordings_skipped_trained_on"].size(), 3u);
  ASSERT_TRUE(j["by_subject"].contains("2A"));
  EXPECT_FALSE(j["by_subject"].contains("1N"));
  const std::size_t per_file = (3000 - 250) / 50 + 1;
  EXPECT_EQ(j["windows"].get<std::size_t>(), 3 * per_file);
  std::size_t diag = 0, total = 0;
  const auto conf = j["confusion"].get<std::vector<std::size_t>>();
  ASSERT_EQ(conf.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) {
    total += conf[i];
    if (i % 4 == 0) diag += conf[i];
  }
  EXPECT_EQ(total, 3 * per_file);
  EXPECT_NEAR(j["accuracy"].get<double>(), double(diag) / double(total), 1e-12);
  for (const char* file : {"summary.md", "confusion.png", "per_class.png"}) EXPECT_TRUE(fs::exists(out / file)) << file;
  // The decisions a clinician would see: one per window after the live post-processing, every recording's start a
  // movement onset (no class maps to rest in this data set: no false-activation rate).
  ASSERT_TRUE(j.contains("post_processed"));
  const auto& pp = j["post_processed"];
  EXPECT_EQ(pp["decisions"].get<std::size_t>(), 3 * per_file);
  EXPECT_NEAR(pp["seconds"].get<double>(), 3 * per_file * 0.05, 1e-9);
  EXPECT_EQ(pp["onsets"].get<std::size_t>(), 3u);
  EXPECT_LE(pp["onsets_reached"].get<std::size_t>(), 3u);
  const double active_error = pp["active_error_rate"].get<double>(), rejected = pp["rejection_rate"].get<double>();
  EXPECT_GE(active_error, 0.0);
  EXPECT_LE(active_error, 1.0);
  EXPECT_GE(rejected, 0.0);
  EXPECT_LE(rejected, 1.0);
  EXPECT_TRUE(pp["false_activations_per_min"].is_null());
  EXPECT_EQ(pp["options"]["vote_window"].get<std::size_t>(), 5u);
  ASSERT_TRUE(pp["by_subject"].contains("2A"));
  EXPECT_EQ(pp["by_subject"]["2A"]["decisions"], pp["decisions"]);
  {
    std::ifstream md(out / "summary.md");
    const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("| subject | active error | rejected | changes/s | onset delay |"), std::string::npos) << text;
  }

  // Only the training subject: nothing to test, and the error says why.
  opt.subjects = {"1N"};
  auto none = app::run_evaluate(ctx, opt);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::empty);
  EXPECT_NE(none.error().reason.find("training set"), std::string::npos) << none.error().reason;
  opt.subjects = {"nobody"};
  auto unknown = app::run_evaluate(ctx, opt);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_argument);
}

// The full UCI-LL v1 run with LDA (about 1.5 s of protocol work in Release) on the real 16 subjects.
TEST(Evaluate, DefaultLdaOnRealDataIsTheScikitLearnReference) {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::is_directory(*root / "uci-lower-limb")) GTEST_SKIP() << "uci-lower-limb data absent";
  const auto out = fresh_dir("out");
  std::ostringstream o, e;
  app::Context ctx{o, e, root->string(), true};
  app::EvaluateOptions opt;
  opt.out_dir = out;
  auto s = app::run_evaluate(ctx, opt);
  ASSERT_TRUE(s) << s.error().message();
  std::cout << o.str();
  expect_outputs(out, {"W", "P", "L"}, /*same_data=*/true);
  const auto j = nlohmann::json::parse(slurp(out / "metrics.json"));
  EXPECT_EQ(j["subjects"].size(), 16u);
  // The default LDA baseline is the scikit-learn baseline's model (ZC/SSC thresholds 0.005 mV): W 88.8 %, P 72.4 %,
  // L 70.8 % (tests/eval/protocol_full_test.cpp checks every digit; here: the CLI default is that model).
  EXPECT_NEAR(j["protocols"]["W"]["summary"]["mean_accuracy"].get<double>(), 0.8883, 1e-4);
  EXPECT_NEAR(j["protocols"]["P"]["summary"]["mean_accuracy"].get<double>(), 0.7235, 1e-4);
  EXPECT_NEAR(j["protocols"]["L"]["summary"]["mean_accuracy"].get<double>(), 0.7083, 1e-4);
  EXPECT_EQ(j["protocols"]["L"]["per_fold"].size(), 16u);
  EXPECT_NE(o.str().find("ZC/SSC threshold 0.005"), std::string::npos) << o.str();
  // --threshold 0 counts every sign change: the lower numbers of our earlier baseline.
  const auto out0 = fresh_dir("out_threshold0");
  std::ostringstream o0, e0;
  app::Context ctx0{o0, e0, root->string(), true};
  opt.out_dir = out0;
  opt.plots = false;
  opt.protocol = "P";
  opt.zc_ssc_threshold = 0.0;
  ASSERT_TRUE(app::run_evaluate(ctx0, opt));
  const auto j0 = nlohmann::json::parse(slurp(out0 / "metrics.json"));
  EXPECT_NEAR(j0["protocols"]["P"]["summary"]["mean_accuracy"].get<double>(), 0.6900, 1e-4);
}

// The reference system's front end on the real data: 20-150 Hz and the wavelet stage, recorded in metrics.json
// and the summary; the accuracy is the one scripts/front_end_table.sh reports for that row.
TEST(Evaluate, TheReferenceBandAndWaveletStageAreAppliedAndRecorded) {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::is_directory(*root / "uci-lower-limb")) GTEST_SKIP() << "uci-lower-limb data absent";
  const auto out = fresh_dir("out_front_end");
  std::ostringstream o, e;
  app::Context ctx{o, e, root->string(), true};
  app::EvaluateOptions opt;
  opt.out_dir = out;
  opt.protocol = "W";
  opt.plots = false;
  opt.front_end.band_low_hz = 20.0;
  opt.front_end.band_high_hz = 150.0;
  opt.front_end.wavelet = true;
  auto s = app::run_evaluate(ctx, opt);
  ASSERT_TRUE(s) << s.error().message();
  const auto j = nlohmann::json::parse(slurp(out / "metrics.json"));
  EXPECT_EQ(j["front_end"]["band_pass_hz"], nlohmann::json::array({20.0, 150.0}));
  EXPECT_EQ(j["front_end"]["denoise"]["kind"], "wavelet");
  EXPECT_EQ(j["front_end"]["delay_samples"], 32);
  // 20-450 Hz without the stage gives 88.8 %: the reference front end costs about 2 points here.
  EXPECT_NEAR(j["protocols"]["W"]["summary"]["mean_accuracy"].get<double>(), 0.8682, 1e-4);
  const std::string md = slurp(out / "summary.md");
  EXPECT_NE(md.find("--bandpass 20 150 --denoise wavelet"), std::string::npos);
  EXPECT_NE(md.find("Front end: 20-150 Hz band-pass (order 4), wavelet db4"), std::string::npos);
  // A band the wrong way round is refused before anything is written.
  opt.out_dir = out / "bad";
  opt.front_end.band_low_hz = 150.0;
  opt.front_end.band_high_hz = 20.0;
  auto bad = app::run_evaluate(ctx, opt);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("0 < LOW < HIGH"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(fs::exists(out / "bad" / "metrics.json"));
}

// What `myoexo report` uses: the evaluation of an already loaded data set, with links for a parent folder.
TEST(Evaluate, HeadlineSectionLinksIntoSubfolder) {
  const auto data = myoexo::test::write_uci_folder(fresh_dir("data") / "uci-lower-limb", 3000);
  auto ds = myoexo::io::load_dataset(data);
  ASSERT_TRUE(ds) << ds.error().message();
  const auto out = fresh_dir("out");
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, true};
  app::EvaluateOptions opt;
  opt.protocol = "L";
  opt.plots = false;
  opt.out_dir = out / "evaluation";
  auto r = app::evaluate_recordings(ctx, ds->recordings, opt, "evaluation/");
  ASSERT_TRUE(r) << r.error().message();
  std::string md;
  for (const auto& l : r->headline_md) md += l + "\n";
  EXPECT_NE(md.find("(evaluation/summary.md)"), std::string::npos) << md;
  EXPECT_NE(md.find("this run used other data"), std::string::npos) << md;
  EXPECT_NE(md.find("| normal | 1 |"), std::string::npos) << md;  // the group split, one subject each
  EXPECT_TRUE(fs::exists(opt.out_dir / "metrics.json"));
  EXPECT_FALSE(fs::exists(opt.out_dir / "confusion_L.png"));
  ASSERT_EQ(r->result.protocols.size(), 1u);
  EXPECT_EQ(r->result.protocols[0].protocol, myoexo::eval::Protocol::leave_one_subject_out);
}
