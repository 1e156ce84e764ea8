#include "realtime/pipeline.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/test_data.hpp"
#include "dsp/sos_filter.hpp"
#include "io/io.hpp"
#include "realtime_test_util.hpp"

namespace myoexo::realtime {
namespace {

using test::make_spec;
using test::make_two_class_recording;
using test::train_lda;

std::vector<double> interleave(const io::Recording& rec) {
  const std::size_t nch = rec.n_channels();
  std::vector<double> x(nch * rec.n_samples);
  for (std::size_t i = 0; i < rec.n_samples; ++i)
    for (std::size_t c = 0; c < nch; ++c) x[i * nch + c] = rec.samples[c * rec.n_samples + i];
  return x;
}

/// Streams `rec` in random chunk sizes in [1, max_chunk] (seeded) and collects the decisions.
std::vector<Decision> stream(StreamingPipeline& p, const io::Recording& rec, std::uint32_t seed, std::size_t max_chunk) {
  const auto x = interleave(rec);
  const std::size_t nch = rec.n_channels();
  std::mt19937 gen(seed);
  std::uniform_int_distribution<std::size_t> size(1, max_chunk);
  std::vector<Decision> out;
  for (std::size_t i = 0; i < rec.n_samples;) {
    const std::size_t m = std::min(size(gen), rec.n_samples - i);
    const ChunkTiming t{static_cast<double>(i) / rec.sample_rate_hz, 0};
    EXPECT_TRUE(p.process(std::span<const double>(x).subspan(i * nch, m * nch), t,
                          [&](const Decision& d) { out.push_back(d); })
                    .ok());
    i += m;
  }
  return out;
}

void expect_same_decisions(const std::vector<Decision>& a, const std::vector<Decision>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].window_start_sample, b[k].window_start_sample) << k;
    EXPECT_EQ(a[k].intent.label, b[k].intent.label) << k;
    EXPECT_EQ(a[k].intent.confidence, b[k].intent.confidence) << k;  // bit-identical
    EXPECT_EQ(a[k].intent.window_end_s, b[k].intent.window_end_s) << k;
    EXPECT_EQ(a[k].raw_class, b[k].raw_class) << k;
    EXPECT_EQ(a[k].raw_probability, b[k].raw_probability) << k;
    EXPECT_EQ(a[k].rejected, b[k].rejected) << k;
    EXPECT_EQ(a[k].nonfinite_input, b[k].nonfinite_input) << k;
  }
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rec_ = make_two_class_recording(12.0, 4, 42);
    lda_ = train_lda(rec_, 250, 50);
    ASSERT_TRUE(lda_);
  }
  StreamingPipeline make_pipeline(PipelineSpec spec) {
    return StreamingPipeline::create(std::move(spec), std::make_unique<models::LdaClassifier>(*lda_)).value();
  }
  io::Recording rec_;
  std::unique_ptr<models::LdaClassifier> lda_;
};

TEST_F(PipelineTest, AnyChunkingGivesTheOfflineDecisions) {
  const auto spec = make_spec(4, 250, 50);
  auto offline = decide_offline(spec, *lda_, rec_.samples, rec_.n_samples).value();
  ASSERT_EQ(offline.size(), (rec_.n_samples - 250) / 50 + 1);
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    for (std::size_t max_chunk : {1u, 7u, 50u, 333u, 5000u}) {
      auto p = make_pipeline(spec);
      SCOPED_TRACE("seed " + std::to_string(seed) + " max chunk " + std::to_string(max_chunk));
      expect_same_decisions(stream(p, rec_, seed, max_chunk), offline);
    }
  }
}

TEST_F(PipelineTest, WithTheWaveletStageAnyChunkingStillGivesTheOfflineDecisions) {
  auto spec = make_spec(4, 250, 50);
  spec.denoise = dsp::WaveletStreamConfig{};
  auto offline = decide_offline(spec, *lda_, rec_.samples, rec_.n_samples).value();
  const auto plain = decide_offline(make_spec(4, 250, 50), *lda_, rec_.samples, rec_.n_samples).value();
  ASSERT_EQ(offline.size(), plain.size());
  std::size_t differ = 0;
  for (std::size_t k = 0; k < offline.size(); ++k) differ += offline[k].raw_probability != plain[k].raw_probability;
  EXPECT_GT(differ, offline.size() / 2);  // the stage is really applied (what it does to accuracy: real data)
  for (std::size_t max_chunk : {1u, 50u, 333u}) {
    auto p = make_pipeline(spec);
    SCOPED_TRACE("max chunk " + std::to_string(max_chunk));
    expect_same_decisions(stream(p, rec_, 4, max_chunk), offline);
  }
  // A bad stage setting fails at create, not on the decision path.
  spec.denoise->hop = 0;
  EXPECT_FALSE(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)));
}

