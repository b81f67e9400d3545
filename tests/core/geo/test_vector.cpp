#include <gtest/gtest.h>

#include <algorithm>

#include "geo_test_support.h"
#include "terrasynth/geo/vector.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

TEST(Vector, DescribesTheSpacenetBuildings) {
  const VectorLayerInfo info = read_vector_info(kSpacenetBuildings);
  EXPECT_EQ(info.layer, "spacenet_atlanta_buildings");
  EXPECT_EQ(info.feature_count, 43);
  EXPECT_TRUE(crs_equivalent(info.crs, "EPSG:32616"));
  EXPECT_DOUBLE_EQ(info.extent.xmin, 733601.0);
  EXPECT_DOUBLE_EQ(info.extent.ymax, 3725139.0);
  EXPECT_NE(std::find(info.fields.begin(), info.fields.end(), "building"), info.fields.end());
}

TEST(Vector, ListsTheLayersOfAnOsmExtract) {
  const auto layers = list_layers(kLiechtenstein);
  for (const char* name : {"points", "lines", "multipolygons"})
    EXPECT_NE(std::find(layers.begin(), layers.end(), name), layers.end()) << name;
  EXPECT_TRUE(is_osm_path(kLiechtenstein));
  EXPECT_TRUE(is_osm_path("/data/city.OSM"));
  EXPECT_FALSE(is_osm_path(kSpacenetBuildings));
}

TEST(Vector, MissingFileAndLayerAreTypedErrors) {
  const GeoError missing =
      expect_geo_error([] { read_vector_info("/nonexistent.gpkg"); }, GeoError::Kind::NotFound);
  EXPECT_TRUE(contains(missing.what(), "/nonexistent.gpkg")) << missing.what();
  const GeoError layer = expect_geo_error([] { read_vector_info(kDroneArea, "roads"); },
                                          GeoError::Kind::LayerNotFound);
  EXPECT_TRUE(contains(layer.what(), "'roads'")) << layer.what();
  EXPECT_TRUE(contains(layer.what(), "drone_orthophoto_area.gpkg")) << layer.what();
  const GeoError not_vector =
      expect_geo_error([] { read_vector_info(kSpacenetRaster); }, GeoError::Kind::Io);
  EXPECT_TRUE(contains(not_vector.what(), "spacenet_atlanta_pan")) << not_vector.what();
}
