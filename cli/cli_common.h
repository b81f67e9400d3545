#pragma once
// Small shared machinery of the `terrasynth` command: option parsing, output (text or JSON),
// progress display and Ctrl-C cancellation. Each subcommand lives in its own cmd_*.cpp file.
#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace terrasynth::cli {

// Exit codes of every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCancelled = 130;  // like a shell after SIGINT

// Thrown for a wrong command line: reported on stderr with a hint and exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;       // long name without dashes, e.g. "layout"
  std::string value;      // placeholder for the value ("FILE"); empty for a flag
  std::string help;
  bool repeatable = false;
};

struct CommandSpec {
  std::string name;
  std::string summary;              // one line for `terrasynth --help`
  std::string usage;                // synopsis after "terrasynth NAME "
  std::string description;          // paragraph for `terrasynth NAME --help`
  std::vector<OptionSpec> options;  // --json and --help are added to every command
};

// Parsed options of one subcommand. Values are validated by the typed getters, which throw
// UsageError naming the option.
class Args {
 public:
  bool has(const std::string& name) const;
  bool flag(const std::string& name) const { return has(name); }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::string require(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;
  double get_double(const std::string& name, double fallback) const;
  long long get_int(const std::string& name, long long fallback) const;
  std::optional<double> optional_double(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  bool json() const { return has("json"); }

  static Args parse(const CommandSpec& spec, const std::vector<std::string>& argv);

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

std::string command_help(const CommandSpec& spec);

// Where results and messages go: with --json one JSON document on stdout, human text otherwise;
// diagnostics always on stderr.
class Output {
 public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }
  void info(const std::string& line) const;     // stdout, text mode only
  void warning(const std::string& line) const;  // stderr, "warning: ..."
  void result(const nlohmann::json& document, const std::string& text) const;

 private:
  bool json_;
};

// A progress display: a redrawn bar on a terminal, plain lines (at most one per percent step)
// otherwise. Silent with --json except for errors.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet);
  ~ProgressPrinter();
  void update(double fraction, const std::string& label);
  void finish();

 private:
  bool quiet_;
  bool tty_;
  int last_percent_ = -1;
  std::string last_label_;
  bool open_line_ = false;
};

// Ctrl-C handling: the first SIGINT/SIGTERM sets the flag (operations cancel cleanly and remove
// partial outputs); a second one terminates at once.
void install_interrupt_handler();
const std::atomic<bool>& interrupt_flag();
bool interrupted();

// Splits "path:layer" (the layer part is optional; a Windows drive letter is not a layer).
std::pair<std::string, std::string> split_path_layer(const std::string& value);
// Parses "x1,y1,x2,y2".
std::vector<double> parse_number_list(const std::string& option, const std::string& value,
                                      size_t expected);

using CommandFn = std::function<int(const Args&, const Output&)>;

}  // namespace terrasynth::cli
