#include <gtest/gtest.h>

#include "cli_test_support.h"
#include "terrasynth/version.h"

using namespace terrasynth::cli::testing;

TEST(Cli, HelpListsTheRasterizeCommand) {
  const RunResult result = run_cli({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(contains(result.out, "Usage: terrasynth COMMAND")) << result.out;
  EXPECT_TRUE(contains(result.out, "rasterize")) << result.out;
}

TEST(Cli, VersionPrintsTheProjectVersion) {
  const RunResult result = run_cli({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, std::string("terrasynth ") + TERRASYNTH_VERSION + "\n");
}

TEST(Cli, NoArgumentsOrUnknownCommandIsAUsageError) {
  EXPECT_EQ(run_cli({}).exit_code, 2);
  const RunResult unknown = run_cli({"paint"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown command 'paint'")) << unknown.err;
}

TEST(Cli, RasterizeHelpDescribesItsOptions) {
  const RunResult result = run_cli({"rasterize", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* option : {"--layout", "--like", "--extent", "--crs", "--gsd", "--class-field",
                             "--osm-classes", "--all-touched", "--out", "--json"})
    EXPECT_TRUE(contains(result.out, option)) << option;
}