TEST_F(PipelineTest, DecisionsFollowTheTrueClassOnCleanData) {
  auto p = make_pipeline(make_spec(4, 250, 50));
  const auto d = stream(p, rec_, 9, 64);
  std::size_t agree = 0, counted = 0;
  for (const auto& x : d) {
    const std::size_t last = x.window_start_sample + 249;
    // Skip windows straddling a class change and the vote/dwell lag after it.
    const int label = rec_.sample_labels[last];
    if (rec_.sample_labels[x.window_start_sample] != label || last < 500) continue;
    if (x.window_start_sample >= 200 && rec_.sample_labels[x.window_start_sample - 200] != label) continue;
    ++counted;
    agree += (label == 1) == (x.intent.label == control::IntentLabel::gait);
  }
  ASSERT_GT(counted, 50u);
  EXPECT_GE(static_cast<double>(agree) / static_cast<double>(counted), 0.95);
}

TEST_F(PipelineTest, WindowEndTimesFollowTheChunkTimestamps) {
  auto p = make_pipeline(make_spec(4, 250, 50));
  const auto x = interleave(rec_);
  std::vector<Decision> d;
  auto sink = [&](const Decision& e) { d.push_back(e); };
  ASSERT_TRUE(p.process(std::span<const double>(x).subspan(0, 4 * 300), ChunkTiming{10.0, 5}, sink).ok());
  ASSERT_EQ(d.size(), 2u);  // windows ending at samples 249 and 299
  EXPECT_DOUBLE_EQ(d[0].intent.window_end_s, 10.249);
  EXPECT_DOUBLE_EQ(d[1].intent.window_end_s, 10.299);
  EXPECT_EQ(d[0].last_sample_arrival_ns, 5);
  // A jump forward is a gap; the times follow the new stamps.
  ASSERT_TRUE(p.process(std::span<const double>(x).subspan(4 * 300, 4 * 50), ChunkTiming{20.0, 6}, sink).ok());
  ASSERT_EQ(d.size(), 3u);
  EXPECT_DOUBLE_EQ(d[2].intent.window_end_s, 20.049);
  EXPECT_EQ(p.stats().gaps, 1u);
  ASSERT_TRUE(p.process(std::span<const double>(x).subspan(4 * 350, 4 * 50), ChunkTiming{19.0, 7}, sink).ok());
  EXPECT_EQ(p.stats().timestamp_regressions, 1u);
  EXPECT_EQ(p.stats().decisions, 4u);
  EXPECT_EQ(p.compute_time().count(), 4u);
  EXPECT_EQ(p.latency().count(), 4u);
}

TEST_F(PipelineTest, NanBurstIsFlaggedAndDoesNotPoisonTheFilter) {
  io::Recording bad = rec_;
  for (std::size_t i = 3000; i < 3010; ++i) bad.samples[1 * bad.n_samples + i] = std::numeric_limits<double>::quiet_NaN();
  bad.samples[2 * bad.n_samples + 6000] = std::numeric_limits<double>::infinity();
  auto p = make_pipeline(make_spec(4, 250, 50));
  const auto d = stream(p, bad, 4, 100);
  std::size_t flagged = 0;
  for (const auto& x : d) {
    const std::size_t s0 = x.window_start_sample, s1 = s0 + 249;
    const bool expect_bad = (s1 >= 3000 && s0 <= 3009) || (s0 <= 6000 && s1 >= 6000);
    EXPECT_EQ(x.nonfinite_input, expect_bad) << s0;
    if (expect_bad) {
      ++flagged;
      EXPECT_TRUE(x.rejected);
    }
    EXPECT_TRUE(std::isfinite(x.intent.confidence));
    EXPECT_TRUE(std::isfinite(x.raw_probability));
  }
  EXPECT_EQ(flagged, p.stats().nonfinite_windows);
  EXPECT_EQ(p.stats().nonfinite_samples, 11u);
  // Offline agrees, NaN and all.
  expect_same_decisions(d, decide_offline(make_spec(4, 250, 50), *lda_, bad.samples, bad.n_samples).value());
  // After the bursts the decisions are as good as on clean data (filter state recovered).
  auto clean = make_pipeline(make_spec(4, 250, 50));
  const auto ref = stream(clean, rec_, 4, 100);
  ASSERT_EQ(ref.size(), d.size());
  std::size_t same_after = 0, n_after = 0;
  for (std::size_t k = 0; k < d.size(); ++k)
    if (d[k].window_start_sample > 7000) {
      ++n_after;
      same_after += d[k].intent.label == ref[k].intent.label;
    }
  EXPECT_EQ(same_after, n_after);
}

