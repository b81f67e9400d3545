#include "texture_step.h"

#include "texture_manifest.h"

#include <gdal_priv.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include "terrasynth/pipeline/dataset.h"
#include "terrasynth/pipeline/texture.h"
#include "terrasynth/pipeline/training.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline {

namespace {

using Dataset = std::unique_ptr<GDALDataset, void (*)(GDALDataset*)>;
void close_dataset(GDALDataset* d) { GDALClose(d); }

// One band of 8-bit values; width and height receive the size.
std::vector<uint8_t> read_grey(const std::string& path, int& width, int& height) {
  GDALAllRegister();
  Dataset dataset(static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY,
                                                       nullptr, nullptr, nullptr)),
                  close_dataset);
  if (!dataset) throw std::runtime_error(path + ": cannot read the class map");
  if (dataset->GetRasterCount() != 1 || dataset->GetRasterBand(1)->GetRasterDataType() != GDT_Byte)
    throw std::runtime_error(path + ": a class map must be one band of 8-bit class ids");
  width = dataset->GetRasterXSize();
  height = dataset->GetRasterYSize();
  std::vector<uint8_t> out(static_cast<size_t>(width) * height);
  if (dataset->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, width, height, out.data(), width, height, GDT_Byte,
                                          0, 0, nullptr) != CE_None)
    throw std::runtime_error(path + ": cannot read the class map");
  return out;
}

// Width and height of a raster file without reading its pixels.
void probe_size(const std::string& path, int& width, int& height) {
  GDALAllRegister();
  Dataset dataset(static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY,
                                                       nullptr, nullptr, nullptr)),
                  close_dataset);
  if (!dataset) throw std::runtime_error(path + ": cannot read the photo");
  width = dataset->GetRasterXSize();
  height = dataset->GetRasterYSize();
}

// Candidate crops of an item: the item itself when it has the crop's size, else a grid of crops.
struct Crop {
  const DatasetItem* item;
  int x, y;
  std::vector<double> counts;  // pixels per class
};

}  // namespace

