#include "stac.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "terrasynth/geo/crs.h"
#include "terrasynth/geo/error.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline::detail {

namespace {

// The raster's outline (edges followed with a few points each) in longitude/latitude.
std::vector<geo::Point> footprint_wgs84(const geo::Grid& grid) {
  constexpr int kPointsPerEdge = 8;
  std::vector<geo::Point> ring;
  const double w = grid.width, h = grid.height;
  auto edge = [&](double c0, double r0, double c1, double r1) {
    for (int i = 0; i < kPointsPerEdge; ++i) {
      const double t = static_cast<double>(i) / kPointsPerEdge;
      ring.push_back(grid.pixel_to_world(c0 + (c1 - c0) * t, r0 + (r1 - r0) * t));
    }
  };
  // Counter-clockwise on the ground (GeoJSON's right-hand rule): down the left edge first.
  edge(0, 0, 0, h);
  edge(0, h, w, h);
  edge(w, h, w, 0);
  edge(w, 0, 0, 0);
  ring = geo::transform_points(ring, grid.crs, "EPSG:4326");
  ring.push_back(ring.front());
  return ring;
}

}  // namespace

std::string stac_item_json(const StacItem& item) {
  nlohmann::json properties = nlohmann::json::object();
  properties["datetime"] = item.datetime;
  properties["created"] = item.datetime;
  if (!item.title.empty()) properties["title"] = item.title;
  if (item.gsd > 0) properties["gsd"] = item.gsd;
  properties["proj:epsg"] = nullptr;
  if (!item.grid.crs.empty()) {
    if (auto code = geo::crs_authority_code(item.grid.crs); code && code->rfind("EPSG:", 0) == 0)
      properties["proj:epsg"] = std::atoi(code->c_str() + 5);
    properties["proj:wkt2"] = item.grid.crs;
  }
  properties["proj:shape"] = {item.grid.height, item.grid.width};
  if (!item.grid.crs.empty()) {
    const auto& gt = item.grid.geotransform;
    properties["proj:transform"] = {gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]};
  }
  properties["terrasynth:synthetic"] = true;
  for (const auto& [key, value] : item.properties) properties["terrasynth:" + key] = value;

  nlohmann::json document;
  document["type"] = "Feature";
  document["stac_version"] = "1.0.0";
  document["stac_extensions"] = {"https://stac-extensions.github.io/projection/v1.1.0/schema.json"};
  document["id"] = item.id;
  if (item.grid.crs.empty()) {
    document["geometry"] = nullptr;  // no georeferencing: no place on Earth
  } else {
    const auto ring = footprint_wgs84(item.grid);
    double xmin = std::numeric_limits<double>::max(), ymin = xmin;
    double xmax = std::numeric_limits<double>::lowest(), ymax = xmax;
    nlohmann::json coordinates = nlohmann::json::array();
    for (const auto& p : ring) {
      coordinates.push_back({p[0], p[1]});
      xmin = std::min(xmin, p[0]);
      xmax = std::max(xmax, p[0]);
      ymin = std::min(ymin, p[1]);
      ymax = std::max(ymax, p[1]);
    }
    document["geometry"] = {{"type", "Polygon"}, {"coordinates", {coordinates}}};
    document["bbox"] = {xmin, ymin, xmax, ymax};
  }
  document["properties"] = properties;
  document["links"] = nlohmann::json::array();
  document["assets"] = {
      {"image",
       {{"href", item.asset_href},
        {"type", item.cog ? "image/tiff; application=geotiff; profile=cloud-optimized"
                          : "image/tiff; application=geotiff"},
        {"title", "Synthetic RGB image"},
        {"roles", {"data"}}}}};
  return document.dump(2);
}

void write_stac_item(const std::string& path, const StacItem& item) {
  const std::string text = stac_item_json(item);
  const std::string temporary = path + ".tmp-" + std::to_string(static_cast<long>(getpid()));
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text << "\n";
    file.close();
    if (!file) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      throw geo::GeoError(geo::GeoError::Kind::Unwritable, "cannot write STAC item " + path);
    }
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    fs::remove(temporary, error);
    throw geo::GeoError(geo::GeoError::Kind::Unwritable,
                        "cannot move STAC item " + path + " into place: " + error.message());
  }
}

}  // namespace terrasynth::pipeline::detail
