#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "geo_test_support.h"
#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/raster.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

namespace {

Grid test_grid(int width, int height) {
  Grid grid =
      make_grid({500000, 5200000, 500000 + width * 2.0, 5200000 + height * 2.0}, "EPSG:32632", 2.0);
  return grid;
}

std::vector<uint8_t> pattern(const Window& w, int bands) {
  std::vector<uint8_t> values(static_cast<size_t>(w.pixels()) * bands);
  for (int y = 0; y < w.height; ++y)
    for (int x = 0; x < w.width; ++x)
      for (int b = 0; b < bands; ++b)
        values[(static_cast<size_t>(y) * w.width + x) * bands + b] =
            static_cast<uint8_t>((w.x + x) * 3 + (w.y + y) * 7 + b * 50);
  return values;
}

RasterSpec rgb_spec(int width, int height) {
  RasterSpec spec;
  spec.grid = test_grid(width, height);
  spec.bands = 3;
  spec.band.resize(3);
  spec.band[0].color = ColorInterp::Red;
  spec.band[1].color = ColorInterp::Green;
  spec.band[2].color = ColorInterp::Blue;
  return spec;
}

void write_all(RasterWriter& writer, int bands) {
  for (const Window& w : writer.windows(1)) writer.write(w, pattern(w, bands));
}

}  // namespace

