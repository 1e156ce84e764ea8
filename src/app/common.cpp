#include "app/common.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <system_error>
#include <tuple>

#include "core/paths.hpp"
#include "dsp/sos_filter.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

// ---- paths ----------------------------------------------------------------------------------------------------

std::optional<fs::path> resolve_data_root(const Context& ctx) { return find_dataset_root(ctx.data_dir); }

Status print_json_file(const Context& ctx, const fs::path& file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return make_error(ErrorCode::io, file.string(), 0, "cannot be read");
  if (text.empty()) return make_error(ErrorCode::io, file.string(), 0, "is empty or missing");
  ctx.out << text;
  if (text.back() != '\n') ctx.out << '\n';
  return {};
}

fs::path resolve_input_path(const Context& ctx, const fs::path& path) {
  std::error_code ec;
  if (path.empty() || fs::exists(path, ec) || path.is_absolute()) return path;
  if (auto root = resolve_data_root(ctx)) {
    fs::path candidate = *root / path;
    if (fs::exists(candidate, ec)) return candidate;
  }
  return path;
}

Status ensure_parent_dir(const fs::path& path) {
  if (!path.has_parent_path()) return {};
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec || !fs::is_directory(path.parent_path()))
    return make_error(ErrorCode::io, path.parent_path().string(), 0, "cannot create folder: " + ec.message());
  return {};
}

// ---- progress -------------------------------------------------------------------------------------------------

void log_line(const Context& ctx, const std::string& text) {
  if (!ctx.quiet) ctx.err << "myoexo: " << text << '\n' << std::flush;
}

Progress::Progress(const Context& ctx, std::string what, std::size_t total)
    : ctx_(ctx), what_(std::move(what)), total_(total), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(std::size_t done) {
  if (ctx_.quiet) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  shown_ = true;
  ctx_.err << "myoexo: " << what_ << ": " << done;
  if (total_ > 0) ctx_.err << " / " << total_ << " (" << (100 * done / total_) << " %)";
  ctx_.err << '\n' << std::flush;
}

void Progress::finish(bool always) {
  if (ctx_.quiet || !(shown_ || always)) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  ctx_.err << "myoexo: " << what_ << ": done (" << buf << " s)\n" << std::flush;
}

// ---- channels and filters -------------------------------------------------------------------------------------

Result<std::vector<std::size_t>> select_channels(const io::Recording& rec, const std::vector<std::string>& names) {
  std::vector<std::size_t> out;
  if (names.empty()) {
    for (std::size_t c = 0; c < rec.n_channels(); ++c) {
      const bool is_angle = c < rec.channel_units.size() && rec.channel_units[c] == "deg";
      if (!is_angle) out.push_back(c);
    }
    if (out.empty())
      return make_error(ErrorCode::invalid_argument, rec.source_path.string(), 0, "has no EMG channel");
    return out;
  }
  for (const auto& name : names) {
    const int c = rec.channel_index(name);
    if (c < 0) {
      std::string have;
      for (const auto& n : rec.channel_names) have += (have.empty() ? "" : ", ") + n;
      return make_error(ErrorCode::invalid_argument, rec.source_path.string(), 0,
                        "unknown channel '" + name + "' (channels: " + have + ")");
    }
    out.push_back(static_cast<std::size_t>(c));
  }
  return out;
}

Result<dsp::SosDesign> design_from_options(double sample_rate_hz, std::optional<double> low_hz,
                                           std::optional<double> high_hz, int order, std::optional<double> notch_hz,
                                           double notch_q) {
  if (low_hz.has_value() != high_hz.has_value())
    return make_error(ErrorCode::invalid_argument, "--bandpass needs two values: LOW HIGH (Hz)");
  if (!low_hz && !notch_hz) return make_error(ErrorCode::invalid_argument, "give --bandpass LOW HIGH and/or --notch HZ");
  std::optional<dsp::SosDesign> design;
  if (low_hz) {
    auto bp = dsp::design_bandpass(order, *low_hz, *high_hz, sample_rate_hz);
    if (!bp) {
      Error e = bp.error();
      e.reason = "--bandpass " + format_double(*low_hz) + " " + format_double(*high_hz) + " --order " +
                 std::to_string(order) + " at " + format_double(sample_rate_hz) + " Hz: " + e.reason;
      return e;
    }
    design = std::move(bp).value();
  }
  if (notch_hz) {
    auto n = dsp::design_notch(*notch_hz, notch_q, sample_rate_hz);
    if (!n) {
      Error e = n.error();
      e.reason = "--notch " + format_double(*notch_hz) + " at " + format_double(sample_rate_hz) + " Hz: " + e.reason;
      return e;
    }
    if (design) {
      auto both = dsp::cascade(*design, n.value());
      if (!both) return both.error();
      design = std::move(both).value();
    } else {
      design = std::move(n).value();
    }
  }
  return *design;
}

