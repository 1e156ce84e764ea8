#include "dsp/fft.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace myoexo::dsp {

namespace {
// FFTW's planner is not thread-safe; execute is.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

struct RealFft::Impl {
  double* in = nullptr;
  fftw_complex* out = nullptr;
  fftw_plan plan = nullptr;
  ~Impl() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    if (plan) fftw_destroy_plan(plan);
    if (in) fftw_free(in);
    if (out) fftw_free(out);
  }
};

RealFft::RealFft(std::size_t n, Planning planning) : n_(n), impl_(std::make_unique<Impl>()) {
  if (n == 0) throw std::invalid_argument("RealFft: length must be >= 1");
  std::lock_guard<std::mutex> lock(planner_mutex());
  impl_->in = fftw_alloc_real(n);
  impl_->out = fftw_alloc_complex(n / 2 + 1);
  if (!impl_->in || !impl_->out) throw std::bad_alloc();
  const unsigned flags = planning == Planning::measure ? FFTW_MEASURE : FFTW_ESTIMATE;
  impl_->plan = fftw_plan_dft_r2c_1d(static_cast<int>(n), impl_->in, impl_->out, flags);
  std::memset(impl_->in, 0, n * sizeof(double));  // after planning: FFTW_MEASURE overwrites the arrays
  if (!impl_->plan) throw std::runtime_error("RealFft: FFTW could not make a plan");
}

RealFft::~RealFft() = default;
RealFft::RealFft(RealFft&&) noexcept = default;
RealFft& RealFft::operator=(RealFft&&) noexcept = default;

std::span<double> RealFft::input() noexcept { return {impl_->in, n_}; }

std::span<const std::complex<double>> RealFft::output() const noexcept {
  // fftw_complex is layout-compatible with std::complex<double> (FFTW manual, "Complex numbers").
  return {reinterpret_cast<const std::complex<double>*>(impl_->out), n_ / 2 + 1};
}

void RealFft::execute() noexcept { fftw_execute(impl_->plan); }

void RealFft::power(std::span<const double> in, std::span<double> power) noexcept {
  std::copy(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(std::min(in.size(), n_)), impl_->in);
  fftw_execute(impl_->plan);
  const std::size_t nb = std::min(power.size(), n_ / 2 + 1);
  for (std::size_t k = 0; k < nb; ++k) power[k] = impl_->out[k][0] * impl_->out[k][0] + impl_->out[k][1] * impl_->out[k][1];
}

}  // namespace myoexo::dsp