TextureBankReport build_texture_bank(const TextureBankOptions& options) {
  TextureBankReport report;
  if (options.per_style < 1 || options.per_style > 256)
    throw std::runtime_error("texture bank: --per-style must be 1 - 256");
  if (options.size < 32 || options.size > 1024)
    throw std::runtime_error("texture bank: --size must be 32 - 1024 pixels");
  fs::create_directories(options.out_dir);
  const auto& names = class_names();
  const int num_classes = static_cast<int>(names.size());
  nlohmann::json manifest;
  manifest["format"] = "terrasynth-texture-bank/1";
  manifest["description"] =
      "Real photos with class maps from the training split, the sources of the texture step.";
  for (size_t s = 0; s < options.styles.size(); ++s) {
    const std::string& style = options.styles[s];
    const SourceInfo& source = source_info(style);
    if (!source.labelled) throw std::runtime_error("texture bank: source '" + style + "' has no labels");
    LoadOptions load;
    load.split = Split::Train;
    load.cancel = options.cancel;
    const std::vector<DatasetItem> items = load_pairs((fs::path(options.data_root) / "pairs" / style).string(), style, load);
    if (options.cancel && options.cancel->load()) {
      report.cancelled = true;
      return report;
    }
    const int size = options.size;
    std::vector<Crop> crops;
    for (const DatasetItem& item : items) {
      if (item.width < size || item.height < size || is_blank(item.rgb)) continue;
      for (int y = 0; y + size <= item.height; y += size)
        for (int x = 0; x + size <= item.width; x += size) {
          Crop crop{&item, x, y, std::vector<double>(num_classes + 1, 0.0)};
          for (int yy = 0; yy < size; ++yy)
            for (int xx = 0; xx < size; ++xx) {
              const uint8_t id = item.classes[static_cast<size_t>(y + yy) * item.width + x + xx];
              crop.counts[id < num_classes ? id : num_classes] += 1;
            }
          if (crop.counts[num_classes] > 0.05 * size * size) continue;
          crops.push_back(std::move(crop));
        }
    }
    if (crops.empty()) throw std::runtime_error("texture bank: no usable crops of '" + style + "'");
    // Quota per class present in the source: an equal share of the bank's pixels, or all the
    // source has of it.
    std::vector<double> available(num_classes, 0.0);
    for (const Crop& c : crops)
      for (int k = 0; k < num_classes; ++k) available[k] += c.counts[k];
    int present = 0;
    for (int k = 0; k < num_classes; ++k) present += available[k] > 0 ? 1 : 0;
    const double bank_pixels = static_cast<double>(options.per_style) * size * size;
    std::vector<double> quota(num_classes, 0.0);
    for (int k = 0; k < num_classes; ++k)
      if (available[k] > 0) quota[k] = std::min(available[k], bank_pixels / std::max(1, present));
    std::vector<double> have(num_classes, 0.0);
    std::mt19937_64 rng(options.seed ^ (0x62616e6bULL + s));
    std::shuffle(crops.begin(), crops.end(), rng);  // ties go to a seeded random crop
    std::vector<size_t> chosen;
    std::vector<char> used(crops.size(), 0);
    // A quarter of the photos cover the classes evenly (rare classes such as roads and sand get
    // their share); the rest are a seeded random draw, so the bank looks like the source as a
    // whole (its usual mix of trees, ground and roofs), not like its extremes.
    const int balanced = std::max(1, options.per_style / 4);
    for (int k = 0; k < options.per_style && chosen.size() < crops.size(); ++k) {
      size_t best = crops.size();
      double best_gain = -1;
      for (size_t i = 0; i < crops.size(); ++i) {
        if (used[i]) continue;
        if (k >= balanced) {  // crops are shuffled: the first unused one is a random draw
          best = i;
          break;
        }
        double gain = 0;
        for (int c = 0; c < num_classes; ++c)
          if (quota[c] > 0) gain += (std::min(quota[c], have[c] + crops[i].counts[c]) - std::min(quota[c], have[c])) / quota[c];
        if (gain > best_gain) best_gain = gain, best = i;
      }
      used[best] = 1;
      chosen.push_back(best);
      for (int c = 0; c < num_classes; ++c) have[c] += crops[best].counts[c];
    }
    nlohmann::json images = nlohmann::json::array();
    double total = 0;
    for (double v : have) total += v;
    for (size_t k = 0; k < chosen.size(); ++k) {
      const Crop& crop = crops[chosen[k]];
      const DatasetItem& item = *crop.item;
      // write_png stores round(v * 255): a class id k written as k / 255 comes back as k.
      engine::Image rgb(3, size, size), classes(1, size, size);
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          const size_t from = static_cast<size_t>(crop.y + y) * item.width + crop.x + x;
          for (int c = 0; c < 3; ++c) rgb.at(c, y, x) = item.rgb[3 * from + c] / 255.f;
          classes.at(0, y, x) = (item.classes[from] < num_classes ? item.classes[from] : 0) / 255.f;
        }
      std::ostringstream stem;
      stem << style << "_" << std::setw(2) << std::setfill('0') << k;
      write_png((fs::path(options.out_dir) / (stem.str() + ".png")).string(), rgb);
      write_png((fs::path(options.out_dir) / (stem.str() + "_classes.png")).string(), classes);
      std::string id = item.id;
      if (item.width > size || item.height > size) id += " at " + std::to_string(crop.x) + "," + std::to_string(crop.y);
      images.push_back({{"rgb", stem.str() + ".png"}, {"classes", stem.str() + "_classes.png"}, {"source_item", id}});
      report.items[style].push_back(id);
    }
    for (int c = 0; c < num_classes; ++c) report.class_shares[style][names[c]] = total > 0 ? have[c] / total : 0.0;
    manifest["styles"][style] = {{"gsd", source.gsd}, {"licence", source.licence}, {"images", images}};
    if (options.progress) options.progress(double(s + 1) / options.styles.size(), style);
  }
  const fs::path path = fs::path(options.out_dir) / "bank.json";
  const fs::path temporary = fs::path(options.out_dir) / ".bank.json.tmp";
  {
    std::ofstream out(temporary);
    out << manifest.dump(2) << "\n";
    if (!out) throw std::runtime_error(temporary.string() + ": cannot write");
  }
  fs::rename(temporary, path);
  return report;
}

