// Knee-angle regression protocols: targets from the goniometer, W/L folds per movement and pooled, metrics.
#include "eval/angle_protocol.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "eval/parallel.hpp"
#include "eval/splits.hpp"

namespace myoexo::eval {

Result<AngleData> prepare_angle_data(std::span<const io::Recording> recordings, const AngleSpec& spec) {
  if (spec.target.channel.empty()) return make_error(ErrorCode::invalid_argument, "knee angle: no target channel named");
  for (const auto& c : spec.data.channels)
    if (c == spec.target.channel)
      return make_error(ErrorCode::invalid_argument, "knee angle: the target channel " + c + " is also an input channel");
  AngleData out;
  auto emg = prepare_data(recordings, spec.data);
  if (!emg) return emg.error();
  out.emg = std::move(*emg);
  // prepare_data keeps the input order minus the excluded files: match by name.
  std::size_t next = 0;
  for (const io::Recording& r : recordings) {
    if (next >= out.emg.recordings.size()) break;
    const std::string stem = r.source_path.stem().string();
    if (!stem.empty() && stem != out.emg.recordings[next].name) continue;  // an excluded file
    auto target = models::knee_angle_target(r, spec.target);
    if (!target) return target.error();
    out.targets.push_back({out.emg.recordings[next].name, std::move(target->angle_deg), target->negated});
    ++next;
  }
  if (out.targets.size() != out.emg.recordings.size())
    return make_error(ErrorCode::mismatch, "knee angle: could not align the targets with the prepared recordings");
  return out;
}

void smooth_estimates(std::span<double> estimates, double step_s, double tau_s) noexcept {
  if (tau_s <= 0 || estimates.empty()) return;
  const double a = 1.0 - std::exp(-step_s / tau_s);
  double y = estimates[0];
  for (double& e : estimates) {
    y += a * (e - y);
    e = y;
  }
}

AngleFoldScore angle_scores(std::span<const double> targets, std::span<const double> estimates) {
  AngleFoldScore s;
  const std::size_t n = std::min(targets.size(), estimates.size());
  if (n == 0) {
    s.rmse_deg = s.mae_deg = s.nmae_pct = s.r2 = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  double se = 0, ae = 0, mean = 0, lo = targets[0], hi = targets[0];
  for (std::size_t i = 0; i < n; ++i) {
    const double e = estimates[i] - targets[i];
    se += e * e;
    ae += std::abs(e);
    mean += targets[i];
    lo = std::min(lo, targets[i]);
    hi = std::max(hi, targets[i]);
  }
  mean /= double(n);
  double ss_tot = 0;
  for (std::size_t i = 0; i < n; ++i) ss_tot += (targets[i] - mean) * (targets[i] - mean);
  s.rmse_deg = std::sqrt(se / double(n));
  s.mae_deg = ae / double(n);
  s.range_deg = hi - lo;
  s.nmae_pct = s.range_deg > 0 ? 100.0 * s.mae_deg / s.range_deg : std::numeric_limits<double>::quiet_NaN();
  s.r2 = ss_tot > 0 ? 1.0 - se / ss_tot : std::numeric_limits<double>::quiet_NaN();
  return s;
}

Result<AngleEvaluation> run_angle_protocol(const AngleData& data, const AngleSpec& spec, const RegressFn& regress,
                                           const AngleRunOptions& options) {
  const PreparedData& emg = data.emg;
  const std::size_t len = spec.data.window.length, inc = spec.data.window.increment;
  if (len == 0 || inc == 0) return make_error(ErrorCode::invalid_argument, "knee angle: window length and increment must be >= 1");
  if (!regress) return make_error(ErrorCode::invalid_argument, "knee angle: no model callback");
  for (Protocol p : options.protocols)
    if (p != Protocol::within_subject && p != Protocol::leave_one_subject_out)
      return make_error(ErrorCode::invalid_argument, std::string("knee angle: protocol ") + protocol_code(p) +
                                                         " is not defined for regression (W and L are)");
  auto subject_index = [&](const std::string& s) {
    return int(std::find(emg.subjects.begin(), emg.subjects.end(), s) - emg.subjects.begin());
  };
  for (const auto& s : options.subjects)
    if (std::size_t(subject_index(s)) >= emg.subjects.size())
      return make_error(ErrorCode::invalid_argument, "knee angle: unknown subject '" + s + "'");

  WindowSet set;
  set.data = &emg;
  set.length = len;
  set.id = next_window_set_id();
  std::vector<double> target_of;  // per window
  std::vector<std::uint32_t> target_at;
  const std::size_t n_rec = emg.recordings.size();
  std::vector<std::vector<std::size_t>> split_train(n_rec), split_test(n_rec), whole(n_rec);
  // Windows of [begin, end) whose target sample (last sample + lead) lies inside the segment.
  auto cut = [&](std::size_t r, std::size_t begin, std::size_t end) {
    std::vector<std::size_t> kept;
    for (std::size_t i : append_windows(set, r, begin, end, inc)) {
      const std::size_t at = std::size_t(set.windows[i].start) + len - 1 + spec.lead_samples;
      target_of.resize(set.windows.size(), std::numeric_limits<double>::quiet_NaN());
      target_at.resize(set.windows.size(), 0);
      if (at >= end) continue;
      target_of[i] = data.targets[r].angle_deg[at];
      target_at[i] = std::uint32_t(at);
      kept.push_back(i);
    }
    return kept;
  };
  const bool want_w = std::count(options.protocols.begin(), options.protocols.end(), Protocol::within_subject) > 0;
  const bool want_l = std::count(options.protocols.begin(), options.protocols.end(), Protocol::leave_one_subject_out) > 0;
  for (std::size_t r = 0; r < n_rec; ++r) {
    const std::size_t n = emg.recordings[r].n_samples;
    if (want_w) {
      const std::size_t s = chronological_split_point(n, spec.data.split_fraction);
      split_train[r] = cut(r, 0, s);
      split_test[r] = cut(r, s, n);
    }
    if (want_l) whole[r] = cut(r, 0, n);
  }

  AngleEvaluation result;
  result.model_name = options.model_name;
  result.channel_names = emg.channel_names;
  result.subjects = emg.subjects;
  result.class_names = emg.class_names;
  result.lead_samples = spec.lead_samples;
  result.sample_rate_hz = emg.sample_rate_hz;
  for (const auto& t : data.targets)
    if (t.negated) result.negated_recordings.push_back(t.recording);
  const std::vector<std::string> held_out = options.subjects.empty() ? emg.subjects : options.subjects;

  // Scopes: -1 = every movement, else one class.
  std::vector<int> scopes{-1};
  if (options.per_movement && emg.class_names.size() > 1)
    for (std::size_t k = 0; k < emg.class_names.size(); ++k) scopes.push_back(int(k));

  double fit_s = 0;
  for (Protocol proto : options.protocols) {
    for (int scope : scopes) {
      AngleProtocolScores scores;
      scores.protocol = proto;
      scores.scope = scope < 0 ? "all movements" : emg.class_names[std::size_t(scope)];
      // Folds as (subject, train, test); then fitted on `parallel_folds` threads, scored in fold order.
      struct FoldDef {
        std::size_t f;
        std::vector<std::size_t> train, test;
        std::vector<double> y, truth, est;
        Status status;
      };
      std::vector<FoldDef> defs;
      for (std::size_t f = 0; f < held_out.size(); ++f) {
        const int sid = subject_index(held_out[f]);
        FoldDef d{f, {}, {}, {}, {}, {}, {}};
        auto take = [&](std::vector<std::size_t>& dst, const std::vector<std::size_t>& src) {
          for (std::size_t i : src)
            if (scope < 0 || set.windows[i].label == scope) dst.push_back(i);
        };
        for (std::size_t r = 0; r < n_rec; ++r) {
          const bool own = emg.recordings[r].subject == sid;
          if (proto == Protocol::within_subject) {
            if (!own && !options.w_other_subjects) continue;
            take(d.train, split_train[r]);
            if (own) take(d.test, split_test[r]);
          } else {
            take(own ? d.test : d.train, whole[r]);
          }
        }
        if (d.test.empty()) continue;  // e.g. a subject without this movement
        if (d.train.empty())
          return make_error(ErrorCode::empty, std::string("knee angle ") + protocol_code(proto) + ", " + scores.scope +
                                                  ", subject " + held_out[f] + ": no training windows");
        d.y.resize(d.train.size());
        d.truth.resize(d.test.size());
        d.est.assign(d.test.size(), std::numeric_limits<double>::quiet_NaN());
        for (std::size_t i = 0; i < d.train.size(); ++i) d.y[i] = target_of[d.train[i]];
        for (std::size_t i = 0; i < d.test.size(); ++i) d.truth[i] = target_of[d.test[i]];
        defs.push_back(std::move(d));
      }
      const auto t0 = std::chrono::steady_clock::now();
      for_each_index_parallel(defs.size(), options.parallel_folds, [&](std::size_t k) {
        FoldDef& d = defs[k];
        const FoldContext ctx{proto, held_out[d.f], d.f, held_out.size(), {}};
        d.status = regress(set, d.train, d.y, d.test, d.est, ctx);
        return d.status.ok();
      });
      fit_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (FoldDef& d : defs) {
        if (!d.status) return d.status.error();
        const std::size_t f = d.f;
        const auto& test = d.test;
        auto& est = d.est;
        const auto& truth = d.truth;
        if (spec.smoothing_ms > 0) {
          // Test windows come in recording order, each recording's in time order: smooth each run separately.
          const double step_s = double(inc) / emg.sample_rate_hz;
          std::size_t b = 0;
          for (std::size_t i = 1; i <= test.size(); ++i)
            if (i == test.size() || set.windows[test[i]].recording != set.windows[test[b]].recording ||
                set.windows[test[i]].start < set.windows[test[i - 1]].start) {
              smooth_estimates(std::span<double>(est).subspan(b, i - b), step_s, spec.smoothing_ms / 1000.0);
              b = i;
            }
        }
        AngleFoldScore fs = angle_scores(truth, est);
        fs.name = held_out[f];
        fs.n_train = d.train.size();
        fs.n_test = test.size();
        if (options.progress) {
          char line[200];
          std::snprintf(line, sizeof line, "%s %-14s %-6s train %6zu test %6zu  RMSE %5.1f deg  NMAE %5.1f %%  R2 %6.3f",
                        protocol_code(proto), scores.scope.c_str(), fs.name.c_str(), fs.n_train, fs.n_test, fs.rmse_deg,
                        fs.nmae_pct, fs.r2);
          options.progress(line);
        }
        if (scope < 0) {
          // One trace per test recording, in time order.
          for (std::size_t r = 0; r < n_rec; ++r) {
            AngleTrace tr;
            tr.protocol = proto;
            tr.fold = held_out[f];
            tr.recording = emg.recordings[r].name;
            for (std::size_t i = 0; i < test.size(); ++i)
              if (set.windows[test[i]].recording == r) {
                tr.t_s.push_back(double(target_at[test[i]]) / emg.sample_rate_hz);
                tr.target_deg.push_back(truth[i]);
                tr.estimate_deg.push_back(est[i]);
              }
            if (!tr.t_s.empty()) result.traces.push_back(std::move(tr));
          }
        }
        scores.folds.push_back(std::move(fs));
      }
      if (scores.folds.empty()) continue;
      scores.worst_r2 = std::numeric_limits<double>::infinity();
      for (const auto& fs : scores.folds) {
        scores.mean_rmse_deg += fs.rmse_deg;
        scores.mean_nmae_pct += fs.nmae_pct;
        scores.mean_r2 += fs.r2;
        scores.worst_rmse_deg = std::max(scores.worst_rmse_deg, fs.rmse_deg);
        if (fs.nmae_pct >= scores.worst_nmae_pct) {
          scores.worst_nmae_pct = fs.nmae_pct;
          scores.worst_fold = fs.name;
        }
        scores.worst_r2 = std::min(scores.worst_r2, fs.r2);
      }
      const double nf = double(scores.folds.size());
      scores.mean_rmse_deg /= nf;
      scores.mean_nmae_pct /= nf;
      scores.mean_r2 /= nf;
      result.protocols.push_back(std::move(scores));
    }
  }
  result.fit_seconds = fit_s;
  return result;
}

namespace {

/// The alpha of `alphas` with the lowest inner-validation RMSE on the training rows x [n x p] (see
/// make_ridge_regress).
Result<double> select_alpha(const WindowSet& set, std::span<const std::size_t> train, const std::vector<double>& x,
                            std::span<const double> y, std::size_t p, const models::RidgeOptions& base,
                            const std::vector<double>& alphas) {
  const std::size_t n = train.size();
  std::vector<int> group(n);
  std::set<int> subjects;
  for (std::size_t i = 0; i < n; ++i) subjects.insert(set.windows[train[i]].subject);
  if (subjects.size() >= 3) {
    for (std::size_t i = 0; i < n; ++i) group[i] = set.windows[train[i]].subject;
  } else {
    // Chronological: per recording, windows past 70 % of its training windows' span validate.
    std::map<std::uint32_t, std::pair<std::uint32_t, std::uint32_t>> span;
    for (std::size_t i = 0; i < n; ++i) {
      const WindowRef& w = set.windows[train[i]];
      auto [it, fresh] = span.emplace(w.recording, std::make_pair(w.start, w.start));
      if (!fresh) it->second = {std::min(it->second.first, w.start), std::max(it->second.second, w.start)};
    }
    for (std::size_t i = 0; i < n; ++i) {
      const WindowRef& w = set.windows[train[i]];
      const auto [lo, hi] = span[w.recording];
      group[i] = double(w.start - lo) >= 0.7 * double(hi - lo) ? 1 : 0;
    }
  }
  std::set<int> groups(group.begin(), group.end());
  if (groups.size() < 2) return base.alpha;
  double best_alpha = alphas.front(), best = std::numeric_limits<double>::infinity();
  for (double alpha : alphas) {
    double se = 0;
    std::size_t count = 0;
    for (int g : groups) {
      // Subject folds: each validates once; chronological: only the late part (group 1) validates.
      if (subjects.size() < 3 && g == 0) continue;
      std::vector<double> xa, ya, xv, yv;
      for (std::size_t i = 0; i < n; ++i) {
        auto& xs = group[i] == g ? xv : xa;
        auto& ys = group[i] == g ? yv : ya;
        xs.insert(xs.end(), x.begin() + std::ptrdiff_t(i * p), x.begin() + std::ptrdiff_t((i + 1) * p));
        ys.push_back(y[i]);
      }
      if (ya.size() < 2 || yv.empty()) continue;
      models::RidgeOptions o = base;
      o.alpha = alpha;
      auto m = models::RidgeRegressor::fit(xa.data(), ya.size(), p, ya, {}, o);
      if (!m) return m.error();
      for (std::size_t i = 0; i < yv.size(); ++i) {
        const double e = m->predict_one({xv.data() + i * p, p}) - yv[i];
        se += e * e;
        ++count;
      }
    }
    const double rmse = count ? std::sqrt(se / double(count)) : std::numeric_limits<double>::infinity();
    if (rmse < best) {
      best = rmse;
      best_alpha = alpha;
    }
  }
  return best_alpha;
}

}  // namespace

RegressFn make_ridge_regress(const features::FeatureSpec& feature_spec, const LdaVariant& variant,
                             const models::RidgeOptions& ridge_options, std::vector<double> alphas) {
  struct Cache {
    std::mutex mutex;
    std::uint64_t set_id = 0;
    WindowFeatureRows rows;
  };
  auto cache = std::make_shared<Cache>();
  return [feature_spec, variant, ridge_options, alphas, cache](const WindowSet& set, std::span<const std::size_t> train,
                                                       std::span<const double> y, std::span<const std::size_t> test,
                                                       std::span<double> estimates, const FoldContext&) -> Status {
    std::unique_lock<std::mutex> lock(cache->mutex);
    if (cache->set_id != set.id || set.id == 0) {
      auto rows = compute_window_features(set, feature_spec, variant);
      if (!rows) return rows.error();
      cache->rows = std::move(*rows);
      cache->set_id = set.id;
    }
    const std::size_t p = cache->rows.n_cols;
    std::vector<double> x(train.size() * p), xt(test.size() * p);
    for (std::size_t i = 0; i < train.size(); ++i) std::copy_n(cache->rows.rows.data() + train[i] * p, p, x.data() + i * p);
    for (std::size_t i = 0; i < test.size(); ++i) std::copy_n(cache->rows.rows.data() + test[i] * p, p, xt.data() + i * p);
    std::vector<std::string> names = cache->rows.names;
    lock.unlock();
    models::RidgeOptions options = ridge_options;
    if (!alphas.empty()) {
      auto a = select_alpha(set, train, x, y, p, ridge_options, alphas);
      if (!a) return a.error();
      options.alpha = *a;
    }
    auto m = models::RidgeRegressor::fit(x.data(), train.size(), p, y, std::move(names), options);
    if (!m) return m.error();
    return m->predict(xt.data(), test.size(), p, estimates.data());
  };
}

namespace {

// The lagged-envelope rows of every window of a WindowSet, computed once per set (folds share them).
struct EnvelopeRows {
  std::mutex mutex;
  std::uint64_t set_id = 0;
  std::vector<float> rows;  // [windows x n_features]

  // The rows of `train` and `test`, gathered; checks the envelope against the windows and XGBoost's presence.
  Status gather(const models::LaggedEnvelope& envelope, const WindowSet& set, std::span<const std::size_t> train,
                std::span<const std::size_t> test, std::vector<float>& x, std::vector<float>& xt) {
    if (envelope.window_length() < set.length)
      return make_error(ErrorCode::invalid_argument, "trees: the envelope covers " +
                                                         std::to_string(envelope.window_length()) + " samples, less "
                                                         "than the " + std::to_string(set.length) + "-sample windows");
    if (!models::gradient_boosting_available())
      return make_error(ErrorCode::unsupported, "trees: this build has no XGBoost (install libxgboost-dev)");
    const std::size_t ch = set.n_channels(), p = envelope.n_features(ch);
    std::lock_guard<std::mutex> lock(mutex);
    if (set_id != set.id || set.id == 0) {
      const std::size_t context = envelope.window_length() - set.length;
      rows.assign(set.windows.size() * p, 0.0f);
      std::vector<double> window(ch * envelope.window_length());
      for (std::size_t i = 0; i < set.windows.size(); ++i) {
        set.copy_window_with_context(i, context, window.data());
        envelope.compute(window.data(), ch, rows.data() + i * p);
      }
      set_id = set.id;
    }
    x.resize(train.size() * p);
    xt.resize(test.size() * p);
    for (std::size_t i = 0; i < train.size(); ++i) std::copy_n(rows.data() + train[i] * p, p, x.data() + i * p);
    for (std::size_t i = 0; i < test.size(); ++i) std::copy_n(rows.data() + test[i] * p, p, xt.data() + i * p);
    return {};
  }
};

}  // namespace

RegressFn make_tree_regress(const models::LaggedEnvelope& envelope, const models::GradientBoostingOptions& options) {
  auto cache = std::make_shared<EnvelopeRows>();
  return [envelope, options, cache](const WindowSet& set, std::span<const std::size_t> train, std::span<const double> y,
                                    std::span<const std::size_t> test, std::span<double> estimates,
                                    const FoldContext&) -> Status {
    std::vector<float> x, xt, yf(y.begin(), y.end());
    if (Status s = cache->gather(envelope, set, train, test, x, xt); !s) return s;
    auto trees = models::fit_gradient_boosting(x, train.size(), envelope.n_features(set.n_channels()), yf, options);
    if (!trees) return trees.error();
    const std::size_t p = trees->n_features();
    for (std::size_t i = 0; i < test.size(); ++i) estimates[i] = trees->predict(xt.data() + i * p);
    return {};
  };
}

RegressFn make_person_tree_regress(const models::LaggedEnvelope& envelope, const models::PersonTreeOptions& options) {
  struct Pooled {
    std::mutex mutex;
    std::uint64_t set_id = 0;
    std::vector<std::size_t> train;  // the windows the cached trees were fitted on
    std::vector<int> subject_column;  // PreparedData subject index -> indicator column (-1: not in the pool)
    std::size_t n_columns = 0;
    std::shared_ptr<const models::TreeEnsemble> trees;
  };
  auto rows = std::make_shared<EnvelopeRows>();
  auto pooled = std::make_shared<Pooled>();
  return [envelope, options, rows, pooled](const WindowSet& set, std::span<const std::size_t> train,
                                           std::span<const double> y, std::span<const std::size_t> test,
                                           std::span<double> estimates, const FoldContext& fold) -> Status {
    std::vector<float> x, xt, yf(y.begin(), y.end());
    if (Status s = rows->gather(envelope, set, train, test, x, xt); !s) return s;
    const std::size_t p = envelope.n_features(set.n_channels());
    const auto& names = set.data->subjects;
    const int person = int(std::find(names.begin(), names.end(), fold.name) - names.begin());
    std::shared_ptr<const models::TreeEnsemble> pooled_trees;
    std::size_t n_columns = 0;
    int column = -1;
    {
      // Under W with the other subjects' training parts every fold trains on the same windows: one pooled fit.
      std::lock_guard<std::mutex> lock(pooled->mutex);
      if (!pooled->trees || pooled->set_id != set.id || set.id == 0 ||
          !std::equal(train.begin(), train.end(), pooled->train.begin(), pooled->train.end())) {
        pooled->trees.reset();  // a failed fit leaves nothing stale behind
        pooled->subject_column.assign(names.size(), -1);
        pooled->n_columns = 0;
        std::vector<int> column_of(train.size());
        for (std::size_t i = 0; i < train.size(); ++i) {
          int& c = pooled->subject_column[std::size_t(set.windows[train[i]].subject)];
          if (c < 0) c = int(pooled->n_columns++);
          column_of[i] = c;
        }
        auto t = models::fit_pooled_trees(x, train.size(), p, yf, column_of, pooled->n_columns, options.pooled);
        if (!t) return t.error();
        pooled->trees = std::make_shared<const models::TreeEnsemble>(std::move(*t));
        pooled->set_id = set.id;
        pooled->train.assign(train.begin(), train.end());
      }
      pooled_trees = pooled->trees;
      n_columns = pooled->n_columns;
      if (person < int(names.size())) column = pooled->subject_column[std::size_t(person)];
    }
    // The person's own training windows (none under L).
    std::vector<float> own_x, own_y;
    for (std::size_t i = 0; i < train.size(); ++i)
      if (set.windows[train[i]].subject == person) {
        own_x.insert(own_x.end(), x.begin() + std::ptrdiff_t(i * p), x.begin() + std::ptrdiff_t((i + 1) * p));
        own_y.push_back(yf[i]);
      }
    auto trees = models::fit_person_trees(*pooled_trees, p, n_columns, column, own_x, own_y.size(), own_y, options);
    if (!trees) return trees.error();
    for (std::size_t i = 0; i < test.size(); ++i) estimates[i] = trees->predict(xt.data() + i * p);
    return {};
  };
}

std::string uci_subject_group(const std::string& subject) {
  if (subject.size() < 2 || !std::isdigit(static_cast<unsigned char>(subject.front()))) return "";
  if (!std::all_of(subject.begin(), subject.end() - 1, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return "";
  const char last = subject.back();
  return last == 'A' || last == 'a' ? "knee pathology" : last == 'N' || last == 'n' ? "healthy" : "";
}

std::vector<AngleGroupScores> angle_group_scores(const AngleEvaluation& r) {
  std::set<std::string> groups;
  for (const auto& s : r.subjects) {
    const std::string g = uci_subject_group(s);
    if (g.empty()) return {};
    groups.insert(g);
  }
  if (groups.size() < 2) return {};
  std::vector<AngleGroupScores> out;
  for (const auto& p : r.protocols)
    for (const auto& g : groups) {
      AngleGroupScores a;
      a.protocol = p.protocol;
      a.scope = p.scope;
      a.group = g;
      for (const auto& f : p.folds)
        if (uci_subject_group(f.name) == g) {
          ++a.n_subjects;
          a.mean_rmse_deg += f.rmse_deg;
          a.mean_nmae_pct += f.nmae_pct;
          a.mean_r2 += f.r2;
        }
      if (a.n_subjects == 0) continue;
      a.mean_rmse_deg /= double(a.n_subjects);
      a.mean_nmae_pct /= double(a.n_subjects);
      a.mean_r2 /= double(a.n_subjects);
      out.push_back(a);
    }
  return out;
}

nlohmann::json angle_evaluation_to_json(const AngleEvaluation& r) {
  using nlohmann::json;
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json j;
  j["model"] = r.model_name;
  j["target"] = {{"quantity", "knee angle"}, {"unit", "deg"}, {"convention", "flexion_positive"},
                 {"lead_samples", r.lead_samples},
                 {"lead_ms", r.sample_rate_hz > 0 ? 1000.0 * double(r.lead_samples) / r.sample_rate_hz : 0.0}};
  j["channel_names"] = r.channel_names;
  j["subjects"] = r.subjects;
  j["movements"] = r.class_names;
  j["negated_recordings"] = r.negated_recordings;
  j["fit_seconds"] = r.fit_seconds;
  json protos = json::array();
  for (const auto& p : r.protocols) {
    json folds = json::array();
    for (const auto& f : p.folds)
      folds.push_back({{"subject", f.name}, {"n_train", f.n_train}, {"n_test", f.n_test}, {"rmse_deg", num(f.rmse_deg)},
                       {"mae_deg", num(f.mae_deg)}, {"nmae_pct", num(f.nmae_pct)}, {"r2", num(f.r2)},
                       {"range_deg", num(f.range_deg)}});
    protos.push_back({{"protocol", protocol_code(p.protocol)}, {"scope", p.scope}, {"per_subject", folds},
                      {"summary", {{"mean_rmse_deg", num(p.mean_rmse_deg)}, {"worst_rmse_deg", num(p.worst_rmse_deg)},
                                   {"mean_nmae_pct", num(p.mean_nmae_pct)}, {"worst_nmae_pct", num(p.worst_nmae_pct)},
                                   {"mean_r2", num(p.mean_r2)}, {"worst_r2", num(p.worst_r2)},
                                   {"worst_subject", p.worst_fold}}}});
  }
  j["protocols"] = protos;
  json groups = json::array();
  for (const auto& g : angle_group_scores(r))
    groups.push_back({{"protocol", protocol_code(g.protocol)}, {"scope", g.scope}, {"group", g.group},
                      {"n_subjects", g.n_subjects}, {"mean_rmse_deg", num(g.mean_rmse_deg)},
                      {"mean_nmae_pct", num(g.mean_nmae_pct)}, {"mean_r2", num(g.mean_r2)}});
  if (!groups.empty()) j["groups"] = groups;
  return j;
}

std::string format_angle_summary(const AngleEvaluation& r) {
  std::string out = "| protocol | movements | RMSE deg (mean / worst) | NMAE % (mean / worst) | R^2 (mean / worst) | worst subject |\n"
                    "|---|---|---|---|---|---|\n";
  char line[256];
  for (const auto& p : r.protocols) {
    std::snprintf(line, sizeof line, "| %s | %s | %.1f / %.1f | %.1f / %.1f | %.3f / %.3f | %s |\n",
                  protocol_code(p.protocol), p.scope.c_str(), p.mean_rmse_deg, p.worst_rmse_deg, p.mean_nmae_pct,
                  p.worst_nmae_pct, p.mean_r2, p.worst_r2, p.worst_fold.c_str());
    out += line;
  }
  return out;
}

std::string format_angle_groups(const AngleEvaluation& r) {
  const auto groups = angle_group_scores(r);
  if (groups.empty()) return "";
  std::string out = "| protocol | movements | group | subjects | RMSE deg (mean) | NMAE % (mean) | R^2 (mean) |\n"
                    "|---|---|---|---|---|---|---|\n";
  char line[256];
  for (const auto& g : groups) {
    std::snprintf(line, sizeof line, "| %s | %s | %s | %zu | %.1f | %.1f | %.3f |\n", protocol_code(g.protocol),
                  g.scope.c_str(), g.group.c_str(), g.n_subjects, g.mean_rmse_deg, g.mean_nmae_pct, g.mean_r2);
    out += line;
  }
  return out;
}

}  // namespace myoexo::eval
