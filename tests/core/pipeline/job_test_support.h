#pragma once
// Shared helpers of the generation and inpainting tests: the tiny model, fixture paths,
// temporary folders, small vector files and whole-raster reads.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "terrasynth/geo/raster.h"
#include "terrasynth/pipeline/jobs.h"
#include "terrasynth/test_paths.h"

namespace terrasynth::pipeline::testing {

// Trained by the tiny_model ctest fixture (tests/core/pipeline/CMakeLists.txt).
inline const std::string kTinyModel = TERRASYNTH_TINY_MODEL_DIR;

inline std::string fixture(const std::string& relative) {
  return std::string(TERRASYNTH_TEST_SHARED_DIR) + "/fixtures/" + relative;
}

inline const std::string kDroneRaster = fixture("rasters/drone_orthophoto_rgba_utm33n_2cm.tif");
inline const std::string kDroneArea = fixture("vectors/drone_orthophoto_area.gpkg");
inline const std::string kNaip = fixture("rasters/naip_rgbn_utm14n_5m_20090818.tif");
inline const std::string kSpacenetRaster = fixture("rasters/spacenet_atlanta_pan_utm16n_0.5m.tif");
inline const std::string kRotterdam = fixture("rasters/rotterdam_rgb_utm31n_4.5m.tif");
inline const std::string kLiechtenstein = fixture("vectors/liechtenstein-2013-08-03.osm.pbf");

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "terrasynth-jobs-test-XXXXXX").string();
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

// A GeoJSON FeatureCollection of polygons (rings of x, y) in `epsg`, each with a "class".
struct TestPolygon {
  std::vector<std::array<double, 2>> ring;
  std::string klass;  // written as a string (a name) or, when all digits, as a number
};
inline std::string geojson(const std::vector<TestPolygon>& polygons, int epsg) {
  std::string text = "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
                     "{\"name\":\"urn:ogc:def:crs:EPSG::" +
                     std::to_string(epsg) + "\"}},\"features\":[";
  for (size_t i = 0; i < polygons.size(); ++i) {
    const auto& polygon = polygons[i];
    const bool number = !polygon.klass.empty() &&
                        polygon.klass.find_first_not_of("0123456789") == std::string::npos;
    text += std::string(i ? "," : "") + "{\"type\":\"Feature\",\"properties\":{\"class\":" +
            (number ? polygon.klass : "\"" + polygon.klass + "\"") +
            "},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[";
    auto ring = polygon.ring;
    ring.push_back(ring.front());
    for (size_t j = 0; j < ring.size(); ++j)
      text += std::string(j ? "," : "") + "[" + std::to_string(ring[j][0]) + "," +
              std::to_string(ring[j][1]) + "]";
    text += "]]}}";
  }
  return text + "]}";
}

// A rectangle of w x h centred on (cx, cy), rotated by `degrees` (an oriented object box).
inline std::vector<std::array<double, 2>> rotated_box(double cx, double cy, double w, double h,
                                                      double degrees) {
  const double a = degrees * 3.14159265358979 / 180, c = std::cos(a), s = std::sin(a);
  std::vector<std::array<double, 2>> ring;
  for (auto [u, v] : std::vector<std::array<double, 2>>{
           {-w / 2, -h / 2}, {w / 2, -h / 2}, {w / 2, h / 2}, {-w / 2, h / 2}})
    ring.push_back({cx + u * c - v * s, cy + u * s + v * c});
  return ring;
}

// Every pixel of every band, as doubles, pixel-interleaved.
inline std::vector<double> read_all(const std::string& path) {
  const geo::RasterReader reader(path);
  const auto& info = reader.info();
  std::vector<double> values(static_cast<size_t>(info.grid.width) * info.grid.height * info.bands);
  reader.read(info.grid.full_window(), geo::DataType::Float64, values.data());
  return values;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline bool any_contains(const std::vector<std::string>& texts, const std::string& part) {
  for (const auto& text : texts)
    if (contains(text, part)) return true;
  return false;
}

// A small, fast generation request on the tiny model: 2 steps, small windows.
inline GenerateJob tiny_job(const std::string& output) {
  GenerateJob job;
  job.model = kTinyModel;
  job.sampling.steps = 2;
  job.sampling.seed = 7;
  job.tiles.tile = 64;
  job.tiles.overlap = 16;
  job.device.device = "cpu";
  job.device.threads = 1;  // the tiny model gains nothing from more; shared machines lose
  job.output = output;
  return job;
}

inline InpaintJob tiny_inpaint(const std::string& raster, const std::string& mask,
                               const std::string& output) {
  InpaintJob job;
  job.raster = raster;
  job.mask_path = mask;
  job.model = kTinyModel;
  job.sampling.steps = 2;
  job.sampling.seed = 3;
  job.tiles.tile = 64;
  job.tiles.overlap = 16;
  job.device.device = "cpu";
  job.device.threads = 1;  // the tiny model gains nothing from more; shared machines lose
  job.output = output;
  return job;
}

}  // namespace terrasynth::pipeline::testing
