#pragma once
// The land-cover class set shared by layouts, the OSM mapping and the default model, and the
// class raster format: UInt8, one class id per pixel, 255 = unknown / no feature (nodata),
// a colour table from the palette and the class names as category names.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "terrasynth/geo/raster.h"

namespace terrasynth::geo {

constexpr uint8_t kUnknownClass = 255;

// Ids are indices: other, building, road, vegetation, water, bare, sand.
const std::vector<std::string>& class_names();
const std::vector<std::array<uint8_t, 3>>& class_palette();
// Which class wins where features overlap (higher wins): building > road > water >
// vegetation = bare = sand > other.
int class_priority(uint8_t class_id);
// A class name (case-insensitive) or a numeric id. Throws GeoError::UnknownClass listing the
// valid names; `context` (e.g. "layout x.gpkg layer 'a' feature 3") starts the message.
uint8_t parse_class(const std::string& name_or_id, const std::string& context = "");
// "other, building, road, ..."
std::string class_list();

// The spec of a class raster on `grid`: 1 band UInt8, nodata 255, palette, category names.
RasterSpec class_raster_spec(const Grid& grid);

}  // namespace terrasynth::geo
