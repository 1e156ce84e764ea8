#include "models/torch/bn_pool_kernels.hpp"

#include <cstring>

#include "core/simd.hpp"

namespace myoexo::models::bn_pool_kernels {

namespace {

constexpr std::size_t kLanes = core::kSimdBytes / sizeof(float);
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
typedef int IVec __attribute__((vector_size(kLanes * sizeof(int))));
typedef std::uint8_t BVec __attribute__((vector_size(kLanes)));

inline Vec load(const float* p) noexcept {
  Vec v;
  std::memcpy(&v, p, sizeof(Vec));
  return v;
}
inline void store(float* p, Vec v) noexcept { std::memcpy(p, &v, sizeof(Vec)); }
// The first n (< kLanes) elements, zeros after.
inline Vec load_part(const float* p, std::size_t n) noexcept {
  Vec v = {};
  std::memcpy(&v, p, n * sizeof(float));
  return v;
}
inline float hsum(Vec v) noexcept {
  float s = 0.0f;
  for (std::size_t i = 0; i < kLanes; ++i) s += v[i];
  return s;
}

// Shuffle masks: the even and the odd elements of two concatenated vectors (a pair's first and second), and
// their inverse (interleaving two vectors back into pairs, low half then high half).
struct Masks {
  IVec even, odd, inter_lo, inter_hi;
  Masks() noexcept {
    for (std::size_t i = 0; i < kLanes; ++i) {
      even[i] = int(2 * i);
      odd[i] = int(2 * i + 1);
      inter_lo[i] = int(i % 2 == 0 ? i / 2 : kLanes + i / 2);
      inter_hi[i] = int(i % 2 == 0 ? kLanes / 2 + i / 2 : kLanes + kLanes / 2 + i / 2);
    }
  }
};
const Masks kMasks;

// The pairs u0 .. u0 + n (n <= kLanes) of a row: first and second elements as two vectors (zeros past n).
inline void load_pairs(const float* a, std::size_t n, Vec& first, Vec& second) noexcept {
  Vec p, q;
  if (n == kLanes) {
    p = load(a);
    q = load(a + kLanes);
  } else {
    float buf[2 * kLanes] = {};
    std::memcpy(buf, a, 2 * n * sizeof(float));
    p = load(buf);
    q = load(buf + kLanes);
  }
  first = __builtin_shuffle(p, q, kMasks.even);
  second = __builtin_shuffle(p, q, kMasks.odd);
}

inline IVec load_winner(const std::uint8_t* w, std::size_t n) noexcept {
  BVec b = {};
  std::memcpy(&b, w, n);
  return __builtin_convertvector(b, IVec);
}

}  // namespace

double sum(const float* x, std::size_t rows, std::size_t x_stride, std::size_t len) noexcept {
  double total = 0.0;
  const std::size_t whole = len / kLanes * kLanes;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = x + r * x_stride;
    Vec acc = {};
    for (std::size_t j = 0; j < whole; j += kLanes) acc += load(a + j);
    if (whole < len) acc += load_part(a + whole, len - whole);
    total += hsum(acc);
  }
  return total;
}

double squared_deviations(const float* x, std::size_t rows, std::size_t x_stride, std::size_t len,
                          float mean) noexcept {
  double total = 0.0;
  const std::size_t whole = len / kLanes * kLanes;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = x + r * x_stride;
    Vec acc = {};
    for (std::size_t j = 0; j < whole; j += kLanes) {
      const Vec d = load(a + j) - mean;
      acc += d * d;
    }
    float tail = 0.0f;
    for (std::size_t j = whole; j < len; ++j) tail += (a[j] - mean) * (a[j] - mean);
    total += hsum(acc) + tail;
  }
  return total;
}

