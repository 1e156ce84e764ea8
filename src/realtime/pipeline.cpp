#include "realtime/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace myoexo::realtime {

namespace {

/// What both paths build from a spec and a classifier.
struct Parts {
  PipelineSpec spec;                                // with features.sample_rate_hz filled in
  std::optional<dsp::SosFilter> filter;
  std::optional<dsp::WaveletDenoiseStream> denoise;
  std::optional<features::ContextFeatureExtractor> extractor;  // empty for window classifiers
  std::optional<IntentPostProcessor> post;
  std::size_t n_inputs = 0;
  std::size_t n_classes = 0;
  std::unique_ptr<models::AngleRegressor> knee;     // the pipeline's own copy of spec.knee_angle
  std::vector<double> knee_window;                  // a window regressor's input
  std::size_t knee_past = 0;                        // samples it reads before the decision window
};

Result<Parts> build_parts(PipelineSpec spec, models::Classifier& clf) {
  if (!(spec.sample_rate_hz > 0) || !std::isfinite(spec.sample_rate_hz))
    return make_error(ErrorCode::invalid_argument, "pipeline: sample_rate_hz must be > 0");
  if (spec.n_channels == 0) return make_error(ErrorCode::invalid_argument, "pipeline: n_channels must be >= 1");
  if (spec.window_len < 3) return make_error(ErrorCode::invalid_argument, "pipeline: window_len must be >= 3");
  if (spec.increment == 0) return make_error(ErrorCode::invalid_argument, "pipeline: increment must be >= 1");
  if (spec.max_block_frames == 0) return make_error(ErrorCode::invalid_argument, "pipeline: max_block_frames must be >= 1");
  Parts p;
  if (spec.filter) {
    if (std::abs(spec.filter->sample_rate_hz - spec.sample_rate_hz) > 1e-9 * spec.sample_rate_hz)
      return make_error(ErrorCode::mismatch, "pipeline: the filter is designed for " +
                                                 std::to_string(spec.filter->sample_rate_hz) + " Hz, the stream is " +
                                                 std::to_string(spec.sample_rate_hz) + " Hz");
    auto f = dsp::SosFilter::create(*spec.filter, spec.n_channels);
    if (!f) return f.error();
    p.filter.emplace(std::move(*f));
  }
  if (spec.denoise) {
    auto w = dsp::WaveletDenoiseStream::create(*spec.denoise, spec.n_channels);
    if (!w) return make_error(w.error().code, "pipeline: " + w.error().message());
    p.denoise.emplace(std::move(*w));
  }
  p.n_classes = clf.n_classes();
  if (p.n_classes == 0) return make_error(ErrorCode::invalid_argument, "pipeline: the classifier has no classes");
  if (clf.input_kind() == models::InputKind::features) {
    if (spec.features.sample_rate_hz == 0.0) spec.features.sample_rate_hz = spec.sample_rate_hz;
    // Every clipped context length gets its extractor here, never on the decision path.
    auto fx = features::ContextFeatureExtractor::create(spec.features, spec.n_channels, spec.window_len,
                                                        spec.increment, spec.context_samples,
                                                        spec.log_amplitude_features);
    if (!fx) return make_error(fx.error().code, "pipeline: " + fx.error().message());
    p.n_inputs = fx->n_columns();
    p.extractor.emplace(std::move(*fx));
  } else {
    const bool window_knee = spec.knee_angle && spec.knee_angle->input_kind() == models::InputKind::windows;
    const std::size_t knee_past =
        window_knee && spec.knee_angle->window_length() > spec.window_len
            ? spec.knee_angle->window_length() - spec.window_len
            : 0;
    if (spec.log_amplitude_features || (spec.context_samples > 0 && spec.context_samples != knee_past))
      return make_error(ErrorCode::invalid_argument,
                        "pipeline: context_samples and log_amplitude_features apply to feature classifiers only "
                        "(a window classifier keeps past samples only for a knee-angle network that reads them)");
    p.n_inputs = spec.n_channels * spec.window_len;
  }
  if (spec.knee_angle) {
    const models::AngleRegressor& k = *spec.knee_angle;
    if (k.input_kind() == models::InputKind::features) {
      if (clf.input_kind() != models::InputKind::features)
        return make_error(ErrorCode::invalid_argument, "pipeline: a feature-row knee-angle regressor (" +
                                                           k.kind_name() + ") needs a feature classifier (it reads "
                                                           "the same feature row)");
      if (k.n_inputs() != p.n_inputs)
        return make_error(ErrorCode::mismatch, "pipeline: the knee-angle regressor takes " +
                                                   std::to_string(k.n_inputs()) + " inputs, the row has " +
                                                   std::to_string(p.n_inputs));
    } else {
      const std::size_t wl = k.window_length();
      if (wl < spec.window_len || k.n_inputs() != spec.n_channels * wl)
        return make_error(ErrorCode::mismatch,
                          "pipeline: the knee-angle network reads " + std::to_string(k.n_inputs()) + " values (" +
                              std::to_string(wl) + " samples per channel); the stream has " +
                              std::to_string(spec.n_channels) + " channels and " + std::to_string(spec.window_len) +
                              "-sample windows");
      p.knee_past = wl - spec.window_len;
      if (p.knee_past > spec.context_samples)
        return make_error(ErrorCode::mismatch, "pipeline: the knee-angle network reads " +
                                                   std::to_string(p.knee_past) + " samples before each window; the "
                                                   "stream keeps " + std::to_string(spec.context_samples));
      p.knee_window.assign(k.n_inputs(), 0.0);
    }
    p.knee = k.clone();
  }
  if (clf.n_inputs() != p.n_inputs)
    return make_error(ErrorCode::mismatch,
                      "pipeline: the classifier takes " + std::to_string(clf.n_inputs()) +
                          " inputs per row, the pipeline makes " + std::to_string(p.n_inputs) +
                          (p.extractor ? " (channels x features x " + std::to_string(p.extractor->n_blocks()) +
                                             " block(s))"
                                       : std::string(" (channels x window_len)")));
  Status r = clf.reserve(1);
  if (!r) return r.error();
  std::vector<control::IntentLabel> intents = spec.class_intents;
  if (intents.empty()) {
    auto m = map_classes_to_intents(clf.class_names());
    if (!m) return m.error();
    intents = std::move(*m);
  }
  if (intents.size() != p.n_classes)
    return make_error(ErrorCode::mismatch, "pipeline: class_intents has " + std::to_string(intents.size()) +
                                               " entries for " + std::to_string(p.n_classes) + " classes");
  auto post = IntentPostProcessor::create(spec.post, intents);
  if (!post) return post.error();
  p.post.emplace(std::move(*post));
  spec.class_intents = std::move(intents);
  p.spec = std::move(spec);
  return p;
}

/// Replaces a non-finite or absurdly large sample (|x| > kMaxSampleMagnitude, see pipeline.hpp) of one
/// channel by its last good value (0 before any). Why the magnitude bound: a finite 1e300 would overflow the
/// IIR state to inf and poison the channel for ever, exactly like a NaN.
inline bool sanitize(double& x, double& last_finite) noexcept {
  if (std::abs(x) <= kMaxSampleMagnitude) {  // false for NaN too
    last_finite = x;
    return false;
  }
  x = last_finite;
  return true;
}

inline bool all_finite(const double* x, std::size_t n) noexcept {
  // Sum of x * 0 is NaN iff some x is NaN or infinite: one branch-free pass the compiler vectorises.
  double acc = 0.0;
  for (std::size_t i = 0; i < n; ++i) acc += x[i] * 0.0;
  return acc == 0.0;
}

/// Classifies one window and post-processes it: the part both paths share.
/// Fault path (why it looks like this): a window holding replaced samples (`nonfinite`) is never classified,
/// and neither is a feature row / window whose values are not all finite (checked here, before the
/// classifier): the classifier would only report the bad input through an error Status, whose message is a
/// heap-allocated string, once per decision for as long as a NaN burst lasts. Both become a rejection
/// (rest) flagged nonfinite_input, counted, with no allocation and no classifier compute.
/// `window` is the window's first sample of channel 0; with a context block, window_start_sample (= the
/// samples since the stream/recording start) samples before it are readable at the same stride.
void classify_window(Parts& p, models::Classifier& clf, const double* window, std::size_t channel_stride,
                     std::size_t window_start_sample, bool nonfinite, std::span<double> row,
                     std::span<double> window_scratch, std::span<double> probs, Decision& d,
                     PipelineStats& stats) noexcept {
  bool valid = !nonfinite;
  if (valid) {
    const double* input = row.data();
    if (p.extractor) {
      features::ComputeStatus fs = features::ComputeStatus::ok;
      // Cannot fail: window starts are k * increment, the lengths create() prepared. A NaN would be caught
      // by the finiteness check below.
      if (!p.extractor->compute(window, channel_stride, window_start_sample, row.data(), fs))
        std::fill(row.begin(), row.end(), std::numeric_limits<double>::quiet_NaN());
    } else {
      for (std::size_t c = 0; c < p.spec.n_channels; ++c)
        std::copy_n(window + c * channel_stride, p.spec.window_len, window_scratch.data() + c * p.spec.window_len);
      input = window_scratch.data();
    }
    if (!all_finite(input, p.n_inputs)) {
      ++stats.nonfinite_classifier_inputs;
      nonfinite = true;
      valid = false;
    }
    // The knee angle, from the same row (ridge) or from the window and its past (a network); the estimate is
    // checked downstream (the proportional follower).
    if (valid && p.knee) {
      if (p.knee->input_kind() == models::InputKind::features) {
        d.knee_angle_deg = p.knee->estimate({input, p.n_inputs});
      } else {
        const std::size_t wl = p.spec.window_len, past = p.knee_past, have = std::min(past, window_start_sample);
        double* dst = p.knee_window.data();
        for (std::size_t c = 0; c < p.spec.n_channels; ++c, dst += past + wl) {
          std::fill(dst, dst + (past - have), 0.0);  // before the stream start: zeros, as offline
          std::copy_n(window + c * channel_stride - have, have + wl, dst + (past - have));
        }
        if (all_finite(p.knee_window.data(), p.knee_window.size()))
          d.knee_angle_deg = p.knee->estimate(p.knee_window);
      }
    }
    if (!valid) {
      // not classified (counted above)
    } else if (Status s = clf.predict_proba(input, 1, p.n_inputs, probs.data()); !s) {
      ++stats.classifier_errors;
      valid = false;
    } else {
      std::size_t best = 0;
      for (std::size_t k = 1; k < probs.size(); ++k)
        if (probs[k] > probs[best]) best = k;
      d.raw_class = static_cast<int>(best);
      d.raw_probability = probs[best];
      d.n_probabilities = static_cast<std::uint8_t>(std::min(probs.size(), kMaxDecisionClasses));
      for (std::size_t k = 0; k < d.n_probabilities; ++k) d.probabilities[k] = static_cast<float>(probs[k]);
    }
  }
  const PostDecision pd = p.post->step(probs, valid);
  d.intent.label = pd.label;
  d.intent.confidence = pd.confidence;
  d.rejected = pd.rejected;
  d.nonfinite_input = nonfinite;
  ++stats.decisions;
  if (pd.rejected) ++stats.rejected;
  if (nonfinite) ++stats.nonfinite_windows;
}

}  // namespace

