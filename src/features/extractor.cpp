// FeatureExtractor (per-window, allocation-free after create) and extract_features (whole recording).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dsp/windowing.hpp"
#include "features/features.hpp"
#include "features/internal.hpp"

namespace myoexo::features {

struct FeatureExtractor::Impl {
  FeatureSpec spec;
  std::size_t n_channels = 0;
  std::size_t window_len = 0;
  std::vector<ColumnDef> columns;
  std::vector<std::string> names;
  bool need_hjorth = false, need_ar = false, need_spectral = false, need_tdpsd = false;
  std::unique_ptr<dsp::RealFft> fft;   // only when a spectral feature is requested
  std::vector<double> psd;             // window_len/2 + 1
  std::vector<double> ar_coeffs;       // ar_order
  std::vector<double> ar_scratch;      // 2*ar_order + 1
  std::vector<double> tdpsd_scratch;   // window_len
  std::size_t nonfinite_windows = 0;
  std::size_t nonfinite_samples = 0;

  Impl() = default;
  Impl(const Impl& o)
      : spec(o.spec), n_channels(o.n_channels), window_len(o.window_len), columns(o.columns), names(o.names),
        need_hjorth(o.need_hjorth), need_ar(o.need_ar), need_spectral(o.need_spectral),
        need_tdpsd(o.need_tdpsd), fft(o.fft ? std::make_unique<dsp::RealFft>(o.fft->size()) : nullptr),
        psd(o.psd), ar_coeffs(o.ar_coeffs), ar_scratch(o.ar_scratch), tdpsd_scratch(o.tdpsd_scratch),
        nonfinite_windows(o.nonfinite_windows), nonfinite_samples(o.nonfinite_samples) {}

