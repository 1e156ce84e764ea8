// libFuzzer target for the host's serial frame parser (src/realtime/wire_protocol.cpp, compiled in
// directly so that fuzz builds need not build the realtime stage).
// Input: byte 0 picks the channel count (1..16) and byte 1 a chunk size; the rest is the byte stream.
// Frames of both protocol versions may appear. Checks, beyond "no crash / no UB": the parser's output does not depend on the chunking, it never
// delivers more frames than the bytes can hold, every delivered code is 10-bit, every delivered frame
// re-encodes to a valid frame, and the byte accounting adds up. The same bytes are also fed with arrival times
// (chunk k arrives at a time drawn from the data, forwards or backwards): the frames and codes are the same, and
// each frame's missing count differs from the untimed one only by whole wraps of the counter that the estimate
// accounts for (or, for a frame that restarts the sequence, by what the clock alone says was lost).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "realtime/wire_protocol.hpp"

using namespace myoexo::realtime;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t n_channels = 1 + data[0] % kMaxWireChannels;
  const std::size_t chunk = 1 + data[1] % 64;
  const std::span<const std::uint8_t> bytes(data + 2, size - 2);

  WireFrameParser whole(n_channels), chunked(n_channels);
  std::vector<WireFrame> a, b;
  whole.feed(bytes, [&](const WireFrame& f) { a.push_back(f); });
  for (std::size_t i = 0; i < bytes.size(); i += chunk)
    chunked.feed(bytes.subspan(i, std::min(chunk, bytes.size() - i)), [&](const WireFrame& f) { b.push_back(f); });

  if (a.size() != b.size()) std::abort();
  if (a.size() * wire_frame_bytes(n_channels) > bytes.size()) std::abort();
  const std::uint64_t v2 = whole.stats().frames_v2, v1 = a.size() - v2;
  const WireStats& s = whole.stats();
  if (s.frames_ok != a.size() || s.crc_failures != chunked.stats().crc_failures ||
      s.bytes_discarded != chunked.stats().bytes_discarded || s.frames_missing != chunked.stats().frames_missing)
    std::abort();
  // Bytes are either in intact frames, discarded, or still buffered (less than one frame).
  const std::uint64_t accounted =
      v1 * wire_frame_bytes(n_channels) + v2 * wire_frame_bytes_v2(n_channels) + s.bytes_discarded;
  if (accounted > bytes.size() || bytes.size() - accounted >= wire_frame_bytes_v2(n_channels)) std::abort();

  // Timed: a 1 kHz board; each chunk's arrival moves by an amount the data pick (0..~65 ms, sometimes backwards).
  WireFrameParser timed(n_channels, 1000.0);
  std::vector<WireFrame> c;
  std::int64_t t_ns = 1'000'000'000;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    const std::uint8_t pick = bytes[i];
    const std::int64_t step = std::int64_t(pick & 0x7F) * 512'000;  // up to 65 ms
    t_ns += (pick & 0x80) && (pick & 0x01) ? -step : step;
    timed.feed(bytes.subspan(i, std::min(chunk, bytes.size() - i)), t_ns, [&](const WireFrame& f) { c.push_back(f); });
  }
  if (c.size() != a.size()) std::abort();
  std::uint64_t extra = 0;
  for (std::size_t k = 0; k < c.size(); ++k) {
    if (c[k].seq != a[k].seq || std::memcmp(c[k].codes.data(), a[k].codes.data(), sizeof(c[k].codes)) != 0)
      std::abort();
    if (c[k].sequence_restarted != a[k].sequence_restarted || c[k].missing_before < a[k].missing_before)
      std::abort();
    // A restarted sequence says nothing about what came before it: untimed it counts no gap, timed the clock
    // alone sizes it. A continuing sequence differs only by whole wraps of its counter.
    if (a[k].sequence_restarted ? a[k].missing_before != 0
                                : (c[k].missing_before - a[k].missing_before) % (a[k].version == 2 ? 4096 : 256) != 0)
      std::abort();
    if (c[k].missing_before != a[k].missing_before && !c[k].missing_estimated) std::abort();
    extra += c[k].missing_before - a[k].missing_before;
  }
  const WireStats& ts = timed.stats();
  if (ts.frames_missing_estimated != extra || ts.frames_missing != s.frames_missing + extra ||
      ts.gaps_estimated > c.size() || ts.crc_failures != s.crc_failures || ts.bytes_discarded != s.bytes_discarded)
    std::abort();

  std::uint8_t buf[kMaxWireFrameBytes];
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k].seq != b[k].seq || a[k].missing_before != b[k].missing_before || a[k].version != b[k].version ||
        a[k].status != b[k].status ||
        std::memcmp(a[k].codes.data(), b[k].codes.data(), sizeof(a[k].codes)) != 0)
      std::abort();
    for (std::size_t c = 0; c < n_channels; ++c)
      if (a[k].codes[c] > kMaxAdcCode) std::abort();
    const std::span<const std::uint16_t> codes(a[k].codes.data(), n_channels);
    const std::size_t n = a[k].version == 2 ? encode_wire_frame_v2(a[k].seq, a[k].status, codes, buf)
                                            : encode_wire_frame(std::uint8_t(a[k].seq), codes, buf);
    const std::size_t want = a[k].version == 2 ? wire_frame_bytes_v2(n_channels) : wire_frame_bytes(n_channels);
    if (a[k].version == 1 && (a[k].seq > 255 || a[k].status != 0)) std::abort();
    if (a[k].version == 2 && (a[k].seq > 4095 || a[k].status > 0xF)) std::abort();
    WireFrameParser again(n_channels);
    if (n != want || again.feed(std::span<const std::uint8_t>(buf, n), [](const WireFrame&) {}) != 1) std::abort();
  }
  return 0;
}
