#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/manifest.h"
#include "terrasynth/engine/error.h"
#include "terrasynth/test_paths.h"

using namespace terrasynth::engine;

namespace {
nlohmann::json base_manifest() {
  std::ifstream in(std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/configs/terrasynth-base.json");
  nlohmann::json config;
  in >> config;
  return config["model"];
}

std::string parse_error(const nlohmann::json& manifest) {
  try {
    parse_manifest(manifest.dump(), "model.json");
  } catch (const EngineError& error) {
    EXPECT_EQ(error.kind(), EngineError::Kind::ModelFormat);
    return error.what();
  }
  return "";
}
}  // namespace

TEST(Manifest, ParsesTheDefaultModelsManifest) {
  const Manifest manifest = parse_manifest(base_manifest().dump(), "model.json");
  EXPECT_EQ(manifest.info.name, "terrasynth-base");
  EXPECT_EQ(manifest.info.classes.size(), 7u);
  EXPECT_EQ(manifest.info.classes[1], "building");
  EXPECT_EQ(manifest.info.palette.size(), 7u);
  EXPECT_EQ(manifest.info.styles.size(), 4u);
  EXPECT_EQ(manifest.info.scenes.size(), 30u);
  EXPECT_DOUBLE_EQ(manifest.info.native_gsd, 0.5);
  EXPECT_EQ(manifest.conditioning.latent_channels, 48);
  EXPECT_EQ(class_vector_size(manifest), 36);
}

TEST(Manifest, RejectsMalformedManifestsNamingTheProblem) {
  EXPECT_NE(parse_error(nlohmann::json::array()).find("JSON object"), std::string::npos);
  auto m = base_manifest();
  m["format"] = "something-else";
  EXPECT_NE(parse_error(m).find("format"), std::string::npos);
  m = base_manifest();
  m["classes"] = nlohmann::json::array();
  EXPECT_NE(parse_error(m).find("classes"), std::string::npos);
  m = base_manifest();
  m["gsd"]["min"] = 5.0;
  EXPECT_NE(parse_error(m).find("gsd"), std::string::npos);
  m = base_manifest();
  m["default_style"] = "mars";
  EXPECT_NE(parse_error(m).find("mars"), std::string::npos);
  m = base_manifest();
  m["conditioning"]["latent"]["type"] = "wavelet";
  EXPECT_NE(parse_error(m).find("wavelet"), std::string::npos);
  m = base_manifest();
  m["components"]["unet"] = "../../etc";
  EXPECT_NE(parse_error(m).find("inside the model folder"), std::string::npos);
  m = base_manifest();
  m["classes"][0]["colour"] = {1, 2, 300};
  EXPECT_NE(parse_error(m).find("colour"), std::string::npos);
  EXPECT_NE(parse_error(nlohmann::json::parse("{\"format\": \"terrasynth-model\", \"format_version\": 9}"))
                .find("format_version"),
            std::string::npos);
}

TEST(Manifest, ReadsAndChecksTheRefiner) {
  auto m = base_manifest();
  EXPECT_EQ(parse_manifest(m.dump(), "model.json").info.refiner_below_timestep, 0) << "no refiner by default";
  m["refiner"] = {{"folder", "refiner"}, {"below_timestep", 250}};
  const Manifest manifest = parse_manifest(m.dump(), "model.json");
  EXPECT_EQ(manifest.refiner_folder, "refiner");
  EXPECT_EQ(manifest.info.refiner_below_timestep, 250);

  m["refiner"] = "refiner";
  EXPECT_NE(parse_error(m).find("\"refiner\" must be an object"), std::string::npos);
  m["refiner"] = {{"folder", "refiner"}, {"below_timestep", 0}};
  EXPECT_NE(parse_error(m).find("below_timestep"), std::string::npos);
  m["refiner"] = {{"folder", "refiner"}, {"below_timestep", "low"}};
  EXPECT_NE(parse_error(m).find("below_timestep"), std::string::npos);
  m["refiner"] = {{"folder", "refiner"}, {"below_timestep", 250}, {"detail_sigma", -2}};
  EXPECT_NE(parse_error(m).find("detail_sigma"), std::string::npos);
  m["refiner"] = {{"folder", "refiner"}, {"below_timestep", 250}, {"detail_sigma", 2}};
  EXPECT_DOUBLE_EQ(parse_manifest(m.dump(), "model.json").refiner_detail_sigma, 2.0);
  EXPECT_FALSE(parse_manifest(m.dump(), "model.json").refiner_layout) << "RGB only by default";
  m["refiner"]["layout"] = true;
  EXPECT_TRUE(parse_manifest(m.dump(), "model.json").refiner_layout);
  m["refiner"]["layout"] = "yes";
  EXPECT_NE(parse_error(m).find("layout"), std::string::npos);
  m["refiner"]["layout"] = true;
  m["conditioning"]["layout"] = false;
  EXPECT_NE(parse_error(m).find("needs a model conditioned on a layout"), std::string::npos);
  m["conditioning"]["layout"] = true;
  m["refiner"].erase("layout");
  m["refiner"] = {{"folder", "../refiner"}, {"below_timestep", 250}};
  EXPECT_NE(parse_error(m).find("inside the model folder"), std::string::npos);
  m["refiner"] = {{"folder", "refiner"}, {"below_timestep", 250}};
  m["conditioning"]["latent"] = {{"type", "autoencoder_tiny"}, {"factor", 8}, {"channels", 4}, {"folder", "vae"}};
  EXPECT_NE(parse_error(m).find("pixel_unshuffle"), std::string::npos);
}

TEST(Manifest, ReadsAndChecksTheChromaSmoothing) {
  auto m = base_manifest();
  m["sampler"]["chroma_smoothing"] = 1.5;
  EXPECT_DOUBLE_EQ(parse_manifest(m.dump(), "model.json").info.chroma_smoothing, 1.5);
  m["sampler"]["chroma_smoothing"] = -1;
  EXPECT_NE(parse_error(m).find("chroma_smoothing"), std::string::npos);
  m["sampler"]["chroma_smoothing"] = "some";
  EXPECT_NE(parse_error(m).find("chroma_smoothing"), std::string::npos);
  m["sampler"]["chroma_smoothing"] = 1.0;
  m["conditioning"]["latent"] = {{"type", "autoencoder_tiny"}, {"factor", 8}, {"channels", 4}, {"folder", "vae"}};
  EXPECT_NE(parse_error(m).find("pixel_unshuffle"), std::string::npos);
}

TEST(Manifest, ReadsAndChecksTheEta) {
  auto m = base_manifest();
  m["sampler"].erase("eta");
  m["sampler"].erase("eta_min_timestep");
  const auto plain = parse_manifest(m.dump(), "model.json").info;
  EXPECT_DOUBLE_EQ(plain.default_eta, 0.0);  // deterministic unless the model says otherwise
  EXPECT_EQ(plain.eta_min_timestep, 0);
  m["sampler"]["eta"] = 0.5;
  m["sampler"]["eta_min_timestep"] = 700;
  const auto info = parse_manifest(m.dump(), "model.json").info;
  EXPECT_DOUBLE_EQ(info.default_eta, 0.5);
  EXPECT_EQ(info.eta_min_timestep, 700);
  m["sampler"]["eta"] = 1.5;
  EXPECT_NE(parse_error(m).find("eta"), std::string::npos);
  m["sampler"]["eta"] = "random";
  EXPECT_NE(parse_error(m).find("eta"), std::string::npos);
  m["sampler"]["eta"] = 1.0;
  m["sampler"]["eta_min_timestep"] = -3;
  EXPECT_NE(parse_error(m).find("eta_min_timestep"), std::string::npos);
  m["sampler"]["eta_min_timestep"] = 5000;
  EXPECT_NE(parse_error(m).find("eta_min_timestep"), std::string::npos);
}

TEST(Manifest, ReadsAndChecksTheCoarseGuidance) {
  auto m = base_manifest();
  m["sampler"].erase("coarse_guidance");
  EXPECT_DOUBLE_EQ(parse_manifest(m.dump(), "model.json").info.coarse_guidance_sigma, 0.0);  // off
  m["sampler"]["coarse_guidance"] = {{"scale", 1.5}, {"sigma", 6}};
  const auto info = parse_manifest(m.dump(), "model.json").info;
  EXPECT_DOUBLE_EQ(info.coarse_guidance, 1.5);
  EXPECT_DOUBLE_EQ(info.coarse_guidance_sigma, 6.0);
  m["sampler"]["coarse_guidance"] = 2.0;
  EXPECT_NE(parse_error(m).find("coarse_guidance"), std::string::npos);
  m["sampler"]["coarse_guidance"] = {{"scale", -1}, {"sigma", 6}};
  EXPECT_NE(parse_error(m).find("coarse_guidance scale"), std::string::npos);
  m["sampler"]["coarse_guidance"] = {{"scale", 2}, {"sigma", 100}};
  EXPECT_NE(parse_error(m).find("coarse_guidance sigma"), std::string::npos);
  m["sampler"]["coarse_guidance"] = {{"scale", 2}, {"sigma", 8}};
  m["sampler"]["chroma_smoothing"] = 0;
  m["conditioning"]["latent"] = {{"type", "autoencoder_tiny"}, {"factor", 8}, {"channels", 4}, {"folder", "vae"}};
  EXPECT_NE(parse_error(m).find("pixel_unshuffle"), std::string::npos);
}

TEST(Manifest, MissingFolderOrFileIsAnError) {
  EXPECT_THROW(read_manifest("/nonexistent/model"), EngineError);
  try {
    read_manifest(TERRASYNTH_TEST_SOURCE_DIR);  // a folder without model.json
    FAIL();
  } catch (const EngineError& error) {
    EXPECT_NE(std::string(error.what()).find("model.json"), std::string::npos);
  }
}

TEST(Manifest, ReadsAndChecksTheDetailDecoder) {
  nlohmann::json m = base_manifest();
  EXPECT_FALSE(parse_manifest(m.dump(), "model.json").info.detail_decoder);
  m["detail_decoder"] = {{"folder", "detail"}};
  Manifest manifest = parse_manifest(m.dump(), "model.json");
  EXPECT_TRUE(manifest.info.detail_decoder);
  EXPECT_EQ(manifest.detail_folder, "detail");
  EXPECT_FALSE(manifest.info.detail_skips_refiner);
  m["detail_decoder"]["skip_refiner"] = true;
  EXPECT_TRUE(parse_manifest(m.dump(), "model.json").info.detail_skips_refiner);
  m["detail_decoder"]["skip_refiner"] = 1;
  EXPECT_NE(parse_error(m).find("skip_refiner"), std::string::npos);
  m["detail_decoder"] = {{"folder", "../detail"}};
  EXPECT_NE(parse_error(m).find("inside the model folder"), std::string::npos);
  m["detail_decoder"] = {{"folder", ""}};
  EXPECT_NE(parse_error(m).find("must not be empty"), std::string::npos);
  m["detail_decoder"] = "detail";
  EXPECT_NE(parse_error(m).find("must be an object"), std::string::npos);
}

// Values are taken only if they convert exactly, and sections only if they are objects.
TEST(Manifest, RefusesValuesThatDoNotConvertExactly) {
  nlohmann::json m = base_manifest();
  m["sampler"]["steps"] = 1e300;
  EXPECT_NE(parse_error(m).find("'steps' has the wrong type"), std::string::npos);
  m["sampler"]["steps"] = 14.0;
  EXPECT_NE(parse_error(m).find("'steps' has the wrong type"), std::string::npos);
  m["sampler"]["steps"] = 14;
  m["tile"]["size"] = 4294967808ULL;  // 2^32 + 512: would wrap to 512 as an int
  EXPECT_NE(parse_error(m).find("'size' has the wrong type"), std::string::npos);
  m["tile"]["size"] = 512;
  m["conditioning"]["layout"] = 1;
  EXPECT_NE(parse_error(m).find("'layout' has the wrong type"), std::string::npos);
  m["conditioning"]["layout"] = true;
  m["gsd"]["native"] = 1;  // an integer is a fine number
  m["gsd"]["max"] = 4;
  EXPECT_DOUBLE_EQ(parse_manifest(m.dump(), "model.json").info.native_gsd, 1.0);
  for (const char* key : {"gsd", "tile", "sampler", "conditioning", "components", "training"}) {
    nlohmann::json broken = base_manifest();
    broken[key] = "text";
    EXPECT_NE(parse_error(broken).find(std::string("'") + key + "' must be an object"), std::string::npos) << key;
  }
  nlohmann::json broken = base_manifest();
  broken["conditioning"]["latent"] = nlohmann::json::array();
  EXPECT_NE(parse_error(broken).find("'latent' must be an object"), std::string::npos);
}