struct StreamingPipeline::Impl {
  Parts parts;
  std::unique_ptr<models::Classifier> clf;
  std::vector<double> block;           // [block_frames x channels] sanitized + filtered
  std::vector<double> last_finite;     // per channel
  std::vector<double> row, window_scratch, probs;
  std::uint64_t total_frames = 0;      // frames pushed since reset (== windower samples_seen)
  std::int64_t last_bad = -1;          // global index of the newest replaced sample pushed so far
  std::vector<std::int64_t> newest_bad_upto;  // per frame of the current block: newest replaced sample <= it
  // Context history (context_samples > 0): the last history_len filtered frames per channel in a mirrored
  // ring ([channels x 2*history_len], each frame written twice) so any span of <= history_len frames is
  // contiguous. history_len = window_len + context + block_frames: the whole current block is written before
  // the windower walks it, and a window ending in this block still finds its full context.
  std::vector<double> history;
  std::size_t history_len = 0;
  std::uint64_t block_g0 = 0;          // global index of the current block's first frame
  bool have_time = false;
  double t_base_s = 0.0;
  std::uint64_t g_base = 0;
  std::uint64_t chunk_g0 = 0;
  std::int64_t block_start_ns = 0;
  Decision last;
  DurationHistogram compute, latency, end_to_end;
  PipelineStats stats;
};

