// Training loop: split, normalisation, fused Adam, schedule, checkpoint, early stopping, progress, history.
#include "train/train.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "models/torch/network_impl.hpp"

namespace myoexo::train {

using ::torch::Tensor;

const char* lr_schedule_name(LrSchedule s) noexcept {
  switch (s) {
    case LrSchedule::constant: return "constant";
    case LrSchedule::step: return "step";
    case LrSchedule::cosine: return "cosine";
  }
  return "?";
}

const char* validation_split_name(ValidationSplit s) noexcept {
  switch (s) {
    case ValidationSplit::none: return "none";
    case ValidationSplit::chronological: return "chronological";
    case ValidationSplit::by_subject: return "subject";
  }
  return "?";
}

// ------------------------------------------------------------ config

Status validate_train_config(const TrainConfig& c) {
  auto bad = [](std::string why) { return make_error(ErrorCode::invalid_argument, "train." + why); };
  if (c.epochs == 0) return bad("epochs must be >= 1");
  if (c.batch_size == 0) return bad("batch_size must be >= 1");
  if (!(c.learning_rate > 0) || !std::isfinite(c.learning_rate)) return bad("learning_rate must be > 0");
  if (!(c.weight_decay >= 0) || !std::isfinite(c.weight_decay)) return bad("weight_decay must be finite and >= 0");
  if (!(c.beta1 >= 0 && c.beta1 < 1) || !(c.beta2 >= 0 && c.beta2 < 1) || !(c.eps > 0) || !std::isfinite(c.eps))
    return bad("beta1, beta2 must be in [0, 1) and eps finite and > 0");
  if (c.schedule == LrSchedule::step && (c.step_size == 0 || !(c.gamma > 0) || !std::isfinite(c.gamma)))
    return bad("step schedule needs step_size >= 1 and gamma finite and > 0");
  if (c.schedule == LrSchedule::cosine && (!(c.min_learning_rate >= 0) || !std::isfinite(c.min_learning_rate)))
    return bad("min_learning_rate must be finite and >= 0");
  if (c.validation != ValidationSplit::none && !(c.validation_fraction > 0 && c.validation_fraction < 1))
    return bad("validation_fraction must be in (0, 1)");
  if (c.threads < 0) return bad("threads must be >= 0");
  return {};
}

Result<TrainConfig> parse_train_config(std::string_view toml_text, const std::string& display_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, display_name);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::parse, display_name, e.source().begin.line, std::string(e.description()));
  }
  TrainConfig c;
  const toml::table* t = root["train"].as_table();
  if (!t) return c;
  std::optional<Error> err;
  auto fail = [&](const toml::node& n, std::string why) {
    if (!err) err = make_error(ErrorCode::parse, display_name, n.source().begin.line, std::move(why));
  };
  auto get_size = [&](const char* key, std::size_t& out) {
    if (const toml::node* n = t->get(key)) {
      auto v = n->value<int64_t>();
      if (!v || *v < 0) return fail(*n, std::string("train.") + key + " must be a non-negative integer");
      out = static_cast<std::size_t>(*v);
    }
  };
  auto get_double = [&](const char* key, double& out) {
    if (const toml::node* n = t->get(key)) {
      auto v = n->value<double>();
      if (!v) return fail(*n, std::string("train.") + key + " must be a number");
      out = *v;
    }
  };
  auto get_bool = [&](const char* key, bool& out) {
    if (const toml::node* n = t->get(key)) {
      auto v = n->value<bool>();
      if (!v) return fail(*n, std::string("train.") + key + " must be true or false");
      out = *v;
    }
  };
  const std::set<std::string_view> known{"epochs", "batch_size", "learning_rate", "weight_decay", "beta1", "beta2",
                                         "eps", "schedule", "step_size", "gamma", "min_learning_rate", "validation",
                                         "validation_fraction", "early_stopping_patience", "balance_classes",
                                         "trainable", "seed", "deterministic", "threads", "progress", "history_csv"};
  for (const auto& [k, v] : *t)
    if (!known.count(k.str())) fail(v, "unknown key '" + std::string(k.str()) + "' in [train]");
  get_size("epochs", c.epochs);
  get_size("batch_size", c.batch_size);
  get_double("learning_rate", c.learning_rate);
  get_double("weight_decay", c.weight_decay);
  get_double("beta1", c.beta1);
  get_double("beta2", c.beta2);
  get_double("eps", c.eps);
  get_size("step_size", c.step_size);
  get_double("gamma", c.gamma);
  get_double("min_learning_rate", c.min_learning_rate);
  get_double("validation_fraction", c.validation_fraction);
  get_size("early_stopping_patience", c.early_stopping_patience);
  get_bool("balance_classes", c.balance_classes);
  get_bool("deterministic", c.deterministic);
  get_bool("progress", c.progress);
  std::size_t seed = c.seed, threads = static_cast<std::size_t>(c.threads);
  get_size("seed", seed);
  get_size("threads", threads);
  c.seed = seed;
  c.threads = static_cast<int>(threads);
  auto get_enum = [&](const char* key, auto& out, std::initializer_list<std::pair<const char*, int>> names) {
    if (const toml::node* n = t->get(key)) {
      auto v = n->value<std::string>();
      for (auto [name, value] : names)
        if (v && *v == name) {
          out = static_cast<std::remove_reference_t<decltype(out)>>(value);
          return;
        }
      std::string list;
      for (auto [name, value] : names) list += (list.empty() ? "" : ", ") + std::string(name);
      fail(*n, std::string("train.") + key + " must be one of " + list);
    }
  };
  get_enum("schedule", c.schedule,
           {{"constant", int(LrSchedule::constant)}, {"step", int(LrSchedule::step)}, {"cosine", int(LrSchedule::cosine)}});
  get_enum("validation", c.validation,
           {{"none", int(ValidationSplit::none)},
            {"chronological", int(ValidationSplit::chronological)},
            {"subject", int(ValidationSplit::by_subject)}});
  get_enum("trainable", c.trainable, {{"all", int(Trainable::all)}, {"head", int(Trainable::head)}});
  if (const toml::node* n = t->get("history_csv")) {
    auto v = n->value<std::string>();
    if (!v) fail(*n, "train.history_csv must be a string");
    else c.history_csv = *v;
  }
  if (err) return *err;
  if (Status s = validate_train_config(c); !s) {
    Error e = s.error();
    e.file = display_name;
    return e;
  }
  return c;
}

