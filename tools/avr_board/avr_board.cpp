// myoexo-avr-board — the real firmware (firmware/myoware_stream, the ELF the AVR tool chain built) running in a
// simulated ATmega328P (simavr), its ADC inputs driven by a recording turned into what a MyoWare 2.0 RAW output
// puts on the pin (Vs/2 + gain x the EMG at the skin), its UART on a pseudo-terminal the host opens as a serial
// port (`myoexo record --port`, `myoexo run --port`, `myoexo serve --port`).
//
// Each time the firmware starts an ADC conversion on channel c, the rig raises that pin's voltage (simavr takes
// millivolts) from the recording: a conversion of channel 0 moves to the next sample, so the k-th frame the board
// sends carries sample k of the recording, whatever the timing. With --expected the rig writes the codes the
// simulated ADC produced (simavr's conversion: mV x 1023 / Vref, clipped to 10 bits), one row per frame, for an
// exact comparison with what the host received.
//
// Pacing: --realtime keeps simulated time at or behind wall time (the board's 1 kHz stream arrives at 1 kHz); else
// the simulator runs as fast as it can and the stream arrives faster than real time. The summary on stderr says
// how fast the simulation ran relative to real time.
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "io/io.hpp"
#include "realtime/board_profile.hpp"

#include <avr_adc.h>
#include <avr_ioport.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>

