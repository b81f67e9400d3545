#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "job_test_support.h"
#include "terrasynth/engine/error.h"
#include "terrasynth/geo/crs.h"
#include "terrasynth/geo/error.h"
#include "terrasynth/geo/layout.h"

namespace terrasynth::pipeline {
namespace {

using namespace testing;
namespace fs = std::filesystem;

// 48 m x 40 m in UTM 32N: 96 x 80 px at 0.5 m, inside the model's GSD range.
GenerateJob utm_job(const std::string& output) {
  GenerateJob job = tiny_job(output);
  job.extent = std::array<double, 4>{500000, 5200000, 500048, 5200040};
  job.crs = "EPSG:32632";
  job.gsd = 0.5;
  return job;
}

// An extent in longitude and latitude (around Vaduz) at 1 m per pixel.
GenerateJob lonlat_job(const std::string& output, const std::array<double, 4>& extent) {
  GenerateJob job = tiny_job(output);
  job.extent = extent;
  job.crs = "EPSG:4326";
  job.gsd = 1.0;
  return job;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream file(path);
  return nlohmann::json::parse(file);
}

template <class Error, class Body>
Error expect_error(Body&& body) {
  try {
    body();
  } catch (const Error& error) {
    return error;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "unexpected error type: " << error.what();
    throw;
  }
  ADD_FAILURE() << "expected an error";
  throw std::runtime_error("no error");
}

TEST(Generate, ProjectedExtentIsGeoreferencedExactlyWithProvenanceAndStac) {
  TempDir dir;
  const GenerateJob job = utm_job(dir.file("utm.tif"));
  std::vector<std::string> labels;
  JobControl control;
  control.progress = [&](double, const std::string& label) { labels.push_back(label); };
  const JobResult result = run_generate(job, control);
  ASSERT_FALSE(result.cancelled);
  EXPECT_EQ(result.output, job.output);
  EXPECT_TRUE(result.warnings.empty()) << result.warnings.front();
  EXPECT_TRUE(any_contains(labels, "chunk 1/1"));

  const geo::RasterInfo info = geo::read_raster_info(job.output);
  EXPECT_EQ(info.grid.width, 96);
  EXPECT_EQ(info.grid.height, 80);
  EXPECT_TRUE(geo::crs_equivalent(info.grid.crs, "EPSG:32632"));
  const std::array<double, 6> expected{500000, 0.5, 0, 5200040, 0, -0.5};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(info.grid.geotransform[i], expected[i], 1e-9);
  EXPECT_EQ(info.bands, 3);
  EXPECT_EQ(info.type, geo::DataType::Byte);
  EXPECT_EQ(info.band[0].color, geo::ColorInterp::Red);
  EXPECT_EQ(info.band[2].color, geo::ColorInterp::Blue);
  EXPECT_EQ(info.compression, "DEFLATE");
  EXPECT_GE(info.overviews, 1);
  EXPECT_EQ(info.metadata.at("TERRASYNTH_MODEL"), "terrasynth-tiny");
  EXPECT_EQ(info.metadata.at("TERRASYNTH_SEED"), "7");
  EXPECT_EQ(info.metadata.at("TERRASYNTH_STEPS"), "2");
  EXPECT_EQ(info.metadata.at("TERRASYNTH_SAMPLER"), "dpmpp_2m");
  EXPECT_EQ(info.metadata.at("TERRASYNTH_LAYOUT"), "none");
  EXPECT_TRUE(contains(info.metadata.at("TIFFTAG_SOFTWARE"), "Terrasynth"));

  // Not a blank image: the tiny model's pixels vary.
  const auto pixels = read_all(job.output);
  double lo = 255, hi = 0;
  for (double v : pixels) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GT(hi - lo, 10);

  ASSERT_EQ(result.stac, dir.file("utm.json"));
  const nlohmann::json stac = read_json(result.stac);
  EXPECT_EQ(stac["type"], "Feature");
  EXPECT_EQ(stac["stac_version"], "1.0.0");
  EXPECT_EQ(stac["id"], "utm");
  EXPECT_EQ(stac["properties"]["proj:epsg"], 32632);
  EXPECT_EQ(stac["properties"]["proj:shape"], nlohmann::json({80, 96}));
  EXPECT_EQ(stac["properties"]["proj:transform"],
            nlohmann::json({0.5, 0.0, 500000.0, 0.0, -0.5, 5200040.0}));
  EXPECT_EQ(stac["properties"]["gsd"], 0.5);
  EXPECT_EQ(stac["properties"]["terrasynth:seed"], "7");
  EXPECT_EQ(stac["assets"]["image"]["href"], "utm.tif");
  EXPECT_EQ(stac["assets"]["image"]["type"], "image/tiff; application=geotiff");
  // UTM 32N easting 500000 is longitude 9 E; northing 5.2e6 is about 46.95 N.
  const auto bbox = stac["bbox"];
  EXPECT_NEAR(bbox[0].get<double>(), 9.0, 1e-3);
  EXPECT_NEAR(bbox[1].get<double>(), 46.95, 0.01);
  EXPECT_EQ(stac["geometry"]["coordinates"][0].size(), 33u);

  // The same request gives the same pixels (seeded, position-based noise).
  GenerateJob again = job;
  again.output = dir.file("again.tif");
  run_generate(again);
  EXPECT_EQ(read_all(again.output), pixels);
}

TEST(Generate, GeographicExtentStaysInItsCrsWithSquareGroundPixels) {
  TempDir dir;
  GenerateJob job = lonlat_job(dir.file("vaduz.tif"), {9.5200, 47.1350, 9.5210, 47.1358});
  job.cog = true;
  const JobPlan plan = plan_generate(job);
  EXPECT_EQ(geo::crs_authority_code(plan.work_crs).value_or(""), "EPSG:32632");
  EXPECT_DOUBLE_EQ(plan.work_gsd, 1.0);
  EXPECT_GT(plan.estimated_seconds, 0);
  const JobResult result = run_generate(job);
  const geo::RasterInfo info = geo::read_raster_info(job.output);
  EXPECT_TRUE(geo::crs_equivalent(info.grid.crs, "EPSG:4326"));
  EXPECT_EQ(info.layout, "COG");
  // The extent as requested, snapped outward by less than a pixel.
  const geo::Extent e = info.grid.extent();
  const double px = info.grid.pixel_width(), py = info.grid.pixel_height();
  EXPECT_LE(e.xmin, 9.5200 + 1e-12);
  EXPECT_GT(e.xmin, 9.5200 - px);
  EXPECT_GE(e.xmax, 9.5210 - 1e-12);
  EXPECT_LT(e.xmax, 9.5210 + px);
  EXPECT_LE(e.ymin, 47.1350 + 1e-12);
  EXPECT_GE(e.ymax, 47.1358 - 1e-12);
  EXPECT_LT(e.ymax, 47.1358 + py);
  // 1 m on the ground at the centre, along both axes.
  const geo::GroundResolution ground = geo::ground_resolution(info.grid);
  EXPECT_NEAR(ground.x, 1.0, 0.01);
  EXPECT_NEAR(ground.y, 1.0, 0.01);
  EXPECT_NEAR(info.grid.width, 0.001 * 75700, 3);   // about 75.7 km per degree of longitude
  EXPECT_NEAR(info.grid.height, 0.0008 * 111200, 3);
  // Resampled from the UTM working grid: the whole output holds generated pixels.
  const auto pixels = read_all(job.output);
  size_t black = 0;
  for (size_t i = 0; i < pixels.size(); i += 3) black += pixels[i] + pixels[i + 1] + pixels[i + 2] == 0;
  EXPECT_LT(black, pixels.size() / 3 / 100);
  EXPECT_EQ(read_json(result.stac)["assets"]["image"]["type"],
            "image/tiff; application=geotiff; profile=cloud-optimized");
}

TEST(Generate, RotatedBoxLayoutConditionsTheImage) {
  TempDir dir;
  // Oriented object boxes, as in AeroGen, with class names and ids.
  const std::string layout = dir.write(
      "boxes.geojson",
      geojson({{rotated_box(500012, 5200020, 14, 6, 30), "building"},
               {rotated_box(500034, 5200012, 16, 5, -20), "2"},
               {{{500026, 5200026}, {500046, 5200026}, {500046, 5200039}, {500026, 5200039}}, "water"}},
              32632));
  GenerateJob plain = utm_job(dir.file("plain.tif"));
  GenerateJob with_layout = utm_job(dir.file("layout.tif"));
  with_layout.layout.path = layout;
  with_layout.layout.class_field = "class";
  const JobResult result = run_generate(with_layout);
  EXPECT_TRUE(result.warnings.empty());
  run_generate(plain);
  const geo::RasterInfo info = geo::read_raster_info(with_layout.output);
  EXPECT_TRUE(contains(info.metadata.at("TERRASYNTH_LAYOUT"), "boxes.geojson"));
  // Same seed and noise: the layout is what changes the pixels, mostly inside the features.
  const auto a = read_all(plain.output), b = read_all(with_layout.output);
  const auto boxes = geo::rasterize_mask(layout, info.grid);
  double inside = 0, outside = 0;
  size_t n_in = 0, n_out = 0;
  for (size_t i = 0; i < boxes.size(); ++i) {
    double d = 0;
    for (int c = 0; c < 3; ++c) d += std::abs(a[i * 3 + c] - b[i * 3 + c]);
    (boxes[i] ? inside : outside) += d;
    (boxes[i] ? n_in : n_out) += 1;
  }
  ASSERT_GT(n_in, 100u);
  EXPECT_GT(inside / n_in, 1.0);
}

TEST(Generate, RegionGivesAnAlphaBandThatIsZeroOutside) {
  TempDir dir;
  const std::string region = dir.write(
      "region.geojson",
      geojson({{{{500004, 5200004}, {500044, 5200004}, {500024, 5200036}}, "other"}}, 32632));
  GenerateJob job = tiny_job(dir.file("region.tif"));
  job.region_path = region;
  job.gsd = 0.5;
  const JobResult result = run_generate(job);
  const geo::RasterInfo info = geo::read_raster_info(job.output);
  ASSERT_EQ(info.bands, 4);
  EXPECT_EQ(info.alpha_band, 4);
  // The region's extent, snapped: 40 m x 32 m.
  EXPECT_EQ(info.grid.width, 80);
  EXPECT_EQ(info.grid.height, 64);
  const auto inside = geo::rasterize_mask(region, info.grid);
  const auto pixels = read_all(job.output);
  size_t n_inside = 0;
  for (size_t i = 0; i < inside.size(); ++i) {
    ASSERT_EQ(pixels[i * 4 + 3], inside[i] ? 255 : 0) << i;
    if (!inside[i]) {
      ASSERT_EQ(pixels[i * 4] + pixels[i * 4 + 1] + pixels[i * 4 + 2], 0);
    }
    n_inside += inside[i];
  }
  EXPECT_GT(n_inside, 1000u);
  EXPECT_LT(n_inside, inside.size() * 3 / 4);
  EXPECT_EQ(result.plan.width, 80);
}

TEST(Generate, LargeOutputsStreamThroughBoundedMemory) {
  TempDir dir;
  GenerateJob job = utm_job(dir.file("chunks.tif"));
  job.extent = std::array<double, 4>{500000, 5200000, 500096, 5200072};  // 192 x 144 px
  job.tiles.chunk = 48;
  int previews = 0;
  JobControl control;
  control.preview = [&](int w, int h, const std::vector<uint8_t>& rgb) {
    ++previews;
    EXPECT_EQ(rgb.size(), static_cast<size_t>(w) * h * 3);
  };
  const JobResult result = run_generate(job, control);
  EXPECT_GE(result.plan.chunks, 9);
  EXPECT_EQ(previews, result.plan.chunks);
  // Rows held: one chunk row and the margin above it, a fraction of the 144 rows.
  EXPECT_GT(result.peak_rows_in_memory, 0);
  EXPECT_LE(result.peak_rows_in_memory, 48 + 40);
  EXPECT_LT(result.peak_rows_in_memory, 144);
  // Every chunk reached the file.
  const auto pixels = read_all(job.output);
  for (int y = 0; y < 144; y += 8) {
    double row_sum = 0;
    for (int x = 0; x < 192; ++x) row_sum += pixels[(static_cast<size_t>(y) * 192 + x) * 3];
    EXPECT_GT(row_sum, 0) << "row " << y;
  }
}

TEST(Generate, CancelLeavesNoFile) {
  TempDir dir;
  GenerateJob job = utm_job(dir.file("cancelled.tif"));
  job.tiles.chunk = 48;
  std::atomic<bool> cancel{false};
  JobControl control;
  control.cancel = &cancel;
  control.progress = [&](double, const std::string& label) {
    if (contains(label, "chunk 2/")) cancel = true;
  };
  const JobResult result = run_generate(job, control);
  EXPECT_TRUE(result.cancelled);
  EXPECT_TRUE(result.output.empty());
  EXPECT_TRUE(dir.entries().empty()) << dir.entries().front();
}

TEST(Generate, ClampedGsdWarnsAndResamplesToTheRequestedGrid) {
  TempDir dir;
  GenerateJob job = utm_job(dir.file("fine.tif"));
  job.extent = std::array<double, 4>{500000, 5200000, 500010, 5200008};
  job.gsd = 0.1;  // finer than the tiny model's 0.25 m
  std::vector<std::string> warned;
  JobControl control;
  control.warning = [&](const std::string& message) { warned.push_back(message); };
  const JobResult result = run_generate(job, control);
  ASSERT_EQ(warned.size(), 1u);
  EXPECT_TRUE(contains(warned[0], "finer")) << warned[0];
  EXPECT_TRUE(contains(warned[0], "25 cm")) << warned[0];
  EXPECT_EQ(result.warnings, warned);
  EXPECT_DOUBLE_EQ(result.plan.work_gsd, 0.25);
  const geo::RasterInfo info = geo::read_raster_info(job.output);
  EXPECT_EQ(info.grid.width, 100);
  EXPECT_EQ(info.grid.height, 80);
  EXPECT_NEAR(info.grid.pixel_width(), 0.1, 1e-12);
  EXPECT_EQ(result.plan.work_width, 40);
}

TEST(Generate, BadInputsGiveTypedErrorsNamingTheProblem) {
  TempDir dir;
  const std::string out = dir.file("bad.tif");
  {
    GenerateJob job = utm_job(out);
    job.crs = "EPSG:999999";
    const auto error = expect_error<geo::GeoError>([&] { plan_generate(job); });
    EXPECT_EQ(error.kind(), geo::GeoError::Kind::BadCrs);
    EXPECT_TRUE(contains(error.what(), "EPSG:999999")) << error.what();
  }
  {
    GenerateJob job = utm_job(out);
    job.extent = std::array<double, 4>{500048, 5200000, 500000, 5200040};
    const auto error = expect_error<geo::GeoError>([&] { plan_generate(job); });
    EXPECT_EQ(error.kind(), geo::GeoError::Kind::BadExtent);
  }
  {
    GenerateJob job = utm_job(out);
    job.extent = std::array<double, 4>{500000, 5200000, 500000, 5200040};
    EXPECT_THROW(plan_generate(job), geo::GeoError);
  }
  {
    GenerateJob job = utm_job(out);
    job.style = "atlantis";
    const auto error = expect_error<engine::EngineError>([&] { plan_generate(job); });
    EXPECT_TRUE(contains(error.what(), "atlantis")) << error.what();
    EXPECT_TRUE(contains(error.what(), "recife, landcoverai, dubai, aid")) << error.what();
  }
  {
    GenerateJob job = utm_job(out);
    job.scene = "moon_base";
    const auto error = expect_error<engine::EngineError>([&] { plan_generate(job); });
    EXPECT_TRUE(contains(error.what(), "dense_residential")) << error.what();
  }
  {
    GenerateJob job = utm_job(out);
    job.layout.path = dir.write(
        "unknown.geojson", geojson({{rotated_box(500010, 5200010, 5, 5, 0), "spaceport"}}, 32632));
    const auto error = expect_error<geo::GeoError>([&] { run_generate(job); });
    EXPECT_EQ(error.kind(), geo::GeoError::Kind::UnknownClass);
    EXPECT_TRUE(contains(error.what(), "spaceport")) << error.what();
    EXPECT_TRUE(contains(error.what(), "building")) << error.what();
  }
  {
    GenerateJob job = utm_job(out);
    job.model = dir.file("no-such-model");
    const auto error = expect_error<JobError>([&] { plan_generate(job); });
    EXPECT_EQ(error.kind(), JobError::Kind::ModelNotFound);
  }
  {
    GenerateJob job = utm_job(out);
    fs::create_directories(dir.file("corrupt"));
    dir.write("corrupt/model.json", "{\"format\": \"terrasynth-model\", \"classes\": ");
    job.model = dir.file("corrupt");
    const auto error = expect_error<engine::EngineError>([&] { plan_generate(job); });
    EXPECT_EQ(error.kind(), engine::EngineError::Kind::ModelFormat);
    EXPECT_TRUE(contains(error.what(), "model.json")) << error.what();
  }
  {
    // An incompatible package: a manifest whose classes do not match the UNet's inputs.
    const std::string copy = dir.file("incompatible");
    fs::copy(kTinyModel, copy, fs::copy_options::recursive);
    nlohmann::json manifest = read_json(copy + "/model.json");
    manifest["classes"].push_back({{"name", "glacier"}, {"colour", {250, 250, 255}}});
    std::ofstream(copy + "/model.json") << manifest.dump();
    GenerateJob job = utm_job(out);
    job.model = copy;
    const auto error = expect_error<engine::EngineError>([&] { run_generate(job); });
    EXPECT_EQ(error.kind(), engine::EngineError::Kind::ModelFormat);
    EXPECT_TRUE(contains(error.what(), "input channels")) << error.what();
  }
  {
    GenerateJob job = utm_job(dir.file("missing-folder/out.tif"));
    const auto error = expect_error<geo::GeoError>([&] { plan_generate(job); });
    EXPECT_EQ(error.kind(), geo::GeoError::Kind::Unwritable);
    EXPECT_TRUE(contains(error.what(), "missing-folder")) << error.what();
  }
  {
    GenerateJob job = utm_job(dir.file("out.png"));
    EXPECT_THROW(plan_generate(job), JobError);
  }
  {
    GenerateJob job = utm_job(out);
    job.extent.reset();
    EXPECT_THROW(plan_generate(job), JobError);
  }
  {
    // 24 km x 24 km at 0.5 m: 2.3 gigapixels need force.
    GenerateJob job = utm_job(out);
    job.extent = std::array<double, 4>{500000, 5200000, 524000, 5224000};
    const JobPlan plan = plan_generate(job);
    EXPECT_TRUE(plan.needs_force);
    EXPECT_EQ(plan.width, 48000);
    EXPECT_GT(plan.chunks, 2000);
    const auto error = expect_error<JobError>([&] { run_generate(job); });
    EXPECT_EQ(error.kind(), JobError::Kind::TooLarge);
    EXPECT_TRUE(contains(error.what(), "force")) << error.what();
  }
  EXPECT_TRUE(dir.entries().size() <= 4u);  // the helper files above, no output
  EXPECT_FALSE(fs::exists(out));
}

TEST(Generate, OsmBackgroundClassFillsUnmappedLand) {
  TempDir dir;
  // Central Vaduz: streets and a few buildings mapped, most land unmapped.
  GenerateJob other = lonlat_job(dir.file("other.tif"), {9.5195, 47.1385, 9.5229, 47.1408});
  other.layout.path = kLiechtenstein;
  GenerateJob none = other;
  none.output = dir.file("none.tif");
  none.layout.osm_background = "none";
  EXPECT_EQ(other.layout.osm_background, "other");  // the default
  run_generate(other);
  run_generate(none);
  EXPECT_TRUE(contains(geo::read_raster_info(other.output).metadata.at("TERRASYNTH_LAYOUT"),
                       "unmapped land as 'other'"));
  EXPECT_TRUE(contains(geo::read_raster_info(none.output).metadata.at("TERRASYNTH_LAYOUT"),
                       "unmapped land as unknown"));
  // Same seed: only the conditioning of the unmapped land differs, and it reaches the model.
  const auto a = read_all(other.output), b = read_all(none.output);
  ASSERT_EQ(a.size(), b.size());
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i] != b[i];
  EXPECT_GT(differing, a.size() / 10);

