// myoexo::models (models/torch) — what a LibTorch network is: its input (channels, window geometry, the filter the
// windows went through, the per-channel standardisation) and its architecture (every hyper-parameter).
//
// Why one spec for both: a model file stores exactly this struct next to the weights, so `predict` and the
// live stream rebuild the same network and feed it windows made the same way, with nothing else to read.
// The spec is plain data (torch-free): the CLI, eval and realtime stages include it without LibTorch's
// headers. It is parsed from the [input] and [model] tables of a TOML config (configs/cnn1d.toml etc.).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "dsp/wavelet.hpp"
#include "models/model_card.hpp"

namespace myoexo::models {

/// The filter the windows went through before the network (recorded, not applied, by the model: the
/// dsp objects of the stream apply it). kind "" = unfiltered.
struct FilterSettings {
  std::string kind = "bandpass";  ///< "bandpass", "highpass", "lowpass", "" (none)
  int order = 4;                  ///< Butterworth order (SciPy's N)
  double low_hz = 20.0;           ///< bandpass/highpass corner
  double high_hz = 450.0;         ///< bandpass/lowpass corner
  bool causal = true;             ///< sosfilt with zero initial state (true) or zero-phase (false)
  /// Wavelet denoising after the filter (dsp::WaveletDenoiseStream); none = off.
  std::optional<dsp::WaveletStreamConfig> denoise;
};

/// What one input window is. A window is channel-major [channels x window_length] samples, filtered.
struct InputSpec {
  double sample_rate_hz = 1000.0;
  std::vector<std::string> channel_names{"RF", "BF", "VM", "ST"};
  std::size_t window_length = 250;     ///< samples per window (>= 1)
  std::size_t window_increment = 50;   ///< samples between window starts (>= 1)
  FilterSettings filter;
  /// Data-set class name -> this model's class name ([input.class_map], e.g. standing = "leg lift"): the names
  /// the model is trained, evaluated and deployed with. Empty = the data set's names.
  std::vector<std::pair<std::string, std::string>> class_map;
  std::size_t n_channels() const noexcept { return channel_names.size(); }
};

/// Per-channel standardisation x' = (x - mean[c]) / std[c], applied inside the network (so TorchScript
/// exports include it). For a spectrogram network the statistics are of the dB image, per channel.
/// Empty vectors = identity. Fitted on training windows only (train::fit_normalisation).
struct Normalisation {
  std::vector<double> mean;  ///< [channels]
  std::vector<double> std;   ///< [channels], > 0
};

enum class ArchKind {
  cnn1d,            ///< blocks of Conv1d + BatchNorm + ReLU + MaxPool over the raw window, dense softmax
  spectrogram_cnn,  ///< blocks of Conv2d + BatchNorm + ReLU + MaxPool2d over the per-channel STFT in dB
  lstm,             ///< LSTM over short frames of the window (frame = all channels' samples, flattened)
  cnn_lstm,         ///< the Conv1d blocks applied to each frame, LSTM over the frames' features
};
const char* arch_kind_name(ArchKind kind) noexcept;  ///< "cnn1d", "spectrogram_cnn", "lstm", "cnn_lstm"

/// Every architecture hyper-parameter. Fields not used by `kind` are ignored (and keep their defaults).
struct ArchConfig {
  ArchKind kind = ArchKind::cnn1d;
  // Convolution blocks (cnn1d, cnn_lstm: 1-D; spectrogram_cnn: 2-D, square kernel and pool).
  std::vector<std::size_t> filters{16, 32, 64};  ///< output channels per block (>= 1 block for CNNs)
  std::size_t kernel_size = 7;                   ///< odd; "same" zero padding of kernel_size / 2
  std::size_t pool_size = 2;                     ///< max-pool kernel = stride (1 = no pooling)
  bool conv_bias = true;                         ///< a bias per conv filter (redundant before BatchNorm)
  // Head: flatten -> [dense_units... (ReLU, dropout)] -> n_classes logits -> softmax.
  std::vector<std::size_t> dense_units;          ///< hidden dense layers (may be empty)
  double dropout = 0.0;                          ///< in [0, 1): before every dense layer, training only
  // Frames (lstm, cnn_lstm): frame k covers samples [k*frame_step, k*frame_step + frame_length).
  std::size_t frame_length = 25;
  std::size_t frame_step = 25;
  std::size_t hidden_size = 64;                  ///< LSTM units
  std::size_t num_layers = 1;                    ///< stacked LSTM layers
  // Spectrogram (spectrogram_cnn): SpectrogramTransform (Hann STFT power per channel, 10 log10(max(p, floor))).
  std::size_t nperseg = 256;                     ///< STFT segment (samples), <= window_length
  std::size_t noverlap = 128;                    ///< overlap (samples), < nperseg
  double power_floor = 1e-12;                    ///< floor before log (avoids -inf on silent segments)
};

/// Shape of the tensor the network sees for one window (after the spectrogram for spectrogram_cnn):
/// cnn1d/lstm/cnn_lstm: {channels, window_length}; spectrogram_cnn: {channels, frames, freq_bins}.
std::vector<std::size_t> network_input_shape(const InputSpec& input, const ArchConfig& arch);

/// Everything a model file holds besides the weights.
struct NetworkSpec {
  InputSpec input;
  ArchConfig arch;
  std::vector<std::string> class_names;  ///< index = class id; may be empty in a config (training fills it)
  Normalisation normalisation;           ///< empty until training fits it
  std::string notes;                     ///< free text (data set, protocol, command line)
  /// Unit, class -> intent map, training files and provenance (the model file's "card"; absent in files written
  /// before it existed, which load with signal_unit "mV", the default class map and an empty provenance).
  ModelCard card;
};

/// Checks ranges and that the architecture fits the window (e.g. pooling does not shrink it to zero).
Status validate_network_spec(const NetworkSpec& spec);

/// Parses the [input] and [model] tables of a TOML config (other tables are ignored). Missing keys keep
/// the defaults above; unknown keys in [input]/[model] are an error (catches typos). Errors: parse (with
/// line), invalid_argument (ranges, via validate_network_spec).
Result<NetworkSpec> parse_network_spec(std::string_view toml_text, const std::string& display_name = "<toml>");
Result<NetworkSpec> load_network_spec(const std::filesystem::path& path);

/// JSON form (the model file's metadata); doubles round-trip exactly.
std::string network_spec_to_json(const NetworkSpec& spec);
Result<NetworkSpec> network_spec_from_json(std::string_view json_text, const std::string& display_name = "<json>");

}  // namespace myoexo::models
