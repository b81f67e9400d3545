#pragma once
// Pixel grids: a CRS, a north-up geotransform and a size. Extents, windows, snapping, extent
// transformation with densified edges, the local metric CRS and the ground resolution.
#include <array>
#include <string>
#include <vector>

#include "terrasynth/geo/crs.h"

namespace terrasynth::geo {

struct Extent {
  double xmin = 0, ymin = 0, xmax = 0, ymax = 0;

  double width() const { return xmax - xmin; }
  double height() const { return ymax - ymin; }
  bool is_empty() const { return !(xmax > xmin) || !(ymax > ymin); }
  bool intersects(const Extent& other) const {
    return xmin < other.xmax && other.xmin < xmax && ymin < other.ymax && other.ymin < ymax;
  }
  Extent intersection(const Extent& other) const;
  Extent grown(double margin) const {
    return {xmin - margin, ymin - margin, xmax + margin, ymax + margin};
  }
  bool operator==(const Extent& o) const {
    return xmin == o.xmin && ymin == o.ymin && xmax == o.xmax && ymax == o.ymax;
  }
};

// Builds an extent from "x1,y1,x2,y2" corner values as a user gave them. Throws
// GeoError::BadExtent when x2 <= x1 or y2 <= y1 (empty or inverted), or a value is not finite.
Extent extent_from_corners(double x1, double y1, double x2, double y2);

// A rectangle of pixels: column x, row y, size width x height.
struct Window {
  int x = 0, y = 0, width = 0, height = 0;

  long long pixels() const { return static_cast<long long>(width) * height; }
  bool is_empty() const { return width <= 0 || height <= 0; }
  bool operator==(const Window& o) const {
    return x == o.x && y == o.y && width == o.width && height == o.height;
  }
};

struct Grid {
  std::string crs;  // WKT; empty when the raster has no georeferencing
  // GDAL geotransform: x = gt[0] + col*gt[1] + row*gt[2], y = gt[3] + col*gt[4] + row*gt[5].
  std::array<double, 6> geotransform{0, 1, 0, 0, 0, -1};
  int width = 0;
  int height = 0;

  double pixel_width() const { return geotransform[1]; }
  double pixel_height() const { return -geotransform[5]; }  // positive for north-up grids
  bool is_north_up() const { return geotransform[2] == 0 && geotransform[4] == 0; }
  Extent extent() const;  // bounding box of the four corners
  Point pixel_to_world(double col, double row) const;
  Point world_to_pixel(double x, double y) const;  // throws for a degenerate geotransform
  // The grid of a window of this one (same CRS and pixel size, shifted origin).
  Grid subgrid(const Window& window) const;
  // The smallest window of whole pixels covering `extent` (in this grid's CRS), clipped to the
  // grid; empty when they do not overlap.
  Window window_covering(const Extent& extent) const;
  Window full_window() const { return {0, 0, width, height}; }
  // Same CRS (equivalent), same size and geotransform within `tolerance` pixels.
  bool same_as(const Grid& other, double tolerance = 1e-6) const;
};

// Snaps an extent outward to multiples of the pixel size counted from (origin_x, origin_y).
// Coordinates already within 1e-6 pixel of a multiple are kept (no spurious extra pixel).
Extent snap_extent(const Extent& extent, double pixel_width, double pixel_height,
                   double origin_x = 0, double origin_y = 0);

// A north-up grid over `extent` snapped to the pixel grid (see snap_extent). Throws
// GeoError::BadExtent (empty/inverted extent), BadCrs or InvalidArgument (pixel size <= 0).
Grid make_grid(const Extent& extent, const std::string& crs, double pixel_width,
               double pixel_height);
inline Grid make_grid(const Extent& extent, const std::string& crs, double pixel_size) {
  return make_grid(extent, crs, pixel_size, pixel_size);
}

// The bounding box of `extent` in `to`, following each edge with `densify_points` points so
// curved edges are covered (handles the antimeridian like GDAL's TransformBounds).
Extent transform_extent(const Extent& extent, const std::string& from, const std::string& to,
                        int densify_points = 21);

// A CRS in metres for work at this extent: the CRS itself when it is projected in metres, else
// the local UTM zone of the extent's centre.
std::string local_metric_crs(const Extent& extent, const std::string& crs);

// The grid for a user request "this extent in this CRS at this GSD (metres per pixel)": in the
// local UTM zone when the CRS is geographic (covering the transformed extent), in the CRS itself
// when it is projected (the GSD converted to the CRS's unit). Snapped to the pixel grid.
Grid grid_for_request(const Extent& extent, const std::string& crs, double gsd_metres);

// Metres on the ground per pixel at the grid's centre, along x and y, measured on the
// ellipsoid (geodesic distance), so it is right for geographic and projected grids alike.
struct GroundResolution {
  double x = 0;
  double y = 0;
  double mean() const { return 0.5 * (x + y); }
};
GroundResolution ground_resolution(const Grid& grid);

// Windows tiling a width x height raster, aligned to block_width x block_height (the last
// row/column of windows is smaller). Row-major order.
std::vector<Window> block_windows(int width, int height, int block_width, int block_height);

}  // namespace terrasynth::geo
