// terrasynth: the headless command line of Terrasynth.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "terrasynth/version.h"

namespace terrasynth::cli {

std::vector<Command> all_commands() {
  std::vector<Command> commands;
  // Subcommands register here, one line each, in the order `terrasynth --help` lists them.
  commands.push_back(generate_command());
  commands.push_back(inpaint_command());
  commands.push_back(rasterize_command());
  commands.push_back(models_command());
  commands.push_back(train_command());
  commands.push_back(textures_command());
  commands.push_back(evaluate_command());
  commands.push_back(bench_command());
  return commands;
}

namespace {

void print_main_help(const std::vector<Command>& commands) {
  std::cout << "terrasynth " << TERRASYNTH_VERSION
            << " - synthetic georeferenced aerial imagery\n\n"
               "Usage: terrasynth COMMAND [OPTIONS]\n"
               "       terrasynth COMMAND --help\n"
               "       terrasynth --version\n\nCommands:\n";
  for (const auto& command : commands) {
    std::string name = "  " + command.spec.name;
    std::cout << name << std::string(name.size() < 14 ? 14 - name.size() : 1, ' ')
              << command.spec.summary << "\n";
  }
  std::cout << "\nExit codes: 0 success, 1 failure, 2 usage error, 130 cancelled.\n";
}

}  // namespace
}  // namespace terrasynth::cli

int main(int argc, char** argv) {
  using namespace terrasynth::cli;
  const std::vector<Command> commands = all_commands();
  std::vector<std::string> arguments(argv + 1, argv + argc);
  if (arguments.empty() || arguments[0] == "--help" || arguments[0] == "-h" ||
      arguments[0] == "help") {
    print_main_help(commands);
    return arguments.empty() ? kExitUsage : kExitOk;
  }
  if (arguments[0] == "--version" || arguments[0] == "-V") {
    std::cout << "terrasynth " << TERRASYNTH_VERSION << std::endl;
    return kExitOk;
  }
  const std::string name = arguments[0];
  for (const auto& command : commands) {
    if (command.spec.name != name) continue;
    const std::vector<std::string> rest(arguments.begin() + 1, arguments.end());
    bool json = false;
    for (const auto& token : rest) json = json || token == "--json";
    try {
      const Args args = Args::parse(command.spec, rest);
      if (args.has("help")) {
        std::cout << command_help(command.spec);
        return kExitOk;
      }
      install_interrupt_handler();
      return command.run(args, Output(args.json()));
    } catch (const UsageError& error) {
      std::cerr << "terrasynth " << name << ": " << error.what() << "\n"
                << "Try 'terrasynth " << name << " --help'." << std::endl;
      return kExitUsage;
    } catch (const std::exception& error) {
      std::string message = error.what();
      for (auto& c : message)
        if (c == '\n') c = ' ';
      if (json) std::cout << nlohmann::json{{"ok", false}, {"error", message}}.dump(2) << std::endl;
      std::cerr << "terrasynth " << name << ": error: " << message << std::endl;
      return kExitFailure;
    }
  }
  std::cerr << "terrasynth: unknown command '" << name << "'. Try 'terrasynth --help'." << std::endl;
  return kExitUsage;
}
