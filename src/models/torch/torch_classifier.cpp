// TorchClassifier: prediction paths, model file, TorchScript export.
#include "models/torch/torch_classifier.hpp"

#include <nlohmann/json.hpp>

#include <mutex>

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "models/torch/network_impl.hpp"

namespace myoexo::models {

using ::torch::Tensor;

namespace {

constexpr int64_t kFormatVersion = 1;
constexpr const char* kSpecKey = "myoexo_spec";
constexpr const char* kFormatKey = "myoexo_format";

std::string join(const std::vector<std::string>& names) {
  std::string s = "[";
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s + "]";
}

}  // namespace

// ------------------------------------------------------------ Impl

TorchClassifier::Impl::Impl(const NetworkSpec& spec) : net(Network(spec)) {
  if (spec.arch.kind == ArchKind::spectrogram_cnn)
    spectrogram = SpectrogramTransform::create(spec.input.n_channels(), spec.input.window_length, spec.arch.nperseg,
                                               spec.arch.noverlap, spec.arch.power_floor, spec.input.sample_rate_hz)
                      .value();
  row_f.resize(window_size());
  net->eval();
}

TorchClassifier::Impl::Impl(const Impl& other) : net(Network(other.spec())), spectrogram(other.spectrogram) {
  ::torch::NoGradGuard guard;
  auto dst = net->named_parameters(true), src = other.net->named_parameters(true);
  for (const auto& item : src) dst[item.key()].copy_(item.value());
  auto dbuf = net->named_buffers(true), sbuf = other.net->named_buffers(true);
  for (const auto& item : sbuf) dbuf[item.key()].copy_(item.value());
  net->mutable_spec() = other.spec();
  row_f.resize(window_size());
  if (other.net->is_training()) net->train(); else net->eval();
  frozen = other.frozen;
}

std::size_t TorchClassifier::Impl::input_size() const noexcept {
  return spectrogram ? spectrogram->output_size() : window_size();
}

std::vector<int64_t> TorchClassifier::Impl::input_shape(int64_t n) const {
  std::vector<int64_t> shape{n};
  for (std::size_t d : network_input_shape(spec().input, spec().arch)) shape.push_back(static_cast<int64_t>(d));
  return shape;
}

void TorchClassifier::Impl::transform_row(const float* window, float* out) {
  if (spectrogram)
    spectrogram->process(window, out);
  else
    std::copy(window, window + window_size(), out);
}

void TorchClassifier::Impl::refresh() {
  net->eval();
  frozen = net->freeze();
  input_buf = Tensor();
  reserved = 0;
}

// ------------------------------------------------------------ TorchClassifier

TorchClassifier::TorchClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorchClassifier::TorchClassifier(TorchClassifier&&) noexcept = default;
TorchClassifier& TorchClassifier::operator=(TorchClassifier&&) noexcept = default;
TorchClassifier::~TorchClassifier() = default;
TorchClassifier::TorchClassifier(const TorchClassifier& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
TorchClassifier& TorchClassifier::operator=(const TorchClassifier& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}

Result<TorchClassifier> TorchClassifier::create(const NetworkSpec& spec, std::uint64_t seed) {
  if (Status s = validate_network_spec(spec); !s) return s.error();
  // One output name = a regressor (its raw output read through predict_outputs, e.g. the knee angle).
  if (spec.class_names.empty())
    return make_error(ErrorCode::invalid_argument, "a network needs at least one output (class) name");
  // LibTorch's default generator is process-global: seeding and drawing the initial weights must not interleave
  // with another thread's create() (parallel protocol folds), or the same seed would give different weights.
  static std::mutex init_mutex;
  std::unique_ptr<Impl> impl;
  {
    std::lock_guard<std::mutex> lock(init_mutex);
    ::torch::manual_seed(seed);
    impl = std::make_unique<Impl>(spec);
  }
  impl->refresh();
  return TorchClassifier(std::move(impl));
}

const NetworkSpec& TorchClassifier::spec() const noexcept { return impl_->spec(); }
void TorchClassifier::set_card(ModelCard card) { impl_->net->mutable_spec().card = std::move(card); }
std::size_t TorchClassifier::n_inputs() const noexcept { return impl_->window_size(); }
std::size_t TorchClassifier::n_classes() const noexcept { return impl_->spec().class_names.size(); }
const std::vector<std::string>& TorchClassifier::class_names() const noexcept { return impl_->spec().class_names; }
const std::vector<std::string>& TorchClassifier::input_names() const noexcept {
  return impl_->spec().input.channel_names;
}

Status TorchClassifier::reserve(std::size_t max_rows) {
  Impl& m = *impl_;
  max_rows = std::max<std::size_t>(max_rows, 1);
  try {
    ::torch::InferenceMode guard;
    if (m.reserved < max_rows || !m.input_buf.defined()) {
      m.input_buf = ::torch::zeros(m.input_shape(static_cast<int64_t>(max_rows)));
      m.reserved = max_rows;
    }
    // Warm-up: the first forward pays for LibTorch's lazy initialisation (and the frozen path's pages).
    std::vector<double> zeros(m.window_size(), 0.0), probs(n_classes());
    if (m.frozen) m.frozen->predict_proba(zeros.data(), probs.data());
    (void)m.net->forward(m.input_buf.narrow(0, 0, 1));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::invalid_argument, std::string("reserve: ") + e.what());
  }
  return {};
}

namespace {

Status check_rows(const double* inputs, std::size_t n_rows, std::size_t n_cols, std::size_t expected) {
  if (n_cols != expected)
    return make_error(ErrorCode::invalid_argument, "predict_proba: " + std::to_string(n_cols) +
                                                       " values per row, the network takes " +
                                                       std::to_string(expected));
  for (std::size_t i = 0; i < n_rows * n_cols; ++i)
    if (!std::isfinite(inputs[i])) return make_error(ErrorCode::invalid_argument, "predict_proba: non-finite input");
  return {};
}

Status torch_predict(TorchClassifier::Impl& m, const double* inputs, std::size_t n_rows, double* out_probs,
                     bool softmax = true) {
  const std::size_t w = m.window_size(), row_in = m.input_size(), k = m.spec().class_names.size();
  try {
    ::torch::InferenceMode guard;
    for (std::size_t r0 = 0; r0 < n_rows; r0 += m.reserved) {
      const std::size_t rows = std::min(m.reserved, n_rows - r0);
      float* buf = m.input_buf.data_ptr<float>();
      for (std::size_t r = 0; r < rows; ++r) {
        const double* src = inputs + (r0 + r) * w;
        for (std::size_t i = 0; i < w; ++i) m.row_f[i] = static_cast<float>(src[i]);
        m.transform_row(m.row_f.data(), buf + r * row_in);
      }
      Tensor out = m.net->forward(m.input_buf.narrow(0, 0, int64_t(rows)));
      Tensor probs = (softmax ? ::torch::softmax(out, 1) : out).contiguous();
      const float* p = probs.data_ptr<float>();
      for (std::size_t i = 0; i < rows * k; ++i) out_probs[r0 * k + i] = p[i];
    }
  } catch (const std::exception& e) {
    return make_error(ErrorCode::invalid_argument, std::string("predict_proba: ") + e.what());
  }
  return {};
}

}  // namespace

Status TorchClassifier::predict_proba(const double* inputs, std::size_t n_rows, std::size_t n_cols,
                                      double* out_probs) {
  Impl& m = *impl_;
  if (Status s = check_rows(inputs, n_rows, n_cols, m.window_size()); !s) return s;
  if (m.frozen) {
    const std::size_t k = n_classes();
    for (std::size_t r = 0; r < n_rows; ++r) m.frozen->predict_proba(inputs + r * n_cols, out_probs + r * k);
    return {};
  }
  if (m.reserved == 0)
    if (Status s = reserve(1); !s) return s;
  return torch_predict(m, inputs, n_rows, out_probs);
}

Status TorchClassifier::predict_outputs(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out) {
  Impl& m = *impl_;
  if (Status s = check_rows(inputs, n_rows, n_cols, m.window_size()); !s) return s;
  if (m.frozen) {
    const std::size_t k = n_classes();
    for (std::size_t r = 0; r < n_rows; ++r) m.frozen->predict_outputs(inputs + r * n_cols, out + r * k);
    return {};
  }
  if (m.reserved == 0)
    if (Status s = reserve(1); !s) return s;
  return torch_predict(m, inputs, n_rows, out, /*softmax=*/false);
}

Status TorchClassifier::scale_outputs(double scale, double offset) {
  if (!std::isfinite(scale) || !std::isfinite(offset))
    return make_error(ErrorCode::invalid_argument, "scale_outputs: the scale and offset must be finite");
  try {
    ::torch::NoGradGuard guard;
    // The output layer is the last module registered as "out" (NetworkImpl).
    for (auto& item : impl_->net->named_parameters()) {
      if (item.key() == "out.weight") item.value().mul_(scale);
      if (item.key() == "out.bias") item.value().mul_(scale).add_(offset);
    }
  } catch (const std::exception& e) {
    return make_error(ErrorCode::invalid_argument, std::string("scale_outputs: ") + e.what());
  }
  impl_->refresh();
  return {};
}

Status TorchClassifier::predict_proba_reference(const double* inputs, std::size_t n_rows, std::size_t n_cols,
                                                double* out_probs) {
  Impl& m = *impl_;
  if (Status s = check_rows(inputs, n_rows, n_cols, m.window_size()); !s) return s;
  if (m.reserved == 0)
    if (Status s = reserve(1); !s) return s;
  return torch_predict(m, inputs, n_rows, out_probs);
}

// ------------------------------------------------------------ files

Status TorchClassifier::save(const std::filesystem::path& path) const {
  try {
    ::torch::serialize::OutputArchive archive;
    impl_->net->save(archive);
    archive.write(kFormatKey, c10::IValue(kFormatVersion));
    archive.write(kSpecKey, c10::IValue(network_spec_to_json(impl_->spec())));
    archive.save_to(path.string());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::io, path.string(), 0, std::string("cannot write the model file: ") + e.what());
  }
  return {};
}

