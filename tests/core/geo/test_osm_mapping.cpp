#include <gtest/gtest.h>

#include "geo_test_support.h"
#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/osm_mapping.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

namespace {

const OsmMapping& mapping() {
  static const OsmMapping shipped = OsmMapping::load_default();
  return shipped;
}

std::optional<OsmMatch> match(const Tags& tags, GeometryKind kind) {
  return mapping().match(tags, kind);
}

uint8_t class_of(const Tags& tags, GeometryKind kind) {
  const auto result = match(tags, kind);
  return result ? result->class_id : kUnknownClass;
}

constexpr uint8_t kOther = 0, kBuilding = 1, kRoad = 2, kVegetation = 3, kWater = 4, kBare = 5,
                  kSand = 6;
const auto kArea = GeometryKind::Area;
const auto kLine = GeometryKind::Line;

}  // namespace

TEST(OsmMapping, ShippedMappingLoadsFromResources) {
  EXPECT_GT(mapping().rule_count(), 30u);
  EXPECT_TRUE(contains(mapping().source(), "osm_classes.json"));
  EXPECT_TRUE(mapping().uses_points());
}

TEST(OsmMapping, RoadWidthsFollowTheRoadHierarchy) {
  const auto motorway = match({{"highway", "motorway"}}, kLine);
  const auto primary = match({{"highway", "primary"}}, kLine);
  const auto residential = match({{"highway", "residential"}}, kLine);
  const auto footway = match({{"highway", "footway"}}, kLine);
  const auto path = match({{"highway", "path"}}, kLine);
  for (const auto* road : {&motorway, &primary, &residential, &footway, &path}) {
    ASSERT_TRUE(road->has_value());
    EXPECT_EQ((*road)->class_id, kRoad);
    EXPECT_FALSE((*road)->fill);
  }
  EXPECT_GT(motorway->width_m, primary->width_m);
  EXPECT_GT(primary->width_m, residential->width_m);
  EXPECT_GT(residential->width_m, footway->width_m);
  EXPECT_GE(footway->width_m, path->width_m);
  EXPECT_LE(path->width_m, 2.0);
  EXPECT_GE(motorway->width_m, 12.0);
  // A mapped width tag wins over the default.
  EXPECT_DOUBLE_EQ(match({{"highway", "residential"}, {"width", "9.5"}}, kLine)->width_m, 9.5);
  EXPECT_DOUBLE_EQ(match({{"highway", "residential"}, {"width", "30 ft"}}, kLine)->width_m,
                   residential->width_m);
}

TEST(OsmMapping, TunnelsAndRemovedThingsAreDropped) {
  EXPECT_FALSE(match({{"highway", "primary"}, {"tunnel", "yes"}}, kLine));
  EXPECT_FALSE(match({{"waterway", "stream"}, {"tunnel", "culvert"}}, kLine));
  EXPECT_FALSE(match({{"highway", "proposed"}}, kLine));
  EXPECT_FALSE(match({{"building", "no"}}, kArea));
  EXPECT_FALSE(match({{"amenity", "bench"}}, GeometryKind::Point));
  EXPECT_FALSE(match({{"name", "nothing else"}}, kArea));
}

TEST(OsmMapping, BuildingsAndWater) {
  EXPECT_EQ(class_of({{"building", "yes"}}, kArea), kBuilding);
  EXPECT_EQ(class_of({{"building", "house"}, {"amenity", "parking"}}, kArea), kBuilding);
  EXPECT_EQ(class_of({{"natural", "water"}}, kArea), kWater);
  EXPECT_EQ(class_of({{"natural", "water"}, {"water", "lake"}}, kArea), kWater);
  EXPECT_EQ(class_of({{"landuse", "reservoir"}}, kArea), kWater);
  const auto riverbank = match({{"waterway", "riverbank"}}, GeometryKind::ClosedLine);
  ASSERT_TRUE(riverbank);
  EXPECT_EQ(riverbank->class_id, kWater);
  EXPECT_TRUE(riverbank->fill);
  EXPECT_FALSE(match({{"waterway", "riverbank"}}, kLine));  // open outline: nothing to fill
  const auto river = match({{"waterway", "river"}}, kLine);
  const auto stream = match({{"waterway", "stream"}}, kLine);
  ASSERT_TRUE(river && stream);
  EXPECT_EQ(river->class_id, kWater);
  EXPECT_GT(river->width_m, stream->width_m);
  EXPECT_DOUBLE_EQ(match({{"waterway", "canal"}, {"width", "3"}}, kLine)->width_m, 3.0);
}

