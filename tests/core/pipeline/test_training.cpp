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
const std::string kDetail = std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/configs/terrasynth-base-detail.json";

// Sets one top-level entry of a package's model.json.
void set_entry(const fs::path& package, const char* key, const nlohmann::json& value) {
  std::ifstream in(package / "model.json");
  nlohmann::json manifest;
  in >> manifest;
  in.close();
  manifest[key] = value;
  std::ofstream(package / "model.json") << manifest.dump(2);
}

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
  try {
    pipeline::run_training(kDetail, nlohmann::json{{"output_dir", out.string()},
                                                   {"degrade", {{"blotch_probability", 0.5}, {"blotch_scale", 0}}}}
                                        .dump());
    FAIL();
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("blotch_scale"), std::string::npos) << error.what();
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
  auto set_refiner = [&](const nlohmann::json& refiner_entry) { set_entry(package, "refiner", refiner_entry); };
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

// A refiner that also takes the layout at full resolution (one channel per class after RGB,
// "layout": true in model.json's refiner entry): the layout reaches it on every window, so with
// the refiner running every step two layouts give two pictures; a refiner without the layout
// gives the same picture for both.
TEST(Training, ARefinerCanTakeTheLayoutAtFullResolution) {
  const fs::path base_out = scratch("layout-refiner-base");
  pipeline::run_training(kTiny, nlohmann::json{{"output_dir", base_out.string()}, {"steps", 2}}.dump());
  auto train_refiner = [&](const std::string& name, bool layout) {
    const fs::path out = scratch(name);
    nlohmann::json overrides{
        {"output_dir", out.string()},
        {"steps", 8},
        {"max_timestep", 500},
        {"inpaint_probability", 0.0},
        {"unet", {{"in_channels", layout ? 3 + 7 : 3}, {"out_channels", 3}}},
        {"model",
         {{"conditioning", {{"latent", {{"factor", 1}, {"channels", 3}}}, {"layout", layout}, {"inpaint", false}}}}}};
    const auto result = pipeline::run_training(kTiny, overrides.dump());
    EXPECT_LT(result.fixed_loss_after, result.fixed_loss_before) << name << ": training must lower the loss";
    return out / "model" / "unet";
  };
  const fs::path with_layout = train_refiner("layout-refiner", true);
  const fs::path without_layout = train_refiner("plain-refiner", false);

  const fs::path package = scratch("layout-refiner-package");
  fs::copy(base_out / "model", package, fs::copy_options::recursive);
  auto install = [&](const fs::path& unet, const nlohmann::json& refiner_entry) {
    fs::remove_all(package / "refiner");
    fs::copy(unet, package / "refiner", fs::copy_options::recursive);
    set_entry(package, "refiner", refiner_entry);
  };
  // Two windows of 64 px (tile 64, overlap 32) so the layout is cut per window too.
  engine::GenerateRequest request;
  request.width = 96;
  request.height = 64;
  request.gsd = 0.5;
  request.sampler.steps = 3;
  request.sampler.seed = 2;
  request.tiling.tile = 64;
  request.tiling.overlap = 32;
  auto layout = [](int split) {
    engine::ClassMap map(64, 96);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 96; ++x) map.at(y, x) = static_cast<uint8_t>(x < split ? 3 : 5);
    return map;
  };
  // The refiner takes every step (below timestep 1000) and gives the whole estimate.
  const nlohmann::json every_step{{"folder", "refiner"}, {"below_timestep", 1000}, {"layout", true}};
  install(with_layout, every_step);
  auto model = engine::Model::load(package.string());
  request.layout = layout(80);
  const auto a = model->generate(request);
  EXPECT_EQ(a.image.data, model->generate(request).image.data) << "same seed, same pixels";
  request.layout = layout(16);
  const auto b = model->generate(request);
  EXPECT_NE(a.image.data, b.image.data) << "the refiner saw the layout";
  for (float v : b.image.data) ASSERT_TRUE(v >= 0.f && v <= 1.f);

  install(without_layout, {{"folder", "refiner"}, {"below_timestep", 1000}});
  model = engine::Model::load(package.string());
  request.layout = layout(80);
  const auto c = model->generate(request);
  request.layout = layout(16);
  EXPECT_EQ(c.image.data, model->generate(request).image.data) << "a refiner without the layout never sees it";

  // The entry and the network must agree on the layout channels, and the error says so.
  install(without_layout, every_step);
  try {
    engine::Model::load(package.string());
    FAIL() << "a 3-channel refiner declared as taking the layout must be refused";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("one per class of the layout"), std::string::npos) << error.what();
  }
  install(with_layout, {{"folder", "refiner"}, {"below_timestep", 1000}});
  try {
    engine::Model::load(package.string());
    FAIL() << "a 10-channel refiner declared as taking RGB only must be refused";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("3 (RGB) channels"), std::string::npos) << error.what();
  }
}

