#pragma once
// Internal pieces of the safetensors format shared by the reader, the writers and the tests.
// Torch-free.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "terrasynth/engine/safetensors.h"

namespace terrasynth::engine::weights {

// The reference implementation refuses larger headers; so do we.
constexpr uint64_t kMaxSafetensorsHeaderSize = 100'000'000;

// Lays the tensors out one after the other in the given order (setting data_begin/data_end)
// and returns the complete header block: the 8-byte little-endian length followed by the JSON,
// padded with spaces to a multiple of 8 bytes so that the data section starts aligned.
// Throws EngineError(InvalidArgument) for an unknown dtype, a negative dimension, the reserved
// name "__metadata__" or a duplicate name.
std::string build_safetensors_header(std::vector<TensorInfo>& tensors,
                                     const std::map<std::string, std::string>& metadata);

// Orders tensors as the reference writer does: larger elements first (so every tensor stays
// aligned to its element size), otherwise keeping the given order. Returns indices.
std::vector<size_t> safetensors_write_order(const std::vector<TensorInfo>& tensors);

// Number of elements of a shape, or throws EngineError(ModelFormat) naming `what` on overflow.
uint64_t checked_element_count(const std::vector<int64_t>& shape, const std::string& what);

}  // namespace terrasynth::engine::weights
