// myoexo::sim — public header of the simulation stage (needs MuJoCo; the control stage does not).
#pragma once

#include "sim/mujoco_exo.hpp"