// The detail decoder: a few adversarial steps on the real photos add fine detail to the
// bilinear start, the run resumes, and the exported decoder in a package's detail/ folder
// re-renders every generated image (and only then) with the same pixels for the same seed.
TEST(Training, TheDetailDecoderTrainsResumesAndRendersGeneratedImages) {
  const fs::path out = scratch("detail");
  nlohmann::json overrides{{"output_dir", out.string()},
                           {"steps", 8},
                           {"batch_size", 2},
                           {"crop", 64},
                           {"checkpoint_every", 4},
                           {"sample_every", 4},
                           {"log_every", 2},
                           {"decoder", {{"channels", {16, 12, 8}}, {"blocks", 1}}},
                           {"degrade", {{"blotch_probability", 0.5}}},
                           {"data", {{"limit", 12}}}};
  const auto first = pipeline::run_training(kDetail, overrides.dump());
  EXPECT_EQ(first.kind, "detail");
  EXPECT_FALSE(first.cancelled);
  EXPECT_EQ(first.steps_done, 8);
  EXPECT_TRUE(std::isfinite(first.first_loss) && std::isfinite(first.last_loss));
  EXPECT_GT(first.detail_ratio_after, first.detail_ratio_before)
      << "an untrained decoder is a bilinear upsampling; training adds fine detail";
  EXPECT_LT(first.low_pass_error_after, 0.1) << "and keeps the picture at 1/4 resolution";
  EXPECT_TRUE(fs::exists(out / "detail" / "config.json"));
  EXPECT_TRUE(fs::exists(out / "detail" / "detail.safetensors"));
  EXPECT_TRUE(fs::exists(out / "detail" / "training_items.json"));
  EXPECT_TRUE(fs::exists(out / "samples" / "step_0000004.png"));
  EXPECT_TRUE(fs::exists(out / "loss.tsv"));

  overrides["steps"] = 10;
  overrides["resume"] = "auto";
  const auto resumed = pipeline::run_training(kDetail, overrides.dump());
  EXPECT_EQ(resumed.first_step, 8);
  EXPECT_EQ(resumed.steps_done, 10);

  const fs::path base_out = scratch("detail-base");
  pipeline::run_training(kTiny, nlohmann::json{{"output_dir", base_out.string()}, {"steps", 2}}.dump());
  const fs::path package = scratch("detail-package");
  fs::copy(base_out / "model", package, fs::copy_options::recursive);
  fs::copy(out / "detail", package / "detail", fs::copy_options::recursive);
  auto set_manifest = [&](const char* key, const nlohmann::json& value) { set_entry(package, key, value); };
  set_manifest("detail_decoder", {{"folder", "detail"}});
  auto model = engine::Model::load(package.string());
  EXPECT_TRUE(model->info().detail_decoder);
  EXPECT_EQ(model->info().detail_factor, 4);
  engine::GenerateRequest request;
  request.width = 72;  // not a multiple of the factor or the network's multiple
  request.height = 64;
  request.gsd = 0.5;
  request.sampler.steps = 2;
  request.sampler.seed = 3;
  request.layout = engine::ClassMap(64, 72);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 72; ++x) request.layout.at(y, x) = static_cast<uint8_t>(x < 30 ? 3 : 1);
  std::vector<engine::ProgressEvent> events;
  const auto detailed = model->generate(request, [&](const engine::ProgressEvent& e) { events.push_back(e); });
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().phase, "detail");
  EXPECT_DOUBLE_EQ(events.back().fraction, 1.0);
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GE(events[i].fraction, events[i - 1].fraction);
  EXPECT_EQ(detailed.image.data, model->generate(request).image.data) << "same seed, same pixels";
  for (float v : detailed.image.data) ASSERT_TRUE(v >= 0.f && v <= 1.f);
  request.sampler.detail = false;
  const auto plain = model->generate(request);
  EXPECT_NE(detailed.image.data, plain.image.data) << "the decoder re-rendered the image";
  // The same picture at the coarse scale: 8 x 8 block means stay close.
  double coarse = 0;
  int cells = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 64; y += 8)
      for (int x = 0; x + 8 <= 72; x += 8, ++cells) {
        double d = 0;
        for (int dy = 0; dy < 8; ++dy)
          for (int dx = 0; dx < 8; ++dx) d += (detailed.image.at(c, y + dy, x + dx) - plain.image.at(c, y + dy, x + dx)) / 64.0;
        coarse += std::abs(d);
      }
  EXPECT_LT(coarse / cells, 0.05);

  // A decoder that skips the refiner: with the decoder the refiner never runs, without it it does.
  const fs::path refiner_out = scratch("detail-refiner");
  pipeline::run_training(
      kTiny, nlohmann::json{{"output_dir", refiner_out.string()},
                            {"steps", 2},
                            {"max_timestep", 1000},
                            {"inpaint_probability", 0.0},
                            {"unet", {{"in_channels", 3}, {"out_channels", 3}}},
                            {"model", {{"conditioning", {{"latent", {{"factor", 1}, {"channels", 3}}}, {"layout", false}, {"inpaint", false}}}}}}
                 .dump());
  fs::copy(refiner_out / "model" / "unet", package / "refiner", fs::copy_options::recursive);
  set_manifest("refiner", {{"folder", "refiner"}, {"below_timestep", 1000}});
  set_manifest("detail_decoder", {{"folder", "detail"}, {"skip_refiner", true}});
  model = engine::Model::load(package.string());
  EXPECT_TRUE(model->info().detail_skips_refiner);
  request.sampler.detail = true;
  request.sampler.refiner = true;
  const auto skipping = model->generate(request);
  EXPECT_EQ(skipping.image.data, detailed.image.data) << "the refiner did not run under the decoder";
  request.sampler.detail = false;
  EXPECT_NE(model->generate(request).image.data, plain.image.data) << "without the decoder the refiner runs";
  set_manifest("detail_decoder", {{"folder", "detail"}});
  model = engine::Model::load(package.string());
  request.sampler.detail = true;
  EXPECT_NE(model->generate(request).image.data, detailed.image.data) << "a decoder that does not skip it";

  // Cancelled during the decoder: nothing comes back.
  request.sampler.detail = true;
  engine::CancelToken token;
  const auto cancelled = model->generate(
      request, [&](const engine::ProgressEvent& e) { if (e.phase == "detail") token.cancel(); }, &token);
  EXPECT_EQ(cancelled.status, engine::Status::Cancelled);

  // A decoder for another class set, or a broken entry, is refused with the reason.
  nlohmann::json config;
  std::ifstream(package / "detail" / "config.json") >> config;
  config["num_classes"] = 5;
  std::ofstream(package / "detail" / "config.json") << config.dump(2);
  try {
    engine::Model::load(package.string());
    FAIL() << "a decoder for 5 classes must be refused by a 7-class model";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("layout classes"), std::string::npos) << error.what();
  }
  set_manifest("detail_decoder", "detail");
  EXPECT_THROW(engine::Model::load(package.string()), std::exception);
  set_manifest("detail_decoder", {{"folder", "../detail"}});
  EXPECT_THROW(engine::Model::load(package.string()), std::exception);
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
