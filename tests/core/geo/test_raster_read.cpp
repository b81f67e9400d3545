#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "geo_test_support.h"
#include "terrasynth/geo/raster.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

TEST(RasterRead, DescribesTheSpacenetRaster) {
  const RasterInfo info = read_raster_info(kSpacenetRaster);
  EXPECT_EQ(info.driver, "GTiff");
  EXPECT_EQ(info.grid.width, 900);
  EXPECT_EQ(info.grid.height, 900);
  EXPECT_EQ(info.bands, 1);
  EXPECT_EQ(info.type, DataType::UInt16);
  EXPECT_TRUE(info.georeferenced);
  EXPECT_DOUBLE_EQ(info.grid.geotransform[0], 733601.0);
  EXPECT_DOUBLE_EQ(info.grid.geotransform[1], 0.5);
  EXPECT_DOUBLE_EQ(info.grid.geotransform[5], -0.5);
  ASSERT_TRUE(info.nodata().has_value());
  EXPECT_EQ(*info.nodata(), 0.0);
  EXPECT_EQ(info.alpha_band, 0);
}

TEST(RasterRead, FindsTheAlphaBandOfTheDroneOrthophoto) {
  const RasterInfo info = read_raster_info(kDroneRaster);
  EXPECT_EQ(info.bands, 4);
  EXPECT_EQ(info.alpha_band, 4);
  EXPECT_EQ(info.band[0].color, ColorInterp::Red);
  EXPECT_EQ(info.band[2].color, ColorInterp::Blue);
}

TEST(RasterRead, MissingFileIsNotFoundNamingThePath) {
  const GeoError error = expect_geo_error([] { read_raster_info("/nonexistent/dir/raster.tif"); },
                                          GeoError::Kind::NotFound);
  EXPECT_TRUE(contains(error.what(), "/nonexistent/dir/raster.tif")) << error.what();
}

TEST(RasterRead, VectorFileIsAnIoErrorNamingThePath) {
  const GeoError error =
      expect_geo_error([] { RasterReader reader(kSpacenetBuildings); }, GeoError::Kind::Io);
  EXPECT_TRUE(contains(error.what(), "spacenet_atlanta_buildings.geojson")) << error.what();
}

TEST(RasterRead, WindowsMatchTheSameRegionOfAFullRead) {
  RasterReader reader(kSpacenetRaster);
  const auto full = reader.read<uint16_t>({0, 0, 900, 900});
  const Window window{100, 50, 64, 32};
  const auto part = reader.read<uint16_t>(window);
  ASSERT_EQ(part.size(), 64u * 32u);
  for (int y = 0; y < window.height; ++y)
    for (int x = 0; x < window.width; ++x)
      ASSERT_EQ(part[y * 64 + x], full[(y + 50) * 900 + x + 100]);
  EXPECT_GT(std::accumulate(part.begin(), part.end(), 0.0), 0.0);
}

TEST(RasterRead, BandSubsetsArePixelInterleavedInTheOrderAsked) {
  RasterReader reader(kNaip);
  const Window window{300, 200, 40, 30};
  const auto all = reader.read<uint8_t>(window);
  const auto picked = reader.read<uint8_t>(window, {3, 1});
  ASSERT_EQ(all.size(), 40u * 30u * 4u);
  ASSERT_EQ(picked.size(), 40u * 30u * 2u);
  for (size_t p = 0; p < 40u * 30u; ++p) {
    ASSERT_EQ(picked[p * 2 + 0], all[p * 4 + 2]);
    ASSERT_EQ(picked[p * 2 + 1], all[p * 4 + 0]);
  }
  const auto as_float = reader.read<float>(window, {2});
  for (size_t p = 0; p < 40u * 30u; ++p) ASSERT_EQ(as_float[p], static_cast<float>(all[p * 4 + 1]));
}

TEST(RasterRead, WindowsOutsideTheRasterAndMissingBandsAreRejected) {
  RasterReader reader(kSpacenetRaster);
  const GeoError error = expect_geo_error(
      [&] {
        reader.read<uint16_t>({890, 0, 20, 20});
      },
      GeoError::Kind::InvalidArgument);
  EXPECT_TRUE(contains(error.what(), "spacenet_atlanta_pan")) << error.what();
  expect_geo_error(
      [&] {
        reader.read<uint16_t>({0, 0, 10, 10}, {2});
      },
      GeoError::Kind::InvalidArgument);
}

TEST(RasterRead, ValidMaskFollowsNodata) {
  RasterReader reader(kLandsat);
  const Window window{0, 0, 791, 718};
  const auto band1 = reader.read<uint8_t>(window, {1});
  const auto mask = reader.read_valid_mask(window);
  size_t invalid = 0;
  for (size_t i = 0; i < mask.size(); ++i) {
    ASSERT_EQ(mask[i], band1[i] == 0 ? 0 : 255) << i;
    invalid += mask[i] == 0;
  }
  EXPECT_GT(invalid, 1000u);  // the scene's rotated footprint leaves nodata corners
}

