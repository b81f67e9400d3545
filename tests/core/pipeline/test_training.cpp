// Training through the engine's own networks: a short run lowers the loss on a fixed batch,
// resumes from its checkpoint, and the exported package and segmenter serve an evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "terrasynth/engine/model.h"
#include "terrasynth/pipeline/evaluate.h"
#include "terrasynth/pipeline/training.h"
#include "terrasynth/test_paths.h"

namespace fs = std::filesystem;
using namespace terrasynth;

namespace {
const std::string kTiny = std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/configs/tiny.json";
const std::string kSegmenter = std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/configs/segmenter.json";

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(TERRASYNTH_TEST_BINARY_DIR) / "test-scratch" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
}  // namespace

TEST(Training, ShortRunLowersTheFixedBatchLossAndResumes) {
  const fs::path out = scratch("train-tiny");
  nlohmann::json overrides{{"output_dir", out.string()}, {"steps", 16}, {"checkpoint_every", 8}};
  const auto first = pipeline::run_training(kTiny, overrides.dump());
  EXPECT_FALSE(first.cancelled);
  EXPECT_EQ(first.steps_done, 16);
  EXPECT_LT(first.fixed_loss_after, first.fixed_loss_before) << "training must lower the loss";
  EXPECT_TRUE(std::isfinite(first.last_loss));
  EXPECT_TRUE(fs::exists(out / "loss.tsv"));
  EXPECT_TRUE(fs::exists(out / "model" / "unet" / "diffusion_pytorch_model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "model" / "training_items.json"));

  overrides["steps"] = 20;
  overrides["resume"] = "auto";
  const auto resumed = pipeline::run_training(kTiny, overrides.dump());
  EXPECT_EQ(resumed.first_step, 16);
  EXPECT_EQ(resumed.steps_done, 20);

  // The exported package loads and generates a georeference-free canvas.
  auto model = engine::Model::load((out / "model").string());
  engine::GenerateRequest request;
  request.width = 40;  // not a multiple of the network's size multiple: padded and cropped
  request.height = 24;
  request.sampler.steps = 2;
  const auto result = model->generate(request);
  EXPECT_EQ(result.image.width, 40);
  EXPECT_EQ(result.image.height, 24);
  for (float v : result.image.data) ASSERT_TRUE(v >= 0.f && v <= 1.f);
}

TEST(Training, CancelStopsAndKeepsACheckpoint) {
  const fs::path out = scratch("train-cancel");
  std::atomic<bool> cancel{false};
  pipeline::JobControl control;
  control.cancel = &cancel;
  int events = 0;
  control.progress = [&](double, const std::string& label) {
    if (label.rfind("train step 3/", 0) == 0) cancel = true;
    ++events;
  };
  nlohmann::json overrides{{"output_dir", out.string()}, {"steps", 50}};
  const auto result = pipeline::run_training(kTiny, overrides.dump(), control);
  EXPECT_TRUE(result.cancelled);
  EXPECT_LE(result.steps_done, 4);
  EXPECT_FALSE(result.checkpoint.empty());
  EXPECT_TRUE(fs::exists(result.checkpoint));
}

TEST(Training, BadConfigurationsAreClearErrors) {
  EXPECT_THROW(pipeline::run_training("/nonexistent/config.json", ""), std::exception);
  const fs::path out = scratch("train-bad");
  try {
    pipeline::run_training(kTiny, nlohmann::json{{"output_dir", out.string()}, {"crop", 50}}.dump());
    FAIL();
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("crop"), std::string::npos);
  }
  try {
    pipeline::run_training(kTiny, nlohmann::json{{"output_dir", out.string()}, {"kind", "gan"}}.dump());
    FAIL();
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("gan"), std::string::npos);
  }
}

