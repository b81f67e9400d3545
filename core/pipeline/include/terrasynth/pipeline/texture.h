#pragma once
// The texture bank of a model: small real photos with their class maps, chosen by the project's
// own code from the training split, from which the texture step rebuilds the fine detail of
// generated images (texture by numbers guided by the generated image; docs/SAMPLING.md).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <optional>
#include <vector>

#include "terrasynth/engine/image.h"

namespace terrasynth::pipeline {

struct TextureBankOptions {
  std::string data_root;  // folder holding pairs/<source>/ (the ../shared/data layout)
  std::string out_dir;    // written: bank.json, <style>_<k>.png, <style>_<k>_classes.png
  std::vector<std::string> styles{"recife", "landcoverai", "dubai"};
  int per_style = 40;     // photos per style
  int size = 256;         // pixels a side
  uint64_t seed = 0;
  std::function<void(double, const std::string&)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct TextureBankReport {
  // style -> class name -> fraction of the style's bank pixels.
  std::map<std::string, std::map<std::string, double>> class_shares;
  std::map<std::string, std::vector<std::string>> items;  // style -> source ids used
  bool cancelled = false;
};

// Chooses per style training-split crops: a quarter that together cover the classes most evenly
// (greedy, classes present in the source weighted equally), the rest a seeded random draw (the
// source's usual content); frames with more than 5 % unlabelled pixels and blank frames are left
// out. Writes them with a bank.json manifest.
TextureBankReport build_texture_bank(const TextureBankOptions& options);

// The texture step of generation on one image (values 0 - 1; the bench and tools): the bank in
// `bank_dir` (read once per process), the style's photos resampled to `gsd`, matched to
// `layout` (class ids of a model with `num_classes` classes; empty = colour only). Returns the
// provenance note, "" when the bank has no photos of the style usable at that GSD; nothing when
// cancelled (image unchanged). Throws std::runtime_error for a missing or broken bank.
std::optional<std::string> apply_texture_bank(const std::string& bank_dir, int num_classes,
                                              const std::string& style, double gsd, engine::Image& image,
                                              const engine::ClassMap& layout, uint64_t seed,
                                              const std::atomic<bool>* cancel = nullptr);

}  // namespace terrasynth::pipeline
