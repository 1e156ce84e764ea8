// `myoexo record`: a live serial session (SerialSource, see firmware/PROTOCOL.md) saved by record_session.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/common.hpp"
#include "io/io.hpp"
#include "realtime/board_profile.hpp"
#include "realtime/cue_protocol.hpp"
#include "realtime/serial_source.hpp"
#include "realtime/acquisition.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) { g_stop.store(true); }
// The BIDS sidecars of a cue-labelled recording: the schedule's events up to `end_s`, the channels and the session.
// While recording (`final` false) the events go to <stem>_events.partial.tsv, which no reader applies: a killed
// session leaves a recording that reads back (unlabelled, its schedule beside it) rather than one whose labels run
// past its end.
// The schedule's cues up to stream time `end_s` as events on the file's time line: with a session report, the time
// the stream lost in gaps is taken out (the file holds the intact samples back to back), else stream time is file
// time.
std::vector<io::Event> cue_events(const std::vector<realtime::Cue>& schedule, double end_s,
                                  const realtime::SessionReport* rep) {
  if (!rep) return realtime::cue_label_events(schedule, end_s);
  return realtime::cue_label_events(schedule, end_s, [rep](double t) { return rep->file_seconds(t); });
}

Status write_cue_sidecars(const RecordOptions& opt, const realtime::SerialSource& src,
                          const std::vector<realtime::Cue>& schedule, double end_s, const std::string& task,
                          const realtime::SessionReport* final_report) {
  const bool final = final_report != nullptr;
  const std::vector<io::Event> events = cue_events(schedule, end_s, final_report);
  const fs::path dir = opt.output.parent_path(), stem = opt.output.stem();
  const fs::path partial = dir / (stem.string() + "_events.partial.tsv");
  if (auto s = io::write_events_tsv(final ? io::events_sidecar_path(opt.output) : partial, events); !s) return s;
  if (final) {
    std::error_code ec;
    fs::remove(partial, ec);
  }
  io::BidsRecordingDescription d;
  d.task = task;
  d.sample_rate_hz = src.sample_rate_hz();
  d.channels.assign(src.channel_names().begin(), src.channel_names().begin() + std::ptrdiff_t(src.n_channels()));
  d.units.assign(src.channel_units().begin(), src.channel_units().begin() + std::ptrdiff_t(src.n_channels()));
  d.duration_s = end_s;
  d.manufacturer = "MyoWare 2.0 on an Arduino (firmware/myoware_stream)";
  if (auto s = io::write_bids_sidecars(opt.output, d); !s) return s;
  return {};
}

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
  {
    // A session is not repeatable: never replace one by accident.
    std::error_code ec;
    if (!opt.force && fs::exists(opt.output, ec))
      return make_error(ErrorCode::invalid_argument, opt.output.string(), 0,
                        "already exists; record to another file or give --force to overwrite it");
  }
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

  // A cue protocol: the schedule is known before the first sample, so its labels are on disk before recording starts
  // (a killed session keeps them) and are cut to what was recorded at the end.
  std::vector<realtime::Cue> schedule;
  double seconds = opt.seconds;
  if (!opt.cues.empty()) {
    auto protocol = realtime::load_cue_protocol(opt.cues);
    if (!protocol) return protocol.error();
    schedule = realtime::cue_schedule(*protocol);
    const double end_s = realtime::cue_schedule_end_s(schedule);
    if (seconds == 0 || seconds > end_s) seconds = end_s;
    if (auto s = write_cue_sidecars(opt, *src, schedule, seconds, opt.cues.stem().string(), nullptr); !s) return s;
  }

  g_stop = false;
  auto previous = std::signal(SIGINT, on_sigint);
  realtime::RecordSessionOptions ro;
  ro.duration_s = seconds;
  ro.stop = &g_stop;
  ro.recorder.subject = opt.subject;
  std::size_t next_cue = 0;
  if (!schedule.empty()) {
    // An EDF+ output keeps the labels inside the file too (annotations), on the same time line as the sidecar.
    ro.labels_at_end = [&schedule](const realtime::SessionReport& r) {
      return cue_events(schedule, r.stream_duration_s, &r);
    };
    ro.on_progress = [&](double stream_s) {
      // Prompt each cue as the stream reaches it, with the one after it, so the person can prepare.
      while (next_cue < schedule.size() && schedule[next_cue].onset_s <= stream_s) {
        const realtime::Cue& c = schedule[next_cue];
        char line[256];
        std::snprintf(line, sizeof line, "%7.1f s  %s %s (%s s)", c.onset_s,
                      c.label == realtime::kRestLabel ? "   " : "NOW", c.prompt.c_str(), format_double(c.duration_s).c_str());
        ctx.out << line;
        if (next_cue + 1 < schedule.size()) ctx.out << "   next: " << schedule[next_cue + 1].prompt;
        ctx.out << std::endl;
        ++next_cue;
      }
    };
  }
  log_line(ctx, "recording " + std::to_string(opt.channels) + " channels in " + unit_note + " from " + opt.port + " to " +
                    opt.output.string() + (opt.seconds > 0 ? " for " + format_double(opt.seconds) + " s" : "") +
                    " (Ctrl-C stops) ...");
  auto rep = realtime::record_session(*src, opt.output, ro);
  std::signal(SIGINT, previous);
  if (!rep) return rep.error();
  if (!schedule.empty())
    if (auto s = write_cue_sidecars(opt, *src, schedule, rep->stream_duration_s, opt.cues.stem().string(), &*rep); !s)
      return s;
  const auto& w = src->wire_stats();
  ctx.out << "recorded " << rep->frames << " frames (" << format_double(rep->stream_duration_s) << " s) to "
          << opt.output.string() << "; gaps " << rep->runs_after_gap << ", disconnects " << rep->disconnects
          << ", reconnects " << rep->reconnects << ", end " << realtime::read_status_name(rep->end_status)
          << (rep->gaps.empty() || opt.output.extension() == ".csv" ? std::string()
                                                                     : " (each gap annotated in the file)")
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
