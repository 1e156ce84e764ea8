// The LibTorch networks: fused training ops, the architectures, TorchScript source and freezing.
#include <Eigen/Core>
#include <cmath>
#include <sstream>

#include "models/torch/bn_pool_kernels.hpp"
#include "models/torch/direct_conv1d.hpp"
#include "models/torch/network_impl.hpp"

namespace myoexo::models {

namespace tnn = ::torch::nn;
using ::torch::Tensor;
using ::torch::autograd::AutogradContext;
using ::torch::autograd::variable_list;

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMat = Eigen::Map<RowMat>;
using CMapMat = Eigen::Map<const RowMat>;

// ------------------------------------------------------------ fused ReLU + max-pool (1-D)

struct ReluMaxPool1d : ::torch::autograd::Function<ReluMaxPool1d> {
  static Tensor forward(AutogradContext* ctx, Tensor x, int64_t pool) {
    x = x.contiguous();
    const int64_t rows = x.size(0) * x.size(1), len = x.size(2), lo = len / pool;
    Tensor y = ::torch::empty({x.size(0), x.size(1), lo}, x.options());
    // Index of the winning element + 1 within its pool, 0 where the output is clamped to 0 (no gradient).
    Tensor idx = ::torch::empty({x.size(0), x.size(1), lo}, x.options().dtype(::torch::kUInt8));
    const float* xp = x.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    uint8_t* ip = idx.data_ptr<uint8_t>();
    for (int64_t r = 0; r < rows; ++r) {
      const float* a = xp + r * len;
      float* o = yp + r * lo;
      uint8_t* id = ip + r * lo;
      if (pool == 2) {
        for (int64_t j = 0; j < lo; ++j) {
          const float u = a[2 * j], v = a[2 * j + 1];
          const bool second = v > u;
          const float m = second ? v : u;
          const bool pos = m > 0.0f;
          o[j] = pos ? m : 0.0f;
          id[j] = pos ? (second ? 2 : 1) : 0;
        }
      } else {
        for (int64_t j = 0; j < lo; ++j) {
          float m = a[j * pool];
          int64_t best = 0;
          for (int64_t q = 1; q < pool; ++q)
            if (a[j * pool + q] > m) m = a[j * pool + q], best = q;
          const bool pos = m > 0.0f;
          o[j] = pos ? m : 0.0f;
          id[j] = pos ? static_cast<uint8_t>(best + 1) : 0;
        }
      }
    }
    ctx->save_for_backward({idx});
    ctx->saved_data["len"] = len;
    ctx->saved_data["pool"] = pool;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    Tensor idx = ctx->get_saved_variables()[0];
    const int64_t len = ctx->saved_data["len"].toInt(), pool = ctx->saved_data["pool"].toInt();
    Tensor go = grads[0].contiguous();
    const int64_t rows = idx.size(0) * idx.size(1), lo = idx.size(2);
    Tensor gx = ::torch::empty({idx.size(0), idx.size(1), len}, go.options());
    const float* gp = go.data_ptr<float>();
    float* xp = gx.data_ptr<float>();
    const uint8_t* ip = idx.data_ptr<uint8_t>();
    for (int64_t r = 0; r < rows; ++r) {
      const float* g = gp + r * lo;
      float* o = xp + r * len;
      const uint8_t* id = ip + r * lo;
      for (int64_t j = 0; j < lo; ++j)
        for (int64_t q = 0; q < pool; ++q) o[j * pool + q] = id[j] == q + 1 ? g[j] : 0.0f;
      for (int64_t j = lo * pool; j < len; ++j) o[j] = 0.0f;
    }
    return {gx, Tensor()};
  }
};

// ------------------------------------------------------------ training-mode BatchNorm, shared by the fused ops

// One channel's batch statistics over `rows` rows of `len` values `stride` apart (float partial sums per row in
// vector lanes, double across rows), and the affine map they give: y = scale * x + shift.
struct ChannelNormalisation {
  float mean = 0, invstd = 0, scale = 0, shift = 0;
  double var_unbiased = 0;
};
ChannelNormalisation batch_normalisation(const float* xc, int64_t rows, int64_t stride, int64_t len, float gamma,
                                         float beta, double eps) {
  const double count = static_cast<double>(rows * len);
  const double mu = bn_pool_kernels::sum(xc, std::size_t(rows), std::size_t(stride), std::size_t(len)) / count;
  const double ss = bn_pool_kernels::squared_deviations(xc, std::size_t(rows), std::size_t(stride), std::size_t(len),
                                                        static_cast<float>(mu));
  const double var = ss / count;
  const double is = 1.0 / std::sqrt(var + eps);
  ChannelNormalisation n;
  n.mean = static_cast<float>(mu);
  n.invstd = static_cast<float>(is);
  n.var_unbiased = count > 1 ? ss / (count - 1) : var;
  n.scale = static_cast<float>(gamma * is);
  n.shift = static_cast<float>(beta - mu * gamma * is);
  return n;
}

// Running statistics as torch's BatchNorm: unbiased variance, exponential average with `momentum`.
void update_running_statistics(Tensor& running_mean, Tensor& running_var, const float* mean,
                               const std::vector<double>& var_unbiased, double momentum) {
  ::torch::NoGradGuard guard;
  float* rm = running_mean.data_ptr<float>();
  float* rv = running_var.data_ptr<float>();
  for (std::size_t ch = 0; ch < var_unbiased.size(); ++ch) {
    rm[ch] = static_cast<float>((1.0 - momentum) * rm[ch] + momentum * mean[ch]);
    rv[ch] = static_cast<float>((1.0 - momentum) * rv[ch] + momentum * var_unbiased[ch]);
  }
}

// The backward of one channel from the sums of the BatchNorm output's gradient dz and of dz * x over the channel:
// the parameter gradients and dx = k * dz + alpha + beta * x for every input.
struct ChannelGradient {
  float grad_gamma = 0, grad_beta = 0, k = 0, alpha = 0, beta = 0;
};
ChannelGradient batch_normalisation_gradient(double sum_dz, double sum_dz_x, float mu, float is, float gamma,
                                             double count) {
  // sum(dz * xhat) = invstd * (sum(dz * x) - mu * sum(dz))
  const double sum_dz_xhat = (sum_dz_x - static_cast<double>(mu) * sum_dz) * static_cast<double>(is);
  // dx = gamma * invstd * (dz - mean(dz) - xhat * mean(dz * xhat)) = k * dz + alpha + beta * x
  const double k = static_cast<double>(gamma) * is;
  const double mean_dz = sum_dz / count, mean_dz_xhat = sum_dz_xhat / count;
  ChannelGradient g;
  g.grad_beta = static_cast<float>(sum_dz);
  g.grad_gamma = static_cast<float>(sum_dz_xhat);
  g.k = static_cast<float>(k);
  g.beta = static_cast<float>(-k * is * mean_dz_xhat);
  g.alpha = static_cast<float>(-k * mean_dz + k * is * mean_dz_xhat * mu);
  return g;
}

// ------------------------------------------------------------ fused BatchNorm (training) + ReLU + max-pool (1-D)

// Training-mode BatchNorm1d followed by relu(max_pool1d(., pool)), in two passes over the conv output forward
// and one backward. Only the pool winners carry gradient into the BatchNorm output, so the backward sums run
// over L / pool positions; the input gradient is recomputed from x (no normalised copy is kept).
struct BnReluMaxPool1d : ::torch::autograd::Function<BnReluMaxPool1d> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor weight, Tensor bias, Tensor running_mean,
                        Tensor running_var, int64_t pool, double momentum, double eps) {
    x = x.contiguous();
    const int64_t n = x.size(0), c = x.size(1), len = x.size(2), lo = len / pool;
    Tensor y = ::torch::empty({n, c, lo}, x.options());
    Tensor idx = ::torch::empty({n, c, lo}, x.options().dtype(::torch::kUInt8));
    Tensor mean = ::torch::empty({c}, x.options()), invstd = ::torch::empty({c}, x.options());
    Tensor w = weight.contiguous(), b = bias.contiguous();
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    const float* bp = b.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    uint8_t* ip = idx.data_ptr<uint8_t>();
    float* mp = mean.data_ptr<float>();
    float* sp = invstd.data_ptr<float>();
    std::vector<double> var_unbiased(static_cast<std::size_t>(c));
    at::parallel_for(0, c, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const float* xc = xp + ch * len;
        const ChannelNormalisation cn = batch_normalisation(xc, n, c * len, len, wp[ch], bp[ch], eps);
        mp[ch] = cn.mean;
        sp[ch] = cn.invstd;
        var_unbiased[std::size_t(ch)] = cn.var_unbiased;
        const float scale = cn.scale, shift = cn.shift;
        if (pool == 2) {
          bn_pool_kernels::normalise_relu_pool2(xc, std::size_t(n), std::size_t(c * len), std::size_t(len), scale,
                                                shift, yp + ch * lo, ip + ch * lo, std::size_t(c * lo));
          continue;
        }
        for (int64_t i = 0; i < n; ++i) {
          const float* a = xp + (i * c + ch) * len;
          float* o = yp + (i * c + ch) * lo;
          uint8_t* id = ip + (i * c + ch) * lo;
          for (int64_t j = 0; j < lo; ++j) {
            float m = scale * a[j * pool] + shift;
            int64_t best = 0;
            for (int64_t q = 1; q < pool; ++q) {
              const float v = scale * a[j * pool + q] + shift;
              if (v > m) m = v, best = q;
            }
            const bool pos = m > 0.0f;
            o[j] = pos ? m : 0.0f;
            id[j] = pos ? static_cast<uint8_t>(best + 1) : 0;
          }
        }
      }
    });
    update_running_statistics(running_mean, running_var, mp, var_unbiased, momentum);
    ctx->save_for_backward({x, weight, idx, mean, invstd});
    ctx->saved_data["pool"] = pool;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    Tensor x = saved[0], w = saved[1].contiguous(), idx = saved[2], mean = saved[3], invstd = saved[4];
    const int64_t pool = ctx->saved_data["pool"].toInt();
    Tensor go = grads[0].contiguous();
    const int64_t n = x.size(0), c = x.size(1), len = x.size(2), lo = len / pool;
    const double count = static_cast<double>(n * len);
    Tensor gx = ::torch::empty_like(x), gw = ::torch::empty({c}, w.options()), gb = ::torch::empty({c}, w.options());
    const float* xp = x.data_ptr<float>();
    const float* gp = go.data_ptr<float>();
    const uint8_t* ip = idx.data_ptr<uint8_t>();
    const float* mp = mean.data_ptr<float>();
    const float* sp = invstd.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    float* gxp = gx.data_ptr<float>();
    float* gwp = gw.data_ptr<float>();
    float* gbp = gb.data_ptr<float>();
    at::parallel_for(0, c, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const float mu = mp[ch], is = sp[ch];
        double sum_dz = 0.0, sum_dz_x = 0.0;  // over the pool winners: dz and dz * x
        const float* xc = xp + ch * len;
        if (pool == 2)
          bn_pool_kernels::pool2_gradient_sums(xc, gp + ch * lo, ip + ch * lo, std::size_t(n), std::size_t(c * len),
                                               std::size_t(len), std::size_t(c * lo), &sum_dz, &sum_dz_x);
        for (int64_t i = 0; i < n && pool != 2; ++i) {
          const float* a = xp + (i * c + ch) * len;
          const float* g = gp + (i * c + ch) * lo;
          const uint8_t* id = ip + (i * c + ch) * lo;
          float s0 = 0.0f, s1 = 0.0f;
          // Branch-free: a clamped output (id 0) reads the pool's first element with a zero gradient.
#pragma omp simd reduction(+ : s0, s1)
          for (int64_t j = 0; j < lo; ++j) {
            const int q = id[j];
            const float gz = q != 0 ? g[j] : 0.0f;
            const float xv = a[j * pool + (q != 0 ? q - 1 : 0)];
            s0 += gz;
            s1 += gz * xv;
          }
          sum_dz += s0;
          sum_dz_x += s1;
        }
        const ChannelGradient cg = batch_normalisation_gradient(sum_dz, sum_dz_x, mu, is, wp[ch], count);
        gbp[ch] = cg.grad_beta;
        gwp[ch] = cg.grad_gamma;
        const float kf = cg.k, alpha = cg.alpha, beta = cg.beta;
        if (pool == 2) {
          bn_pool_kernels::pool2_input_gradient(xc, gp + ch * lo, ip + ch * lo, std::size_t(n), std::size_t(c * len),
                                                std::size_t(len), std::size_t(c * lo), kf, alpha, beta,
                                                gxp + ch * len);
          continue;
        }
        for (int64_t i = 0; i < n; ++i) {
          const float* a = xp + (i * c + ch) * len;
          const float* g = gp + (i * c + ch) * lo;
          const uint8_t* id = ip + (i * c + ch) * lo;
          float* o = gxp + (i * c + ch) * len;
          for (int64_t j = 0; j < lo; ++j) {
            const float gz = kf * g[j];
            for (int64_t q = 0; q < pool; ++q)
              o[j * pool + q] = alpha + beta * a[j * pool + q] + (id[j] == q + 1 ? gz : 0.0f);
          }
          for (int64_t j = lo * pool; j < len; ++j) o[j] = alpha + beta * a[j];
        }
      }
    });
    return {gx, gw, gb, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

// ------------------------------------------------------------ fused BatchNorm (training) + ReLU + max-pool (2-D)

// Training-mode BatchNorm2d followed by relu(max_pool2d(., pool x pool)) on x [N, C, H, W], the spectrogram
// CNN's block. LibTorch runs it as three ops, keeps a normalised copy and int64 pool indices, and its CPU
// max_pool2d alone was ~23 % of a paper_uci training step (perf). Here: two passes forward, one byte per output
// for the winner (0 where the output was clamped to 0, else 1 + its row-major place in the pool), and a backward
// that recomputes from x. Rows and columns past the last whole pool count in the statistics and get only the
// BatchNorm part of the gradient, as in LibTorch.
struct BnReluMaxPool2d : ::torch::autograd::Function<BnReluMaxPool2d> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor weight, Tensor bias, Tensor running_mean,
                        Tensor running_var, int64_t pool, double momentum, double eps) {
    x = x.contiguous();
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), ho = h / pool, wo = w / pool;
    const int64_t plane = h * w, oplane = ho * wo;
    Tensor y = ::torch::empty({n, c, ho, wo}, x.options());
    Tensor idx = ::torch::empty({n, c, ho, wo}, x.options().dtype(::torch::kUInt8));
    Tensor mean = ::torch::empty({c}, x.options()), invstd = ::torch::empty({c}, x.options());
    Tensor wt = weight.contiguous(), bt = bias.contiguous();
    const float* xp = x.data_ptr<float>();
    const float* wp = wt.data_ptr<float>();
    const float* bp = bt.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    uint8_t* ip = idx.data_ptr<uint8_t>();
    float* mp = mean.data_ptr<float>();
    float* sp = invstd.data_ptr<float>();
    std::vector<double> var_unbiased(static_cast<std::size_t>(c));
    at::parallel_for(0, c, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const float* xc = xp + ch * plane;
        const ChannelNormalisation cn = batch_normalisation(xc, n, c * plane, plane, wp[ch], bp[ch], eps);
        mp[ch] = cn.mean;
        sp[ch] = cn.invstd;
        var_unbiased[std::size_t(ch)] = cn.var_unbiased;
        const float scale = cn.scale, shift = cn.shift;
        for (int64_t i = 0; i < n; ++i) {
          const float* a = xp + (i * c + ch) * plane;
          float* o = yp + (i * c + ch) * oplane;
          uint8_t* id = ip + (i * c + ch) * oplane;
          if (pool == 2) {
            // Straight-line 2x2: the first maximum in row-major order wins, as in LibTorch.
            for (int64_t u = 0; u < ho; ++u) {
              const float* r0 = a + 2 * u * w;
              const float* r1 = r0 + w;
              for (int64_t v = 0; v < wo; ++v) {
                const float z0 = scale * r0[2 * v] + shift, z1 = scale * r0[2 * v + 1] + shift;
                const float z2 = scale * r1[2 * v] + shift, z3 = scale * r1[2 * v + 1] + shift;
                const bool top_second = z1 > z0, bottom_second = z3 > z2;
                const float top = top_second ? z1 : z0, bottom = bottom_second ? z3 : z2;
                const bool lower = bottom > top;
                const float m = lower ? bottom : top;
                const uint8_t best = static_cast<uint8_t>(lower ? (bottom_second ? 4 : 3) : (top_second ? 2 : 1));
                const bool pos = m > 0.0f;
                o[u * wo + v] = pos ? m : 0.0f;
                id[u * wo + v] = pos ? best : 0;
              }
            }
            continue;
          }
          for (int64_t u = 0; u < ho; ++u)
            for (int64_t v = 0; v < wo; ++v) {
              const float* corner = a + u * pool * w + v * pool;
              float m = scale * corner[0] + shift;
              int64_t best = 0;
              for (int64_t r = 0; r < pool; ++r)
                for (int64_t q = 0; q < pool; ++q) {
                  const float val = scale * corner[r * w + q] + shift;
                  if (val > m) m = val, best = r * pool + q;
                }
              const bool pos = m > 0.0f;
              o[u * wo + v] = pos ? m : 0.0f;
              id[u * wo + v] = pos ? static_cast<uint8_t>(best + 1) : 0;
            }
        }
      }
    });
    update_running_statistics(running_mean, running_var, mp, var_unbiased, momentum);
    ctx->save_for_backward({x, weight, idx, mean, invstd});
    ctx->saved_data["pool"] = pool;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    Tensor x = saved[0], wt = saved[1].contiguous(), idx = saved[2], mean = saved[3], invstd = saved[4];
    const int64_t pool = ctx->saved_data["pool"].toInt();
    Tensor go = grads[0].contiguous();
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), ho = h / pool, wo = w / pool;
    const int64_t plane = h * w, oplane = ho * wo;
    const double count = static_cast<double>(n * plane);
    Tensor gx = ::torch::empty_like(x), gw = ::torch::empty({c}, wt.options()), gb = ::torch::empty({c}, wt.options());
    const float* xp = x.data_ptr<float>();
    const float* gp = go.data_ptr<float>();
    const uint8_t* ip = idx.data_ptr<uint8_t>();
    const float* mp = mean.data_ptr<float>();
    const float* sp = invstd.data_ptr<float>();
    const float* wp = wt.data_ptr<float>();
    float* gxp = gx.data_ptr<float>();
    float* gwp = gw.data_ptr<float>();
    float* gbp = gb.data_ptr<float>();
    // Offset of a pool's element from its corner, by winner byte - 1.
    std::vector<int64_t> offset(static_cast<std::size_t>(pool * pool));
    for (int64_t r = 0; r < pool; ++r)
      for (int64_t q = 0; q < pool; ++q) offset[std::size_t(r * pool + q)] = r * w + q;
    at::parallel_for(0, c, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const float mu = mp[ch], is = sp[ch];
        double sum_dz = 0.0, sum_dz_x = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          const float* a = xp + (i * c + ch) * plane;
          const float* g = gp + (i * c + ch) * oplane;
          const uint8_t* id = ip + (i * c + ch) * oplane;
          float s0 = 0.0f, s1 = 0.0f;
          for (int64_t u = 0; u < ho; ++u)
            for (int64_t v = 0; v < wo; ++v) {
              const int q = id[u * wo + v];
              if (q == 0) continue;
              const float gz = g[u * wo + v];
              s0 += gz;
              s1 += gz * a[u * pool * w + v * pool + offset[std::size_t(q - 1)]];
            }
          sum_dz += s0;
          sum_dz_x += s1;
        }
        const ChannelGradient cg = batch_normalisation_gradient(sum_dz, sum_dz_x, mu, is, wp[ch], count);
        gbp[ch] = cg.grad_beta;
        gwp[ch] = cg.grad_gamma;
        const float kf = cg.k, alpha = cg.alpha, beta = cg.beta;
        for (int64_t i = 0; i < n; ++i) {
          const float* a = xp + (i * c + ch) * plane;
          const float* g = gp + (i * c + ch) * oplane;
          const uint8_t* id = ip + (i * c + ch) * oplane;
          float* o = gxp + (i * c + ch) * plane;
#pragma omp simd
          for (int64_t j = 0; j < plane; ++j) o[j] = alpha + beta * a[j];
          for (int64_t u = 0; u < ho; ++u)
            for (int64_t v = 0; v < wo; ++v) {
              const int q = id[u * wo + v];
              if (q != 0) o[u * pool * w + v * pool + offset[std::size_t(q - 1)]] += kf * g[u * wo + v];
            }
        }
      }
    });
    return {gx, gw, gb, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

// ------------------------------------------------------------ direct Conv1d ("same" padding, stride 1)

// Conv1d through the direct kernels of direct_conv1d.hpp: forward, input gradient (the same kernel with the
// weights transposed and flipped) and weight gradient. Every sum runs in a fixed order whatever the thread count:
// samples are split across threads for the forward and the input gradient, output-channel blocks for the weight
// gradient.
struct DirectConv1d : ::torch::autograd::Function<DirectConv1d> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor weight, Tensor bias) {
    namespace dc = direct_conv1d;
    x = x.contiguous();
    Tensor w = weight.contiguous();
    const int64_t n = x.size(0), c = x.size(1), len = x.size(2), out = w.size(0), k = w.size(2);
    const auto padded = dc::padded_length(std::size_t(len)), stride = padded + std::size_t(k) - 1;
    Tensor xpad = ::torch::empty({n, c, int64_t(stride)}, x.options());
    Tensor y = ::torch::empty({n, out, len}, x.options());
    const std::vector<float> packed =
        dc::pack_weights(w.data_ptr<float>(), std::size_t(out), std::size_t(c), std::size_t(k), false);
    // No bias: an empty tensor (autograd functions cannot take undefined inputs).
    const bool has_bias = bias.numel() > 0;
    Tensor b = has_bias ? bias.contiguous() : Tensor();
    const float* bp = has_bias ? b.data_ptr<float>() : nullptr;
    const float* xp = x.data_ptr<float>();
    float* xpp = xpad.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    at::parallel_for(0, n, 1, [&](int64_t n0, int64_t n1) {
      dc::pad_rows(xp, std::size_t(n0), std::size_t(n1), std::size_t(c), std::size_t(len), std::size_t(k / 2),
                   stride, xpp);
      std::vector<float> scratch((std::size_t(out) + dc::kOutBlock - 1) / dc::kOutBlock * dc::kOutBlock * padded);
      dc::forward_batch(xpp, std::size_t(n0), std::size_t(n1), std::size_t(c), std::size_t(len), std::size_t(k),
                        packed.data(), bp, std::size_t(out), scratch.data(), yp);
    });
    ctx->save_for_backward({xpad, w});
    ctx->saved_data["len"] = len;
    ctx->saved_data["has_bias"] = has_bias;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    namespace dc = direct_conv1d;
    auto saved = ctx->get_saved_variables();
    Tensor xpad = saved[0], w = saved[1];
    Tensor gy = grads[0].contiguous();
    const int64_t n = xpad.size(0), c = xpad.size(1), len = ctx->saved_data["len"].toInt(), out = w.size(0),
                  k = w.size(2);
    const auto padded = dc::padded_length(std::size_t(len)), stride = padded + std::size_t(k) - 1;
    Tensor gypad = ::torch::empty({n, out, int64_t(stride)}, gy.options());
    dc::pad_rows(gy.data_ptr<float>(), 0, std::size_t(n), std::size_t(out), std::size_t(len), std::size_t(k / 2),
                 stride, gypad.data_ptr<float>());
    const float* gpp = gypad.data_ptr<float>();
    Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) {
      gx = ::torch::empty({n, c, len}, gy.options());
      const std::vector<float> packed =
          dc::pack_weights(w.data_ptr<float>(), std::size_t(out), std::size_t(c), std::size_t(k), true);
      float* gxp = gx.data_ptr<float>();
      at::parallel_for(0, n, 1, [&](int64_t n0, int64_t n1) {
        std::vector<float> scratch((std::size_t(c) + dc::kOutBlock - 1) / dc::kOutBlock * dc::kOutBlock * padded);
        dc::forward_batch(gpp, std::size_t(n0), std::size_t(n1), std::size_t(out), std::size_t(len), std::size_t(k),
                          packed.data(), nullptr, std::size_t(c), scratch.data(), gxp);
      });
    }
    const bool want_bias = ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2);
    if (ctx->needs_input_grad(1) || want_bias) {
      gw = ::torch::empty_like(w);
      if (want_bias) gb = ::torch::empty({out}, w.options());
      float* gwp = gw.data_ptr<float>();
      float* gbp = want_bias ? gb.data_ptr<float>() : nullptr;
      const float* xpp = xpad.data_ptr<float>();
      const int64_t blocks = (out + int64_t(dc::kOutBlock) - 1) / int64_t(dc::kOutBlock);
      at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
        dc::weight_grad_batch(xpp, gpp, std::size_t(n), std::size_t(c), std::size_t(len), std::size_t(k),
                              std::size_t(out), std::size_t(b0) * dc::kOutBlock, std::size_t(b1) * dc::kOutBlock,
                              gwp, gbp);
      });
      if (!ctx->needs_input_grad(1)) gw = Tensor();
    }
    return {gx, gw, gb};
  }
};

