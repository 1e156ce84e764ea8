#!/usr/bin/env bash
# How fast 16 channels stream from an ATmega2560 (Arduino Mega) running this firmware, in simavr: for each sampling
# rate and baud rate, the firmware is built, streamed for 10 s of board time into `myoexo record`, and the frames
# that arrived and went missing (dropped on the board when its queue filled) are counted.
# Usage: tools/avr_board/mega_rates.sh BUILD_DIR RECORDING   (prints a markdown table)
set -euo pipefail
build=$(cd "$1" && pwd) rec=$2
src=$(cd "$(dirname "$0")/../../firmware/myoware_stream" && pwd)
rig=$build/tools/avr_board/myoexo-avr-board myoexo=$build/src/app/myoexo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| baud | rate (Hz) | frames in 10 s | missing | delivered rate (Hz) | link load |"
echo "|---|---|---|---|---|---|"
for baud in 460800 1000000; do
  for rate in 1000 1500 2000 2500; do
    obj=$work/fw-$baud-$rate
    make -s -C "$src" BOARD_TAG=mega BOARD_SUB=atmega2560 OBJDIR="$obj" \
         "FIRMWARE_FLAGS=-DN_CHANNELS=16 -DSERIAL_BAUD=${baud}UL -DSAMPLE_RATE_HZ=${rate}UL" > /dev/null 2>&1
    "$rig" --mcu atmega2560 --n-channels 16 --firmware "$obj/myoware_stream_.elf" --recording "$rec" \
           --channels RF,BF,VM,ST,RF,BF,VM,ST,RF,BF,VM,ST,RF,BF,VM,ST --link "$work/pty" > /dev/null 2> "$work/rig.err" &
    pid=$!
    for _ in $(seq 100); do [ -e "$work/pty" ] && break; sleep 0.05; done
    out=$("$myoexo" record --port "$work/pty" --channels 16 --rate "$rate" --baud "$baud" --seconds 10 \
                    --out "$work/rec.csv" 2>&1 | tail -1)
    kill -INT "$pid"; wait "$pid" || true
    frames=$(echo "$out" | grep -o 'recorded [0-9]*' | grep -o '[0-9]*')
    missing=$(echo "$out" | grep -o 'frames missing [0-9]*' | grep -o '[0-9]*$')
    # 24-byte frames, 10 bit times per byte (8N1); the AVR's UART runs at 16 MHz / 8 / (UBRR + 1) with U2X.
    awk -v b="$baud" -v r="$rate" -v f="$frames" -v m="$missing" 'BEGIN {
      ubrr = int((int(16e6 / 4 / b) - 1) / 2); actual = 16e6 / 8 / (ubrr + 1)  # HardwareSerial::begin
      printf "| %d (AVR: %.0f) | %d | %d | %d | %.0f | %.0f %% |\n", b, actual, r, f, m, f / 10, 100 * r * 240 / actual }'
  done
done
