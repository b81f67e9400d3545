#pragma once
// `terrasynth evaluate`: how good a model is on a folder of pairs in the ../shared format.
// Layout fidelity: the project's segmenter labels each generated image and its mIoU against the
// conditioning layout is compared with its mIoU on the real images of the same pairs.
// Realism: a kernel (KID-style) distance between features of generated and real images, next to
// the same distance between two disjoint halves of the real images.
#include <string>
#include <vector>

#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::pipeline {

struct EvaluateOptions {
  std::string model;       // name or folder
  std::string pairs;       // folder of NAME.jpg + NAME_label.png
  std::string dataset;     // recife | landcoverai | dubai (label colours, GSD, style)
  std::string segmenter;   // folder; empty = the model's eval/ folder
  size_t limit = 0;        // at most this many pairs (0 = all)
  uint64_t seed = 0;
  int size = 256;          // evaluated crop (centre) in pixels
  std::string gallery;     // PNG path; empty = none
  int gallery_rows = 8;
  // Pairs the model was trained on (listed in its training_items.json) are always skipped, so
  // evaluating on a training folder measures its validation blocks only.
  SamplingParams sampling;
  DeviceParams device;
};

struct EvaluateReport {
  std::string model;
  std::string dataset;
  std::string pairs;
  size_t pairs_found = 0;
  size_t skipped_training = 0;  // pairs excluded because the model was trained on them
  size_t evaluated = 0;
  double miou_generated = 0;
  double miou_real = 0;
  double fidelity_ratio = 0;  // miou_generated / miou_real
  double kid = 0;
  double kid_real_baseline = 0;
  std::vector<double> iou_generated_per_class;
  std::vector<double> iou_real_per_class;
  std::vector<std::string> classes;
  std::string gallery;
  std::string texture = "off";  // the texture step's note for the first pair ("none": no bank photos apply)
  double seconds = 0;
  double seconds_per_image = 0;
  bool cancelled = false;
};

EvaluateReport run_evaluate(const EvaluateOptions& options, const JobControl& control = {});

// FNV-1a 64-bit hash of a file's bytes (training-set fingerprints).
uint64_t file_fingerprint(const std::string& path);

}  // namespace terrasynth::pipeline
