#include "terrasynth/pipeline/dataset.h"

#include <gdal_priv.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>

namespace fs = std::filesystem;

namespace terrasynth::pipeline {

namespace {

std::once_flag g_gdal_once;
void ensure_gdal() { std::call_once(g_gdal_once, [] { GDALAllRegister(); }); }

struct DatasetCloser {
  void operator()(GDALDataset* dataset) const { GDALClose(dataset); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

DatasetPtr open_raster(const std::string& path) {
  ensure_gdal();
  if (!fs::exists(path)) throw std::runtime_error(path + ": file not found");
  CPLPushErrorHandler(CPLQuietErrorHandler);
  DatasetPtr dataset(static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly)));
  CPLPopErrorHandler();
  if (!dataset) throw std::runtime_error(path + ": not a readable image (" + CPLGetLastErrorMsg() + ")");
  return dataset;
}

std::string lower_snake(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c)) && i > 0 &&
        std::islower(static_cast<unsigned char>(name[i - 1])))
      out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

int parse_index(const std::string& stem) {
  // The trailing number of a name: "00042" -> 42, "tile1_image_part_003" -> 3, "airport_10" -> 10.
  size_t end = stem.size();
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  if (begin == end) return -1;
  return std::stoi(stem.substr(begin, end - begin));
}

int tile_number(const std::string& id) {  // dubai: "tile3_image_part_007" -> 3
  if (id.rfind("tile", 0) != 0) return -1;
  size_t i = 4;
  int value = 0;
  while (i < id.size() && std::isdigit(static_cast<unsigned char>(id[i]))) value = value * 10 + (id[i++] - '0');
  return value;
}

}  // namespace

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names{"other", "building", "road",   "vegetation",
                                              "water", "bare",     "sand"};
  return names;
}

const std::vector<std::array<uint8_t, 3>>& class_palette() {
  static const std::vector<std::array<uint8_t, 3>> palette{
      {{150, 150, 150}}, {{220, 40, 40}}, {{255, 255, 255}}, {{40, 160, 60}},
      {{40, 100, 220}},  {{170, 120, 70}}, {{240, 220, 130}}};
  return palette;
}

const std::vector<SourceInfo>& known_sources() {
  static const std::vector<SourceInfo> sources = [] {
    constexpr uint8_t kOther = 0, kBuilding = 1, kRoad = 2, kVegetation = 3, kWater = 4,
                      kBare = 5, kSand = 6;
    std::vector<SourceInfo> list;
    list.push_back({"recife", 0.25, true,
                    {{{{255, 0, 0}}, kBuilding},
                     {{{255, 0, 127}}, kBuilding},
                     {{{127, 127, 127}}, kRoad},
                     {{{255, 255, 0}}, kBare},
                     {{{0, 255, 0}}, kVegetation},
                     {{{255, 255, 255}}, kSand},
                     {{{0, 255, 255}}, kWater},
                     {{{0, 127, 255}}, kWater},
                     {{{0, 0, 255}}, kWater},
                     {{{255, 0, 255}}, kOther}},
                    "CC0 (map-synth repository; imagery origin not stated)"});
    list.push_back({"landcoverai", 0.3, true,
                    {{{{0, 0, 0}}, kOther},
                     {{{45, 45, 45}}, kBuilding},
                     {{{74, 74, 74}}, kVegetation},
                     {{{176, 176, 176}}, kWater},
                     {{{255, 255, 255}}, kRoad}},
                    "CC BY-NC-SA 4.0 (LandCover.ai)"});
    list.push_back({"dubai", 1.2, true,
                    {{{{60, 16, 152}}, kBuilding},
                     {{{132, 41, 246}}, kBare},
                     {{{110, 193, 228}}, kRoad},
                     {{{254, 221, 58}}, kVegetation},
                     {{{226, 169, 41}}, kWater},
                     {{{155, 155, 155}}, kUnknownClass}},
                    "CC0 (Humans in the Loop, MBRSC imagery)"});
    list.push_back({"aid", 0, false, {}, "AID: research use"});
    (void)kSand;
    return list;
  }();
  return sources;
}

const SourceInfo& source_info(const std::string& name) {
  std::string valid;
  for (const auto& source : known_sources()) {
    if (source.name == name) return source;
    valid += (valid.empty() ? "" : ", ") + source.name;
  }
  throw std::runtime_error("unknown dataset '" + name + "' (valid: " + valid + ")");
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "val" || name == "validation") return Split::Validation;
  if (name == "all") return Split::All;
  throw std::runtime_error("unknown split '" + name + "' (valid: train, val, all)");
}

const std::vector<std::string>& style_names() {
  static const std::vector<std::string> names{"recife", "landcoverai", "dubai", "aid"};
  return names;
}