Result<StreamingPipeline> StreamingPipeline::create(PipelineSpec spec, std::unique_ptr<models::Classifier> classifier) {
  if (!classifier) return make_error(ErrorCode::invalid_argument, "pipeline: no classifier");
  auto parts = build_parts(std::move(spec), *classifier);
  if (!parts) return parts.error();
  auto win = dsp::StreamingWindower::create(parts->spec.n_channels, parts->spec.window_len, parts->spec.increment);
  if (!win) return win.error();
  StreamingPipeline p;
  p.impl_ = std::make_unique<Impl>();
  Impl& im = *p.impl_;
  im.parts = std::move(*parts);
  im.clf = std::move(classifier);
  const std::size_t nch = im.parts.spec.n_channels;
  p.n_channels_ = nch;
  p.block_frames_ = im.parts.spec.max_block_frames;
  p.windower_.emplace(std::move(*win));
  im.block.assign(p.block_frames_ * nch, 0.0);
  im.newest_bad_upto.assign(p.block_frames_, -1);
  im.last_finite.assign(nch, 0.0);
  im.row.assign(im.parts.extractor ? im.parts.n_inputs : 0, 0.0);
  if (im.parts.spec.context_samples > 0) {
    im.history_len = im.parts.spec.window_len + im.parts.spec.context_samples + p.block_frames_;
    im.history.assign(nch * 2 * im.history_len, 0.0);
  }
  im.window_scratch.assign(im.parts.extractor ? 0 : nch * im.parts.spec.window_len, 0.0);
  im.probs.assign(im.parts.n_classes, 0.0);
  return p;
}

