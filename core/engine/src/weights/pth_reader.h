#pragma once
// Reads PyTorch state dicts saved by torch.save (a zip archive holding data.pkl and one record
// per storage) without executing pickle code: a restricted unpickler knows the few globals a
// state dict uses (OrderedDict, tensor and parameter rebuilds, storage types) and treats any
// other object as opaque. Torch-free, so it can be fuzzed; the torch layer builds tensors from
// the result.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace terrasynth::engine::weights {

struct PthStorage {
  std::string key;    // record "data/<key>" in the archive
  std::string dtype;  // safetensors dtype name
  uint64_t element_count = 0;
  const uint8_t* data = nullptr;  // element_count * element size bytes inside the archive buffer
};

struct PthTensor {
  std::string name;  // key in the state dict; nested dicts are joined with '.'
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
  int64_t storage_offset = 0;  // in elements
  size_t storage = 0;          // index into PthArchive::storages
};

struct PthArchive {
  std::vector<PthTensor> tensors;  // in the pickle's order
  std::vector<PthStorage> storages;
};

// Parses and validates an archive held in memory: every tensor's view lies inside its storage
// and every storage record has the size its element count needs. Throws
// EngineError(ModelFormat) naming `label` and the problem.
PthArchive parse_pth(const uint8_t* data, size_t size, const std::string& label);

// True when the bytes start like a zip archive (a torch.save file rather than safetensors).
bool looks_like_zip(const uint8_t* data, size_t size);

}  // namespace terrasynth::engine::weights