TEST_F(PipelineTest, CreateRejectsMismatchedSpecs) {
  auto spec = make_spec(3, 250, 50);  // the LDA was trained on 4 channels
  EXPECT_EQ(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).error().code,
            ErrorCode::mismatch);
  spec = make_spec(4, 250, 0);
  EXPECT_FALSE(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).ok());
  spec = make_spec(4, 250, 50);
  spec.filter = dsp::design_bandpass(4, 20.0, 450.0, 2000.0).value();
  EXPECT_EQ(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).error().code,
            ErrorCode::mismatch);
  spec = make_spec(4, 250, 50);
  spec.class_intents = {control::IntentLabel::rest};
  EXPECT_FALSE(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).ok());
  EXPECT_FALSE(StreamingPipeline::create(make_spec(4, 250, 50), nullptr).ok());
}

TEST_F(PipelineTest, ChunkThatIsNotWholeFramesIsAnErrorAndConsumesNothing) {
  auto p = make_pipeline(make_spec(4, 250, 50));
  const std::vector<double> x(7, 0.0);
  EXPECT_EQ(p.process(x, ChunkTiming{}).error().code, ErrorCode::mismatch);
  EXPECT_EQ(p.stats().frames, 0u);
}

TEST_F(PipelineTest, ResetRepeatsTheSameDecisions) {
  auto p = make_pipeline(make_spec(4, 250, 50));
  const auto a = stream(p, rec_, 5, 40);
  p.reset();
  EXPECT_EQ(p.stats().decisions, 0u);
  expect_same_decisions(stream(p, rec_, 6, 90), a);
}

/// A window classifier (the role a LibTorch CNN plays): class 1 when the window's mean |x| is large.
class EnergyWindowClassifier final : public models::Classifier {
 public:
  EnergyWindowClassifier(std::size_t channels, std::size_t len) : n_(channels * len) {}
  std::size_t n_inputs() const noexcept override { return n_; }
  std::size_t n_classes() const noexcept override { return 2; }
  const std::vector<std::string>& class_names() const noexcept override { return names_; }
  const std::vector<std::string>& input_names() const noexcept override { return inputs_; }
  models::InputKind input_kind() const noexcept override { return models::InputKind::windows; }
  Status reserve(std::size_t) override { return {}; }
  Status predict_proba(const double* in, std::size_t rows, std::size_t cols, double* out) override {
    if (cols != n_) return make_error(ErrorCode::mismatch, "cols");
    for (std::size_t r = 0; r < rows; ++r) {
      double s = 0;
      for (std::size_t i = 0; i < n_; ++i) s += std::abs(in[r * n_ + i]);
      const double p = s / static_cast<double>(n_) > 0.05 ? 0.97 : 0.03;
      out[2 * r] = 1 - p;
      out[2 * r + 1] = p;
    }
    return {};
  }

 private:
  std::size_t n_;
  std::vector<std::string> names_{"rest", "gait"}, inputs_;
};

/// Forwards to an LDA and counts the rows it was asked to classify.
class CountingClassifier final : public models::Classifier {
 public:
  CountingClassifier(const models::LdaClassifier& lda, std::size_t* rows) : lda_(lda), rows_(rows) {}
  std::size_t n_inputs() const noexcept override { return lda_.n_inputs(); }
  std::size_t n_classes() const noexcept override { return lda_.n_classes(); }
  const std::vector<std::string>& class_names() const noexcept override { return lda_.class_names(); }
  const std::vector<std::string>& input_names() const noexcept override { return lda_.input_names(); }
  models::InputKind input_kind() const noexcept override { return lda_.input_kind(); }
  Status reserve(std::size_t n) override { return lda_.reserve(n); }
  Status predict_proba(const double* in, std::size_t rows, std::size_t cols, double* out) override {
    *rows_ += rows;
    return lda_.predict_proba(in, rows, cols, out);
  }

 private:
  models::LdaClassifier lda_;
  std::size_t* rows_;
};

