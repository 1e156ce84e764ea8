// A MyoWare board on a pseudo-terminal: streams a recording's ADC codes as wire frames (firmware/PROTOCOL.md) at
// the board's rate once the host sends the start byte, in bursts of 10 frames as a USB-serial adapter delivers
// them. Used by the session tests and bench_session.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "io/recording.hpp"
#include "realtime/wire_protocol.hpp"

namespace myoexo::session::test {

// Streams `codes` (interleaved, 4 channels) as wire frames at `rate_hz` once the host sends the start byte.
class PtyBoard {
 public:
  PtyBoard(const io::Recording& codes, double rate_hz) : codes_(codes), rate_hz_(rate_hz) {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0) return;
    slave_ = ::ptsname(master_);
    thread_ = std::thread([this] { serve(); });
  }
  ~PtyBoard() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (master_ >= 0) ::close(master_);
  }
  const std::string& port() const { return slave_; }
  std::size_t sent() const { return sent_.load(); }

 private:
  void serve() {
    bool started = false;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!started && !stop_ && std::chrono::steady_clock::now() < end) {
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0 && (p.revents & POLLIN)) {
        std::uint8_t b = 0;
        if (::read(master_, &b, 1) == 1 && b == realtime::kWireStartByte) started = true;
      }
    }
    std::uint8_t buf[realtime::kMaxWireFrameBytes];
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; started && !stop_ && i < codes_.n_samples; ++i) {
      if (i % 10 == 0)  // a USB-serial adapter delivers bursts every few ms; the board samples at rate_hz
        std::this_thread::sleep_until(t0 + std::chrono::duration<double>(double(i) / rate_hz_));
      std::uint16_t c[4];
      for (std::size_t ch = 0; ch < 4 && ch < codes_.n_channels(); ++ch) c[ch] = std::uint16_t(codes_.samples[ch * codes_.n_samples + i]);
      const auto n = realtime::encode_wire_frame(std::uint8_t(i & 0xff), c, buf);
      if (::write(master_, buf, n) != ssize_t(n)) break;
      ++sent_;
    }
    while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  io::Recording codes_;
  double rate_hz_;
  int master_ = -1;
  std::string slave_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> sent_{0};
};

}  // namespace myoexo::session::test
