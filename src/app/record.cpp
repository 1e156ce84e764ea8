// `myoexo record`: a live serial session (SerialSource, see firmware/PROTOCOL.md) saved by record_session.
#include <atomic>
#include <csignal>

#include "app/common.hpp"
#include "realtime/board_profile.hpp"
#include "realtime/serial_source.hpp"
#include "realtime/acquisition.hpp"

namespace myoexo::app {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) { g_stop.store(true); }
}  // namespace

Status run_record(const Context& ctx, const RecordOptions& opt) {
  if (opt.port.empty()) return make_error(ErrorCode::invalid_argument, "--port DEV is required");
  if (opt.channels < 1 || opt.channels > 16)
    return make_error(ErrorCode::invalid_argument, "--channels must be in 1..16");
  if (!(opt.rate_hz > 0)) return make_error(ErrorCode::invalid_argument, "--rate must be > 0");
  if (!(opt.seconds >= 0)) return make_error(ErrorCode::invalid_argument, "--seconds must be >= 0");
  if (opt.output.empty()) return make_error(ErrorCode::invalid_argument, "--out FILE is required");
  const auto ext = opt.output.extension().string();
  if (ext != ".csv" && ext != ".edf" && ext != ".bdf")
    return make_error(ErrorCode::invalid_argument, opt.output.string(), 0, "--out must end in .csv, .edf or .bdf");
  if (auto s = ensure_parent_dir(opt.output); !s) return s;

  realtime::SerialOptions so;
  so.port = opt.port;
  so.baud = opt.baud;
  so.n_channels = opt.channels;
  so.sample_rate_hz = opt.rate_hz;
  std::string unit_note = "ADC codes";
  if (!opt.board.empty()) {
    auto board = realtime::load_board_profile(opt.board);
    if (!board) return board.error();
    if (board->adc_bits != 10)
      return make_error(ErrorCode::mismatch, opt.board.string(), 0,
                        "the board streams 10-bit codes (firmware/PROTOCOL.md); the profile says " +
                            std::to_string(board->adc_bits) + " bits");
    if (board->output != realtime::BoardOutput::raw)
      return make_error(ErrorCode::mismatch, opt.board.string(), 0,
                        "the profile's sensor output is the envelope, not an EMG in mV: record its ADC codes "
                        "(leave out --board)");
    so.code_offset = board->zero_code();
    so.volts_per_code = board->millivolts_per_code();
    so.unit = "mV";
    unit_note = "mV at the skin (" + board->name + ", " + format_double(board->millivolts_per_code()) +
                " mV/code, zero at code " + format_double(board->zero_code()) + ")";
  }
  auto src = realtime::SerialSource::create(so);
  if (!src) return src.error();

  g_stop = false;
  auto previous = std::signal(SIGINT, on_sigint);
  realtime::RecordSessionOptions ro;
  ro.duration_s = opt.seconds;
  ro.stop = &g_stop;
  log_line(ctx, "recording " + std::to_string(opt.channels) + " channels in " + unit_note + " from " + opt.port + " to " +
                    opt.output.string() + (opt.seconds > 0 ? " for " + format_double(opt.seconds) + " s" : "") +
                    " (Ctrl-C stops) ...");
  auto rep = realtime::record_session(*src, opt.output, ro);
  std::signal(SIGINT, previous);
  if (!rep) return rep.error();
  const auto& w = src->wire_stats();
  ctx.out << "recorded " << rep->frames << " frames (" << format_double(rep->stream_duration_s) << " s) to "
          << opt.output.string() << "; gaps " << rep->runs_after_gap << ", disconnects " << rep->disconnects
          << ", reconnects " << rep->reconnects << ", end " << realtime::read_status_name(rep->end_status)
          << "; frames missing " << w.frames_missing;
  if (w.gaps_estimated > 0)
    ctx.out << " (" << w.frames_missing_estimated << " of them in " << w.gaps_estimated
            << " gap(s) of 256+ frames sized from arrival times)";
  ctx.out << ", corrupt frames " << w.crc_failures << ", start bytes sent " << src->stats().start_bytes_sent;
  if (w.frames_ok > 0)
    ctx.out << "; protocol version " << (w.frames_v2 == w.frames_ok ? "2" : w.frames_v2 == 0 ? "1" : "1 then 2");
  if (w.frames_v2 > 0)
    ctx.out << " (board: e-stop active in " << w.estop_frames << " frames, " << w.overflow_flags
            << " overflow flags, " << w.restart_flags << " restarts)";
  ctx.out << "\n";
  return {};
}

}  // namespace myoexo::app
