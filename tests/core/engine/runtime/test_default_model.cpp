// The shipped default model (resources/models/terrasynth-base): its weights load through the
// engine's public API, are stored in fp16 within the size budget, and generate imagery that
// follows a layout; its detail decoder draws the fine detail of real photos from their 1/4
// resolution version.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>

#include "nn/nn_test_support.h"
#include "runtime/conditioning.h"
#include "runtime/detail_decoder.h"
#include "terrasynth/engine/model.h"
#include "terrasynth/engine/safetensors.h"
#include "terrasynth/test_paths.h"

using namespace terrasynth::engine;
namespace fs = std::filesystem;

namespace {

const std::string kModelDir = std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/resources/models/terrasynth-base";

int class_id(const ModelInfo& info, const std::string& name) {
  for (size_t i = 0; i < info.classes.size(); ++i)
    if (info.classes[i] == name) return static_cast<int>(i);
  ADD_FAILURE() << "class " << name << " missing";
  return 0;
}

struct HalfStats {
  double brightness = 0;
  double greenness = 0;  // G - (R + B) / 2
};

HalfStats stats(const Image& image, int x0, int x1) {
  HalfStats s;
  double n = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = x0; x < x1; ++x) {
      const double r = image.at(0, y, x), g = image.at(1, y, x), b = image.at(2, y, x);
      s.brightness += (r + g + b) / 3;
      s.greenness += g - (r + b) / 2;
      n += 1;
    }
  s.brightness /= n;
  s.greenness /= n;
  return s;
}

struct Detail {
  double luma = 0;    // RMS of the brightness minus its 3 x 3 mean
  double chroma = 0;  // the same for the colour (R, G, B minus the brightness)
};

Detail fine_detail(const Image& image) {
  Detail d;
  double n = 0;
  auto value = [&](int c, int y, int x) { return static_cast<double>(image.at(c, y, x)); };
  auto luma = [&](int y, int x) { return (value(0, y, x) + value(1, y, x) + value(2, y, x)) / 3; };
  for (int y = 1; y + 1 < image.height; ++y)
    for (int x = 1; x + 1 < image.width; ++x) {
      double mean_luma = 0, mean_chroma[3] = {0, 0, 0};
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          mean_luma += luma(y + dy, x + dx) / 9;
          for (int c = 0; c < 3; ++c) mean_chroma[c] += (value(c, y + dy, x + dx) - luma(y + dy, x + dx)) / 9;
        }
      d.luma += std::pow(luma(y, x) - mean_luma, 2);
      for (int c = 0; c < 3; ++c) d.chroma += std::pow(value(c, y, x) - luma(y, x) - mean_chroma[c], 2) / 3;
      n += 1;
    }
  d.luma = std::sqrt(d.luma / n);
  d.chroma = std::sqrt(d.chroma / n);
  return d;
}

std::shared_ptr<Model> load_on_two_cores() {
  DeviceOptions device;
  device.device = DeviceKind::Cpu;
  device.threads = 2;
  return Model::load(kModelDir, device);
}

// 96 x 96 px in the recife style at the native resolution, no layout.
GenerateRequest bare_recife_request(const ModelInfo& info, uint64_t seed) {
  GenerateRequest request;
  request.width = request.height = 96;
  request.gsd = info.native_gsd;
  request.style = "recife";
  request.sampler.seed = seed;
  return request;
}

}  // namespace

