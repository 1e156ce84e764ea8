// myoware_stream — MyoWare 2.0 EMG sensors on N analog pins of an ATmega328P board (Uno, Nano, Pro Mini) or an
// ATmega2560 (Mega, up to 16 channels),
// sampled at a fixed rate by the Timer1 compare interrupt and streamed as checksummed frames over the
// hardware serial port (USB, or an HC-05 / XM-15B Bluetooth module on pins 0/1).
//
// Protocol: firmware/PROTOCOL.md (host parser: src/realtime/wire_protocol.cpp).
//   host -> board: '1' starts streaming version-1 frames, '2' version-2 frames (the sequence restarts at 0 on
//   either; a board already streaming that version goes on, so a host that reconnects after a link drop counts
//   what it lost), '0' stops; other bytes are ignored.
//   version 1: 0xA5 0x5A, seq (uint8), N 10-bit codes packed LSB-first, CRC-8/SMBUS over seq+payload.
//   version 2: 0xA5 0x5B, seq (12 bits) | status (4 bits) LE, the same payload, CRC-16/CCITT-FALSE LE. Status:
//   the e-stop input (ESTOP_PIN, debounced), frames dropped on the board, a restart (watchdog) mid-stream, the
//   first frame of a new sequence.
//
// Safety: the AVR watchdog (250 ms) resets a hung main loop; a board that was streaming resumes by itself after
// such a reset (sequence continued, so the host counts the frames lost) and flags it in version 2.
//
// Timing: the ISR reads the N channels at each compare match, so the sampling instants are set by the
// crystal, not by the main loop or the serial traffic. The main loop only packs and sends frames. If the
// link cannot keep up, frames are dropped HERE (the sequence still advances) and the host counts the gap.

#include <Arduino.h>
#include <avr/wdt.h>
#include <util/crc16.h>

// ---- configuration ----------------------------------------------------------------------------------------
#ifndef N_CHANNELS
#define N_CHANNELS 4            // 1..6 on an Uno (A0..A5), 1..16 on a Mega 2560 (A0..A15); 4 channels at 1 kHz
#endif                          // need >= 115200 baud (PROTOCOL.md: the bandwidth of each configuration)
#ifndef SAMPLE_RATE_HZ
#define SAMPLE_RATE_HZ 1000UL   // Timer1 tick rate
#endif
#ifndef SERIAL_BAUD
#define SERIAL_BAUD 115200UL    // HC-05 must be set to the same rate (AT+UART=115200,0,0)
#endif

#if defined(__AVR_ATmega2560__) || defined(__AVR_ATmega1280__)
#define MAX_CHANNELS 16
static const uint8_t kPins[16] = {A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15};
#else
#define MAX_CHANNELS 6
static const uint8_t kPins[6] = {A0, A1, A2, A3, A4, A5};
#endif
static const uint8_t kSync1 = 0xA5;
static const uint8_t kSync2 = 0x5A;    // version 1
static const uint8_t kSync2V2 = 0x5B;  // version 2
static const uint8_t kPayloadBytes = (10 * N_CHANNELS + 7) / 8;
static const uint8_t kFrameBytes = 4 + kPayloadBytes;
static const uint8_t kFrameBytesV2 = 6 + kPayloadBytes;
static const uint8_t kStatusEstop = 0x1, kStatusOverflow = 0x2, kStatusRestarted = 0x4, kStatusStreamStart = 0x8;
// Version 2 costs 2 bytes more per frame: the board answers '2' only when its frames leave 15 % of the link free
// (4 channels at 1 kHz need 110 kbit/s in version 2: not at 115200 baud, where it stays in version 1).
static const bool kVersion2Fits = (uint32_t)kFrameBytesV2 * 10UL * SAMPLE_RATE_HZ <= SERIAL_BAUD * 85UL / 100UL;

// The e-stop input: a normally-closed switch from ESTOP_PIN to ground (pressed or a broken wire: the pull-up makes
// the pin high = stop). Off unless built with -DESTOP_PIN=2 (a board without the switch would read "stop").
#ifdef ESTOP_PIN
static const uint8_t kEstopDebounceTicks = 5;  // 5 ms at 1 kHz of the same level before it counts
#endif

#if N_CHANNELS < 1 || N_CHANNELS > MAX_CHANNELS
#error "N_CHANNELS must be 1..6 on an Uno (A0..A5), 1..16 on a Mega 2560 (A0..A15)"
#endif

