#pragma once
// The invariants every accepted .pth archive satisfies, shared by the .pth fuzz targets.
#include <cstdint>
#include <cstdlib>

#include "terrasynth/engine/error.h"
#include "weights/dtype.h"
#include "weights/pth_reader.h"

namespace terrasynth::fuzz {

inline void check(bool condition) {
  if (!condition) std::abort();
}

// Parses; malformed input must be EngineError(ModelFormat), accepted tensors lie in their storages.
inline void parse_and_check(const uint8_t* data, size_t size) {
  using engine::EngineError;
  engine::weights::PthArchive archive;
  try {
    archive = engine::weights::parse_pth(data, size, "fuzz.pth");
  } catch (const EngineError& error) {
    check(error.kind() == EngineError::Kind::ModelFormat);
    return;
  }
  for (const auto& tensor : archive.tensors) {
    check(tensor.storage < archive.storages.size());
    const auto& storage = archive.storages[tensor.storage];
    check(tensor.shape.size() == tensor.stride.size());
    bool empty = false;
    uint64_t last = static_cast<uint64_t>(tensor.storage_offset);
    for (size_t i = 0; i < tensor.shape.size(); ++i) {
      check(tensor.shape[i] >= 0 && tensor.stride[i] >= 0);
      if (tensor.shape[i] == 0)
        empty = true;
      else
        last +=
            static_cast<uint64_t>(tensor.shape[i] - 1) * static_cast<uint64_t>(tensor.stride[i]);
    }
    check(empty || last < storage.element_count);
    // Touch the first and last storage bytes so that ASan sees any out-of-range pointer.
    if (storage.element_count > 0) {
      const uint64_t bytes =
          storage.element_count * engine::weights::find_dtype(storage.dtype)->bytes;
      volatile uint8_t sink = storage.data[0];
      sink = storage.data[bytes - 1];
      (void)sink;
    }
  }
}

}  // namespace terrasynth::fuzz