  // Writes the features of one channel window into out[0..columns.size()).
  void compute_channel(std::span<const double> x, double* out) noexcept {
    const FeatureThresholds& th = spec.thresholds;
    Hjorth hjorth;
    SpectralFeatures spectral;
    Tdpsd tdpsd;
    // Shared work is done once per channel, and only if a requested column needs it.
    if (need_hjorth) hjorth = compute_hjorth(x);
    if (need_ar) compute_ar(x, ar_coeffs, ar_scratch);
    if (need_spectral) {
      compute_periodogram(x, spec.sample_rate_hz, *fft, psd);
      spectral = compute_spectral_features(psd, spec.sample_rate_hz, window_len);
    }
    if (need_tdpsd) tdpsd = compute_tdpsd(x, tdpsd_scratch);
    for (std::size_t f = 0; f < columns.size(); ++f) {
      double v = 0.0;
      switch (columns[f].id) {
        case FeatureId::mav: v = compute_mav(x); break;
        case FeatureId::rms: v = compute_rms(x); break;
        case FeatureId::var: v = compute_var(x); break;
        case FeatureId::iav: v = compute_iav(x); break;
        case FeatureId::wl: v = compute_wl(x); break;
        case FeatureId::zc: v = compute_zc(x, th.zc); break;
        case FeatureId::ssc: v = compute_ssc(x, th.ssc); break;
        case FeatureId::wamp: v = compute_wamp(x, th.wamp); break;
        case FeatureId::log: v = compute_log(x); break;
        case FeatureId::dasdv: v = compute_dasdv(x); break;
        case FeatureId::skew: v = compute_skew(x); break;
        case FeatureId::kurt: v = compute_kurt(x); break;
        case FeatureId::ha: v = hjorth.activity; break;
        case FeatureId::hm: v = hjorth.mobility; break;
        case FeatureId::hc: v = hjorth.complexity; break;
        case FeatureId::ar: v = ar_coeffs[static_cast<std::size_t>(columns[f].ar_index)]; break;
        case FeatureId::mnf: v = spectral.mnf_hz; break;
        case FeatureId::mdf: v = spectral.mdf_hz; break;
        case FeatureId::tp: v = spectral.tp; break;
        case FeatureId::pkf: v = spectral.pkf_hz; break;
        case FeatureId::m0: v = tdpsd.m0; break;
        case FeatureId::m2: v = tdpsd.m2; break;
        case FeatureId::m4: v = tdpsd.m4; break;
        case FeatureId::sparsi: v = tdpsd.sparsi; break;
        case FeatureId::irf: v = tdpsd.irf; break;
        case FeatureId::wlf: v = tdpsd.wlf; break;
      }
      out[f] = v;
    }
  }
};

namespace {

Status validate_spec(const FeatureSpec& spec) {
  auto bad = [](const std::string& what) { return make_error(ErrorCode::invalid_argument, what); };
  const auto& t = spec.thresholds;
  for (auto [name, v] : {std::pair{"zc", t.zc}, std::pair{"ssc", t.ssc}, std::pair{"wamp", t.wamp}})
    if (!std::isfinite(v) || v < 0.0)
      return bad(std::string(name) + " threshold must be finite and >= 0, got " + std::to_string(v));
  if (spec.ar_order < 1 || spec.ar_order > kMaxArOrder)
    return bad("ar_order must be in 1.." + std::to_string(kMaxArOrder) + ", got " + std::to_string(spec.ar_order));
  if (!std::isfinite(spec.sample_rate_hz) || spec.sample_rate_hz < 0.0)
    return bad("sample_rate_hz must be finite and >= 0, got " + std::to_string(spec.sample_rate_hz));
  return {};
}

}  // namespace

FeatureExtractor::FeatureExtractor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureExtractor::FeatureExtractor(const FeatureExtractor& other)
    : impl_(std::make_unique<Impl>(*other.impl_)) {}
FeatureExtractor& FeatureExtractor::operator=(const FeatureExtractor& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
FeatureExtractor& FeatureExtractor::operator=(FeatureExtractor&&) noexcept = default;
FeatureExtractor::~FeatureExtractor() = default;

Result<FeatureExtractor> FeatureExtractor::create(const FeatureSpec& spec, std::size_t n_channels,
                                                  std::size_t window_len) {
  if (Status s = validate_spec(spec); !s) return s.error();
  if (n_channels == 0) return make_error(ErrorCode::invalid_argument, "n_channels must be >= 1");
  if (window_len < 3)
    return make_error(ErrorCode::invalid_argument,
                      "window_len must be >= 3 samples (features use second differences), got " +
                          std::to_string(window_len));
  auto expanded = expand_feature_names(spec.names, spec.ar_order);
  if (!expanded) return expanded.error();

  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  impl->n_channels = n_channels;
  impl->window_len = window_len;
  impl->names = std::move(expanded.value());
  for (const auto& name : impl->names) {
    auto col = parse_feature_name(name, spec.ar_order);
    if (!col) return make_error(ErrorCode::invalid_argument, "unknown feature '" + name + "'");
    switch (col->id) {
      case FeatureId::ha: case FeatureId::hm: case FeatureId::hc: impl->need_hjorth = true; break;
      case FeatureId::ar: impl->need_ar = true; break;
      case FeatureId::mnf: case FeatureId::mdf: case FeatureId::tp: case FeatureId::pkf:
        impl->need_spectral = true;
        break;
      case FeatureId::m0: case FeatureId::m2: case FeatureId::m4: case FeatureId::sparsi: case FeatureId::irf:
      case FeatureId::wlf:
        impl->need_tdpsd = true;
        break;
      default: break;
    }
    impl->columns.push_back(*col);
  }
  if (impl->need_spectral && !(spec.sample_rate_hz > 0.0))
    return make_error(ErrorCode::invalid_argument,
                      "spectral features (MNF, MDF, TP, PKF) need sample_rate_hz > 0");
  if (impl->need_ar && window_len <= static_cast<std::size_t>(spec.ar_order))
    return make_error(ErrorCode::invalid_argument, "window_len (" + std::to_string(window_len) +
                                                       ") must exceed ar_order (" + std::to_string(spec.ar_order) + ")");
  // Everything compute() touches is allocated here.
  if (impl->need_spectral) {
    impl->fft = std::make_unique<dsp::RealFft>(window_len);
    impl->psd.assign(window_len / 2 + 1, 0.0);
  }
  if (impl->need_ar) {
    impl->ar_coeffs.assign(static_cast<std::size_t>(spec.ar_order), 0.0);
    impl->ar_scratch.assign(2 * static_cast<std::size_t>(spec.ar_order) + 1, 0.0);
  }
  if (impl->need_tdpsd) impl->tdpsd_scratch.assign(window_len, 0.0);
  return FeatureExtractor(std::move(impl));
}

std::size_t FeatureExtractor::n_channels() const noexcept { return impl_->n_channels; }
std::size_t FeatureExtractor::window_len() const noexcept { return impl_->window_len; }
std::size_t FeatureExtractor::n_features() const noexcept { return impl_->columns.size(); }
std::size_t FeatureExtractor::n_columns() const noexcept { return impl_->n_channels * impl_->columns.size(); }
const std::vector<std::string>& FeatureExtractor::feature_names() const noexcept { return impl_->names; }
const FeatureSpec& FeatureExtractor::spec() const noexcept { return impl_->spec; }
std::size_t FeatureExtractor::nonfinite_windows() const noexcept { return impl_->nonfinite_windows; }
std::size_t FeatureExtractor::nonfinite_samples() const noexcept { return impl_->nonfinite_samples; }
void FeatureExtractor::reset() noexcept {
  impl_->nonfinite_windows = 0;
  impl_->nonfinite_samples = 0;
}

std::vector<std::string> FeatureExtractor::column_names(std::span<const std::string> channel_names) const {
  std::vector<std::string> cols;
  cols.reserve(n_columns());
  for (std::size_t c = 0; c < impl_->n_channels; ++c) {
    const std::string ch = c < channel_names.size() ? channel_names[c] : "ch" + std::to_string(c);
    for (const auto& f : impl_->names) cols.push_back(ch + "_" + f);
  }
  return cols;
}

ComputeStatus FeatureExtractor::compute(const double* window, std::size_t channel_stride, double* row) noexcept {
  Impl& m = *impl_;
  const std::size_t nf = m.columns.size();
  std::size_t bad_samples = 0;
  for (std::size_t c = 0; c < m.n_channels; ++c) {
    std::span<const double> x(window + c * channel_stride, m.window_len);
    std::size_t bad = 0;
    for (double v : x) bad += static_cast<std::size_t>(!std::isfinite(v));
    double* out = row + c * nf;
    if (bad != 0) {
      // NaN, not a number that looks valid: downstream (classifier, supervisor) must see the gap.
      std::fill(out, out + nf, std::numeric_limits<double>::quiet_NaN());
      bad_samples += bad;
      continue;
    }
    m.compute_channel(x, out);
  }
  if (bad_samples == 0) return ComputeStatus::ok;
  ++m.nonfinite_windows;
  m.nonfinite_samples += bad_samples;
  return ComputeStatus::nonfinite_input;
}

bool FeatureExtractor::compute(std::span<const double> window, std::size_t channel_stride, std::span<double> row,
                               ComputeStatus& status) noexcept {
  const std::size_t need = (impl_->n_channels - 1) * channel_stride + impl_->window_len;
  if (window.size() < need || row.size() < n_columns() || (impl_->n_channels > 1 && channel_stride < impl_->window_len))
    return false;
  status = compute(window.data(), channel_stride, row.data());
  return true;
}

Result<FeatureMatrix> extract_features(const io::Recording& rec, const FeatureSpec& spec, std::size_t window_len,
                                       std::size_t increment, std::span<const std::string> channels) {
  const std::string src = rec.source_path.string();
  if (increment == 0) return make_error(ErrorCode::invalid_argument, src, 0, "increment must be >= 1 sample");
  if (rec.samples.size() != rec.n_channels() * rec.n_samples)
    return make_error(ErrorCode::mismatch, src, 0, "recording holds " + std::to_string(rec.samples.size()) +
                                                       " samples, expected channels x n_samples");
  // Which channels, as indices into the recording.
  std::vector<std::size_t> picked;
  if (channels.empty()) {
    for (std::size_t c = 0; c < rec.n_channels(); ++c) picked.push_back(c);
  } else {
    for (const auto& name : channels) {
      const int idx = rec.channel_index(name);
      if (idx < 0) return make_error(ErrorCode::invalid_argument, src, 0, "no channel named '" + name + "'");
      picked.push_back(static_cast<std::size_t>(idx));
    }
  }
  if (picked.empty()) return make_error(ErrorCode::empty, src, 0, "recording has no channels");

  FeatureSpec used = spec;
  if (used.sample_rate_hz == 0.0) {
    used.sample_rate_hz = rec.sample_rate_hz;
  } else if (rec.sample_rate_hz > 0.0 && std::abs(used.sample_rate_hz - rec.sample_rate_hz) > 1e-9 * rec.sample_rate_hz) {
    return make_error(ErrorCode::mismatch, src, 0,
                      "feature spec is for " + std::to_string(used.sample_rate_hz) + " Hz, recording is " +
                          std::to_string(rec.sample_rate_hz) + " Hz");
  }
  auto ex = FeatureExtractor::create(used, picked.size(), window_len);
  if (!ex) {
    Error e = ex.error();
    e.file = src;
    return e;
  }
  if (rec.n_samples < window_len)
    return make_error(ErrorCode::empty, src, 0,
                      "recording has " + std::to_string(rec.n_samples) + " samples, fewer than one window of " +
                          std::to_string(window_len));

  // The extractor reads channels at a fixed stride; a subset or reordering is gathered once here.
  bool identity = picked.size() == rec.n_channels();
  for (std::size_t i = 0; identity && i < picked.size(); ++i) identity = picked[i] == i;
  std::vector<double> gathered;
  const double* base = rec.samples.data();
  if (!identity) {
    gathered.resize(picked.size() * rec.n_samples);
    for (std::size_t i = 0; i < picked.size(); ++i) {
      auto ch = rec.channel(picked[i]);
      std::copy(ch.begin(), ch.end(), gathered.begin() + static_cast<std::ptrdiff_t>(i * rec.n_samples));
    }
    base = gathered.data();
  }

  FeatureMatrix fm;
  std::vector<std::string> names;
  for (std::size_t idx : picked) names.push_back(rec.channel_names[idx]);
  fm.column_names = ex->column_names(names);
  fm.window_starts = dsp::window_starts(rec.n_samples, window_len, increment);
  fm.values.resize(fm.n_rows() * fm.n_cols());
  fm.sample_rate_hz = used.sample_rate_hz;
  fm.window_len = window_len;
  fm.increment = increment;
  for (std::size_t r = 0; r < fm.n_rows(); ++r)
    (void)ex->compute(base + fm.window_starts[r], rec.n_samples, fm.values.data() + r * fm.n_cols());
  fm.nonfinite_windows = ex->nonfinite_windows();
  fm.nonfinite_samples = ex->nonfinite_samples();
  return fm;
}

}  // namespace myoexo::features
