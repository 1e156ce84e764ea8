// Shared by the features tests: the NumPy/SciPy reference windows and values written by
// scripts/fixtures_features.py, and the tolerance measure the tests state their limits in.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/test_data.hpp"

namespace myoexo::test {

/// Column order of features_reference.npy (= FEATURES in scripts/fixtures_features.py = the ALL group).
inline const std::vector<std::string>& reference_feature_order() {
  static const std::vector<std::string> kOrder{
      "MAV", "RMS", "VAR", "IAV", "WL", "ZC", "SSC", "WAMP", "LOG", "DASDV", "SKEW", "KURT", "HA", "HM", "HC",
      "AR1", "AR2", "AR3", "AR4", "MNF", "MDF", "TP", "PKF", "M0", "M2", "M4", "SPARSI", "IRF", "WLF"};
  return kOrder;
}

struct FeatureFixture {
  NpyArray windows, reference, thr0, psd, params, real_rows;
  std::size_t n_windows = 0, n_channels = 0, window_len = 0, n_features = 0, n_bins = 0, n_real = 0;
  double fs_hz = 0, zc = 0, ssc = 0, wamp = 0;
  int ar_order = 0;

  static FeatureFixture load() {
    FeatureFixture f;
    const auto dir = fixture_dir();
    f.windows = load_npy(dir / "features_windows.npy");
    f.reference = load_npy(dir / "features_reference.npy");
    f.thr0 = load_npy(dir / "features_counts_thr0.npy");
    f.psd = load_npy(dir / "features_periodogram.npy");
    f.params = load_npy(dir / "features_params.npy");
    f.real_rows = load_npy(dir / "features_real_rows.npy");
    f.n_windows = f.windows.shape.at(0);
    f.n_channels = f.windows.shape.at(1);
    f.window_len = f.windows.shape.at(2);
    f.n_features = f.reference.shape.at(2);
    f.n_bins = f.psd.shape.at(2);
    f.fs_hz = f.params[0];
    f.zc = f.params[1];
    f.ssc = f.params[2];
    f.wamp = f.params[3];
    f.ar_order = static_cast<int>(f.params[4]);
    f.n_real = static_cast<std::size_t>(f.params[5]);
    return f;
  }

  std::span<const double> window(std::size_t w, std::size_t c) const {
    return {windows.data.data() + (w * n_channels + c) * window_len, window_len};
  }
  /// The first sample of window w, channel 0 (channels follow at stride window_len).
  const double* window_block(std::size_t w) const { return windows.data.data() + w * n_channels * window_len; }
  double ref(std::size_t w, std::size_t c, std::string_view name) const {
    const auto& order = reference_feature_order();
    const auto k = static_cast<std::size_t>(std::find(order.begin(), order.end(), name) - order.begin());
    return reference[(w * n_channels + c) * n_features + k];
  }
  std::span<const double> ref_psd(std::size_t w, std::size_t c) const {
    return {psd.data.data() + (w * n_channels + c) * n_bins, n_bins};
  }
  /// Largest |reference| of one feature over all windows: the scale for near-zero values.
  double scale(std::string_view name) const {
    double s = 0.0;
    for (std::size_t w = 0; w < n_windows; ++w)
      for (std::size_t c = 0; c < n_channels; ++c) s = std::max(s, std::abs(ref(w, c, name)));
    return s;
  }
};

/// |got - want| / max(|want|, 1e-3 * scale): relative error, judged absolutely for values 1000x below the
/// feature's typical size (e.g. a skewness that happens to be ~0), where relative error means nothing.
inline double feature_rel_error(double got, double want, double scale) {
  const double denom = std::max({std::abs(want), 1e-3 * scale, 1e-300});
  return std::abs(got - want) / denom;
}

}  // namespace myoexo::test
