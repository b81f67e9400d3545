#include <gtest/gtest.h>

#include <cmath>

#include "geo_test_support.h"
#include "terrasynth/geo/crs.h"
#include "terrasynth/geo/raster.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

TEST(Crs, ParsesEpsgCodeIntoProjectedWkt) {
  const std::string wkt = crs_wkt("EPSG:32616");
  EXPECT_TRUE(contains(wkt, "UTM zone 16N"));
  EXPECT_TRUE(crs_is_projected(wkt));
  EXPECT_FALSE(crs_is_geographic(wkt));
  EXPECT_DOUBLE_EQ(crs_metres_per_unit(wkt), 1.0);
  EXPECT_EQ(crs_authority_code(wkt).value_or(""), "EPSG:32616");
  EXPECT_TRUE(crs_is_geographic("EPSG:4326"));
  EXPECT_NEAR(crs_metres_per_unit("EPSG:2263"), 0.3048006, 1e-6);  // US survey feet
}

TEST(Crs, InvalidDefinitionIsBadCrsNamingIt) {
  const GeoError error = expect_geo_error([] { crs_wkt("EPSG:999999"); }, GeoError::Kind::BadCrs);
  EXPECT_TRUE(contains(error.what(), "EPSG:999999")) << error.what();
  expect_geo_error([] { crs_wkt("not a crs"); }, GeoError::Kind::BadCrs);
  expect_geo_error([] { crs_wkt(""); }, GeoError::Kind::BadCrs);
  expect_geo_error([] { crs_metres_per_unit("EPSG:4326"); }, GeoError::Kind::BadCrs);
}

TEST(Crs, IdentifiesTheAuthorityCodesOfFixtureRasters) {
  EXPECT_EQ(crs_authority_code(read_raster_info(kSpacenetRaster).grid.crs).value_or(""),
            "EPSG:32616");
  EXPECT_EQ(crs_authority_code(read_raster_info(kNaip).grid.crs).value_or(""), "EPSG:26914");
  EXPECT_EQ(crs_authority_code(read_raster_info(kDroneRaster).grid.crs).value_or(""), "EPSG:32633");
}

TEST(Crs, EquivalenceIgnoresAxisOrderAndSpelling) {
  EXPECT_TRUE(crs_equivalent("EPSG:4326", crs_wkt("EPSG:4326")));
  EXPECT_TRUE(crs_equivalent("EPSG:4326", "OGC:CRS84"));
  EXPECT_TRUE(crs_equivalent(read_raster_info(kSpacenetRaster).grid.crs, "EPSG:32616"));
  EXPECT_FALSE(crs_equivalent("EPSG:32616", "EPSG:32617"));
  EXPECT_FALSE(crs_equivalent("EPSG:32616", ""));
}

TEST(Crs, UtmZoneOfLongitudeLatitudeWithExceptions) {
  EXPECT_EQ(utm_crs_for(9.525, 47.135), "EPSG:32632");   // Vaduz
  EXPECT_EQ(utm_crs_for(-84.39, 33.75), "EPSG:32616");   // Atlanta
  EXPECT_EQ(utm_crs_for(151.21, -33.87), "EPSG:32756");  // Sydney
  EXPECT_EQ(utm_crs_for(-180.0, 10.0), "EPSG:32601");
  EXPECT_EQ(utm_crs_for(179.99, 10.0), "EPSG:32660");
  EXPECT_EQ(utm_crs_for(5.32, 60.39), "EPSG:32632");  // Bergen: Norway exception
  EXPECT_EQ(utm_crs_for(15.6, 78.2), "EPSG:32633");   // Svalbard exception
  expect_geo_error([] { utm_crs_for(0, 91); }, GeoError::Kind::BadExtent);
}

TEST(Crs, GeographicPointsAreLongitudeFirst) {
  const auto utm = transform_points({{9.525, 47.135}}, "EPSG:4326", "EPSG:32632");
  // 9.525 E is 0.525 deg east of zone 32's central meridian (9 E): ~40 km east of 500000.
  EXPECT_NEAR(utm[0][0], 539800, 1500);
  EXPECT_NEAR(utm[0][1], 5220400, 2000);
}

TEST(Crs, PointRoundTripThroughLongitudeLatitudeOnUtmRasters) {
  for (const std::string& path : {kSpacenetRaster, kNaip, kDroneRaster, kLandsat}) {
    const Grid grid = read_raster_info(path).grid;
    std::vector<Point> corners = {grid.pixel_to_world(0, 0), grid.pixel_to_world(grid.width, 0),
                                  grid.pixel_to_world(0, grid.height),
                                  grid.pixel_to_world(grid.width, grid.height)};
    const auto lonlat = transform_points(corners, grid.crs, "EPSG:4326");
    const auto back = transform_points(lonlat, "EPSG:4326", grid.crs);
    for (size_t i = 0; i < corners.size(); ++i) {
      EXPECT_LT(std::abs(lonlat[i][1]), 90.0) << path;
      EXPECT_NEAR(back[i][0], corners[i][0], 1e-6) << path;
      EXPECT_NEAR(back[i][1], corners[i][1], 1e-6) << path;
    }
  }
}