TEST_F(PipelineTest, WindowsWithReplacedSamplesAreNeverClassified) {
  io::Recording bad = rec_;
  for (std::size_t i = 4000; i < 4600; ++i) bad.samples[0 * bad.n_samples + i] = std::numeric_limits<double>::quiet_NaN();
  std::size_t rows = 0;
  auto p = StreamingPipeline::create(make_spec(4, 250, 50), std::make_unique<CountingClassifier>(*lda_, &rows)).value();
  const auto d = stream(p, bad, 3, 64);
  std::size_t flagged = 0;
  for (const auto& x : d)
    if (x.nonfinite_input) {
      ++flagged;
      EXPECT_EQ(x.raw_class, -1);
      EXPECT_TRUE(x.rejected);
      EXPECT_EQ(x.intent.label, control::IntentLabel::rest);
    }
  EXPECT_EQ(flagged, 16u);  // windows [s0, s0 + 249] touching [4000, 4599]: s0 = 3800, 3850, ..., 4550
  EXPECT_EQ(rows, d.size() - flagged);
  EXPECT_EQ(p.stats().classifier_errors, 0u);
  EXPECT_EQ(p.stats().nonfinite_classifier_inputs, 0u);
}

TEST_F(PipelineTest, HugeFiniteSamplesAreReplacedAndDoNotPoisonTheFilter) {
  // 1e300 is finite, but a Butterworth state fed it overflows to inf and would stay NaN for ever.
  io::Recording bad = rec_;
  bad.samples[2 * bad.n_samples + 5000] = 1e300;
  bad.samples[3 * bad.n_samples + 5001] = -std::numeric_limits<double>::max();
  auto p = make_pipeline(make_spec(4, 250, 50));
  const auto d = stream(p, bad, 8, 100);
  EXPECT_EQ(p.stats().nonfinite_samples, 2u);
  EXPECT_EQ(p.stats().classifier_errors, 0u);
  auto clean = make_pipeline(make_spec(4, 250, 50));
  const auto ref = stream(clean, rec_, 8, 100);
  ASSERT_EQ(ref.size(), d.size());
  for (std::size_t k = 0; k < d.size(); ++k) {
    const bool touched = d[k].window_start_sample <= 5001 && d[k].window_start_sample + 249 >= 5000;
    EXPECT_EQ(d[k].nonfinite_input, touched) << k;
    EXPECT_TRUE(std::isfinite(d[k].intent.confidence)) << k;
    if (d[k].window_start_sample > 7000) {
      EXPECT_EQ(d[k].intent.label, ref[k].intent.label) << k;
    }
  }
  expect_same_decisions(d, decide_offline(make_spec(4, 250, 50), *lda_, bad.samples, bad.n_samples).value());
}

TEST_F(PipelineTest, NonFiniteClassifierInputIsRejectedBeforeTheClassifier) {
  // A pure gain of 1e300 (no state) keeps every filtered sample finite but overflows the RMS feature: the
  // feature rows are not finite although no input sample was replaced.
  auto spec = make_spec(4, 250, 50);
  dsp::SosDesign gain;
  gain.sample_rate_hz = 1000.0;
  gain.sections = {{1e300, 0.0, 0.0, 1.0, 0.0, 0.0}};
  spec.filter = gain;
  std::size_t rows = 0;
  auto p = StreamingPipeline::create(spec, std::make_unique<CountingClassifier>(*lda_, &rows)).value();
  const auto d = stream(p, rec_, 2, 300);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(rows, 0u);
  EXPECT_EQ(p.stats().nonfinite_samples, 0u);
  EXPECT_EQ(p.stats().nonfinite_classifier_inputs, d.size());
  EXPECT_EQ(p.stats().nonfinite_windows, d.size());
  EXPECT_EQ(p.stats().classifier_errors, 0u);
  for (const auto& x : d) {
    EXPECT_TRUE(x.nonfinite_input);
    EXPECT_TRUE(x.rejected);
    EXPECT_EQ(x.intent.label, control::IntentLabel::rest);
  }
  expect_same_decisions(d, decide_offline(spec, *lda_, rec_.samples, rec_.n_samples).value());
}

TEST_F(PipelineTest, WindowClassifiersSeeTheSameWindowsOnBothPaths) {
  auto spec = make_spec(4, 200, 25);
  EnergyWindowClassifier offline_clf(4, 200);
  const auto offline = decide_offline(spec, offline_clf, rec_.samples, rec_.n_samples).value();
  auto p = StreamingPipeline::create(spec, std::make_unique<EnergyWindowClassifier>(4, 200)).value();
  const auto live = stream(p, rec_, 11, 77);
  expect_same_decisions(live, offline);
  std::size_t gait = 0;
  for (const auto& d : live) gait += d.intent.label == control::IntentLabel::gait;
  EXPECT_GT(gait, live.size() / 4);
}

