#include <gdal_priv.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "terrasynth/geo/crs.h"
#include "terrasynth/geo/layout.h"
#include "terrasynth/geo/raster.h"

using namespace terrasynth::cli::testing;
namespace geo = terrasynth::geo;
namespace fs = std::filesystem;

namespace {

// Relative to the repository root, exactly as in the documentation.
const std::string kDrone = "../shared/fixtures/rasters/drone_orthophoto_rgba_utm33n_2cm.tif";
const std::string kDroneArea = "../shared/fixtures/vectors/drone_orthophoto_area.gpkg";
const std::string kPan = "../shared/fixtures/rasters/spacenet_atlanta_pan_utm16n_0.5m.tif";
const std::string kPhoto = "../shared/data/pairs/recife/00100.jpg";
const std::string kModel = TERRASYNTH_TINY_MODEL_DIR;

std::string from_root(const std::string& relative) {
  return std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/" + relative;
}

std::vector<std::string> fast(std::vector<std::string> arguments) {
  for (const char* option : {"--model", kModel.c_str(), "--steps", "2", "--tile", "64",
                             "--overlap", "16", "--device", "cpu", "--threads", "1"})
    arguments.emplace_back(option);
  return arguments;
}

std::vector<double> read_all(const std::string& path) {
  const geo::RasterReader reader(path);
  const auto& info = reader.info();
  std::vector<double> values(static_cast<size_t>(info.grid.width) * info.grid.height * info.bands);
  reader.read(info.grid.full_window(), geo::DataType::Float64, values.data());
  return values;
}

// Pixels that differ between two rasters of the same shape where `allowed` is 0.
size_t changed_outside(const std::string& a_path, const std::string& b_path,
                       const std::vector<uint8_t>& allowed) {
  const auto a = read_all(a_path), b = read_all(b_path);
  const size_t bands = a.size() / allowed.size();
  size_t changed = 0;
  for (size_t i = 0; i < allowed.size(); ++i)
    for (size_t c = 0; c < bands; ++c)
      if (!allowed[i] && a[i * bands + c] != b[i * bands + c]) {
        ++changed;
        break;
      }
  return changed;
}

// 1 where `mask` is 0: passing it to changed_outside counts the changed pixels inside `mask`.
std::vector<uint8_t> complement(std::vector<uint8_t> mask) {
  for (auto& value : mask) value = value ? 0 : 1;
  return mask;
}

}  // namespace

TEST(CliInpaint, DroneOrthophotoPolygonKeepsEverythingElse) {
  TempDir dir;
  const std::string out = dir.file("inp.tif");
  const RunResult result =
      run_cli(fast({"inpaint", "--raster", kDrone, "--mask", kDroneArea, "--out", out}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "warning: the raster GSD 2 cm is far finer")) << result.err;
  EXPECT_TRUE(contains(result.out, "wrote " + out)) << result.out;
  const geo::RasterInfo in = geo::read_raster_info(from_root(kDrone));
  const geo::RasterInfo written = geo::read_raster_info(out);
  EXPECT_TRUE(written.grid.same_as(in.grid, 1e-9));
  EXPECT_EQ(written.bands, 4);
  geo::MaskOptions feather;
  feather.grow_m = 0.55;
  EXPECT_EQ(changed_outside(from_root(kDrone), out,
                            geo::rasterize_mask(from_root(kDroneArea), in.grid, feather)),
            0u);
  const auto polygon = geo::rasterize_mask(from_root(kDroneArea), in.grid);
  EXPECT_GT(changed_outside(from_root(kDrone), out, complement(polygon)), 100000u);  // inside changed
}

TEST(CliInpaint, PlainPhotoWithCentralSquareMask) {
  TempDir dir;
  GDALAllRegister();
  GDALDataset* memory =
      GetGDALDriverManager()->GetDriverByName("MEM")->Create("", 256, 256, 1, GDT_Byte, nullptr);
  std::vector<uint8_t> square(256 * 256, 0), allowed(256 * 256, 0);
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x) {
      square[y * 256 + x] = x >= 96 && x < 160 && y >= 96 && y < 160 ? 1 : 0;
      allowed[y * 256 + x] = x >= 93 && x < 163 && y >= 93 && y < 163;
    }
  ASSERT_EQ(memory->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, 256, 256, square.data(), 256, 256,
                                               GDT_Byte, 0, 0),
            CE_None);
  const std::string mask = dir.file("mask.png");
  GDALClose(GetGDALDriverManager()->GetDriverByName("PNG")->CreateCopy(mask.c_str(), memory, FALSE,
                                                                       nullptr, nullptr, nullptr));
  GDALClose(memory);
  const std::string out = dir.file("inp2.tif");

  RunResult r = run_cli(fast({"inpaint", "--raster", kPhoto, "--mask", mask, "--out", out}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "--gsd")) << r.err;

  r = run_cli(fast({"inpaint", "--raster", kPhoto, "--gsd", "0.5", "--mask", mask, "--out", out, "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto document = nlohmann::json::parse(r.out);
  EXPECT_EQ(document["output"], out);
  EXPECT_EQ(document["work_gsd"], 0.5);
  EXPECT_EQ(changed_outside(from_root(kPhoto), out, allowed), 0u);
  EXPECT_GT(changed_outside(from_root(kPhoto), out, complement(square)), 2000u);  // inside changed
  EXPECT_FALSE(geo::read_raster_info(out).georeferenced);
}

TEST(CliInpaint, BadInputsFailWithClearMessages) {
  TempDir dir;
  RunResult r = run_cli(fast({"inpaint", "--raster", kPan, "--mask", kDroneArea, "--out", dir.file("a.tif")}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "three visible bands")) << r.err;

  const std::string copy = dir.file("copy.tif");
  fs::copy_file(from_root(kDrone), copy);
  r = run_cli(fast({"inpaint", "--raster", copy, "--mask", kDroneArea, "--out", copy}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "is the input")) << r.err;
  EXPECT_EQ(read_all(copy), read_all(from_root(kDrone)));

  const std::string far = dir.file("far.geojson");
  std::ofstream(far) << R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32633"}},
    "features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[500000,5000000],[500100,5000000],[500100,5000100],[500000,5000000]]]}}]})";
  r = run_cli(fast({"inpaint", "--raster", kDrone, "--mask", far, "--out", dir.file("b.tif")}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "does not overlap")) << r.err;

  r = run_cli({"inpaint", "--raster", kDrone, "--out", dir.file("c.tif")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--mask")) << r.err;

  EXPECT_FALSE(fs::exists(dir.file("a.tif")));
  EXPECT_FALSE(fs::exists(dir.file("b.tif")));
}
