#include "realtime/serial_source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <libserialport.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "realtime/timing.hpp"

namespace myoexo::realtime {

namespace {

// ---- POSIX termios link ----------------------------------------------------------------------------------

speed_t to_speed(int baud) noexcept {
  switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    default: return B0;
  }
}

class PosixTtyLink final : public SerialLink {
 public:
  PosixTtyLink(std::string port, int baud) : port_(std::move(port)), baud_(baud) {}
  ~PosixTtyLink() override { close(); }

  Status open() override {
    close();
    fd_ = ::open(port_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) return make_error(ErrorCode::io, port_, 0, std::string("cannot open serial port: ") + std::strerror(errno));
    if (!::isatty(fd_)) {
      close();
      return make_error(ErrorCode::io, port_, 0, "not a terminal device");
    }
    termios t{};
    if (::tcgetattr(fd_, &t) != 0) {
      const int e = errno;
      close();
      return make_error(ErrorCode::io, port_, 0, std::string("tcgetattr: ") + std::strerror(e));
    }
    ::cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | CRTSCTS);
    t.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
    const speed_t sp = to_speed(baud_);
    if (sp != B0) {
      ::cfsetispeed(&t, sp);
      ::cfsetospeed(&t, sp);
    }
    if (::tcsetattr(fd_, TCSANOW, &t) != 0) {
      const int e = errno;
      close();
      return make_error(ErrorCode::io, port_, 0, std::string("tcsetattr: ") + std::strerror(e));
    }
    return {};
  }
  void close() noexcept override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool is_open() const noexcept override { return fd_ >= 0; }

  long read(std::span<std::uint8_t> buf, int timeout_ms) noexcept override {
    if (fd_ < 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, std::max(0, timeout_ms));
    if (r < 0) return errno == EINTR ? 0 : fail();
    if (r == 0) return 0;
    if (p.revents & POLLIN) {
      const ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n > 0) return static_cast<long>(n);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
      return fail();  // 0 = end of file, EIO = the other side hung up
    }
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return fail();
    return 0;
  }

  bool write(std::span<const std::uint8_t> bytes) noexcept override {
    if (fd_ < 0) return false;
    std::size_t done = 0;
    for (int tries = 0; done < bytes.size() && tries < 100; ++tries) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 1);
      } else {
        return false;
      }
    }
    return done == bytes.size();
  }
  const std::string& name() const noexcept override { return port_; }

 private:
  long fail() noexcept {
    close();
    return -1;
  }
  std::string port_;
  int baud_;
  int fd_ = -1;
};

// ---- libserialport link ----------------------------------------------------------------------------------

std::string sp_message() {
  char* msg = sp_last_error_message();
  std::string s = msg ? msg : "unknown error";
  sp_free_error_message(msg);
  return s;
}

class LibSerialPortLink final : public SerialLink {
 public:
  LibSerialPortLink(std::string port, int baud) : port_(std::move(port)), baud_(baud) {}
  ~LibSerialPortLink() override { close(); }

  /// Whether libserialport knows this port at all (it refuses pseudo-terminals).
  static bool recognises(const std::string& port) {
    sp_port* p = nullptr;
    if (sp_get_port_by_name(port.c_str(), &p) != SP_OK) return false;
    sp_free_port(p);
    return true;
  }