TEST_F(PipelineTest, CommandSentHookFillsTheEndToEndHistogram) {
  auto p = make_pipeline(make_spec(4, 250, 50));
  const auto x = interleave(rec_);
  ASSERT_TRUE(p.process(std::span<const double>(x).subspan(0, 4 * 250), ChunkTiming{0.0, 1000}).ok());
  p.record_command_sent(p.last_decision(), 1000 + 250000);
  EXPECT_EQ(p.end_to_end().count(), 1u);
  EXPECT_DOUBLE_EQ(p.end_to_end().summary().max_s, 250e-6);
}

TEST_F(PipelineTest, CustomClockStampsTheIntentEmitTime) {
  auto spec = make_spec(4, 250, 50);
  spec.clock = [] { return std::int64_t{42'000'000'000}; };
  auto p = make_pipeline(spec);
  const auto x = interleave(rec_);
  ASSERT_EQ(p.process(std::span<const double>(x).subspan(0, 4 * 250), ChunkTiming{}).value(), 1u);
  EXPECT_DOUBLE_EQ(p.last_decision().intent.emit_s, 42.0);
}

// ---- the lda_context variant: rows [window block | context block over the window + past samples] ----------

class ContextPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rec_ = make_two_class_recording(12.0, 4, 42);
    lda_ = test::train_context_lda(rec_, 250, 50, 750, true);
    ASSERT_TRUE(lda_);
    ASSERT_EQ(lda_->n_inputs(), 4u * 9u * 2u);  // channels x (MAV WL ZC SSC RMS AR1-4) x 2 blocks
  }
  StreamingPipeline make_pipeline(PipelineSpec spec) {
    return StreamingPipeline::create(std::move(spec), std::make_unique<models::LdaClassifier>(*lda_)).value();
  }
  io::Recording rec_;
  std::unique_ptr<models::LdaClassifier> lda_;
};

TEST_F(ContextPipelineTest, AnyChunkingGivesTheOfflineDecisions) {
  const auto spec = test::make_context_spec(4, 250, 50, 750, true);
  const auto offline = decide_offline(spec, *lda_, rec_.samples, rec_.n_samples).value();
  ASSERT_EQ(offline.size(), (rec_.n_samples - 250) / 50 + 1);
  for (std::uint32_t seed : {1u, 2u}) {
    for (std::size_t max_chunk : {1u, 7u, 50u, 333u, 5000u}) {
      auto p = make_pipeline(spec);
      SCOPED_TRACE("seed " + std::to_string(seed) + " max chunk " + std::to_string(max_chunk));
      expect_same_decisions(stream(p, rec_, seed, max_chunk), offline);
    }
  }
  // A filter block much smaller than the chunks (the history ring wraps many times per chunk).
  auto small = spec;
  small.max_block_frames = 16;
  auto p = make_pipeline(small);
  expect_same_decisions(stream(p, rec_, 3, 700), offline);
  // The LDA separates the classes with the context too (decisions are not trivially equal).
  std::size_t gait = 0;
  for (const auto& d : offline) gait += d.intent.label == control::IntentLabel::gait;
  EXPECT_GT(gait, offline.size() / 4);
  EXPECT_LT(gait, offline.size() * 3 / 4);
}

TEST_F(ContextPipelineTest, ContextThatIsNotAMultipleOfTheIncrementStreamsLikeOffline) {
  // 100 past samples every 30: clipped contexts of 250 + 0, 30, 60, 90 samples, then 350.
  auto lda = test::train_context_lda(rec_, 250, 30, 100, false);
  ASSERT_TRUE(lda);
  const auto spec = test::make_context_spec(4, 250, 30, 100, false);
  const auto offline = decide_offline(spec, *lda, rec_.samples, rec_.n_samples).value();
  auto p = StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda)).value();
  expect_same_decisions(stream(p, rec_, 4, 97), offline);
}

TEST_F(ContextPipelineTest, ReplacedSamplesInTheContextRejectTheWindow) {
  io::Recording bad = rec_;
  for (std::size_t i = 4000; i < 4010; ++i) bad.samples[1 * bad.n_samples + i] = std::numeric_limits<double>::quiet_NaN();
  const auto spec = test::make_context_spec(4, 250, 50, 750, true);
  auto p = make_pipeline(spec);
  const auto d = stream(p, bad, 5, 120);
  std::size_t flagged = 0;
  for (const auto& x : d) {
    const std::size_t s0 = x.window_start_sample;
    // The classifier reads [s0 - min(750, s0), s0 + 249].
    const bool expect_bad = s0 + 249 >= 4000 && s0 <= 4009 + 750;
    EXPECT_EQ(x.nonfinite_input, expect_bad) << s0;
    flagged += x.nonfinite_input;
  }
  EXPECT_EQ(flagged, 20u);  // s0 = 3800, 3850, ..., 4750
  EXPECT_EQ(p.stats().classifier_errors, 0u);
  expect_same_decisions(d, decide_offline(spec, *lda_, bad.samples, bad.n_samples).value());
}