// A refiner: the tiny configuration turned into a full-resolution RGB network trained on the
// low-noise timesteps only; placed in a package's refiner/ folder it takes over the steps below
// its timestep, and only those.
TEST(Training, ARefinerTrainsOnTheLowNoiseStepsAndTakesThemOver) {
  const fs::path base_out = scratch("refiner-base");
  pipeline::run_training(kTiny, nlohmann::json{{"output_dir", base_out.string()}, {"steps", 4}}.dump());
  const fs::path out = scratch("refiner");
  nlohmann::json overrides{
      {"output_dir", out.string()},
      {"steps", 16},
      {"max_timestep", 300},
      {"inpaint_probability", 0.0},
      {"unet", {{"in_channels", 3}, {"out_channels", 3}}},
      {"model", {{"conditioning", {{"latent", {{"factor", 1}, {"channels", 3}}}, {"layout", false}, {"inpaint", false}}}}}};
  const auto refiner = pipeline::run_training(kTiny, overrides.dump());
  EXPECT_EQ(refiner.steps_done, 16);
  EXPECT_LT(refiner.fixed_loss_after, refiner.fixed_loss_before) << "training must lower the loss";

  const fs::path package = scratch("refiner-package");
  fs::copy(base_out / "model", package, fs::copy_options::recursive);
  fs::copy(out / "model" / "unet", package / "refiner", fs::copy_options::recursive);
  auto set_refiner = [&](const nlohmann::json& refiner_entry) {
    std::ifstream in(package / "model.json");
    nlohmann::json manifest;
    in >> manifest;
    in.close();
    manifest["refiner"] = refiner_entry;
    std::ofstream(package / "model.json") << manifest.dump(2);
  };
  engine::GenerateRequest request;
  request.width = request.height = 64;
  request.sampler.steps = 4;  // trailing timesteps 999, 749, 499, 249
  request.sampler.seed = 5;

  set_refiner({{"folder", "refiner"}, {"below_timestep", 300}});
  auto model = engine::Model::load(package.string());
  EXPECT_EQ(model->info().refiner_below_timestep, 300);
  const auto refined = model->generate(request);
  const auto again = model->generate(request);
  EXPECT_EQ(refined.image.data, again.image.data) << "same seed, same pixels";
  request.sampler.refiner = false;
  const auto plain = model->generate(request);
  EXPECT_NE(refined.image.data, plain.image.data) << "the last step ran through the refiner";
  for (float v : refined.image.data) ASSERT_TRUE(v >= 0.f && v <= 1.f);

  // With detail_sigma the main network keeps the structure and the refiner adds the detail:
  // different from both, and nearer the main network's picture at a coarse scale.
  set_refiner({{"folder", "refiner"}, {"below_timestep", 300}, {"detail_sigma", 2.0}});
  request.sampler.refiner = true;
  const auto merged = engine::Model::load(package.string())->generate(request);
  EXPECT_NE(merged.image.data, plain.image.data);
  EXPECT_NE(merged.image.data, refined.image.data);
  auto coarse_difference = [](const engine::Image& a, const engine::Image& b) {
    double total = 0;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < a.height; y += 8)
        for (int x = 0; x < a.width; x += 8) {
          double d = 0;
          for (int dy = 0; dy < 8; ++dy)
            for (int dx = 0; dx < 8; ++dx) d += (a.at(c, y + dy, x + dx) - b.at(c, y + dy, x + dx)) / 64.0;
          total += d * d;
        }
    return total;
  };
  EXPECT_LT(coarse_difference(merged.image, plain.image), coarse_difference(refined.image, plain.image));

  // Below every step's timestep: the refiner is never called.
  set_refiner({{"folder", "refiner"}, {"below_timestep", 200}});
  request.sampler.refiner = true;
  EXPECT_EQ(engine::Model::load(package.string())->generate(request).image.data, plain.image.data);

  // A network that does not take RGB is refused with the reason.
  fs::remove_all(package / "refiner");
  fs::copy(base_out / "model" / "unet", package / "refiner", fs::copy_options::recursive);
  try {
    engine::Model::load(package.string());
    FAIL() << "a 104-channel refiner must be refused";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("3 (RGB) channels"), std::string::npos) << error.what();
  }
}

TEST(Evaluation, ReportsFidelityAndRealismOnAFewPairs) {
  const fs::path model_out = scratch("eval-model");
  pipeline::run_training(kTiny, nlohmann::json{{"output_dir", model_out.string()}, {"steps", 4}}.dump());
  const fs::path segmenter_out = scratch("eval-segmenter");
  const auto segmenter = pipeline::run_training(
      kSegmenter, nlohmann::json{{"output_dir", segmenter_out.string()},
                                 {"steps", 6},
                                 {"batch_size", 4},
                                 {"crop", 64},
                                 {"data", {{"limit", 12}}}}
                      .dump());
  EXPECT_EQ(segmenter.steps_done, 6);

  pipeline::EvaluateOptions options;
  options.model = (model_out / "model").string();
  options.segmenter = segmenter_out.string();
  options.pairs = std::string(TERRASYNTH_TEST_SHARED_DIR) + "/data/pairs/recife";
  options.dataset = "recife";
  options.limit = 6;
  options.size = 64;
  options.sampling.steps = 2;
  options.gallery = (model_out / "gallery.png").string();
  const auto report = pipeline::run_evaluate(options);
  EXPECT_EQ(report.evaluated, 6u);
  EXPECT_GT(report.skipped_training, 0u) << "the tiny model's training pairs are left out";
  EXPECT_GE(report.miou_generated, 0.0);
  EXPECT_LE(report.miou_generated, 1.0);
  EXPECT_GT(report.miou_real, 0.0);
  EXPECT_TRUE(std::isfinite(report.kid));
  EXPECT_TRUE(std::isfinite(report.kid_real_baseline));
  EXPECT_TRUE(fs::exists(options.gallery));
}
