// `terrasynth models inspect`: weights files, model folders, and malformed inputs (exit code 1,
// exactly one line on stderr).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"

namespace terrasynth::cli {
namespace {

namespace fs = std::filesystem;
using testing::contains;
using testing::run_cli;
using testing::shared;
using testing::TempDir;

bool have_fixtures() {
  return fs::exists(shared("fixtures/diffusers/unet_tiny/config.json"));
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string safetensors(const std::string& header, const std::string& data = "") {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return bytes + header + data;
}

TEST(ModelsInspect, SafetensorsFileAsATable) {
  if (!have_fixtures()) GTEST_SKIP() << "no shared fixtures";
  const auto result =
      run_cli({"models", "inspect",
               shared("fixtures/diffusers/unet_tiny/diffusion_pytorch_model.safetensors")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;
  EXPECT_TRUE(contains(result.out, "safetensors, 208 tensors, 792964 parameters (792.96 K)"))
      << result.out;
  EXPECT_TRUE(contains(result.out, "metadata format = pt")) << result.out;
  EXPECT_TRUE(contains(result.out, "NAME")) << result.out;
  bool found = false;
  std::stringstream lines(result.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("conv_in.weight ", 0) == 0) {
      found = true;
      EXPECT_TRUE(contains(line, "F32")) << line;
      EXPECT_TRUE(contains(line, "[32, 4, 3, 3]")) << line;
      EXPECT_TRUE(contains(line, "1152")) << line;
    }
  EXPECT_TRUE(found) << result.out;
}

TEST(ModelsInspect, SafetensorsFileAsJson) {
  if (!have_fixtures()) GTEST_SKIP() << "no shared fixtures";
  const auto result = run_cli(
      {"models", "inspect", "--json", shared("fixtures/diffusers/vae_tiny/io.safetensors")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document["ok"], true);
  EXPECT_EQ(document["kind"], "file");
  EXPECT_EQ(document["format"], "safetensors");
  EXPECT_EQ(document["tensor_count"], 4);
  EXPECT_EQ(document["parameters"], 3 * 64 * 64 * 3 + 4 * 8 * 8);
  bool found = false;
  for (const auto& tensor : document["tensors"])
    if (tensor["name"] == "output.latents") {
      found = true;
      EXPECT_EQ(tensor["dtype"], "F32");
      EXPECT_EQ(tensor["shape"], nlohmann::json({1, 4, 8, 8}));
      EXPECT_EQ(tensor["parameters"], 256);
    }
  EXPECT_TRUE(found) << result.out;
}

TEST(ModelsInspect, PthFile) {
  const std::string path = shared("fixtures/weights/taef2/taef2_encoder.pth");
  if (!fs::exists(path)) GTEST_SKIP() << "no " << path;
  const auto result = run_cli({"models", "inspect", path, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document["format"], "pth");
  EXPECT_EQ(document["tensor_count"], 79);
  EXPECT_EQ(document["parameters"], 1338528);
  EXPECT_EQ(document["tensors"][0]["name"], "0.weight");
  EXPECT_EQ(document["tensors"][0]["dtype"], "F16");
  EXPECT_EQ(document["tensors"][0]["shape"], nlohmann::json({64, 3, 3, 3}));
  const auto text = run_cli({"models", "inspect", path});
  EXPECT_TRUE(contains(text.out, "pth, 79 tensors, 1338528 parameters")) << text.out;
}

TEST(ModelsInspect, FolderThatIsOneComponent) {
  if (!have_fixtures()) GTEST_SKIP() << "no shared fixtures";
  const auto result =
      run_cli({"models", "inspect", "--json", shared("fixtures/diffusers/unet_tiny")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document["kind"], "folder");
  EXPECT_EQ(document["has_manifest"], false);
  ASSERT_EQ(document["components"].size(), 1u);
  EXPECT_EQ(document["components"][0]["class_name"], "UNet2DConditionModel");
  EXPECT_EQ(document["components"][0]["tensors"], 208);
  EXPECT_EQ(document["components"][0]["parameters"], 792964);
  EXPECT_EQ(document["components"][0]["dtype"], "F32");
}

TEST(ModelsInspect, ModelFolderWithComponents) {
  if (!have_fixtures()) GTEST_SKIP() << "no shared fixtures";
  TempDir dir;
  const std::string model = dir.file("tiny-model");
  auto component = [&](const std::string& name, const std::string& fixture,
                       const std::string& config) {
    fs::create_directories(model + "/" + name);
    fs::create_symlink(shared("fixtures/diffusers/" + fixture + "/" + config),
                       model + "/" + name + "/" + config);
    const std::string weights =
        shared("fixtures/diffusers/" + fixture + "/diffusion_pytorch_model.safetensors");
    if (fs::exists(weights))
      fs::create_symlink(weights, model + "/" + name + "/diffusion_pytorch_model.safetensors");
  };
  component("unet", "unet_tiny", "config.json");
  component("vae", "vae_kl_tiny", "config.json");
  component("controlnet", "controlnet_tiny", "config.json");
  component("scheduler", "sched_ddim_eps", "scheduler_config.json");
  fs::create_directories(model + "/notes");  // not a component
  write_file(model + "/model.json", R"({"name": "tiny test model", "version": "0.1"})");

  const auto result = run_cli({"models", "inspect", model, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document["name"], "tiny test model");
  EXPECT_EQ(document["has_manifest"], true);
  const auto& components = document["components"];
  ASSERT_EQ(components.size(), 4u);
  EXPECT_EQ(components[0]["name"], "controlnet");
  EXPECT_EQ(components[0]["class_name"], "ControlNetModel");
  EXPECT_EQ(components[1]["name"], "scheduler");
  EXPECT_EQ(components[1]["class_name"], "DDIMScheduler");
  EXPECT_EQ(components[1]["tensors"], 0);
  EXPECT_EQ(components[1]["weights"], "");
  EXPECT_EQ(components[2]["name"], "unet");
  EXPECT_EQ(components[2]["tensors"], 208);
  EXPECT_EQ(components[3]["name"], "vae");
  EXPECT_EQ(components[3]["class_name"], "AutoencoderKL");
  EXPECT_GT(document["parameters"].get<uint64_t>(), 792964u);

  const auto text = run_cli({"models", "inspect", model});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(contains(text.out, "model 'tiny test model' (model.json), 4 components")) << text.out;
  EXPECT_TRUE(contains(text.out, "COMPONENT")) << text.out;
  EXPECT_TRUE(contains(text.out, "UNet2DConditionModel")) << text.out;
}

struct Malformed {
  const char* name;  // file name written in a scratch folder
  std::string bytes;
  const char* fragment;  // part of the one stderr line
};

std::vector<Malformed> malformed_cases() {
  const std::string f32 = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  return {
      {"short.safetensors", "abc", "too small"},
      {"length.safetensors", std::string("\xe8\x03\0\0\0\0\0\0{}", 10), "runs past the end"},
      {"huge.safetensors", std::string("\0\0\0\0\1\0\0\0{}", 10), "exceeds the limit"},
      {"utf8.safetensors", safetensors("{\"\xff\":1}"), "not valid UTF-8"},
      {"array.safetensors", safetensors("[]"), "not a JSON object"},
      {"json.safetensors", safetensors("{\"w\":"), "not valid JSON"},
      {"duplicate.safetensors",
       safetensors(
           R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
           "ab"),
       "duplicate tensor name 'w'"},
      {"dtype.safetensors",
       safetensors(R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", "a"),
       "unknown dtype 'Q7'"},
      {"negative.safetensors",
       safetensors(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "a"),
       "negative dimension"},
      {"overflow.safetensors",
       safetensors(R"({"w":{"dtype":"U8","shape":[4294967296,4294967296,2],"data_offsets":[0,1]}})",
                   "a"),
       "more than 2^64"},
      {"overlap.safetensors",
       safetensors(
           R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
           "abc"),
       "overlap tensor 'a'"},
      {"range.safetensors", safetensors(f32, "1234"), "past the end of the data section"},
      {"mismatch.safetensors",
       safetensors(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678"),
       "need 12 bytes"},
      {"trailing.safetensors", safetensors(f32, "12345678xyz"), "3 bytes of unexpected data"},
      {"metadata.safetensors", safetensors(R"({"__metadata__":{"a":1}})"), "not a string"},
      {"text.pth", "this is not a checkpoint", "not a PyTorch archive"},
      {"legacy.pt", std::string("\x80\x02\x8a\x0a", 4), "legacy"},
      {"cut.pth", std::string("PK\x03\x04", 4) + std::string(40, '\0'), "zip"},
  };
}

TEST(ModelsInspect, EveryMalformedFileFailsWithOneLine) {
  TempDir dir;
  for (const auto& item : malformed_cases()) {
    SCOPED_TRACE(item.name);
    const std::string path = dir.file(item.name);
    write_file(path, item.bytes);
    const auto result = run_cli({"models", "inspect", path});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    ASSERT_EQ(result.err_lines().size(), 1u) << result.err;
    const std::string line = result.err_lines()[0];
    EXPECT_TRUE(contains(line, "terrasynth models: error: ")) << line;
    EXPECT_TRUE(contains(line, item.name)) << line;
    EXPECT_TRUE(contains(line, item.fragment)) << line;
    EXPECT_TRUE(result.out.empty()) << result.out;

    const auto json = run_cli({"models", "inspect", "--json", path});
    EXPECT_EQ(json.exit_code, 1);
    EXPECT_EQ(json.err_lines().size(), 1u) << json.err;
    const auto document = nlohmann::json::parse(json.out);
    EXPECT_EQ(document["ok"], false);
    EXPECT_TRUE(contains(document["error"].get<std::string>(), item.fragment));
  }
}

TEST(ModelsInspect, CorruptTaef2FailsWithOneLine) {
  const std::string source = shared("fixtures/weights/taef2/taef2_decoder.pth");
  if (!fs::exists(source)) GTEST_SKIP() << "no " << source;
  TempDir dir;
  std::string bytes = testing::read_text(source);
  ASSERT_GT(bytes.size(), 100000u);
  write_file(dir.file("half.pth"), bytes.substr(0, bytes.size() / 2));
  bytes[bytes.size() / 2] ^= 0x55;  // inside a storage record
  write_file(dir.file("flipped.pth"), bytes);
  for (const char* name : {"half.pth", "flipped.pth"}) {
    const auto result = run_cli({"models", "inspect", dir.file(name)});
    EXPECT_EQ(result.exit_code, 1) << name;
    ASSERT_EQ(result.err_lines().size(), 1u) << result.err;
    EXPECT_TRUE(contains(result.err, name)) << result.err;
  }
  EXPECT_TRUE(contains(run_cli({"models", "inspect", dir.file("flipped.pth")}).err, "CRC-32"));
}

TEST(ModelsInspect, BrokenFoldersFailWithOneLine) {
  TempDir dir;
  fs::create_directories(dir.file("empty"));
  fs::create_directories(dir.file("badconfig/unet"));
  write_file(dir.file("badconfig/unet/config.json"), "{ not json");
  fs::create_directories(dir.file("badweights/vae"));
  write_file(dir.file("badweights/vae/config.json"), R"({"_class_name": "AutoencoderKL"})");
  write_file(dir.file("badweights/vae/diffusion_pytorch_model.safetensors"),
             safetensors("{}", "junk"));
  const std::pair<const char*, const char*> cases[] = {
      {"empty", "no model components"},
      {"badconfig", "config.json: not valid JSON"},
      {"badweights", "diffusion_pytorch_model.safetensors: 4 bytes of unexpected data"},
      {"absent", "cannot open"},
  };
  for (const auto& [name, fragment] : cases) {
    const auto result = run_cli({"models", "inspect", dir.file(name)});
    EXPECT_EQ(result.exit_code, 1) << name;
    ASSERT_EQ(result.err_lines().size(), 1u) << name << ": " << result.err;
    EXPECT_TRUE(contains(result.err, fragment)) << result.err;
  }
}

TEST(ModelsInspect, UsageErrors) {
  EXPECT_EQ(run_cli({"models"}).exit_code, 2);
  EXPECT_EQ(run_cli({"models", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_cli({"models", "list", "extra"}).exit_code, 2);
  EXPECT_EQ(run_cli({"models", "inspect"}).exit_code, 2);
  EXPECT_EQ(run_cli({"models", "inspect", "a", "b"}).exit_code, 2);
  const auto help = run_cli({"models", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "inspect PATH")) << help.out;
  EXPECT_TRUE(contains(help.out, "list")) << help.out;
}

// The shipped default model is found on the search path (the source tree's resources/models)
// and listed with its ground resolution and classes.
TEST(ModelsList, ListsTheShippedDefaultModel) {
  const auto result = run_cli({"models", "list", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  const nlohmann::json* base = nullptr;
  for (const auto& model : document.at("models"))
    if (model.at("name") == "terrasynth-base") base = &model;
  ASSERT_NE(base, nullptr) << result.out;
  EXPECT_GT(base->at("gsd").at("native").get<double>(), 0.0);
  EXPECT_LE(base->at("gsd").at("min").get<double>(), base->at("gsd").at("native").get<double>());
  const std::vector<std::string> classes = base->at("classes");
  const std::vector<std::string> expected = {"other", "building", "road", "vegetation",
                                             "water", "bare", "sand"};
  EXPECT_EQ(classes, expected);
  EXPECT_EQ(base->at("palette").size(), classes.size());
  EXPECT_FALSE(base->at("licence").get<std::string>().empty());

  const auto text = run_cli({"models", "list"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(contains(text.out, "terrasynth-base")) << text.out;
  EXPECT_TRUE(contains(text.out, "building")) << text.out;
}

// An extra folder given with --model-path is searched too.
TEST(ModelsList, SearchesAddedFolders) {
  TempDir dir;
  const auto result = run_cli({"models", "list", "--model-path", dir.path(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  bool found = false;
  for (const auto& folder : document.at("search_path")) found = found || folder == dir.path();
  EXPECT_TRUE(found) << result.out;
}

}  // namespace
}  // namespace terrasynth::cli