TEST_F(ContextPipelineTest, ResetRestartsTheContextAtTheNewStreamStart) {
  const auto spec = test::make_context_spec(4, 250, 50, 750, true);
  auto p = make_pipeline(spec);
  const auto a = stream(p, rec_, 5, 40);
  p.reset();
  expect_same_decisions(stream(p, rec_, 6, 90), a);
}

TEST_F(ContextPipelineTest, CreateChecksTheContextAgainstTheClassifier) {
  // The context LDA takes 72 inputs; without the context block the pipeline makes 36.
  auto spec = test::make_context_spec(4, 250, 50, 0, true);
  auto r = StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::mismatch);
  EXPECT_NE(r.error().message().find("72"), std::string::npos) << r.error().message();
  // A plain-window LDA (3 features x 4 channels) cannot take a context row.
  auto plain = train_lda(rec_, 250, 50);
  spec = make_spec(4, 250, 50);
  spec.context_samples = 750;
  EXPECT_EQ(StreamingPipeline::create(spec, std::move(plain)).error().code, ErrorCode::mismatch);
  // Too many context lengths (5000 samples every 1) or an absurd context are refused before sizing anything.
  spec = test::make_context_spec(4, 250, 1, 5000, true);
  EXPECT_EQ(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).error().code,
            ErrorCode::invalid_argument);
  spec = test::make_context_spec(4, 250, 50, std::size_t{1} << 40, true);
  EXPECT_EQ(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).error().code,
            ErrorCode::invalid_argument);
  // Window classifiers take raw windows: a context or log option is a spec error.
  spec = make_spec(4, 200, 25);
  spec.context_samples = 100;
  EXPECT_EQ(StreamingPipeline::create(spec, std::make_unique<EnergyWindowClassifier>(4, 200)).error().code,
            ErrorCode::invalid_argument);
}

/// A window knee-angle regressor whose answer depends on every value and its place: sum of x[i] * (i % 97 + 1).
class WindowProbe final : public models::AngleRegressor {
 public:
  WindowProbe(std::size_t channels, std::size_t length) : channels_(channels), length_(length) {}
  models::InputKind input_kind() const noexcept override { return models::InputKind::windows; }
  std::size_t n_inputs() const noexcept override { return channels_ * length_; }
  std::size_t window_length() const noexcept override { return length_; }
  std::string kind_name() const override { return "probe"; }
  double estimate(std::span<const double> x) noexcept override {
    if (x.size() != n_inputs()) return std::numeric_limits<double>::quiet_NaN();
    double s = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) s += x[i] * double(i % 97 + 1);
    return s;
  }
  std::unique_ptr<models::AngleRegressor> clone() const override { return std::make_unique<WindowProbe>(*this); }

 private:
  std::size_t channels_, length_;
};

TEST_F(ContextPipelineTest, AKneeAngleNetworkReadsTheWindowAndItsPastInAnyChunking) {
  auto spec = test::make_context_spec(4, 250, 50, 750, true);
  WindowProbe probe(4, 1000);
  spec.knee_angle = std::make_shared<WindowProbe>(probe);
  // Expected: the causally filtered recording, each window's 1000 samples ending at its last sample, zeros
  // before the stream start.
  auto filter = dsp::SosFilter::create(*spec.filter, 4).value();
  std::vector<double> y(rec_.samples.size());
  ASSERT_TRUE(filter.process_channel_major(rec_.samples, y, rec_.n_samples).ok());
  std::vector<double> input(4 * 1000);
  const auto offline = decide_offline(spec, *lda_, rec_.samples, rec_.n_samples).value();
  ASSERT_FALSE(offline.empty());
  for (const Decision& d : offline) {
    const std::size_t end = d.window_start_sample + 250;  // one past the window's last sample
    for (std::size_t c = 0; c < 4; ++c)
      for (std::size_t i = 0; i < 1000; ++i)
        input[c * 1000 + i] = end + i >= 1000 ? y[c * rec_.n_samples + end + i - 1000] : 0.0;
    ASSERT_NEAR(d.knee_angle_deg, probe.estimate(input), 1e-9 * std::abs(probe.estimate(input)))
        << d.window_start_sample;
  }
  for (std::size_t max_chunk : {1u, 33u, 700u}) {
    auto p = make_pipeline(spec);
    const auto live = stream(p, rec_, 9, max_chunk);
    ASSERT_EQ(live.size(), offline.size());
    for (std::size_t k = 0; k < live.size(); ++k)
      ASSERT_EQ(live[k].knee_angle_deg, offline[k].knee_angle_deg) << "chunks " << max_chunk << " decision " << k;
  }
  // A window with a replaced sample in the network's past gives no estimate.
  io::Recording bad = rec_;
  bad.samples[2 * bad.n_samples + 4000] = std::numeric_limits<double>::quiet_NaN();
  const auto with_nan = decide_offline(spec, *lda_, bad.samples, bad.n_samples).value();
  for (const Decision& d : with_nan) {
    const bool reads_it = d.window_start_sample + 249 >= 4000 && d.window_start_sample <= 4000 + 750;
    EXPECT_EQ(std::isnan(d.knee_angle_deg), reads_it) << d.window_start_sample;
  }
}

