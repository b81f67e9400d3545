#pragma once
// The training and evaluation data of the default model: labelled pairs (recife, landcoverai,
// dubai) and AID scenes, decoded to one shared class set. See docs/DATASET.md.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "terrasynth/engine/train.h"

namespace terrasynth::pipeline {

// The shared class set (ids are indices): layouts, the OSM mapping and the model use it.
const std::vector<std::string>& class_names();
const std::vector<std::array<uint8_t, 3>>& class_palette();
constexpr uint8_t kUnknownClass = 255;

// Sources the dataset pipeline knows, their label colours and approximate ground resolution.
struct SourceInfo {
  std::string name;         // "recife", "landcoverai", "dubai", "aid"
  double gsd = 0;           // approximate metres per pixel; 0 = unknown
  bool labelled = true;
  // Label colour -> class id (kUnknownClass for "unlabeled"); decoding maps every pixel to the
  // nearest listed colour.
  std::vector<std::pair<std::array<uint8_t, 3>, uint8_t>> label_colours;
  std::string licence;
};
const std::vector<SourceInfo>& known_sources();
const SourceInfo& source_info(const std::string& name);  // throws listing the valid names

enum class Split { Train, Validation, All };
Split parse_split(const std::string& name);  // "train" | "val" | "all"

struct DatasetItem {
  std::string source;
  std::string id;        // file stem, e.g. "00042" or "tile1_image_part_003"
  std::string image_path;
  int index = -1;        // numeric index where the name has one (contiguous-block splits)
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;      // height * width * 3, interleaved
  std::vector<uint8_t> classes;  // height * width class ids; empty without labels
  int scene = -1;                // AID scene index
};

// True when an item belongs to the validation blocks of its source: contiguous index blocks
// (neighbouring crops never straddle train and validation; a guard band around each block is
// excluded from both).
bool is_validation(const std::string& source, const std::string& id, int index);
bool in_guard_band(const std::string& source, int index);

// Decodes a label image (palette, grey or RGB) to class ids by nearest label colour.
std::vector<uint8_t> decode_label(const std::string& path, const SourceInfo& source, int& width,
                                  int& height);
// Reads an 8-bit RGB image (JPEG/PNG/GeoTIFF...) as interleaved bytes.
std::vector<uint8_t> read_rgb(const std::string& path, int& width, int& height);
// All-white, all-black or nearly constant frames.
bool is_blank(const std::vector<uint8_t>& rgb);

struct LoadOptions {
  Split split = Split::Train;
  size_t limit = 0;  // 0 = all
  std::function<void(double, const std::string&)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

// A folder of NAME.jpg + NAME_label.png pairs of the given source.
std::vector<DatasetItem> load_pairs(const std::string& dir, const std::string& source,
                                    const LoadOptions& options);
// A folder of AID scene class folders.
std::vector<DatasetItem> load_scenes(const std::string& dir, const LoadOptions& options);
// AID scene class names in model order (folder names in lower snake case).
const std::vector<std::string>& scene_names();
int scene_index(const std::string& name);  // -1 when unknown
// The style token of a source (its index in style_names()).
const std::vector<std::string>& style_names();
int style_index(const std::string& name);

// Random crops (any size; an item smaller than the crop is reflected/tiled), flips, 90-degree
// rotations and power-of-two downscaling (which multiplies the GSD), weighted by source.
class TrainingSampler : public engine::TrainDataSource {
 public:
  struct Source {
    std::vector<DatasetItem> items;
    double weight = 1.0;
    std::vector<int> scales{1};  // downscale factors drawn uniformly
  };
  explicit TrainingSampler(std::vector<Source> sources);
  engine::TrainSample sample(std::mt19937_64& rng, int size) override;
  size_t size() const override;

 private:
  std::vector<Source> sources_;
  std::discrete_distribution<int> pick_source_;
};

// Crops a window of an item into engine types, with optional downscaling (area average for the
// image, majority vote for the classes).
engine::TrainSample crop_item(const DatasetItem& item, int x, int y, int size, int scale);

}  // namespace terrasynth::pipeline
