// Every safetensors file of ../shared/fixtures/diffusers read with the names, shapes and dtypes
// its README lists.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "terrasynth/engine/safetensors.h"
#include "terrasynth/test_paths.h"
#include "weights/state_dict.h"

namespace terrasynth::engine {
namespace {

namespace fs = std::filesystem;

const fs::path kDiffusers = fs::path(TERRASYNTH_TEST_SHARED_DIR) / "fixtures" / "diffusers";

std::vector<int64_t> parse_dims(const std::string& text) {
  std::vector<int64_t> dims;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (item.find_first_not_of(' ') != std::string::npos) dims.push_back(std::stoll(item));
  return dims;
}

struct ReadmeTensors {
  std::map<std::string, std::pair<std::string, std::vector<int64_t>>> io;  // name -> dtype, shape
  std::vector<std::pair<std::string, std::vector<int64_t>>> weights;       // first listed keys
  int weight_count = -1;
};

// The README.txt tensor lists: "- `name` (float32 [2, 4]): ..." and "- `key` [32, 4, 3, 3]".
ReadmeTensors read_readme(const fs::path& folder) {
  static const std::map<std::string, std::string> kDtypes = {
      {"float32", "F32"}, {"int64", "I64"}, {"float16", "F16"}, {"int32", "I32"}};
  static const std::string kCount = " tensors in total, all float32;";
  ReadmeTensors result;
  std::ifstream in(folder / "README.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (const auto at = line.find(kCount); at != std::string::npos) {
      auto begin = at;
      while (begin > 0 && std::isdigit(static_cast<unsigned char>(line[begin - 1]))) --begin;
      result.weight_count = std::stoi(line.substr(begin, at - begin));
      continue;
    }
    if (line.rfind("- `", 0) != 0) continue;
    const auto close = line.find('`', 3);
    if (close == std::string::npos) continue;
    const std::string name = line.substr(3, close - 3);
    const std::string rest = line.substr(close + 1);
    const auto open_bracket = rest.find('[');
    const auto close_bracket = rest.find(']');
    if (open_bracket == std::string::npos || close_bracket == std::string::npos) continue;
    const auto dims = parse_dims(rest.substr(open_bracket + 1, close_bracket - open_bracket - 1));
    if (rest.rfind(" (", 0) == 0) {  // io tensor: " (dtype [dims]): ..."
      const std::string dtype = rest.substr(2, rest.find(' ', 2) - 2);
      result.io[name] = {kDtypes.at(dtype), dims};
    } else if (rest.rfind(" [", 0) == 0 &&
               rest.find_first_not_of(" \r", close_bracket + 1) == std::string::npos) {
      result.weights.emplace_back(name, dims);
    }
  }
  return result;
}

std::vector<fs::path> fixture_folders() {
  std::vector<fs::path> folders;
  if (!fs::is_directory(kDiffusers)) return folders;
  for (const auto& entry : fs::directory_iterator(kDiffusers))
    if (entry.is_directory()) folders.push_back(entry.path());
  std::sort(folders.begin(), folders.end());
  return folders;
}

TEST(DiffusersFixtures, IoFilesMatchTheirReadmes) {
  const auto folders = fixture_folders();
  if (folders.empty()) GTEST_SKIP() << "no fixtures at " << kDiffusers;
  EXPECT_GE(folders.size(), 14u);
  for (const auto& folder : folders) {
    SCOPED_TRACE(folder.filename().string());
    const ReadmeTensors readme = read_readme(folder);
    ASSERT_FALSE(readme.io.empty());
    const SafetensorsInfo info = inspect_safetensors((folder / "io.safetensors").string());
    ASSERT_EQ(info.tensors.size(), readme.io.size());
    for (const auto& tensor : info.tensors) {
      ASSERT_TRUE(readme.io.count(tensor.name)) << tensor.name;
      EXPECT_EQ(tensor.dtype, readme.io.at(tensor.name).first) << tensor.name;
      EXPECT_EQ(tensor.shape, readme.io.at(tensor.name).second) << tensor.name;
    }
    const StateDict loaded = load_safetensors((folder / "io.safetensors").string());
    ASSERT_EQ(loaded.size(), readme.io.size());
    for (const auto& item : loaded)
      EXPECT_EQ(item.value().sizes().vec(), readme.io.at(item.key()).second) << item.key();
  }
}

TEST(DiffusersFixtures, WeightFilesMatchTheirReadmes) {
  int networks = 0;
  for (const auto& folder : fixture_folders()) {
    const fs::path weights = folder / "diffusion_pytorch_model.safetensors";
    if (!fs::exists(weights)) continue;
    SCOPED_TRACE(folder.filename().string());
    ++networks;
    const ReadmeTensors readme = read_readme(folder);
    const SafetensorsInfo info = inspect_safetensors(weights.string());
    EXPECT_EQ(static_cast<int>(info.tensors.size()), readme.weight_count);
    EXPECT_EQ(info.metadata.at("format"), "pt");
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& tensor : info.tensors) {
      EXPECT_EQ(tensor.dtype, "F32") << tensor.name;
      shapes[tensor.name] = tensor.shape;
    }
    ASSERT_EQ(readme.weights.size(), 20u);
    for (const auto& [name, shape] : readme.weights) {
      ASSERT_TRUE(shapes.count(name)) << name;
      EXPECT_EQ(shapes.at(name), shape) << name;
    }
    const StateDict loaded = load_safetensors(weights.string());
    EXPECT_EQ(static_cast<int>(loaded.size()), readme.weight_count);
    for (const auto& item : loaded) EXPECT_EQ(item.value().scalar_type(), torch::kFloat32);
  }
  if (networks == 0) GTEST_SKIP() << "no fixtures at " << kDiffusers;
  EXPECT_EQ(networks, 7);
}

// Values, not only layouts: DDIM timesteps and the scaled-linear betas of the scheduler fixture.
TEST(DiffusersFixtures, SchedulerValuesAreRead) {
  const fs::path file = kDiffusers / "sched_ddim_eps" / "io.safetensors";
  if (!fs::exists(file)) GTEST_SKIP() << "no fixture " << file;
  const StateDict io = load_safetensors(file.string());
  const torch::Tensor timesteps = io["timesteps"];
  ASSERT_EQ(timesteps.scalar_type(), torch::kInt64);
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(timesteps[i].item<int64_t>(), 951 - 50 * i);
  const torch::Tensor betas = io["betas"];
  EXPECT_NEAR(betas[0].item<float>(), 0.00085f, 1e-9);
  EXPECT_NEAR(betas[999].item<float>(), 0.012f, 1e-8);
  const torch::Tensor expected =
      torch::linspace(std::sqrt(0.00085), std::sqrt(0.012), 1000, torch::kFloat64).pow(2);
  EXPECT_TRUE(torch::allclose(betas.to(torch::kFloat64), expected, 1e-6, 0));
  EXPECT_EQ(io["init_noise_sigma"].dim(), 0);
  EXPECT_EQ(io["init_noise_sigma"].item<float>(), 1.0f);
}

}  // namespace
}  // namespace terrasynth::engine
