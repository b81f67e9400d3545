#pragma once
// Torch-free view of safetensors files and model folders (inspection, validation, fuzzing).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace terrasynth::engine {

struct TensorInfo {
  std::string name;
  std::string dtype;            // "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;
  uint64_t data_begin = 0;      // byte offsets relative to the start of the data section
  uint64_t data_end = 0;
};

struct SafetensorsInfo {
  std::string path;
  uint64_t file_size = 0;
  uint64_t header_size = 0;
  std::map<std::string, std::string> metadata;
  std::vector<TensorInfo> tensors;  // in file order (by data offset)
  uint64_t parameter_count() const;
};

// Parses and validates a whole file in memory. Throws EngineError(ModelFormat) naming `label`
// and the problem for any malformed input; never reads out of bounds.
SafetensorsInfo parse_safetensors(const uint8_t* data, size_t size, const std::string& label);
// Same, memory-mapping the file.
SafetensorsInfo inspect_safetensors(const std::string& path);

struct ComponentInfo {
  std::string name;        // "unet", "vae", ...
  std::string class_name;  // from config.json "_class_name"
  std::string weights;     // path of the weights file
  size_t tensors = 0;
  uint64_t parameters = 0;
  std::string dtype;       // dominant dtype
};

struct ModelFolderInfo {
  std::string path;
  bool has_manifest = false;  // model.json present
  std::string name;
  std::vector<ComponentInfo> components;
};

ModelFolderInfo inspect_model_folder(const std::string& dir);

}  // namespace terrasynth::engine