StreamingPipeline::StreamingPipeline(StreamingPipeline&&) noexcept = default;
StreamingPipeline& StreamingPipeline::operator=(StreamingPipeline&&) noexcept = default;
StreamingPipeline::~StreamingPipeline() = default;

const PipelineSpec& StreamingPipeline::spec() const noexcept { return impl_->parts.spec; }
models::Classifier& StreamingPipeline::classifier() noexcept { return *impl_->clf; }
const Decision& StreamingPipeline::last_decision() const noexcept { return impl_->last; }
const DurationHistogram& StreamingPipeline::compute_time() const noexcept { return impl_->compute; }
const DurationHistogram& StreamingPipeline::latency() const noexcept { return impl_->latency; }
const DurationHistogram& StreamingPipeline::end_to_end() const noexcept { return impl_->end_to_end; }
const PipelineStats& StreamingPipeline::stats() const noexcept { return impl_->stats; }

void StreamingPipeline::record_command_sent(const Decision& d, std::int64_t sent_ns) noexcept {
  impl_->end_to_end.record_ns(sent_ns - d.last_sample_arrival_ns);
}

void StreamingPipeline::reset() noexcept {
  Impl& im = *impl_;
  if (im.parts.filter) im.parts.filter->reset();
  if (im.parts.denoise) im.parts.denoise->reset();
  if (im.parts.extractor) im.parts.extractor->reset();
  im.parts.post->reset();
  windower_->reset();
  std::fill(im.last_finite.begin(), im.last_finite.end(), 0.0);
  im.total_frames = 0;
  im.last_bad = -1;
  im.have_time = false;
  im.last = Decision{};
  im.compute.reset();
  im.latency.reset();
  im.end_to_end.reset();
  im.stats = PipelineStats{};
}

