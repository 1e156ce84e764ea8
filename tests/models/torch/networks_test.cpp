// The hand-written training kernels against LibTorch's own operators (values and gradients), and the frozen
// batch-1 path against the LibTorch forward with non-trivial BatchNorm statistics.
#include <gtest/gtest.h>

#include "models/torch/network_impl.hpp"
#include "models/torch/synthetic_windows.hpp"

namespace myoexo::models {
namespace {

using ::torch::Tensor;

TEST(Networks, FusedReluMaxPoolMatchesLibTorchValuesAndGradients) {
  ::torch::manual_seed(0);
  for (int64_t pool : {2, 3}) {
    for (int64_t len : {10, 11}) {  // odd tails are dropped, as in torch
      Tensor x = ::torch::randn({4, 3, len});
      x.index_put_({0, 0, 0}, 1.0);
      x.index_put_({0, 0, 1}, 1.0);  // a tie: the first element gets the gradient
      Tensor a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
      Tensor ya = relu_maxpool1d(a, pool);
      Tensor yb = ::torch::max_pool1d(::torch::relu(b), {pool}, {pool});
      ASSERT_TRUE(::torch::equal(ya, yb)) << "pool " << pool << " len " << len;
      Tensor g = ::torch::randn(ya.sizes());
      ya.backward(g);
      yb.backward(g);
      EXPECT_TRUE(::torch::equal(a.grad(), b.grad())) << "pool " << pool << " len " << len;
    }
  }
}

TEST(Networks, FusedTrainingBatchNormReluMaxPoolMatchesLibTorchValuesGradientsAndRunningStatistics) {
  ::torch::manual_seed(3);
  for (int64_t pool : {2, 4}) {
    // 15: a tail the pool drops still counts in the batch statistics; 67 and 100: whole vectors of pairs plus a
    // part vector on every SIMD width.
    for (int64_t len : {12, 15, 67, 100}) {
      ::torch::nn::BatchNorm1d fused(5), reference(5);
      {
        ::torch::NoGradGuard g;
        for (auto* bn : {&fused, &reference}) {
          (*bn)->weight.copy_(::torch::linspace(-1.5, 2.0, 5));  // a negative gamma flips the pool's winner
          (*bn)->bias.copy_(::torch::linspace(0.3, -0.4, 5));
          (*bn)->running_mean.fill_(0.2);
          (*bn)->running_var.fill_(1.7);
        }
      }
      Tensor x = ::torch::randn({6, 5, len}) * 3.0 + 1.0;
      Tensor a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
      Tensor ya = bn_relu_maxpool1d(a, fused, pool);
      Tensor yb = ::torch::relu(::torch::max_pool1d(reference->forward(b), {pool}, {pool}));
      ASSERT_EQ(ya.sizes(), yb.sizes());
      EXPECT_TRUE(::torch::allclose(ya, yb, 1e-5, 1e-5)) << "pool " << pool << " len " << len;
      EXPECT_TRUE(::torch::allclose(fused->running_mean, reference->running_mean, 1e-6, 1e-6));
      EXPECT_TRUE(::torch::allclose(fused->running_var, reference->running_var, 1e-5, 1e-6));
      EXPECT_EQ(fused->num_batches_tracked.item<int64_t>(), reference->num_batches_tracked.item<int64_t>());
      Tensor g = ::torch::randn(ya.sizes());
      ya.backward(g);
      yb.backward(g);
      EXPECT_TRUE(::torch::allclose(a.grad(), b.grad(), 1e-4, 1e-5)) << "pool " << pool << " len " << len;
      EXPECT_TRUE(::torch::allclose(fused->weight.grad(), reference->weight.grad(), 1e-4, 1e-5));
      EXPECT_TRUE(::torch::allclose(fused->bias.grad(), reference->bias.grad(), 1e-4, 1e-5));
    }
  }
}

TEST(Networks, FusedTrainingBatchNorm2dReluMaxPoolMatchesLibTorchValuesGradientsAndRunningStatistics) {
  ::torch::manual_seed(5);
  // (129, 9): the paper configuration's spectrogram, whose last row and column no 2x2 pool covers; 13 x 5 with
  // pool 3: a one-row, two-column tail.
  struct Shape {
    int64_t h, w, pool;
  };
  for (const Shape sh : {Shape{129, 9, 2}, Shape{8, 4, 2}, Shape{13, 5, 3}, Shape{64, 4, 2}}) {
    ::torch::nn::BatchNorm2d fused(5), reference(5);
    {
      ::torch::NoGradGuard g;
      for (auto* bn : {&fused, &reference}) {
        (*bn)->weight.copy_(::torch::linspace(-1.5, 2.0, 5));  // a negative gamma flips the pool's winner
        (*bn)->bias.copy_(::torch::linspace(0.3, -0.4, 5));
        (*bn)->running_mean.fill_(0.2);
        (*bn)->running_var.fill_(1.7);
      }
    }
    Tensor x = ::torch::randn({6, 5, sh.h, sh.w}) * 3.0 + 1.0;
    x.index_put_({0, 3, 0, 0}, 15.0);  // a tie for the maximum (gamma > 0 here): the first element wins
    x.index_put_({0, 3, 0, 1}, 15.0);
    x.index_put_({1, 4, 1, 0}, 20.0);  // a clear winner in the pool's second row
    Tensor a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
    Tensor ya = bn_relu_maxpool2d(a, fused, sh.pool);
    Tensor yb = ::torch::relu(::torch::max_pool2d(reference->forward(b), {sh.pool, sh.pool}, {sh.pool, sh.pool}));
    const std::string where = std::to_string(sh.h) + "x" + std::to_string(sh.w) + " pool " + std::to_string(sh.pool);
    ASSERT_EQ(ya.sizes(), yb.sizes()) << where;
    EXPECT_TRUE(::torch::allclose(ya, yb, 1e-5, 1e-5)) << where;
    EXPECT_TRUE(::torch::allclose(fused->running_mean, reference->running_mean, 1e-6, 1e-6)) << where;
    EXPECT_TRUE(::torch::allclose(fused->running_var, reference->running_var, 1e-5, 1e-6)) << where;
    EXPECT_EQ(fused->num_batches_tracked.item<int64_t>(), reference->num_batches_tracked.item<int64_t>());
    Tensor g = ::torch::randn(ya.sizes());
    ya.backward(g);
    yb.backward(g);
    EXPECT_TRUE(::torch::allclose(a.grad(), b.grad(), 1e-4, 1e-5)) << where;
    EXPECT_TRUE(::torch::allclose(fused->weight.grad(), reference->weight.grad(), 1e-4, 1e-5)) << where;
    EXPECT_TRUE(::torch::allclose(fused->bias.grad(), reference->bias.grad(), 1e-4, 1e-5)) << where;
  }
  // Eval mode takes LibTorch's ops with the running statistics and leaves them alone.
  ::torch::nn::BatchNorm2d bn(3);
  bn->eval();
  Tensor x = ::torch::randn({2, 3, 6, 4});
  EXPECT_TRUE(::torch::allclose(bn_relu_maxpool2d(x, bn, 2),
                                ::torch::relu(::torch::max_pool2d(bn->forward(x), {2, 2}, {2, 2})), 1e-6, 1e-6));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);
}

TEST(Networks, DirectConvolutionMatchesLibTorchValuesAndGradients) {
  ::torch::manual_seed(7);
  struct Shape {
    int64_t n, in, out, len, kernel;
    bool bias, input_grad;
  };
  // The CNN1d's layers; lengths and channel counts that are not whole tiles or blocks; a kernel longer than the
  // weight-gradient tile (9 > 7 taps) and longer than the signal; kernel 1; the first layer (no input gradient).
  const Shape shapes[] = {{5, 4, 16, 250, 7, true, false}, {3, 16, 32, 125, 7, true, true},
                          {4, 32, 64, 62, 7, true, true},  {2, 5, 6, 61, 9, false, true},
                          {3, 3, 5, 17, 1, true, true},    {2, 2, 3, 3, 5, true, true}};
  for (const Shape& sh : shapes) {
    ::torch::nn::Conv1d conv(::torch::nn::Conv1dOptions(sh.in, sh.out, sh.kernel).padding(sh.kernel / 2).bias(sh.bias));
    Tensor x = ::torch::randn({sh.n, sh.in, sh.len});
    Tensor xa = x.clone().requires_grad_(sh.input_grad), xb = x.clone().requires_grad_(sh.input_grad);
    Tensor ya = conv1d_direct(xa, conv);
    Tensor yb = ::torch::conv1d(xb, conv->weight, sh.bias ? conv->bias : Tensor(), 1, sh.kernel / 2);
    const std::string what = "in " + std::to_string(sh.in) + " out " + std::to_string(sh.out) + " len " +
                             std::to_string(sh.len) + " kernel " + std::to_string(sh.kernel);
    ASSERT_EQ(ya.sizes(), yb.sizes()) << what;
    EXPECT_TRUE(::torch::allclose(ya, yb, 1e-5, 1e-5)) << what;
    Tensor g = ::torch::randn(ya.sizes());
    const auto grads_a = ::torch::autograd::grad({ya}, sh.bias ? std::vector<Tensor>{conv->weight, conv->bias}
                                                               : std::vector<Tensor>{conv->weight},
                                                 {g});
    const auto grads_b = ::torch::autograd::grad({yb}, sh.bias ? std::vector<Tensor>{conv->weight, conv->bias}
                                                               : std::vector<Tensor>{conv->weight},
                                                 {g});
    for (std::size_t i = 0; i < grads_a.size(); ++i)
      EXPECT_TRUE(::torch::allclose(grads_a[i], grads_b[i], 1e-4, 1e-4)) << what << " parameter " << i;
    if (sh.input_grad) {
      ya = conv1d_direct(xa, conv);
      yb = ::torch::conv1d(xb, conv->weight, sh.bias ? conv->bias : Tensor(), 1, sh.kernel / 2);
      ya.backward(g);
      yb.backward(g);
      EXPECT_TRUE(::torch::allclose(xa.grad(), xb.grad(), 1e-4, 1e-4)) << what;
    }
  }
  // An even kernel is not a "same" convolution: LibTorch's own Conv1d runs (one more output sample).
  ::torch::nn::Conv1d even(::torch::nn::Conv1dOptions(2, 3, 4).padding(2));
  EXPECT_EQ(conv1d_direct(::torch::randn({1, 2, 10}), even).size(2), 11);
}

TEST(Networks, BatchNormReluMaxPoolInEvalModeUsesTheRunningStatistics) {
  ::torch::manual_seed(4);
  ::torch::nn::BatchNorm1d bn(3);
  {
    ::torch::NoGradGuard g;
    bn->running_mean.copy_(::torch::tensor({0.5, -0.5, 0.0}));
    bn->running_var.copy_(::torch::tensor({2.0, 0.5, 1.0}));
  }
  bn->eval();
  Tensor x = ::torch::randn({2, 3, 8});
  Tensor expected = ::torch::relu(::torch::max_pool1d(bn->forward(x), {2}, {2}));
  EXPECT_TRUE(::torch::allclose(bn_relu_maxpool1d(x, bn, 2), expected, 1e-6, 1e-6));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);  // eval mode leaves the statistics alone
}