TEST(OsmMapping, VegetationBareSandAndOther) {
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"landuse", "forest"},
                                                        {"natural", "wood"},
                                                        {"landuse", "grass"},
                                                        {"landuse", "meadow"},
                                                        {"leisure", "park"},
                                                        {"landuse", "farmland"},
                                                        {"landuse", "orchard"},
                                                        {"landuse", "vineyard"},
                                                        {"natural", "scrub"}})
    EXPECT_EQ(class_of({{key, value}}, kArea), kVegetation) << key << "=" << value;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"landuse", "quarry"},
                                                        {"landuse", "construction"},
                                                        {"natural", "bare_rock"},
                                                        {"natural", "scree"},
                                                        {"landuse", "brownfield"}})
    EXPECT_EQ(class_of({{key, value}}, kArea), kBare) << key << "=" << value;
  EXPECT_EQ(class_of({{"natural", "beach"}}, kArea), kSand);
  EXPECT_EQ(class_of({{"natural", "sand"}}, kArea), kSand);
  EXPECT_EQ(class_of({{"amenity", "parking"}}, kArea), kOther);
  EXPECT_EQ(class_of({{"landuse", "industrial"}}, kArea), kOther);
  EXPECT_EQ(class_of({{"leisure", "pitch"}, {"surface", "asphalt"}}, kArea), kOther);
  const auto tree = match({{"natural", "tree"}}, GeometryKind::Point);
  ASSERT_TRUE(tree);
  EXPECT_EQ(tree->class_id, kVegetation);
  EXPECT_GT(tree->width_m, 0);
}

TEST(OsmMapping, PrioritiesPutBuildingsOverRoadsOverWaterOverLandOverOther) {
  const OsmMapping& m = mapping();
  EXPECT_GT(m.priority(kBuilding), m.priority(kRoad));
  EXPECT_GT(m.priority(kRoad), m.priority(kWater));
  EXPECT_GT(m.priority(kWater), m.priority(kVegetation));
  EXPECT_EQ(m.priority(kVegetation), m.priority(kBare));
  EXPECT_EQ(m.priority(kVegetation), m.priority(kSand));
  EXPECT_GT(m.priority(kSand), m.priority(kOther));
  EXPECT_EQ(match({{"building", "yes"}}, kArea)->priority, m.priority(kBuilding));
}

TEST(OsmMapping, CustomMappingFirstRuleWins) {
  const OsmMapping custom = OsmMapping::parse(R"({
    "format": "terrasynth-osm-classes", "version": 1,
    "priority": {"road": 5},
    "rules": [
      {"tags": {"highway": "*", "surface": ["sand", "dirt"]}, "class": "sand", "width": 3},
      {"tags": {"highway": "*"}, "class": 2, "width": 4},
      {"tags": {"landuse": "*"}, "geometry": ["area"], "class": null}
    ]})",
                                              "custom.json");
  EXPECT_EQ(custom.rule_count(), 3u);
  EXPECT_EQ(custom.match({{"highway", "track"}, {"surface", "sand"}}, kLine)->class_id, kSand);
  const auto road = custom.match({{"highway", "track"}}, kLine);
  ASSERT_TRUE(road);
  EXPECT_EQ(road->class_id, kRoad);
  EXPECT_EQ(road->priority, 5);
  EXPECT_EQ(road->rule, 1u);
  EXPECT_FALSE(custom.match({{"landuse", "forest"}}, kArea));
  EXPECT_FALSE(custom.uses_points());
  EXPECT_DOUBLE_EQ(custom.max_width_m(), 4.0);
}

TEST(OsmMapping, MalformedMappingsNameTheFileRuleAndProblem) {
  auto parse = [](const std::string& text) { return OsmMapping::parse(text, "mine.json"); };
  GeoError json = expect_geo_error([&] { parse("{ not json"); }, GeoError::Kind::BadMapping);
  EXPECT_TRUE(contains(json.what(), "mine.json")) << json.what();
  expect_geo_error([&] { parse(R"({"format": "x", "version": 1, "rules": []})"); },
                   GeoError::Kind::BadMapping);
  GeoError key = expect_geo_error(
      [&] {
        parse(R"({"format": "terrasynth-osm-classes", "version": 1,
                  "rules": [{"tags": {"a": "b"}, "class": "road", "widht": 3}]})");
      },
      GeoError::Kind::BadMapping);
  EXPECT_TRUE(contains(key.what(), "rule 0")) << key.what();
  EXPECT_TRUE(contains(key.what(), "widht")) << key.what();
  GeoError cls = expect_geo_error(
      [&] {
        parse(R"({"format": "terrasynth-osm-classes", "version": 1,
                  "rules": [{"tags": {"a": "b"}, "class": "forest"}]})");
      },
      GeoError::Kind::UnknownClass);
  EXPECT_TRUE(contains(cls.what(), "vegetation")) << cls.what();
  expect_geo_error(
      [&] {
        parse(R"({"format": "terrasynth-osm-classes", "version": 1,
                  "rules": [{"tags": {"natural": "tree"}, "geometry": ["point"], "class": 3}]})");
      },
      GeoError::Kind::BadMapping);
  expect_geo_error([] { OsmMapping::load("/nonexistent/mapping.json"); }, GeoError::Kind::NotFound);
}

TEST(OsmMapping, ParsesGdalOtherTagsWithEscapes) {
  Tags tags;
  parse_osm_other_tags(R"("name:de"=>"Rhein","note"=>"say \"hi\"","path"=>"a\\b","width"=>"3")",
                       tags);
  EXPECT_EQ(tags.at("name:de"), "Rhein");
  EXPECT_EQ(tags.at("note"), "say \"hi\"");
  EXPECT_EQ(tags.at("path"), "a\\b");
  EXPECT_EQ(tags.at("width"), "3");
  EXPECT_EQ(tags.size(), 4u);
}
