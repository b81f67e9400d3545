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

}  // namespace terrasynth::cli
