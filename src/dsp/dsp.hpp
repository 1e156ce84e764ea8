// myoexo::dsp — the stage's public header: filter design (butterworth.hpp), causal and zero-phase SOS
// filtering (sos_filter.hpp), windowing offline and streaming (windowing.hpp), FFT (fft.hpp),
// STFT/spectrogram (stft.hpp) and wavelet denoising (wavelet.hpp). Everything is checked against SciPy
// 1.10 / PyWavelets fixtures (scripts/fixtures_dsp.py, tests/dsp/).
#pragma once

#include "dsp/butterworth.hpp"
#include "dsp/fft.hpp"
#include "dsp/sos_filter.hpp"
#include "dsp/stft.hpp"
#include "dsp/wavelet.hpp"
#include "dsp/windowing.hpp"