std::optional<std::string> apply_texture_bank(const std::string& bank_dir, int num_classes,
                                              const std::string& style, double gsd, engine::Image& image,
                                              const engine::ClassMap& layout, uint64_t seed,
                                              const std::atomic<bool>* cancel) {
  const auto bank = detail::load_texture_bank(bank_dir, num_classes);
  return detail::apply_texture(*bank, style, gsd, image, layout, nullptr, seed,
                               [cancel] { return cancel && cancel->load(); });
}

namespace detail {

namespace {

std::shared_ptr<const TextureBank> read_bank(const std::string& folder_name, int num_classes) {
  auto bank = std::make_shared<TextureBank>();
  const fs::path folder(folder_name);
  const fs::path path = folder / "bank.json";
  if (!fs::is_regular_file(path))
    throw std::runtime_error(folder_name + ": not a texture bank (no bank.json; `terrasynth textures` writes one)");
  const std::string where = path.string();
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) throw std::runtime_error(where + ": cannot read");
    text = buffer.str();
  }
  const BankManifest manifest = parse_bank_manifest(text, where);
  bank->class_weight = manifest.class_weight;
  for (const BankManifestStyle& entry : manifest.styles) {
    StyleBank styled;
    styled.gsd = entry.gsd;
    for (const BankManifestImage& image : entry.images) {
      const std::string rgb_path = (folder / image.rgb).string();
      const std::string classes_path = (folder / image.classes).string();
      int w = 0, h = 0, cw = 0, chh = 0;
      // Sizes first, so that a forged header cannot make the reader allocate gigabytes.
      probe_size(rgb_path, w, h);
      probe_size(classes_path, cw, chh);
      if (w < 16 || h < 16 || w > 4096 || h > 4096)
        throw std::runtime_error(rgb_path + ": texture photos must be 16 - 4096 pixels a side");
      if (cw != w || chh != h) throw std::runtime_error(classes_path + ": not the size of " + rgb_path);
      const std::vector<uint8_t> rgb = read_rgb(rgb_path, w, h);
      Example example;
      example.classes = read_grey(classes_path, cw, chh);
      if (cw != w || chh != h) throw std::runtime_error(classes_path + ": not the size of " + rgb_path);
      for (uint8_t id : example.classes)
        if (id >= num_classes)
          throw std::runtime_error(classes_path + ": class id " + std::to_string(id) + " is not one of the model's " +
                                   std::to_string(num_classes) + " classes");
      for (int c = 0; c < 3; ++c) {
        example.rgb[c] = Plane(w, h);
        for (size_t i = 0; i < example.classes.size(); ++i) example.rgb[c].data[i] = rgb[3 * i + c] / 255.f;
      }
      styled.examples.push_back(std::move(example));
    }
    if (!styled.examples.empty()) bank->styles[entry.name] = std::move(styled);
  }
  return bank;
}

// Nearest-neighbour resampling of a class map.
std::vector<uint8_t> resample_classes(const std::vector<uint8_t>& classes, int w, int h, int tw, int th) {
  std::vector<uint8_t> out(static_cast<size_t>(tw) * th);
  for (int y = 0; y < th; ++y) {
    const int sy = std::min(h - 1, static_cast<int>((y + 0.5) * h / th));
    for (int x = 0; x < tw; ++x) {
      const int sx = std::min(w - 1, static_cast<int>((x + 0.5) * w / tw));
      out[static_cast<size_t>(y) * tw + x] = classes[static_cast<size_t>(sy) * w + sx];
    }
  }
  return out;
}

}  // namespace

std::shared_ptr<const TextureBank> load_texture_bank(const std::string& folder, int num_classes) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const TextureBank>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = fs::weakly_canonical(folder).string() + "|" + std::to_string(num_classes);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto bank = read_bank(folder, num_classes);
  cache[key] = bank;
  return bank;
}

std::string texture_summary(const TextureBank& bank, const std::string& style, double gsd) {
  auto it = bank.styles.find(style);
  if (it == bank.styles.end()) return "";
  const double factor = gsd > 0 ? it->second.gsd / gsd : 1.0;
  if (factor > 2.0) return "";
  int usable = 0;
  for (const Example& e : it->second.examples)
    if (std::lround(e.rgb[0].width * factor) >= 32 && std::lround(e.rgb[0].height * factor) >= 32) ++usable;
  if (usable == 0) return "";
  std::ostringstream note;
  note << std::setprecision(3) << "patches of " << usable << " " << style << " photos";
  if (std::abs(factor - 1.0) > 0.01) note << " scaled by " << factor;
  return note.str();
}

