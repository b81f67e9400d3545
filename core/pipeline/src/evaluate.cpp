#include "terrasynth/pipeline/evaluate.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "terrasynth/engine/model.h"
#include "terrasynth/engine/segmenter.h"
#include "terrasynth/pipeline/dataset.h"
#include "terrasynth/pipeline/models.h"
#include "terrasynth/pipeline/training.h"
#include "texture_step.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline {

uint64_t file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read");
  uint64_t hash = 1469598103934665603ULL;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash ^= static_cast<unsigned char>(buffer[i]);
      hash *= 1099511628211ULL;
    }
  }
  return hash;
}

namespace {

// Training fingerprints of a model: source -> id -> file hash.
std::map<std::string, std::map<std::string, uint64_t>> training_items(const std::string& model_dir) {
  std::map<std::string, std::map<std::string, uint64_t>> out;
  std::ifstream in(fs::path(model_dir) / "training_items.json");
  if (!in) return out;
  nlohmann::json doc;
  in >> doc;
  for (auto& [source, items] : doc.items())
    for (auto& [id, hash] : items.items()) out[source][id] = std::stoull(hash.get<std::string>(), nullptr, 16);
  return out;
}

engine::Image centre_crop(const DatasetItem& item, int size, engine::ClassMap& classes) {
  const int x0 = std::max(0, (item.width - size) / 2), y0 = std::max(0, (item.height - size) / 2);
  engine::Image image(3, size, size);
  classes = engine::ClassMap(size, size);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const size_t p = static_cast<size_t>(y0 + y) * item.width + (x0 + x);
      for (int c = 0; c < 3; ++c) image.at(c, y, x) = item.rgb[3 * p + c] / 255.f;
      classes.at(y, x) = item.classes[p];
    }
  return image;
}

engine::Image colourise(const engine::ClassMap& map, const std::vector<std::array<uint8_t, 3>>& palette) {
  engine::Image image(3, map.height, map.width);
  for (int y = 0; y < map.height; ++y)
    for (int x = 0; x < map.width; ++x) {
      const uint8_t id = map.at(y, x);
      const std::array<uint8_t, 3> colour = id < palette.size() ? palette[id] : std::array<uint8_t, 3>{0, 0, 0};
      for (int c = 0; c < 3; ++c) image.at(c, y, x) = colour[c] / 255.f;
    }
  return image;
}

void paste(engine::Image& canvas, const engine::Image& tile, int x0, int y0) {
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < tile.height; ++y)
      for (int x = 0; x < tile.width; ++x) canvas.at(c, y0 + y, x0 + x) = tile.at(c, y, x);
}

}  // namespace