  GenerateJob bad = other;
  bad.output = dir.file("bad.tif");
  bad.layout.osm_background = "lava";
  const auto error = expect_error<engine::EngineError>([&] { plan_generate(bad); });
  EXPECT_EQ(error.kind(), engine::EngineError::Kind::InvalidArgument);
  EXPECT_TRUE(contains(error.what(), "'lava'")) << error.what();
  EXPECT_TRUE(contains(error.what(), "vegetation")) << error.what();
  EXPECT_FALSE(fs::exists(bad.output));
  // Only OSM layouts have unmapped land: a vector layout ignores the setting.
  GenerateJob vector = utm_job(dir.file("vector.tif"));
  vector.layout.path = dir.write(
      "box.geojson", geojson({{rotated_box(500012, 5200020, 14, 6, 30), "building"}}, 32632));
  vector.layout.osm_background = "lava";
  EXPECT_NO_THROW(plan_generate(vector));
}

TEST(Generate, LayoutOutsideTheExtentWarns) {
  TempDir dir;
  GenerateJob job = utm_job(dir.file("far.tif"));
  job.layout.path = dir.write(
      "far.geojson", geojson({{rotated_box(600000, 5300000, 20, 20, 0), "building"}}, 32632));
  std::vector<std::string> warned;
  JobControl control;
  control.warning = [&](const std::string& message) { warned.push_back(message); };
  const JobResult result = run_generate(job, control);
  EXPECT_FALSE(result.cancelled);
  EXPECT_TRUE(any_contains(warned, "no features inside the requested extent"));
  EXPECT_TRUE(fs::exists(job.output));
}

}  // namespace
}  // namespace terrasynth::pipeline
