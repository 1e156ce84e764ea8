#include "models/gradient_boosting.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#ifdef MYOEXO_HAVE_XGBOOST
#include <xgboost/c_api.h>

#include <nlohmann/json.hpp>
#endif

namespace myoexo::models {

bool gradient_boosting_available() noexcept {
#ifdef MYOEXO_HAVE_XGBOOST
  return true;
#else
  return false;
#endif
}

#ifdef MYOEXO_HAVE_XGBOOST
namespace {

// Owns an XGBoost handle; frees it with its own free function.
template <typename Handle, int (*Free)(Handle)>
struct Owned {
  Handle h = nullptr;
  ~Owned() {
    if (h) Free(h);
  }
};

Error xgb_error(const char* what) {
  return make_error(ErrorCode::invalid_argument, std::string("XGBoost ") + what + ": " + XGBGetLastError());
}

std::string fmt(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// The JSON model's trees as TreeEnsemble nodes: a leaf is a node without children, its value in split_conditions.
Result<TreeEnsemble> read_trees(const char* buf, std::size_t len, double base_score, std::size_t cols) {
  try {
    const auto j = nlohmann::json::parse(buf, buf + len);
    const auto& trees = j.at("learner").at("gradient_booster").at("model").at("trees");
    std::vector<std::vector<TreeEnsemble::Node>> out;
    for (const auto& t : trees) {
      const auto l = t.at("left_children").get<std::vector<std::int32_t>>();
      const auto r = t.at("right_children").get<std::vector<std::int32_t>>();
      const auto f = t.at("split_indices").get<std::vector<std::int32_t>>();
      const auto c = t.at("split_conditions").get<std::vector<float>>();
      const auto d = t.at("default_left").get<std::vector<int>>();
      if (r.size() != l.size() || f.size() != l.size() || c.size() != l.size() || d.size() != l.size())
        return make_error(ErrorCode::parse, "XGBoost model: a tree's arrays differ in length");
      std::vector<TreeEnsemble::Node> nodes(l.size());
      for (std::size_t i = 0; i < l.size(); ++i) {
        const bool leaf = l[i] < 0;
        nodes[i] = TreeEnsemble::Node{leaf ? -1 : f[i], c[i], leaf ? -1 : l[i], leaf ? -1 : r[i], d[i] != 0};
      }
      out.push_back(std::move(nodes));
    }
    return TreeEnsemble::create(std::move(out), base_score, cols);
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::parse, std::string("XGBoost model: ") + e.what());
  }
}

}  // namespace
#endif

Result<TreeEnsemble> fit_gradient_boosting(std::span<const float> X, std::size_t rows, std::size_t cols,
                                           std::span<const float> y, const GradientBoostingOptions& o) {
  if (rows == 0 || cols == 0 || X.size() != rows * cols || y.size() != rows)
    return make_error(ErrorCode::invalid_argument, "gradient boosting: " + std::to_string(rows) + " rows x " +
                                                       std::to_string(cols) + " columns do not match " +
                                                       std::to_string(X.size()) + " values and " +
                                                       std::to_string(y.size()) + " targets");
  if (o.rounds == 0 || o.max_depth == 0 || !(o.learning_rate > 0.0 && o.learning_rate <= 1.0) || !(o.lambda >= 0.0) ||
      !(o.min_child_weight >= 0.0) || o.threads == 0 || !(o.subsample > 0.0 && o.subsample <= 1.0) ||
      !(o.colsample_bytree > 0.0 && o.colsample_bytree <= 1.0))
    return make_error(ErrorCode::invalid_argument, "gradient boosting: rounds, depth and threads >= 1, learning rate, "
                                                   "subsample and colsample_bytree in (0, 1], lambda and "
                                                   "min_child_weight >= 0");
  double mean = 0.0;
  for (const float v : y) {
    if (!std::isfinite(v)) return make_error(ErrorCode::invalid_argument, "gradient boosting: a target is not finite");
    mean += v;
  }
  mean /= double(rows);
#ifdef MYOEXO_HAVE_XGBOOST
  Owned<DMatrixHandle, XGDMatrixFree> dm;
  if (XGDMatrixCreateFromMat(X.data(), rows, cols, std::numeric_limits<float>::quiet_NaN(), &dm.h) != 0)
    return xgb_error("data");
  if (XGDMatrixSetFloatInfo(dm.h, "label", y.data(), rows) != 0) return xgb_error("labels");
  Owned<BoosterHandle, XGBoosterFree> b;
  if (XGBoosterCreate(&dm.h, 1, &b.h) != 0) return xgb_error("booster");
  const std::pair<const char*, std::string> params[] = {
      {"objective", "reg:squarederror"}, {"tree_method", "hist"}, {"max_depth", std::to_string(o.max_depth)},
      {"eta", fmt(o.learning_rate)}, {"lambda", fmt(o.lambda)}, {"min_child_weight", fmt(o.min_child_weight)},
      {"subsample", fmt(o.subsample)}, {"colsample_bytree", fmt(o.colsample_bytree)},
      {"seed", std::to_string(o.seed)}, {"nthread", std::to_string(o.threads)}, {"base_score", fmt(mean)},
      {"verbosity", "0"}};
  for (const auto& [k, v] : params)
    if (XGBoosterSetParam(b.h, k, v.c_str()) != 0) return xgb_error((std::string("parameter ") + k).c_str());
  for (std::size_t i = 0; i < o.rounds; ++i)
    if (XGBoosterUpdateOneIter(b.h, int(i), dm.h) != 0) return xgb_error("training");
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (XGBoosterSaveModelToBuffer(b.h, R"({"format": "json"})", &len, &buf) != 0) return xgb_error("model export");
  // XGBoost keeps base_score as float: read back the value it predicts with.
  return read_trees(buf, std::size_t(len), double(static_cast<float>(mean)), cols);
#else
  (void)o;
  return make_error(ErrorCode::unsupported, "gradient boosting: this build has no XGBoost (install libxgboost-dev "
                                            "and configure again)");
#endif
}

Result<TreeEnsemble> fit_pooled_trees(std::span<const float> X, std::size_t rows, std::size_t cols,
                                      std::span<const float> y, std::span<const int> subject_of_row,
                                      std::size_t n_subjects, const GradientBoostingOptions& options) {
  if (X.size() != rows * cols || subject_of_row.size() != rows || n_subjects == 0)
    return make_error(ErrorCode::invalid_argument, "pooled trees: " + std::to_string(rows) + " rows, " +
                                                       std::to_string(subject_of_row.size()) + " subjects of rows, " +
                                                       std::to_string(n_subjects) + " subjects");
  const std::size_t wide = cols + n_subjects;
  std::vector<float> Xs(rows * wide, 0.0f);
  for (std::size_t i = 0; i < rows; ++i) {
    const int s = subject_of_row[i];
    if (s < 0 || std::size_t(s) >= n_subjects)
      return make_error(ErrorCode::invalid_argument, "pooled trees: row " + std::to_string(i) + " has subject " +
                                                         std::to_string(s) + " of " + std::to_string(n_subjects));
    std::copy_n(X.data() + i * cols, cols, Xs.data() + i * wide);
    Xs[i * wide + cols + std::size_t(s)] = 1.0f;
  }
  return fit_gradient_boosting(Xs, rows, wide, y, options);
}

Result<TreeEnsemble> fit_person_trees(const TreeEnsemble& pooled, std::size_t cols, std::size_t n_subjects, int person,
                                      std::span<const float> own_X, std::size_t own_rows, std::span<const float> own_y,
                                      const PersonTreeOptions& options) {
  if (pooled.n_features() != cols + n_subjects || person < -1 || person >= int(n_subjects) ||
      !(options.own_weight >= 0.0 && options.own_weight <= 1.0))
    return make_error(ErrorCode::invalid_argument, "person trees: the pooled trees read " +
                                                       std::to_string(pooled.n_features()) + " features, not " +
                                                       std::to_string(cols) + " + " + std::to_string(n_subjects) +
                                                       " subjects; person " + std::to_string(person) +
                                                       "; own weight in [0, 1]");
  auto with_indicator = [&](std::size_t s) {
    std::vector<float> indicator(n_subjects, 0.0f);
    indicator[s] = 1.0f;
    return pooled.fix_trailing_features(cols, indicator);
  };
  auto fixed = [&]() -> Result<TreeEnsemble> {
    if (person >= 0) return with_indicator(std::size_t(person));
    std::vector<TreeEnsemble> each;
    for (std::size_t s = 0; s < n_subjects; ++s) {
      auto e = with_indicator(s);
      if (!e) return e.error();
      each.push_back(std::move(*e));
    }
    return TreeEnsemble::weighted_sum(each, std::vector<double>(n_subjects, 1.0 / double(n_subjects)));
  }();
  if (!fixed || own_rows < options.min_own_rows || options.own_weight == 0.0) return fixed;
  auto own = fit_gradient_boosting(own_X, own_rows, cols, own_y, options.own);
  if (!own) return own.error();
  return TreeEnsemble::weighted_sum(*fixed, 1.0 - options.own_weight, *own, options.own_weight);
}

}  // namespace myoexo::models