// ------------------------------------------------------------ Eigen linear

struct LinearEigen : ::torch::autograd::Function<LinearEigen> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor w, Tensor b) {
    x = x.contiguous();
    w = w.contiguous();
    const int64_t n = x.size(0), in = x.size(1), out = w.size(0);
    Tensor y = ::torch::empty({n, out}, x.options());
    MapMat ym(y.data_ptr<float>(), n, out);
    ym.noalias() = CMapMat(x.data_ptr<float>(), n, in) * CMapMat(w.data_ptr<float>(), out, in).transpose();
    if (b.defined()) ym.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b.contiguous().data_ptr<float>(), out);
    ctx->save_for_backward({x, w});
    ctx->saved_data["has_bias"] = b.defined();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    Tensor x = saved[0], w = saved[1];
    Tensor gy = grads[0].contiguous();
    const int64_t n = x.size(0), in = x.size(1), out = w.size(0);
    CMapMat gym(gy.data_ptr<float>(), n, out);
    Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) {
      gx = ::torch::empty({n, in}, x.options());
      MapMat(gx.data_ptr<float>(), n, in).noalias() = gym * CMapMat(w.data_ptr<float>(), out, in);
    }
    if (ctx->needs_input_grad(1)) {
      gw = ::torch::empty({out, in}, w.options());
      MapMat(gw.data_ptr<float>(), out, in).noalias() = gym.transpose() * CMapMat(x.data_ptr<float>(), n, in);
    }
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)) {
      gb = ::torch::empty({out}, w.options());
      Eigen::Map<Eigen::RowVectorXf>(gb.data_ptr<float>(), out) = gym.colwise().sum();
    }
    return {gx, gw, gb};
  }
};

