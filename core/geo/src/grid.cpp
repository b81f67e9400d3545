#include "terrasynth/geo/grid.h"

#include <geodesic.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>
#include <sstream>

#include "gdal_util.h"

namespace terrasynth::geo {

using detail::make_srs;
using detail::QuietErrors;
using detail::single_quoted;

namespace {

constexpr double kSnapTolerance = 1e-6;  // in pixels

std::string format_extent(const Extent& extent) {
  std::ostringstream text;
  text.precision(12);
  text << extent.xmin << "," << extent.ymin << "," << extent.xmax << "," << extent.ymax;
  return text.str();
}

void require_extent(const Extent& extent, const std::string& what) {
  const bool finite = std::isfinite(extent.xmin) && std::isfinite(extent.ymin) &&
                      std::isfinite(extent.xmax) && std::isfinite(extent.ymax);
  if (!finite)
    throw GeoError(GeoError::Kind::BadExtent,
                   what + " " + format_extent(extent) + " has a value that is not a finite number");
  if (extent.xmax < extent.xmin || extent.ymax < extent.ymin)
    throw GeoError(GeoError::Kind::BadExtent,
                   what + " " + format_extent(extent) +
                       " is inverted (expected x1,y1,x2,y2 with x2 > x1 and y2 > y1)");
  if (extent.is_empty())
    throw GeoError(GeoError::Kind::BadExtent,
                   what + " " + format_extent(extent) + " is empty (zero width or height)");
}

}  // namespace

Extent Extent::intersection(const Extent& other) const {
  return {std::max(xmin, other.xmin), std::max(ymin, other.ymin), std::min(xmax, other.xmax),
          std::min(ymax, other.ymax)};
}

Extent extent_from_corners(double x1, double y1, double x2, double y2) {
  const Extent extent{x1, y1, x2, y2};
  require_extent(extent, "extent");
  return extent;
}

Extent Grid::extent() const {
  const Point corners[4] = {pixel_to_world(0, 0), pixel_to_world(width, 0),
                            pixel_to_world(0, height), pixel_to_world(width, height)};
  Extent box{corners[0][0], corners[0][1], corners[0][0], corners[0][1]};
  for (const auto& corner : corners) {
    box.xmin = std::min(box.xmin, corner[0]);
    box.xmax = std::max(box.xmax, corner[0]);
    box.ymin = std::min(box.ymin, corner[1]);
    box.ymax = std::max(box.ymax, corner[1]);
  }
  return box;
}

Point Grid::pixel_to_world(double col, double row) const {
  const auto& gt = geotransform;
  return {gt[0] + col * gt[1] + row * gt[2], gt[3] + col * gt[4] + row * gt[5]};
}

Point Grid::world_to_pixel(double x, double y) const {
  const auto& gt = geotransform;
  const double det = gt[1] * gt[5] - gt[2] * gt[4];
  if (det == 0 || !std::isfinite(det))
    throw GeoError(GeoError::Kind::InvalidArgument, "grid has a degenerate geotransform");
  const double dx = x - gt[0];
  const double dy = y - gt[3];
  return {(dx * gt[5] - dy * gt[2]) / det, (dy * gt[1] - dx * gt[4]) / det};
}

Grid Grid::subgrid(const Window& window) const {
  Grid sub = *this;
  const Point origin = pixel_to_world(window.x, window.y);
  sub.geotransform[0] = origin[0];
  sub.geotransform[3] = origin[1];
  sub.width = window.width;
  sub.height = window.height;
  return sub;
}

Window Grid::window_covering(const Extent& extent) const {
  if (extent.is_empty()) return {};
  const Point corners[4] = {
      world_to_pixel(extent.xmin, extent.ymin), world_to_pixel(extent.xmax, extent.ymin),
      world_to_pixel(extent.xmin, extent.ymax), world_to_pixel(extent.xmax, extent.ymax)};
  double c0 = corners[0][0], c1 = corners[0][0], r0 = corners[0][1], r1 = corners[0][1];
  for (const auto& p : corners) {
    c0 = std::min(c0, p[0]);
    c1 = std::max(c1, p[0]);
    r0 = std::min(r0, p[1]);
    r1 = std::max(r1, p[1]);
  }
  const double left = std::max(0.0, std::floor(c0 + kSnapTolerance));
  const double top = std::max(0.0, std::floor(r0 + kSnapTolerance));
  const double right = std::min<double>(width, std::ceil(c1 - kSnapTolerance));
  const double bottom = std::min<double>(height, std::ceil(r1 - kSnapTolerance));
  if (right <= left || bottom <= top) return {};
  return {static_cast<int>(left), static_cast<int>(top), static_cast<int>(right - left),
          static_cast<int>(bottom - top)};
}

bool Grid::same_as(const Grid& other, double tolerance) const {
  if (width != other.width || height != other.height) return false;
  const double scale = std::max(std::abs(geotransform[1]), std::abs(geotransform[5]));
  for (int i = 0; i < 6; ++i) {
    const double limit = (i == 0 || i == 3) ? tolerance * scale : tolerance * scale + 1e-15;
    if (std::abs(geotransform[i] - other.geotransform[i]) > limit) return false;
  }
  return crs_equivalent(crs, other.crs);
}

Extent snap_extent(const Extent& extent, double pixel_width, double pixel_height, double origin_x,
                   double origin_y) {
  if (!(pixel_width > 0) || !(pixel_height > 0))
    throw GeoError(GeoError::Kind::InvalidArgument, "pixel size must be positive");
  auto down = [](double value, double origin, double step) {
    return origin + std::floor((value - origin) / step + kSnapTolerance) * step;
  };
  auto up = [](double value, double origin, double step) {
    return origin + std::ceil((value - origin) / step - kSnapTolerance) * step;
  };
  return {down(extent.xmin, origin_x, pixel_width), down(extent.ymin, origin_y, pixel_height),
          up(extent.xmax, origin_x, pixel_width), up(extent.ymax, origin_y, pixel_height)};
}

Grid make_grid(const Extent& extent, const std::string& crs, double pixel_width,
               double pixel_height) {
  require_extent(extent, "extent");
  if (!(pixel_width > 0) || !(pixel_height > 0) || !std::isfinite(pixel_width) ||
      !std::isfinite(pixel_height))
    throw GeoError(GeoError::Kind::InvalidArgument, "pixel size must be a positive number, got " +
                                                        std::to_string(pixel_width) + " x " +
                                                        std::to_string(pixel_height));
  const Extent snapped = snap_extent(extent, pixel_width, pixel_height);
  const double columns = std::round(snapped.width() / pixel_width);
  const double rows = std::round(snapped.height() / pixel_height);
  if (columns > INT_MAX || rows > INT_MAX)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "extent " + format_extent(extent) + " at pixel size " +
                       std::to_string(pixel_width) + " needs " + std::to_string(columns) + " x " +
                       std::to_string(rows) + " pixels, more than a raster can hold");
  Grid grid;
  grid.crs = crs_wkt(crs);
  grid.geotransform = {snapped.xmin, pixel_width, 0, snapped.ymax, 0, -pixel_height};
  grid.width = std::max(1, static_cast<int>(columns));
  grid.height = std::max(1, static_cast<int>(rows));
  return grid;
}

