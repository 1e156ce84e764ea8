// Internal to myoexo_features: the parsed form of a feature name the extractor dispatches on, and shared math.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace myoexo::features {

inline constexpr int kMaxArOrder = 32;

enum class FeatureId {
  mav, rms, var, iav, wl, zc, ssc, wamp, log, dasdv, skew, kurt, ha, hm, hc,
  ar, mnf, mdf, tp, pkf, m0, m2, m4, sparsi, irf, wlf,
};

struct ColumnDef {
  FeatureId id;
  int ar_index;       ///< 0-based coefficient index for FeatureId::ar
  std::string name;   ///< canonical name
};

/// Mean with one correction pass (mu += mean(x - mu)). A plain running sum of 250 equal values is off by a
/// few ulps, which leaves a ~1e-30 "variance" in a constant window and makes skewness, AR and the spectrum of
/// that window arbitrary; after the correction a constant window's mean is exact, as NumPy's pairwise sum
/// mostly is, so degenerate windows are recognized the same way on both sides.
inline double refined_mean(std::span<const double> x) noexcept {
  const double n = static_cast<double>(x.size());
  double s = 0.0;
  for (double v : x) s += v;
  const double mu = s / n;
  double r = 0.0;
  for (double v : x) r += v - mu;
  return mu + r / n;
}

/// A single canonical feature (case-insensitive), or nullopt (groups are not single features).
std::optional<ColumnDef> parse_feature_name(std::string_view name, int ar_order);

}  // namespace myoexo::features