  Status open() override {
    close();
    if (sp_get_port_by_name(port_.c_str(), &port_handle_) != SP_OK) {
      port_handle_ = nullptr;
      return make_error(ErrorCode::io, port_, 0, "libserialport does not know this port: " + sp_message());
    }
    if (sp_open(port_handle_, SP_MODE_READ_WRITE) != SP_OK) {
      const std::string m = sp_message();
      close();
      return make_error(ErrorCode::io, port_, 0, "cannot open serial port: " + m);
    }
    if (sp_set_baudrate(port_handle_, baud_) != SP_OK || sp_set_bits(port_handle_, 8) != SP_OK ||
        sp_set_parity(port_handle_, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(port_handle_, 1) != SP_OK ||
        sp_set_flowcontrol(port_handle_, SP_FLOWCONTROL_NONE) != SP_OK) {
      const std::string m = sp_message();
      close();
      return make_error(ErrorCode::io, port_, 0, "cannot configure serial port: " + m);
    }
    opened_ = true;
    return {};
  }
  void close() noexcept override {
    if (port_handle_) {
      if (opened_) sp_close(port_handle_);
      sp_free_port(port_handle_);
    }
    port_handle_ = nullptr;
    opened_ = false;
  }
  bool is_open() const noexcept override { return opened_; }

  long read(std::span<std::uint8_t> buf, int timeout_ms) noexcept override {
    if (!opened_) return -1;
    // Wait for the first byte (bounded), then take whatever else is already there.
    // (libserialport reads a timeout of 0 as "wait forever": poll instead.)
    const sp_return r = timeout_ms <= 0
                            ? sp_nonblocking_read(port_handle_, buf.data(), buf.size())
                            : sp_blocking_read_next(port_handle_, buf.data(), buf.size(), static_cast<unsigned>(timeout_ms));
    if (r < 0) {
      close();
      return -1;
    }
    return static_cast<long>(r);
  }
  bool write(std::span<const std::uint8_t> bytes) noexcept override {
    if (!opened_) return false;
    return sp_blocking_write(port_handle_, bytes.data(), bytes.size(), 100) == static_cast<int>(bytes.size());
  }
  const std::string& name() const noexcept override { return port_; }

 private:
  std::string port_;
  int baud_;
  sp_port* port_handle_ = nullptr;
  bool opened_ = false;
};

}  // namespace

std::unique_ptr<SerialLink> make_serial_link(const std::string& port, int baud, SerialBackend backend) {
  if (backend == SerialBackend::libserialport ||
      (backend == SerialBackend::automatic && LibSerialPortLink::recognises(port)))
    return std::make_unique<LibSerialPortLink>(port, baud);
  return std::make_unique<PosixTtyLink>(port, baud);
}

std::vector<std::string> list_serial_ports() {
  std::vector<std::string> names;
  sp_port** ports = nullptr;
  if (sp_list_ports(&ports) != SP_OK) return names;
  for (sp_port** p = ports; *p; ++p) names.emplace_back(sp_get_port_name(*p));
  sp_free_port_list(ports);
  return names;
}

// ---- SerialSource -----------------------------------------------------------------------------------------

Result<SerialSource> SerialSource::create(const SerialOptions& options) {
  if (options.port.empty()) return make_error(ErrorCode::invalid_argument, "serial: no port given");
  return create(options, make_serial_link(options.port, options.baud, options.backend));
}

Result<SerialSource> SerialSource::create(const SerialOptions& options, std::unique_ptr<SerialLink> link) {
  if (!link) return make_error(ErrorCode::invalid_argument, "serial: no link");
  if (options.n_channels == 0 || options.n_channels > kMaxWireChannels)
    return make_error(ErrorCode::invalid_argument,
                      "serial: n_channels must be 1.." + std::to_string(kMaxWireChannels) + ", got " +
                          std::to_string(options.n_channels));
  if (!(options.sample_rate_hz > 0) || !std::isfinite(options.sample_rate_hz))
    return make_error(ErrorCode::invalid_argument, "serial: sample_rate_hz must be > 0");
  if (!options.channel_names.empty() && options.channel_names.size() != options.n_channels)
    return make_error(ErrorCode::invalid_argument, "serial: channel_names must name every channel");
  if (options.max_read_frames == 0 || options.poll_timeout_ms < 0 || options.baud <= 0 || options.protocol < 0 ||
      options.protocol > 2)
    return make_error(ErrorCode::invalid_argument,
                      "serial: max_read_frames, baud must be > 0, poll_timeout_ms >= 0, protocol 0 (auto), 1 or 2");
  if (!(options.volts_per_code > 0) || !std::isfinite(options.volts_per_code) || !std::isfinite(options.code_offset))
    return make_error(ErrorCode::invalid_argument, "serial: volts_per_code must be > 0 and code_offset finite");

  SerialSource s;
  s.options_ = options;
  s.link_ = std::move(link);
  s.parser_ = WireFrameParser(options.n_channels, options.estimate_long_gaps ? options.sample_rate_hz : 0.0);
  s.names_ = options.channel_names;
  if (s.names_.empty())
    for (std::size_t c = 0; c < options.n_channels; ++c) s.names_.push_back(std::to_string(c).insert(0, 1, 'A'));  // "A<c>" (pin names)
  const bool raw_codes = options.volts_per_code == 1.0 && options.code_offset == 0.0;
  s.units_.assign(options.n_channels, !options.unit.empty() ? options.unit : raw_codes ? "adc" : "V");
  s.bytes_.resize(options.max_read_frames * s.parser_.max_frame_bytes());
  s.pending_.resize(options.max_read_frames * options.n_channels);
  s.pending_missing_.resize(options.max_read_frames);
  return s;
}

