// myoexo::models — what every model file says about itself besides its weights and front end: the unit its
// training data were in, which intent each class drives, what it was trained on and which program wrote it.
//
// Why one struct: the LDA pipeline-model JSON and the LibTorch network archive are two containers of the same
// description, so `run`, `predict` and `evaluate` read the unit, the class -> intent map and the provenance the
// same way whatever the classifier is (session::PipelineModel carries these fields; models::NetworkSpec::card).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace myoexo::models {

/// Where a model came from.
struct Provenance {
  std::string program = "myoexo";
  std::string version;      ///< program version that wrote the file
  std::string commit;       ///< source commit of that program ("" when unknown)
  std::string created_utc;  ///< ISO 8601 time the file was written
};

struct ModelCard {
  /// The unit of the training data ("mV" for the UCI readers). Files written before the card existed were all
  /// trained on millivolt readers and load as "mV".
  std::string signal_unit = "mV";
  /// Class name -> intent name ("rest", "lift", "lower", "gait", "hold"); empty = the data set's default map.
  std::vector<std::pair<std::string, std::string>> class_intents;
  std::vector<std::string> trained_on;  ///< recording file names
  /// A model calibrated to a new person: the base model it started from and the calibration data ("" = trained
  /// from scratch), e.g. "base.pt, first 10 s of 6 recordings of 2A (fine-tuning: head)".
  std::string adapted_from;
  Provenance provenance{"", "", "", ""};
};

}  // namespace myoexo::models
