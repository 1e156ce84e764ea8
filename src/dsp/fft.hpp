// myoexo::dsp — a real-to-complex FFT plan of fixed length (FFTW behind it).
//
// The plan and its aligned buffers are made once in the constructor (FFTW planning is not thread-safe and
// allocates); execute() only transforms and may run on the real-time path.
#pragma once

#include <complex>
#include <cstddef>
#include <memory>
#include <span>

namespace myoexo::dsp {

class RealFft {
 public:
  /// How hard FFTW plans. estimate: no timing runs, the same plan on every machine and run. measure:
  /// times candidate algorithms at construction (milliseconds) for a faster execute(); the choice is kept
  /// as FFTW wisdom for the process, so every later plan of the same length in the process is identical.
  enum class Planning { estimate, measure };

  /// n >= 1 real inputs -> n/2 + 1 complex outputs (FFTW_ESTIMATE planning, deterministic).
  explicit RealFft(std::size_t n) : RealFft(n, Planning::estimate) {}
  RealFft(std::size_t n, Planning planning);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;
  RealFft(RealFft&&) noexcept;
  RealFft& operator=(RealFft&&) noexcept;

  std::size_t size() const noexcept { return n_; }
  std::size_t bins() const noexcept { return n_ / 2 + 1; }

  /// The plan's input buffer (n doubles): fill it, then call execute().
  std::span<double> input() noexcept;
  /// The plan's output buffer (n/2+1 bins), valid after execute().
  std::span<const std::complex<double>> output() const noexcept;
  /// Transforms input() into output(). No allocation.
  void execute() noexcept;
  /// Convenience: copies `in` (size n) into input(), executes, writes |X_k|^2 into `power` (size n/2+1).
  void power(std::span<const double> in, std::span<double> power) noexcept;

 private:
  struct Impl;
  std::size_t n_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace myoexo::dsp