namespace {

std::atomic<bool> g_stop{false};

// simavr 1.6 (Debian 12) keeps the values of 8 ADC inputs (avr_adc_t::adc_values[8]): an ATmega2560's ADC8..ADC15
// cannot be driven (raising their IRQs would write past that array), so those channels convert undefined values.
// The frames and their timing are still the firmware's own; the integrity check covers channels 0-7.
constexpr std::size_t kSimulatedAdcInputs = sizeof(avr_adc_t::adc_values) / sizeof(avr_adc_t::adc_values[0]);
extern "C" void on_signal(int) { g_stop.store(true); }

struct Rig {
  avr_t* avr = nullptr;
  std::size_t n_channels = 4;
  // The pin voltages [mV] per sample, channel-major [channel x n].
  std::vector<std::uint16_t> pin_mv;
  std::size_t n_samples = 0;
  std::uint32_t vref_mv = 5000;
  bool loop_recording = true;
  // Conversion bookkeeping.
  std::int64_t sample = -1;          // the sample the current frame's conversions read
  std::vector<int> frame_codes;      // codes of the frame being converted
  std::size_t channels_converted = 0;
  std::uint64_t conversions = 0, frames_converted = 0;
  std::ofstream expected;
  // UART bridge.
  int master = -1;
  std::deque<std::uint8_t> to_host;
  std::uint64_t bytes_to_host = 0, bytes_from_host = 0, host_overflow = 0;
  bool streaming = false;            // the host sent '1' (and not '0' since)
  std::uint64_t stream_start_cycle = 0;
  // An Uno's reset when its port opens (DTR): the CPU restarts and the boot loader swallows bytes for a while.
  bool reset_on_open = false;
  double boot_s = 0.5;
  bool host_open = false;
  std::chrono::steady_clock::time_point boot_until{};
  std::uint64_t resets = 0, bytes_swallowed = 0;
  // Link faults between the board and the host, at simulated times; the frames they cost are counted exactly.
  struct Fault {
    enum Kind { flip, drop, silence, disconnect } kind;
    double at_s, amount;  // drop: bytes; silence, disconnect: seconds
    bool done = false;
    std::uint64_t dropped_left = 0;
  };
  std::vector<Fault> faults;
  std::size_t frame_bytes = 0;
  std::uint64_t stream_bytes = 0;        // bytes the firmware sent since the stream started
  std::set<std::uint64_t> frames_lost;   // frame indices (since the stream started) a fault damaged
  std::uint64_t bytes_dropped = 0, bits_flipped = 0;
  int version = 0;                       // the stream's protocol version (0 until its first frame's sync 2)
  // A disconnect: the link stops carrying bytes (lost, counted) at once; the port disappears a moment later (once
  // the host has read what reached it before), comes back after the fault's seconds, and carries bytes again from
  // the moment the host reopens it.
  bool link_down = false;
  double port_gone_at_s = -1, port_back_at_s = -1;
  std::string link_path;
  std::uint64_t disconnects = 0;
  // The board's e-stop input (a normally-closed switch to ground on D2: pressed = high) and a hung main loop.
  double estop_at_s = -1, estop_for_s = 0;
  int estop_level = -1;
  double hang_at_s = -1;
  bool hang_sent = false;
};

void on_adc_trigger(avr_irq_t*, std::uint32_t value, void* param) {
  Rig& r = *static_cast<Rig*>(param);
  union {
    avr_adc_mux_t mux;
    std::uint32_t v;
  } e;
  e.v = value;
  const std::size_t c = e.mux.src;
  if (c >= r.n_channels) return;
  if (c == 0) {
    ++r.sample;
    r.channels_converted = 0;
  }
  if (r.sample < 0) r.sample = 0;
  std::size_t k = std::size_t(r.sample);
  if (k >= r.n_samples) k = r.loop_recording ? k % r.n_samples : r.n_samples - 1;
  const std::uint16_t mv = r.pin_mv[c * r.n_samples + k];
  ++r.conversions;
  if (c < kSimulatedAdcInputs) {
    avr_raise_irq(avr_io_getirq(r.avr, AVR_IOCTL_ADC_GETIRQ, int(ADC_IRQ_ADC0 + c)), mv);
    // simavr's conversion of a single-ended input against Vref: mV x 0x3ff / Vref, clipped to 10 bits.
    std::int32_t code = std::int32_t((std::uint32_t(mv) * 0x3ffu) / r.vref_mv);
    if (code > 0x3ff) code = 0x3ff;
    r.frame_codes[c] = code;
  } else {
    r.frame_codes[c] = -1;  // not simulated (see kSimulatedAdcInputs): the expected file says unknown
  }
  if (++r.channels_converted == r.n_channels) {
    ++r.frames_converted;
    if (r.expected.is_open()) {
      r.expected << r.sample;
      for (int x : r.frame_codes) r.expected << ',' << x;
      r.expected << '\n';
    }
  }
}

void on_uart_out(avr_irq_t*, std::uint32_t value, void* param) {
  Rig& r = *static_cast<Rig*>(param);
  if (r.streaming && r.frame_bytes == 0 && r.stream_bytes == 1) {
    r.version = value == 0x5B ? 2 : 1;
    r.frame_bytes = (r.version == 2 ? 6 : 4) + (10 * r.n_channels + 7) / 8;
  }
  if (r.streaming && (r.faults.empty() || r.frame_bytes == 0)) {
    ++r.stream_bytes;
  } else if (r.streaming) {
    const std::uint64_t pos = r.stream_bytes++, frame = pos / r.frame_bytes, offset = pos % r.frame_bytes;
    const double t = double(r.avr->cycle - r.stream_start_cycle) / double(r.avr->frequency);  // stream time
    bool keep = !r.link_down;
    for (auto& f : r.faults) {
      if (f.kind == Rig::Fault::silence) {
        if (t >= f.at_s && t < f.at_s + f.amount) keep = false;
      } else if (f.kind == Rig::Fault::drop) {
        if (!f.done && t >= f.at_s && offset == 0) {  // from the next frame start
          f.done = true;
          f.dropped_left = std::uint64_t(f.amount);
        }
        if (f.dropped_left > 0) {
          --f.dropped_left;
          keep = false;
        }
      } else if (f.kind == Rig::Fault::flip && !f.done && t >= f.at_s && offset == 3) {  // flip: one bit of the frame's first payload byte
        f.done = true;
        value ^= 0x01u;
        ++r.bits_flipped;
        r.frames_lost.insert(frame);
      }
    }
    if (!keep) {
      ++r.bytes_dropped;
      r.frames_lost.insert(frame);
      return;
    }
  }
  if (r.to_host.size() >= (1u << 20)) {  // the host stopped reading: 1 MiB kept, then bytes are lost (counted)
    ++r.host_overflow;
    return;
  }
  r.to_host.push_back(std::uint8_t(value));
}

int open_pty(const std::string& link, std::string& slave_name) {
  const int m = ::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (m < 0 || ::grantpt(m) != 0 || ::unlockpt(m) != 0) return -1;
  slave_name = ::ptsname(m);
  // Open and close the slave once: from then on the master sees POLLHUP until the host opens it (before any open
  // Linux reports no hang-up), which is how the rig notices the host opening the port.
  const int s = ::open(slave_name.c_str(), O_RDWR | O_NOCTTY);
  if (s >= 0) ::close(s);
  // Raw line discipline, so frames pass unchanged even before the host configures the port.
  termios t{};
  if (::tcgetattr(m, &t) == 0) {
    ::cfmakeraw(&t);
    ::tcsetattr(m, TCSANOW, &t);
  }
  if (!link.empty()) {
    std::error_code ec;
    std::filesystem::remove(link, ec);
    std::filesystem::create_symlink(slave_name, link, ec);
    if (ec) {
      std::fprintf(stderr, "avr_board: cannot link %s -> %s: %s\n", link.c_str(), slave_name.c_str(), ec.message().c_str());
      return -1;
    }
  }
  return m;
}

// Moves bytes between the simulated UART and the pseudo-terminal.
void service_pty(Rig& r) {
  if (r.master < 0) return;  // the port is gone (a disconnect)
  // The host opened the port: a pseudo-terminal master sees POLLHUP while no one holds the slave open.
  pollfd p{r.master, POLLIN, 0};
  (void)::poll(&p, 1, 0);
  const bool open_now = !(p.revents & POLLHUP);
  if (open_now && r.link_down && r.port_gone_at_s < 0 && r.port_back_at_s < 0) r.link_down = false;  // reconnected
  if (open_now && !r.host_open && r.reset_on_open) {
    avr_reset(r.avr);
    ++r.resets;
    r.streaming = false;
    r.to_host.clear();
    r.boot_until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                         std::chrono::duration<double>(r.boot_s));
  }
  r.host_open = open_now;
  while (!r.to_host.empty()) {
    std::uint8_t buf[4096];
    const std::size_t n = std::min(r.to_host.size(), sizeof buf);
    std::copy_n(r.to_host.begin(), n, buf);
    const ssize_t w = ::write(r.master, buf, n);
    if (w <= 0) break;  // the pty is full (the host is not reading yet): keep the bytes
    r.to_host.erase(r.to_host.begin(), r.to_host.begin() + w);
    r.bytes_to_host += std::uint64_t(w);
  }
  std::uint8_t in[64];
  const ssize_t n = ::read(r.master, in, sizeof in);
  const bool booting = std::chrono::steady_clock::now() < r.boot_until;
  for (ssize_t i = 0; i < n; ++i) {
    if (booting) {  // the boot loader's: the sketch never sees it
      ++r.bytes_swallowed;
      continue;
    }
    avr_raise_irq(avr_io_getirq(r.avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT), in[i]);
    ++r.bytes_from_host;
    if ((in[i] == '1' || in[i] == '2') && r.streaming && r.version == in[i] - '0') {
      // Already streaming this version (a host that reconnected): the sketch goes on, its frames stay aligned.
    } else if (in[i] == '1' || in[i] == '2') {  // a (re)start: the sketch restarts its sequence and frame layout
      if (!r.streaming) r.stream_start_cycle = r.avr->cycle;
      r.version = 0;
      r.streaming = true;
      r.stream_bytes = 0;
      r.frame_bytes = 0;  // told by the first frame's second sync byte (a version-1 sketch ignores '2')
    } else if (in[i] == '0') {
      r.streaming = false;
    }
  }
}

}  // namespace

