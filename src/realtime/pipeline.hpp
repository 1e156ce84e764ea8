// myoexo::realtime — StreamingPipeline: interleaved frames in any chunking -> causal SOS filter ->
// streaming windower -> classifier (features + LDA, or any models::Classifier, e.g. a LibTorch network on
// raw windows) -> rejection / majority vote / dwell -> Decision (with its control::Intent).
//
// Offline = online: decide_offline() runs the same filter design, the same windows (dsp::window_starts),
// the same feature extractor, classifier and post-processor over a whole channel-major recording, and gives
// the same decisions, bit for bit, as process() fed the same samples in any chunking (tested).
//
// Real-time contract: create() sizes everything; process() allocates nothing, locks nothing, throws
// nothing (tested with a counting operator new), also during NaN bursts. Non-finite input samples (and
// finite ones beyond kMaxSampleMagnitude) are replaced by the channel's last good value BEFORE the IIR
// filter (a NaN, or an overflow to inf, would otherwise poison its state for ever), counted, and every
// window containing one is forced to a rejection (rest) without calling the classifier, and flagged
// `nonfinite_input` so the supervisor can hold (with a context block: every window whose window or context
// holds one, since both feed the classifier). The classifier's input (feature row or raw window) is also
// checked for finiteness before every call: a non-finite one is handled the same way (counted in
// nonfinite_classifier_inputs), so the error path (an error string per decision) is never taken.
//
// Timing: each decision carries the arrival time of its window's last sample, its emit time and its
// compute time (from the start of processing the filter block holding the window's last sample to the
// emit; with chunks of one increment this is the whole filter + window + features + classifier + post
// cost). Histograms: compute_time(), latency() (arrival -> emit) and end_to_end() (arrival -> the command
// leaving the supervisor, fed by record_command_sent()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/intent.hpp"
#include "core/error.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/sos_filter.hpp"
#include "dsp/wavelet.hpp"
#include "dsp/windowing.hpp"
#include "features/features.hpp"
#include "models/classifier.hpp"
#include "models/angle_regressor.hpp"
#include "realtime/frame_ring.hpp"
#include "realtime/postprocess.hpp"
#include "realtime/timing.hpp"

namespace myoexo::realtime {

/// Input samples with |x| above this (or non-finite) are treated as faults and replaced (see above). Far
/// above any physical EMG value in V, mV or ADC codes; low enough that squares and IIR gains stay finite.
inline constexpr double kMaxSampleMagnitude = 1e100;

/// Everything the pipeline is built from (immutable once created).
struct PipelineSpec {
  double sample_rate_hz = 1000.0;           ///< > 0
  std::size_t n_channels = 4;               ///< >= 1, the frames' channel count
  std::optional<dsp::SosDesign> filter;     ///< causal filter run on every channel; none = raw samples
  /// Wavelet denoising after the filter (dsp::WaveletDenoiseStream); its delay_samples() delay every decision.
  std::optional<dsp::WaveletStreamConfig> denoise;
  std::size_t window_len = 250;             ///< samples (>= 3)
  std::size_t increment = 50;               ///< samples between window starts (>= 1)
  features::FeatureSpec features;           ///< used when the classifier takes feature rows
  /// Feature classifiers: > 0 adds a second feature block over the window and up to this many past
  /// (filtered) samples, clipped at the stream start (create/reset), count and sum features divided by the
  /// samples covered: the row is [window block | context block] exactly as features::ContextFeatureExtractor
  /// and offline evaluation's "lda_context" define it. 0 = the window block alone. Bounded by
  /// features::kMaxContextLengths context lengths (ceil(context_samples / increment) + 1). Window classifiers
  /// take none, except the past samples a window knee-angle regressor reads (then exactly those).
  std::size_t context_samples = 0;
  /// Feature classifiers only: log(max(v, 1e-12)) of the amplitude features (features::is_amplitude_feature)
  /// in every block.
  bool log_amplitude_features = false;
  PostProcessOptions post;                  ///< rejection (default 0.9), vote, dwell
  /// A knee-angle regressor; every decision then carries its estimate (Decision::knee_angle_deg). Null = none.
  /// On feature rows (ridge): a feature classifier's own row (same inputs). On windows (a network): the filtered
  /// window of regressor->window_length() samples ending at the decision window's last sample, which may reach
  /// up to context_samples before the window (zeros before the stream start, as offline evaluation pads). The
  /// pipeline runs its own clone() (a network owns scratch).
  std::shared_ptr<const models::AngleRegressor> knee_angle;
  std::vector<control::IntentLabel> class_intents;  ///< per classifier class; empty = by class name
  std::size_t max_block_frames = 256;       ///< frames filtered per internal block (scratch size)
  /// Clock for emit stamps [ns]; empty = steady_now_ns. A simulation passes its own clock.
  std::function<std::int64_t()> clock;
};

/// Class probabilities a Decision carries (the first this many classes; models have 3-7).
inline constexpr std::size_t kMaxDecisionClasses = 8;

/// One decision of the pipeline.
struct Decision {
  control::Intent intent;                 ///< post-processed intent (label, confidence, window end, emit [s])
  std::size_t window_index = 0;           ///< k since create/reset
  std::size_t window_start_sample = 0;    ///< k * increment, counted in frames since create/reset
  int raw_class = -1;                     ///< classifier argmax before post-processing (-1 = no valid output)
  double raw_probability = 0.0;           ///< its probability
  std::array<float, kMaxDecisionClasses> probabilities{};  ///< classifier output per class (0 when not classified)
  std::uint8_t n_probabilities = 0;       ///< classes filled in `probabilities`
  bool rejected = false;                  ///< below the threshold or invalid input (voted rest)
  bool nonfinite_input = false;           ///< the window held replaced samples, or the classifier input was not
                                          ///< finite: not classified (raw_class -1), rejected
  std::int64_t last_sample_arrival_ns = 0;
  std::int64_t emit_ns = 0;
  std::int64_t compute_ns = 0;
  /// Knee angle estimated from the same window (degrees, flexion positive) when the pipeline has a regressor;
  /// NaN otherwise and for windows that were not classified (non-finite input).
  double knee_angle_deg = std::numeric_limits<double>::quiet_NaN();
};

/// Counters since create/reset.
struct PipelineStats {
  std::uint64_t frames = 0;
  std::uint64_t decisions = 0;
  std::uint64_t rejected = 0;
  std::uint64_t nonfinite_samples = 0;     ///< replaced before filtering (non-finite or > kMaxSampleMagnitude)
  std::uint64_t nonfinite_windows = 0;     ///< decisions flagged nonfinite_input (either reason)
  std::uint64_t nonfinite_classifier_inputs = 0;  ///< of those: features / window not finite after filtering
  std::uint64_t classifier_errors = 0;     ///< predict_proba returned an error (decision rejected)
  std::uint64_t gaps = 0;                  ///< chunks whose first_sample_s jumped forward (lost data)
  std::uint64_t timestamp_regressions = 0; ///< chunks whose first_sample_s went backwards
};

class StreamingPipeline {
 public:
  /// Validates the spec against the classifier (inputs = channels * features * (context_samples > 0 ? 2 : 1),
  /// or channels * window_len for window classifiers, which take no context or log option; class -> intent
  /// mapping) and allocates every buffer, including one feature extractor per clipped context length and a
  /// history of window_len + context_samples + max_block_frames filtered frames per channel. Errors:
  /// invalid_argument, mismatch.
  static Result<StreamingPipeline> create(PipelineSpec spec, std::unique_ptr<models::Classifier> classifier);