Result<TorchClassifier> TorchClassifier::load(const std::filesystem::path& path,
                                              std::span<const std::string> expected_channels) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error(ErrorCode::io, path.string(), 0, "no such model file");
  ::torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::parse, path.string(), 0, "not a LibTorch archive (myoexo model file)");
  }
  c10::IValue format, spec_json;
  if (!archive.try_read(kFormatKey, format) || !format.isInt() || !archive.try_read(kSpecKey, spec_json) ||
      !spec_json.isString())
    return make_error(ErrorCode::parse, path.string(), 0, "a LibTorch archive without myoexo metadata");
  if (format.toInt() != kFormatVersion)
    return make_error(ErrorCode::unsupported, path.string(), 0,
                      "model file format " + std::to_string(format.toInt()) + " (this build reads " +
                          std::to_string(kFormatVersion) + ")");
  auto spec = network_spec_from_json(spec_json.toStringRef(), path.string());
  if (!spec) return spec.error();
  if (!expected_channels.empty()) {
    std::vector<std::string> want(expected_channels.begin(), expected_channels.end());
    if (want != spec->input.channel_names)
      return make_error(ErrorCode::mismatch, path.string(), 0,
                        "model made for channels " + join(spec->input.channel_names) + ", the data has " +
                            join(want));
  }
  // One output is a regressor (the knee angle); a classifier has two classes or more.
  if (spec->class_names.empty())
    return make_error(ErrorCode::parse, path.string(), 0, "model file lists no outputs (classes)");
  try {
    auto impl = std::make_unique<Impl>(*spec);
    impl->net->load(archive);
    impl->net->set_normalisation(spec->normalisation);
    impl->refresh();
    return TorchClassifier(std::move(impl));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::parse, path.string(), 0,
                      std::string("weights do not match the stored architecture: ") + e.what());
  }
}