TEST(DefaultModel, ShipsFp16WeightsWithinTheSizeBudget) {
  ASSERT_TRUE(fs::exists(kModelDir + "/model.json")) << kModelDir;
  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kModelDir))
    if (entry.is_regular_file()) total += entry.file_size();
  EXPECT_LE(total, 100u * 1000 * 1000);

  for (const char* network : {"unet/diffusion_pytorch_model", "refiner/diffusion_pytorch_model", "detail/detail"}) {
    const std::string file = kModelDir + "/" + network + ".safetensors";
    ASSERT_TRUE(fs::exists(file)) << file;
    const SafetensorsInfo weights = inspect_safetensors(file);
    ASSERT_FALSE(weights.tensors.empty());
    for (const TensorInfo& t : weights.tensors) EXPECT_EQ(t.dtype, "F16") << network << " " << t.name;
  }

  const ModelInfo info = read_model_info(kModelDir);
  EXPECT_EQ(info.name, "terrasynth-base");
  EXPECT_EQ(info.classes.size(), 7u);
  EXPECT_GT(info.native_gsd, 0.0);
  EXPECT_FALSE(info.licence.empty());
  EXPECT_GT(info.refiner_below_timestep, 0) << "the shipped model has a refiner";
  EXPECT_TRUE(info.detail_decoder) << "and a detail decoder, which takes the refiner's place";
  EXPECT_TRUE(info.detail_skips_refiner);
}

TEST(DefaultModel, GeneratesImageryThatFollowsTheLayout) {
  const auto model = load_on_two_cores();
  const ModelInfo& info = model->info();

  // Left half vegetation, right half bare ground, at the native resolution.
  GenerateRequest request;
  request.width = 128;
  request.height = 64;
  request.gsd = info.native_gsd;
  request.layout = ClassMap(64, 128);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 128; ++x)
      request.layout.at(y, x) = static_cast<uint8_t>(class_id(info, x < 64 ? "vegetation" : "bare"));
  request.sampler.steps = 8;
  request.sampler.seed = 3;

  const GenerateResult a = model->generate(request);
  ASSERT_EQ(a.status, Status::Ok);
  ASSERT_EQ(a.image.channels, 3);
  ASSERT_EQ(a.image.width, 128);
  ASSERT_EQ(a.image.height, 64);
  for (float v : a.image.data) ASSERT_TRUE(v >= 0.f && v <= 1.f);

  // Ignore an 8 px band along the class border, where the layout is blended.
  const HalfStats vegetation = stats(a.image, 0, 56);
  const HalfStats bare = stats(a.image, 72, 128);
  EXPECT_GT(vegetation.greenness, bare.greenness + 0.02)
      << "vegetation " << vegetation.greenness << " bare " << bare.greenness;
  EXPECT_LT(vegetation.brightness, bare.brightness - 0.05)
      << "vegetation " << vegetation.brightness << " bare " << bare.brightness;

  // Same seed, same device: same pixels.
  const GenerateResult b = model->generate(request);
  ASSERT_EQ(b.status, Status::Ok);
  EXPECT_EQ(a.image.data, b.image.data);
}

// The shipped sampler settings smooth the colour of each step's estimate: the colour speckle a
// small pixel-space network leaves (the training imagery has next to none at the pixel scale)
// is mostly gone, and the brightness detail stays.
TEST(DefaultModel, ChromaSmoothingRemovesColourSpeckle) {
  const auto model = load_on_two_cores();
  const ModelInfo& info = model->info();
  ASSERT_GT(info.chroma_smoothing, 0.0);
  GenerateRequest request = bare_recife_request(info, 11);
  request.sampler.steps = 8;
  request.sampler.detail = false;  // the sampled image itself
  const Image smoothed = model->generate(request).image;
  request.sampler.chroma_smoothing = 0;
  const Image plain = model->generate(request).image;
  const Detail with = fine_detail(smoothed), without = fine_detail(plain);
  EXPECT_LT(with.chroma, 0.4 * without.chroma) << without.chroma << " -> " << with.chroma;
  EXPECT_GT(with.luma, 0.3 * without.luma) << without.luma << " -> " << with.luma;
}

