// myoexo::realtime — the electrical front end of a board, and the units of a signal from the ADC code to the model.
//
// A board streams ADC codes. What a code means depends on the sensor and the board: a MyoWare 2.0 RAW output is
// the skin voltage amplified (gain 200) and centred at Vs/2, so on a 5 V, 10-bit Arduino Uno code 512 is 0 mV at
// the skin and one millivolt is about 41 codes. A BoardProfile says this in a small TOML file; the session turns
// codes into millivolts at the skin with it before the filter, the sensor-fault checks and the model see them.
// Units are never guessed: a source in codes without a profile, or a model trained in another quantity, is
// refused (plan_input_conversion).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace myoexo::realtime {

/// What the sensor's analog output carries.
enum class BoardOutput {
  raw,       ///< the amplified EMG itself (MyoWare RAW), centred at offset_code
  envelope,  ///< the rectified, smoothed envelope (MyoWare ENV): not an EMG a raw-EMG model can take
};
const char* board_output_name(BoardOutput o) noexcept;

struct BoardProfile {
  std::string name = "MyoWare 2.0 RAW on an Arduino Uno (5 V, 10-bit ADC)";
  int adc_bits = 10;               ///< 8..16
  double reference_volts = 5.0;    ///< ADC reference (full scale) [V], > 0
  double gain = 200.0;             ///< volts at the ADC pin per volt at the skin, > 0
  BoardOutput output = BoardOutput::raw;
  /// The code of 0 V at the skin; absent = mid-scale (max_code / 2) for RAW, 0 for the envelope.
  std::optional<double> offset_code;

  double max_code() const noexcept { return double((1u << adc_bits) - 1u); }
  double zero_code() const noexcept { return offset_code ? *offset_code : (output == BoardOutput::raw ? max_code() / 2 : 0.0); }
  /// Millivolts at the skin per ADC code.
  double millivolts_per_code() const noexcept { return reference_volts / max_code() / gain * 1e3; }
};

/// The default profile: MyoWare 2.0 RAW on a 5 V Arduino Uno (10 bits, gain 200, mid-scale offset).
BoardProfile default_board_profile();

/// Checks the ranges above. Errors: invalid_argument naming `where` (a file or "board profile").
Status validate_board_profile(const BoardProfile& p, const std::string& where = "board profile");

/// Reads a profile from TOML: name, adc_bits, reference_volts, gain, output ("raw" | "env"), offset_code.
/// Unknown keys and out-of-range values are errors (file and line). Absent keys keep the defaults above.
Result<BoardProfile> load_board_profile(const std::filesystem::path& path);

/// Millivolts per unit for a voltage unit ("V" 1000, "mV" 1, "uV"/"µV" 0.001); nullopt for anything else.
std::optional<double> millivolts_per_unit(std::string_view unit) noexcept;
/// Units that mean raw ADC codes ("adc", "code", "codes").
bool is_adc_code_unit(std::string_view unit) noexcept;

/// y = (x - offset) * scale turns the source's samples into the model's unit.
struct InputConversion {
  double offset = 0.0;
  double scale = 1.0;
  std::string description;  ///< "ADC codes -> mV at the skin (MyoWare ..., 0.0244 mV/code, zero at code 511.5)"
  bool identity() const noexcept { return offset == 0.0 && scale == 1.0; }
};

/// How samples in `source_unit` become `model_unit`. ADC codes need `board` (RAW output for a raw-EMG model);
/// voltage units convert by their ratio; identical non-empty units pass through. Anything else (an empty or
/// unknown unit on either side, codes without a profile, an envelope board for a raw-EMG model) is a mismatch
/// error that says which unit each side has and how to declare it.
Result<InputConversion> plan_input_conversion(std::string_view source_unit, std::string_view model_unit,
                                              const BoardProfile* board);

}  // namespace myoexo::realtime
