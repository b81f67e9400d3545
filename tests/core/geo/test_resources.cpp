#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "geo_test_support.h"
#include "terrasynth/geo/resources.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

TEST(Resources, FindsTheShippedOsmMappingInTheSourceTree) {
  unsetenv("TERRASYNTH_RESOURCE_DIR");
  const std::string path = resource_path("osm_classes.json");
  EXPECT_TRUE(std::filesystem::equivalent(
      path, std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/resources/osm_classes.json"));
}

TEST(Resources, EnvironmentFolderComesFirst) {
  TempDir dir;
  dir.write("osm_classes.json", "{}");
  setenv("TERRASYNTH_RESOURCE_DIR", dir.path().c_str(), 1);
  const std::string path = resource_path("osm_classes.json");
  unsetenv("TERRASYNTH_RESOURCE_DIR");
  EXPECT_EQ(path, dir.file("osm_classes.json"));
  EXPECT_EQ(resource_dirs().back(), std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/resources");
}

TEST(Resources, MissingResourceNamesTheFoldersSearched) {
  const GeoError error =
      expect_geo_error([] { resource_path("no_such_resource.json"); }, GeoError::Kind::NotFound);
  EXPECT_TRUE(contains(error.what(), "no_such_resource.json")) << error.what();
  EXPECT_TRUE(contains(error.what(), "/resources")) << error.what();
}
