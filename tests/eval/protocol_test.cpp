#include "eval/protocol.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/test_data.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/sos_filter.hpp"
#include "eval/splits.hpp"
#include "io/io.hpp"
#include "eval/synthetic_recordings.hpp"

namespace myoexo::eval {
namespace {

namespace fs = std::filesystem;

using synthetic::make_recording;

/// Recording k has n + 37 (k + 1) samples whatever the seed, so two seeds give equally sized sets.
std::vector<io::Recording> make_set(std::size_t n = 2000, unsigned seed0 = 1) {
  std::vector<io::Recording> v;
  unsigned k = 1;
  for (const char* s : {"1A", "1N", "2N"})
    for (const char* l : {"gait", "sitting", "standing"}) {
      v.push_back(make_recording(s, l, n + 37 * k, seed0 + k - 1));
      ++k;
    }
  return v;
}

TEST(Protocol, PrepareKeepsTheFourEmgChannelsAndDropsExcludedFiles) {
  auto recs = make_set();
  auto data = prepare_data(recs, uci_ll_v1_spec());
  ASSERT_TRUE(data.ok()) << data.error().message();
  EXPECT_EQ(data->channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST"}));
  EXPECT_EQ(data->class_names, (std::vector<std::string>{"gait", "sitting", "standing"}));
  EXPECT_EQ(data->subjects, (std::vector<std::string>{"1A", "1N", "2N"}));
  EXPECT_EQ(data->recordings.size(), 7u);  // 2Nsen and 2Npie dropped
  EXPECT_EQ(data->excluded, (std::vector<std::string>{"2Nsen", "2Npie"}));
}

TEST(Protocol, FilterStartsFromZeroStateInEveryRecording) {
  auto recs = make_set();
  recs[1] = recs[0];  // identical content, another file of the same subject: allowed
  recs[1].source_path = "/synthetic/1Asen.txt";
  recs[1].label = "sitting";
  auto data = prepare_data(recs, uci_ll_v1_spec());
  ASSERT_TRUE(data.ok()) << data.error().message();
  // Same input -> same output only if the state was zeroed between recordings.
  EXPECT_EQ(data->recordings[0].samples, data->recordings[1].samples);
  // And it is SciPy's butter(4, [20, 450], 'bandpass', fs=1000) run causally on channel RF.
  auto design = dsp::design_bandpass(4, 20.0, 450.0, 1000.0);
  ASSERT_TRUE(design.ok());
  auto f = dsp::SosFilter::create(*design, 1);
  ASSERT_TRUE(f.ok());
  std::vector<double> rf(recs[0].samples.begin(), recs[0].samples.begin() + std::ptrdiff_t(recs[0].n_samples));
  ASSERT_TRUE(f->process_channel_major(rf, rf, rf.size()).ok());
  for (std::size_t i = 0; i < rf.size(); ++i) ASSERT_EQ(data->recordings[0].samples[i], rf[i]) << i;
}

TEST(Protocol, DuplicateRecordingsAcrossSubjectsAreRefused) {
  auto recs = make_set();
  recs[3] = recs[0];  // 1N's gait file holds 1A's gait data
  recs[3].subject_id = "1N";
  recs[3].source_path = "/synthetic/1Nmar.txt";
  auto data = prepare_data(recs, uci_ll_v1_spec());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::mismatch);
}

/// A callback that checks the split rules and predicts the true label (so accuracies are 1).
struct Recorder {
  std::vector<std::pair<FoldContext, std::pair<std::vector<std::size_t>, std::vector<std::size_t>>>> calls;
  FitPredictFn fn() {
    return [this](const WindowSet& set, std::span<const std::size_t> train, std::span<const std::size_t> test,
                  std::span<int> predicted, const FoldContext& ctx) -> Status {
      calls.push_back({ctx, {{train.begin(), train.end()}, {test.begin(), test.end()}}});
      for (std::size_t i = 0; i < test.size(); ++i) predicted[i] = set.windows[test[i]].label;
      return {};
    };
  }
};

TEST(Protocol, WithinSubjectTrainWindowsEndBeforeTheSplitAndTestWindowsStartAtOrAfterIt) {
  auto recs = make_set();
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  Recorder rec;
  RunOptions opt;
  opt.protocols = {Protocol::within_subject, Protocol::pooled};
  auto res = run_protocol(*data, spec, rec.fn(), opt);
  ASSERT_TRUE(res.ok()) << res.error().message();
  ASSERT_EQ(rec.calls.size(), 4u);  // 3 subjects + pooled
  // The WindowSet is rebuilt per run; re-derive the windows from a second run to check positions.
  std::size_t w_train = 0, w_test = 0;
  for (const auto& pr : data->recordings) {
    const std::size_t n = pr.n_samples, s = chronological_split_point(n);
    w_train += s >= 250 ? (s - 250) / 50 + 1 : 0;
    w_test += (n - s) >= 250 ? (n - s - 250) / 50 + 1 : 0;
  }
  const auto& pooled = rec.calls[3];
  EXPECT_EQ(pooled.first.protocol, Protocol::pooled);
  EXPECT_EQ(pooled.second.first.size(), w_train);
  EXPECT_EQ(pooled.second.second.size(), w_test);
  std::size_t w_sum_train = 0, w_sum_test = 0;
  for (int i = 0; i < 3; ++i) {
    w_sum_train += rec.calls[std::size_t(i)].second.first.size();
    w_sum_test += rec.calls[std::size_t(i)].second.second.size();
  }
  EXPECT_EQ(w_sum_train, w_train);
  EXPECT_EQ(w_sum_test, w_test);
  const ProtocolScores* w = res->find(Protocol::within_subject);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->folds.size(), 3u);
  EXPECT_DOUBLE_EQ(w->mean_accuracy, 1.0);
}

TEST(Protocol, SplitWindowsNeverStraddleTheSplitPoint) {
  auto recs = make_set();
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  bool checked = false;
  FitPredictFn fn = [&](const WindowSet& set, std::span<const std::size_t> train, std::span<const std::size_t> test,
                        std::span<int> predicted, const FoldContext&) -> Status {
    for (auto i : train) {
      const auto& w = set.windows[i];
      EXPECT_LE(w.start + set.length, chronological_split_point(data->recordings[w.recording].n_samples));
    }
    for (auto i : test) {
      const auto& w = set.windows[i];
      EXPECT_GE(w.start, chronological_split_point(data->recordings[w.recording].n_samples));
      EXPECT_LE(w.start + set.length, data->recordings[w.recording].n_samples);
    }
    std::fill(predicted.begin(), predicted.end(), 0);
    checked = true;
    return {};
  };
  RunOptions opt;
  opt.protocols = {Protocol::within_subject};
  ASSERT_TRUE(run_protocol(*data, spec, fn, opt).ok());
  EXPECT_TRUE(checked);
}

TEST(Protocol, LeaveOneSubjectOutNeverTrainsOnTheHeldOutSubject) {
  auto recs = make_set();
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  std::size_t folds = 0;
  FitPredictFn fn = [&](const WindowSet& set, std::span<const std::size_t> train, std::span<const std::size_t> test,
                        std::span<int> predicted, const FoldContext& ctx) -> Status {
    const int held = set.windows[test[0]].subject;
    EXPECT_EQ(data->subjects[std::size_t(held)], ctx.name);
    for (auto i : test) EXPECT_EQ(set.windows[i].subject, held);
    for (auto i : train) EXPECT_NE(set.windows[i].subject, held);
    std::size_t whole = 0;
    for (const auto& r : data->recordings)
      if (r.subject == held) whole += (r.n_samples - 250) / 50 + 1;
    EXPECT_EQ(test.size(), whole);
    std::fill(predicted.begin(), predicted.end(), 1);
    ++folds;
    return {};
  };
  RunOptions opt;
  opt.protocols = {Protocol::leave_one_subject_out};
  auto res = run_protocol(*data, spec, fn, opt);
  ASSERT_TRUE(res.ok()) << res.error().message();
  EXPECT_EQ(folds, 3u);
  // Always predicting "sitting": subject 2N (gait only here) scores 0.
  const auto* l = res->find(Protocol::leave_one_subject_out);
  EXPECT_EQ(l->min_accuracy, 0.0);
  EXPECT_EQ(l->min_fold, "2N");
}

TEST(Protocol, BlockedKFoldTestsEachBlockOnce) {
  auto recs = make_set();
  DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  Recorder rec;
  RunOptions opt;
  opt.protocols = {Protocol::blocked_kfold};
  opt.k_folds = 4;
  auto res = run_protocol(*data, spec, rec.fn(), opt);
  ASSERT_TRUE(res.ok()) << res.error().message();
  ASSERT_EQ(rec.calls.size(), 4u);
  std::set<std::size_t> tested;
  for (const auto& c : rec.calls)
    for (auto i : c.second.second) EXPECT_TRUE(tested.insert(i).second);
}

TEST(Protocol, CallbackErrorsStopTheRun) {
  auto recs = make_set();
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  FitPredictFn fn = [](const WindowSet&, std::span<const std::size_t>, std::span<const std::size_t>, std::span<int>,
                       const FoldContext&) -> Status { return make_error(ErrorCode::unsupported, "no model"); };
  auto res = run_protocol(*data, spec, fn);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::unsupported);
  RunOptions bad;
  bad.subjects = {"99X"};
  EXPECT_EQ(run_protocol(*data, spec, fn, bad).error().code, ErrorCode::invalid_argument);
}