// The shipped refiner takes over the low-noise steps; what the main network alone leaves there is
// pixel-level grain (brightness detail the training imagery does not have).
TEST(DefaultModel, RefinerLowersTheGrain) {
  const auto model = load_on_two_cores();
  GenerateRequest request = bare_recife_request(model->info(), 12);
  request.sampler.detail = false;  // the refiner runs when the detail decoder does not
  const Image refined = model->generate(request).image;
  request.sampler.refiner = false;
  const Image plain = model->generate(request).image;
  const Detail with = fine_detail(refined), without = fine_detail(plain);
  EXPECT_LT(with.luma, 0.8 * without.luma) << without.luma << " -> " << with.luma;
  // The picture stays the same at a coarser scale: the refiner changes detail, not content.
  double coarse = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 96; y += 8)
      for (int x = 0; x < 96; x += 8) {
        double a = 0, b = 0;
        for (int dy = 0; dy < 8; ++dy)
          for (int dx = 0; dx < 8; ++dx) {
            a += refined.at(c, y + dy, x + dx) / 64.0;
            b += plain.at(c, y + dy, x + dx) / 64.0;
          }
        coarse = std::max(coarse, std::abs(a - b));
      }
  EXPECT_LT(coarse, 0.15) << "8 x 8 block means differ by up to " << coarse;
}

#if TERRASYNTH_TESTS_HAVE_GDAL
// The shipped detail decoder on real validation photos (blocks the model never saw), without a
// layout: from the photo's 1/4-resolution version (blurred by input_blur there) it draws fine
// detail near the photo's own strength, where the bilinear upsampling of that version has
// little, and the result agrees with the photo at the scale of its input. Since model 0.5.0 the
// input is blurred by 2 low-resolution pixels (0.4.0: 1), so the decoder draws everything finer
// than about 8 px itself; without a layout it draws a palm grove (recife 01200) at about half
// the photo's sharpness, so each photo has a lower bound of 0.4 and their mean one of 0.6.
TEST(DefaultModel, DetailDecoderDrawsTheFineDetailOfPhotos) {
  const auto decoder = DetailDecoder::load(kModelDir + "/detail");
  const DetailDecoderConfig& config = decoder->config();
  auto fine = [](const torch::Tensor& images) {
    auto grey = images.mean(1, true);
    return (grey - blur_pixels(grey, 1.5)).std().item<double>();
  };
  struct Photo {
    const char* path;
    int style;
    double gsd;
  };
  const std::string pairs = std::string(TERRASYNTH_TEST_SHARED_DIR) + "/data/pairs/";
  double ratio_sum = 0;
  int photos = 0;
  for (const Photo& photo : {Photo{"recife/00600", 0, 0.25}, Photo{"recife/01200", 0, 0.25},
                             Photo{"landcoverai/00410", 1, 0.3}}) {
    const auto image = nn_test::read_rgb_crop(pairs + photo.path + ".jpg", 0, 0, 256);
    const auto classes = torch::full({1, 256, 256}, 255, torch::kUInt8);  // no layout
    const auto decoded = decoder->apply(image, classes, photo.style, photo.gsd, {1, 0, 0});
    namespace F = torch::nn::functional;
    const auto bilinear = F::interpolate(detail_input(config, image),
                                         F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{256, 256})
                                             .mode(torch::kBilinear)
                                             .align_corners(false));
    const double real = fine(image), drawn = fine(decoded), smooth = fine(bilinear);
    std::cout << photo.path << ": fine detail of the photo " << real << ", decoded " << drawn
              << ", bilinear " << smooth << "\n";
    EXPECT_LT(smooth, 0.5 * real) << photo.path << ": the input lacks the fine detail";
    EXPECT_GT(drawn, 2.0 * smooth) << photo.path << ": the decoder draws detail its input lacks";
    EXPECT_GT(drawn, 0.4 * real) << photo.path << ": fine detail " << drawn << " against the photo's " << real;
    EXPECT_LT(drawn, 1.6 * real) << photo.path << ": fine detail " << drawn << " against the photo's " << real;
    ratio_sum += drawn / real;
    ++photos;
    const double low_pass = (detail_input(config, decoded) - detail_input(config, image)).abs().mean().item<double>();
    EXPECT_LT(low_pass, 0.03) << photo.path << ": the decoded image keeps the photo's coarse picture";
  }
  EXPECT_GT(ratio_sum / photos, 0.6) << "mean fine detail of the decoded images against the photos'";
}
#endif
