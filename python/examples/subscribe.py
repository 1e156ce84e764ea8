"""Watch a running myoexo from another program: what `myoexo run ... --publish ENDPOINT` publishes on ZeroMQ
(schema: docs/streams.md). Needs only NumPy and pyzmq (Debian: python3-numpy, python3-zmq).

    python3 python/examples/subscribe.py tcp://127.0.0.1:5556 --seconds 10
"""
import argparse
import json
import struct
import time

import numpy as np
import zmq


def subscribe(endpoint, seconds, on_message):
    """Calls on_message(topic, payload) for every message within `seconds`; payload is a dict, or for EMG a
    (first_sample_index, sample_rate_hz, samples[frames, channels]) tuple."""
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt_string(zmq.SUBSCRIBE, "myoexo.")
    sub.connect(endpoint)
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            if not poller.poll(50):
                continue
            topic, *parts = sub.recv_multipart()
            topic = topic.decode()
            if topic == "myoexo.emg":
                magic, schema, channels, frames, first, rate = struct.unpack("<4sHHIQd", parts[0])
                assert magic == b"MXEM" and schema == 1
                samples = np.frombuffer(parts[1], dtype="<f8").reshape(frames, channels)
                on_message(topic, (first, rate, samples))
            else:
                on_message(topic, json.loads(parts[0]))
    finally:
        sub.close(linger=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5556")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    counts = {}

    def show(topic, payload):
        counts[topic] = counts.get(topic, 0) + 1
        if topic == "myoexo.session" and counts[topic] == 1:
            print(f"session: {payload['channels']} in {payload['unit']} at {payload['sample_rate_hz']} Hz, "
                  f"classes {payload['classes']}, from {payload['source']}")
        elif topic == "myoexo.decision":
            state = "rejected" if payload["rejected"] else f"{payload['class']} {payload['probability']:.2f}"
            print(f"{payload['window_end_s']:8.3f} s  decision {state:>18}  -> intent {payload['intent']}")
        elif topic == "myoexo.event":
            print(f"{payload['t_s']:8.3f} s  SAFETY {payload['reason']}")

    subscribe(args.endpoint, args.seconds, show)
    print("messages:", ", ".join(f"{t} {n}" for t, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
