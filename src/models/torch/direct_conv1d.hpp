// myoexo::models (models/torch) — direct 1-D convolution kernels ("same" zero padding, stride 1, odd kernel):
// the frozen CNN's batch-1 forward and the CNN1d training step (forward, input gradient, weight gradient).
//
// Why hand-written: at the shapes of the real-time CNN (4-64 channels, 30-250 samples, kernel 7) LibTorch's
// Conv1d (oneDNN, or im2col + BLAS) spends much of its time in set-up and copies: its training step reaches
// 30-107 GFLOP/s on one core where a register-blocked direct kernel with no im2col copy reaches about 140, and the
// convolutions are two thirds of a training step. The kernels are plain C++ (GCC/Clang vector extensions, the
// width of core/simd.hpp), with no torch header, so they compile in a second; the torch autograd wrapper lives in
// networks.cpp. Tests compare values and gradients with LibTorch's Conv1d.
#pragma once

#include <cstddef>
#include <vector>

namespace myoexo::models::direct_conv1d {

/// Output channels per register block; packed weights pad the output channels to a multiple of it.
inline constexpr std::size_t kOutBlock = 4;

/// Outputs per register block along time: lengths are padded to a multiple of it (zeros past the signal).
std::size_t time_tile() noexcept;
/// n rounded up to whole time tiles.
std::size_t padded_length(std::size_t n) noexcept;

/// w [out][in][kernel] (torch's layout) -> the kernel's layout [ceil(out / 4)][in][kernel][4], zero rows past
/// `out`. With `transpose_flip`, packs the weights of the input gradient instead: w'[c][o][j] = w[o][c][kernel-1-j]
/// (a convolution from `out` channels to `in` channels).
std::vector<float> pack_weights(const float* w, std::size_t out, std::size_t in, std::size_t kernel,
                                bool transpose_flip);

/// out[o, t] = sum over c < channels, j < kernel of w[o, c, j] * in[c, t + j], for o < ceil(n_out / 4) * 4 and
/// t < padded (a multiple of time_tile()). `in` rows are `in_stride` apart and hold at least padded + kernel - 1
/// values; `packed` comes from pack_weights. With `pooled` (pool 2), each tile leaves as
/// relu(max(out[o, 2u], out[o, 2u + 1]) + bias[o]) for u < n_pooled, written to pooled[o * n_pooled + u] for
/// o < n_out; otherwise the raw sums go to `out` [ceil(n_out / 4) * 4 x padded].
void conv(const float* in, std::size_t in_stride, std::size_t channels, std::size_t kernel, const float* packed,
          std::size_t n_out, float* out, std::size_t padded, const float* bias, float* pooled,
          std::size_t n_pooled) noexcept;

/// Rows [n][rows][len] -> [n][rows][stride] with `left` zeros before each row and zeros after it up to `stride`,
/// for samples [n0, n1).
void pad_rows(const float* x, std::size_t n0, std::size_t n1, std::size_t rows, std::size_t len, std::size_t left,
              std::size_t stride, float* dst) noexcept;

/// A batch's "same" convolution: y[n][o][t] = bias[o] + sum w[o][c][j] * x[n][c][t + j - kernel / 2] for samples
/// [n0, n1). `xpad` holds the inputs padded by pad_rows(left = kernel / 2, stride = padded_length(len) + kernel
/// - 1); `scratch` holds ceil(out / 4) * 4 * padded_length(len) floats; bias may be null.
void forward_batch(const float* xpad, std::size_t n0, std::size_t n1, std::size_t channels, std::size_t len,
                   std::size_t kernel, const float* packed, const float* bias, std::size_t out, float* scratch,
                   float* y) noexcept;

/// gw[o][c][j] = sum over samples n < n_samples and t of gy[n][o][t] * x[n][c][t + j - kernel / 2], for output
/// channels [o0, o1) (o0 a multiple of 4), and gb[o] = sum gy[n][o][t] when gb is not null. `xpad` as in
/// forward_batch; `gypad` holds the output gradients padded by pad_rows(left = kernel / 2, the same stride), as
/// the input gradient uses them. Sums run in a fixed order: results do not depend on how callers split [o0, o1).
void weight_grad_batch(const float* xpad, const float* gypad, std::size_t n_samples, std::size_t channels,
                       std::size_t len, std::size_t kernel, std::size_t out, std::size_t o0, std::size_t o1, float* gw,
                       float* gb);

}  // namespace myoexo::models::direct_conv1d
