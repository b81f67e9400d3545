#pragma once
// What the trainers share: reading a training configuration's fields and naming, finding and
// pruning checkpoints.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::train_support {

// EngineError(InvalidArgument) "label: problem".
[[noreturn]] void fail(const std::string& label, const std::string& problem);

// Sets `value` from root[key] when present and not null; a value of the wrong type is an error.
template <typename T>
void read(const nlohmann::json& root, const char* key, T& value, const std::string& label) {
  if (!root.contains(key) || root.at(key).is_null()) return;
  try {
    value = root.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(label, std::string("'") + key + "' has the wrong type");
  }
}

// "step_0000042".
std::string step_name(int step);
// The newest step_*.safetensors in `dir` ("" when there is none).
std::string latest_checkpoint(const std::filesystem::path& dir);
// Removes all but the `keep` newest step_*.safetensors in `dir` with their companion files
// (the checkpoint's stem followed by each of `suffixes`).
void prune_checkpoints(const std::filesystem::path& dir, size_t keep, const std::vector<std::string>& suffixes);
// The step of a checkpoint file named step_NNNNNNN.safetensors.
int checkpoint_step(const std::string& path);

}  // namespace terrasynth::engine::train_support