Status TorchClassifier::export_torchscript(const std::filesystem::path& path) const {
  try {
    ::torch::jit::Module module("MyoexoNet");
    auto dot_to_underscore = [](std::string s) {
      std::replace(s.begin(), s.end(), '.', '_');
      return s;
    };
    for (const auto& item : impl_->net->named_parameters(true))
      module.register_parameter(dot_to_underscore(item.key()), item.value().detach().clone(), false);
    for (const auto& item : impl_->net->named_buffers(true))
      module.register_buffer(dot_to_underscore(item.key()), item.value().detach().clone());
    module.define(impl_->net->torchscript_source());
    module.eval();
    // What a PyTorch user needs to run it correctly without this program, as an extra file of the archive
    // (torch.jit.load(path, _extra_files={"myoexo.json": ""})): classes, channels in order, rate, signal unit,
    // filter, window, normalisation (applied inside forward) and the model card.
    const nlohmann::json network = nlohmann::json::parse(network_spec_to_json(spec()));
    nlohmann::json meta = {
        {"format", "myoexo-torchscript"},
        {"version", 1},
        {"input", "float32 [batch, channels, window samples] in the model's channel order and signal unit, filtered as "
                  "network.input.filter says (causal unless trained zero-phase); normalisation is applied inside "
                  "forward"},
        {"output", "class probabilities [batch, classes] in network.classes order"},
        {"network", network}};
    ::torch::jit::ExtraFilesMap extra{{"myoexo.json", meta.dump(2)}};
    module.save(path.string(), extra);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::io, path.string(), 0, std::string("TorchScript export failed: ") + e.what());
  }
  return {};
}

}  // namespace myoexo::models