std::string fmt_double(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

Tensor conv1d_direct(const Tensor& x, ::torch::nn::Conv1d& conv) {
  const auto& o = conv->options;
  const int64_t k = o.kernel_size()->front();
  const auto* pad = c10::get_if<::torch::ExpandingArray<1>>(&o.padding());
  const bool direct = x.scalar_type() == ::torch::kFloat && x.device().is_cpu() && x.dim() == 3 && k % 2 == 1 &&
                      o.stride()->front() == 1 && o.dilation()->front() == 1 && o.groups() == 1 &&
                      pad != nullptr && (*pad)->front() == k / 2 &&
                      c10::holds_alternative<::torch::enumtype::kZeros>(o.padding_mode()) && x.size(2) > 0;
  if (!direct) return conv->forward(x);
  return DirectConv1d::apply(x, conv->weight, conv->bias.defined() ? conv->bias : ::torch::empty({0}, x.options()));
}

Tensor relu_maxpool1d(const Tensor& x, int64_t pool) {
  if (pool <= 1) return ::torch::relu(x);
  if (x.scalar_type() != ::torch::kFloat || !x.device().is_cpu())
    return ::torch::relu(::torch::max_pool1d(x, {pool}, {pool}));
  return ReluMaxPool1d::apply(x, pool);
}

Tensor bn_relu_maxpool1d(const Tensor& x, ::torch::nn::BatchNorm1d& bn, int64_t pool) {
  const auto& o = bn->options;
  const bool fusable = bn->is_training() && pool > 1 && o.affine() && o.track_running_stats() &&
                       o.momentum().has_value() && x.scalar_type() == ::torch::kFloat && x.device().is_cpu() &&
                       x.dim() == 3 && x.size(0) * x.size(2) > 1 && x.size(2) / pool > 0;
  if (!fusable) return relu_maxpool1d(bn->forward(x), pool);
  {
    ::torch::NoGradGuard guard;
    bn->num_batches_tracked += 1;
  }
  return BnReluMaxPool1d::apply(x, bn->weight, bn->bias, bn->running_mean, bn->running_var, pool, *o.momentum(),
                                o.eps());
}

Tensor bn_relu_maxpool2d(const Tensor& x, ::torch::nn::BatchNorm2d& bn, int64_t pool) {
  const auto& o = bn->options;
  const bool fusable = bn->is_training() && pool > 1 && pool <= 15 && o.affine() && o.track_running_stats() &&
                       o.momentum().has_value() && x.scalar_type() == ::torch::kFloat && x.device().is_cpu() &&
                       x.dim() == 4 && x.size(0) * x.size(2) * x.size(3) > 1 && x.size(2) / pool > 0 &&
                       x.size(3) / pool > 0;
  if (!fusable) {
    Tensor z = bn->forward(x);
    if (pool > 1) z = ::torch::max_pool2d(z, {pool, pool}, {pool, pool});
    return ::torch::relu(z);
  }
  {
    ::torch::NoGradGuard guard;
    bn->num_batches_tracked += 1;
  }
  return BnReluMaxPool2d::apply(x, bn->weight, bn->bias, bn->running_mean, bn->running_var, pool, *o.momentum(),
                                o.eps());
}

Tensor linear_eigen(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (x.scalar_type() != ::torch::kFloat || !x.device().is_cpu() || x.dim() != 2)
    return ::torch::nn::functional::linear(x, weight, bias);
  return LinearEigen::apply(x, weight, bias);
}

// ------------------------------------------------------------ NetworkImpl

NetworkImpl::NetworkImpl(const NetworkSpec& spec) : spec_(spec) {
  const ArchConfig& a = spec.arch;
  const auto shape = network_input_shape(spec.input, a);
  const int64_t channels = static_cast<int64_t>(spec.input.n_channels());
  norm_mean_ = register_buffer("norm_mean", ::torch::zeros({channels}));
  norm_std_ = register_buffer("norm_std", ::torch::ones({channels}));
  set_normalisation(spec.normalisation);

  const int64_t k = static_cast<int64_t>(a.kernel_size), pool = static_cast<int64_t>(a.pool_size);
  int64_t in_ch = channels;
  int64_t features = 0;
  if (a.kind == ArchKind::cnn1d || a.kind == ArchKind::cnn_lstm) {
    int64_t len = a.kind == ArchKind::cnn1d ? int64_t(spec.input.window_length) : int64_t(a.frame_length);
    for (std::size_t i = 0; i < a.filters.size(); ++i) {
      const int64_t out_ch = static_cast<int64_t>(a.filters[i]);
      conv1d_.push_back(register_module("conv" + std::to_string(i),
                                        tnn::Conv1d(tnn::Conv1dOptions(in_ch, out_ch, k).padding(k / 2).bias(a.conv_bias))));
      bn1d_.push_back(register_module("bn" + std::to_string(i), tnn::BatchNorm1d(out_ch)));
      in_ch = out_ch;
      len /= pool;
    }
    features = in_ch * len;
  } else if (a.kind == ArchKind::spectrogram_cnn) {
    int64_t h = static_cast<int64_t>(shape[1]), w = static_cast<int64_t>(shape[2]);
    for (std::size_t i = 0; i < a.filters.size(); ++i) {
      const int64_t out_ch = static_cast<int64_t>(a.filters[i]);
      conv2d_.push_back(register_module("conv" + std::to_string(i),
                                        tnn::Conv2d(tnn::Conv2dOptions(in_ch, out_ch, k).padding(k / 2).bias(a.conv_bias))));
      bn2d_.push_back(register_module("bn" + std::to_string(i), tnn::BatchNorm2d(out_ch)));
      in_ch = out_ch;
      h /= pool;
      w /= pool;
    }
    features = in_ch * h * w;
  }
  if (a.kind == ArchKind::lstm || a.kind == ArchKind::cnn_lstm) {
    const int64_t step_features = a.kind == ArchKind::lstm ? channels * int64_t(a.frame_length) : features;
    const double lstm_dropout = a.num_layers > 1 ? a.dropout : 0.0;
    lstm_ = register_module("lstm", tnn::LSTM(tnn::LSTMOptions(step_features, int64_t(a.hidden_size))
                                                   .num_layers(int64_t(a.num_layers))
                                                   .batch_first(true)
                                                   .dropout(lstm_dropout)));
    features = static_cast<int64_t>(a.hidden_size);
  }
  for (std::size_t i = 0; i < a.dense_units.size(); ++i) {
    const int64_t units = static_cast<int64_t>(a.dense_units[i]);
    dense_.push_back(register_module("dense" + std::to_string(i), tnn::Linear(features, units)));
    features = units;
  }
  const int64_t classes = static_cast<int64_t>(std::max<std::size_t>(spec.class_names.size(), 1));
  dense_.push_back(register_module("out", tnn::Linear(features, classes)));
  if (a.dropout > 0) dropout_ = register_module("dropout", tnn::Dropout(a.dropout));
}

void NetworkImpl::set_normalisation(const Normalisation& norm) {
  ::torch::NoGradGuard guard;
  spec_.normalisation = norm;
  if (norm.mean.empty()) {
    norm_mean_.fill_(0.0);
    norm_std_.fill_(1.0);
    return;
  }
  for (std::size_t c = 0; c < norm.mean.size(); ++c) {
    norm_mean_[int64_t(c)] = static_cast<float>(norm.mean[c]);
    norm_std_[int64_t(c)] = static_cast<float>(norm.std[c]);
  }
}

std::vector<Tensor> NetworkImpl::head_parameters() {
  std::vector<Tensor> p;
  for (auto& d : dense_)
    for (auto& t : d->parameters()) p.push_back(t);
  return p;
}

Tensor NetworkImpl::conv_features(Tensor x) {
  const int64_t pool = static_cast<int64_t>(spec_.arch.pool_size);
  if (!conv1d_.empty()) {
    for (std::size_t i = 0; i < conv1d_.size(); ++i) x = bn_relu_maxpool1d(conv1d_direct(x, conv1d_[i]), bn1d_[i], pool);
  } else {
    for (std::size_t i = 0; i < conv2d_.size(); ++i) x = bn_relu_maxpool2d(conv2d_[i]->forward(x), bn2d_[i], pool);
  }
  return x;
}

Tensor NetworkImpl::head(Tensor x) {
  for (std::size_t i = 0; i < dense_.size(); ++i) {
    if (dropout_) x = dropout_->forward(x);
    x = linear_eigen(x, dense_[i]->weight, dense_[i]->bias);
    if (i + 1 < dense_.size()) x = ::torch::relu(x);
  }
  return x;
}

Tensor NetworkImpl::forward(Tensor x) {
  const ArchConfig& a = spec_.arch;
  // Per-channel standardisation: channel is dim 1 for every input layout.
  std::vector<int64_t> view(static_cast<std::size_t>(x.dim()), 1);
  view[1] = -1;
  x = (x - norm_mean_.view(view)) / norm_std_.view(view);
  const int64_t n = x.size(0);
  switch (a.kind) {
    case ArchKind::cnn1d:
    case ArchKind::spectrogram_cnn:
      x = conv_features(x).flatten(1);
      break;
    case ArchKind::lstm: {
      // [N, C, L] -> frames [N, C, T, F] -> [N, T, C*F]
      Tensor f = x.unfold(2, int64_t(a.frame_length), int64_t(a.frame_step)).permute({0, 2, 1, 3});
      x = std::get<0>(lstm_->forward(f.reshape({n, f.size(1), -1}))).select(1, -1);
      break;
    }
    case ArchKind::cnn_lstm: {
      Tensor f = x.unfold(2, int64_t(a.frame_length), int64_t(a.frame_step)).permute({0, 2, 1, 3});
      const int64_t t = f.size(1);
      Tensor z = conv_features(f.reshape({n * t, f.size(2), f.size(3)})).reshape({n, t, -1});
      x = std::get<0>(lstm_->forward(z)).select(1, -1);
      break;
    }
  }
  return head(x);
}

std::string NetworkImpl::torchscript_source() const {
  const ArchConfig& a = spec_.arch;
  const std::string k = std::to_string(a.kernel_size / 2), p = std::to_string(a.pool_size);
  std::ostringstream s;
  s << "def forward(self, x):\n";
  if (a.kind == ArchKind::spectrogram_cnn)
    s << "    x = (x - self.norm_mean.view(1, -1, 1, 1)) / self.norm_std.view(1, -1, 1, 1)\n";
  else
    s << "    x = (x - self.norm_mean.view(1, -1, 1)) / self.norm_std.view(1, -1, 1)\n";
  s << "    n = x.size(0)\n";
  auto bn_eps = [&](std::size_t i) {
    return a.kind == ArchKind::spectrogram_cnn ? bn2d_[i]->options.eps() : bn1d_[i]->options.eps();
  };
  auto conv_blocks = [&](bool two_d) {
    for (std::size_t i = 0; i < a.filters.size(); ++i) {
      const std::string c = "self.conv" + std::to_string(i), b = "self.bn" + std::to_string(i);
      const std::string bias = a.conv_bias ? c + "_bias" : "None";
      if (two_d)
        s << "    x = torch.conv2d(x, " << c << "_weight, " << bias << ", [1, 1], [" << k << ", " << k << "])\n";
      else
        s << "    x = torch.conv1d(x, " << c << "_weight, " << bias << ", [1], [" << k << "])\n";
      s << "    x = torch.batch_norm(x, " << b << "_weight, " << b << "_bias, " << b << "_running_mean, " << b
        << "_running_var, False, 0.1, " << fmt_double(bn_eps(i)) << ", False)\n";
      if (a.pool_size > 1) {
        if (two_d)
          s << "    x = torch.max_pool2d(x, [" << p << ", " << p << "], [" << p << ", " << p << "])\n";
        else
          s << "    x = torch.max_pool1d(x, [" << p << "], [" << p << "])\n";
      }
      s << "    x = torch.relu(x)\n";
    }
  };
  auto lstm_call = [&](const std::string& seq) {
    const std::string layers = std::to_string(a.num_layers), h = std::to_string(a.hidden_size);
    s << "    h0 = torch.zeros([" << layers << ", n, " << h << "], dtype=x.dtype)\n";
    s << "    params = [";
    for (std::size_t l = 0; l < a.num_layers; ++l) {
      const std::string L = std::to_string(l);
      s << (l ? ", " : "") << "self.lstm_weight_ih_l" << L << ", self.lstm_weight_hh_l" << L << ", self.lstm_bias_ih_l"
        << L << ", self.lstm_bias_hh_l" << L;
    }
    s << "]\n";
    s << "    out, hn, cn = torch.lstm(" << seq << ", [h0, h0], params, True, " << layers
      << ", 0.0, False, False, True)\n";
    s << "    x = out.select(1, -1)\n";
  };
  switch (a.kind) {
    case ArchKind::cnn1d:
      conv_blocks(false);
      s << "    x = torch.flatten(x, 1)\n";
      break;
    case ArchKind::spectrogram_cnn:
      conv_blocks(true);
      s << "    x = torch.flatten(x, 1)\n";
      break;
    case ArchKind::lstm:
      s << "    f = x.unfold(2, " << a.frame_length << ", " << a.frame_step << ").permute(0, 2, 1, 3)\n";
      s << "    f = f.reshape(n, f.size(1), -1)\n";
      lstm_call("f");
      break;
    case ArchKind::cnn_lstm:
      s << "    f = x.unfold(2, " << a.frame_length << ", " << a.frame_step << ").permute(0, 2, 1, 3)\n";
      s << "    t = f.size(1)\n";
      s << "    x = f.reshape(n * t, f.size(2), f.size(3))\n";
      conv_blocks(false);
      s << "    x = x.reshape(n, t, -1)\n";
      lstm_call("x");
      break;
  }
  for (std::size_t i = 0; i < dense_.size(); ++i) {
    const std::string d = i + 1 < dense_.size() ? "self.dense" + std::to_string(i) : std::string("self.out");
    s << "    x = torch.linear(x, " << d << "_weight, " << d << "_bias)\n";
    if (i + 1 < dense_.size()) s << "    x = torch.relu(x)\n";
  }
  s << "    return torch.softmax(x, 1)\n";
  return s.str();
}

std::optional<FrozenCnn1d> NetworkImpl::freeze() const {
  if (spec_.arch.kind != ArchKind::cnn1d) return std::nullopt;
  ::torch::NoGradGuard guard;
  auto to_vec = [](const Tensor& t) {
    Tensor c = t.detach().to(::torch::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  std::vector<FrozenConvBlock> blocks;
  for (std::size_t i = 0; i < conv1d_.size(); ++i) {
    const auto& conv = conv1d_[i];
    const auto& bn = bn1d_[i];
    Tensor scale = bn->weight / ::torch::sqrt(bn->running_var + bn->options.eps());
    Tensor w = conv->weight * scale.view({-1, 1, 1});
    Tensor b = conv->options.bias() ? conv->bias : ::torch::zeros_like(bn->running_mean);
    b = (b - bn->running_mean) * scale + bn->bias;
    FrozenConvBlock fb;
    fb.in_channels = static_cast<std::size_t>(conv->weight.size(1));
    fb.out_channels = static_cast<std::size_t>(conv->weight.size(0));
    fb.kernel = static_cast<std::size_t>(conv->weight.size(2));
    fb.pool = spec_.arch.pool_size;
    fb.weight = to_vec(w);
    fb.bias = to_vec(b);
    blocks.push_back(std::move(fb));
  }
  std::vector<FrozenDense> dense;
  for (std::size_t i = 0; i < dense_.size(); ++i) {
    FrozenDense d;
    d.in_features = static_cast<std::size_t>(dense_[i]->weight.size(1));
    d.out_features = static_cast<std::size_t>(dense_[i]->weight.size(0));
    d.weight = to_vec(dense_[i]->weight);
    d.bias = to_vec(dense_[i]->bias);
    d.relu = i + 1 < dense_.size();
    dense.push_back(std::move(d));
  }
  std::vector<float> mean = to_vec(norm_mean_), inv_std = to_vec(1.0 / norm_std_);
  auto f = FrozenCnn1d::create(spec_.input.n_channels(), spec_.input.window_length, std::move(mean),
                               std::move(inv_std), std::move(blocks), std::move(dense));
  if (!f) return std::nullopt;
  return std::move(f).value();
}

}  // namespace myoexo::models
