// The detail decoder network: its config is checked, an untrained decoder is the bilinear
// upsampling of the area average, windows with the halo give the pixels of one whole pass, and
// the layout, style and GSD reach the output.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/detail_decoder.h"
#include "terrasynth/engine/error.h"
#include "terrasynth/test_paths.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;
namespace F = torch::nn::functional;
using namespace terrasynth::engine;

namespace {

const DetailDecoder::Placement kAt{7, 100, -36};

DetailDecoderConfig small_config() {
  DetailDecoderConfig config;
  config.factor = 4;
  config.num_classes = 3;
  config.num_styles = 2;
  config.channels = {16, 12, 8};
  config.blocks = 2;
  return config;
}

// Random weights everywhere (an untrained decoder is the bilinear upsampling alone).
void randomise(DetailDecoder& decoder, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : decoder.net()->parameters()) p.copy_(torch::randn_like(p) * 0.1);
}

torch::Tensor stripes(int64_t height, int64_t width) {
  auto y = torch::arange(height).view({height, 1}).expand({height, width});
  auto x = torch::arange(width).view({1, width}).expand({height, width});
  auto classes = ((x / 7 + y / 11) % 3).to(torch::kUInt8).unsqueeze(0).contiguous();
  classes.narrow(1, 0, 5).fill_(255);  // some unknown pixels
  return classes;
}