// ---- sample queue filled by the ISR, drained by loop() ----------------------------------------------------
static const uint8_t kQueueFrames = 16;  // power of two
struct Sample {
  uint16_t seq;
  uint8_t status;
  uint16_t codes[N_CHANNELS];
};
static volatile Sample queue_[kQueueFrames];
static volatile uint8_t head_ = 0;       // written by the ISR
static volatile uint8_t tail_ = 0;       // written by loop()
static volatile bool streaming_ = false;
static volatile uint8_t protocol_ = 1;   // 1 or 2
static volatile uint16_t overruns_ = 0;  // frames dropped on the board (queue full)
static volatile uint8_t pending_status_ = 0;  // overflow / restart, carried by the next queued frame
static volatile uint8_t estop_ = 0;           // debounced e-stop input (kStatusEstop or 0)

// Kept across a watchdog reset (not cleared by the C start-up code): whether and how the board was streaming.
static const uint16_t kResumeMagic = 0x5EA1;
static uint16_t resume_magic_ __attribute__((section(".noinit")));
static uint8_t resume_protocol_ __attribute__((section(".noinit")));
static volatile uint16_t seq_ __attribute__((section(".noinit")));  // advances every tick, also across a reset

ISR(TIMER1_COMPA_vect) {
#ifdef ESTOP_PIN
  static uint8_t same = 0, last = 0;
  const uint8_t level = digitalRead(ESTOP_PIN) == HIGH ? kStatusEstop : 0;
  same = level == last ? (same < 255 ? same + 1 : same) : 0;
  last = level;
  if (same >= kEstopDebounceTicks) estop_ = level;
#endif
  if (!streaming_) return;
  const uint16_t seq = seq_;
  seq_ = seq + 1;  // advances even when the frame is dropped: the host sees the gap
  const uint8_t next = (head_ + 1) & (kQueueFrames - 1);
  if (next == tail_) {
    ++overruns_;
    pending_status_ |= kStatusOverflow;
    return;
  }
  volatile Sample& s = queue_[head_];
  s.seq = seq;
  s.status = pending_status_ | estop_;
  pending_status_ = 0;
  for (uint8_t c = 0; c < N_CHANNELS; ++c) s.codes[c] = analogRead(kPins[c]);
  head_ = next;
}

static void start_timer1(unsigned long rate_hz) {
  noInterrupts();
  TCCR1A = 0;
  TCCR1B = 0;
  TCNT1 = 0;
  // CTC mode (WGM12), prescaler 8: 16 MHz / 8 = 2 MHz timer clock; OCR1A = 2e6 / rate - 1 (1999 at 1 kHz).
  OCR1A = (uint16_t)(F_CPU / 8UL / rate_hz - 1UL);
  TCCR1B = _BV(WGM12) | _BV(CS11);
  TIMSK1 = _BV(OCIE1A);
  interrupts();
}

// Packs 4 codes into 5 bytes with fixed shifts (code k at bits [10k, 10k+10), LSB first). An AVR shifts one bit
// per instruction, so variable 32-bit shifts per code cost more than the link time of a 16-channel frame.
static void pack_codes(const uint16_t* codes, uint8_t* payload) {
  for (uint8_t g = 0; g < (N_CHANNELS + 3) / 4; ++g) {
    const uint8_t i = 4 * g;
    const uint16_t a = codes[i] & 0x3FFu;
    const uint16_t b = i + 1 < N_CHANNELS ? codes[i + 1] & 0x3FFu : 0;
    const uint16_t c = i + 2 < N_CHANNELS ? codes[i + 2] & 0x3FFu : 0;
    const uint16_t d = i + 3 < N_CHANNELS ? codes[i + 3] & 0x3FFu : 0;
    const uint8_t bytes[5] = {(uint8_t)a, (uint8_t)((a >> 8) | (b << 2)), (uint8_t)((b >> 6) | (c << 4)),
                              (uint8_t)((c >> 4) | (d << 6)), (uint8_t)(d >> 2)};
    for (uint8_t k = 0; k < 5 && 5 * g + k < kPayloadBytes; ++k) payload[5 * g + k] = bytes[k];
  }
}

