#include "eval/protocol.hpp"

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <limits>
#include <mutex>
#include <thread>
#include <optional>
#include <set>
#include <sstream>

#include "dsp/butterworth.hpp"
#include "eval/parallel.hpp"
#include "eval/splits.hpp"
#include "dsp/sos_filter.hpp"
#include "io/io.hpp"

namespace myoexo::eval {

namespace {

std::string stem_of(const io::Recording& r) { return r.source_path.stem().string(); }

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

int index_of(const std::vector<std::string>& v, const std::string& s) {
  auto it = std::lower_bound(v.begin(), v.end(), s);
  return (it != v.end() && *it == s) ? int(it - v.begin()) : -1;
}

/// Class name of per-sample id `id` of recording r.
std::string sample_class_name(const io::Recording& r, int id) {
  if (id >= 0 && std::size_t(id) < r.label_names.size() && !r.label_names[std::size_t(id)].empty())
    return r.label_names[std::size_t(id)];
  return "class" + std::to_string(id);
}

}  // namespace

DataSpec uci_ll_v1_spec() {
  DataSpec s;
  s.name = "UCI-LL v1";
  s.channels = {"RF", "BF", "VM", "ST"};
  s.exclude_files = {"2Npie", "2Nsen"};
  s.filter_order = 4;
  s.band_low_hz = 20.0;
  s.band_high_hz = 450.0;
  s.window = {250, 50};
  s.split_fraction = 0.7;
  return s;
}

const char* protocol_code(Protocol p) noexcept {
  switch (p) {
    case Protocol::within_subject: return "W";
    case Protocol::pooled: return "P";
    case Protocol::leave_one_subject_out: return "L";
    case Protocol::blocked_kfold: return "K";
  }
  return "?";
}

std::uint64_t next_window_set_id() noexcept {
  static std::atomic<std::uint64_t> next_id{1};
  return next_id.fetch_add(1);
}

void WindowSet::copy_window(std::size_t i, double* out) const noexcept {
  const double* src = window_data(i);
  const std::size_t stride = channel_stride(i);
  for (std::size_t c = 0; c < n_channels(); ++c)
    std::copy(src + c * stride, src + c * stride + length, out + c * length);
}

std::vector<std::size_t> append_windows(WindowSet& set, std::size_t r, std::size_t begin, std::size_t end,
                                        std::size_t increment) {
  std::vector<std::size_t> idx;
  const PreparedRecording& rec = set.data->recordings[r];
  for (std::size_t s = begin; s + set.length <= end; s += increment) {
    int label = rec.label;
    if (rec.label < 0) {
      label = rec.sample_labels[s];
      for (std::size_t i = s + 1; i < s + set.length && label >= 0; ++i)
        if (rec.sample_labels[i] != label) label = -1;
    }
    if (label < 0) continue;
    idx.push_back(set.windows.size());
    set.windows.push_back({std::uint32_t(r), std::uint32_t(s), label, rec.subject, std::uint32_t(begin)});
  }
  return idx;
}

Result<PreparedData> prepare_data(std::span<const io::Recording> recordings, const DataSpec& spec) {
  PreparedData out;
  std::vector<const io::Recording*> kept;
  for (const auto& r : recordings) {
    const std::string stem = stem_of(r);
    if (!stem.empty() && contains(spec.exclude_files, stem)) {
      out.excluded.push_back(stem);
      continue;
    }
    kept.push_back(&r);
  }
  if (kept.empty()) return make_error(ErrorCode::empty, spec.name + ": no recordings left after exclusions");

  // Leakage guard: identical data under two subjects would put a test subject's samples in training.
  {
    std::vector<io::Recording> copies;  // find_duplicates takes a vector; hashing is cheap next to filtering
    copies.reserve(kept.size());
    for (const auto* r : kept) copies.push_back(*r);
    for (const auto& d : io::find_duplicates(copies)) {
      const auto a = std::find_if(kept.begin(), kept.end(), [&](auto* r) { return r->source_path == d.first; });
      const auto b = std::find_if(kept.begin(), kept.end(), [&](auto* r) { return r->source_path == d.second; });
      if (a != kept.end() && b != kept.end() && (*a)->subject_id != (*b)->subject_id)
        return make_error(ErrorCode::mismatch, d.second.string(), 0,
                          "identical to " + d.first.string() + " of another subject: exclude one (" + spec.name +
                              " would leak it across subjects)");
    }
  }

  // Channels, classes, subjects.
  const io::Recording& first = *kept.front();
  out.channel_names = spec.channels.empty() ? first.channel_names : spec.channels;
  out.sample_rate_hz = first.sample_rate_hz;
  for (std::size_t i = 0; i < spec.class_map.size(); ++i) {
    const auto& [from, to] = spec.class_map[i];
    if (from.empty() || to.empty())
      return make_error(ErrorCode::invalid_argument, spec.name + ": class map entries need both names");
    for (std::size_t j = 0; j < i; ++j)
      if (spec.class_map[j].second == to || spec.class_map[j].first == from)
        return make_error(ErrorCode::invalid_argument, spec.name + ": the class map names '" +
                                                           (spec.class_map[j].first == from ? from : to) + "' twice");
  }
  // The model's name of a data-set class (spec.class_map; unmapped names stay).
  auto renamed = [&spec](const std::string& name) {
    for (const auto& [from, to] : spec.class_map)
      if (from == name) return to;
    return name;
  };
  std::set<std::string> classes, subjects;
  for (const auto* r : kept) {
    if (r->sample_rate_hz != out.sample_rate_hz)
      return make_error(ErrorCode::mismatch, r->source_path.string(), 0, "sample rate differs from the other recordings");
    subjects.insert(r->subject_id);
    if (!r->label.empty()) {
      if (!contains(spec.exclude_labels, r->label)) classes.insert(renamed(r->label));
    } else {
      std::set<int> ids(r->sample_labels.begin(), r->sample_labels.end());
      for (int id : ids) {
        const std::string name = sample_class_name(*r, id);
        if (!contains(spec.exclude_labels, name)) classes.insert(renamed(name));
      }
    }
  }
  out.class_names.assign(classes.begin(), classes.end());
  out.subjects.assign(subjects.begin(), subjects.end());
  if (out.class_names.empty()) return make_error(ErrorCode::empty, spec.name + ": no labelled data");

  std::optional<dsp::SosFilter> filter;
  if (spec.filter_order > 0) {
    auto design = dsp::design_bandpass(spec.filter_order, spec.band_low_hz, spec.band_high_hz, out.sample_rate_hz);
    if (!design) return design.error();
    auto f = dsp::SosFilter::create(*design, out.channel_names.size());
    if (!f) return f.error();
    filter.emplace(std::move(*f));
  }
  std::optional<dsp::WaveletDenoiseStream> denoise;
  if (spec.denoise) {
    auto w = dsp::WaveletDenoiseStream::create(*spec.denoise, out.channel_names.size());
    if (!w) return w.error();
    denoise.emplace(std::move(*w));
  }

  std::map<std::string, int> per_subject_count;
  for (const auto* r : kept) {
    PreparedRecording p;
    p.name = stem_of(*r);
    if (p.name.empty()) p.name = r->subject_id + "#" + std::to_string(per_subject_count[r->subject_id]++);
    p.subject = index_of(out.subjects, r->subject_id);
    p.n_samples = r->n_samples;
    if (!r->label.empty()) {
      if (contains(spec.exclude_labels, r->label)) continue;
      p.label = index_of(out.class_names, renamed(r->label));
    } else {
      if (r->sample_labels.size() != r->n_samples)
        return make_error(ErrorCode::mismatch, r->source_path.string(), 0, "no per-file label and no per-sample labels");
      std::map<int, int> map_id;
      p.sample_labels.resize(r->n_samples);
      for (std::size_t i = 0; i < r->n_samples; ++i) {
        const int id = r->sample_labels[i];
        auto it = map_id.find(id);
        if (it == map_id.end()) it = map_id.emplace(id, index_of(out.class_names, renamed(sample_class_name(*r, id)))).first;
        p.sample_labels[i] = it->second;  // -1 for excluded labels
      }
    }
    p.samples.resize(out.channel_names.size() * r->n_samples);
    for (std::size_t c = 0; c < out.channel_names.size(); ++c) {
      const int src = r->channel_index(out.channel_names[c]);
      if (src < 0)
        return make_error(ErrorCode::mismatch, r->source_path.string(), 0, "no channel '" + out.channel_names[c] + "'");
      const auto ch = r->channel(std::size_t(src));
      std::copy(ch.begin(), ch.end(), p.samples.begin() + std::ptrdiff_t(c * r->n_samples));
    }
    if (filter) {
      filter->reset();  // zero state at the start of every recording
      Status s = filter->process_channel_major(p.samples, p.samples, p.n_samples);
      if (!s) return s.error();
    }
    if (denoise) {
      denoise->reset();
      Status s = denoise->process_channel_major(p.samples, p.samples, p.n_samples);
      if (!s) return s.error();
    }
    out.recordings.push_back(std::move(p));
  }
  if (out.recordings.empty()) return make_error(ErrorCode::empty, spec.name + ": no recordings with kept labels");
  return out;
}

namespace {


Result<Metrics> score_fold(const WindowSet& set, std::span<const std::size_t> test, std::span<const int> predicted) {
  std::vector<int> truth(test.size());
  for (std::size_t i = 0; i < test.size(); ++i) truth[i] = set.windows[test[i]].label;
  return compute_metrics(truth, predicted, set.data->class_names.size());
}

}  // namespace

Result<ProtocolScores> summarise_folds(Protocol protocol, std::vector<FoldScore> folds, std::size_t n_classes) {
  if (folds.empty())
    return make_error(ErrorCode::empty, std::string("protocol ") + protocol_code(protocol) + ": no folds to summarise");
  std::sort(folds.begin(), folds.end(), [](const FoldScore& a, const FoldScore& b) { return a.index < b.index; });
  ProtocolScores scores;
  scores.protocol = protocol;
  std::vector<std::size_t> summed(n_classes * n_classes, 0);
  for (const auto& f : folds) {
    if (f.metrics.confusion.size() != summed.size())
      return make_error(ErrorCode::invalid_argument, std::string("protocol ") + protocol_code(protocol) + ", fold '" +
                                                         f.name + "': its confusion matrix is not " +
                                                         std::to_string(n_classes) + " x " + std::to_string(n_classes));
    for (std::size_t i = 0; i < summed.size(); ++i) summed[i] += f.metrics.confusion[i];
  }
  auto total = metrics_from_confusion(summed, n_classes);
  if (!total) return total.error();
  scores.summed = std::move(*total);
  scores.min_accuracy = 2.0;
  for (const auto& f : folds) {
    scores.mean_accuracy += f.metrics.accuracy;
    scores.mean_balanced_accuracy += f.metrics.balanced_accuracy;
    scores.mean_macro_f1 += f.metrics.macro_f1;
    if (f.metrics.accuracy < scores.min_accuracy) {
      scores.min_accuracy = f.metrics.accuracy;
      scores.min_fold = f.name;
    }
  }
  const double nf = double(folds.size());
  scores.mean_accuracy /= nf;
  scores.mean_balanced_accuracy /= nf;
  scores.mean_macro_f1 /= nf;
  scores.folds = std::move(folds);
  return scores;
}

Result<EvaluationResult> run_protocol(const PreparedData& data, const DataSpec& spec, const FitPredictFn& fit_predict,
                                      const RunOptions& options) {
  const std::size_t len = spec.window.length, inc = spec.window.increment;
  if (len == 0 || inc == 0) return make_error(ErrorCode::invalid_argument, "protocol: window length and increment must be >= 1");
  if (!(spec.split_fraction > 0.0 && spec.split_fraction < 1.0))
    return make_error(ErrorCode::invalid_argument, "protocol: split fraction must be in (0, 1)");
  if (!fit_predict) return make_error(ErrorCode::invalid_argument, "protocol: no model callback");
  for (const auto& s : options.subjects)
    if (index_of(data.subjects, s) < 0) return make_error(ErrorCode::invalid_argument, "protocol: unknown subject '" + s + "'");

  auto wants = [&](Protocol p) { return std::find(options.protocols.begin(), options.protocols.end(), p) != options.protocols.end(); };
  const bool split = wants(Protocol::within_subject) || wants(Protocol::pooled);
  const bool whole = wants(Protocol::leave_one_subject_out);
  const bool blocks = wants(Protocol::blocked_kfold);
  if (blocks && options.k_folds < 2) return make_error(ErrorCode::invalid_argument, "protocol: k_folds must be >= 2");

  WindowSet set;
  set.data = &data;
  set.length = len;
  set.id = next_window_set_id();
  const std::size_t n_rec = data.recordings.size();
  std::vector<std::vector<std::size_t>> split_train(n_rec), split_test(n_rec), whole_idx(n_rec);
  std::vector<std::vector<std::vector<std::size_t>>> block_idx(n_rec);
  for (std::size_t r = 0; r < n_rec; ++r) {
    const std::size_t n = data.recordings[r].n_samples;
    if (split) {
      const std::size_t s = chronological_split_point(n, spec.split_fraction);
      split_train[r] = append_windows(set, r, 0, s, inc);
      split_test[r] = append_windows(set, r, s, n, inc);
    }
    if (whole) whole_idx[r] = append_windows(set, r, 0, n, inc);
    if (blocks) {
      block_idx[r].resize(options.k_folds);
      for (std::size_t b = 0; b < options.k_folds; ++b)
        block_idx[r][b] = append_windows(set, r, b * n / options.k_folds, (b + 1) * n / options.k_folds, inc);
    }
  }

  const std::vector<std::string> held_out = options.subjects.empty() ? data.subjects : options.subjects;

  EvaluationResult result;
  result.spec_name = spec.name;
  result.model_name = options.model_name;
  result.class_names = data.class_names;
  result.channel_names = data.channel_names;
  result.subjects = data.subjects;
  result.excluded = data.excluded;
  result.window = spec.window;
  result.split_fraction = spec.split_fraction;

  for (Protocol proto : options.protocols) {
    // Folds as (name, train, test).
    struct FoldDef {
      std::string name;
      std::vector<std::size_t> train, test;
    };
    std::vector<FoldDef> defs;
    auto append = [](std::vector<std::size_t>& dst, const std::vector<std::size_t>& src) {
      dst.insert(dst.end(), src.begin(), src.end());
    };
    switch (proto) {
      case Protocol::within_subject:
        for (const auto& s : held_out) {
          FoldDef d{s, {}, {}};
          const int sid = index_of(data.subjects, s);
          for (std::size_t r = 0; r < n_rec; ++r)
            if (data.recordings[r].subject == sid) {
              append(d.train, split_train[r]);
              append(d.test, split_test[r]);
            }
          defs.push_back(std::move(d));
        }
        break;
      case Protocol::pooled: {
        FoldDef d{"pooled", {}, {}};
        for (std::size_t r = 0; r < n_rec; ++r) {
          append(d.train, split_train[r]);
          append(d.test, split_test[r]);
        }
        defs.push_back(std::move(d));
        break;
      }
      case Protocol::leave_one_subject_out:
        for (const auto& s : held_out) {
          FoldDef d{s, {}, {}};
          const int sid = index_of(data.subjects, s);
          for (std::size_t r = 0; r < n_rec; ++r) append(data.recordings[r].subject == sid ? d.test : d.train, whole_idx[r]);
          defs.push_back(std::move(d));
        }
        break;
      case Protocol::blocked_kfold:
        for (std::size_t b = 0; b < options.k_folds; ++b) {
          FoldDef d{"fold " + std::to_string(b), {}, {}};
          for (std::size_t r = 0; r < n_rec; ++r)
            for (std::size_t o = 0; o < options.k_folds; ++o) append(o == b ? d.test : d.train, block_idx[r][o]);
          defs.push_back(std::move(d));
        }
        break;
    }

    const std::size_t k = data.class_names.size();
    for (FoldDef& d : defs) {
      std::sort(d.train.begin(), d.train.end());
      std::sort(d.test.begin(), d.test.end());
      if (d.train.empty() || d.test.empty())
        return make_error(ErrorCode::empty, std::string("protocol ") + protocol_code(proto) + ", fold '" + d.name +
                                                "': no " + (d.train.empty() ? "training" : "test") + " windows");
    }
    // Folds run on `parallel_folds` threads, each taking the next unclaimed fold; results land in fold order,
    // so the scores do not depend on the thread count. The first error stops further folds from starting.
    std::vector<std::optional<Result<Metrics>>> fold_metrics(defs.size());
    std::vector<double> fold_seconds(defs.size(), 0.0);
    std::mutex progress_mutex, observer_mutex;
    for_each_index_parallel(defs.size(), options.parallel_folds, [&](std::size_t f) {
      const FoldDef& d = defs[f];
      std::vector<int> predicted(d.test.size(), -1);
      std::vector<double> probs;
      if (options.on_fold_probabilities) probs.assign(d.test.size() * k, std::numeric_limits<double>::quiet_NaN());
      const FoldContext ctx{proto, d.name, f, defs.size(), probs};
      if (options.claim_fold && !options.claim_fold(ctx)) return true;  // another process's (or already done)
      const auto t0 = std::chrono::steady_clock::now();
      Status s = fit_predict(set, d.train, d.test, predicted, ctx);
      Result<Metrics> m = s ? score_fold(set, d.test, predicted) : Result<Metrics>(s.error());
      fold_seconds[f] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const bool ok = bool(m);
      if (m && (options.on_fold_probabilities || options.on_fold_done)) {
        std::lock_guard<std::mutex> lock(observer_mutex);
        if (options.on_fold_probabilities) options.on_fold_probabilities(ctx, set, d.test, probs);
        if (options.on_fold_done)
          options.on_fold_done(ctx, FoldScore{d.name, f, d.train.size(), d.test.size(), fold_seconds[f], *m});
      }
      if (m && options.progress) {
        char line[160];
        std::snprintf(line, sizeof line, "%s %-8s train %6zu test %6zu  accuracy %.4f", protocol_code(proto),
                      d.name.c_str(), d.train.size(), d.test.size(), m->accuracy);
        std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(line);
      }
      fold_metrics[f] = std::move(m);
      return ok;
    });
    for (std::size_t f = 0; f < defs.size(); ++f) {
      if (!fold_metrics[f]) continue;  // declined, or not started because an earlier fold failed
      if (!*fold_metrics[f]) return fold_metrics[f]->error();
    }
    std::vector<FoldScore> folds;
    for (std::size_t f = 0; f < defs.size(); ++f)
      if (fold_metrics[f])
        folds.push_back({defs[f].name, f, defs[f].train.size(), defs[f].test.size(), fold_seconds[f],
                         std::move(**fold_metrics[f])});
    if (folds.empty()) {  // every fold declined: nothing to summarise here
      ProtocolScores none;
      none.protocol = proto;
      result.protocols.push_back(std::move(none));
      continue;
    }
    auto scores = summarise_folds(proto, std::move(folds), k);
    if (!scores) return scores.error();
    result.protocols.push_back(std::move(*scores));
  }
  return result;
}

// ---- LDA on features ------------------------------------------------------------------------------------

Result<WindowFeatureRows> compute_window_features(const WindowSet& set, const features::FeatureSpec& feature_spec,
                                                  const LdaVariant& variant) {
  WindowFeatureRows out;
  features::FeatureSpec fs = feature_spec;
  if (fs.sample_rate_hz == 0.0) fs.sample_rate_hz = set.data->sample_rate_hz;
  auto ex = features::FeatureExtractor::create(fs, set.n_channels(), set.length);
  if (!ex) return ex.error();
  const std::size_t base_cols = ex->n_columns();
  const auto& fnames = ex->feature_names();
  const std::size_t ctx = variant.context_samples;
  out.n_cols = ctx > 0 ? 2 * base_cols : base_cols;
  out.names = ex->column_names(set.data->channel_names);
  if (ctx > 0) {
    const auto more = ex->column_names(set.data->channel_names);
    for (const auto& n : more) out.names.push_back(n + "@" + std::to_string(set.length + ctx));
  }
  // Context windows are clipped at their segment origin, so their length varies (one extractor each).
  std::map<std::size_t, features::FeatureExtractor> by_length;
  // Log amplitudes and per-sample counts: the one definition the live pipeline shares (features stage).
  auto finish = [&](double* row, std::size_t n_samples, bool normalise) {
    features::finish_feature_block(row, set.n_channels(), fnames, n_samples, {normalise, variant.log_amplitude});
  };
  out.rows.assign(set.windows.size() * out.n_cols, 0.0);
  for (std::size_t i = 0; i < set.windows.size(); ++i) {
    double* row = out.rows.data() + i * out.n_cols;
    if (ex->compute(set.window_data(i), set.channel_stride(i), row) != features::ComputeStatus::ok)
      return make_error(ErrorCode::invalid_argument, "non-finite samples in window " + std::to_string(i) + " of " +
                                                         set.data->recordings[set.windows[i].recording].name);
    finish(row, set.length, false);
    if (ctx == 0) continue;
    const WindowRef& w = set.windows[i];
    const std::size_t end = std::size_t(w.start) + set.length;
    const std::size_t begin = std::max<std::size_t>(w.origin, end > set.length + ctx ? end - set.length - ctx : 0);
    const std::size_t n = end - begin;
    auto it = by_length.find(n);
    if (it == by_length.end()) {
      auto e = features::FeatureExtractor::create(fs, set.n_channels(), n);
      if (!e) return e.error();
      it = by_length.emplace(n, std::move(*e)).first;
    }
    const PreparedRecording& rec = set.data->recordings[w.recording];
    if (it->second.compute(rec.samples.data() + begin, rec.n_samples, row + base_cols) != features::ComputeStatus::ok)
      return make_error(ErrorCode::invalid_argument, "non-finite samples before window " + std::to_string(i));
    finish(row + base_cols, n, true);
  }
  return out;
}

FitPredictFn make_lda_fit_predict(const features::FeatureSpec& feature_spec, const models::LdaOptions& lda_options,
                                  const LdaVariant& variant) {
  // Features of every window of one WindowSet, computed on first use (all folds of a run share them).
  struct Cache {
    std::mutex mutex;  // parallel folds: the first computes, the others wait
    std::uint64_t set_id = 0;
    std::size_t n_cols = 0;
    std::vector<double> rows;
    std::vector<std::string> names;
  };
  auto cache = std::make_shared<Cache>();
  return [feature_spec, lda_options, variant, cache](const WindowSet& set, std::span<const std::size_t> train,
                                                     std::span<const std::size_t> test, std::span<int> predicted,
                                                     const FoldContext& fold) -> Status {
    std::unique_lock<std::mutex> lock(cache->mutex);
    if (cache->set_id != set.id || set.id == 0) {
      auto rows = compute_window_features(set, feature_spec, variant);
      if (!rows) return rows.error();
      cache->n_cols = rows->n_cols;
      cache->rows = std::move(rows->rows);
      cache->names = std::move(rows->names);
      cache->set_id = set.id;
    }
    const std::size_t p = cache->n_cols;
    std::vector<double> x(train.size() * p);
    std::vector<int> y(train.size());
    for (std::size_t i = 0; i < train.size(); ++i) {
      std::copy_n(cache->rows.data() + train[i] * p, p, x.data() + i * p);
      y[i] = set.windows[train[i]].label;
    }
    const std::vector<std::string> names = cache->names;
    std::vector<double> xt(test.size() * p);
    for (std::size_t i = 0; i < test.size(); ++i) std::copy_n(cache->rows.data() + test[i] * p, p, xt.data() + i * p);
    lock.unlock();  // the rows are copied: fitting runs outside the lock
    auto lda = models::LdaClassifier::fit(x.data(), train.size(), p, y, set.data->class_names, names, lda_options);
    if (!lda) return lda.error();
    std::vector<double> probs(test.size() * lda->n_classes());
    Status s = lda->predict(xt.data(), test.size(), p, probs.data(), predicted.data());
    if (s && fold.probabilities.size() == probs.size()) std::copy(probs.begin(), probs.end(), fold.probabilities.begin());
    return s;
  };
}

FitPredictFn make_ensemble_fit_predict(std::vector<FitPredictFn> members) {
  return [members](const WindowSet& set, std::span<const std::size_t> train, std::span<const std::size_t> test,
                   std::span<int> predicted, const FoldContext& fold) -> Status {
    if (members.empty()) return make_error(ErrorCode::invalid_argument, "ensemble: no members");
    const std::size_t k = set.data->class_names.size();
    std::vector<double> mean(test.size() * k, 0.0), probs(test.size() * k);
    std::vector<int> member_pred(test.size());
    for (std::size_t m = 0; m < members.size(); ++m) {
      std::fill(probs.begin(), probs.end(), std::nan(""));
      FoldContext c = fold;
      c.probabilities = probs;
      if (Status s = members[m](set, train, test, member_pred, c); !s) return s;
      for (std::size_t i = 0; i < probs.size(); ++i) {
        if (!std::isfinite(probs[i]))
          return make_error(ErrorCode::invalid_argument, "ensemble: member " + std::to_string(m) +
                                                             " wrote no probabilities");
        mean[i] += probs[i];
      }
    }
    for (std::size_t i = 0; i < test.size(); ++i) {
      const double* row = mean.data() + i * k;
      predicted[i] = int(std::max_element(row, row + k) - row);
    }
    if (fold.probabilities.size() == mean.size())
      for (std::size_t i = 0; i < mean.size(); ++i) fold.probabilities[i] = mean[i] / double(members.size());
    return {};
  };
}

// ---- JSON / text ------------------------------------------------------------------------------------------

nlohmann::json metrics_to_json(const Metrics& m, std::span<const std::string> class_names) {
  using nlohmann::json;
  json j;
  j["n_samples"] = m.n_samples;
  j["accuracy"] = m.accuracy;
  j["balanced_accuracy"] = m.balanced_accuracy;
  j["macro_f1"] = m.macro_f1;
  json pc = json::array();
  for (std::size_t c = 0; c < m.per_class.size(); ++c)
    pc.push_back({{"class", c < class_names.size() ? class_names[c] : std::to_string(c)},
                  {"precision", m.per_class[c].precision},
                  {"recall", m.per_class[c].recall},
                  {"f1", m.per_class[c].f1},
                  {"support", m.per_class[c].support}});
  j["per_class"] = std::move(pc);
  json cm = json::array(), cmn = json::array();
  for (std::size_t t = 0; t < m.n_classes; ++t) {
    cm.push_back(std::vector<std::size_t>(m.confusion.begin() + std::ptrdiff_t(t * m.n_classes),
                                          m.confusion.begin() + std::ptrdiff_t((t + 1) * m.n_classes)));
    cmn.push_back(std::vector<double>(m.confusion_normalised.begin() + std::ptrdiff_t(t * m.n_classes),
                                      m.confusion_normalised.begin() + std::ptrdiff_t((t + 1) * m.n_classes)));
  }
  j["confusion"] = std::move(cm);
  j["confusion_normalised"] = std::move(cmn);
  return j;
}

nlohmann::json evaluation_to_json(const EvaluationResult& r) {
  using nlohmann::json;
  json j;
  j["spec"] = r.spec_name;
  j["model"] = r.model_name;
  j["class_names"] = r.class_names;
  j["channel_names"] = r.channel_names;
  j["subjects"] = r.subjects;
  j["excluded"] = r.excluded;
  j["window"] = {{"length", r.window.length}, {"increment", r.window.increment}};
  j["split_fraction"] = r.split_fraction;
  json protos = json::object();
  for (const auto& p : r.protocols) {
    json folds = json::array();
    for (const auto& f : p.folds)
      folds.push_back({{"name", f.name},
                       {"n_train", f.n_train},
                       {"n_test", f.n_test},
                       {"accuracy", f.metrics.accuracy},
                       {"balanced_accuracy", f.metrics.balanced_accuracy},
                       {"macro_f1", f.metrics.macro_f1}});
    protos[protocol_code(p.protocol)] = {
        {"per_fold", std::move(folds)},
        {"summary",
         {{"mean_accuracy", p.mean_accuracy},
          {"min_accuracy", p.min_accuracy},
          {"min_fold", p.min_fold},
          {"mean_balanced_accuracy", p.mean_balanced_accuracy},
          {"mean_macro_f1", p.mean_macro_f1}}},
        {"summed", metrics_to_json(p.summed, r.class_names)}};
  }
  j["protocols"] = std::move(protos);
  return j;
}

std::string format_summary(const EvaluationResult& r) {
  std::ostringstream out;
  char line[256];
  out << r.spec_name << " — " << r.model_name << " (" << r.subjects.size() << " subjects)\n";
  for (const auto& p : r.protocols) {
    std::snprintf(line, sizeof line,
                  "%s: accuracy mean %.1f %% (min %.1f %%, %s) | balanced %.1f %% | macro-F1 %.3f | summed accuracy %.1f %%\n",
                  protocol_code(p.protocol), 100 * p.mean_accuracy, 100 * p.min_accuracy, p.min_fold.c_str(),
                  100 * p.mean_balanced_accuracy, p.mean_macro_f1, 100 * p.summed.accuracy);
    out << line;
  }
  return out.str();
}

}  // namespace myoexo::eval