TEST_F(ContextPipelineTest, AKneeAngleNetworkMustFitTheStream) {
  auto spec = test::make_context_spec(4, 250, 50, 750, true);
  spec.knee_angle = std::make_shared<WindowProbe>(4, 1001);  // one sample more than window + context
  auto r = StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::mismatch);
  EXPECT_NE(r.error().message().find("751 samples before each window"), std::string::npos) << r.error().message();
  spec.knee_angle = std::make_shared<WindowProbe>(3, 1000);  // another channel count
  EXPECT_EQ(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).error().code,
            ErrorCode::mismatch);
  spec.knee_angle = std::make_shared<WindowProbe>(4, 200);  // shorter than the decision window
  EXPECT_EQ(StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda_)).error().code,
            ErrorCode::mismatch);
  // A window classifier keeps past samples only for a network that reads them: 200 + 100 with context 100 works,
  // and its decisions carry the estimate on both paths.
  auto wspec = make_spec(4, 200, 25);
  wspec.context_samples = 100;
  wspec.knee_angle = std::make_shared<WindowProbe>(4, 300);
  EnergyWindowClassifier clf(4, 200);
  const auto offline = decide_offline(wspec, clf, rec_.samples, rec_.n_samples).value();
  auto p = StreamingPipeline::create(wspec, std::make_unique<EnergyWindowClassifier>(4, 200)).value();
  const auto live = stream(p, rec_, 12, 61);
  ASSERT_EQ(live.size(), offline.size());
  for (std::size_t k = 0; k < live.size(); ++k) {
    ASSERT_TRUE(std::isfinite(live[k].knee_angle_deg)) << k;
    ASSERT_EQ(live[k].knee_angle_deg, offline[k].knee_angle_deg) << k;
  }
  wspec.context_samples = 150;  // more than the network reads
  EXPECT_EQ(StreamingPipeline::create(wspec, std::make_unique<EnergyWindowClassifier>(4, 200)).error().code,
            ErrorCode::invalid_argument);
}

/// Keeps a copy of every feature row it is asked to classify (test only: it allocates).
class RowRecorder final : public models::Classifier {
 public:
  RowRecorder(std::size_t n_inputs, std::vector<std::vector<double>>* rows) : n_(n_inputs), rows_(rows) {}
  std::size_t n_inputs() const noexcept override { return n_; }
  std::size_t n_classes() const noexcept override { return 2; }
  const std::vector<std::string>& class_names() const noexcept override { return names_; }
  const std::vector<std::string>& input_names() const noexcept override { return inputs_; }
  models::InputKind input_kind() const noexcept override { return models::InputKind::features; }
  Status reserve(std::size_t) override { return {}; }
  Status predict_proba(const double* in, std::size_t rows, std::size_t cols, double* out) override {
    for (std::size_t r = 0; r < rows; ++r) {
      rows_->emplace_back(in + r * cols, in + (r + 1) * cols);
      out[2 * r] = out[2 * r + 1] = 0.5;
    }
    return {};
  }

 private:
  std::size_t n_;
  std::vector<std::vector<double>>* rows_;
  std::vector<std::string> names_{"rest", "gait"}, inputs_;
};

