// libFuzzer target: the safetensors reader must refuse any malformed input with
// EngineError(ModelFormat) and never read out of bounds; what it accepts must be consistent
// (tensors tile the data section) and survive a rewrite of its header.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "terrasynth/engine/error.h"
#include "terrasynth/engine/safetensors.h"
#include "weights/safetensors_format.h"

using terrasynth::engine::EngineError;
using terrasynth::engine::SafetensorsInfo;
using terrasynth::engine::TensorInfo;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void check_round_trip(const SafetensorsInfo& info, const uint8_t* data, size_t size) {
  const uint64_t data_size = size - info.data_offset();
  uint64_t end = 0;
  for (const auto& tensor : info.tensors) {
    check(tensor.data_begin == end && tensor.data_end >= tensor.data_begin);
    end = tensor.data_end;
  }
  check(end == data_size);

  std::vector<TensorInfo> tensors = info.tensors;
  std::string rebuilt =
      terrasynth::engine::weights::build_safetensors_header(tensors, info.metadata);
  rebuilt.append(reinterpret_cast<const char*>(data + info.data_offset()), data_size);
  const SafetensorsInfo again = terrasynth::engine::parse_safetensors(
      reinterpret_cast<const uint8_t*>(rebuilt.data()), rebuilt.size(), "rebuilt");
  check(again.metadata == info.metadata);
  check(again.tensors.size() == info.tensors.size());
  for (size_t i = 0; i < info.tensors.size(); ++i) {
    check(again.tensors[i].name == info.tensors[i].name);
    check(again.tensors[i].dtype == info.tensors[i].dtype);
    check(again.tensors[i].shape == info.tensors[i].shape);
    check(again.tensors[i].data_begin == info.tensors[i].data_begin);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SafetensorsInfo info;
  try {
    info = terrasynth::engine::parse_safetensors(data, size, "fuzz.safetensors");
  } catch (const EngineError& error) {
    check(error.kind() == EngineError::Kind::ModelFormat);
    return 0;
  }
  check_round_trip(info, data, size);
  return 0;
}