Result<TrainConfig> load_train_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, path.string(), 0, "cannot open the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_train_config(ss.str(), path.string());
}

// ------------------------------------------------------------ history

std::vector<double> TrainHistory::series(std::string_view name) const {
  double EpochRecord::*field = nullptr;
  if (name == "train_loss") field = &EpochRecord::train_loss;
  else if (name == "train_accuracy") field = &EpochRecord::train_accuracy;
  else if (name == "val_loss") field = &EpochRecord::val_loss;
  else if (name == "val_accuracy") field = &EpochRecord::val_accuracy;
  else if (name == "learning_rate") field = &EpochRecord::learning_rate;
  else if (name == "seconds") field = &EpochRecord::seconds;
  std::vector<double> out;
  if (!field) return out;
  for (const EpochRecord& e : epochs) out.push_back(e.*field);
  return out;
}

Status write_history_csv(const TrainHistory& history, const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) return make_error(ErrorCode::io, path.string(), 0, "cannot write the history CSV");
  auto num = [](double v) {
    if (std::isnan(v)) return std::string("nan");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return std::string(buf);
  };
  out << "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n";
  for (const EpochRecord& e : history.epochs)
    out << e.epoch << ',' << num(e.train_loss) << ',' << num(e.train_accuracy) << ',' << num(e.val_loss) << ','
        << num(e.val_accuracy) << ',' << num(e.learning_rate) << ',' << num(e.seconds) << '\n';
  if (!out) return make_error(ErrorCode::io, path.string(), 0, "write failed");
  return {};
}

