// The plugin inside the real applications, each run with a fresh profile:
// - QGIS itself under Xvfb, driven through the dock by the TERRASYNTH_PLUGIN_SELFTEST hook;
// - qgis_process.bin with the Processing shim (packaging/python/terrasynth_processing).
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "terrasynth/test_paths.h"

namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool haveCommand(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; returns its exit status (-1 when it did not exit normally).
int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string testModel() {
  if (const char* model = std::getenv("TERRASYNTH_TEST_MODEL")) return model;
  return TERRASYNTH_PLUGIN_TEST_MODEL;
}

fs::path freshFolder(const std::string& name) {
  const fs::path folder = fs::path(TERRASYNTH_TEST_BINARY_DIR) / "test_scratch" / "plugin" /
                          (name + "-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

// A QGIS profile folder with the C++ plugin enabled and the Processing shim enabled.
void writeProfile(const fs::path& profilesRoot, const std::string& modelFolder) {
  const fs::path library = TERRASYNTH_PLUGIN_LIBRARY;
  std::string ini = "[plugins]\nsearchPathsForPlugins=" + library.parent_path().string() +
                    "\n\n[Plugins]\nlibterrasynthplugin=true\n\n[PythonPlugins]\n"
                    "terrasynth_processing=true\n\n[qgis]\ncheckVersion=false\n"
                    "showTips322=false\n";
  if (!modelFolder.empty()) ini += "\n[terrasynth]\nmodelFolders=" + modelFolder + "\n";
  writeFile(profilesRoot / "profiles" / "default" / "QGIS" / "QGIS3.ini", ini);
}

struct RasterInfo {
  bool ok = false;
  int width = 0;
  int height = 0;
  int bands = 0;
  double geotransform[6] = {};
  std::string epsg;
};

RasterInfo inspect(const fs::path& path) {
  GDALAllRegister();
  RasterInfo info;
  GDALDataset* dataset = static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly));
  if (!dataset) return info;
  info.ok = true;
  info.width = dataset->GetRasterXSize();
  info.height = dataset->GetRasterYSize();
  info.bands = dataset->GetRasterCount();
  dataset->GetGeoTransform(info.geotransform);
  if (const OGRSpatialReference* srs = dataset->GetSpatialRef()) {
    const char* code = srs->GetAuthorityCode(nullptr);
    if (code) info.epsg = code;
  }
  GDALClose(dataset);
  return info;
}

std::string modelFolderOf(const std::string& model) {
  // A model given as a folder: its parent joins the search path; a name is looked up there.
  if (model.find('/') == std::string::npos) return "";
  return fs::path(model).parent_path().string();
}

TEST(QgisApp, RegionGeneratedThroughTheDockAppearsInTheTerrasynthGroup) {
  if (!haveCommand("xvfb-run") || !haveCommand("qgis")) GTEST_SKIP() << "needs qgis and xvfb-run";
  if (!TERRASYNTH_PLUGIN_HAVE_PIPELINE) GTEST_SKIP() << "this build has no generation pipeline";
  const fs::path work = freshFolder("app");
  const std::string model = testModel();
  writeProfile(work / "qgis", modelFolderOf(model));
  fs::create_directories(work / "tmp");
  const fs::path report = work / "report.json";
  const fs::path screenshot = work / "screenshot.png";
  nlohmann::json script = {
      {"report", report.string()},
      {"timeout_s", 600},
      {"steps",
       {{{"op", "model"}, {"model", model}},
        {{"op", "zoom"}, {"crs", "EPSG:32631"}, {"extent", {500000, 5000000, 500200, 5000120}}},
        {{"op", "show_dock"}},
        {{"op", "set"}, {"mode", "region"}, {"steps", 2}, {"seed", 11},
         {"output_folder", (work / "out").string()}},
        {{"op", "draw"}, {"purpose", "region"}, {"shape", "rectangle"},
         {"points", {{500050, 5000020}, {500114, 5000084}}}},
        {{"op", "generate"}, {"wait", true}},
        {{"op", "screenshot"}, {"path", screenshot.string()}}}}};
  writeFile(work / "script.json", script.dump(2));

  const std::string command =
      "cd " + quoted(work.string()) + " && TMPDIR=" + quoted((work / "tmp").string()) +
      " QT_QPA_PLATFORM=xcb TERRASYNTH_PLUGIN_SELFTEST=" + quoted((work / "script.json").string()) +
      " timeout 900 xvfb-run -a -s '-screen 0 1600x1000x24' qgis --nologo --noversioncheck"
      " --profiles-path " + quoted((work / "qgis").string()) + " > qgis.log 2>&1";
  const int status = shell(command);
  const std::string log = readFile(work / "qgis.log");
  ASSERT_TRUE(fs::exists(report)) << "no self-test report; QGIS log:\n" << log;
  const nlohmann::json result = nlohmann::json::parse(readFile(report));
  EXPECT_EQ(status, 0) << log;
  ASSERT_TRUE(result.at("ok").get<bool>()) << result.dump(2);
  ASSERT_EQ(result.at("jobs").size(), 1u) << result.dump(2);
  const nlohmann::json& job = result.at("jobs")[0];
  EXPECT_EQ(job.at("status"), "ok") << job.dump();
  ASSERT_EQ(result.at("group").size(), 1u) << result.dump(2);
  EXPECT_TRUE(result.at("group")[0].at("valid").get<bool>());
  EXPECT_EQ(result.at("group")[0].at("crs"), "EPSG:32631");
  EXPECT_NE(result.at("group")[0].at("abstract").get<std::string>().find("Terrasynth"),
            std::string::npos);
  ASSERT_TRUE(fs::exists(screenshot));
  EXPECT_GT(fs::file_size(screenshot), 20000u);

  const RasterInfo raster = inspect(job.at("output").get<std::string>());
  ASSERT_TRUE(raster.ok);
  EXPECT_EQ(raster.epsg, "32631");
  // The rectangle is drawn with synthetic mouse events under Xvfb. They land within a few screen
  // pixels of the requested map points, not exactly: the offset measured here is up to about 15
  // screen pixels (under 2 m at this zoom). The same extent through the command line and through
  // the job builder matches to the output pixel (cli and JobBuilderTest), so the offset arises
  // between the synthetic events and the map tool; its cause is still open. The bound: 16 screen
  // pixels plus one output pixel of outward snapping.
  const double screen = result.at("canvas").at("map_units_per_pixel").get<double>();
  ASSERT_GT(screen, 0.0);
  const double tolerance = raster.geotransform[1] + 16 * screen;
  EXPECT_NEAR(raster.geotransform[0], 500050, tolerance) << result.at("canvas").dump();
  EXPECT_NEAR(raster.geotransform[3], 5000084, tolerance) << result.at("canvas").dump();
  EXPECT_NEAR(raster.width * raster.geotransform[1], 64, raster.geotransform[1] + 16 * screen);
  EXPECT_NEAR(raster.height * raster.geotransform[1], 64, raster.geotransform[1] + 16 * screen);
}

class QgisProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveCommand("qgis_process.bin")) GTEST_SKIP() << "needs qgis_process.bin (package qgis)";
    work = freshFolder("qgis_process");
    writeProfile(work / "config", modelFolderOf(testModel()));
    environment = "cd " + quoted(work.string()) + " && QT_QPA_PLATFORM=offscreen" +
                  " QGIS_CUSTOM_CONFIG_PATH=" + quoted((work / "config").string()) +
                  " QGIS_PLUGINPATH=" +
                  quoted(std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/packaging/python") +
                  " PYTHONDONTWRITEBYTECODE=1 TERRASYNTH_PLUGIN_LIBRARY=" +
                  quoted(TERRASYNTH_PLUGIN_LIBRARY) + " ";
  }
  fs::path work;
  std::string environment;
};