TEST(Protocol, LdaOnHtdSeparatesSyntheticClassesAndJsonHoldsEveryProtocol) {
  auto recs = make_set(3000);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  RunOptions opt;
  opt.model_name = "LDA HTD";
  auto res = run_protocol(*data, spec, make_lda_fit_predict(), opt);
  ASSERT_TRUE(res.ok()) << res.error().message();
  for (const auto& p : res->protocols) EXPECT_GT(p.mean_accuracy, 0.9) << protocol_code(p.protocol);
  const nlohmann::json j = evaluation_to_json(*res);
  EXPECT_EQ(j["spec"], "UCI-LL v1");
  EXPECT_EQ(j["class_names"].size(), 3u);
  for (const char* code : {"W", "P", "L"}) {
    ASSERT_TRUE(j["protocols"].contains(code)) << code;
    EXPECT_EQ(j["protocols"][code]["summed"]["confusion"].size(), 3u);
    EXPECT_EQ(j["protocols"][code]["summed"]["per_class"].size(), 3u);
  }
  EXPECT_EQ(j["protocols"]["W"]["per_fold"].size(), 3u);
  EXPECT_EQ(j["protocols"]["L"]["summary"]["min_fold"].get<std::string>(), res->find(Protocol::leave_one_subject_out)->min_fold);
  EXPECT_NE(format_summary(*res).find("W: accuracy mean"), std::string::npos);
}