Status StreamingPipeline::begin_chunk(std::size_t values, const ChunkTiming& timing) noexcept {
  Impl& im = *impl_;
  if (values % n_channels_ != 0)
    return make_error(ErrorCode::mismatch, "pipeline: chunk is not a whole number of frames");
  const std::size_t n = values / n_channels_;
  if (n == 0) return {};
  const double fs = im.parts.spec.sample_rate_hz;
  if (!im.have_time) {
    im.have_time = true;
    im.t_base_s = timing.first_sample_s;
    im.g_base = im.total_frames;
  } else {
    // Stream time this chunk should start at if nothing was lost.
    const double expected = im.t_base_s + static_cast<double>(im.total_frames - im.g_base) / fs;
    const double diff = timing.first_sample_s - expected;
    if (std::abs(diff) > 0.5 / fs) {
      if (diff > 0) ++im.stats.gaps; else ++im.stats.timestamp_regressions;
      im.t_base_s = timing.first_sample_s;
      im.g_base = im.total_frames;
    }
  }
  im.chunk_g0 = im.total_frames;
  im.stats.frames += n;
  return {};
}

std::span<double> StreamingPipeline::prepare_block(std::span<const double> in) noexcept {
  Impl& im = *impl_;
  im.block_start_ns = steady_now_ns();
  const std::size_t nch = n_channels_;
  const std::size_t m = in.size() / nch;
  std::span<double> block(im.block.data(), in.size());
  std::copy(in.begin(), in.end(), block.begin());
  im.block_g0 = im.total_frames;
  // Windows are emitted while the windower walks this block, so "was a sample in this window replaced?"
  // needs the newest replaced sample up to each frame, not up to the block's end.
  for (std::size_t j = 0; j < m; ++j) {
    bool bad = false;
    for (std::size_t c = 0; c < nch; ++c) bad |= sanitize(block[j * nch + c], im.last_finite[c]);
    if (bad) {
      im.last_bad = static_cast<std::int64_t>(im.total_frames + j);
      for (std::size_t c = 0; c < nch; ++c) im.stats.nonfinite_samples += !(std::abs(in[j * nch + c]) <= kMaxSampleMagnitude);
    }
    im.newest_bad_upto[j] = im.last_bad;
  }
  if (im.parts.filter) (void)im.parts.filter->process(block, block);
  if (im.parts.denoise) (void)im.parts.denoise->process(block, block);
  if (im.history_len > 0) {
    const std::size_t hl = im.history_len;
    double* h = im.history.data();
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t pos = static_cast<std::size_t>((im.total_frames + j) % hl);
      for (std::size_t c = 0; c < nch; ++c) h[c * 2 * hl + pos] = h[c * 2 * hl + pos + hl] = block[j * nch + c];
    }
  }
  im.total_frames += m;
  return block;
}

