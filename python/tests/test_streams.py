"""The ZeroMQ streams end to end, as another program meets them: a Python subscriber (python/examples/subscribe.py)
watching `myoexo run --publish`, and a second myoexo decoding the first one's EMG stream (`run --zmq`).
"""
import csv
import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

SOURCE = pathlib.Path(os.environ.get("MYOEXO_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
DATA = pathlib.Path(os.environ.get("MYOEXO_DATA", SOURCE.parent / "shared" / "datasets"))
UCI = DATA / "uci-lower-limb"
PROGRAM = os.environ.get("MYOEXO_BIN", str(SOURCE / "build" / "src" / "app" / "myoexo"))
sys.path.insert(0, str(SOURCE / "python" / "examples"))
zmq = pytest.importorskip("zmq")
import subscribe  # noqa: E402  (python/examples/subscribe.py)

pytestmark = pytest.mark.skipif(not (UCI / "A_TXT" / "1Amar.txt").exists(), reason="UCI lower-limb data absent")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def decisions_csv(path):
    with open(path) as f:
        return {round(float(r["window_end_s"]), 4): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "lda.json"
    subprocess.run([PROGRAM, "-q", "train", "--model", "lda_context", "--dataset", str(UCI), "--subject", "1N,2N,3N",
                    "--out", str(out)], check=True, capture_output=True)
    return out


def test_a_subscriber_sees_every_decision_the_run_made_and_a_second_myoexo_decodes_its_emg(model, tmp_path):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    # The second program: decodes the first one's EMG stream live (started first: it waits for the stream).
    consumer = subprocess.Popen([PROGRAM, "-q", "run", "--zmq", endpoint, "--rate", "1000", "--model", str(model),
                                 "--seconds", "9", "--no-plots", "--out", str(tmp_path / "consumer")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got = {}
    lock = threading.Lock()

    def keep(topic, payload):
        with lock:
            got.setdefault(topic, []).append(payload)

    watcher = threading.Thread(target=subscribe.subscribe, args=(endpoint, 9.0, keep))
    watcher.start()
    time.sleep(0.5)
    producer = subprocess.run([PROGRAM, "-q", "run", "--replay", str(UCI / "A_TXT" / "1Amar.txt"), "--model", str(model),
                               "--realtime", "--seconds", "5", "--publish", endpoint, "--publish-wait", "1.5",
                               "--no-plots", "--out", str(tmp_path / "producer")], capture_output=True, text=True)
    assert producer.returncode == 0, producer.stderr
    watcher.join()
    out, err = consumer.communicate(timeout=30)
    assert consumer.returncode == 0, err

    summary = json.loads((tmp_path / "producer" / "summary.json").read_text())
    produced = decisions_csv(tmp_path / "producer" / "decisions.csv")
    # The subscriber: the session description, every decision, ticks at 100/s, the EMG of the whole replay.
    session = got["myoexo.session"][0]
    assert session["channels"] == ["RF", "BF", "VM", "ST"] and session["unit"] == "mV"
    assert len(got["myoexo.decision"]) == len(produced) == summary["publish"]["decisions"]
    for d in got["myoexo.decision"]:
        row = produced[round(d["window_end_s"], 4)]
        assert d["intent"] == row["intent"] and (d["class"] or "") == row["class"]
    assert 450 <= len(got["myoexo.tick"]) <= 510  # 5 s at 100/s
    emg = got["myoexo.emg"]
    assert emg[0][0] == 0  # from the first sample, every chunk where the last one ended
    assert all(b[0] == a[0] + a[2].shape[0] for a, b in zip(emg, emg[1:]))
    published = sum(chunk.shape[0] for _, _, chunk in emg)
    assert published >= 5000
    assert summary["publish"]["messages_dropped"] == 0
    # The second myoexo decided as the first did, window for window.
    consumed = decisions_csv(tmp_path / "consumer" / "decisions.csv")
    common = set(consumed) & set(produced)
    assert len(common) >= 0.95 * len(produced)
    same = sum(consumed[t]["class"] == produced[t]["class"] and consumed[t]["intent"] == produced[t]["intent"]
               for t in common)
    assert same / len(common) >= 0.99, f"{same} of {len(common)} windows agree"
    consumer_summary = json.loads((tmp_path / "consumer" / "summary.json").read_text())
    assert consumer_summary["zmq_source"]["gaps"] == 0 and consumer_summary["zmq_source"]["frames"] == published
    print(f"{len(got['myoexo.decision'])} decisions seen by the subscriber; the second myoexo agreed on "
          f"{same} of {len(common)} windows")
