// `myoexo features FILE --set HTD --window 250 --increment 50 [--bandpass LOW HIGH --order N] --out F.csv`.
#include <cstdio>
#include <fstream>

#include "app/common.hpp"
#include "features/features.hpp"
#include "io/io.hpp"

namespace myoexo::app {

Status run_features(const Context& ctx, const FeaturesOptions& opt) {
  if (opt.output.empty()) return make_error(ErrorCode::invalid_argument, "--out is required");
  if (opt.window < 3) return make_error(ErrorCode::invalid_argument, "--window must be >= 3 samples");
  if (opt.increment < 1) return make_error(ErrorCode::invalid_argument, "--increment must be >= 1 sample");

  // The spec first: a bad --set or --config is reported before a large file is read.
  std::optional<features::FeatureConfig> config;
  if (opt.config) {
    auto c = features::load_feature_config(resolve_input_path(ctx, *opt.config));
    if (!c) return c.error();
    config = std::move(c).value();
  }
  auto spec = features::make_feature_spec(opt.set, config ? &*config : nullptr);
  if (!spec) return spec.error();

  auto rec = io::read_recording(resolve_input_path(ctx, opt.input));
  if (!rec) return rec.error();
  auto which = select_channels(*rec, opt.channels);
  if (!which) return which.error();
  if (opt.bandpass_low_hz || opt.bandpass_high_hz) {
    auto design = design_from_options(rec->sample_rate_hz, opt.bandpass_low_hz, opt.bandpass_high_hz, opt.order);
    if (!design) return design.error();
    log_line(ctx, design->describe() + ", causal (as the live path)");
    if (auto s = filter_channels(*rec, *design, *which, false); !s) return s;
  }
  std::vector<std::string> names;
  for (auto c : *which) names.push_back(rec->channel_names[c]);

  auto fm = features::extract_features(*rec, *spec, opt.window, opt.increment, names);
  if (!fm) return fm.error();
  if (fm->nonfinite_windows > 0)
    log_line(ctx, "warning: " + std::to_string(fm->nonfinite_windows) +
                      " window(s) had non-finite samples; their features are NaN");

  if (auto s = ensure_parent_dir(opt.output); !s) return s;
  std::ofstream out(opt.output, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(ErrorCode::io, opt.output.string(), 0, "cannot be opened for writing");
  out << "window_start";
  for (const auto& c : fm->column_names) out << ',' << c;
  out << '\n';
  Progress progress(ctx, "writing " + opt.output.string(), fm->n_rows());
  for (std::size_t r = 0; r < fm->n_rows(); ++r) {
    out << fm->window_starts[r];
    for (double v : fm->row(r)) out << ',' << format_double(v);
    out << '\n';
    if (r % 256 == 0) progress.update(r);
  }
  out.flush();
  if (!out) return make_error(ErrorCode::io, opt.output.string(), 0, "write failed (disk full?)");
  progress.finish();
  ctx.out << opt.output.string() << ": " << fm->n_rows() << " windows x " << fm->n_cols() << " features ("
          << opt.window << " samples, increment " << opt.increment << ")\n";
  return {};
}

}  // namespace myoexo::app
