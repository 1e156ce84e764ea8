// The feature registry (canonical acronyms), the built-in groups and name expansion.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "features/features.hpp"
#include "features/internal.hpp"

namespace myoexo::features {

namespace {

constexpr std::array<FeatureInfo, 29> kRegistry{{
    {"MAV", FeatureKind::time_domain, "signal", "mean absolute value"},
    {"RMS", FeatureKind::time_domain, "signal", "root mean square"},
    {"VAR", FeatureKind::time_domain, "signal^2", "variance, sum x^2 / (N-1) (zero-mean assumption)"},
    {"IAV", FeatureKind::time_domain, "signal", "integrated absolute value, sum |x|"},
    {"WL", FeatureKind::time_domain, "signal", "waveform length, sum |x[i+1]-x[i]|"},
    {"ZC", FeatureKind::time_domain, "count", "zero crossings with |step| >= zc threshold"},
    {"SSC", FeatureKind::time_domain, "count", "slope sign changes with a step >= ssc threshold"},
    {"WAMP", FeatureKind::time_domain, "count", "Willison amplitude, #|x[i+1]-x[i]| >= wamp threshold"},
    {"LOG", FeatureKind::time_domain, "signal", "log detector, exp(mean log|x|)"},
    {"DASDV", FeatureKind::time_domain, "signal", "difference absolute standard deviation value"},
    {"SKEW", FeatureKind::time_domain, "1", "skewness (scipy.stats.skew, biased)"},
    {"KURT", FeatureKind::time_domain, "1", "excess (Fisher) kurtosis (scipy.stats.kurtosis, biased)"},
    {"HA", FeatureKind::time_domain, "signal^2", "Hjorth activity, population variance"},
    {"HM", FeatureKind::time_domain, "1", "Hjorth mobility (per sample)"},
    {"HC", FeatureKind::time_domain, "1", "Hjorth complexity"},
    {"AR1", FeatureKind::autoregressive, "1", "AR coefficient 1 (Yule-Walker, Levinson-Durbin)"},
    {"AR2", FeatureKind::autoregressive, "1", "AR coefficient 2"},
    {"AR3", FeatureKind::autoregressive, "1", "AR coefficient 3"},
    {"AR4", FeatureKind::autoregressive, "1", "AR coefficient 4"},
    {"MNF", FeatureKind::spectral, "Hz", "mean frequency of the periodogram"},
    {"MDF", FeatureKind::spectral, "Hz", "median frequency of the periodogram"},
    {"TP", FeatureKind::spectral, "signal^2", "total power, sum P df"},
    {"PKF", FeatureKind::spectral, "Hz", "peak frequency of the periodogram"},
    {"M0", FeatureKind::tdpsd, "1", "TD-PSD zero-order moment orientation"},
    {"M2", FeatureKind::tdpsd, "1", "TD-PSD second-order moment orientation"},
    {"M4", FeatureKind::tdpsd, "1", "TD-PSD fourth-order moment orientation"},
    {"SPARSI", FeatureKind::tdpsd, "1", "TD-PSD sparseness orientation"},
    {"IRF", FeatureKind::tdpsd, "1", "TD-PSD irregularity factor orientation"},
    {"WLF", FeatureKind::tdpsd, "1", "TD-PSD waveform length factor orientation"},
}};

std::string to_upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

std::vector<std::string> ar_names(int ar_order) {
  std::vector<std::string> v;
  for (int k = 1; k <= ar_order; ++k) v.push_back("AR" + std::to_string(k));
  return v;
}

// Group members, or empty when `upper` is not a group.
std::vector<std::string> group_members(const std::string& upper, int ar_order) {
  if (upper == "HTD") return {"MAV", "WL", "ZC", "SSC"};
  if (upper == "TDAR") {
    std::vector<std::string> v{"MAV", "WL", "ZC", "SSC"};
    for (auto& a : ar_names(ar_order)) v.push_back(a);
    return v;
  }
  if (upper == "TDPSD") return {"M0", "M2", "M4", "SPARSI", "IRF", "WLF"};
  if (upper == "AR") return ar_names(ar_order);
  if (upper == "HJORTH") return {"HA", "HM", "HC"};
  if (upper == "SPECTRAL") return {"MNF", "MDF", "TP", "PKF"};
  if (upper == "ALL") {
    std::vector<std::string> v;
    for (const auto& info : kRegistry)
      if (info.kind != FeatureKind::autoregressive) v.emplace_back(info.name);
    // AR coefficients go where the registry lists them (after HC), with the spec's order.
    auto at = std::find(v.begin(), v.end(), "HC") + 1;
    auto ars = ar_names(ar_order);
    v.insert(at, ars.begin(), ars.end());
    return v;
  }
  return {};
}

}  // namespace

std::span<const FeatureInfo> feature_registry() noexcept { return kRegistry; }

std::vector<std::string> feature_group_names() { return {"HTD", "TDAR", "TDPSD", "AR", "HJORTH", "SPECTRAL", "ALL"}; }

std::optional<ColumnDef> parse_feature_name(std::string_view name, int ar_order) {
  const std::string upper = to_upper(name);
  static constexpr std::array<std::pair<std::string_view, FeatureId>, 25> kIds{{
      {"MAV", FeatureId::mav},   {"RMS", FeatureId::rms},     {"VAR", FeatureId::var},     {"IAV", FeatureId::iav},
      {"WL", FeatureId::wl},     {"ZC", FeatureId::zc},       {"SSC", FeatureId::ssc},     {"WAMP", FeatureId::wamp},
      {"LOG", FeatureId::log},   {"DASDV", FeatureId::dasdv}, {"SKEW", FeatureId::skew},   {"KURT", FeatureId::kurt},
      {"HA", FeatureId::ha},     {"HM", FeatureId::hm},       {"HC", FeatureId::hc},       {"MNF", FeatureId::mnf},
      {"MDF", FeatureId::mdf},   {"TP", FeatureId::tp},       {"PKF", FeatureId::pkf},     {"M0", FeatureId::m0},
      {"M2", FeatureId::m2},     {"M4", FeatureId::m4},       {"SPARSI", FeatureId::sparsi}, {"IRF", FeatureId::irf},
      {"WLF", FeatureId::wlf},
  }};
  for (const auto& [n, id] : kIds)
    if (upper == n) return ColumnDef{id, 0, std::string(n)};
  // AR<k>, 1 <= k <= ar_order, digits only (no sign, no leading zero).
  if (upper.size() >= 3 && upper.compare(0, 2, "AR") == 0 && upper[2] != '0' && upper.size() <= 4) {
    int k = 0;
    for (std::size_t i = 2; i < upper.size(); ++i) {
      if (upper[i] < '0' || upper[i] > '9') return std::nullopt;
      k = k * 10 + (upper[i] - '0');
    }
    if (k >= 1 && k <= ar_order) return ColumnDef{FeatureId::ar, k - 1, upper};
  }
  return std::nullopt;
}

Result<std::vector<std::string>> expand_feature_names(std::span<const std::string> names, int ar_order) {
  if (ar_order < 1 || ar_order > kMaxArOrder)
    return make_error(ErrorCode::invalid_argument,
                      "ar_order must be in 1.." + std::to_string(kMaxArOrder) + ", got " + std::to_string(ar_order));
  if (names.empty()) return make_error(ErrorCode::invalid_argument, "no features requested");
  std::vector<std::string> out;
  auto add = [&](const std::string& canonical) {
    if (std::find(out.begin(), out.end(), canonical) == out.end()) out.push_back(canonical);
  };
  for (const auto& name : names) {
    const std::string upper = to_upper(name);
    if (auto members = group_members(upper, ar_order); !members.empty()) {
      for (const auto& m : members) add(m);
      continue;
    }
    if (auto col = parse_feature_name(name, ar_order)) {
      add(col->name);
      continue;
    }
    std::string known;
    for (const auto& g : feature_group_names()) known += g + " ";
    for (const auto& info : kRegistry) known += std::string(info.name) + " ";
    return make_error(ErrorCode::invalid_argument,
                      "unknown feature or group '" + name + "' (AR<k> needs k <= ar_order = " +
                          std::to_string(ar_order) + "); known: " + known);
  }
  return out;
}

}  // namespace myoexo::features
