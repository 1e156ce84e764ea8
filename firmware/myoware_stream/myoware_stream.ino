// myoware_stream — MyoWare 2.0 EMG sensors on N analog pins of an ATmega328P board (Uno, Nano, Pro Mini) or an
// ATmega2560 (Mega, up to 16 channels),
// sampled at a fixed rate by the Timer1 compare interrupt and streamed as checksummed frames over the
// hardware serial port (USB, or an HC-05 / XM-15B Bluetooth module on pins 0/1).
//
// Protocol: firmware/PROTOCOL.md (host parser: src/realtime/wire_protocol.cpp).
//   host -> board: '1' starts streaming (sequence restarts at 0), '0' stops; other bytes are ignored.
//   board -> host: 0xA5 0x5A, seq (uint8), N 10-bit codes packed LSB-first, CRC-8/SMBUS over seq+payload.
//
// Timing: the ISR reads the N channels at each compare match, so the sampling instants are set by the
// crystal, not by the main loop or the serial traffic. The main loop only packs and sends frames. If the
// link cannot keep up, frames are dropped HERE (the sequence still advances) and the host counts the gap.

#include <Arduino.h>
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
static const uint8_t kSync2 = 0x5A;
static const uint8_t kPayloadBytes = (10 * N_CHANNELS + 7) / 8;
static const uint8_t kFrameBytes = 4 + kPayloadBytes;

#if N_CHANNELS < 1 || N_CHANNELS > MAX_CHANNELS
#error "N_CHANNELS must be 1..6 on an Uno (A0..A5), 1..16 on a Mega 2560 (A0..A15)"
#endif

// ---- sample queue filled by the ISR, drained by loop() ----------------------------------------------------
static const uint8_t kQueueFrames = 16;  // power of two
struct Sample {
  uint8_t seq;
  uint16_t codes[N_CHANNELS];
};
static volatile Sample queue_[kQueueFrames];
static volatile uint8_t head_ = 0;       // written by the ISR
static volatile uint8_t tail_ = 0;       // written by loop()
static volatile uint8_t seq_ = 0;
static volatile bool streaming_ = false;
static volatile uint16_t overruns_ = 0;  // frames dropped on the board (queue full)

ISR(TIMER1_COMPA_vect) {
  if (!streaming_) return;
  const uint8_t seq = seq_;
  seq_ = seq + 1;  // advances even when the frame is dropped: the host sees the gap
  const uint8_t next = (head_ + 1) & (kQueueFrames - 1);
  if (next == tail_) {
    ++overruns_;
    return;
  }
  volatile Sample& s = queue_[head_];
  s.seq = seq;
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
  uint8_t frame[kFrameBytes];
  frame[0] = kSync1;
  frame[1] = kSync2;
  frame[2] = s.seq;
  pack_codes(s.codes, frame + 3);
  uint8_t crc = 0;
  for (uint8_t i = 2; i < 3 + kPayloadBytes; ++i) crc = _crc8_ccitt_update(crc, frame[i]);
  frame[3 + kPayloadBytes] = crc;
  Serial.write(frame, kFrameBytes);
}

void setup() {
  Serial.begin(SERIAL_BAUD);
  // ADC clock 16 MHz / 32 = 500 kHz: ~26 us per conversion (default /128: 104 us), so N reads fit in the
  // ISR without starving the UART interrupt. Costs ~0.5 LSB of accuracy, far below EMG noise.
  ADCSRA = (ADCSRA & ~(_BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0))) | _BV(ADPS2) | _BV(ADPS0);
  pinMode(LED_BUILTIN, OUTPUT);
  start_timer1(SAMPLE_RATE_HZ);
}

void loop() {
  while (Serial.available() > 0) {
    const int b = Serial.read();
    if (b == '1') {
      noInterrupts();
      seq_ = 0;
      head_ = tail_ = 0;
      overruns_ = 0;
      streaming_ = true;
      interrupts();
      digitalWrite(LED_BUILTIN, HIGH);
    } else if (b == '0') {
      noInterrupts();
      streaming_ = false;
      head_ = tail_ = 0;
      interrupts();
      digitalWrite(LED_BUILTIN, LOW);
    }
  }
  while (tail_ != head_) {
    Sample s;
    const uint8_t t = tail_;
    s.seq = queue_[t].seq;
    for (uint8_t c = 0; c < N_CHANNELS; ++c) s.codes[c] = queue_[t].codes[c];
    tail_ = (t + 1) & (kQueueFrames - 1);
    send_frame(s);
  }
}
