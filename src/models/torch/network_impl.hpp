// myoexo::models (models/torch) — INTERNAL: the LibTorch modules behind TorchClassifier.
//
// Includes <torch/torch.h> (~30 s per translation unit): only models/torch/*.cpp and src/train/*.cpp may
// include this header; every other stage uses torch_classifier.hpp.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "models/torch/frozen_cnn1d.hpp"
#include "models/torch/network_spec.hpp"
#include "models/torch/spectrogram.hpp"
#include "models/torch/torch_classifier.hpp"

namespace myoexo::models {

/// conv->forward(x) for x [N, C, L] float32 on the CPU through the direct kernels of direct_conv1d.hpp when the
/// layer is a "same" convolution (odd kernel, padding kernel / 2, stride 1, no dilation or groups), with their own
/// backward (~2x less time per training step than LibTorch's Conv1d at the CNN1d's shapes, measured with
/// bench_train); LibTorch's forward otherwise. Values and gradients match LibTorch's to float rounding.
::torch::Tensor conv1d_direct(const ::torch::Tensor& x, ::torch::nn::Conv1d& conv);

/// relu(max_pool1d(x, pool, pool)) = max_pool1d(relu(x)) on x [N, C, L] -> [N, C, L / pool], as one pass
/// with its own backward (LibTorch's max_pool1d with indices + relu cost ~4x more per training step).
/// Gradients match LibTorch's (first maximum wins ties; no gradient where the maximum is <= 0).
::torch::Tensor relu_maxpool1d(const ::torch::Tensor& x, int64_t pool);

/// relu(max_pool1d(bn(x), pool, pool)) on x [N, C, L] -> [N, C, L / pool]. In training mode (float CPU,
/// pool > 1, affine BatchNorm with a momentum) one fused op: batch statistics, running-statistics update,
/// normalise + ReLU + pool in one pass, and a backward that needs no normalised copy (~2x less time than
/// BatchNorm + relu_maxpool1d). Otherwise bn->forward then relu_maxpool1d. Values and gradients match LibTorch's
/// to float rounding.
::torch::Tensor bn_relu_maxpool1d(const ::torch::Tensor& x, ::torch::nn::BatchNorm1d& bn, int64_t pool);

/// relu(max_pool2d(bn(x), pool x pool)) on x [N, C, H, W] -> [N, C, H / pool, W / pool], the spectrogram CNN's
/// block. In training mode (float CPU, 1 < pool <= 15, affine BatchNorm with a momentum) one fused op as
/// bn_relu_maxpool1d (a paper_uci training epoch on one thread: 14.2 s with LibTorch's three ops, 10.1 s fused);
/// otherwise the three ops.
/// Values and gradients match LibTorch's to float rounding.
::torch::Tensor bn_relu_maxpool2d(const ::torch::Tensor& x, ::torch::nn::BatchNorm2d& bn, int64_t pool);

/// x [N, in] -> x W^T + b [N, out] with Eigen GEMM forward and backward. LibTorch's CPU mm goes to the system
/// BLAS: with the reference BLAS (Debian's default) this is much faster, with OpenBLAS the same speed (measured
/// with bench_train), so the speed does not depend on which BLAS the machine selects. b may be undefined.
::torch::Tensor linear_eigen(const ::torch::Tensor& x, const ::torch::Tensor& weight, const ::torch::Tensor& bias);

/// Every architecture of ArchKind as one module; unused members stay empty. Parameter names are stable
/// (they are the model file's keys): norm_mean/norm_std (buffers), conv{i}.*, bn{i}.*, lstm.*, dense{i}.*,
/// out.*.
class NetworkImpl : public ::torch::nn::Module {
 public:
  explicit NetworkImpl(const NetworkSpec& spec);

  /// x: the network input [N, ...network_input_shape] float32 (raw windows, or the dB spectrogram);
  /// returns logits [N, n_classes].
  ::torch::Tensor forward(::torch::Tensor x);

  /// Sets the normalisation buffers (empty = identity) and the copy in spec().
  void set_normalisation(const Normalisation& norm);
  /// The dense layers (hidden + output): what head-only fine-tuning trains.
  std::vector<::torch::Tensor> head_parameters();
  const NetworkSpec& spec() const noexcept { return spec_; }
  NetworkSpec& mutable_spec() noexcept { return spec_; }

  /// TorchScript source of forward() returning probabilities, using parameter/buffer names with '.'
  /// replaced by '_' (see export in torch_classifier.cpp).
  std::string torchscript_source() const;

  /// A frozen batch-1 copy (cnn1d only; nullopt otherwise). Expects eval mode statistics.
  std::optional<FrozenCnn1d> freeze() const;

 private:
  ::torch::Tensor conv_features(::torch::Tensor x);  // conv blocks (1-D or 2-D)
  ::torch::Tensor head(::torch::Tensor x);

  NetworkSpec spec_;
  ::torch::Tensor norm_mean_, norm_std_;
  std::vector<::torch::nn::Conv1d> conv1d_;
  std::vector<::torch::nn::BatchNorm1d> bn1d_;
  std::vector<::torch::nn::Conv2d> conv2d_;
  std::vector<::torch::nn::BatchNorm2d> bn2d_;
  ::torch::nn::LSTM lstm_{nullptr};
  std::vector<::torch::nn::Linear> dense_;  // hidden layers then the output layer
  ::torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(Network);

/// The classifier's state. `net` is in eval mode except while src/train trains it; after changing weights
/// call refresh().
struct TorchClassifier::Impl {
  Network net{nullptr};
  std::optional<SpectrogramTransform> spectrogram;  // spectrogram_cnn only
  std::optional<FrozenCnn1d> frozen;                 // cnn1d only
  ::torch::Tensor input_buf;                         // [reserved, ...network input shape]
  std::vector<float> row_f;                          // one raw window as float
  std::size_t reserved = 0;

  explicit Impl(const NetworkSpec& spec);
  Impl(const Impl& other);  // deep copy of weights

  const NetworkSpec& spec() const noexcept { return net->spec(); }
  std::size_t window_size() const noexcept { return spec().input.n_channels() * spec().input.window_length; }
  /// Floats per network input row (window_size() or the spectrogram's size).
  std::size_t input_size() const noexcept;
  /// Shape {n, ...network input shape}.
  std::vector<int64_t> input_shape(int64_t n) const;
  /// One raw float window -> the network input row (copy, or spectrogram dB).
  void transform_row(const float* window, float* out);
  /// Eval mode, frozen copy rebuilt, scratch dropped (call reserve again).
  void refresh();
};

}  // namespace myoexo::models
