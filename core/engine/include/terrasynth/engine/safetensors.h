#pragma once
// Torch-free view of weight files and model folders (inspection, validation, fuzzing).
// Every malformed input is an EngineError(ModelFormat) naming the file, the tensor where there
// is one, and the problem; the parsers never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace terrasynth::engine {

struct TensorInfo {
  std::string name;
  std::string dtype;  // safetensors names: "F32", "F16", "BF16", "I64", "I32", "U8", "BOOL", ...
  std::vector<int64_t> shape;
  uint64_t data_begin = 0;  // safetensors: byte offsets relative to the start of the data section
  uint64_t data_end = 0;    // (0 for .pth files, whose tensors live in separate storages)
  uint64_t element_count() const;
};

// Sum of the element counts.
uint64_t parameter_count(const std::vector<TensorInfo>& tensors);

struct SafetensorsInfo {
  std::string path;
  uint64_t file_size = 0;
  uint64_t header_size = 0;  // length of the JSON header; data start at 8 + header_size
  std::map<std::string, std::string> metadata;
  std::vector<TensorInfo> tensors;  // in file order (by data offset)
  uint64_t parameter_count() const;
  uint64_t data_offset() const { return 8 + header_size; }
};

// Parses and validates a whole file held in memory, with the reference implementation's rules:
// a header of at most 100 MB that is a UTF-8 JSON object starting with '{', known dtypes,
// non-negative shapes, tensors that tile the data section exactly (no gap, no overlap, no
// trailing bytes), each span matching its dtype and shape. Duplicate keys are refused too.
// Throws EngineError(ModelFormat) naming `label` (the file) and the problem.
SafetensorsInfo parse_safetensors(const uint8_t* data, size_t size, const std::string& label);
// Same, memory-mapping the file (EngineError(Io) when it cannot be read).
SafetensorsInfo inspect_safetensors(const std::string& path);

// Any weights file the engine reads: safetensors, or a PyTorch state dict saved by torch.save
// (.pth / .pt / .bin: a zip archive with data.pkl; read without executing any pickle code).
struct WeightsFileInfo {
  std::string path;
  std::string format;  // "safetensors" or "pth"
  uint64_t file_size = 0;
  std::map<std::string, std::string> metadata;  // safetensors __metadata__
  std::vector<TensorInfo> tensors;              // safetensors: file order; pth: pickle order
  uint64_t parameter_count() const;
};

// Chooses the reader by extension (.safetensors; .pth, .pt, .bin, .ckpt), else by content.
WeightsFileInfo inspect_weights_file(const std::string& path);

struct ComponentInfo {
  std::string name;        // "unet", "vae", ... (the folder name)
  std::string class_name;  // from config.json "_class_name"
  std::string weights;     // path of the weights file; empty when the component has none
  size_t tensors = 0;
  uint64_t parameters = 0;
  std::string dtype;  // dominant dtype by element count
};

struct ModelFolderInfo {
  std::string path;
  bool has_manifest = false;  // model.json present
  std::string name;           // model.json "name", else the folder name
  std::vector<ComponentInfo> components;
};

// A model package (model.json and component subfolders such as unet/, vae/, controlnet/), a
// diffusers pipeline folder, or a folder that is itself one component (config.json + weights).
// Throws EngineError(ModelFormat) for malformed configs or weights and when nothing is found.
ModelFolderInfo inspect_model_folder(const std::string& dir);

}  // namespace terrasynth::engine