  StreamingPipeline(StreamingPipeline&&) noexcept;
  StreamingPipeline& operator=(StreamingPipeline&&) noexcept;
  ~StreamingPipeline();

  const PipelineSpec& spec() const noexcept;
  models::Classifier& classifier() noexcept;

  /// Feeds interleaved frames ([frames x channels], any count; the size must be a multiple of n_channels,
  /// else mismatch and nothing is consumed) that arrived together, and calls
  /// on_decision(const Decision&) for each window completed, in order. No allocation, no exception.
  template <typename OnDecision>
  Status process(std::span<const double> frames, const ChunkTiming& timing, OnDecision&& on_decision) noexcept {
    Status s = begin_chunk(frames.size(), timing);
    if (!s) return s;
    const std::size_t nch = n_channels_;
    const std::size_t n = frames.size() / nch;
    for (std::size_t off = 0; off < n;) {
      const std::size_t m = std::min(block_frames_, n - off);
      std::span<double> block = prepare_block(frames.subspan(off * nch, m * nch));
      (void)windower_->push(block, [&](const dsp::WindowView& v) {
        Decision d;
        decide(v, timing, d);
        on_decision(static_cast<const Decision&>(d));
      });
      off += m;
    }
    return {};
  }
  /// Same, keeping only the last decision (available from last_decision()); returns decisions made.
  Result<std::size_t> process(std::span<const double> frames, const ChunkTiming& timing) noexcept;

  /// The newest decision (zero-initialised before the first).
  const Decision& last_decision() const noexcept;

  /// The supervisor hook: the command made from `d` left at `sent_ns` (same clock as arrival stamps);
  /// adds sent_ns - d.last_sample_arrival_ns to end_to_end(). No allocation.
  void record_command_sent(const Decision& d, std::int64_t sent_ns) noexcept;

  const DurationHistogram& compute_time() const noexcept;
  const DurationHistogram& latency() const noexcept;
  const DurationHistogram& end_to_end() const noexcept;
  const PipelineStats& stats() const noexcept;

  /// Back to the state after create(): filter state, window history, votes, counters, histograms.
  void reset() noexcept;

 private:
  struct Impl;
  StreamingPipeline() = default;
  Status begin_chunk(std::size_t values, const ChunkTiming& timing) noexcept;
  std::span<double> prepare_block(std::span<const double> in) noexcept;
  void decide(const dsp::WindowView& v, const ChunkTiming& timing, Decision& d) noexcept;

  std::unique_ptr<Impl> impl_;
  // Kept outside Impl so the template above can reach them.
  std::optional<dsp::StreamingWindower> windower_;
  std::size_t n_channels_ = 1;
  std::size_t block_frames_ = 1;
};

/// The offline path over a whole channel-major signal ([n_channels x n_samples], a Recording's layout,
/// after choosing the channels): same filter, windows at dsp::window_starts, same features (the context
/// clipped at sample 0), classifier and post-processing. Window end times are t0_s + (start + window_len - 1) / rate; arrival/emit stamps
/// are 0. Allocates (offline use). Errors as create(), plus mismatch on a size problem.
Result<std::vector<Decision>> decide_offline(const PipelineSpec& spec, models::Classifier& classifier,
                                             std::span<const double> channel_major, std::size_t n_samples,
                                             double t0_s = 0.0);

}  // namespace myoexo::realtime