TEST(RasterRead, ValidMaskFollowsAlpha) {
  {
    RasterReader reader(kDroneRaster);
    const Window window{0, 0, reader.info().grid.width, reader.info().grid.height};
    const auto alpha = reader.read<uint8_t>(window, {4});
    const auto mask = reader.read_valid_mask(window);
    for (size_t i = 0; i < mask.size(); ++i) ASSERT_EQ(mask[i], alpha[i] ? 255 : 0);
  }
  // An RGBA raster whose left half is transparent (alpha 0) and right half partly opaque.
  TempDir dir;
  RasterSpec spec;
  spec.grid = make_grid({0, 0, 64, 32}, "EPSG:32632", 1);
  spec.bands = 4;
  spec.band.resize(4);
  spec.band[3].color = ColorInterp::Alpha;
  std::vector<uint8_t> rgba(64 * 32 * 4, 200);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) rgba[(y * 64 + x) * 4 + 3] = 0;
  rgba[(5 * 64 + 40) * 4 + 3] = 1;
  {
    RasterWriter writer(dir.file("rgba.tif"), spec);
    writer.write(spec.grid.full_window(), rgba);
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  RasterReader reader(dir.file("rgba.tif"));
  EXPECT_EQ(reader.info().alpha_band, 4);
  const auto mask = reader.read_valid_mask(spec.grid.full_window());
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 64; ++x) ASSERT_EQ(mask[y * 64 + x], x < 32 ? 0 : 255) << x << "," << y;
}

TEST(RasterRead, AverageResamplingHalvesTheRaster) {
  EXPECT_GE(read_raster_info(kNaip).overviews, 1);  // reads at reduced size may use these
  RasterReader reader(kDroneRaster);
  ASSERT_EQ(reader.info().overviews, 0);
  const Window window{100, 100, 200, 200};
  const auto full = reader.read<uint8_t>(window, {1});
  std::vector<float> half(100 * 100);
  reader.read(window, DataType::Float32, half.data(), {1}, 100, 100, Resampling::Average);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 100; ++x) {
      const double mean = (full[(2 * y) * 200 + 2 * x] + full[(2 * y) * 200 + 2 * x + 1] +
                           full[(2 * y + 1) * 200 + 2 * x] + full[(2 * y + 1) * 200 + 2 * x + 1]) /
                          4.0;
      ASSERT_NEAR(half[y * 100 + x], mean, 0.51) << x << "," << y;
    }
}

TEST(RasterRead, ReprojectionRoundTripThroughLongitudeLatitude) {
  RasterReader reader(kSpacenetRaster);
  const Window window{300, 300, 300, 300};
  const Grid utm = reader.info().grid.subgrid(window);
  // Longitude/latitude grid three times finer than the raster, then back onto the UTM grid.
  const Extent lonlat = transform_extent(utm.extent(), utm.crs, "EPSG:4326");
  const double step_x = 0.5 / 3 / (111320.0 * std::cos(33.7 * M_PI / 180));
  const double step_y = 0.5 / 3 / 110900.0;
  const Grid geographic = make_grid(lonlat, "EPSG:4326", step_x, step_y);
  std::vector<uint16_t> there(static_cast<size_t>(geographic.width) * geographic.height);
  reader.read_on_grid(geographic, DataType::UInt16, there.data(), {1}, Resampling::Nearest, 0);

  TempDir dir;
  RasterSpec spec;
  spec.grid = geographic;
  spec.type = DataType::UInt16;
  spec.band.push_back({});
  spec.band[0].nodata = 0;
  {
    RasterWriter writer(dir.file("lonlat.tif"), spec);
    writer.write(geographic.full_window(), there);
    ASSERT_EQ(writer.commit(), Status::Ok);
  }
  RasterReader intermediate(dir.file("lonlat.tif"));
  std::vector<uint16_t> back(300 * 300);
  intermediate.read_on_grid(utm, DataType::UInt16, back.data(), {1}, Resampling::Nearest, 0);
  const auto original = reader.read<uint16_t>(window);
  size_t same = 0, compared = 0;
  for (int y = 5; y < 295; ++y)
    for (int x = 5; x < 295; ++x) {
      ++compared;
      same += back[y * 300 + x] == original[y * 300 + x];
    }
  EXPECT_GT(static_cast<double>(same) / compared, 0.999);
}

TEST(RasterRead, ReprojectionNeedsACrsOnBothSides) {
  RasterReader reader(kSpacenetRaster);
  Grid target = reader.info().grid;
  target.crs.clear();
  std::vector<uint16_t> out(900 * 900);
  expect_geo_error([&] { reader.read_on_grid(target, DataType::UInt16, out.data()); },
                   GeoError::Kind::BadCrs);
}

TEST(RasterRead, ParsesTypeAndResamplingNames) {
  EXPECT_EQ(parse_data_type("uint16"), DataType::UInt16);
  EXPECT_EQ(parse_data_type("Float32"), DataType::Float32);
  EXPECT_EQ(data_type_size(DataType::Float64), 8u);
  EXPECT_EQ(parse_resampling("Bilinear"), Resampling::Bilinear);
  const GeoError error =
      expect_geo_error([] { parse_resampling("sharpest"); }, GeoError::Kind::InvalidArgument);
  EXPECT_TRUE(contains(error.what(), "nearest")) << error.what();
}