TEST(RasterWrite, BlocksWrittenByWindowsReadBackExactly) {
  TempDir dir;
  const std::string path = dir.file("rgb.tif");
  {
    RasterWriter writer(path, rgb_spec(1000, 700));
    EXPECT_EQ(writer.windows(1).size(), 4u);
    write_all(writer, 3);
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  RasterReader reader(path);
  const RasterInfo& info = reader.info();
  EXPECT_EQ(info.grid.width, 1000);
  EXPECT_EQ(info.bands, 3);
  EXPECT_EQ(info.block_width, 512);
  EXPECT_EQ(info.block_height, 512);
  EXPECT_EQ(info.compression, "DEFLATE");
  EXPECT_EQ(info.band[0].color, ColorInterp::Red);
  EXPECT_TRUE(info.grid.same_as(test_grid(1000, 700)));
  const Window all{0, 0, 1000, 700};
  EXPECT_EQ(reader.read<uint8_t>(all), pattern(all, 3));
}

TEST(RasterWrite, PixelsNeverWrittenHoldNodata) {
  TempDir dir;
  RasterSpec spec;
  spec.grid = test_grid(300, 200);
  spec.type = DataType::Int16;
  spec.band.resize(1);
  spec.band[0].nodata = -9999;
  {
    RasterWriter writer(dir.file("sparse.tif"), spec);
    writer.write<int16_t>({10, 10, 2, 1}, {42, -7});
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  RasterReader reader(dir.file("sparse.tif"));
  const auto values = reader.read<int16_t>({0, 0, 300, 200});
  EXPECT_EQ(values[10 * 300 + 10], 42);
  EXPECT_EQ(values[10 * 300 + 11], -7);
  EXPECT_EQ(values[0], -9999);
  EXPECT_EQ(values[199 * 300 + 299], -9999);
}

TEST(RasterWrite, NodataAlphaDescriptionsAndTagsRoundTrip) {
  TempDir dir;
  RasterSpec spec = rgb_spec(256, 128);
  spec.bands = 4;
  spec.band.resize(4);
  spec.band[3].color = ColorInterp::Alpha;
  const char* names[] = {"red", "green", "blue", "alpha"};
  for (int b = 0; b < 4; ++b) spec.band[b].description = names[b];
  spec.band[0].metadata["WAVELENGTH"] = "650nm";
  spec.metadata["TERRASYNTH_MODEL"] = "terrasynth-base";
  spec.metadata["TERRASYNTH_SEED"] = "42";
  {
    RasterWriter writer(dir.file("rgba.tif"), spec);
    write_all(writer, 4);
    writer.set_metadata("TERRASYNTH_STEPS", "20");
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  const RasterInfo info = read_raster_info(dir.file("rgba.tif"));
  EXPECT_EQ(info.alpha_band, 4);
  for (int b = 0; b < 4; ++b) EXPECT_EQ(info.band[b].description, names[b]);
  EXPECT_EQ(info.band[0].metadata.at("WAVELENGTH"), "650nm");
  EXPECT_EQ(info.metadata.at("TERRASYNTH_MODEL"), "terrasynth-base");
  EXPECT_EQ(info.metadata.at("TERRASYNTH_SEED"), "42");
  EXPECT_EQ(info.metadata.at("TERRASYNTH_STEPS"), "20");

  RasterSpec floats;
  floats.grid = test_grid(64, 64);
  floats.type = DataType::Float32;
  floats.band.resize(1);
  floats.band[0].nodata = -3.5;
  {
    RasterWriter writer(dir.file("float.tif"), floats);
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  EXPECT_EQ(read_raster_info(dir.file("float.tif")).nodata().value_or(0), -3.5);
}

TEST(RasterWrite, ClassRasterCarriesPaletteAndCategoryNames) {
  TempDir dir;
  const Grid grid = test_grid(100, 100);
  {
    RasterWriter writer(dir.file("classes.tif"), class_raster_spec(grid));
    std::vector<uint8_t> values(100 * 100, kUnknownClass);
    for (int i = 0; i < 7; ++i) values[i] = static_cast<uint8_t>(i);
    writer.write(grid.full_window(), values);
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  const RasterInfo info = read_raster_info(dir.file("classes.tif"));
  EXPECT_EQ(info.type, DataType::Byte);
  EXPECT_EQ(info.nodata().value_or(0), 255.0);
  EXPECT_EQ(info.band[0].color, ColorInterp::Palette);
  ASSERT_GE(info.band[0].color_table.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(info.band[0].color_table[i][0], class_palette()[i][0]);
    EXPECT_EQ(info.band[0].color_table[i][2], class_palette()[i][2]);
  }
  ASSERT_GE(info.band[0].category_names.size(), 7u);
  EXPECT_EQ(info.band[0].category_names[1], "building");
  EXPECT_EQ(info.band[0].category_names[6], "sand");
  EXPECT_EQ(info.band[0].metadata.at("CLASS_2"), "road");
}

TEST(RasterWrite, TargetAppearsOnlyAtCommitAndNoTemporaryRemains) {
  TempDir dir;
  const std::string path = dir.file("atomic.tif");
  RasterWriter writer(path, rgb_spec(600, 600));
  write_all(writer, 3);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(writer.temporary_path()));
  EXPECT_EQ(std::filesystem::path(writer.temporary_path()).parent_path(),
            std::filesystem::path(dir.path()));
  ASSERT_EQ(writer.commit(), Status::Ok);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"atomic.tif"});
}

TEST(RasterWrite, ExceptionMidWriteLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.file("broken.tif");
  try {
    RasterWriter writer(path, rgb_spec(1000, 1000));
    int written = 0;
    for (const Window& w : writer.windows(1)) {
      if (written++ == 2) throw std::runtime_error("generation failed mid-way");
      writer.write(w, pattern(w, 3));
    }
    FAIL() << "the loop should have thrown";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "generation failed mid-way");
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(RasterWrite, CancelledCommitLeavesNoFileAndKeepsTheOldTarget) {
  TempDir dir;
  const std::string path = dir.file("keep.tif");
  std::ofstream(path) << "previous result";
  std::atomic<bool> cancel{false};
  Control control;
  control.cancel = &cancel;
  control.progress = [&](double, const std::string&) { cancel = true; };
  WriteOptions options;
  options.overviews = true;
  RasterWriter writer(path, rgb_spec(1500, 1500), options);
  write_all(writer, 3);
  EXPECT_EQ(writer.commit(control), Status::Cancelled);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.tif"});
  std::ifstream kept(path);
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "previous result");

  cancel = false;
  control.progress = nullptr;
  RasterWriter early(dir.file("early.tif"), rgb_spec(64, 64));
  cancel = true;
  EXPECT_EQ(early.commit(control), Status::Cancelled);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.tif"});
}

TEST(RasterWrite, CogHasOverviewsAndTheSamePixels) {
  TempDir dir;
  const std::string path = dir.file("cog.tif");
  WriteOptions options;
  options.format = RasterFormat::COG;
  options.block_size = 256;
  std::vector<double> fractions;
  Control control;
  control.progress = [&](double f, const std::string&) { fractions.push_back(f); };
  {
    RasterWriter writer(path, rgb_spec(1200, 900), options);
    write_all(writer, 3);
    ASSERT_EQ(writer.commit(control), Status::Ok);
  }
  ASSERT_FALSE(fractions.empty());
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  RasterReader reader(path);
  EXPECT_EQ(reader.info().layout, "COG");
  EXPECT_GE(reader.info().overviews, 2);
  EXPECT_EQ(reader.info().block_width, 256);
  const Window all{0, 0, 1200, 900};
  EXPECT_EQ(reader.read<uint8_t>(all), pattern(all, 3));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"cog.tif"});
}