Status filter_channels(io::Recording& rec, const dsp::SosDesign& design, const std::vector<std::size_t>& which,
                       bool zero_phase) {
  const std::size_t n = rec.n_samples;
  if (n == 0 || which.empty()) return {};
  // Gather the chosen channels into one contiguous channel-major block so the SIMD filter runs them together.
  std::vector<double> block(which.size() * n);
  for (std::size_t k = 0; k < which.size(); ++k) {
    auto ch = rec.channel(which[k]);
    std::copy(ch.begin(), ch.end(), block.begin() + static_cast<std::ptrdiff_t>(k * n));
  }
  if (zero_phase) {
    if (auto s = dsp::sosfiltfilt(design, block, which.size(), block); !s) return s;
  } else {
    auto filter = dsp::SosFilter::create(design, which.size());
    if (!filter) return filter.error();
    if (auto s = filter->process_channel_major(block, block, n); !s) return s;
  }
  for (std::size_t k = 0; k < which.size(); ++k) {
    auto ch = rec.channel(which[k]);
    std::copy(block.begin() + static_cast<std::ptrdiff_t>(k * n),
              block.begin() + static_cast<std::ptrdiff_t>((k + 1) * n), ch.begin());
  }
  return {};
}

bool subject_less(const std::string& a, const std::string& b) {
  auto split = [](const std::string& s) {
    std::size_t i = 0;
    unsigned long long n = 0;
    while (i < s.size() && i < 18 && s[i] >= '0' && s[i] <= '9') n = n * 10 + unsigned(s[i++] - '0');
    return std::make_tuple(i == 0, n, s.substr(i));
  };
  return split(a) < split(b);
}

std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string format_percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * share);
  return buf;
}

std::string format_double(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "nan";
  return std::string(buf, end);
}

Result<io::Dataset> load_data_folder(const Context& ctx, const std::optional<std::filesystem::path>& data) {
  std::filesystem::path data_path;
  if (data) {
    data_path = resolve_input_path(ctx, *data);
  } else {
    auto root = resolve_data_root(ctx);
    if (!root)
      return make_error(ErrorCode::io, "no data-set root: pass --dataset DIR, --data DIR or set $MYOEXO_DATA (or run "
                                       "`myoexo download uci-lower-limb`)");
    data_path = *root / "uci-lower-limb";
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(data_path, ec))
    return make_error(ErrorCode::io, data_path.string(), 0,
                      "is not a folder (run `myoexo download uci-lower-limb` or pass --dataset DIR)");
  log_line(ctx, "reading every recording below " + data_path.string() + " ...");
  return io::load_dataset(data_path);
}

std::string file_name_part(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return out.empty() ? std::string("_") : out;
}

Status apply_front_end_override(const FrontEndOverride& o, double& band_low_hz, double& band_high_hz,
                                std::optional<dsp::WaveletStreamConfig>& denoise) {
  if (o.band_low_hz && o.band_high_hz) {
    if (!(*o.band_low_hz > 0.0 && *o.band_low_hz < *o.band_high_hz))
      return make_error(ErrorCode::invalid_argument, "--bandpass: need 0 < LOW < HIGH, got " +
                                                         format_double(*o.band_low_hz) + " " +
                                                         format_double(*o.band_high_hz));
    band_low_hz = *o.band_low_hz;
    band_high_hz = *o.band_high_hz;
  }
  if (o.wavelet) denoise = *o.wavelet ? std::optional<dsp::WaveletStreamConfig>(dsp::WaveletStreamConfig{}) : std::nullopt;
  return {};
}

std::string describe_front_end(int filter_order, double band_low_hz, double band_high_hz,
                               const std::optional<dsp::WaveletStreamConfig>& denoise) {
  std::string s = filter_order > 0 ? format_double(band_low_hz) + "-" + format_double(band_high_hz) +
                                         " Hz band-pass (order " + std::to_string(filter_order) + ")"
                                   : std::string("no band-pass");
  return s + (denoise ? ", " + dsp::describe_wavelet_stream(*denoise) : std::string(", no wavelet stage"));
}

}  // namespace myoexo::app
