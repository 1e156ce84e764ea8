// Shared helpers for the realtime tests: a synthetic two-class EMG recording and an LDA trained on it.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dsp/windowing.hpp"
#include "features/features.hpp"
#include "io/recording.hpp"
#include "models/lda.hpp"
#include "realtime/pipeline.hpp"

namespace myoexo::realtime::test {

/// n_channels of 1 kHz noise whose amplitude alternates every `segment_s` between "rest" (small) and
/// "gait" (large, channel-dependent), labelled per sample (0 = rest, 1 = gait). Deterministic.
inline io::Recording make_two_class_recording(double duration_s, std::size_t n_channels, std::uint32_t seed,
                                              double segment_s = 1.5) {
  io::Recording rec;
  rec.sample_rate_hz = 1000.0;
  rec.n_samples = static_cast<std::size_t>(duration_s * rec.sample_rate_hz);
  for (std::size_t c = 0; c < n_channels; ++c) {
    rec.channel_names.push_back("ch" + std::to_string(c));
    rec.channel_units.push_back("mV");
  }
  rec.samples.resize(n_channels * rec.n_samples);
  rec.sample_labels.resize(rec.n_samples);
  rec.label_names = {"rest", "gait"};
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (std::size_t i = 0; i < rec.n_samples; ++i) {
    const int label = static_cast<int>(std::fmod(static_cast<double>(i) / 1000.0, 2 * segment_s) >= segment_s);
    rec.sample_labels[i] = label;
    for (std::size_t c = 0; c < n_channels; ++c) {
      const double amp = label ? 0.2 + 0.05 * static_cast<double>(c) : 0.02;
      rec.samples[c * rec.n_samples + i] = amp * noise(gen) + 0.01 * std::sin(0.05 * static_cast<double>(i));
    }
  }
  return rec;
}

/// LDA on HTD features of `rec` (windows window_len/increment, label of the window's last sample).
inline std::unique_ptr<models::LdaClassifier> train_lda(const io::Recording& rec, std::size_t window_len,
                                                        std::size_t increment) {
  features::FeatureSpec spec;
  spec.names = {"MAV", "WL", "RMS"};
  auto fm = features::extract_features(rec, spec, window_len, increment);
  if (!fm) return nullptr;
  std::vector<int> labels;
  for (std::size_t s : fm->window_starts) labels.push_back(rec.sample_labels[s + window_len - 1]);
  auto lda = models::LdaClassifier::fit(fm->values.data(), fm->n_rows(), fm->n_cols(), labels, {"rest", "gait"},
                                        fm->column_names);
  if (!lda) return nullptr;
  return std::make_unique<models::LdaClassifier>(std::move(*lda));
}

/// LDA on the "lda_context" rows of `rec` (features::ContextFeatureExtractor over the raw samples, context
/// clipped at sample 0), labelled like train_lda. The spec to stream it: make_context_spec.
inline std::unique_ptr<models::LdaClassifier> train_context_lda(const io::Recording& rec, std::size_t window_len,
                                                                std::size_t increment, std::size_t context,
                                                                bool log_amplitude) {
  features::FeatureSpec spec;
  spec.names = {"MAV", "WL", "ZC", "SSC", "RMS", "AR"};
  auto cfx = features::ContextFeatureExtractor::create(spec, rec.n_channels(), window_len, increment, context,
                                                       log_amplitude);
  if (!cfx) return nullptr;
  std::vector<double> x;
  std::vector<int> labels;
  std::vector<double> row(cfx->n_columns());
  for (std::size_t s : dsp::window_starts(rec.n_samples, window_len, increment)) {
    features::ComputeStatus status{};
    if (!cfx->compute(rec.samples.data() + s, rec.n_samples, s, row.data(), status)) return nullptr;
    x.insert(x.end(), row.begin(), row.end());
    labels.push_back(rec.sample_labels[s + window_len - 1]);
  }
  auto lda = models::LdaClassifier::fit(x.data(), labels.size(), row.size(), labels, {"rest", "gait"},
                                        cfx->column_names(rec.channel_names));
  if (!lda) return nullptr;
  return std::make_unique<models::LdaClassifier>(std::move(*lda));
}

/// The spec matching train_lda (band-pass 20-450 Hz, 4th order; MAV WL RMS).
inline PipelineSpec make_spec(std::size_t n_channels, std::size_t window_len, std::size_t increment) {
  PipelineSpec spec;
  spec.sample_rate_hz = 1000.0;
  spec.n_channels = n_channels;
  spec.filter = dsp::design_bandpass(4, 20.0, 450.0, 1000.0).value();
  spec.window_len = window_len;
  spec.increment = increment;
  spec.features.names = {"MAV", "WL", "RMS"};
  spec.post.rejection_threshold = 0.9;
  spec.post.vote_window = 3;
  spec.post.min_dwell = 2;
  return spec;
}

/// make_spec with train_context_lda's features (MAV WL ZC SSC RMS AR1-4) and context.
inline PipelineSpec make_context_spec(std::size_t n_channels, std::size_t window_len, std::size_t increment,
                                      std::size_t context, bool log_amplitude) {
  PipelineSpec spec = make_spec(n_channels, window_len, increment);
  spec.features.names = {"MAV", "WL", "ZC", "SSC", "RMS", "AR"};
  spec.context_samples = context;
  spec.log_amplitude_features = log_amplitude;
  return spec;
}

}  // namespace myoexo::realtime::test