models::Normalisation fit_normalisation(const float* rows, std::size_t n, std::size_t channels,
                                        std::size_t per_channel) {
  models::Normalisation norm;
  norm.mean.assign(channels, 0.0);
  norm.std.assign(channels, 1.0);
  if (n == 0 || per_channel == 0) return norm;
  const std::size_t row = channels * per_channel;
  double largest = 0.0;
  for (std::size_t c = 0; c < channels; ++c) {
    // Two passes in double: the mean first, then the centred sum of squares (no cancellation).
    double sum = 0.0;
    for (std::size_t r = 0; r < n; ++r) {
      const float* x = rows + r * row + c * per_channel;
      for (std::size_t i = 0; i < per_channel; ++i) sum += x[i];
    }
    const double count = double(n) * double(per_channel), mean = sum / count;
    double ss = 0.0;
    for (std::size_t r = 0; r < n; ++r) {
      const float* x = rows + r * row + c * per_channel;
      for (std::size_t i = 0; i < per_channel; ++i) ss += (x[i] - mean) * (x[i] - mean);
    }
    norm.mean[c] = mean;
    norm.std[c] = std::sqrt(ss / count);
    largest = std::max(largest, norm.std[c]);
  }
  const double floor = largest > 0 ? largest * 1e-12 : 1.0;
  for (double& s : norm.std) s = std::max(s, floor);
  return norm;
}

// ------------------------------------------------------------ training

namespace {

/// torch.optim.Adam (L2 weight decay, no amsgrad) as one fused loop per parameter: the per-parameter
/// sequence of ~10 LibTorch ops costs more than the arithmetic at these model sizes.
class FusedAdam {
 public:
  FusedAdam(std::vector<Tensor> params, const TrainConfig& cfg) : params_(std::move(params)), cfg_(cfg) {
    for (const Tensor& p : params_) {
      m_.push_back(std::vector<float>(static_cast<std::size_t>(p.numel()), 0.0f));
      v_.push_back(std::vector<float>(static_cast<std::size_t>(p.numel()), 0.0f));
    }
  }
  void zero_grad() {
    for (Tensor& p : params_)
      if (p.grad().defined()) p.mutable_grad().zero_();
  }
  void step(double lr) {
    ++t_;
    const float b1 = float(cfg_.beta1), b2 = float(cfg_.beta2), wd = float(cfg_.weight_decay), eps = float(cfg_.eps);
    const double bc1 = 1.0 - std::pow(cfg_.beta1, double(t_)), bc2 = 1.0 - std::pow(cfg_.beta2, double(t_));
    const float step_size = float(lr / bc1), inv_bc2_sqrt = float(1.0 / std::sqrt(bc2));
    for (std::size_t k = 0; k < params_.size(); ++k) {
      Tensor& p = params_[k];
      if (!p.grad().defined()) continue;
      float* w = p.data_ptr<float>();
      const float* g = p.grad().data_ptr<float>();
      float* m = m_[k].data();
      float* v = v_[k].data();
      const std::size_t n = m_[k].size();
      for (std::size_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        w[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_bc2_sqrt + eps);
      }
    }
  }