std::optional<std::string> apply_texture(const TextureBank& bank, const std::string& style, double gsd,
                                         engine::Image& image, const engine::ClassMap& layout,
                                         const engine::Mask* mask, uint64_t seed,
                                         const std::function<bool()>& cancelled) {
  auto it = bank.styles.find(style);
  if (it == bank.styles.end() || image.channels != 3) return std::string();
  const StyleBank& styled = it->second;
  const double factor = gsd > 0 ? styled.gsd / gsd : 1.0;  // output pixels per photo pixel
  if (factor > 2.0) return std::string();
  const int w = image.width, h = image.height;
  const size_t n = static_cast<size_t>(w) * h;
  // At most kPixels pixels are rebuilt at full resolution; a larger image is worked on a
  // coarser grid (the step's search keeps about 70 bytes per pixel).
  constexpr double kPixels = 1.2e6;
  const double shrink = std::max(1.0, std::sqrt(static_cast<double>(n) / kPixels));
  const double photo_scale = factor / shrink;
  std::vector<Example> examples;
  for (const Example& e : styled.examples) {
    const int ew = e.rgb[0].width, eh = e.rgb[0].height;
    const int tw = static_cast<int>(std::lround(ew * photo_scale)), th = static_cast<int>(std::lround(eh * photo_scale));
    if (tw < 32 || th < 32) continue;
    Example scaled;
    for (int c = 0; c < 3; ++c) scaled.rgb[c] = resample(e.rgb[c], tw, th);
    scaled.classes = resample_classes(e.classes, ew, eh, tw, th);
    examples.push_back(std::move(scaled));
  }
  if (examples.empty()) return std::string();

  const int tw = std::max(1, static_cast<int>(std::lround(w / shrink)));
  const int th = std::max(1, static_cast<int>(std::lround(h / shrink)));
  std::array<Plane, 3> planes;
  for (int c = 0; c < 3; ++c) {
    Plane plane(w, h);
    for (size_t i = 0; i < n; ++i) plane.data[i] = std::clamp(image.data[c * n + i], 0.f, 1.f);
    planes[c] = shrink > 1 ? resample(plane, tw, th) : std::move(plane);
  }
  Plane soft(w, h, 1.f);
  if (mask && !mask->empty()) {
    if (mask->width != w || mask->height != h)
      throw std::invalid_argument("apply_texture: the mask and the image differ in size");
    soft.data = mask->data;
  }
  const Plane work_mask = shrink > 1 ? resample_max(soft, tw, th) : soft;
  std::vector<uint8_t> classes;
  if (!layout.empty() && layout.width == w && layout.height == h)
    classes = shrink > 1 ? resample_classes(layout.data, w, h, tw, th) : layout.data;

  TextureOptions options;
  options.seed = seed;
  options.class_weight = bank.class_weight;
  // Generated images have detail of their own (unlike the smooth guide of inpainting): matching
  // it from the first round keeps the tree crowns and shadows where the network put them. Small
  // patches and two rounds: about twice as fast as the inpainting settings, as good on the
  // validation pairs (docs/PIPELINES.md, "Texture bank").
  options.match_guide_detail = true;
  options.patch_radius = 2;
  options.iterations = 2;
  const double difference = texture_by_example(planes, work_mask, classes, examples, options, cancelled);
  if (cancelled && cancelled()) return std::nullopt;
  if (difference < 0) return std::string();
  for (int c = 0; c < 3; ++c) {
    const Plane back = shrink > 1 ? resample(planes[c], w, h) : planes[c];
    for (size_t i = 0; i < n; ++i)
      if (soft.data[i] > 0) image.data[c * n + i] = back.data[i];
  }
  std::ostringstream note;
  note << std::setprecision(3) << "patches of " << examples.size() << " " << style << " photos";
  if (std::abs(factor - 1.0) > 0.01) note << " scaled by " << factor;
  if (shrink > 1) note << ", at 1/" << shrink << " resolution";
  return note.str();
}

}  // namespace detail
}  // namespace terrasynth::pipeline