TEST(Networks, EigenLinearMatchesLibTorchValuesAndGradients) {
  ::torch::manual_seed(1);
  Tensor x = ::torch::randn({7, 13}), w = ::torch::randn({5, 13}), b = ::torch::randn({5});
  Tensor xa = x.clone().requires_grad_(true), wa = w.clone().requires_grad_(true), ba = b.clone().requires_grad_(true);
  Tensor xb = x.clone().requires_grad_(true), wb = w.clone().requires_grad_(true), bb = b.clone().requires_grad_(true);
  Tensor ya = linear_eigen(xa, wa, ba), yb = ::torch::nn::functional::linear(xb, wb, bb);
  EXPECT_TRUE(::torch::allclose(ya, yb, 1e-5, 1e-5));
  Tensor g = ::torch::randn({7, 5});
  ya.backward(g);
  yb.backward(g);
  EXPECT_TRUE(::torch::allclose(xa.grad(), xb.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(::torch::allclose(wa.grad(), wb.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(::torch::allclose(ba.grad(), bb.grad(), 1e-5, 1e-5));
}

TEST(Networks, FrozenCnnMatchesTheLibTorchForwardWithBatchNormStatistics) {
  // The direct convolution kernel tiles 4 output channels x 4 SIMD vectors of time: geometries whose filter
  // counts are not multiples of 4 and whose lengths are not whole tiles, and the real-time one (4 x 250,
  // 16/32/64 filters, kernel 7).
  struct Geometry {
    std::size_t channels, length;
    std::vector<std::size_t> filters;
    std::size_t kernel, pool;
    std::vector<std::size_t> dense;
  };
  const std::vector<Geometry> geometries = {
      {3, 66, {4, 8}, 5, 2, {9}},  // 66 -> 33 -> 16: odd tail dropped in block 2
      {3, 97, {5, 7, 3}, 3, 3, {}},
      {4, 250, {16, 32, 64}, 7, 2, {}},
  };
  for (const Geometry& g : geometries) {
    SCOPED_TRACE(std::to_string(g.channels) + " x " + std::to_string(g.length) + ", kernel " + std::to_string(g.kernel));
    auto spec = test::tiny_spec(ArchKind::cnn1d, g.channels, g.length);
    spec.arch.filters = g.filters;
    spec.arch.kernel_size = g.kernel;
    spec.arch.pool_size = g.pool;
    spec.arch.dense_units = g.dense;
    spec.normalisation.mean.assign(g.channels, 0.0);
    spec.normalisation.std.assign(g.channels, 1.0);
    for (std::size_t c = 0; c < g.channels; ++c) {
      spec.normalisation.mean[c] = 0.2 - 0.1 * double(c);
      spec.normalisation.std[c] = 0.7 + 0.6 * double(c);
    }
    ::torch::manual_seed(2);
    Network net(spec);
    {
      ::torch::NoGradGuard guard;
      for (auto& item : net->named_buffers()) {
        if (item.key().find("running_mean") != std::string::npos) item.value().uniform_(-0.5, 0.5);
        if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 2.0);
      }
      for (auto& item : net->named_parameters())
        if (item.key().rfind("bn", 0) == 0) item.value().uniform_(0.5, 1.5);
    }
    net->eval();
    auto frozen = net->freeze();
    ASSERT_TRUE(frozen.has_value());
    const auto n = std::int64_t(g.channels), len = std::int64_t(g.length);
    auto data = test::make_synthetic_windows(5, g.channels, g.length, 3, 5);
    Tensor x = ::torch::from_blob(data.x.data(), {5, n, len}, ::torch::kFloat);
    Tensor ref = ::torch::softmax(net->forward(x), 1).contiguous();
    Tensor ref_logits = net->forward(x).contiguous();
    for (int64_t r = 0; r < 5; ++r) {
      float out[3], logits[3];
      frozen->forward(data.x.data() + r * n * len, out, true);
      frozen->forward(data.x.data() + r * n * len, logits, false);
      for (int64_t c = 0; c < 3; ++c) {
        EXPECT_NEAR(out[c], ref[r][c].item<float>(), 1e-5);
        EXPECT_NEAR(logits[c], ref_logits[r][c].item<float>(), 1e-4 * (1.0 + std::abs(ref_logits[r][c].item<float>())));
      }
    }
  }
}

TEST(Networks, ParameterNamesAreTheStableModelFileKeys) {
  auto spec = test::tiny_spec(ArchKind::cnn_lstm);
  spec.arch.dense_units = {4};
  Network net(spec);
  std::vector<std::string> names;
  for (auto& item : net->named_parameters()) names.push_back(item.key());
  for (const char* key : {"conv0.weight", "conv1.bias", "bn0.weight", "lstm.weight_ih_l0", "dense0.weight", "out.bias"})
    EXPECT_NE(std::find(names.begin(), names.end(), key), names.end()) << key;
}

}  // namespace
}  // namespace myoexo::models
