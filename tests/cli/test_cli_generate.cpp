#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "terrasynth/geo/crs.h"
#include "terrasynth/geo/raster.h"

using namespace terrasynth::cli::testing;
namespace geo = terrasynth::geo;
namespace fs = std::filesystem;

namespace {

// Relative to the repository root, exactly as in the documentation.
const std::string kOsm = "../shared/fixtures/vectors/liechtenstein-2013-08-03.osm.pbf";
const std::string kModel = TERRASYNTH_TINY_MODEL_DIR;

// The tiny model with small windows and two steps: seconds per run.
std::vector<std::string> fast(std::vector<std::string> arguments) {
  for (const char* option : {"--model", kModel.c_str(), "--steps", "2", "--tile", "64",
                             "--overlap", "16", "--device", "cpu", "--threads", "1"})
    arguments.emplace_back(option);
  return arguments;
}

// Runs the CLI under `timeout -s INT SECONDS` (Ctrl-C after that long).
RunResult run_interrupted(const std::vector<std::string>& arguments, int seconds) {
  TempDir capture;
  // --foreground: one SIGINT to the command, like Ctrl-C. Without it timeout also signals its
  // process group, and when the two deliveries do not coalesce (a loaded machine) the second
  // one is the "press Ctrl-C again to abort" of the command's handler.
  std::string command = "cd " + shell_quote(TERRASYNTH_TEST_SOURCE_DIR) +
                        " && timeout --foreground --preserve-status -s INT " + std::to_string(seconds) + " " +
                        shell_quote(TERRASYNTH_CLI_PATH);
  for (const auto& argument : arguments) command += " " + shell_quote(argument);
  command += " >" + shell_quote(capture.file("out")) + " 2>" + shell_quote(capture.file("err")) +
             " </dev/null";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(capture.file("out"));
  result.err = read_text(capture.file("err"));
  return result;
}

std::vector<std::string> entries(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path()))
    names.push_back(entry.path().filename().string());
  return names;
}

}  // namespace