SerialSource::~SerialSource() {
  if (link_ && link_->is_open()) stop();
}

Status SerialSource::start() {
  if (!link_->is_open()) {
    Status s = link_->open();
    if (!s) return s;
  }
  pending_begin_ = pending_end_ = 0;
  const std::int64_t now = steady_now_ns();
  // A version-2 board says whether its sequence continued across a reconnect (a link that dropped while it kept
  // streaming) or restarted (the stream-start bit): the parser keeps the sequence and counts the gap from it. A
  // version-1 board cannot say, so its sequence restarts and the stream time continues from the wall clock.
  resume_v2_ = started_once_ && parser_.has_sequence() && parser_.last_version() == 2 && options_.protocol != 1;
  if (resume_v2_) {
    parser_.drop_partial();
  } else {
    parser_.restart_sequence();
  }
  if (!started_once_) {
    first_start_ns_ = now;
    started_once_ = true;
  } else if (!resume_v2_) {
    const auto elapsed = static_cast<std::uint64_t>(
        std::llround(static_cast<double>(now - first_start_ns_) * 1e-9 * options_.sample_rate_hz));
    next_index_ = std::max(next_index_, elapsed);
  }
  if (!send_start_bytes()) {
    link_->close();
    return make_error(ErrorCode::io, link_->name(), 0, "cannot send the start byte");
  }
  ++stats_.starts;
  ++stats_.start_bytes_sent;
  awaiting_first_frame_ = true;
  start_ns_ = last_start_byte_ns_ = now;
  last_error_.clear();
  return {};
}

bool SerialSource::send_start_bytes() noexcept {
  const std::uint8_t both[2] = {kWireStartByte, kWireStartByteV2};
  if (options_.protocol == 1) return link_->write({both, 1});
  if (options_.protocol == 2 || resume_v2_) return link_->write({both + 1, 1});
  return link_->write({both, 2});
}

void SerialSource::stop() noexcept {
  if (!link_ || !link_->is_open()) return;
  const std::uint8_t stop_byte = kWireStopByte;
  (void)link_->write({&stop_byte, 1});
  link_->close();
}