TEST(RasterWrite, GeoTiffInternalOverviewsNeedNoSidecar) {
  TempDir dir;
  WriteOptions options;
  options.overviews = true;
  {
    RasterWriter writer(dir.file("ovr.tif"), rgb_spec(1100, 600), options);
    write_all(writer, 3);
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  EXPECT_GE(read_raster_info(dir.file("ovr.tif")).overviews, 2);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ovr.tif"});
}

TEST(RasterWrite, OutputEqualToAnInputIsRefused) {
  TempDir dir;
  const std::string input = dir.file("input.tif");
  {
    RasterWriter writer(input, rgb_spec(32, 32));
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  WriteOptions options;
  options.inputs = {input};
  const GeoError error = expect_geo_error(
      [&] { RasterWriter writer(dir.path() + "/./input.tif", rgb_spec(32, 32), options); },
      GeoError::Kind::OutputIsInput);
  EXPECT_TRUE(contains(error.what(), "input.tif")) << error.what();
  std::filesystem::create_directory(dir.file("sub"));
  expect_geo_error([&] { check_output_path(dir.path() + "/sub/../input.tif", {input}); },
                   GeoError::Kind::OutputIsInput);
  std::filesystem::create_symlink(input, dir.file("link.tif"));
  expect_geo_error([&] { check_output_path(dir.file("link.tif"), {input}); },
                   GeoError::Kind::OutputIsInput);
  EXPECT_NO_THROW(check_output_path(dir.file("other.tif"), {input}));
}

TEST(RasterWrite, MissingOutputFolderIsUnwritableNamingIt) {
  const GeoError error =
      expect_geo_error([] { RasterWriter writer("/nonexistent-folder/out.tif", rgb_spec(32, 32)); },
                       GeoError::Kind::Unwritable);
  EXPECT_TRUE(contains(error.what(), "/nonexistent-folder")) << error.what();
  TempDir dir;
  expect_geo_error([&] { check_output_path(dir.path()); }, GeoError::Kind::InvalidArgument);
}

TEST(RasterWrite, WrongWindowsAndBufferSizesAreRejected) {
  TempDir dir;
  RasterWriter writer(dir.file("x.tif"), rgb_spec(100, 100));
  expect_geo_error(
      [&] {
        writer.write({90, 90, 20, 20}, pattern({90, 90, 20, 20}, 3));
      },
      GeoError::Kind::InvalidArgument);
  expect_geo_error(
      [&] {
        writer.write<uint8_t>({0, 0, 10, 10}, std::vector<uint8_t>(10));
      },
      GeoError::Kind::InvalidArgument);
  expect_geo_error(
      [&] {
        writer.write({0, 0, 10, 10}, pattern({0, 0, 10, 10}, 1), {4});
      },
      GeoError::Kind::InvalidArgument);
}