int style_index(const std::string& name) {
  const auto& names = style_names();
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

const std::vector<std::string>& scene_names() {
  static const std::vector<std::string> names{
      "airport",        "bare_land",  "baseball_field",     "beach",
      "bridge",         "center",     "church",             "commercial",
      "dense_residential", "desert",  "farmland",           "forest",
      "industrial",     "meadow",     "medium_residential", "mountain",
      "park",           "parking",    "playground",         "pond",
      "port",           "railway_station", "resort",        "river",
      "school",         "sparse_residential", "square",     "stadium",
      "storage_tanks",  "viaduct"};
  return names;
}

int scene_index(const std::string& name) {
  const auto& names = scene_names();
  const std::string key = lower_snake(name);
  auto it = std::find(names.begin(), names.end(), key);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

// Validation blocks (contiguous index ranges) per source, chosen away from the blocks held out
// for independent evaluation, with a guard band of kGuard indices on each side that belongs to
// neither split.
namespace {
constexpr int kGuard = 2;
struct Block {
  int begin;
  int end;  // exclusive
};
const std::vector<Block>& validation_blocks(const std::string& source) {
  static const std::map<std::string, std::vector<Block>> blocks{
      {"recife", {{560, 620}, {1160, 1220}, {1760, 1820}}},
      {"landcoverai", {{400, 450}, {1000, 1050}}},
  };
  static const std::vector<Block> none;
  auto it = blocks.find(source);
  return it == blocks.end() ? none : it->second;
}
}  // namespace

bool in_guard_band(const std::string& source, int index) {
  for (const auto& block : validation_blocks(source)) {
    if ((index >= block.begin - kGuard && index < block.begin) ||
        (index >= block.end && index < block.end + kGuard))
      return true;
  }
  return false;
}

bool is_validation(const std::string& source, const std::string& id, int index) {
  if (source == "dubai") {
    // Whole parts 8 and 9 of tile 6 (each part is a separate large image).
    return tile_number(id) == 6 && (index == 8 || index == 9);
  }
  if (source == "aid") return index >= 0 && index % 10 == 0;
  for (const auto& block : validation_blocks(source))
    if (index >= block.begin && index < block.end) return true;
  return false;
}

std::vector<uint8_t> read_rgb(const std::string& path, int& width, int& height) {
  DatasetPtr dataset = open_raster(path);
  width = dataset->GetRasterXSize();
  height = dataset->GetRasterYSize();
  const int bands = dataset->GetRasterCount();
  if (bands < 1) throw std::runtime_error(path + ": image has no bands");
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  if (bands >= 3) {
    int band_map[3] = {1, 2, 3};
    if (dataset->RasterIO(GF_Read, 0, 0, width, height, rgb.data(), width, height, GDT_Byte, 3,
                          band_map, 3, 3 * width, 1, nullptr) != CE_None)
      throw std::runtime_error(path + ": read failed");
    return rgb;
  }
  // One band: a palette or grey image.
  GDALRasterBand* band = dataset->GetRasterBand(1);
  std::vector<uint8_t> values(static_cast<size_t>(width) * height);
  if (band->RasterIO(GF_Read, 0, 0, width, height, values.data(), width, height, GDT_Byte, 0, 0,
                     nullptr) != CE_None)
    throw std::runtime_error(path + ": read failed");
  const GDALColorTable* table = band->GetColorTable();
  for (size_t i = 0; i < values.size(); ++i) {
    if (table && values[i] < table->GetColorEntryCount()) {
      const GDALColorEntry* entry = table->GetColorEntry(values[i]);
      rgb[3 * i] = static_cast<uint8_t>(entry->c1);
      rgb[3 * i + 1] = static_cast<uint8_t>(entry->c2);
      rgb[3 * i + 2] = static_cast<uint8_t>(entry->c3);
    } else {
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = values[i];
    }
  }
  return rgb;
}

std::vector<uint8_t> decode_label(const std::string& path, const SourceInfo& source, int& width,
                                  int& height) {
  if (source.label_colours.empty())
    throw std::runtime_error("dataset '" + source.name + "' has no labels (" + path + ")");
  const std::vector<uint8_t> rgb = read_rgb(path, width, height);
  std::vector<uint8_t> classes(static_cast<size_t>(width) * height);
  // Cache by colour: labels use few colours (plus anti-aliased edges).
  std::map<uint32_t, uint8_t> cache;
  for (size_t i = 0; i < classes.size(); ++i) {
    const uint32_t key = (uint32_t(rgb[3 * i]) << 16) | (uint32_t(rgb[3 * i + 1]) << 8) | rgb[3 * i + 2];
    auto it = cache.find(key);
    if (it == cache.end()) {
      int best = 0;
      long best_distance = -1;
      for (size_t c = 0; c < source.label_colours.size(); ++c) {
        const auto& colour = source.label_colours[c].first;
        long distance = 0;
        for (int k = 0; k < 3; ++k) {
          const long d = long(rgb[3 * i + k]) - long(colour[k]);
          distance += d * d;
        }
        if (best_distance < 0 || distance < best_distance) {
          best_distance = distance;
          best = static_cast<int>(c);
        }
      }
      it = cache.emplace(key, source.label_colours[best].second).first;
    }
    classes[i] = it->second;
  }
  return classes;
}

bool is_blank(const std::vector<uint8_t>& rgb) {
  if (rgb.empty()) return true;
  double sum = 0, sum2 = 0;
  for (uint8_t v : rgb) {
    sum += v;
    sum2 += double(v) * v;
  }
  const double n = static_cast<double>(rgb.size());
  const double mean = sum / n;
  const double variance = std::max(0.0, sum2 / n - mean * mean);
  return std::sqrt(variance) < 4.0 || mean > 250.0 || mean < 5.0;
}

namespace {
bool keep(Split split, bool validation) {
  return split == Split::All || (split == Split::Validation) == validation;
}
}  // namespace

std::vector<DatasetItem> load_pairs(const std::string& dir, const std::string& source_name,
                                    const LoadOptions& options) {
  const SourceInfo& source = source_info(source_name);
  if (!source.labelled) throw std::runtime_error("dataset '" + source_name + "' has no label pairs");
  if (!fs::is_directory(dir)) throw std::runtime_error(dir + ": not a folder of image pairs");
  std::vector<std::string> stems;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto& path = entry.path();
    const std::string ext = path.extension().string();
    if (ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".tif") continue;
    const std::string stem = path.stem().string();
    if (stem.size() > 6 && stem.compare(stem.size() - 6, 6, "_label") == 0) continue;
    stems.push_back(path.filename().string());
  }
  std::sort(stems.begin(), stems.end());
  std::vector<DatasetItem> items;
  for (size_t n = 0; n < stems.size(); ++n) {
    if (options.cancel && options.cancel->load()) break;
    if (options.limit && items.size() >= options.limit) break;
    const fs::path image_path = fs::path(dir) / stems[n];
    const std::string stem = image_path.stem().string();
    fs::path label_path = fs::path(dir) / (stem + "_label.png");
    if (!fs::exists(label_path)) continue;  // an image without its label is not a pair
    const int index = parse_index(stem);
    if (in_guard_band(source_name, index)) continue;
    if (!keep(options.split, is_validation(source_name, stem, index))) continue;
    DatasetItem item;
    item.source = source_name;
    item.id = stem;
    item.image_path = image_path.string();
    item.index = index;
    item.rgb = read_rgb(image_path.string(), item.width, item.height);
    if (is_blank(item.rgb)) continue;
    int label_width = 0, label_height = 0;
    item.classes = decode_label(label_path.string(), source, label_width, label_height);
    if (label_width != item.width || label_height != item.height)
      throw std::runtime_error(label_path.string() + ": label is " + std::to_string(label_width) + "x" +
                               std::to_string(label_height) + " but the image is " +
                               std::to_string(item.width) + "x" + std::to_string(item.height));
    items.push_back(std::move(item));
    if (options.progress) options.progress(double(n + 1) / stems.size(), "reading " + source_name);
  }
  return items;
}

std::vector<DatasetItem> load_scenes(const std::string& dir, const LoadOptions& options) {
  if (!fs::is_directory(dir)) throw std::runtime_error(dir + ": not a folder of scene classes");
  std::vector<fs::path> files;
  for (const auto& class_dir : fs::directory_iterator(dir)) {
    if (!class_dir.is_directory()) continue;
    for (const auto& entry : fs::directory_iterator(class_dir.path())) {
      const std::string ext = entry.path().extension().string();
      if (ext == ".jpg" || ext == ".png" || ext == ".tif") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<DatasetItem> items;
  for (size_t n = 0; n < files.size(); ++n) {
    if (options.cancel && options.cancel->load()) break;
    const auto& path = files[n];
    const int scene = scene_index(path.parent_path().filename().string());
    if (scene < 0) continue;
    const std::string stem = path.stem().string();
    const int index = parse_index(stem);
    if (!keep(options.split, is_validation("aid", stem, index))) continue;
    if (options.limit && items.size() >= options.limit) break;
    DatasetItem item;
    item.source = "aid";
    item.id = stem;
    item.image_path = path.string();
    item.index = index;
    item.scene = scene;
    item.rgb = read_rgb(path.string(), item.width, item.height);
    if (is_blank(item.rgb)) continue;
    items.push_back(std::move(item));
    if (options.progress && n % 64 == 0) options.progress(double(n + 1) / files.size(), "reading aid");
  }
  return items;
}

engine::TrainSample crop_item(const DatasetItem& item, int x0, int y0, int size, int scale) {
  engine::TrainSample sample;
  sample.image = engine::Image(3, size, size);
  const bool labelled = !item.classes.empty();
  if (labelled) sample.layout = engine::ClassMap(size, size);
  const int span = size * scale;
  auto wrap = [](int v, int n) {  // reflect coordinates that fall outside a small item
    if (n == 1) return 0;
    const int period = 2 * (n - 1);
    v %= period;
    if (v < 0) v += period;
    return v < n ? v : period - v;
  };
  std::vector<int> votes(256);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      float acc[3] = {0, 0, 0};
      std::fill(votes.begin(), votes.begin() + 8, 0);
      int unknown_votes = 0;
      for (int dy = 0; dy < scale; ++dy) {
        const int sy = wrap(y0 + y * scale + dy, item.height);
        for (int dx = 0; dx < scale; ++dx) {
          const int sx = wrap(x0 + x * scale + dx, item.width);
          const size_t p = static_cast<size_t>(sy) * item.width + sx;
          for (int c = 0; c < 3; ++c) acc[c] += item.rgb[3 * p + c];
          if (labelled) {
            const uint8_t cls = item.classes[p];
            if (cls < 8) ++votes[cls];
            else ++unknown_votes;
          }
        }
      }
      const float norm = 1.f / (255.f * scale * scale);
      for (int c = 0; c < 3; ++c) sample.image.at(c, y, x) = acc[c] * norm;
      if (labelled) {
        int best = -1, best_votes = unknown_votes;
        for (int c = 0; c < 8; ++c)
          if (votes[c] > best_votes) best = c, best_votes = votes[c];
        sample.layout.at(y, x) = best < 0 ? kUnknownClass : static_cast<uint8_t>(best);
      }
    }
  }
  (void)span;
  return sample;
}

TrainingSampler::TrainingSampler(std::vector<Source> sources) : sources_(std::move(sources)) {
  std::vector<double> weights;
  for (const auto& source : sources_) {
    if (source.items.empty()) throw std::runtime_error("training source without items");
    weights.push_back(source.weight);
  }
  pick_source_ = std::discrete_distribution<int>(weights.begin(), weights.end());
}

size_t TrainingSampler::size() const {
  size_t n = 0;
  for (const auto& source : sources_) n += source.items.size();
  return n;
}

namespace {
// Applies one of the 8 symmetries of the square (flips and 90-degree rotations) in place.
template <typename T>
void transform_square(std::vector<T>& data, int channels, int size, int symmetry) {
  if (symmetry == 0) return;
  std::vector<T> out(data.size());
  for (int c = 0; c < channels; ++c) {
    const size_t base = static_cast<size_t>(c) * size * size;
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        int sx = x, sy = y;
        if (symmetry & 1) sx = size - 1 - sx;          // horizontal flip
        if (symmetry & 2) sy = size - 1 - sy;          // vertical flip
        if (symmetry & 4) std::swap(sx, sy);           // transpose (with flips: rotations)
        out[base + static_cast<size_t>(y) * size + x] = data[base + static_cast<size_t>(sy) * size + sx];
      }
    }
  }
  data.swap(out);
}
}  // namespace

engine::TrainSample TrainingSampler::sample(std::mt19937_64& rng, int size) {
  const Source& source = sources_[pick_source_(rng)];
  const DatasetItem& item =
      source.items[std::uniform_int_distribution<size_t>(0, source.items.size() - 1)(rng)];
  const int scale =
      source.scales[std::uniform_int_distribution<size_t>(0, source.scales.size() - 1)(rng)];
  const int span = size * scale;
  const int x0 = item.width > span ? std::uniform_int_distribution<int>(0, item.width - span)(rng) : 0;
  const int y0 = item.height > span ? std::uniform_int_distribution<int>(0, item.height - span)(rng) : 0;
  engine::TrainSample sample = crop_item(item, x0, y0, size, scale);
  const int symmetry = std::uniform_int_distribution<int>(0, 7)(rng);
  transform_square(sample.image.data, 3, size, symmetry);
  if (!sample.layout.empty()) transform_square(sample.layout.data, 1, size, symmetry);
  sample.style = style_index(item.source);
  sample.scene = item.scene;
  const double gsd = source_info(item.source).gsd;
  sample.gsd = gsd > 0 ? gsd * scale : 0.0;
  return sample;
}

}  // namespace terrasynth::pipeline