 private:
  std::vector<Tensor> params_;
  TrainConfig cfg_;
  std::vector<std::vector<float>> m_, v_;
  std::int64_t t_ = 0;
};

double learning_rate_at(const TrainConfig& c, std::size_t epoch0) {
  switch (c.schedule) {
    case LrSchedule::constant: return c.learning_rate;
    case LrSchedule::step: return c.learning_rate * std::pow(c.gamma, double(epoch0 / c.step_size));
    case LrSchedule::cosine: {
      if (c.epochs <= 1) return c.learning_rate;
      const double pi = 3.14159265358979323846;
      return c.min_learning_rate + 0.5 * (c.learning_rate - c.min_learning_rate) *
                                       (1.0 + std::cos(pi * double(epoch0) / double(c.epochs - 1)));
    }
  }
  return c.learning_rate;
}

std::string format_seconds(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

/// Windows of the training and the validation part.
struct Split {
  std::vector<std::size_t> train, val;
};

Result<Split> split_windows(const TrainingSet& d, const TrainConfig& c) {
  Split s;
  const std::size_t n = d.size();
  if (c.validation == ValidationSplit::none) {
    s.train.resize(n);
    std::iota(s.train.begin(), s.train.end(), 0);
    return s;
  }
  if (c.validation == ValidationSplit::by_subject) {
    if (d.subject.size() != n)
      return make_error(ErrorCode::invalid_argument, "validation by subject needs a subject id per window");
    const std::set<int> unique(d.subject.begin(), d.subject.end());
    std::vector<int> subjects(unique.begin(), unique.end());
    if (subjects.size() < 2)
      return make_error(ErrorCode::invalid_argument, "validation by subject needs windows of >= 2 subjects");
    std::mt19937_64 rng(c.seed ^ 0x5bd1e995u);
    for (std::size_t i = subjects.size() - 1; i > 0; --i) std::swap(subjects[i], subjects[rng() % (i + 1)]);
    const std::size_t n_val = std::clamp<std::size_t>(
        static_cast<std::size_t>(std::lround(c.validation_fraction * double(subjects.size()))), 1, subjects.size() - 1);
    std::set<int> val(subjects.begin(), subjects.begin() + static_cast<std::ptrdiff_t>(n_val));
    for (std::size_t i = 0; i < n; ++i) (val.count(d.subject[i]) ? s.val : s.train).push_back(i);
    return s;
  }
  // Chronological, per recording: the last fraction of each recording's windows (by start) validate;
  // training windows reaching into the first validation window are dropped.
  std::map<int, std::vector<std::size_t>> by_rec;
  for (std::size_t i = 0; i < n; ++i) by_rec[d.recording.size() == n ? d.recording[i] : 0].push_back(i);
  const bool have_start = d.start.size() == n;
  for (auto& [rec, idx] : by_rec) {
    if (have_start)
      std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return d.start[a] < d.start[b]; });
    const std::size_t n_val = static_cast<std::size_t>(std::ceil(c.validation_fraction * double(idx.size())));
    const std::size_t first_val = idx.size() - std::min(n_val, idx.size());
    for (std::size_t j = first_val; j < idx.size(); ++j) s.val.push_back(idx[j]);
    for (std::size_t j = 0; j < first_val; ++j) {
      if (have_start && d.start[idx[j]] + d.length > d.start[idx[first_val]]) continue;
      s.train.push_back(idx[j]);
    }
  }
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.val.begin(), s.val.end());
  return s;
}

class ProgressBar {
 public:
  // The bar redraws itself with '\r': only on a terminal. Into a file or a pipe, one line per epoch.
  ProgressBar(bool on, bool only_on_terminal, std::size_t epochs, std::size_t batches)
      : on_(on), tty_(!only_on_terminal || ::isatty(STDERR_FILENO) == 1), epochs_(epochs), batches_(batches) {
    t0_ = clock::now();
  }
  void update(std::size_t epoch0, std::size_t batch, double loss, double acc, bool force = false) {
    if (!on_ || !tty_) return;
    const auto now = clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double done = double(epoch0 * batches_ + batch), total = double(epochs_ * batches_);
    const double elapsed = std::chrono::duration<double>(now - t0_).count();
    const double eta = done > 0 ? elapsed / done * (total - done) : 0.0;
    const int width = 24, filled = batches_ ? int(width * double(batch) / double(batches_)) : width;
    std::string bar(std::size_t(filled), '#');
    bar += std::string(std::size_t(width - filled), '-');
    // A regression network has a loss and no accuracy (NaN): the bar shows the loss only.
    char acc_text[32] = "";
    if (std::isfinite(acc)) std::snprintf(acc_text, sizeof acc_text, " acc %5.1f%%", 100.0 * acc);
    std::fprintf(stderr, "\repoch %zu/%zu [%s] loss %.4f%s ETA %s   ", epoch0 + 1, epochs_, bar.c_str(), loss, acc_text,
                 format_seconds(eta).c_str());
    std::fflush(stderr);
  }
  void end_epoch(const EpochRecord& e) {
    if (!on_) return;
    std::fprintf(stderr, "%sepoch %zu/%zu loss %.4f", tty_ ? "\r" : "", e.epoch, epochs_, e.train_loss);
    if (std::isfinite(e.train_accuracy)) std::fprintf(stderr, " acc %5.1f%%", 100.0 * e.train_accuracy);
    if (!std::isnan(e.val_loss)) std::fprintf(stderr, " | val loss %.4f", e.val_loss);
    if (std::isfinite(e.val_accuracy)) std::fprintf(stderr, " acc %5.1f%%", 100.0 * e.val_accuracy);
    std::fprintf(stderr, " | lr %.2e | %.1f s%*s\n", e.learning_rate, e.seconds, tty_ ? 12 : 0, "");
  }

