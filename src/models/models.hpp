// myoexo::models — public header of the models stage (torch-free part): the Classifier interface, LDA and ridge regression.
// LibTorch models live in models/torch and implement the same Classifier.
#pragma once

#include "models/classifier.hpp"
#include "models/lda.hpp"
#include "models/knee_angle.hpp"
#include "models/ridge.hpp"
