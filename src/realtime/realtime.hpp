// myoexo::realtime — public header of the real-time stage: streaming pipeline, SPSC frame ring, timing,
// EMG sources (replay with faults, serial), wire protocol, recorder, board profiles and record_session.
#pragma once

#include "realtime/board_profile.hpp"
#include "realtime/frame_ring.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/postprocess.hpp"
#include "realtime/recorder.hpp"
#include "realtime/replay_source.hpp"
#include "realtime/serial_source.hpp"
#include "realtime/acquisition.hpp"
#include "realtime/source.hpp"
#include "realtime/spsc_queue.hpp"
#include "realtime/timing.hpp"
#include "realtime/wire_protocol.hpp"