void StreamingPipeline::decide(const dsp::WindowView& v, const ChunkTiming& timing, Decision& d) noexcept {
  Impl& im = *impl_;
  const std::size_t len = v.length();
  const std::uint64_t g_last = v.start_sample() + len - 1;
  const std::size_t stride =
      n_channels_ > 1 ? static_cast<std::size_t>(v.channel(1).data() - v.channel(0).data()) : len;
  const std::size_t start = v.start_sample();
  // The classifier input starts `before` samples ahead of the window (its context, clipped at stream start).
  const std::size_t before = std::min(im.parts.spec.context_samples, start);
  const std::int64_t newest_bad = im.newest_bad_upto[static_cast<std::size_t>(g_last - im.block_g0)];
  const bool nonfinite = newest_bad >= static_cast<std::int64_t>(start - before);
  d.window_index = v.index();
  d.window_start_sample = start;
  const double* window = v.channel(0).data();
  std::size_t window_stride = stride;
  if (im.history_len > 0) {
    window = im.history.data() + (start - before) % im.history_len + before;
    window_stride = 2 * im.history_len;
  }
  classify_window(im.parts, *im.clf, window, window_stride, start, nonfinite, im.row, im.window_scratch, im.probs,
                  d, im.stats);
  d.intent.window_end_s = im.t_base_s + static_cast<double>(g_last - im.g_base) / im.parts.spec.sample_rate_hz;
  (void)timing;
  d.last_sample_arrival_ns = timing.arrival_ns;
  const std::int64_t now = steady_now_ns();
  d.emit_ns = now;
  d.compute_ns = now - im.block_start_ns;
  d.intent.emit_s = static_cast<double>(im.parts.spec.clock ? im.parts.spec.clock() : now) * 1e-9;
  im.compute.record_ns(d.compute_ns);
  im.latency.record_ns(now - timing.arrival_ns);
  im.last = d;
}

Result<std::size_t> StreamingPipeline::process(std::span<const double> frames, const ChunkTiming& timing) noexcept {
  std::size_t n = 0;
  Status s = process(frames, timing, [&](const Decision&) { ++n; });
  if (!s) return s.error();
  return n;
}

Result<std::vector<Decision>> decide_offline(const PipelineSpec& spec, models::Classifier& classifier,
                                             std::span<const double> channel_major, std::size_t n_samples,
                                             double t0_s) {
  auto parts = build_parts(spec, classifier);
  if (!parts) return parts.error();
  Parts& p = *parts;
  const std::size_t nch = p.spec.n_channels;
  if (channel_major.size() != nch * n_samples)
    return make_error(ErrorCode::mismatch, "decide_offline: signal has " + std::to_string(channel_major.size()) +
                                               " values, expected channels x n_samples = " +
                                               std::to_string(nch * n_samples));
  std::vector<double> x(channel_major.begin(), channel_major.end());
  // Same sanitising as the stream, per channel; remember where replaced samples are.
  std::vector<std::int64_t> last_bad_upto(n_samples, -1);  // newest replaced sample index <= i (any channel)
  std::vector<char> bad(n_samples, 0);
  for (std::size_t c = 0; c < nch; ++c) {
    double last = 0.0;
    for (std::size_t i = 0; i < n_samples; ++i)
      if (sanitize(x[c * n_samples + i], last)) bad[i] = 1;
  }
  std::int64_t lb = -1;
  for (std::size_t i = 0; i < n_samples; ++i) {
    if (bad[i]) lb = static_cast<std::int64_t>(i);
    last_bad_upto[i] = lb;
  }
  if (p.filter) {
    Status s = p.filter->process_channel_major(x, x, n_samples);
    if (!s) return s.error();
  }
  if (p.denoise) {
    Status s = p.denoise->process_channel_major(x, x, n_samples);
    if (!s) return s.error();
  }
  std::vector<double> row(p.extractor ? p.n_inputs : 0), scratch(p.extractor ? 0 : nch * p.spec.window_len),
      probs(p.n_classes);
  std::vector<Decision> out;
  PipelineStats stats;
  const auto starts = dsp::window_starts(n_samples, p.spec.window_len, p.spec.increment);
  out.reserve(starts.size());
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t s0 = starts[k];
    const std::size_t last = s0 + p.spec.window_len - 1;
    Decision d;
    d.window_index = k;
    d.window_start_sample = s0;
    const std::size_t before = std::min(p.spec.context_samples, s0);
    const bool nonfinite = last_bad_upto[last] >= static_cast<std::int64_t>(s0 - before);
    classify_window(p, classifier, x.data() + s0, n_samples, s0, nonfinite, row, scratch, probs, d, stats);
    d.intent.window_end_s = t0_s + static_cast<double>(last) / p.spec.sample_rate_hz;
    out.push_back(d);
  }
  return out;
}

}  // namespace myoexo::realtime
