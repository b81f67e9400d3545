#pragma once
// A STAC Item (1.0.0, projection extension) describing one generated raster.
#include <string>
#include <utility>
#include <vector>

#include "terrasynth/geo/grid.h"

namespace terrasynth::pipeline::detail {

struct StacItem {
  std::string id;
  geo::Grid grid;        // the raster's grid (geometry, bbox and proj:* come from it)
  double gsd = 0;        // metres
  std::string datetime;  // ISO 8601 UTC
  std::string asset_href;
  bool cog = false;
  std::string title;
  std::vector<std::pair<std::string, std::string>> properties;  // become terrasynth:<key>
};

// The Item as JSON text.
std::string stac_item_json(const StacItem& item);
// Writes it atomically (a temporary file renamed into place).
void write_stac_item(const std::string& path, const StacItem& item);

}  // namespace terrasynth::pipeline::detail
