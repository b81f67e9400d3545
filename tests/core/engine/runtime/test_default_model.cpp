// The shipped default model (resources/models/terrasynth-base): its weights load through the
// engine's public API, are stored in fp16 within the size budget, and generate imagery that
// follows a layout.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

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

}  // namespace

TEST(DefaultModel, ShipsFp16WeightsWithinTheSizeBudget) {
  ASSERT_TRUE(fs::exists(kModelDir + "/model.json")) << kModelDir;
  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kModelDir))
    if (entry.is_regular_file()) total += entry.file_size();
  EXPECT_LE(total, 100u * 1000 * 1000);

  const SafetensorsInfo weights = inspect_safetensors(kModelDir + "/unet/diffusion_pytorch_model.safetensors");
  ASSERT_FALSE(weights.tensors.empty());
  for (const TensorInfo& t : weights.tensors) EXPECT_EQ(t.dtype, "F16") << t.name;

  const ModelInfo info = read_model_info(kModelDir);
  EXPECT_EQ(info.name, "terrasynth-base");
  EXPECT_EQ(info.classes.size(), 7u);
  EXPECT_GT(info.native_gsd, 0.0);
  EXPECT_FALSE(info.licence.empty());
}

TEST(DefaultModel, GeneratesImageryThatFollowsTheLayout) {
  DeviceOptions device;
  device.device = DeviceKind::Cpu;
  device.threads = 2;
  const auto model = Model::load(kModelDir, device);
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
