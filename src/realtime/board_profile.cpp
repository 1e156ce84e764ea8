#include "realtime/board_profile.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include "realtime/toml_file.hpp"

namespace myoexo::realtime {

const char* board_output_name(BoardOutput o) noexcept { return o == BoardOutput::raw ? "raw" : "env"; }

BoardProfile default_board_profile() { return BoardProfile{}; }

Status validate_board_profile(const BoardProfile& p, const std::string& where) {
  auto bad = [&](const std::string& why) { return make_error(ErrorCode::invalid_argument, where, 0, why); };
  if (p.adc_bits < 8 || p.adc_bits > 16) return bad("adc_bits must be in [8, 16], got " + std::to_string(p.adc_bits));
  if (!(p.reference_volts > 0.0 && p.reference_volts <= 100.0))
    return bad("reference_volts must be in (0, 100]");
  if (!(p.gain > 0.0 && p.gain <= 1e6)) return bad("gain must be in (0, 1e6]");
  if (p.offset_code && !(*p.offset_code >= 0.0 && *p.offset_code <= p.max_code()))
    return bad("offset_code must be a code in [0, " + std::to_string(int(p.max_code())) + "]");
  return {};
}

Result<BoardProfile> load_board_profile(const std::filesystem::path& path) {
  const std::string file = path.string();
  auto parsed = detail::parse_toml_file(path);
  if (!parsed) return parsed.error();
  const toml::table& t = *parsed;
  BoardProfile p;
  static const std::set<std::string> known{"name", "adc_bits", "reference_volts", "gain", "output", "offset_code"};
  for (const auto& [k, node] : t) {
    const std::size_t line = std::size_t(node.source().begin.line);
    const std::string key(k.str());
    if (!known.count(key))
      return make_error(ErrorCode::parse, file, line,
                        "unknown key '" + key + "' (known: name, adc_bits, reference_volts, gain, output, offset_code)");
    auto number = [&](double& out) -> Status {
      if (auto v = node.value<double>(); v && std::isfinite(*v)) {
        out = *v;
        return {};
      }
      return make_error(ErrorCode::parse, file, line, "'" + key + "' must be a finite number");
    };
    if (key == "name") {
      if (!node.is_string()) return make_error(ErrorCode::parse, file, line, "'name' must be a string");
      p.name = *node.value<std::string>();
    } else if (key == "adc_bits") {
      const auto v = node.value<std::int64_t>();
      if (!node.is_integer() || !v || *v < 8 || *v > 16)
        return make_error(ErrorCode::invalid_argument, file, line, "'adc_bits' must be an integer in [8, 16]");
      p.adc_bits = int(*v);
    } else if (key == "reference_volts") {
      if (auto s = number(p.reference_volts); !s) return s.error();
    } else if (key == "gain") {
      if (auto s = number(p.gain); !s) return s.error();
    } else if (key == "offset_code") {
      double v = 0;
      if (auto s = number(v); !s) return s.error();
      p.offset_code = v;
    } else if (key == "output") {
      const auto v = node.value<std::string>();
      if (!v || (*v != "raw" && *v != "env"))
        return make_error(ErrorCode::invalid_argument, file, line, "'output' must be \"raw\" or \"env\"");
      p.output = *v == "raw" ? BoardOutput::raw : BoardOutput::envelope;
    }
  }
  if (auto s = validate_board_profile(p, file); !s) return s.error();
  return p;
}

std::optional<double> millivolts_per_unit(std::string_view unit) noexcept {
  if (unit == "V") return 1e3;
  if (unit == "mV") return 1.0;
  if (unit == "uV" || unit == "\xC2\xB5V" || unit == "\xCE\xBCV") return 1e-3;
  return std::nullopt;
}

bool is_adc_code_unit(std::string_view unit) noexcept { return unit == "adc" || unit == "code" || unit == "codes"; }

Result<InputConversion> plan_input_conversion(std::string_view source_unit, std::string_view model_unit,
                                              const BoardProfile* board) {
  const std::string su(source_unit), mu(model_unit);
  const std::string shown_su = su.empty() ? "no unit" : "'" + su + "'";
  const std::string shown_mu = mu.empty() ? "no unit" : "'" + mu + "'";
  InputConversion c;
  const auto model_mv = millivolts_per_unit(mu);
  if (is_adc_code_unit(su)) {
    if (!board)
      return make_error(ErrorCode::mismatch,
                        "the source streams ADC codes and no board profile says what a code is (give --board FILE; "
                        "the default profile is MyoWare 2.0 RAW on a 5 V Uno)");
    if (auto s = validate_board_profile(*board); !s) return s.error();
    if (board->output != BoardOutput::raw)
      return make_error(ErrorCode::mismatch, "the board (" + board->name +
                                                 ") streams the EMG envelope (ENV output); the model takes raw EMG: "
                                                 "wire the sensor's RAW output or use a model trained on envelopes");
    if (!model_mv)
      return make_error(ErrorCode::mismatch, "the source streams ADC codes, which the board profile turns into "
                                             "millivolts, but the model was trained in " + shown_mu +
                                                 ", not a voltage unit (V, mV, uV)");
    c.offset = board->zero_code();
    c.scale = board->millivolts_per_code() / *model_mv;
    char buf[256];
    std::snprintf(buf, sizeof buf, "ADC codes -> %s at the skin (%s: %.4g mV per code, zero at code %.1f)", mu.c_str(),
                  board->name.c_str(), board->millivolts_per_code(), c.offset);
    c.description = buf;
    return c;
  }
  const auto source_mv = millivolts_per_unit(su);
  if (source_mv && model_mv) {
    c.scale = *source_mv / *model_mv;
    c.description = c.scale == 1.0 ? su + " (the model's unit)" : su + " -> " + mu;
    return c;
  }
  if (!su.empty() && su == mu) {
    c.description = su + " (the model's unit)";
    return c;
  }
  return make_error(ErrorCode::mismatch, "the source's samples are in " + shown_su + " and the model was trained in " +
                                             shown_mu + "; they cannot be converted (declare the recording's unit, "
                                             "e.g. --input-unit mV, or use a model trained in the source's unit)");
}

}  // namespace myoexo::realtime