ReadResult SerialSource::read(std::span<double> out) noexcept {
  ReadResult r;
  const std::size_t nch = options_.n_channels;
  const std::size_t cap = out.size() / nch;
  if (cap == 0) {
    r.status = ReadStatus::error;
    return r;
  }
  if (pending_begin_ == pending_end_) {
    if (!link_->is_open()) {
      r.status = ReadStatus::disconnected;
      return r;
    }
    pending_begin_ = pending_end_ = 0;
    const std::size_t max_bytes = std::min(cap, options_.max_read_frames) * parser_.frame_bytes();
    // (frame_bytes() is the last version's size; bytes_ holds max_read_frames of the longer one.)
    const long n = link_->read(std::span<std::uint8_t>(bytes_.data(), max_bytes), options_.poll_timeout_ms);
    if (n < 0) {
      ++stats_.disconnects;
      stats_.wire = parser_.stats();
      r.status = ReadStatus::disconnected;
      return r;
    }
    pending_arrival_ns_ = steady_now_ns();
    // The switch as any frame of this read saw it: a press shorter than one read is not lost between frames.
    bool estop_in_read = false;
    // At most max_bytes / frame_bytes frames complete (the parser holds < one frame from before).
    const auto sink = [&](const WireFrame& f) {
      if (pending_end_ >= options_.max_read_frames) return;  // cannot happen (see above)
      double* dst = pending_.data() + pending_end_ * nch;
      for (std::size_t c = 0; c < nch; ++c) dst[c] = (f.codes[c] - options_.code_offset) * options_.volts_per_code;
      pending_missing_[pending_end_] = f.missing_before;
      ++pending_end_;
      estop_in_read = estop_in_read || (f.status & kWireStatusEstop) != 0;
    };
    const std::span<const std::uint8_t> got(bytes_.data(), static_cast<std::size_t>(n));
    // A short read drained the link, so its arrival time dates its last frame (the parser's estimate of
    // gaps >= 256 frames). A full read may have left newer bytes waiting: its time would make old frames
    // look late, so it is parsed untimed (the parser carries the time forward by the sequence).
    // The first read after a (re)start is timed whatever its size: it may have to size a gap across a reconnect.
    if (static_cast<std::size_t>(n) < max_bytes || awaiting_first_frame_)
      parser_.feed(got, pending_arrival_ns_, sink);
    else
      parser_.feed(got, sink);
    stats_.wire = parser_.stats();
    if (pending_end_ > 0) board_estop_ = estop_in_read;
    if (pending_end_ == 0) {
      if (awaiting_first_frame_) {
        // No frame yet: the board may have reset on open and lost the start byte. Repeat it; give up after
        // first_frame_timeout_s with a reason a person can act on.
        const std::int64_t now = steady_now_ns();
        if (options_.first_frame_timeout_s > 0 &&
            double(now - start_ns_) * 1e-9 >= options_.first_frame_timeout_s) {
          last_error_ = link_->name() + ": no frame from the board within " +
                        std::to_string(int(std::lround(options_.first_frame_timeout_s))) + " s of the start byte (sent " +
                        std::to_string(stats_.start_bytes_sent) + " times; " + std::to_string(parser_.stats().bytes_discarded) +
                        " bytes that were not frames): is the firmware running, at " +
                        std::to_string(options_.baud) + " baud, with " + std::to_string(options_.n_channels) +
                        " channels?";
          r.status = ReadStatus::error;
          return r;
        }
        if (options_.start_retry_s > 0 && double(now - last_start_byte_ns_) * 1e-9 >= options_.start_retry_s) {
          if (send_start_bytes()) ++stats_.start_bytes_sent;
          last_start_byte_ns_ = now;
        }
      }
      r.status = ReadStatus::no_data;
      return r;
    }
    awaiting_first_frame_ = false;
  }
  // One contiguous run: stop before the next frame that follows a gap.
  next_index_ += pending_missing_[pending_begin_];
  std::size_t m = 1;
  while (m < cap && pending_begin_ + m < pending_end_ && pending_missing_[pending_begin_ + m] == 0) ++m;
  std::copy_n(pending_.data() + pending_begin_ * nch, m * nch, out.data());
  pending_missing_[pending_begin_] = 0;  // accounted
  r.status = ReadStatus::ok;
  r.frames = m;
  r.first_sample_s = static_cast<double>(next_index_) / options_.sample_rate_hz;
  r.arrival_ns = pending_arrival_ns_;
  next_index_ += m;
  pending_begin_ += m;
  stats_.frames_delivered += m;
  return r;
}

}  // namespace myoexo::realtime
