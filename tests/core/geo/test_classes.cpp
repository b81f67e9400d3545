#include <gtest/gtest.h>

#include "geo_test_support.h"
#include "terrasynth/geo/classes.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

TEST(Classes, SharedClassSetInItsFixedOrder) {
  const std::vector<std::string> expected{"other", "building", "road", "vegetation",
                                          "water", "bare",     "sand"};
  EXPECT_EQ(class_names(), expected);
  EXPECT_EQ(class_palette().size(), expected.size());
  EXPECT_EQ(kUnknownClass, 255);
}

TEST(Classes, ParsesNamesCaseInsensitivelyAndIds) {
  EXPECT_EQ(parse_class("building"), 1);
  EXPECT_EQ(parse_class(" Water "), 4);
  EXPECT_EQ(parse_class("SAND"), 6);
  EXPECT_EQ(parse_class("3"), 3);
  EXPECT_EQ(parse_class("0"), 0);
}

TEST(Classes, UnknownNamesListTheValidOnes) {
  const GeoError error = expect_geo_error([] { parse_class("forest", "layout a.gpkg feature 7"); },
                                          GeoError::Kind::UnknownClass);
  const std::string message = error.what();
  EXPECT_TRUE(contains(message, "layout a.gpkg feature 7")) << message;
  EXPECT_TRUE(contains(message, "'forest'")) << message;
  for (const auto& name : class_names()) EXPECT_TRUE(contains(message, name)) << name;
  expect_geo_error([] { parse_class("7"); }, GeoError::Kind::UnknownClass);
  expect_geo_error([] { parse_class("255"); }, GeoError::Kind::UnknownClass);
  expect_geo_error([] { parse_class(""); }, GeoError::Kind::UnknownClass);
}

TEST(Classes, PriorityOrderBuildingRoadWaterLandOther) {
  const uint8_t other = 0, building = 1, road = 2, vegetation = 3, water = 4, bare = 5, sand = 6;
  EXPECT_GT(class_priority(building), class_priority(road));
  EXPECT_GT(class_priority(road), class_priority(water));
  EXPECT_GT(class_priority(water), class_priority(vegetation));
  EXPECT_EQ(class_priority(vegetation), class_priority(bare));
  EXPECT_EQ(class_priority(vegetation), class_priority(sand));
  EXPECT_GT(class_priority(sand), class_priority(other));
}

TEST(Classes, ClassRasterSpecIsUInt8WithNodata255AndPalette) {
  const Grid grid = make_grid({0, 0, 10, 10}, "EPSG:32632", 1);
  const RasterSpec spec = class_raster_spec(grid);
  EXPECT_EQ(spec.bands, 1);
  EXPECT_EQ(spec.type, DataType::Byte);
  ASSERT_EQ(spec.band.size(), 1u);
  EXPECT_EQ(spec.band[0].nodata.value_or(0), 255.0);
  EXPECT_EQ(spec.band[0].color_table[4][2], class_palette()[4][2]);
  EXPECT_EQ(spec.band[0].color_table[255][3], 0);  // unknown is transparent
  EXPECT_EQ(spec.band[0].category_names[3], "vegetation");
}