 private:
  using clock = std::chrono::steady_clock;
  bool on_, tty_;
  std::size_t epochs_, batches_;
  clock::time_point t0_, last_{};
};

/// OpenBLAS (Debian's libopenblas0-pthread, when the system BLAS points to it) keeps its own thread pool that
/// torch::set_num_threads does not reach: LibTorch's BLAS calls would each start one thread per core under every
/// fold thread. It gets the training's thread count; with another BLAS the symbol is absent and nothing changes.
void set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto* f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(threads);
}

/// Applies the threads and determinism settings for the duration of training.
void configure_torch(const TrainConfig& c) {
  if (c.threads > 0) {
    ::torch::set_num_threads(c.threads);
    set_blas_threads(c.threads);
  }
  at::globalContext().setDeterministicAlgorithms(c.deterministic, /*warn_only=*/true);
  ::torch::manual_seed(c.seed);
}

Status check_data(const models::NetworkSpec& spec, const TrainingSet& d) {
  const std::size_t n = d.size();
  if (n == 0) return make_error(ErrorCode::empty, "no training windows");
  if (d.channels != spec.input.n_channels() || d.length != spec.input.window_length)
    return make_error(ErrorCode::mismatch, "training windows are " + std::to_string(d.channels) + " x " +
                                               std::to_string(d.length) + ", the network takes " +
                                               std::to_string(spec.input.n_channels()) + " x " +
                                               std::to_string(spec.input.window_length));
  if (d.X.size() != n * d.channels * d.length)
    return make_error(ErrorCode::invalid_argument, "X holds " + std::to_string(d.X.size()) + " values, expected n * channels * length = " +
                                                       std::to_string(n * d.channels * d.length));
  if ((!d.subject.empty() && d.subject.size() != n) || (!d.recording.empty() && d.recording.size() != n) ||
      (!d.start.empty() && d.start.size() != n))
    return make_error(ErrorCode::invalid_argument, "subject/recording/start need one entry per window (or none)");
  const int k = static_cast<int>(spec.class_names.size());
  if (!d.target.empty()) {
    if (d.target.size() != n) return make_error(ErrorCode::invalid_argument, "target needs one value per window");
    if (k != 1) return make_error(ErrorCode::invalid_argument, "a regression network has one output name");
    for (float v : d.target)
      if (!std::isfinite(v)) return make_error(ErrorCode::invalid_argument, "non-finite training target");
  } else if (k < 2) {
    return make_error(ErrorCode::invalid_argument, "a classifier needs at least two class names");
  }
  for (int label : d.y)
    if (label < 0 || label >= k)
      return make_error(ErrorCode::invalid_argument, "label " + std::to_string(label) + " outside [0, " +
                                                         std::to_string(k) + ")");
  for (float v : d.X)
    if (!std::isfinite(v)) return make_error(ErrorCode::invalid_argument, "non-finite value in the training windows");
  return {};
}

