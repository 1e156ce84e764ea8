// myoexo::eval — public header of the evaluation stage: metrics, splits, windowed protocols (UCI-LL v1).
#pragma once

#include "eval/metrics.hpp"
#include "eval/usage_metrics.hpp"
#include "eval/protocol.hpp"
#include "eval/splits.hpp"
