#include <gtest/gtest.h>

#include <cmath>

#include "geo_test_support.h"
#include "terrasynth/geo/grid.h"
#include "terrasynth/geo/raster.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

TEST(Grid, SnapExtentGoesOutwardToPixelMultiples) {
  const Extent snapped = snap_extent({10.3, 20.7, 30.1, 40.2}, 1.0, 1.0);
  EXPECT_EQ(snapped, (Extent{10, 20, 31, 41}));
  const Extent half = snap_extent({733601.2, 3724689.9, 734050.8, 3725138.1}, 0.5, 0.5);
  EXPECT_EQ(half, (Extent{733601.0, 3724689.5, 734051.0, 3725138.5}));
  const Extent shifted = snap_extent({10.3, 20.7, 30.1, 40.2}, 2.0, 2.0, 1.0, 1.0);
  EXPECT_EQ(shifted, (Extent{9, 19, 31, 41}));
}

TEST(Grid, SnapKeepsAlignedCoordinatesDespiteRoundingNoise) {
  const Extent snapped = snap_extent({0.1 * 3, 0, 0.1 * 9, 0.1 * 7}, 0.1, 0.1);
  EXPECT_NEAR(snapped.xmin, 0.3, 1e-12);
  EXPECT_NEAR(snapped.xmax, 0.9, 1e-12);
  EXPECT_NEAR(snapped.ymax, 0.7, 1e-12);
  const Grid grid = make_grid({0.1 * 3, 0, 0.1 * 9, 0.1 * 7}, "EPSG:32632", 0.1);
  EXPECT_EQ(grid.width, 6);
  EXPECT_EQ(grid.height, 7);
}

TEST(Grid, MakeGridReproducesTheSpacenetRasterGridExactly) {
  const RasterInfo info = read_raster_info(kSpacenetRaster);
  const Grid grid = make_grid(info.grid.extent(), "EPSG:32616", 0.5);
  EXPECT_EQ(grid.width, 900);
  EXPECT_EQ(grid.height, 900);
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(grid.geotransform[i], info.grid.geotransform[i]);
  EXPECT_TRUE(grid.same_as(info.grid));
  Grid shifted = grid;
  shifted.geotransform[0] += 0.25;
  EXPECT_FALSE(grid.same_as(shifted));
}

TEST(Grid, InvertedOrEmptyExtentsAreBadExtent) {
  GeoError inverted =
      expect_geo_error([] { extent_from_corners(10, 0, 5, 1); }, GeoError::Kind::BadExtent);
  EXPECT_TRUE(contains(inverted.what(), "inverted")) << inverted.what();
  EXPECT_TRUE(contains(inverted.what(), "10,0,5,1")) << inverted.what();
  GeoError empty =
      expect_geo_error([] { extent_from_corners(0, 0, 0, 1); }, GeoError::Kind::BadExtent);
  EXPECT_TRUE(contains(empty.what(), "empty")) << empty.what();
  expect_geo_error([] { extent_from_corners(0, 0, NAN, 1); }, GeoError::Kind::BadExtent);
  expect_geo_error([] { make_grid({0, 5, 1, 4}, "EPSG:32632", 1); }, GeoError::Kind::BadExtent);
  expect_geo_error(
      [] {
        grid_for_request({5, 5, 5, 6}, "EPSG:4326", 1);
      },
      GeoError::Kind::BadExtent);
}

TEST(Grid, NonPositivePixelSizesAndBadCrsAreRejected) {
  expect_geo_error(
      [] {
        make_grid({0, 0, 10, 10}, "EPSG:32632", 0);
      },
      GeoError::Kind::InvalidArgument);
  expect_geo_error(
      [] {
        make_grid({0, 0, 10, 10}, "EPSG:32632", -1);
      },
      GeoError::Kind::InvalidArgument);
  expect_geo_error(
      [] {
        grid_for_request({0, 0, 10, 10}, "EPSG:32632", 0);
      },
      GeoError::Kind::InvalidArgument);
  expect_geo_error([] { make_grid({0, 0, 10, 10}, "EPSG:0", 1); }, GeoError::Kind::BadCrs);
}

