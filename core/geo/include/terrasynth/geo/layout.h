#pragma once
// Rasterising vector layouts onto a grid: class rasters (one class id per pixel) and polygon
// masks. Features are reprojected to the grid's CRS, lines (and points) are buffered to a width
// in metres, and where features overlap the class of higher priority wins (building > road >
// water > vegetation/bare/sand > other; within a class, smaller features on top of larger).
// The features overlapping the grid are loaded once; any window of the grid is then rendered on
// demand, so a 20000 x 20000 class raster is written window by window.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/control.h"
#include "terrasynth/geo/grid.h"
#include "terrasynth/geo/raster.h"

namespace terrasynth::geo {

struct LayoutSource {
  std::string path;
  // Vector files: the layer (empty = the first). OSM: empty = lines and multipolygons (and
  // points when the mapping has point rules), or one of GDAL's OSM layer names.
  std::string layer;
  // Vector files: the attribute with class names or ids. Empty: "class" when the layer has
  // such a field, else every feature is `default_class`.
  std::string class_field;
  std::string default_class = "building";
  // Vector files: width in metres lines are buffered to, or an attribute holding it.
  double line_width_m = 6.0;
  std::string width_field;
  // OSM: the tag mapping (JSON); empty = resources/osm_classes.json.
  std::string osm_mapping;

  bool is_osm() const;
};

struct RasterizeOptions {
  RasterizeOptions() { write.overview_resampling = Resampling::Nearest; }
  bool all_touched = false;  // burn every pixel a feature touches, not only centres inside
  int window_blocks = 2;     // windows of window_blocks x window_blocks tiles are rendered at once
  WriteOptions write;        // format, compression, tile size, overviews of the class raster
  // Extra paths the output must not replace (the layout file itself is always protected).
  std::vector<std::string> inputs;
};

struct LayoutStats {
  std::array<uint64_t, 256> class_pixels{};  // pixels per class id; [255] = unknown
  uint64_t features_used = 0;                // features burnt (overlapping the grid)
  uint64_t features_skipped = 0;             // no class, unmapped OSM tags, unsupported geometry
  std::vector<std::string> warnings;
};

class LayoutRasterizer {
 public:
  // Checks the file, layer, fields and mapping now (typed errors); reads nothing else yet.
  LayoutRasterizer(const LayoutSource& source, const Grid& grid,
                   const RasterizeOptions& options = {});
  ~LayoutRasterizer();
  LayoutRasterizer(LayoutRasterizer&&) noexcept;
  LayoutRasterizer& operator=(LayoutRasterizer&&) noexcept;

  // Reads, reprojects and buffers the features overlapping the grid.
  Status load(const Control& control = {});
  // Class ids of `window` of the grid (width * height values, kUnknownClass where no feature).
  // Thread-safe after load().
  std::vector<uint8_t> render(const Window& window) const;
  const LayoutStats& stats() const;  // features counted by load()
  const Grid& grid() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct RasterizeResult {
  Status status = Status::Ok;
  std::string output;
  Grid grid;
  LayoutStats stats;  // class_pixels counted over the written raster
};

// Writes the class raster of `source` on `grid` to `output` (UInt8, nodata 255, palette,
// category names, tiled GeoTIFF or COG), window by window. Atomic: a cancelled or failed call
// leaves no file.
RasterizeResult rasterize_layout(const LayoutSource& source, const Grid& grid,
                                 const std::string& output, const RasterizeOptions& options = {},
                                 const Control& control = {});

struct MaskOptions {
  std::string layer;        // empty = the first layer
  double grow_m = 0;        // grow (> 0) or shrink (< 0) the polygons by metres
  double line_width_m = 0;  // > 0: lines are buffered to this width, else ignored
  bool all_touched = false;
};

// The polygons of a vector file as a mask of a grid: 1 inside, 0 outside.
class PolygonMask {
 public:
  PolygonMask(const std::string& path, const Grid& grid, const MaskOptions& options = {});
  ~PolygonMask();
  Status load(const Control& control = {});
  std::vector<uint8_t> render(const Window& window) const;  // width * height values 0/1

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The whole-grid mask in one call (for grids that fit in memory).
std::vector<uint8_t> rasterize_mask(const std::string& path, const Grid& grid,
                                    const MaskOptions& options = {});

}  // namespace terrasynth::geo