TEST_F(QgisProcess, ListsTheTerrasynthAlgorithms) {
  const int status = shell(environment + "qgis_process.bin list > list.txt 2>&1");
  const std::string list = readFile(work / "list.txt");
  ASSERT_EQ(status, 0) << list;
  for (const char* id : {"terrasynth:generateextent", "terrasynth:generatelayout",
                         "terrasynth:generateosm", "terrasynth:inpaint"}) {
    EXPECT_NE(list.find(id), std::string::npos) << id << " missing from:\n" << list;
  }
}

TEST_F(QgisProcess, GenerateExtentProducesAGeoreferencedRaster) {
  if (!TERRASYNTH_PLUGIN_HAVE_PIPELINE) GTEST_SKIP() << "this build has no generation pipeline";
  const fs::path output = work / "extent.tif";
  std::string command = environment +
                        "qgis_process.bin --json run terrasynth:generateextent -- "
                        "EXTENT='600000,600064,4000000,4000048 [EPSG:32633]' STEPS=2 SEED=4 "
                        "OUTPUT=" + quoted(output.string());
  const std::string model = testModel();
  if (!model.empty()) command += " MODEL=" + quoted(model);
  const int status = shell(command + " > run.json 2> run.log");
  const std::string json = readFile(work / "run.json");
  ASSERT_EQ(status, 0) << json << readFile(work / "run.log");
  const nlohmann::json result = nlohmann::json::parse(json);
  EXPECT_EQ(result.at("results").at("OUTPUT"), output.string());
  const RasterInfo raster = inspect(output);
  ASSERT_TRUE(raster.ok);
  EXPECT_EQ(raster.epsg, "32633");
  EXPECT_GE(raster.bands, 3);
  EXPECT_NEAR(raster.geotransform[0], 600000, raster.geotransform[1]);
  EXPECT_NEAR(raster.geotransform[3], 4000048, raster.geotransform[1]);
  EXPECT_NEAR(raster.width * raster.geotransform[1], 64, raster.geotransform[1]);
  EXPECT_NEAR(raster.height * -raster.geotransform[5], 48, -raster.geotransform[5]);
}

}  // namespace