TEST(Grid, TransformExtentDensifiesCurvedEdges) {
  const Extent lonlat{6.0, 46.0, 12.0, 48.0};  // spans the whole zone: edges bow in UTM
  const Extent dense = transform_extent(lonlat, "EPSG:4326", "EPSG:32632", 101);
  const Extent corners = transform_extent(lonlat, "EPSG:4326", "EPSG:32632", 0);
  EXPECT_GE(dense.ymax, corners.ymax - 1e-6);
  // Parallels bow towards the pole in UTM: the middle of the south edge lies kilometres below
  // its corners, which only the densified edge sees.
  EXPECT_GT(corners.ymin - dense.ymin, 1000.0);
  // Every point along the edges lies inside the densified box.
  std::vector<Point> edge;
  for (int i = 0; i <= 200; ++i) {
    const double t = i / 200.0;
    edge.push_back({6.0 + 6.0 * t, 46.0});
    edge.push_back({6.0 + 6.0 * t, 48.0});
    edge.push_back({6.0, 46.0 + 2.0 * t});
    edge.push_back({12.0, 46.0 + 2.0 * t});
  }
  for (const Point& p : transform_points(edge, "EPSG:4326", "EPSG:32632")) {
    EXPECT_GE(p[0], dense.xmin - 1.0);
    EXPECT_LE(p[0], dense.xmax + 1.0);
    EXPECT_GE(p[1], dense.ymin - 1.0);
    EXPECT_LE(p[1], dense.ymax + 1.0);
  }
}

TEST(Grid, TransformExtentRoundTripContainsTheOriginal) {
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  const Extent original = grid.extent();
  const Extent lonlat = transform_extent(original, grid.crs, "EPSG:4326");
  EXPECT_GT(lonlat.xmin, -85.0);
  EXPECT_LT(lonlat.xmax, -84.0);
  const Extent back = transform_extent(lonlat, "EPSG:4326", grid.crs);
  EXPECT_LE(back.xmin, original.xmin + 1e-6);
  EXPECT_LE(back.ymin, original.ymin + 1e-6);
  EXPECT_GE(back.xmax, original.xmax - 1e-6);
  EXPECT_GE(back.ymax, original.ymax - 1e-6);
  // Grid convergence rotates the box a little; it grows by a few percent at most.
  EXPECT_LT(back.width(), original.width() * 1.05);
  EXPECT_LT(back.height(), original.height() * 1.05);
  EXPECT_EQ(transform_extent(original, grid.crs, "EPSG:32616"), original);
}

TEST(Grid, GeographicRequestIsPlacedInTheLocalUtmZone) {
  const Extent vaduz{9.515, 47.125, 9.535, 47.145};
  const Grid grid = grid_for_request(vaduz, "EPSG:4326", 1.0);
  EXPECT_TRUE(crs_equivalent(grid.crs, "EPSG:32632"));
  EXPECT_DOUBLE_EQ(grid.pixel_width(), 1.0);
  EXPECT_DOUBLE_EQ(grid.pixel_height(), 1.0);
  EXPECT_DOUBLE_EQ(grid.geotransform[0], std::floor(grid.geotransform[0]));
  EXPECT_DOUBLE_EQ(grid.geotransform[3], std::floor(grid.geotransform[3]));
  // 0.02 deg of longitude at 47.1 N is ~1.52 km, 0.02 deg of latitude ~2.22 km.
  EXPECT_NEAR(grid.width, 1530, 30);
  EXPECT_NEAR(grid.height, 2230, 30);
  const Extent covered = transform_extent(vaduz, "EPSG:4326", grid.crs);
  const Extent extent = grid.extent();
  EXPECT_LE(extent.xmin, covered.xmin);
  EXPECT_GE(extent.xmax, covered.xmax);
  EXPECT_LE(extent.ymin, covered.ymin);
  EXPECT_GE(extent.ymax, covered.ymax);
  EXPECT_LT(extent.width() - covered.width(), 2.0);
}

TEST(Grid, ProjectedRequestStaysInItsCrsInItsUnits) {
  const Grid metres = grid_for_request({733601, 3724689, 734051, 3725139}, "EPSG:32616", 0.5);
  EXPECT_TRUE(crs_equivalent(metres.crs, "EPSG:32616"));
  EXPECT_EQ(metres.width, 900);
  const Grid feet = grid_for_request({980000, 190000, 981000, 191000}, "EPSG:2263", 1.0);
  EXPECT_TRUE(crs_equivalent(feet.crs, "EPSG:2263"));
  EXPECT_NEAR(feet.pixel_width(), 1.0 / 0.3048006, 1e-6);
  EXPECT_NEAR(ground_resolution(feet).mean(), 1.0, 0.001);
}

