#pragma once
// Describing vector files (GeoJSON, GeoPackage, Shapefile, OSM .osm/.pbf, anything OGR reads).
#include <cstdint>
#include <string>
#include <vector>

#include "terrasynth/geo/grid.h"

namespace terrasynth::geo {

struct VectorLayerInfo {
  std::string path;
  std::string layer;
  std::string crs;               // WKT; empty when the layer has none
  Extent extent;                 // in `crs`; empty when the layer has no features
  long long feature_count = -1;  // -1 when counting would need a full scan (OSM)
  std::string geometry_type;     // "Polygon", "Line String", ...
  std::vector<std::string> fields;
};

// True for OpenStreetMap extracts (.osm, .pbf), decided by the extension.
bool is_osm_path(const std::string& path);
// Layer names of a vector file. Throws GeoError::NotFound / Io naming the file.
std::vector<std::string> list_layers(const std::string& path);
// One layer (empty name = the first). Throws GeoError::LayerNotFound listing the layers.
VectorLayerInfo read_vector_info(const std::string& path, const std::string& layer = "");

}  // namespace terrasynth::geo