Extent transform_extent(const Extent& extent, const std::string& from, const std::string& to,
                        int densify_points) {
  require_extent(extent, "extent");
  const OGRSpatialReference source = make_srs(from);
  const OGRSpatialReference target = make_srs(to);
  const char* options[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES",
                           "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", nullptr};
  if (source.IsSame(&target, options)) return extent;
  QuietErrors quiet;
  std::unique_ptr<OGRCoordinateTransformation> transform(
      OGRCreateCoordinateTransformation(&source, &target));
  if (!transform)
    throw GeoError(GeoError::Kind::BadCrs, "no transformation from " +
                                               single_quoted(source.GetName()) + " to " +
                                               single_quoted(target.GetName()) + quiet.suffix());
  Extent result;
  if (!transform->TransformBounds(extent.xmin, extent.ymin, extent.xmax, extent.ymax, &result.xmin,
                                  &result.ymin, &result.xmax, &result.ymax,
                                  std::max(0, densify_points)))
    throw GeoError(GeoError::Kind::BadExtent, "extent " + format_extent(extent) + " in " +
                                                  single_quoted(source.GetName()) +
                                                  " cannot be transformed to " +
                                                  single_quoted(target.GetName()) + quiet.suffix());
  return result;
}

std::string local_metric_crs(const Extent& extent, const std::string& crs) {
  const OGRSpatialReference srs = make_srs(crs);
  if (srs.IsProjected() && std::abs(srs.GetLinearUnits(nullptr) - 1.0) < 1e-12) return crs_wkt(crs);
  const Point centre{0.5 * (extent.xmin + extent.xmax), 0.5 * (extent.ymin + extent.ymax)};
  const Point lonlat = transform_points({centre}, crs, "EPSG:4326").front();
  return crs_wkt(utm_crs_for(lonlat[0], lonlat[1]));
}