Result<TrainHistory> run_training(models::TorchClassifier::Impl& m, const TrainingSet& d, const TrainConfig& c,
                                  bool fit_norm) {
  const models::NetworkSpec& spec = m.spec();
  if (Status s = validate_train_config(c); !s) return s.error();
  if (Status s = check_data(spec, d); !s) return s.error();
  auto split = split_windows(d, c);
  if (!split) return split.error();
  if (split->train.size() < 2) return make_error(ErrorCode::empty, "fewer than two training windows after the split");
  configure_torch(c);

  try {
    // Network inputs for every window (the dB spectrogram when the network wants one).
    const std::size_t n = d.size(), row_in = m.input_size(), w = m.window_size();
    std::vector<float> transformed;
    const float* rows = d.X.data();
    if (m.spectrogram) {
      transformed.resize(n * row_in);
      for (std::size_t i = 0; i < n; ++i) m.transform_row(d.X.data() + i * w, transformed.data() + i * row_in);
      rows = transformed.data();
    }
    Tensor X = ::torch::from_blob(const_cast<float*>(rows), m.input_shape(int64_t(n)), ::torch::kFloat);
    Tensor Y = ::torch::from_blob(const_cast<int*>(d.y.data()), {int64_t(n)}, ::torch::kInt).to(::torch::kLong);
    const bool regression = !d.target.empty();
    Tensor T = regression ? ::torch::from_blob(const_cast<float*>(d.target.data()), {int64_t(n)}, ::torch::kFloat)
                          : Tensor();

    if (fit_norm) {
      std::vector<float> train_rows(split->train.size() * row_in);
      for (std::size_t j = 0; j < split->train.size(); ++j)
        std::copy(rows + split->train[j] * row_in, rows + (split->train[j] + 1) * row_in, train_rows.data() + j * row_in);
      m.net->set_normalisation(
          fit_normalisation(train_rows.data(), split->train.size(), spec.input.n_channels(), row_in / spec.input.n_channels()));
    }

    const std::size_t k = spec.class_names.size();
    Tensor class_weight;
    if (c.balance_classes) {
      std::vector<double> count(k, 0.0);
      for (std::size_t i : split->train) count[std::size_t(d.y[i])] += 1.0;
      std::vector<float> wts(k, 0.0f);
      for (std::size_t j = 0; j < k; ++j)
        wts[j] = count[j] > 0 ? float(double(split->train.size()) / (double(k) * count[j])) : 0.0f;
      class_weight = ::torch::tensor(wts);
    }
    // The loss of a batch: cross-entropy over the classes, or the squared error of the one output.
    auto batch_loss = [&](const Tensor& out, const Tensor& idx, const Tensor& yb, bool sum) {
      if (regression) {
        auto o = ::torch::nn::functional::MSELossFuncOptions();
        if (sum) o.reduction(::torch::kSum);
        return ::torch::nn::functional::mse_loss(out.select(1, 0), T.index_select(0, idx), o);
      }
      auto o = ::torch::nn::functional::CrossEntropyFuncOptions().weight(class_weight);
      if (sum) o.reduction(::torch::kSum);
      return ::torch::nn::functional::cross_entropy(out, yb, o);
    };

    std::vector<Tensor> params;
    if (c.trainable == Trainable::head) {
      for (auto& p : m.net->parameters()) p.set_requires_grad(false);
      params = m.net->head_parameters();
      for (auto& p : params) p.set_requires_grad(true);
    } else {
      for (auto& p : m.net->parameters()) p.set_requires_grad(true);
      params = m.net->parameters();
    }
    FusedAdam adam(params, c);

    auto set_train_mode = [&] {
      if (c.trainable == Trainable::head) m.net->eval();  // frozen BatchNorm statistics, no dropout
      else m.net->train();
    };
    auto snapshot = [&] {
      std::vector<Tensor> s;
      for (auto& p : m.net->parameters()) s.push_back(p.detach().clone());
      for (auto& b : m.net->buffers()) s.push_back(b.detach().clone());
      return s;
    };
    auto restore = [&](const std::vector<Tensor>& s) {
      ::torch::NoGradGuard g;
      std::size_t i = 0;
      for (auto& p : m.net->parameters()) p.copy_(s[i++]);
      for (auto& b : m.net->buffers()) b.copy_(s[i++]);
    };

    TrainHistory h;
    h.train_windows = split->train.size();
    h.val_windows = split->val.size();
    const std::size_t bs = c.batch_size;
    const std::size_t n_batches = (split->train.size() + bs - 1) / bs;
    ProgressBar bar(c.progress, c.progress_bar_only_on_terminal, c.epochs, n_batches);
    std::mt19937_64 rng(c.seed);
    std::vector<std::size_t> order = split->train;
    std::vector<int64_t> batch_idx;
    std::vector<Tensor> best_state;
    double best_val = std::numeric_limits<double>::infinity();
    std::size_t since_best = 0;
    double step_seconds = 0.0;
    std::size_t stepped = 0;
    const Tensor val_idx = ::torch::tensor(std::vector<int64_t>(split->val.begin(), split->val.end()), ::torch::kLong);

    for (std::size_t epoch0 = 0; epoch0 < c.epochs; ++epoch0) {
      const auto t_epoch = std::chrono::steady_clock::now();
      const double lr = learning_rate_at(c, epoch0);
      for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
      set_train_mode();
      double loss_sum = 0.0;
      std::size_t correct = 0, seen = 0;
      for (std::size_t b = 0; b < n_batches; ++b) {
        const std::size_t lo = b * bs, hi = std::min(order.size(), lo + bs);
        if (hi - lo < 2) continue;  // BatchNorm needs > 1 value per channel
        batch_idx.assign(order.begin() + std::ptrdiff_t(lo), order.begin() + std::ptrdiff_t(hi));
        Tensor idx = ::torch::from_blob(batch_idx.data(), {int64_t(hi - lo)}, ::torch::kLong);
        Tensor xb = X.index_select(0, idx), yb = Y.index_select(0, idx);
        adam.zero_grad();
        Tensor logits = m.net->forward(xb);
        Tensor loss = batch_loss(logits, idx, yb, false);
        loss.backward();
        adam.step(lr);
        loss_sum += loss.item<double>() * double(hi - lo);
        if (!regression) correct += static_cast<std::size_t>(logits.argmax(1).eq(yb).sum().item<int64_t>());
        seen += hi - lo;
        bar.update(epoch0, b + 1, loss_sum / double(seen), regression ? std::nan("") : double(correct) / double(seen));
      }
      step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
      stepped += seen;

      EpochRecord e;
      e.epoch = epoch0 + 1;
      e.learning_rate = lr;
      e.train_loss = seen ? loss_sum / double(seen) : std::nan("");
      e.train_accuracy = seen && !regression ? double(correct) / double(seen) : std::nan("");
      e.val_loss = e.val_accuracy = std::nan("");
      if (!split->val.empty()) {
        m.net->eval();
        ::torch::NoGradGuard g;
        double vloss = 0.0;
        std::size_t vcorrect = 0;
        const int64_t chunk = 1024, nv = val_idx.size(0);
        for (int64_t s = 0; s < nv; s += chunk) {
          Tensor idx = val_idx.narrow(0, s, std::min(chunk, nv - s));
          Tensor yb = Y.index_select(0, idx);
          Tensor logits = m.net->forward(X.index_select(0, idx));
          vloss += batch_loss(logits, idx, yb, true).item<double>();
          if (!regression) vcorrect += static_cast<std::size_t>(logits.argmax(1).eq(yb).sum().item<int64_t>());
        }
        if (class_weight.defined() && !regression) {
          // Weighted mean as cross_entropy's 'mean' reduction defines it: divide by the summed weights.
          Tensor wsum = class_weight.index_select(0, Y.index_select(0, val_idx)).sum();
          e.val_loss = vloss / wsum.item<double>();
        } else {
          e.val_loss = vloss / double(nv);
        }
        e.val_accuracy = regression ? std::nan("") : double(vcorrect) / double(nv);
      }
      e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
      h.epochs.push_back(e);
      bar.end_epoch(e);
      if (!c.history_csv.empty())
        if (Status s = write_history_csv(h, c.history_csv); !s) return s.error();

      if (split->val.empty()) {
        h.best_epoch = e.epoch;
      } else if (e.val_loss < best_val) {
        best_val = e.val_loss;
        h.best_epoch = e.epoch;
        best_state = snapshot();
        since_best = 0;
      } else if (c.early_stopping_patience > 0 && ++since_best >= c.early_stopping_patience) {
        h.stopped_early = e.epoch < c.epochs;
        break;
      }
    }
    if (!best_state.empty()) restore(best_state);
    for (auto& p : m.net->parameters()) p.set_requires_grad(true);
    h.samples_per_second = step_seconds > 0 ? double(stepped) / step_seconds : 0.0;
    m.refresh();
    return h;
  } catch (const std::exception& ex) {
    m.refresh();
    return make_error(ErrorCode::invalid_argument, std::string("training failed: ") + ex.what());
  }
}

}  // namespace

Result<TrainResult> train_network(const models::NetworkSpec& spec, const TrainingSet& data, const TrainConfig& cfg) {
  auto model = models::TorchClassifier::create(spec, cfg.seed);
  if (!model) return model.error();
  auto history = run_training(model->impl(), data, cfg, /*fit_norm=*/true);
  if (!history) return history.error();
  return TrainResult{std::move(model).value(), std::move(history).value()};
}

Result<TrainHistory> fine_tune(models::TorchClassifier& model, const TrainingSet& data, const TrainConfig& cfg) {
  return run_training(model.impl(), data, cfg, /*fit_norm=*/false);
}

}  // namespace myoexo::train