TEST(CliGenerate, OsmOverLiechtensteinIsGeoreferencedExactlyAsRequested) {
  TempDir dir;
  const std::string out = dir.file("vaduz.tif");
  const RunResult result =
      run_cli(fast({"generate", "--osm", kOsm, "--extent", "9.5200,47.1350,9.5215,47.1362",
                    "--crs", "EPSG:4326", "--gsd", "1", "--seed", "5", "--out", out, "--json"}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document["ok"], true);
  EXPECT_EQ(document["output"], out);
  EXPECT_EQ(document["crs"], "EPSG:4326");
  EXPECT_EQ(document["work_crs"], "EPSG:32632");
  EXPECT_TRUE(document["warnings"].empty()) << document["warnings"].dump();
  EXPECT_TRUE(contains(document["provenance"]["layout"].get<std::string>(), "OpenStreetMap"));
  EXPECT_TRUE(contains(result.err, "plan: ")) << result.err;

  const geo::RasterInfo info = geo::read_raster_info(out);
  EXPECT_TRUE(geo::crs_equivalent(info.grid.crs, "EPSG:4326"));
  const geo::Extent e = info.grid.extent();
  EXPECT_NEAR(e.xmin, 9.5200, info.grid.pixel_width());
  EXPECT_NEAR(e.xmax, 9.5215, info.grid.pixel_width());
  EXPECT_NEAR(e.ymin, 47.1350, info.grid.pixel_height());
  EXPECT_NEAR(e.ymax, 47.1362, info.grid.pixel_height());
  EXPECT_LE(e.xmin, 9.5200);
  EXPECT_GE(e.ymax, 47.1362);
  const geo::GroundResolution ground = geo::ground_resolution(info.grid);
  EXPECT_NEAR(ground.mean(), 1.0, 0.01);
  EXPECT_EQ(info.bands, 3);
  EXPECT_EQ(info.metadata.at("TERRASYNTH_SEED"), "5");
  EXPECT_TRUE(fs::exists(dir.file("vaduz.json")));
}

TEST(CliGenerate, TextModePrintsThePlanAndTheOutput) {
  TempDir dir;
  const std::string out = dir.file("utm.tif");
  const RunResult result =
      run_cli(fast({"generate", "--extent", "500000,5200000,500032,5200032", "--crs",
                    "EPSG:32632", "--gsd", "0.5", "--scene", "forest", "--out", out}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "plan: 64 x 64 px")) << result.out;
  EXPECT_TRUE(contains(result.out, "wrote " + out)) << result.out;
  EXPECT_TRUE(contains(result.out, "STAC item")) << result.out;
  EXPECT_EQ(geo::read_raster_info(out).metadata.at("TERRASYNTH_SCENE"), "forest");
}

// --eta (DDIM's) and the guidance by frequency are checked, applied and recorded in the
// provenance; other samplers say they do not use eta.
TEST(CliGenerate, SamplerAdjustmentsAreCheckedAndRecorded) {
  TempDir dir;
  const std::vector<std::string> where{"generate", "--extent", "500000,5200000,500032,5200032", "--crs",
                                       "EPSG:32632", "--gsd", "0.5", "--json"};
  auto provenance = [&](std::vector<std::string> extra, const std::string& name) {
    std::vector<std::string> arguments = where;
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    arguments.insert(arguments.end(), {"--out", dir.file(name)});
    const RunResult r = run_cli(fast(arguments));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["provenance"];
  };
  EXPECT_EQ(provenance({"--sampler", "ddim", "--eta", "0.5"}, "ddim.tif")["eta"], "0.5");
  const auto plain = provenance({}, "default.tif");
  EXPECT_EQ(plain["eta"], "not used by dpmpp_2m");
  EXPECT_EQ(plain["coarse_guidance"], "off");
  EXPECT_EQ(provenance({"--coarse-guidance", "1.5", "--coarse-sigma", "8"}, "coarse.tif")["coarse_guidance"],
            "1.5 coarser than 8 px");
  // Scale 1 is the conditional branch alone: nothing to split.
  EXPECT_EQ(provenance({"--guidance", "1", "--coarse-sigma", "8"}, "unguided.tif")["coarse_guidance"], "off");

  std::vector<std::string> bad = where;
  bad.insert(bad.end(), {"--eta", "1.5", "--out", dir.file("bad.tif")});
  const RunResult r = run_cli(fast(bad));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--eta")) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("bad.tif")));
  bad = where;
  bad.insert(bad.end(), {"--coarse-sigma", "-2", "--out", dir.file("bad.tif")});
  const RunResult sigma = run_cli(fast(bad));
  EXPECT_EQ(sigma.exit_code, 2);
  EXPECT_TRUE(contains(sigma.err, "--coarse-sigma")) << sigma.err;
}

TEST(CliGenerate, BadInputsFailWithClearMessages) {
  TempDir dir;
  const std::string out = dir.file("bad.tif");
  auto run = [&](std::vector<std::string> arguments) { return run_cli(fast(std::move(arguments))); };
  const std::vector<std::string> where{"--extent", "500000,5200000,500032,5200032", "--crs",
                                       "EPSG:32632", "--gsd", "0.5", "--out", out};

  RunResult r = run({"generate", "--extent", "1,2,3,4", "--gsd", "1", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--crs")) << r.err;

  r = run({"generate", "--extent", "500000,5200000,500032,5200032", "--crs", "EPSG:32632", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--gsd")) << r.err;

  std::vector<std::string> both = where;
  both.insert(both.begin(), {"generate", "--layout", "x.geojson", "--osm", kOsm});
  EXPECT_EQ(run(both).exit_code, 2);

  r = run({"generate", "--extent", "1,2,3,4", "--crs", "EPSG:999999", "--gsd", "1", "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "EPSG:999999")) << r.err;

  r = run({"generate", "--extent", "500032,5200000,500000,5200032", "--crs", "EPSG:32632", "--gsd",
           "0.5", "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "extent")) << r.err;

  std::vector<std::string> style = where;
  style.insert(style.begin(), {"generate", "--style", "atlantis"});
  r = run(style);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "unknown style 'atlantis'")) << r.err;
  EXPECT_TRUE(contains(r.err, "recife")) << r.err;

  r = run({"generate", "--extent", "500000,5200000,500032,5200032", "--crs", "EPSG:32632", "--gsd",
           "0.5", "--out", dir.file("no/such/folder/x.tif")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "does not exist")) << r.err;

  r = run({"generate", "--extent", "500000,5200000,530000,5230000", "--crs", "EPSG:32632", "--gsd",
           "1", "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "--force")) << r.err;
  EXPECT_TRUE(contains(r.out, "30000 x 30000 px")) << r.out;

  r = run_cli({"generate", "--extent", "500000,5200000,500032,5200032", "--crs", "EPSG:32632",
               "--gsd", "0.5", "--model", dir.file("nothing-here"), "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "nothing-here")) << r.err;

  EXPECT_TRUE(entries(dir).empty());
}

TEST(CliGenerate, CtrlCLeavesNoPartialFile) {
  TempDir dir;
  const std::string out = dir.file("interrupted.tif");
  // 2048 x 2048 px: far longer than the four seconds before the interrupt.
  const RunResult result = run_interrupted(
      {"generate", "--extent", "500000,5200000,501024,5201024", "--crs", "EPSG:32632", "--gsd",
       "0.5", "--model", kModel, "--device", "cpu", "--threads", "1", "--out", out},
      4);
  EXPECT_EQ(result.exit_code, 130) << result.err;
  EXPECT_TRUE(contains(result.err, "cancelled; no output written")) << result.err;
  EXPECT_TRUE(entries(dir).empty()) << entries(dir).front();
}

TEST(CliGenerate, TexturesBuildsABankThatGenerateUses) {
  TempDir dir;
  const std::string bank = dir.file("bank");
  RunResult r = run_cli({"textures", "--data", "../shared/data", "--out", bank, "--styles", "dubai",
                         "--per-style", "2", "--size", "64", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto built = nlohmann::json::parse(r.out);
  EXPECT_EQ(built["styles"]["dubai"]["items"].size(), 2u);
  EXPECT_TRUE(fs::exists(bank + "/bank.json"));
  EXPECT_TRUE(fs::exists(bank + "/dubai_01_classes.png"));

  r = run_cli(fast({"generate", "--extent", "500000,5200000,500064,5200064", "--crs", "EPSG:32632", "--gsd",
                    "1.2", "--style", "dubai", "--texture-bank", bank, "--json", "--out", dir.file("t.tif")}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string texture = nlohmann::json::parse(r.out)["provenance"]["texture"];
  EXPECT_TRUE(contains(texture, "patches of 2 dubai photos")) << texture;

  // Bad values are usage errors naming the option; a folder that is no bank fails naming it.
  r = run_cli({"textures", "--data", "../shared/data", "--out", dir.file("b2"), "--per-style", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--per-style")) << r.err;
  r = run_cli(fast({"generate", "--extent", "500000,5200000,500032,5200032", "--crs", "EPSG:32632", "--gsd",
                    "0.5", "--texture-bank", dir.path(), "--out", dir.file("no.tif")}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "not a texture bank")) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("no.tif")));
}
