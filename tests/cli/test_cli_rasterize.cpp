#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/raster.h"

using namespace terrasynth::cli::testing;
namespace geo = terrasynth::geo;

namespace {

// Relative to the repository root, exactly as in the documentation.
const std::string kBuildings = "../shared/fixtures/vectors/spacenet_atlanta_buildings.geojson";
const std::string kReference = "../shared/fixtures/rasters/spacenet_atlanta_pan_utm16n_0.5m.tif";
const std::string kOsm = "../shared/fixtures/vectors/liechtenstein-2013-08-03.osm.pbf";

uint64_t count_class(const std::string& path, uint8_t value) {
  geo::RasterReader reader(path);
  const auto values = reader.read<uint8_t>(reader.info().grid.full_window());
  return static_cast<uint64_t>(std::count(values.begin(), values.end(), value));
}

}  // namespace

TEST(CliRasterize, LikeCopiesTheReferenceGrid) {
  TempDir dir;
  const std::string out = dir.file("b.tif");
  const RunResult result =
      run_cli({"rasterize", "--layout", kBuildings, "--like", kReference, "--out", out});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const geo::RasterInfo reference =
      geo::read_raster_info(shared("fixtures/rasters/spacenet_atlanta_pan_utm16n_0.5m.tif"));
  const geo::RasterInfo written = geo::read_raster_info(out);
  EXPECT_TRUE(geo::crs_equivalent(written.grid.crs, reference.grid.crs));
  EXPECT_EQ(written.grid.width, reference.grid.width);
  EXPECT_EQ(written.grid.height, reference.grid.height);
  for (int i = 0; i < 6; ++i)
    EXPECT_DOUBLE_EQ(written.grid.geotransform[i], reference.grid.geotransform[i]);
  EXPECT_EQ(written.type, geo::DataType::Byte);
  EXPECT_EQ(written.nodata().value_or(0), 255.0);
  EXPECT_GT(count_class(out, 1), 10000u);
  EXPECT_TRUE(contains(result.out, "building")) << result.out;
  EXPECT_TRUE(contains(result.err, "no 'class' field")) << result.err;  // the warning
}

TEST(CliRasterize, OsmExtentInLonLatGivesAMetricClassRaster) {
  TempDir dir;
  const std::string out = dir.file("vaduz.tif");
  const RunResult result =
      run_cli({"rasterize", "--layout", kOsm, "--extent", "9.515,47.125,9.535,47.145", "--crs",
               "EPSG:4326", "--gsd", "1", "--out", out});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const geo::RasterInfo info = geo::read_raster_info(out);
  EXPECT_TRUE(geo::crs_equivalent(info.grid.crs, "EPSG:32632"));
  EXPECT_DOUBLE_EQ(info.grid.pixel_width(), 1.0);
  EXPECT_DOUBLE_EQ(info.grid.pixel_height(), 1.0);
  EXPECT_GT(info.grid.width, 1400);
  EXPECT_GT(info.grid.height, 2100);
  EXPECT_GT(count_class(out, 1), 10000u);  // buildings
  EXPECT_GT(count_class(out, 2), 10000u);  // roads
  EXPECT_GT(count_class(out, 3), 10000u);  // vegetation
  EXPECT_EQ(info.band[0].category_names.at(2), "road");
}

TEST(CliRasterize, MissingLayoutExitsOneWithOneLineNamingTheFile) {
  TempDir dir;
  const RunResult result =
      run_cli({"rasterize", "--layout", "/nonexistent.gpkg", "--extent", "0,0,100,100", "--crs",
               "EPSG:32632", "--gsd", "1", "--out", dir.file("x.tif")});
  EXPECT_EQ(result.exit_code, 1);
  ASSERT_EQ(result.err_lines().size(), 1u) << result.err;
  EXPECT_TRUE(contains(result.err, "/nonexistent.gpkg")) << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.tif")));
}

