#pragma once
// The subcommands of `terrasynth`. Each is made in its own cmd_<name>.cpp file and listed once
// in all_commands() (main.cpp).
#include <vector>

#include "cli_common.h"

namespace terrasynth::cli {

struct Command {
  CommandSpec spec;
  CommandFn run;
};

std::vector<Command> all_commands();

Command bench_command();     // cmd_bench.cpp
Command evaluate_command();  // cmd_evaluate.cpp
Command generate_command();  // cmd_generate.cpp
Command inpaint_command();   // cmd_inpaint.cpp
Command models_command();  // cmd_models.cpp

Command rasterize_command();  // cmd_rasterize.cpp
Command textures_command();   // cmd_textures.cpp
Command train_command();      // cmd_train.cpp

}  // namespace terrasynth::cli
