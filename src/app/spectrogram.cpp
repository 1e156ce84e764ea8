// `myoexo spectrogram FILE --channel NAME [--nperseg 256 --noverlap 128 --window hann|hamming] --out PREFIX`.
#include <cmath>
#include <fstream>

#include "app/common.hpp"
#include "dsp/dsp.hpp"
#include "io/io.hpp"
#include "report/report.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

Result<ChannelSpectrogram> compute_channel_spectrogram(const std::vector<double>& x, double fs_hz,
                                                       std::size_t nperseg, std::size_t noverlap,
                                                       const std::string& window) {
  if (nperseg < 8) return make_error(ErrorCode::invalid_argument, "--nperseg must be >= 8");
  if (noverlap >= nperseg) return make_error(ErrorCode::invalid_argument, "--noverlap must be < --nperseg");
  if (window != "hann" && window != "hamming")
    return make_error(ErrorCode::invalid_argument, "--window must be hann or hamming, not '" + window + "'");
  if (!(fs_hz > 0)) return make_error(ErrorCode::invalid_argument, "the recording has no sampling rate");
  if (x.size() < nperseg)
    return make_error(ErrorCode::empty, "the recording has " + std::to_string(x.size()) +
                                            " samples, fewer than one segment (" + std::to_string(nperseg) + ")");
  // scipy.signal.spectrogram(x, fs, window, nperseg, noverlap, detrend='constant', scaling='density',
  // mode='psd'), in dB with the dsp stage's floor (1e-20 -> -200 dB) so the CSV never holds -inf.
  auto cfg = dsp::StftConfig::scipy_spectrogram(fs_hz, window == "hann" ? dsp::WindowType::hann
                                                                        : dsp::WindowType::hamming);
  cfg.nperseg = nperseg;
  cfg.noverlap = noverlap;
  cfg.output = dsp::StftOutput::db;
  cfg.fft_planning = dsp::RealFft::Planning::estimate;  // one transform: planning time would dominate
  auto plan = dsp::StftPlan::create(cfg, 1, x.size());
  if (!plan) return plan.error();
  std::vector<double> frames_by_bin(plan->output_size());
  if (auto s = plan->execute(x, frames_by_bin); !s) return s.error();
  ChannelSpectrogram out;
  out.times_s = plan->times_s();
  out.freqs_hz = plan->frequencies_hz();
  const std::size_t nt = plan->frames(), nf = plan->bins();
  out.power_db.resize(nt * nf);
  for (std::size_t t = 0; t < nt; ++t)  // [frames x bins] -> SciPy's [bins x frames]
    for (std::size_t f = 0; f < nf; ++f) out.power_db[f * nt + t] = frames_by_bin[t * nf + f];
  return out;
}

Status write_spectrogram_outputs(const ChannelSpectrogram& s, const fs::path& prefix, const std::string& title,
                                 std::optional<double> max_freq_hz, const std::string& unit) {
  fs::path csv = prefix, png = prefix;
  csv += ".csv";
  png += ".png";
  if (auto e = ensure_parent_dir(csv); !e) return e;
  {
    std::ofstream out(csv, std::ios::trunc);
    if (!out) return make_error(ErrorCode::io, csv.string(), 0, "cannot be opened for writing");
    out << "time_s,frequency_hz,power_db\n";
    const std::size_t nt = s.times_s.size();
    for (std::size_t t = 0; t < nt; ++t)
      for (std::size_t f = 0; f < s.freqs_hz.size(); ++f)
        out << format_double(s.times_s[t]) << ',' << format_double(s.freqs_hz[f]) << ','
            << format_double(s.power_db[f * nt + t]) << '\n';
    if (!out) return make_error(ErrorCode::io, csv.string(), 0, "write failed (disk full?)");
  }
  report::SpectrogramPlot plot;
  plot.title = title;
  plot.times_s = s.times_s;
  plot.freqs_hz = s.freqs_hz;
  plot.power_db = s.power_db;
  plot.max_freq_hz = max_freq_hz;
  plot.colorbar_label = "PSD (dB re 1 " + (unit.empty() ? std::string("unit") : unit) + "²/Hz)";
  return report::plot_spectrogram(plot, png);
}

Status run_spectrogram(const Context& ctx, const SpectrogramOptions& opt) {
  if (opt.out_prefix.empty()) return make_error(ErrorCode::invalid_argument, "--out is required");
  if (opt.channel.empty()) return make_error(ErrorCode::invalid_argument, "--channel is required");
  auto rec = io::read_recording(resolve_input_path(ctx, opt.input));
  if (!rec) return rec.error();
  auto which = select_channels(*rec, {opt.channel});
  if (!which) return which.error();
  io::Recording one;
  one.sample_rate_hz = rec->sample_rate_hz;
  one.channel_names = {opt.channel};
  one.channel_units = {(*which)[0] < rec->channel_units.size() ? rec->channel_units[(*which)[0]] : ""};
  one.n_samples = rec->n_samples;
  auto ch = rec->channel((*which)[0]);
  one.samples.assign(ch.begin(), ch.end());
  std::string filtered;
  if (opt.bandpass_low_hz || opt.bandpass_high_hz) {
    auto design = design_from_options(one.sample_rate_hz, opt.bandpass_low_hz, opt.bandpass_high_hz, opt.order);
    if (!design) return design.error();
    if (auto s = filter_channels(one, *design, {0}, false); !s) return s;
    filtered = ", band-passed " + format_double(*opt.bandpass_low_hz) + "-" + format_double(*opt.bandpass_high_hz) + " Hz";
  }
  auto spec = compute_channel_spectrogram(one.samples, one.sample_rate_hz, opt.nperseg, opt.noverlap, opt.window);
  if (!spec) return spec.error();
  const std::string title =
      opt.title.empty() ? rec->source_path.filename().string() + ": channel " + opt.channel + filtered : opt.title;
  if (auto s = write_spectrogram_outputs(*spec, opt.out_prefix, title, opt.max_freq_hz, one.channel_units[0]); !s) return s;
  ctx.out << opt.out_prefix.string() << ".png, " << opt.out_prefix.string() << ".csv: " << spec->times_s.size()
          << " segments x " << spec->freqs_hz.size() << " frequencies\n";
  return {};
}

}  // namespace myoexo::app