EvaluateReport run_evaluate(const EvaluateOptions& options, const JobControl& control) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  EvaluateReport report;
  const SourceInfo& source = source_info(options.dataset);
  if (!source.labelled)
    throw std::runtime_error("dataset '" + options.dataset + "' has no labels: evaluation needs label pairs");
  if (options.size <= 0 || options.size % 32 != 0)
    throw std::runtime_error("evaluation size must be a positive multiple of 32");
  const std::string model_dir = resolve_model(options.model);
  engine::DeviceOptions device;
  device.device = engine::parse_device_kind(options.device.device);
  device.threads = options.device.threads;
  auto model = engine::Model::load(model_dir, device);
  const engine::ModelInfo& info = model->info();
  const std::string segmenter_dir =
      options.segmenter.empty() ? (fs::path(model_dir) / "eval").string() : options.segmenter;
  auto segmenter = engine::Segmenter::load(segmenter_dir, device);
  if (segmenter->classes() != info.classes)
    throw std::runtime_error(segmenter_dir + ": the segmenter's classes differ from the model's");

  report.model = info.name;
  report.dataset = options.dataset;
  report.pairs = options.pairs;
  report.classes = info.classes;

  LoadOptions load;
  load.split = Split::All;
  load.cancel = control.cancel;
  std::vector<DatasetItem> items = load_pairs(options.pairs, options.dataset, load);
  report.pairs_found = items.size();
  const auto trained = training_items(model_dir);
  auto trained_source = trained.find(options.dataset);
  std::vector<DatasetItem> kept;
  for (auto& item : items) {
    if (item.width < options.size || item.height < options.size) continue;
    if (trained_source != trained.end()) {
      auto it = trained_source->second.find(item.id);
      if (it != trained_source->second.end() && it->second == file_fingerprint(item.image_path)) {
        ++report.skipped_training;
        continue;
      }
    }
    kept.push_back(std::move(item));
    if (options.limit && kept.size() >= options.limit) break;
  }
  if (kept.size() < 4)
    throw std::runtime_error(options.pairs + ": only " + std::to_string(kept.size()) +
                             " usable pairs not seen in training (need at least 4)");

  const int style = style_index(options.dataset);
  std::shared_ptr<const detail::TextureBank> bank;
  if (!options.sampling.texture_bank.empty())
    bank = detail::load_texture_bank(options.sampling.texture_bank, static_cast<int>(info.classes.size()));
  std::vector<engine::Image> real, generated;
  std::vector<engine::ClassMap> layouts;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (control.cancel && control.cancel->load()) {
      report.cancelled = true;
      return report;
    }
    engine::ClassMap layout;
    real.push_back(centre_crop(kept[i], options.size, layout));
    engine::GenerateRequest request;
    request.width = request.height = options.size;
    request.layout = layout;
    request.style = (style >= 0 && std::find(info.styles.begin(), info.styles.end(), options.dataset) != info.styles.end())
                        ? options.dataset
                        : std::string();
    request.gsd = source.gsd;
    request.sampler.name = options.sampling.sampler;
    request.sampler.steps = options.sampling.steps;
    request.sampler.guidance = options.sampling.guidance;
    request.sampler.refiner = options.sampling.refiner;
    request.sampler.detail = options.sampling.detail;
    request.sampler.chroma_smoothing = options.sampling.chroma_smoothing;
    request.sampler.eta = options.sampling.eta;
    request.sampler.coarse_guidance = options.sampling.coarse_guidance;
    request.sampler.coarse_guidance_sigma = options.sampling.coarse_guidance_sigma;
    request.sampler.seed = options.seed + i;
    engine::CancelToken token;
    auto result = model->generate(request, {}, &token);
    if (bank) {
      const std::string used_style = request.style.empty() ? info.default_style : request.style;
      const auto note = detail::apply_texture(*bank, used_style, request.gsd, result.image, layout, nullptr,
                                              request.sampler.seed, [&] { return control.cancel && control.cancel->load(); });
      if (!note) {
        report.cancelled = true;
        return report;
      }
      if (i == 0) {
        report.texture = note->empty() ? "none" : *note;
        if (note->empty() && control.warning)
          control.warning(options.sampling.texture_bank + ": no photos of style '" + used_style +
                          "' usable at this GSD: the texture step does nothing");
      }
    }
    generated.push_back(std::move(result.image));
    layouts.push_back(std::move(layout));
    if (control.progress)
      control.progress(double(i + 1) / kept.size(), "generating " + std::to_string(i + 1) + "/" + std::to_string(kept.size()));
  }
  report.evaluated = kept.size();

  const int num_classes = static_cast<int>(info.classes.size());
  const auto iou_generated = engine::mean_iou(segmenter->predict(generated), layouts, num_classes);
  const auto iou_real = engine::mean_iou(segmenter->predict(real), layouts, num_classes);
  report.miou_generated = iou_generated.mean_iou;
  report.miou_real = iou_real.mean_iou;
  report.fidelity_ratio = report.miou_real > 0 ? report.miou_generated / report.miou_real : 0.0;
  report.iou_generated_per_class = iou_generated.per_class;
  report.iou_real_per_class = iou_real.per_class;

  const auto real_features = segmenter->features(real);
  const auto generated_features = segmenter->features(generated);
  report.kid = engine::kernel_distance(generated_features, real_features, 50, 0, options.seed);
  std::vector<std::vector<float>> half_a, half_b;
  for (size_t i = 0; i < real_features.size(); ++i) (i % 2 ? half_b : half_a).push_back(real_features[i]);
  report.kid_real_baseline = engine::kernel_distance(half_a, half_b, 50, 0, options.seed);

  if (!options.gallery.empty()) {
    const int rows = std::min<int>(options.gallery_rows, static_cast<int>(kept.size()));
    const int gap = 4, size = options.size;
    engine::Image canvas(3, rows * (size + gap) - gap, 3 * (size + gap) - gap, 1.f);
    for (int r = 0; r < rows; ++r) {
      paste(canvas, colourise(layouts[r], info.palette), 0, r * (size + gap));
      paste(canvas, real[r], size + gap, r * (size + gap));
      paste(canvas, generated[r], 2 * (size + gap), r * (size + gap));
    }
    write_png(options.gallery, canvas);
    report.gallery = options.gallery;
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  report.seconds_per_image = report.seconds / std::max<size_t>(1, report.evaluated);
  return report;
}

}  // namespace terrasynth::pipeline
