#include "terrasynth/pipeline/models.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "terrasynth/engine/error.h"
#include "terrasynth/version.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline {

namespace {
std::mutex g_mutex;
std::vector<std::string>& extra_folders() {
  static std::vector<std::string> folders;
  return folders;
}

std::string executable_dir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? std::string() : exe.parent_path().string();
}
}  // namespace

void add_model_folder(const std::string& folder) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& folders = extra_folders();
  if (std::find(folders.begin(), folders.end(), folder) == folders.end()) folders.push_back(folder);
}

std::vector<std::string> model_search_path() {
  std::vector<std::string> path;
  if (const char* env = std::getenv("TERRASYNTH_MODEL_PATH")) {
    std::stringstream stream(env);
    std::string item;
    while (std::getline(stream, item, ':'))
      if (!item.empty()) path.push_back(item);
  }
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (const auto& folder : extra_folders()) path.push_back(folder);
  }
  if (const char* home = std::getenv("HOME")) path.push_back(std::string(home) + "/.local/share/terrasynth/models");
  const std::string exe = executable_dir();
  if (!exe.empty()) path.push_back((fs::path(exe).parent_path() / "share" / "terrasynth" / "models").string());
  path.push_back((fs::path(TERRASYNTH_SOURCE_DIR) / "resources" / "models").string());
  std::vector<std::string> unique;
  for (const auto& p : path)
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  return unique;
}

std::string resolve_model(const std::string& name_or_dir) {
  const std::string name = name_or_dir.empty() ? kDefaultModelName : name_or_dir;
  const bool looks_like_path = name.find('/') != std::string::npos || name.rfind('.', 0) == 0;
  if (looks_like_path || fs::is_directory(name)) {
    if (!fs::is_directory(name)) throw std::runtime_error(name + ": model folder not found");
    if (!fs::exists(fs::path(name) / "model.json"))
      throw std::runtime_error(name + ": not a model folder (no model.json)");
    return fs::absolute(name).lexically_normal().string();
  }
  std::string searched;
  for (const auto& folder : model_search_path()) {
    const fs::path candidate = fs::path(folder) / name;
    if (fs::exists(candidate / "model.json")) return candidate.lexically_normal().string();
    searched += (searched.empty() ? "" : ", ") + folder;
  }
  std::string available;
  for (const auto& info : list_models()) available += (available.empty() ? "" : ", ") + info.name;
  throw std::runtime_error("model '" + name + "' not found (searched: " + searched + "; available: " +
                           (available.empty() ? "none" : available) + ")");
}

std::vector<engine::ModelInfo> list_models() {
  std::vector<engine::ModelInfo> models;
  for (const auto& folder : model_search_path()) {
    std::error_code error;
    if (!fs::is_directory(folder, error)) continue;
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(folder, error))
      if (entry.is_directory() && fs::exists(entry.path() / "model.json")) entries.push_back(entry.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& entry : entries) {
      try {
        engine::ModelInfo info = engine::read_model_info(entry.string());
        const bool shadowed = std::any_of(models.begin(), models.end(),
                                          [&](const engine::ModelInfo& m) { return m.name == info.name; });
        if (!shadowed) models.push_back(std::move(info));
      } catch (const std::exception&) {
        // A broken package is reported by `models inspect`, not by the listing.
      }
    }
  }
  return models;
}

}  // namespace terrasynth::pipeline
