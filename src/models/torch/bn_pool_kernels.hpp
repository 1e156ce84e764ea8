// myoexo::models (models/torch) — the per-channel loops of the training step's fused BatchNorm + ReLU + max-pool 2
// (networks.cpp's BnReluMaxPool1d), written with vector extensions (the width of core/simd.hpp).
//
// Why by hand: the loops de-interleave pool pairs, keep a byte per output for the winner and select by it; GCC
// leaves them scalar even under `omp simd` (measured with perf: the fused op was 30 % of a CNN1d training step,
// as much as the convolutions). Torch-free, like direct_conv1d.hpp.
//
// A channel's data is `rows` rows (one per sample) of `len` inputs, `x_stride` floats apart; the pooled outputs,
// their gradients and the winner bytes are rows of len / 2, `y_stride` apart. Winner byte: 0 where the output was
// clamped to 0 (no gradient), 1 for the pair's first element, 2 for its second (ties: the first).
#pragma once

#include <cstddef>
#include <cstdint>

namespace myoexo::models::bn_pool_kernels {

/// Sum of the channel's inputs: float partial sums per row, added in double.
double sum(const float* x, std::size_t rows, std::size_t x_stride, std::size_t len) noexcept;
/// Sum of (x - mean)^2 over the channel, summed the same way.
double squared_deviations(const float* x, std::size_t rows, std::size_t x_stride, std::size_t len,
                          float mean) noexcept;
/// y = relu(max(scale * x[2u] + shift, scale * x[2u + 1] + shift)) and its winner byte, for u < len / 2.
void normalise_relu_pool2(const float* x, std::size_t rows, std::size_t x_stride, std::size_t len, float scale,
                          float shift, float* y, std::uint8_t* winner, std::size_t y_stride) noexcept;
/// The BatchNorm output's gradient dz (g at the winner, 0 elsewhere): sums of dz and of dz * x over the channel.
void pool2_gradient_sums(const float* x, const float* g, const std::uint8_t* winner, std::size_t rows,
                         std::size_t x_stride, std::size_t len, std::size_t y_stride, double* sum_dz,
                         double* sum_dz_x) noexcept;
/// dx = alpha + beta * x + k * dz for every input (the tail past 2 * (len / 2) has dz = 0).
void pool2_input_gradient(const float* x, const float* g, const std::uint8_t* winner, std::size_t rows,
                          std::size_t x_stride, std::size_t len, std::size_t y_stride, float k, float alpha,
                          float beta, float* dx) noexcept;

}  // namespace myoexo::models::bn_pool_kernels