double r_hang_at = -1;

// The disconnect faults, at stream times: the link stops carrying bytes, the port disappears, then comes back.
void drive_disconnects(Rig& r) {
  if (!r.streaming) return;
  const double t = double(r.avr->cycle - r.stream_start_cycle) / double(r.avr->frequency);
  for (auto& f : r.faults) {
    if (f.kind != Rig::Fault::disconnect || f.done || t < f.at_s) continue;
    f.done = true;
    r.link_down = true;
    r.port_gone_at_s = t + 0.1;  // the host first reads what had reached it
    r.port_back_at_s = t + f.amount;
    ++r.disconnects;
  }
  if (r.port_gone_at_s >= 0 && t >= r.port_gone_at_s) {
    r.port_gone_at_s = -1;
    if (!r.to_host.empty())
      std::fprintf(stderr, "avr_board: %zu bytes had not reached the host when the port went away\n", r.to_host.size());
    r.to_host.clear();
    ::close(r.master);
    r.master = -1;
    std::error_code ec;
    std::filesystem::remove(r.link_path, ec);
  }
  if (r.port_back_at_s >= 0 && t >= r.port_back_at_s && r.master < 0) {
    r.port_back_at_s = -1;
    std::string slave;
    r.master = open_pty(r.link_path, slave);
    r.host_open = false;
    if (r.master < 0) {
      std::fprintf(stderr, "avr_board: cannot open a pseudo-terminal again\n");
      g_stop.store(true);
    }
  }
}

