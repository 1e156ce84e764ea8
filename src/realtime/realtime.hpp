// myoexo::realtime — public header of the real-time stage: streaming pipeline, SPSC frame ring, timing,
// EMG sources (replay with faults, serial), wire protocol, recorder and the session entry points.
#pragma once

#include "realtime/frame_ring.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/postprocess.hpp"
#include "realtime/recorder.hpp"
#include "realtime/replay_source.hpp"
#include "realtime/serial_source.hpp"
#include "realtime/session.hpp"
#include "realtime/source.hpp"
#include "realtime/timing.hpp"
#include "realtime/wire_protocol.hpp"