TEST(Protocol, LdaCallbackReusedOnAnotherDataSetRecomputesItsFeatures) {
  const DataSpec spec = uci_ll_v1_spec();
  auto a = make_set(2000);
  auto b = make_set(2000, 100);  // same sizes; then pure noise: no class information left
  std::mt19937 rng(5);
  std::normal_distribution<double> nd;
  for (auto& r : b)
    for (auto& v : r.samples) v = nd(rng);
  auto da = prepare_data(a, spec), db = prepare_data(b, spec);
  ASSERT_TRUE(da.ok() && db.ok());
  RunOptions opt;
  opt.protocols = {Protocol::within_subject};
  FitPredictFn reused = make_lda_fit_predict();
  ASSERT_TRUE(run_protocol(*da, spec, reused, opt).ok());
  auto again = run_protocol(*db, spec, reused, opt);
  auto fresh = run_protocol(*db, spec, make_lda_fit_predict(), opt);
  ASSERT_TRUE(again.ok() && fresh.ok());
  const auto& x = again->find(Protocol::within_subject)->folds;
  const auto& y = fresh->find(Protocol::within_subject)->folds;
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i].metrics.confusion, y[i].metrics.confusion);
  // Stale features (those of `a`) would still separate the classes almost perfectly.
  EXPECT_LT(again->find(Protocol::within_subject)->mean_accuracy, 0.8);
}

/// Reads the files of `subjects` from the UCI lower-limb folder.
std::vector<io::Recording> read_subjects(const fs::path& root, const std::vector<std::string>& subjects) {
  std::vector<io::Recording> out;
  for (const auto& s : subjects)
    for (const char* mov : {"mar", "pie", "sen"}) {
      const fs::path p = root / "uci-lower-limb" / (s.back() == 'A' ? "A_TXT" : "N_TXT") / (s + mov + ".txt");
      auto r = io::read_uci_lower_limb(p);
      if (r) out.push_back(std::move(*r));
      else ADD_FAILURE() << r.error().message();
    }
  return out;
}

