#include "terrasynth/pipeline/training.h"

#include <gdal_priv.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "terrasynth/engine/detail.h"
#include "terrasynth/engine/error.h"
#include "terrasynth/engine/segmenter.h"
#include "terrasynth/engine/train.h"
#include "terrasynth/pipeline/dataset.h"
#include "terrasynth/pipeline/evaluate.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the training configuration");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path resolve(const fs::path& base, const std::string& path) {
  fs::path p(path);
  return p.is_absolute() ? p : base / p;
}

std::unique_ptr<TrainingSampler> build_sampler(const nlohmann::json& data, const fs::path& base,
                                               const std::string& label, const JobControl& control,
                                               size_t& count, nlohmann::json& fingerprints) {
  if (!data.is_object() || !data.contains("sources") || !data["sources"].is_array() || data["sources"].empty())
    throw std::runtime_error(label + ": 'data.sources' must be a non-empty list");
  const fs::path root = resolve(base, data.value("root", std::string(".")));
  const Split split = parse_split(data.value("split", std::string("train")));
  const size_t limit = data.value("limit", 0);
  std::vector<TrainingSampler::Source> sources;
  count = 0;
  for (const auto& entry : data["sources"]) {
    const std::string dataset = entry.value("dataset", std::string());
    const fs::path dir = resolve(root, entry.value("path", dataset));
    LoadOptions options;
    options.split = split;
    options.limit = entry.value("limit", limit);
    options.cancel = control.cancel;
    if (control.progress)
      options.progress = [&](double f, const std::string& what) { control.progress(f * 0.01, what); };
    TrainingSampler::Source source;
    source.items = source_info(dataset).labelled ? load_pairs(dir.string(), dataset, options)
                                                 : load_scenes(dir.string(), options);
    if (source.items.empty()) throw std::runtime_error(dir.string() + ": no usable " + dataset + " items");
    source.weight = entry.value("weight", 1.0);
    source.scales = entry.value("scales", std::vector<int>{1});
    if (entry.value("labelled_only", false) && !source_info(dataset).labelled)
      throw std::runtime_error(label + ": dataset '" + dataset + "' has no labels");
    count += source.items.size();
    for (const auto& item : source.items) {
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx",
                    static_cast<unsigned long long>(file_fingerprint(item.image_path)));
      fingerprints[dataset][item.id] = hex;
    }
    sources.push_back(std::move(source));
  }
  return std::make_unique<TrainingSampler>(std::move(sources));
}

// What every trainer's report holds.
template <typename Report>
void take_report(const Report& report, TrainingResult& result) {
  result.cancelled = report.status == engine::Status::Cancelled;
  result.steps_done = report.steps_done;
  result.first_loss = report.first_loss;
  result.last_loss = report.last_loss;
  result.model_dir = report.model_dir;
  result.seconds = report.seconds;
}

engine::ProgressCallback engine_progress(const JobControl& control) {
  if (!control.progress) return {};
  return [&control](const engine::ProgressEvent& event) {
    std::ostringstream label;
    label << event.phase << " step " << event.step << "/" << event.total_steps;
    if (!event.message.empty()) label << " " << event.message;
    control.progress(event.fraction, label.str());
  };
}

}  // namespace

