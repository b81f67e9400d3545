#pragma once
// Finding the files shipped in resources/ (the OSM class mapping, ...): the folder named by
// TERRASYNTH_RESOURCE_DIR, then <binary>/../share/terrasynth/ next to the running program,
// then the source tree's resources/ (for builds that are not installed).
#include <string>
#include <vector>

namespace terrasynth::geo {

std::vector<std::string> resource_dirs();
// The first existing <dir>/<name>. Throws GeoError::NotFound listing the folders searched.
std::string resource_path(const std::string& name);

}  // namespace terrasynth::geo