TEST(PipelineRealData, ContextRowsEqualTheOfflineEvaluationDefinition) {
  const auto root = myoexo::test::data_root();
  if (!root) GTEST_SKIP() << "real data sets not found";
  auto rec = io::read_recording(*root / "uci-lower-limb" / "A_TXT" / "1Amar.txt");
  if (!rec) GTEST_SKIP() << rec.error().message();
  io::Recording emg = *rec;  // the four EMG channels (RF BF VM ST)
  emg.channel_names.resize(4);
  emg.channel_units.resize(4);
  emg.samples.resize(4 * emg.n_samples);
  const std::size_t len = 250, inc = 50, ctx = 750;
  auto spec = test::make_context_spec(4, len, inc, ctx, true);
  spec.sample_rate_hz = emg.sample_rate_hz;
  spec.filter = dsp::design_bandpass(4, 20.0, 450.0, emg.sample_rate_hz).value();
  spec.features = features::make_feature_spec("MAV,WL,ZC,SSC,RMS,AR").value();  // evaluate's lda_context set
  std::vector<std::vector<double>> live;
  auto p = StreamingPipeline::create(spec, std::make_unique<RowRecorder>(4 * 9 * 2, &live)).value();
  (void)stream(p, emg, 31, 150);

  // Reference: eval::prepare_data's causal filter (zero state at the recording start) over the whole
  // recording, then make_lda_fit_predict's LdaVariant{log_amplitude, 750} rows, written out here
  // independently: window features with log amplitudes; context [max(origin, end - len - ctx), end) with
  // IAV WL ZC SSC WAMP divided by its length and log amplitudes (floor 1e-12).
  std::vector<double> x = emg.samples;
  auto filter = dsp::SosFilter::create(*spec.filter, 4).value();
  ASSERT_TRUE(filter.process_channel_major(x, x, emg.n_samples).ok());
  const std::set<std::string> amplitude{"MAV", "RMS", "VAR", "IAV", "WL", "DASDV", "HA", "TP", "M0", "M2", "M4"};
  const std::set<std::string> grows{"IAV", "WL", "ZC", "SSC", "WAMP"};
  auto fs = spec.features;
  fs.sample_rate_hz = emg.sample_rate_hz;
  const auto starts = dsp::window_starts(emg.n_samples, len, inc);
  ASSERT_EQ(live.size(), starts.size());
  std::size_t clipped = 0;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t end = starts[k] + len;
    const std::size_t begin = end > len + ctx ? end - len - ctx : 0;
    clipped += end - begin < len + ctx;
    std::vector<double> ref(4 * 9 * 2);
    for (int block = 0; block < 2; ++block) {
      const std::size_t from = block == 0 ? starts[k] : begin, n = end - from;
      auto ex = features::FeatureExtractor::create(fs, 4, n).value();
      double* out = ref.data() + block * 36;
      ASSERT_EQ(ex.compute(x.data() + from, emg.n_samples, out), features::ComputeStatus::ok);
      for (std::size_t c = 0; c < 4; ++c)
        for (std::size_t f = 0; f < 9; ++f) {
          double& v = out[c * 9 + f];
          if (block == 1 && grows.count(ex.feature_names()[f])) v /= double(n);
          if (amplitude.count(ex.feature_names()[f])) v = std::log(std::max(v, 1e-12));
        }
    }
    for (std::size_t i = 0; i < ref.size(); ++i)
      ASSERT_NEAR(live[k][i], ref[i], 1e-9 * std::max(1.0, std::abs(ref[i]))) << "window " << k << " column " << i;
  }
  EXPECT_EQ(clipped, ctx / inc);  // windows 0..14: contexts of 250, 300, ..., 950 samples
}

TEST(PipelineRealData, UciGaitReplayStreamsLikeOffline) {
  const auto root = myoexo::test::data_root();
  if (!root) GTEST_SKIP() << "real data sets not found";
  auto rec = io::read_recording(*root / "uci-lower-limb" / "N_TXT" / "1Nmar.txt");
  if (!rec) GTEST_SKIP() << rec.error().message();
  // Keep the four EMG channels; label everything as one class plus a synthetic rest copy to train on.
  io::Recording emg = *rec;
  emg.channel_names.resize(4);
  emg.channel_units.resize(4);
  emg.samples.resize(4 * emg.n_samples);
  io::Recording train = emg;
  train.n_samples = 2 * emg.n_samples;
  train.samples.assign(4 * train.n_samples, 0.0);
  train.sample_labels.assign(train.n_samples, 1);
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t i = 0; i < emg.n_samples; ++i) {
      train.samples[c * train.n_samples + i] = emg.samples[c * emg.n_samples + i];
      train.samples[c * train.n_samples + emg.n_samples + i] = 0.05 * emg.samples[c * emg.n_samples + i];
      train.sample_labels[emg.n_samples + i] = 0;
    }
  auto lda = test::train_lda(train, 250, 50);
  ASSERT_TRUE(lda);
  const auto spec = test::make_spec(4, 250, 50);
  const auto offline = decide_offline(spec, *lda, emg.samples, emg.n_samples).value();
  auto p = StreamingPipeline::create(spec, std::make_unique<models::LdaClassifier>(*lda)).value();
  expect_same_decisions(stream(p, emg, 21, 120), offline);
}

}  // namespace
}  // namespace myoexo::realtime
