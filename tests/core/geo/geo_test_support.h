#pragma once
// Shared helpers of the geo tests: fixture paths and self-removing temporary folders.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "terrasynth/geo/error.h"
#include "terrasynth/test_paths.h"

namespace terrasynth::geo::testing {

inline std::string fixture(const std::string& relative) {
  return std::string(TERRASYNTH_TEST_SHARED_DIR) + "/fixtures/" + relative;
}

inline const std::string kSpacenetRaster = fixture("rasters/spacenet_atlanta_pan_utm16n_0.5m.tif");
inline const std::string kSpacenetBuildings = fixture("vectors/spacenet_atlanta_buildings.geojson");
inline const std::string kLiechtenstein = fixture("vectors/liechtenstein-2013-08-03.osm.pbf");
inline const std::string kDroneRaster = fixture("rasters/drone_orthophoto_rgba_utm33n_2cm.tif");
inline const std::string kDroneArea = fixture("vectors/drone_orthophoto_area.gpkg");
inline const std::string kLandsat = fixture("rasters/landsat7_rgb_utm18n_300m.tif");
inline const std::string kNaip = fixture("rasters/naip_rgbn_utm14n_5m_20090818.tif");
inline const std::string kAlexandria = fixture("vectors/alexandria_va_buildings_wgs84.geojson");

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "terrasynth-geo-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    return names;
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }

 private:
  std::string path_;
};

// Runs `body` and returns the GeoError it throws (fails the test when it throws nothing).
template <class Body>
GeoError expect_geo_error(Body&& body, GeoError::Kind kind) {
  try {
    body();
  } catch (const GeoError& error) {
    EXPECT_EQ(static_cast<int>(error.kind()), static_cast<int>(kind)) << error.what();
    return error;
  }
  ADD_FAILURE() << "expected a GeoError";
  return GeoError(kind, "");
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace terrasynth::geo::testing