TrainingResult run_training(const std::string& config_path, const std::string& overrides_json,
                            const JobControl& control) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(read_text(config_path));
    if (!overrides_json.empty()) config.merge_patch(nlohmann::json::parse(overrides_json));
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(config_path + ": not valid JSON (" + std::string(error.what()) + ")");
  }
  const fs::path base = fs::absolute(fs::path(config_path)).parent_path();
  if (config.contains("output_dir") && config["output_dir"].is_string())
    config["output_dir"] = resolve(fs::current_path(), config["output_dir"].get<std::string>()).string();
  TrainingResult result;
  result.kind = config.value("kind", std::string("diffusion"));

  engine::CancelToken token;
  std::atomic<bool> stop_forwarding{false};
  // The engine takes a CancelToken; mirror the caller's flag into it from the progress path.
  auto progress = engine_progress(control);
  auto forward = [&](const engine::ProgressEvent& event) {
    if (control.cancel && control.cancel->load()) token.cancel();
    if (progress) progress(event);
  };

  size_t items = 0;
  nlohmann::json fingerprints = nlohmann::json::object();
  auto sampler = build_sampler(config.value("data", nlohmann::json()), base, config_path, control, items,
                               fingerprints);
  // Which files the model saw, so evaluation can leave them out whatever folder it is given.
  auto write_fingerprints = [&](const std::string& dir) {
    if (dir.empty()) return;
    fs::create_directories(dir);
    const fs::path path = fs::path(dir) / "training_items.json";
    const fs::path temporary = path.string() + ".tmp";
    std::ofstream(temporary) << fingerprints.dump() << '\n';
    fs::rename(temporary, path);
  };
  result.training_items = items;
  if (control.cancel && control.cancel->load()) {
    result.cancelled = true;
    return result;
  }

  if (result.kind == "segmenter") {
    engine::SegmenterTrainOptions options;
    options.output_dir = config.value("output_dir", std::string());
    if (options.output_dir.empty()) throw std::runtime_error(config_path + ": 'output_dir' is required");
    options.classes = config.value("classes", class_names());
    options.seed = config.value("seed", 0ULL);
    options.steps = config.value("steps", 2000);
    options.batch_size = config.value("batch_size", 16);
    options.crop = config.value("crop", 128);
    options.learning_rate = config.value("learning_rate", 1e-3);
    options.device.threads = config.value("threads", 0);
    take_report(engine::train_segmenter(options, *sampler, forward, &token), result);
    write_fingerprints(result.model_dir);
    return result;
  }
  if (result.kind != "diffusion" && result.kind != "detail")
    throw std::runtime_error(config_path + ": unknown training kind '" + result.kind +
                             "' (valid: diffusion, detail, segmenter)");

  fs::path samples_dir;
  auto on_samples = [&](int step, const engine::Image& grid) {
    fs::create_directories(samples_dir);
    std::ostringstream name;
    name << "step_" << std::setw(7) << std::setfill('0') << step << ".png";
    write_png((samples_dir / name.str()).string(), grid);
  };
  if (result.kind == "detail") {
    const engine::DetailTrainConfig detail_config = engine::parse_detail_train_config(config.dump(), config_path);
    samples_dir = fs::path(detail_config.output_dir) / "samples";
    auto report = engine::train_detail_decoder(detail_config, *sampler, forward, &token, on_samples);
    take_report(report, result);
    result.first_step = report.first_step;
    result.checkpoint = report.checkpoint;
    result.low_pass_error_before = report.low_pass_error_before;
    result.low_pass_error_after = report.low_pass_error_after;
    result.detail_ratio_before = report.detail_ratio_before;
    result.detail_ratio_after = report.detail_ratio_after;
    write_fingerprints(result.model_dir);
    return result;
  }

  engine::TrainConfig train_config = engine::parse_train_config(config.dump(), config_path);
  samples_dir = fs::path(train_config.output_dir) / "samples";
  auto report = engine::train(train_config, *sampler, forward, &token, on_samples);
  (void)stop_forwarding;
  take_report(report, result);
  result.first_step = report.first_step;
  result.checkpoint = report.checkpoint;
  result.fixed_loss_before = report.fixed_loss_before;
  result.fixed_loss_after = report.fixed_loss_after;
  write_fingerprints(result.model_dir);
  return result;
}

void write_png(const std::string& path, const engine::Image& image) {
  GDALAllRegister();
  if (image.channels != 3 && image.channels != 1)
    throw std::runtime_error(path + ": only 1- or 3-channel images can be written as PNG");
  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  GDALDriver* png = GetGDALDriverManager()->GetDriverByName("PNG");
  std::unique_ptr<GDALDataset, void (*)(GDALDataset*)> dataset(
      mem->Create("", image.width, image.height, image.channels, GDT_Byte, nullptr),
      [](GDALDataset* d) { GDALClose(d); });
  std::vector<uint8_t> plane(static_cast<size_t>(image.width) * image.height);
  for (int c = 0; c < image.channels; ++c) {
    for (size_t i = 0; i < plane.size(); ++i) {
      const float v = image.data[c * plane.size() + i];
      plane[i] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.f, 1.f) * 255.f));
    }
    if (dataset->GetRasterBand(c + 1)->RasterIO(GF_Write, 0, 0, image.width, image.height, plane.data(),
                                                image.width, image.height, GDT_Byte, 0, 0, nullptr) != CE_None)
      throw std::runtime_error(path + ": cannot fill the image");
  }
  const fs::path target(path);
  const fs::path temporary = target.parent_path() / ("." + target.filename().string() + ".tmp.png");
  GDALDataset* out = png->CreateCopy(temporary.string().c_str(), dataset.get(), FALSE, nullptr, nullptr, nullptr);
  if (!out) throw std::runtime_error(path + ": cannot write PNG (" + std::string(CPLGetLastErrorMsg()) + ")");
  GDALClose(out);
  fs::remove(temporary.string() + ".aux.xml");
  fs::rename(temporary, target);
}

engine::Image read_image(const std::string& path) {
  int width = 0, height = 0;
  const std::vector<uint8_t> rgb = read_rgb(path, width, height);
  engine::Image image(3, height, width);
  const size_t plane = static_cast<size_t>(width) * height;
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) image.data[c * plane + i] = rgb[3 * i + c] / 255.f;
  return image;
}

}  // namespace terrasynth::pipeline
