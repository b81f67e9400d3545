#include "terrasynth/geo/resources.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "terrasynth/geo/error.h"
#include "terrasynth/version.h"

namespace terrasynth::geo {

namespace fs = std::filesystem;

std::vector<std::string> resource_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TERRASYNTH_RESOURCE_DIR"); env && *env) dirs.emplace_back(env);
  char buffer[4096];
  const ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (length > 0) {
    buffer[length] = '\0';
    dirs.push_back(
        (fs::path(buffer).parent_path().parent_path() / "share" / "terrasynth").string());
  }
  dirs.push_back((fs::path(TERRASYNTH_SOURCE_DIR) / "resources").string());
  return dirs;
}

std::string resource_path(const std::string& name) {
  std::string searched;
  std::error_code error;
  for (const auto& dir : resource_dirs()) {
    const fs::path candidate = fs::path(dir) / name;
    if (fs::is_regular_file(candidate, error)) return candidate.string();
    searched += (searched.empty() ? "" : ", ") + dir;
  }
  throw GeoError(GeoError::Kind::NotFound,
                 "resource " + name + " not found (searched " + searched +
                     "; set TERRASYNTH_RESOURCE_DIR to the folder holding it)");
}

}  // namespace terrasynth::geo