static void send_frame(const Sample& s) {
  uint8_t frame[kFrameBytesV2];
  frame[0] = kSync1;
  if (protocol_ == 2) {
    frame[1] = kSync2V2;
    const uint16_t word = (s.seq & 0x0FFFu) | ((uint16_t)(s.status & 0xFu) << 12);
    frame[2] = (uint8_t)word;
    frame[3] = (uint8_t)(word >> 8);
    pack_codes(s.codes, frame + 4);
    uint16_t crc = 0xFFFF;
    for (uint8_t i = 2; i < 4 + kPayloadBytes; ++i) crc = _crc_xmodem_update(crc, frame[i]);
    frame[4 + kPayloadBytes] = (uint8_t)crc;
    frame[5 + kPayloadBytes] = (uint8_t)(crc >> 8);
    Serial.write(frame, kFrameBytesV2);
    return;
  }
  frame[1] = kSync2;
  frame[2] = (uint8_t)s.seq;
  pack_codes(s.codes, frame + 3);
  uint8_t crc = 0;
  for (uint8_t i = 2; i < 3 + kPayloadBytes; ++i) crc = _crc8_ccitt_update(crc, frame[i]);
  frame[3 + kPayloadBytes] = crc;
  Serial.write(frame, kFrameBytes);
}

// After a watchdog reset the watchdog stays armed at its shortest period: turn it off before anything else.
static uint8_t reset_cause_ __attribute__((section(".noinit")));
void early_wdt_off(void) __attribute__((naked, used, section(".init3")));
void early_wdt_off(void) {
  reset_cause_ = MCUSR;
  MCUSR = 0;
  wdt_disable();
}

static void start_stream(uint8_t protocol) {
  // Already streaming this version (the host reconnected after a link drop): go on, the sequence continues.
  if (streaming_ && protocol_ == protocol) return;
  noInterrupts();
  seq_ = 0;
  head_ = tail_ = 0;
  overruns_ = 0;
  pending_status_ = kStatusStreamStart;
  protocol_ = protocol;
  streaming_ = true;
  resume_protocol_ = protocol;
  resume_magic_ = kResumeMagic;
  interrupts();
  digitalWrite(LED_BUILTIN, HIGH);
}

void setup() {
  Serial.begin(SERIAL_BAUD);
  // ADC clock 16 MHz / 32 = 500 kHz: ~26 us per conversion (default /128: 104 us), so N reads fit in the
  // ISR without starving the UART interrupt. Costs ~0.5 LSB of accuracy, far below EMG noise.
  ADCSRA = (ADCSRA & ~(_BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0))) | _BV(ADPS2) | _BV(ADPS0);
  pinMode(LED_BUILTIN, OUTPUT);
#ifdef ESTOP_PIN
  pinMode(ESTOP_PIN, INPUT_PULLUP);
#endif
  // A watchdog reset while streaming (a hung main loop): resume at once, the sequence continued (the host counts
  // what was lost) and the restart flagged.
  const bool resume = (reset_cause_ & _BV(WDRF)) && resume_magic_ == kResumeMagic;
  if (resume) {
    protocol_ = resume_protocol_ == 2 ? 2 : 1;
    pending_status_ = kStatusRestarted;
    streaming_ = true;
    digitalWrite(LED_BUILTIN, HIGH);
  } else {
    resume_magic_ = 0;
    seq_ = 0;
  }
  wdt_enable(WDTO_250MS);
  start_timer1(SAMPLE_RATE_HZ);
}

void loop() {
  wdt_reset();
  while (Serial.available() > 0) {
    const int b = Serial.read();
    if (b == '1' || (b == '2' && kVersion2Fits)) {
      start_stream(b == '2' ? 2 : 1);
    } else if (b == '0') {
      noInterrupts();
      streaming_ = false;
      head_ = tail_ = 0;
      resume_magic_ = 0;
      interrupts();
      digitalWrite(LED_BUILTIN, LOW);
    }
#ifdef HANG_COMMAND
    else if (b == 'h') {  // test builds only: a hung main loop, for the watchdog
      for (;;) {
      }
    }
#endif
  }
  while (tail_ != head_) {
    Sample s;
    const uint8_t t = tail_;
    s.seq = queue_[t].seq;
    s.status = queue_[t].status;
    for (uint8_t c = 0; c < N_CHANNELS; ++c) s.codes[c] = queue_[t].codes[c];
    tail_ = (t + 1) & (kQueueFrames - 1);
    send_frame(s);
  }
}
