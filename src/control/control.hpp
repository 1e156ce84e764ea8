// myoexo::control — public header of the control stage: intents, state machine, trajectories, controller,
// sensor-fault detection, safety supervisor, the hardware interface and the fixed-rate loop. No MuJoCo, no I/O.
// See docs/control.md.
#pragma once

#include "control/control_loop.hpp"
#include "control/exo_hardware.hpp"
#include "control/exo_types.hpp"
#include "control/intent.hpp"
#include "control/intent_state_machine.hpp"
#include "control/joint_controller.hpp"
#include "control/proportional.hpp"
#include "control/safety_supervisor.hpp"
#include "control/sensor_fault.hpp"
#include "control/trajectory.hpp"
