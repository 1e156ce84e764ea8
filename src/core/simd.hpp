// myoexo::core — the width of the target's SIMD vectors, for kernels written with GCC/Clang vector extensions
// (the SOS filter, the frozen CNN's convolution): the same source compiles to AVX-512, AVX or SSE2 instructions, and
// a kernel's lane count is kSimdBytes / sizeof(element), so its vectors are always native (no ABI-changing wide
// vectors on narrow targets).
#pragma once

#include <cstddef>

namespace myoexo::core {

#if defined(__AVX512F__)
inline constexpr std::size_t kSimdBytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t kSimdBytes = 32;
#else
inline constexpr std::size_t kSimdBytes = 16;
#endif

}  // namespace myoexo::core
