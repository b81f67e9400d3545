// Inspection of weight files of either format and of model folders. Torch-free.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "terrasynth/engine/error.h"
#include "terrasynth/engine/safetensors.h"
#include "weights/dtype.h"
#include "weights/file_io.h"
#include "weights/pth_reader.h"

namespace terrasynth::engine {

namespace {

namespace fs = std::filesystem;

// Weight file names in the order diffusers prefers them.
const char* const kWeightNames[] = {
    "diffusion_pytorch_model.safetensors",
    "model.safetensors",
    "diffusion_pytorch_model.fp16.safetensors",
    "model.fp16.safetensors",
    "diffusion_pytorch_model.bin",
    "pytorch_model.bin",
};

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw EngineError(EngineError::Kind::Io, path.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json document = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded())
    throw EngineError(EngineError::Kind::ModelFormat, path.string() + ": not valid JSON");
  if (!document.is_object())
    throw EngineError(EngineError::Kind::ModelFormat, path.string() + ": not a JSON object");
  return document;
}

std::string string_field(const nlohmann::json& document, const char* key) {
  const auto it = document.find(key);
  return it != document.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The weights file of a component folder, or an empty path.
fs::path find_weights(const fs::path& dir) {
  for (const char* name : kWeightNames)
    if (fs::is_regular_file(dir / name)) return dir / name;
  std::vector<fs::path> candidates;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() &&
        (extension == ".safetensors" || extension == ".pth" || extension == ".pt"))
      candidates.push_back(entry.path());
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates.empty() ? fs::path() : candidates.front();
}

std::string dominant_dtype(const std::vector<TensorInfo>& tensors) {
  std::map<std::string, uint64_t> counts;
  for (const auto& tensor : tensors) counts[tensor.dtype] += tensor.element_count();
  std::string best;
  uint64_t most = 0;
  for (const auto& [dtype, count] : counts)
    if (best.empty() || count > most) {
      best = dtype;
      most = count;
    }
  return best;
}

// A component folder holds config.json (or a scheduler's scheduler_config.json).
bool is_component(const fs::path& dir) {
  return fs::is_regular_file(dir / "config.json") ||
         fs::is_regular_file(dir / "scheduler_config.json");
}

ComponentInfo inspect_component(const fs::path& dir, const std::string& name) {
  ComponentInfo component;
  component.name = name;
  const fs::path config = fs::is_regular_file(dir / "config.json") ? dir / "config.json"
                                                                   : dir / "scheduler_config.json";
  component.class_name = string_field(read_json(config), "_class_name");
  const fs::path weights = find_weights(dir);
  if (!weights.empty()) {
    const WeightsFileInfo info = inspect_weights_file(weights.string());
    component.weights = weights.string();
    component.tensors = info.tensors.size();
    component.parameters = info.parameter_count();
    component.dtype = dominant_dtype(info.tensors);
  }
  return component;
}

}  // namespace

uint64_t WeightsFileInfo::parameter_count() const {
  return engine::parameter_count(tensors);
}

WeightsFileInfo inspect_weights_file(const std::string& path) {
  const auto file = weights::MappedFile::open(path);
  WeightsFileInfo info;
  info.path = path;
  info.file_size = file->size();
  const std::string extension = fs::path(path).extension().string();
  const bool pth =
      extension == ".pth" || extension == ".pt" || extension == ".bin" || extension == ".ckpt" ||
      (extension != ".safetensors" && weights::looks_like_zip(file->data(), file->size()));
  if (pth) {
    info.format = "pth";
    const weights::PthArchive archive = weights::parse_pth(file->data(), file->size(), path);
    for (const auto& tensor : archive.tensors) {
      TensorInfo entry;
      entry.name = tensor.name;
      entry.dtype = tensor.dtype;
      entry.shape = tensor.shape;
      info.tensors.push_back(std::move(entry));
    }
    return info;
  }
  SafetensorsInfo safetensors = parse_safetensors(file->data(), file->size(), path);
  info.format = "safetensors";
  info.metadata = std::move(safetensors.metadata);
  info.tensors = std::move(safetensors.tensors);
  return info;
}

ModelFolderInfo inspect_model_folder(const std::string& dir) {
  const fs::path root(dir);
  if (!fs::is_directory(root)) throw EngineError(EngineError::Kind::Io, dir + ": not a folder");
  ModelFolderInfo info;
  info.path = dir;
  info.name =
      root.filename().empty() ? root.parent_path().filename().string() : root.filename().string();
  if (fs::is_regular_file(root / "model.json")) {
    info.has_manifest = true;
    const std::string name = string_field(read_json(root / "model.json"), "name");
    if (!name.empty()) info.name = name;
  }

  if (is_component(root) && !find_weights(root).empty()) {
    info.components.push_back(inspect_component(root, info.name));
    return info;
  }
  std::vector<fs::path> folders;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error))
    if (entry.is_directory() && is_component(entry.path())) folders.push_back(entry.path());
  if (error)
    throw EngineError(EngineError::Kind::Io, dir + ": cannot list (" + error.message() + ")");
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders)
    info.components.push_back(inspect_component(folder, folder.filename().string()));
  if (info.components.empty() && !info.has_manifest)
    throw EngineError(EngineError::Kind::ModelFormat,
                      dir +
                          ": no model components (a config.json with weights here or in "
                          "subfolders such as unet/ or vae/) and no model.json");
  return info;
}

}  // namespace terrasynth::engine