std::string config_error(const nlohmann::json& json) {
  try {
    DetailDecoderConfig::from_json(json, "config.json");
  } catch (const EngineError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST(DetailDecoder, ConfigIsChecked) {
  const nlohmann::json good = small_config().to_json();
  EXPECT_EQ(config_error(good), "");
  const DetailDecoderConfig round = DetailDecoderConfig::from_json(good, "config.json");
  EXPECT_EQ(round.channels, small_config().channels);
  EXPECT_EQ(round.num_styles, 2);
  auto with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json j = good;
    j[key] = value;
    return config_error(j);
  };
  EXPECT_NE(with("format", "something-else").find("format"), std::string::npos);
  EXPECT_NE(with("format", 4).find("format"), std::string::npos);
  EXPECT_NE(with("format", nullptr).find("format"), std::string::npos);
  EXPECT_NE(with("factor", 3).find("factor must be 2, 4 or 8"), std::string::npos);
  EXPECT_NE(with("channels", nlohmann::json::array({16, 8})).find("3 widths"), std::string::npos);
  EXPECT_NE(with("channels", nlohmann::json::array({16, 0, 8})).find("1..1024"), std::string::npos);
  EXPECT_NE(with("blocks", -1).find("blocks"), std::string::npos);
  EXPECT_NE(with("stage_blocks", 17).find("stage_blocks"), std::string::npos);
  EXPECT_NE(with("noise", "yes").find("true or false"), std::string::npos);
  EXPECT_NE(with("input_blur", 9).find("input_blur"), std::string::npos);
  EXPECT_NE(with("num_classes", 0).find("num_classes"), std::string::npos);
  EXPECT_NE(with("num_styles", "two").find("must be an integer"), std::string::npos);
  EXPECT_NE(with("blocks", 1e300).find("must be an integer"), std::string::npos);
  EXPECT_NE(with("factor", 4.0).find("must be an integer"), std::string::npos);
  EXPECT_NE(with("gsd_reference", 0).find("gsd_reference"), std::string::npos);
  EXPECT_NE(config_error(nlohmann::json::array()).find("JSON object"), std::string::npos);
}

TEST(DetailDecoder, HaloCoversTheReceptiveField) {
  DetailDecoderConfig config = small_config();
  // conv_in + 2 blocks at 1/4 (5 px there = 20 px), four convolutions (up, mix, one residual
  // block) at 1/2 (8 px) and at full resolution (4 px), conv_out (1 px): 33 px, rounded up to
  // whole 4 px cells.
  EXPECT_EQ(config.halo_pixels(), 36);
  config.blocks = 6;
  EXPECT_EQ(config.halo_pixels(), 68);
  config.stage_blocks = 0;
  EXPECT_EQ(config.halo_pixels(), 60);
  config.input_blur = 1.0;  // 3 sigma at 1/4: 12 px more
  EXPECT_EQ(config.halo_pixels(), 72);
  // Changing one pixel moves nothing farther than the halo.
  DetailDecoder decoder(small_config());
  randomise(decoder, 3);
  auto image = torch::rand({1, 3, 96, 96});
  auto classes = stripes(96, 96);
  const auto a = decoder.apply(image, classes, 0, 0.5, kAt);
  auto changed = image.clone();
  changed.narrow(2, 48, 4).narrow(3, 48, 4).fill_(1.0);  // one low-resolution cell
  const auto b = decoder.apply(changed, classes, 0, 0.5, kAt);
  const auto difference = (a - b).abs().sum(1)[0];
  const int halo = small_config().halo_pixels();
  EXPECT_GT(difference.narrow(0, 48, 4).narrow(1, 48, 4).max().item<float>(), 0.f);
  auto outside = difference.clone();
  outside.narrow(0, 48 - halo, 4 + 2 * halo).narrow(1, 48 - halo, 4 + 2 * halo).zero_();
  EXPECT_EQ(outside.max().item<float>(), 0.f) << "the output changed beyond the halo";
}

TEST(DetailDecoder, UntrainedDecoderIsTheBilinearUpsamplingOfTheAreaAverage) {
  DetailDecoder decoder(small_config());
  auto image = torch::rand({1, 3, 64, 80});
  const auto out = decoder.apply(image, stripes(64, 80), 1, 0.3, kAt);
  auto expected = F::interpolate(torch::avg_pool2d(image, 4), F::InterpolateFuncOptions()
                                                                 .size(std::vector<int64_t>{64, 80})
                                                                 .mode(torch::kBilinear)
                                                                 .align_corners(false));
  EXPECT_TRUE(torch::allclose(out, expected.clamp(0, 1), 1e-5, 1e-5));
}

TEST(DetailDecoder, WindowsGiveThePixelsOfOneWholePass) {
  DetailDecoder decoder(small_config());
  randomise(decoder, 7);
  // Sides that are not multiples of the factor: padded, then cropped.
  auto image = torch::rand({1, 3, 150, 203});
  auto classes = stripes(150, 203);
  const auto whole = decoder.apply(image, classes, 1, 0.5, kAt, /*window=*/4096);
  EXPECT_EQ(whole.sizes(), image.sizes());
  EXPECT_GE(whole.min().item<float>(), 0.f);
  EXPECT_LE(whole.max().item<float>(), 1.f);
  int events = 0;
  double last_fraction = 0;
  const auto windowed = decoder.apply(image, classes, 1, 0.5, kAt, /*window=*/48, [&](const ProgressEvent& event) {
    EXPECT_EQ(event.phase, "detail");
    EXPECT_GE(event.fraction, last_fraction);
    last_fraction = event.fraction;
    ++events;
  });
  EXPECT_EQ(events, 4 * 5) << "12 x 13 cells of 4 px per window: 4 rows, 5 columns";
  EXPECT_DOUBLE_EQ(last_fraction, 1.0);
  EXPECT_LT((whole - windowed).abs().max().item<float>(), 1e-5f);
}

TEST(DetailDecoder, LayoutStyleAndGsdReachTheOutput) {
  DetailDecoder decoder(small_config());
  randomise(decoder, 11);
  auto image = torch::rand({1, 3, 64, 64});
  auto classes = stripes(64, 64);
  const auto base = decoder.apply(image, classes, 0, 0.5, kAt);
  EXPECT_TRUE(torch::equal(base, decoder.apply(image, classes, 0, 0.5, kAt))) << "deterministic";
  EXPECT_GT((base - decoder.apply(image, torch::full_like(classes, 255), 0, 0.5, kAt)).abs().max().item<float>(), 1e-4f);
  EXPECT_GT((base - decoder.apply(image, classes, 1, 0.5, kAt)).abs().max().item<float>(), 1e-4f);
  EXPECT_GT((base - decoder.apply(image, classes, 0, 2.0, kAt)).abs().max().item<float>(), 1e-4f);
  EXPECT_GT((base - decoder.apply(image, classes, -1, 0, kAt)).abs().max().item<float>(), 1e-4f);
  auto cond = detail_condition(small_config(), {1, -1, 5}, {1.0, 0.0, 0.25});
  EXPECT_EQ(cond.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_TRUE(torch::equal(cond[0], torch::tensor({0.f, 1.f, 1.f, 0.5f})));
  EXPECT_TRUE(torch::equal(cond[1], torch::zeros({4}))) << "unknown style and GSD";
  EXPECT_TRUE(torch::equal(cond[2], torch::tensor({0.f, 0.f, 1.f, -0.5f}))) << "a style out of range is unknown";
}

TEST(DetailDecoder, NoiseFollowsTheSeedAndTheGlobalPosition) {
  DetailDecoder decoder(small_config());
  randomise(decoder, 13);
  auto image = torch::rand({1, 3, 128, 128});
  auto classes = stripes(128, 128);
  const auto a = decoder.apply(image, classes, 0, 0.5, {1, 0, 0});
  EXPECT_TRUE(torch::equal(a, decoder.apply(image, classes, 0, 0.5, {1, 0, 0})));
  EXPECT_GT((a - decoder.apply(image, classes, 0, 0.5, {2, 0, 0})).abs().max().item<float>(), 1e-4f)
      << "another seed, other noise";
  // A part of the canvas decoded on its own at its place in the global frame: the same pixels
  // wherever the halo lies inside the part.
  const int64_t x0 = 32, y0 = 16, size = 96;
  const auto part = decoder.apply(image.narrow(2, y0, size).narrow(3, x0, size).contiguous(),
                                  classes.narrow(1, y0, size).narrow(2, x0, size).contiguous(), 0, 0.5, {1, x0, y0});
  const int64_t halo = small_config().halo_pixels();
  auto inner = [&](const torch::Tensor& t, int64_t offset_y, int64_t offset_x) {
    return t.narrow(2, offset_y + halo, size - 2 * halo).narrow(3, offset_x + halo, size - 2 * halo);
  };
  EXPECT_LT((inner(a, y0, x0) - inner(part, 0, 0)).abs().max().item<float>(), 1e-5f);
  // Without noise the decoder still loads and runs.
  DetailDecoderConfig quiet = small_config();
  quiet.noise = false;
  DetailDecoder plain(quiet);
  randomise(plain, 13);
  EXPECT_TRUE(torch::equal(plain.apply(image, classes, 0, 0.5, {1, 0, 0}), plain.apply(image, classes, 0, 0.5, {2, 0, 0})));
}

TEST(DetailDecoder, CancelReturnsNothing) {
  DetailDecoder decoder(small_config());
  CancelToken cancel;
  cancel.cancel();
  EXPECT_FALSE(decoder.apply(torch::rand({1, 3, 32, 32}), stripes(32, 32), 0, 0.5, kAt, 512, {}, &cancel).defined());
}

TEST(DetailDecoder, LoadsFromAFolderAndRefusesBrokenOnes) {
  const fs::path dir = fs::path(TERRASYNTH_TEST_BINARY_DIR) / "test-scratch" / "detail-decoder";
  fs::remove_all(dir);
  fs::create_directories(dir);
  DetailDecoder decoder(small_config());
  randomise(decoder, 5);
  std::ofstream(dir / "config.json") << small_config().to_json().dump(2);
  save_safetensors((dir / "detail.safetensors").string(), module_state_dict(*decoder.net()));
  auto loaded = DetailDecoder::load(dir.string());
  auto image = torch::rand({1, 3, 32, 32});
  EXPECT_TRUE(torch::equal(loaded->apply(image, stripes(32, 32), 0, 0.5, kAt), decoder.apply(image, stripes(32, 32), 0, 0.5, kAt)));

  nlohmann::json other = small_config().to_json();
  other["blocks"] = 3;
  std::ofstream(dir / "config.json") << other.dump(2);
  try {
    DetailDecoder::load(dir.string());
    FAIL() << "weights of another shape must be refused";
  } catch (const EngineError& error) {
    EXPECT_NE(std::string(error.what()).find("detail.safetensors"), std::string::npos) << error.what();
  }
  std::ofstream(dir / "config.json") << "{not json";
  EXPECT_THROW(DetailDecoder::load(dir.string()), EngineError);
  fs::remove(dir / "config.json");
  try {
    DetailDecoder::load(dir.string());
    FAIL();
  } catch (const EngineError& error) {
    EXPECT_NE(std::string(error.what()).find("config not found"), std::string::npos);
  }
}
