#include "train/train_support.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace fs = std::filesystem;

namespace terrasynth::engine::train_support {

void fail(const std::string& label, const std::string& problem) {
  throw EngineError(EngineError::Kind::InvalidArgument, label + ": " + problem);
}

std::string step_name(int step) {
  std::ostringstream name;
  name << "step_" << std::setw(7) << std::setfill('0') << step;
  return name.str();
}

std::string latest_checkpoint(const fs::path& dir) {
  std::string best;
  if (!fs::is_directory(dir)) return best;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && entry.path().extension() == ".safetensors" &&
        (best.empty() || name > fs::path(best).filename().string()))
      best = entry.path().string();
  }
  return best;
}

void prune_checkpoints(const fs::path& dir, size_t keep, const std::vector<std::string>& suffixes) {
  std::vector<fs::path> all;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind("step_", 0) == 0 && entry.path().extension() == ".safetensors")
      all.push_back(entry.path());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i + keep < all.size(); ++i) {
    const std::string stem = (all[i].parent_path() / all[i].stem()).string();
    fs::remove(all[i]);
    for (const auto& suffix : suffixes) fs::remove(stem + suffix);
  }
}

int checkpoint_step(const std::string& path) {
  const std::string name = fs::path(path).stem().string();
  try {
    if (name.rfind("step_", 0) == 0) return std::stoi(name.substr(5));
  } catch (const std::exception&) {
  }
  throw EngineError(EngineError::Kind::InvalidArgument, path + ": not a step_NNNNNNN checkpoint");
}

}  // namespace terrasynth::engine::train_support