Grid grid_for_request(const Extent& extent, const std::string& crs, double gsd_metres) {
  require_extent(extent, "extent");
  if (!(gsd_metres > 0) || !std::isfinite(gsd_metres))
    throw GeoError(
        GeoError::Kind::InvalidArgument,
        "ground resolution must be a positive number of metres, got " + std::to_string(gsd_metres));
  const OGRSpatialReference srs = make_srs(crs);
  if (srs.IsGeographic()) {
    if (extent.ymin < -90 || extent.ymax > 90 || extent.xmin < -360 || extent.xmax > 360)
      throw GeoError(GeoError::Kind::BadExtent,
                     "extent " + format_extent(extent) + " in " + single_quoted(srs.GetName()) +
                         " is outside longitudes -180..180 / latitudes -90..90 (is the order "
                         "x1,y1,x2,y2 = lon,lat,lon,lat?)");
    const std::string metric = local_metric_crs(extent, crs);
    return make_grid(transform_extent(extent, crs, metric), metric, gsd_metres);
  }
  if (!srs.IsProjected())
    throw GeoError(GeoError::Kind::BadCrs, "CRS " +
                                               single_quoted(srs.GetName() ? srs.GetName() : crs) +
                                               " is neither geographic nor projected");
  const double unit = srs.GetLinearUnits(nullptr);
  return make_grid(extent, crs, gsd_metres / unit);
}

GroundResolution ground_resolution(const Grid& grid) {
  if (grid.crs.empty())
    throw GeoError(GeoError::Kind::BadCrs, "grid has no CRS: its ground resolution is unknown");
  const OGRSpatialReference srs = make_srs(grid.crs);
  std::unique_ptr<OGRSpatialReference> geographic(srs.CloneGeogCS());
  if (!geographic) throw GeoError(GeoError::Kind::BadCrs, "CRS has no geographic base");
  geographic->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  QuietErrors quiet;
  std::unique_ptr<OGRCoordinateTransformation> transform(
      OGRCreateCoordinateTransformation(&srs, geographic.get()));
  if (!transform)
    throw GeoError(GeoError::Kind::BadCrs,
                   "no transformation from the grid's CRS to its "
                   "geographic base" +
                       quiet.suffix());
  // Measured over a few pixels around the centre: differences of nearby transformed points.
  const double span = 10.0;
  const double cx = 0.5 * grid.width, cy = 0.5 * grid.height;
  const Point p[4] = {
      grid.pixel_to_world(cx - span / 2, cy), grid.pixel_to_world(cx + span / 2, cy),
      grid.pixel_to_world(cx, cy - span / 2), grid.pixel_to_world(cx, cy + span / 2)};
  double xs[4], ys[4];
  for (int i = 0; i < 4; ++i) {
    xs[i] = p[i][0];
    ys[i] = p[i][1];
  }
  if (!transform->Transform(4, xs, ys))
    throw GeoError(GeoError::Kind::BadCrs,
                   "grid centre cannot be transformed to longitude/latitude");
  geod_geodesic geodesic;
  const double inverse_flattening = srs.GetInvFlattening(nullptr);
  geod_init(&geodesic, srs.GetSemiMajor(nullptr),
            inverse_flattening > 0 ? 1.0 / inverse_flattening : 0.0);
  double along_x = 0, along_y = 0;
  geod_inverse(&geodesic, ys[0], xs[0], ys[1], xs[1], &along_x, nullptr, nullptr);
  geod_inverse(&geodesic, ys[2], xs[2], ys[3], xs[3], &along_y, nullptr, nullptr);
  return {along_x / span, along_y / span};
}

std::vector<Window> block_windows(int width, int height, int block_width, int block_height) {
  if (block_width <= 0 || block_height <= 0)
    throw GeoError(GeoError::Kind::InvalidArgument, "block size must be positive");
  std::vector<Window> windows;
  for (int y = 0; y < height; y += block_height)
    for (int x = 0; x < width; x += block_width)
      windows.push_back(
          {x, y, std::min(block_width, width - x), std::min(block_height, height - y)});
  return windows;
}

}  // namespace terrasynth::geo
