// `myoexo filter FILE --bandpass LOW HIGH --order N [--notch HZ] [--zero-phase] --out OUT`.
#include "app/common.hpp"
#include "io/io.hpp"

namespace myoexo::app {

Status run_filter(const Context& ctx, const FilterOptions& opt) {
  if (opt.output.empty()) return make_error(ErrorCode::invalid_argument, "--out is required");
  auto rec = io::read_recording(resolve_input_path(ctx, opt.input));
  if (!rec) return rec.error();
  auto which = select_channels(*rec, opt.channels);
  if (!which) return which.error();
  auto design = design_from_options(rec->sample_rate_hz, opt.bandpass_low_hz, opt.bandpass_high_hz, opt.order,
                                    opt.notch_hz, opt.notch_q);
  if (!design) return design.error();
  log_line(ctx, design->describe() + (opt.zero_phase ? ", zero-phase" : ", causal") + " on " +
                    std::to_string(which->size()) + " of " + std::to_string(rec->n_channels()) + " channels");
  if (auto s = filter_channels(*rec, *design, *which, opt.zero_phase); !s) return s;
  if (auto s = ensure_parent_dir(opt.output); !s) return s;
  if (auto s = io::write_recording(*rec, opt.output); !s) return s;
  ctx.out << opt.output.string() << ": " << rec->n_channels() << " channels x " << rec->n_samples << " samples at "
          << format_double(rec->sample_rate_hz) << " Hz\n";
  return {};
}

}  // namespace myoexo::app