TEST(Grid, GeographicRequestOutsideLatitudesIsBadExtent) {
  const GeoError error = expect_geo_error(
      [] {
        grid_for_request({47.0, 9.0, 48.0, 95.0}, "EPSG:4326", 1);
      },
      GeoError::Kind::BadExtent);
  EXPECT_TRUE(contains(error.what(), "latitude")) << error.what();
}

TEST(Grid, GroundResolutionOfUtmRasterIsItsPixelSize) {
  const GroundResolution spacenet = ground_resolution(read_raster_info(kSpacenetRaster).grid);
  EXPECT_NEAR(spacenet.x, 0.5, 0.0005);
  EXPECT_NEAR(spacenet.y, 0.5, 0.0005);
  const GroundResolution naip = ground_resolution(read_raster_info(kNaip).grid);
  EXPECT_NEAR(naip.mean(), 5.0, 0.005);
}

TEST(Grid, GroundResolutionOfGeographicGridShrinksWithLatitude) {
  Grid grid;
  grid.crs = crs_wkt("EPSG:4326");
  grid.geotransform = {9.5, 1e-5, 0, 47.2, 0, -1e-5};
  grid.width = 2000;
  grid.height = 2000;
  const GroundResolution ground = ground_resolution(grid);
  // At 47.19 N: 1e-5 deg of latitude ~1.1123 m, of longitude ~0.7569 m.
  EXPECT_NEAR(ground.y, 1.1123, 0.002);
  EXPECT_NEAR(ground.x, 0.7569, 0.002);
  grid.crs.clear();
  expect_geo_error([&] { ground_resolution(grid); }, GeoError::Kind::BadCrs);
}

TEST(Grid, WindowCoveringAndSubgridAreExactInverses) {
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  const Window window{100, 200, 50, 60};
  const Grid sub = grid.subgrid(window);
  EXPECT_DOUBLE_EQ(sub.geotransform[0], 733601.0 + 100 * 0.5);
  EXPECT_DOUBLE_EQ(sub.geotransform[3], 3725139.0 - 200 * 0.5);
  EXPECT_EQ(grid.window_covering(sub.extent()), window);
  // Partly outside: clipped; fully outside: empty.
  const Extent beyond{grid.extent().xmax - 10, grid.extent().ymax - 10, grid.extent().xmax + 10,
                      grid.extent().ymax + 10};
  EXPECT_EQ(grid.window_covering(beyond), (Window{880, 0, 20, 20}));
  EXPECT_TRUE(grid.window_covering({0, 0, 1, 1}).is_empty());
}

TEST(Grid, PixelWorldRoundTripOnARotatedGeotransform) {
  Grid grid;
  grid.geotransform = {1000, 0.8, 0.3, 5000, 0.2, -0.9};
  grid.width = 100;
  grid.height = 50;
  for (double col : {0.0, 17.25, 99.5})
    for (double row : {0.0, 3.5, 49.0}) {
      const Point world = grid.pixel_to_world(col, row);
      const Point pixel = grid.world_to_pixel(world[0], world[1]);
      EXPECT_NEAR(pixel[0], col, 1e-9);
      EXPECT_NEAR(pixel[1], row, 1e-9);
    }
  EXPECT_FALSE(grid.is_north_up());
}

TEST(Grid, BlockWindowsCoverEveryPixelOnce) {
  const auto windows = block_windows(1000, 700, 512, 512);
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_EQ(windows[1], (Window{512, 0, 488, 512}));
  EXPECT_EQ(windows[3], (Window{512, 512, 488, 188}));
  std::vector<int> hits(1000 * 700, 0);
  for (const auto& w : windows)
    for (int y = w.y; y < w.y + w.height; ++y)
      for (int x = w.x; x < w.x + w.width; ++x) ++hits[y * 1000 + x];
  for (int count : hits) ASSERT_EQ(count, 1);
  expect_geo_error([] { block_windows(10, 10, 0, 4); }, GeoError::Kind::InvalidArgument);
}