void normalise_relu_pool2(const float* x, std::size_t rows, std::size_t x_stride, std::size_t len, float scale,
                          float shift, float* y, std::uint8_t* winner, std::size_t y_stride) noexcept {
  const std::size_t lo = len / 2;
  const Vec zero = {};
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = x + r * x_stride;
    float* o = y + r * y_stride;
    std::uint8_t* w = winner + r * y_stride;
    for (std::size_t u = 0; u < lo; u += kLanes) {
      const std::size_t n = lo - u < kLanes ? lo - u : kLanes;
      Vec first, second;
      load_pairs(a + 2 * u, n, first, second);
      first = scale * first + shift;
      second = scale * second + shift;
      const IVec second_wins = second > first;  // -1 where the second element is larger
      const Vec m = second_wins ? second : first;
      const IVec positive = m > zero;
      const Vec out = positive ? m : zero;
      const BVec id = __builtin_convertvector(positive & (1 - second_wins), BVec);
      if (n == kLanes) {
        store(o + u, out);
        std::memcpy(w + u, &id, kLanes);
      } else {
        std::memcpy(o + u, &out, n * sizeof(float));
        std::memcpy(w + u, &id, n);
      }
    }
  }
}

void pool2_gradient_sums(const float* x, const float* g, const std::uint8_t* winner, std::size_t rows,
                         std::size_t x_stride, std::size_t len, std::size_t y_stride, double* sum_dz,
                         double* sum_dz_x) noexcept {
  const std::size_t lo = len / 2;
  const Vec zero = {};
  double s0 = 0.0, s1 = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = x + r * x_stride;
    const float* gr = g + r * y_stride;
    const std::uint8_t* w = winner + r * y_stride;
    Vec acc0 = {}, acc1 = {};
    for (std::size_t u = 0; u < lo; u += kLanes) {
      const std::size_t n = lo - u < kLanes ? lo - u : kLanes;
      Vec first, second;
      load_pairs(a + 2 * u, n, first, second);
      const IVec q = load_winner(w + u, n);
      const Vec gv = n == kLanes ? load(gr + u) : load_part(gr + u, n);
      const Vec dz = q != 0 ? gv : zero;
      acc0 += dz;
      acc1 += dz * (q == 2 ? second : first);
    }
    s0 += hsum(acc0);
    s1 += hsum(acc1);
  }
  *sum_dz = s0;
  *sum_dz_x = s1;
}

void pool2_input_gradient(const float* x, const float* g, const std::uint8_t* winner, std::size_t rows,
                          std::size_t x_stride, std::size_t len, std::size_t y_stride, float k, float alpha,
                          float beta, float* dx) noexcept {
  const std::size_t lo = len / 2;
  const Vec zero = {};
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = x + r * x_stride;
    const float* gr = g + r * y_stride;
    const std::uint8_t* w = winner + r * y_stride;
    float* o = dx + r * x_stride;
    for (std::size_t u = 0; u < lo; u += kLanes) {
      const std::size_t n = lo - u < kLanes ? lo - u : kLanes;
      Vec first, second;
      load_pairs(a + 2 * u, n, first, second);
      const IVec q = load_winner(w + u, n);
      const Vec gz = k * (n == kLanes ? load(gr + u) : load_part(gr + u, n));
      const Vec d_first = alpha + beta * first + (q == 1 ? gz : zero);
      const Vec d_second = alpha + beta * second + (q == 2 ? gz : zero);
      const Vec pairs_lo = __builtin_shuffle(d_first, d_second, kMasks.inter_lo);
      const Vec pairs_hi = __builtin_shuffle(d_first, d_second, kMasks.inter_hi);
      if (n == kLanes) {
        store(o + 2 * u, pairs_lo);
        store(o + 2 * u + kLanes, pairs_hi);
      } else {
        float buf[2 * kLanes];
        store(buf, pairs_lo);
        store(buf + kLanes, pairs_hi);
        std::memcpy(o + 2 * u, buf, 2 * n * sizeof(float));
      }
    }
    for (std::size_t j = 2 * lo; j < len; ++j) o[j] = alpha + beta * a[j];
  }
}

}  // namespace myoexo::models::bn_pool_kernels