TEST(CliRasterize, JsonOutputParsesAndCountsEveryPixel) {
  TempDir dir;
  const std::string out = dir.file("b.tif");
  const RunResult result =
      run_cli({"rasterize", "--layout", kBuildings, "--like", kReference, "--out", out, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json document = nlohmann::json::parse(result.out);
  EXPECT_TRUE(document.at("ok").get<bool>());
  EXPECT_EQ(document.at("output"), out);
  EXPECT_EQ(document.at("crs"), "EPSG:32616");
  EXPECT_EQ(document.at("width"), 900);
  EXPECT_EQ(document.at("height"), 900);
  EXPECT_DOUBLE_EQ(document.at("geotransform")[0].get<double>(), 733601.0);
  uint64_t total = 0;
  for (const auto& [name, pixels] : document.at("class_pixels").items())
    total += pixels.get<uint64_t>();
  EXPECT_EQ(total, 900u * 900u);
  EXPECT_EQ(document.at("class_pixels").at("building").get<uint64_t>(), count_class(out, 1));
  EXPECT_EQ(document.at("features_used"), 43);
  EXPECT_FALSE(contains(result.err, "progress"));  // quiet progress with --json
}

TEST(CliRasterize, UsageErrorsExitTwo) {
  TempDir dir;
  const std::string out = dir.file("x.tif");
  const std::vector<std::vector<std::string>> cases = {
      {"rasterize", "--layout", kBuildings, "--like", kReference},  // no --out
      {"rasterize", "--like", kReference, "--out", out},            // no --layout
      {"rasterize", "--layout", kBuildings, "--out", out},          // no grid
      {"rasterize", "--layout", kBuildings, "--like", kReference, "--extent", "0,0,1,1", "--out",
       out},  // both
      {"rasterize", "--layout", kBuildings, "--extent", "0,0,1", "--crs", "EPSG:32616", "--gsd",
       "1", "--out", out},  // 3 numbers
      {"rasterize", "--layout", kBuildings, "--extent", "0,0,1,1", "--crs", "EPSG:32616", "--gsd",
       "-1", "--out", out},  // gsd < 0
      {"rasterize", "--layout", kBuildings, "--like", kReference, "--out", out, "--colour"},
      {"rasterize", "--layout", kOsm, "--class-field", "class", "--like", kReference, "--out",
       out}};
  for (const auto& arguments : cases) {
    const RunResult result = run_cli(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments.back() << ": " << result.err;
    EXPECT_TRUE(contains(result.err, "--help")) << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(CliRasterize, BadRequestsExitOneWithClearMessages) {
  TempDir dir;
  const std::string out = dir.file("x.tif");
  struct Case {
    std::vector<std::string> arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"rasterize", "--layout", kBuildings, "--extent", "10,0,5,1", "--crs", "EPSG:32616", "--gsd",
        "1", "--out", out},
       "inverted"},
      {{"rasterize", "--layout", kBuildings, "--extent", "0,0,1,1", "--crs", "EPSG:12345678",
        "--gsd", "1", "--out", out},
       "EPSG:12345678"},
      {{"rasterize", "--layout", kBuildings + ":roads", "--like", kReference, "--out", out},
       "layer 'roads' not found"},
      {{"rasterize", "--layout", kBuildings, "--class-field", "landcover", "--like", kReference,
        "--out", out},
       "'landcover'"},
      {{"rasterize", "--layout", kBuildings, "--like", kReference, "--out",
        dir.file("missing/x.tif")},
       "missing"},
      {{"rasterize", "--layout", kBuildings, "--like", "/nonexistent/ref.tif", "--out", out},
       "/nonexistent/ref.tif"},
  };
  for (const auto& c : cases) {
    const RunResult result = run_cli(c.arguments);
    EXPECT_EQ(result.exit_code, 1) << c.message << ": " << result.err;
    EXPECT_EQ(result.err_lines().size(), 1u) << result.err;
    EXPECT_TRUE(contains(result.err, c.message)) << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(CliRasterize, OutputEqualToTheReferenceIsRefusedAndTheReferenceKept) {
  TempDir dir;
  const std::string reference = dir.file("reference.tif");
  std::filesystem::copy_file(shared("fixtures/rasters/spacenet_atlanta_pan_utm16n_0.5m.tif"),
                             reference);
  const auto size = std::filesystem::file_size(reference);
  const RunResult result =
      run_cli({"rasterize", "--layout", kBuildings, "--like", reference, "--out", reference});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "is the input")) << result.err;
  EXPECT_EQ(std::filesystem::file_size(reference), size);
  EXPECT_EQ(geo::read_raster_info(reference).type, geo::DataType::UInt16);
}

TEST(CliRasterize, CogOutputAndAllTouched) {
  TempDir dir;
  const RunResult plain = run_cli({"rasterize", "--layout", kBuildings, "--like", kReference,
                                   "--out", dir.file("plain.tif"), "--json"});
  const RunResult touched =
      run_cli({"rasterize", "--layout", kBuildings, "--like", kReference, "--all-touched", "--cog",
               "--out", dir.file("cog.tif"), "--json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(touched.exit_code, 0) << touched.err;
  const auto a = nlohmann::json::parse(plain.out).at("class_pixels").at("building").get<uint64_t>();
  const auto b =
      nlohmann::json::parse(touched.out).at("class_pixels").at("building").get<uint64_t>();
  EXPECT_GT(b, a);
  EXPECT_EQ(geo::read_raster_info(dir.file("cog.tif")).layout, "COG");
}