// Drives D2 and injects the hang command, at stream times.
void drive_board_inputs(Rig& r) {
  const double t = r.streaming ? double(r.avr->cycle - r.stream_start_cycle) / double(r.avr->frequency) : -1;
  {
    // The switch is closed (D2 low) unless pressed. Driven every millisecond: a reset re-enables the pin's
    // pull-up, which alone would read as "pressed" (fail-safe: an unwired switch stops the leg).
    const int level = (r.estop_at_s >= 0 && t >= r.estop_at_s && t < r.estop_at_s + r.estop_for_s) ? 1 : 0;
    avr_raise_irq(avr_io_getirq(r.avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 2), level);
    r.estop_level = level;
  }
  if (r.hang_at_s >= 0 && !r.hang_sent && t >= r.hang_at_s) {
    avr_raise_irq(avr_io_getirq(r.avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT), 'h');
    r.hang_sent = true;
  }
}

int main(int argc, char** argv) {
  CLI::App app{"The myoware_stream firmware in a simulated ATmega328P (simavr), fed by a recording, on a "
               "pseudo-terminal"};
  std::string firmware, recording, link = "/tmp/myoexo-avr-board", board_file, expected_path;
  std::vector<std::string> channels;
  std::size_t n_channels = 4;
  std::uint32_t frequency = 16000000;
  double seconds = 0.0;
  bool realtime = false, once = false;
  app.add_option("--firmware", firmware, "The firmware ELF (firmware/myoware_stream/build-uno/myoware_stream_.elf)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--recording", recording, "Recording whose EMG drives the ADC pins (any format myoexo reads)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--channels", channels, "Recording channels on A0, A1, ... (default: the first N EMG channels)")
      ->delimiter(',');
  app.add_option("--n-channels", n_channels, "Channels the firmware was built with (N_CHANNELS: 1..6 on an "
                                              "ATmega328P, 1..16 on an ATmega2560)")
      ->check(CLI::Range(1, 16));
  std::string mcu = "atmega328p";
  app.add_option("--mcu", mcu, "The simulated chip: atmega328p (Uno) or atmega2560 (Mega)")
      ->check(CLI::IsMember({"atmega328p", "atmega2560"}));
  app.add_option("--board", board_file, "Board profile TOML (default: MyoWare 2.0 RAW on a 5 V Uno)");
  app.add_option("--link", link, "Symlink to the pseudo-terminal (the host's --port)");
  app.add_option("--expected", expected_path, "Write the codes the simulated ADC produced, one row per frame");
  app.add_option("--seconds", seconds, "Stop after this much simulated streaming time (0 = until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--realtime", realtime, "Keep simulated time at or behind wall time");
  app.add_flag("--once", once, "Play the recording once, then hold its last sample (default: loop it)");
  app.add_option("--frequency", frequency, "CPU clock [Hz]");
  std::string estop_spec;
  app.add_option("--estop", estop_spec, "Press the board's e-stop (pin D2 high; a firmware built with -DESTOP_PIN=2) "
                                        "at stream time T for D s: T:D");
  app.add_option("--hang-at", r_hang_at, "Send the sketch 'h' at this stream time (a firmware built with "
                                         "-DHANG_COMMAND hangs its main loop: the watchdog must reset it)");
  std::vector<std::string> fault_specs;
  app.add_option("--fault", fault_specs, "Link fault at a stream time (s since the host's start byte reached the sketch): flip:T (one bit of a frame), drop:T:N (N "
                                         "bytes from the next frame start), silence:T:D (D s of bytes lost, as a "
                                         "Bluetooth link that drops), disconnect:T:D (the link drops and the port "
                                         "disappears, for D s; bytes flow again once the host reopens it)");
  bool reset_on_open = false;
  double boot_s = 0.5;
  app.add_flag("--reset-on-open", reset_on_open, "Reset the CPU when the host opens the port, as an Uno does (DTR), "
                                                 "and swallow the host's bytes during the boot loader's time");
  app.add_option("--boot-seconds", boot_s, "Boot loader time after such a reset (wall clock)")
      ->check(CLI::Range(0.0, 10.0));
  CLI11_PARSE(app, argc, argv);

  // The pin voltages from the recording through the board profile.
  myoexo::realtime::BoardProfile board = myoexo::realtime::default_board_profile();
  if (!board_file.empty()) {
    auto b = myoexo::realtime::load_board_profile(board_file);
    if (!b) {
      std::fprintf(stderr, "avr_board: %s\n", b.error().message().c_str());
      return 2;
    }
    board = *b;
  }
  if (board.adc_bits != 10) {
    std::fprintf(stderr, "avr_board: the ATmega328P's ADC has 10 bits; the profile says %d\n", board.adc_bits);
    return 2;
  }
  auto rec = myoexo::io::read_recording(recording);
  if (!rec) {
    std::fprintf(stderr, "avr_board: %s\n", rec.error().message().c_str());
    return 2;
  }
  if (channels.empty())
    for (std::size_t c = 0; c < rec->n_channels() && channels.size() < n_channels; ++c)
      if (c >= rec->channel_units.size() || rec->channel_units[c] != "deg") channels.push_back(rec->channel_names[c]);
  if (channels.size() != n_channels) {
    std::fprintf(stderr, "avr_board: %zu channels given for a %zu-channel firmware\n", channels.size(), n_channels);
    return 2;
  }
  Rig r;
  r.n_channels = n_channels;
  for (const auto& spec : fault_specs) {
    Rig::Fault f{};
    char kind[16] = {0};
    double a = 0, b = 0;
    const int n = std::sscanf(spec.c_str(), "%15[a-z]:%lf:%lf", kind, &a, &b);
    const std::string k = kind;
    if (k == "flip" && n >= 2) f = {Rig::Fault::flip, a, 0};
    else if (k == "drop" && n == 3 && b >= 1) f = {Rig::Fault::drop, a, b};
    else if (k == "silence" && n == 3 && b > 0) f = {Rig::Fault::silence, a, b};
    else if (k == "disconnect" && n == 3 && b >= 0.2) f = {Rig::Fault::disconnect, a, b};
    else {
      std::fprintf(stderr, "avr_board: bad --fault '%s' (flip:T, drop:T:BYTES, silence:T:SECONDS, "
                   "disconnect:T:SECONDS >= 0.2)\n", spec.c_str());
      return 2;
    }
    r.faults.push_back(f);
  }
  r.reset_on_open = reset_on_open;
  r.hang_at_s = r_hang_at;
  if (!estop_spec.empty() && std::sscanf(estop_spec.c_str(), "%lf:%lf", &r.estop_at_s, &r.estop_for_s) != 2) {
    std::fprintf(stderr, "avr_board: bad --estop '%s' (T:D)\n", estop_spec.c_str());
    return 2;
  }
  r.boot_s = boot_s;
  r.n_samples = rec->n_samples;
  r.loop_recording = !once;
  r.vref_mv = std::uint32_t(std::lround(board.reference_volts * 1000.0));
  r.frame_codes.assign(n_channels, 0);
  r.pin_mv.resize(n_channels * r.n_samples);
  for (std::size_t k = 0; k < n_channels; ++k) {
    const int c = rec->channel_index(channels[k]);
    if (c < 0) {
      std::fprintf(stderr, "avr_board: the recording has no channel %s\n", channels[k].c_str());
      return 2;
    }
    const std::string unit = std::size_t(c) < rec->channel_units.size() ? rec->channel_units[std::size_t(c)] : "";
    const auto per_unit = myoexo::realtime::millivolts_per_unit(unit);
    if (!per_unit) {
      std::fprintf(stderr, "avr_board: channel %s is in '%s', not a voltage\n", channels[k].c_str(), unit.c_str());
      return 2;
    }
    // Pin voltage = the zero code's voltage + gain x the EMG at the skin, within the supply.
    const double zero_mv = board.zero_code() / board.max_code() * board.reference_volts * 1000.0;
    for (std::size_t i = 0; i < r.n_samples; ++i) {
      const double skin_mv = rec->channel(std::size_t(c))[i] * *per_unit;
      const double pin = std::isfinite(skin_mv) ? zero_mv + board.gain * skin_mv : zero_mv;
      r.pin_mv[k * r.n_samples + i] = std::uint16_t(std::clamp(std::lround(pin), 0L, long(r.vref_mv)));
    }
  }
  if (!expected_path.empty()) {
    r.expected.open(expected_path, std::ios::trunc);
    if (!r.expected) {
      std::fprintf(stderr, "avr_board: cannot write %s\n", expected_path.c_str());
      return 2;
    }
    r.expected << "sample";
    for (std::size_t c = 0; c < n_channels; ++c) r.expected << ",code" << c;
    r.expected << '\n';
  }

  // The simulated board.
  elf_firmware_t fw{};
  if (elf_read_firmware(firmware.c_str(), &fw) != 0) {
    std::fprintf(stderr, "avr_board: cannot read the firmware ELF %s\n", firmware.c_str());
    return 2;
  }
  if (mcu == "atmega328p" && n_channels > 6) {
    std::fprintf(stderr, "avr_board: an ATmega328P has 6 analog pins; %zu channels need --mcu atmega2560\n", n_channels);
    return 2;
  }
  r.avr = avr_make_mcu_by_name(mcu.c_str());
  if (!r.avr) {
    std::fprintf(stderr, "avr_board: simavr has no %s\n", mcu.c_str());
    return 2;
  }
  avr_init(r.avr);
  fw.frequency = frequency;
  avr_load_firmware(r.avr, &fw);
  r.avr->frequency = frequency;
  r.avr->vcc = r.avr->avcc = r.avr->aref = r.vref_mv;
  r.avr->log = 0;
  std::uint32_t flags = 0;
  avr_ioctl(r.avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
  flags &= ~std::uint32_t(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
  avr_ioctl(r.avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
  avr_irq_register_notify(avr_io_getirq(r.avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), on_adc_trigger, &r);
  avr_irq_register_notify(avr_io_getirq(r.avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_out, &r);

  std::string slave;
  r.link_path = link;
  r.master = open_pty(link, slave);
  if (r.master < 0) {
    std::fprintf(stderr, "avr_board: cannot open a pseudo-terminal\n");
    return 2;
  }
  std::printf("avr_board: %s -> %s (%s at %.0f MHz, %zu channels from %s)\n", link.c_str(), slave.c_str(),
              mcu.c_str(), frequency / 1e6, n_channels, std::filesystem::path(recording).filename().c_str());
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  // Run in slices of 1 ms of simulated time, moving UART bytes between slices.
  const std::uint64_t slice = frequency / 1000;
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t next_service = r.avr->cycle + slice;
  int state = cpu_Running;
  while (!g_stop.load() && state != cpu_Done && state != cpu_Crashed) {
    state = avr_run(r.avr);
    if (r.avr->cycle < next_service) continue;
    next_service = r.avr->cycle + slice;
    service_pty(r);
    drive_board_inputs(r);
    drive_disconnects(r);
    const double sim_s = double(r.avr->cycle) / frequency;
    if (realtime) {
      const auto due = t0 + std::chrono::duration<double>(sim_s);
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
    if (seconds > 0 && r.streaming && double(r.avr->cycle - r.stream_start_cycle) / frequency >= seconds) break;
  }
  // Let the last bytes reach the host.
  for (int i = 0; i < 200 && !r.to_host.empty(); ++i) {
    service_pty(r);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double sim_s = double(r.avr->cycle) / frequency;
  std::fprintf(stderr,
               "avr_board: simulated %.3f s in %.3f s wall (%.2f x real time); %llu frames converted, %llu bytes to the "
               "host, %llu from it (%llu swallowed by %llu reset(s) on open), %llu lost because the host did not read; cpu "
               "state %d\n",
               sim_s, wall_s, sim_s / std::max(wall_s, 1e-9), (unsigned long long)r.frames_converted,
               (unsigned long long)r.bytes_to_host, (unsigned long long)r.bytes_from_host,
               (unsigned long long)r.bytes_swallowed, (unsigned long long)r.resets, (unsigned long long)r.host_overflow,
               state);
  if (!r.faults.empty())
    std::fprintf(stderr, "avr_board: link faults: %llu bit(s) flipped, %llu byte(s) dropped, %llu disconnect(s); frames "
                 "lost %zu\n", (unsigned long long)r.bits_flipped, (unsigned long long)r.bytes_dropped,
                 (unsigned long long)r.disconnects, r.frames_lost.size());
  if (r.expected.is_open()) r.expected.flush();
  if (!link.empty()) {
    std::error_code ec;
    std::filesystem::remove(link, ec);
  }
  avr_terminate(r.avr);
  return state == cpu_Crashed ? 1 : 0;
}
