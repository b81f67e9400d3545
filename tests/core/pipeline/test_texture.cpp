// The texture bank (`terrasynth textures`) built from the real pairs in ../shared/data, its
// hardened reader, the texture step on an image and in a generation with the tiny model.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "job_test_support.h"
#include "terrasynth/pipeline/dataset.h"
#include "terrasynth/pipeline/texture.h"
#include "texture_step.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline {
namespace {

using testing::TempDir;
const std::string kData = std::string(TERRASYNTH_TEST_SHARED_DIR) + "/data";

// A small dubai bank (54 pairs: quick to read), shared by the tests of this file.
const std::string& dubai_bank() {
  static TempDir dir;
  static const std::string bank = [] {
    TextureBankOptions options;
    options.data_root = kData;
    options.out_dir = dir.file("bank");
    options.styles = {"dubai"};
    options.per_style = 4;
    options.size = 128;
    const TextureBankReport report = build_texture_bank(options);
    if (report.items.at("dubai").size() != 4) throw std::runtime_error("bank not built");
    return options.out_dir;
  }();
  return bank;
}

TEST(TextureBank, IsBuiltFromTheTrainingSplitCoveringTheClasses) {
  const std::string bank_dir = dubai_bank();
  std::ifstream in(fs::path(bank_dir) / "bank.json");
  const nlohmann::json manifest = nlohmann::json::parse(in);
  const auto& images = manifest.at("styles").at("dubai").at("images");
  ASSERT_EQ(images.size(), 4u);
  EXPECT_DOUBLE_EQ(manifest["styles"]["dubai"]["gsd"].get<double>(), source_info("dubai").gsd);
  for (const auto& image : images) {
    // Never a validation item: the id is the file stem, then " at x,y" for a crop.
    const std::string id = image["source_item"].get<std::string>();
    const std::string stem = id.substr(0, id.find(' '));
    EXPECT_FALSE(is_validation("dubai", stem, -1)) << id;
    EXPECT_TRUE(fs::exists(fs::path(bank_dir) / image["rgb"].get<std::string>()));
  }
  const auto bank = detail::load_texture_bank(bank_dir, static_cast<int>(class_names().size()));
  ASSERT_EQ(bank->styles.count("dubai"), 1u);
  const detail::StyleBank& styled = bank->styles.at("dubai");
  ASSERT_EQ(styled.examples.size(), 4u);
  // The greedy quarter covers several classes: more than one class in the bank.
  std::vector<size_t> counts(class_names().size(), 0);
  for (const auto& example : styled.examples) {
    EXPECT_EQ(example.rgb[0].width, 128);
    EXPECT_EQ(example.classes.size(), 128u * 128u);
    for (uint8_t id : example.classes) ++counts.at(id);
  }
  int present = 0;
  for (size_t count : counts) present += count > 0 ? 1 : 0;
  EXPECT_GE(present, 3);
}

TEST(TextureBank, BrokenManifestsAreClearErrors) {
  const std::string bank_dir = dubai_bank();
  TempDir dir;
  int n = 0;
  // A copy of the bank with its manifest changed; the error must name `expected`.
  auto expect_broken = [&](const std::function<void(nlohmann::json&)>& change, const std::string& expected,
                           int num_classes = 7) {
    const fs::path copy = dir.file("bank" + std::to_string(n++));
    fs::copy(bank_dir, copy);
    nlohmann::json manifest;
    {
      std::ifstream in(copy / "bank.json");
      manifest = nlohmann::json::parse(in);
    }
    change(manifest);
    std::ofstream(copy / "bank.json") << manifest.dump();
    try {
      detail::load_texture_bank(copy.string(), num_classes);
      ADD_FAILURE() << "no error for " << expected;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  expect_broken([](nlohmann::json& m) { m["styles"]["dubai"]["images"][0]["rgb"] = "../../etc/passwd"; },
                "plain file name");
  expect_broken([](nlohmann::json& m) { m["styles"]["dubai"]["gsd"] = -1; }, "'gsd'");
  expect_broken([](nlohmann::json& m) { m["styles"]["dubai"]["images"] = 3; }, "array 'images'");
  expect_broken([](nlohmann::json& m) { m["styles"] = nlohmann::json::array(); }, "'styles'");
  expect_broken([](nlohmann::json& m) { m["class_weight"] = "heavy"; }, "class_weight");
  expect_broken([](nlohmann::json& m) { m["styles"]["dubai"]["images"][1]["classes"] = m["styles"]["dubai"]["images"][1]["rgb"]; },
                "one band");
  expect_broken([](nlohmann::json&) {}, "is not one of the model's 2 classes", 2);
  // Not a bank at all, and not JSON.
  EXPECT_THROW(detail::load_texture_bank(dir.path(), 7), std::runtime_error);
  const fs::path garbage = dir.file("garbage");
  fs::create_directories(garbage);
  std::ofstream(garbage / "bank.json") << "{\"styles\": {";
  EXPECT_THROW(detail::load_texture_bank(garbage.string(), 7), std::runtime_error);
}

TEST(TextureBank, TheStepRebuildsDetailFollowingTheLayout) {
  const auto bank = detail::load_texture_bank(dubai_bank(), static_cast<int>(class_names().size()));
  const double gsd = source_info("dubai").gsd;
  // A flat image: water (class 4) left, bare ground (class 5) right, as a blurry generation.
  engine::Image image(3, 64, 96, 0.5f);
  engine::ClassMap layout(64, 96);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 96; ++x) layout.at(y, x) = x < 48 ? 4 : 5;
  engine::Image textured = image;
  const auto note = detail::apply_texture(*bank, "dubai", gsd, textured, layout, nullptr, 3, {});
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->find("patches of 4 dubai photos"), std::string::npos) << *note;
  // Detail where there was none.
  double variation = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 1; y < 64; ++y)
      for (int x = 1; x < 96; ++x) variation += std::abs(textured.at(c, y, x) - textured.at(c, y, x - 1));
  EXPECT_GT(variation / (3.0 * 63 * 95), 0.005);
  // Same seed, same pixels; another seed, other pixels.
  engine::Image again = image, other = image;
  detail::apply_texture(*bank, "dubai", gsd, again, layout, nullptr, 3, {});
  detail::apply_texture(*bank, "dubai", gsd, other, layout, nullptr, 4, {});
  EXPECT_EQ(again.data, textured.data);
  EXPECT_NE(other.data, textured.data);
  // A mask keeps the pixels it does not cover.
  engine::Mask mask(64, 96, 0.f);
  for (int y = 16; y < 48; ++y)
    for (int x = 24; x < 72; ++x) mask.at(y, x) = 1.f;
  engine::Image masked = image;
  ASSERT_TRUE(detail::apply_texture(*bank, "dubai", gsd, masked, layout, &mask, 3, {}).has_value());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 96; ++x) {
        if (mask.at(y, x) == 0) {
          ASSERT_EQ(masked.at(c, y, x), 0.5f);
        }
      }
  const engine::Mask small_mask(8, 8, 1.f);
  EXPECT_THROW(detail::apply_texture(*bank, "dubai", gsd, masked, layout, &small_mask, 3, {}), std::invalid_argument);
  // Not applicable: another style, a GSD over twice finer than the photos'. Cancelled: unchanged.
  engine::Image untouched = image;
  EXPECT_EQ(detail::apply_texture(*bank, "recife", gsd, untouched, layout, nullptr, 3, {}), std::string());
  EXPECT_EQ(detail::apply_texture(*bank, "dubai", gsd / 3, untouched, layout, nullptr, 3, {}), std::string());
  EXPECT_FALSE(detail::apply_texture(*bank, "dubai", gsd, untouched, layout, nullptr, 3, [] { return true; }));
  EXPECT_EQ(untouched.data, image.data);
}