TEST(Protocol, ContextLdaKeepsTheProtocolWindowsAndSeparatesSyntheticClasses) {
  // The declared variant changes what the model sees of each window's past, never which windows are trained
  // on or tested (same folds, same counts as the plain LDA). Context clipping at the segment origin is shared
  // with the networks' make_training_set (tested sample by sample in network_protocol_test.cpp).
  auto recs = make_set(3000);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  RunOptions opt;
  opt.protocols = {Protocol::within_subject, Protocol::pooled, Protocol::leave_one_subject_out};
  LdaVariant v;
  v.log_amplitude = true;
  v.context_samples = 750;
  auto plain = run_protocol(*data, spec, make_lda_fit_predict(), opt);
  auto res = run_protocol(*data, spec, make_lda_fit_predict({}, {}, v), opt);
  ASSERT_TRUE(plain.ok() && res.ok()) << (res.ok() ? "" : res.error().message());
  for (std::size_t p = 0; p < 3; ++p) {
    ASSERT_EQ(res->protocols[p].folds.size(), plain->protocols[p].folds.size());
    for (std::size_t f = 0; f < res->protocols[p].folds.size(); ++f) {
      EXPECT_EQ(res->protocols[p].folds[f].n_train, plain->protocols[p].folds[f].n_train);
      EXPECT_EQ(res->protocols[p].folds[f].n_test, plain->protocols[p].folds[f].n_test);
    }
  }
  EXPECT_GT(res->find(Protocol::within_subject)->mean_accuracy, 0.9);
}

TEST(Protocol, EnsembleOfIdenticalMembersEqualsOneMember) {
  auto recs = make_set(2500);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  RunOptions opt;
  opt.protocols = {Protocol::pooled, Protocol::leave_one_subject_out};
  auto one = run_protocol(*data, spec, make_lda_fit_predict(), opt);
  auto two = run_protocol(*data, spec, make_ensemble_fit_predict({make_lda_fit_predict(), make_lda_fit_predict()}), opt);
  ASSERT_TRUE(one.ok() && two.ok());
  for (std::size_t p = 0; p < 2; ++p)
    for (std::size_t f = 0; f < one->protocols[p].folds.size(); ++f)
      EXPECT_EQ(one->protocols[p].folds[f].metrics.confusion, two->protocols[p].folds[f].metrics.confusion);
  // Parallel folds share the LDA callback's feature cache safely and give the same scores.
  opt.parallel_folds = 2;
  auto par = run_protocol(*data, spec, make_lda_fit_predict(), opt);
  ASSERT_TRUE(par.ok());
  EXPECT_EQ(par->protocols[1].mean_accuracy, one->protocols[1].mean_accuracy);
}

TEST(Protocol, EnsembleMemberWithoutProbabilitiesIsAnError) {
  auto recs = make_set(2000);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok());
  FitPredictFn classes_only = [](const WindowSet&, std::span<const std::size_t>, std::span<const std::size_t>,
                                 std::span<int> predicted, const FoldContext&) -> Status {
    std::fill(predicted.begin(), predicted.end(), 0);
    return {};
  };
  RunOptions opt;
  opt.protocols = {Protocol::pooled};
  auto r = run_protocol(*data, spec, make_ensemble_fit_predict({make_lda_fit_predict(), classes_only}), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().reason.find("no probabilities"), std::string::npos);
}

TEST(Protocol, UciLlV1WithinSubjectLdaEqualsScikitLearnPeerOnTwoSubjects) {
  const auto root = test::data_root();
  if (!root) GTEST_SKIP() << "real data not found";
  const fs::path fx = test::fixture_dir() / "peer_w_two_subjects.npy";
  if (!fs::exists(fx)) GTEST_SKIP() << "peer fixture missing (needs scikit-learn)";
  const auto peer = test::load_npy(fx);  // rows 1A, 3N: accuracy, balanced, macro-F1, n_train, n_test
  auto recs = read_subjects(*root, {"1A", "3N"});
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data.ok()) << data.error().message();
  RunOptions opt;
  opt.protocols = {Protocol::within_subject};
  auto res = run_protocol(*data, spec, make_lda_fit_predict(), opt);
  ASSERT_TRUE(res.ok()) << res.error().message();
  const auto& folds = res->find(Protocol::within_subject)->folds;
  ASSERT_EQ(folds.size(), 2u);
  for (std::size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(double(folds[s].n_train), peer[s * 5 + 3]) << folds[s].name;
    EXPECT_EQ(double(folds[s].n_test), peer[s * 5 + 4]) << folds[s].name;
    // Same windows, features and LDA: the same predictions, so the scores agree to rounding.
    EXPECT_NEAR(folds[s].metrics.accuracy, peer[s * 5 + 0], 1e-12) << folds[s].name;
    EXPECT_NEAR(folds[s].metrics.balanced_accuracy, peer[s * 5 + 1], 1e-12) << folds[s].name;
    EXPECT_NEAR(folds[s].metrics.macro_f1, peer[s * 5 + 2], 1e-12) << folds[s].name;
  }
}

}  // namespace
}  // namespace myoexo::eval