TEST(TextureBank, GenerationRecordsAndAppliesTheStep) {
  TempDir dir;
  GenerateJob job = testing::tiny_job(dir.file("plain.tif"));
  job.extent = std::array<double, 4>{500000, 5200000, 500096, 5200064};
  job.crs = "EPSG:32632";
  job.gsd = 1.2;
  job.style = "dubai";
  GenerateJob textured = job;
  textured.output = dir.file("textured.tif");
  textured.sampling.texture_bank = dubai_bank();
  const JobResult result = run_generate(textured);
  ASSERT_FALSE(result.cancelled);
  run_generate(job);
  const geo::RasterInfo info = geo::read_raster_info(textured.output);
  EXPECT_NE(info.metadata.at("TERRASYNTH_TEXTURE").find("patches of 4 dubai photos from"), std::string::npos)
      << info.metadata.at("TERRASYNTH_TEXTURE");
  EXPECT_EQ(geo::read_raster_info(job.output).metadata.at("TERRASYNTH_TEXTURE"), "off");
  EXPECT_NE(testing::read_all(textured.output), testing::read_all(job.output));

  // A style the bank lacks: a warning, provenance "none", the network's pixels.
  GenerateJob other = textured;
  other.style = "landcoverai";
  other.output = dir.file("other.tif");
  const JobResult other_result = run_generate(other);
  ASSERT_FALSE(other_result.warnings.empty());
  EXPECT_NE(other_result.warnings.back().find("no photos of style 'landcoverai'"), std::string::npos);
  EXPECT_EQ(geo::read_raster_info(other.output).metadata.at("TERRASYNTH_TEXTURE"), "none");
  // A folder that is no bank: a clear error before anything is written.
  GenerateJob broken = textured;
  broken.output = dir.file("broken.tif");
  broken.sampling.texture_bank = dir.path();
  EXPECT_THROW(run_generate(broken), std::runtime_error);
  EXPECT_FALSE(fs::exists(broken.output));
}

}  // namespace
}  // namespace terrasynth::pipeline
