#include "cli_common.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace terrasynth::cli {

namespace {
const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  static const OptionSpec kJson{"json", "", "print one machine-readable JSON document on stdout"};
  static const OptionSpec kHelp{"help", "", "show this help"};
  if (name == "json") return &kJson;
  if (name == "help") return &kHelp;
  for (const auto& option : spec.options)
    if (option.name == name) return &option;
  return nullptr;
}
}  // namespace

bool Args::has(const std::string& name) const { return values_.count(name) > 0; }

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::string Args::require(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty() || it->second.back().empty())
    throw UsageError("missing required option --" + name);
  return it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<double> Args::optional_double(const std::string& name) const {
  if (!has(name)) return std::nullopt;
  const std::string text = get(name);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || value != value)
    throw UsageError("--" + name + " expects a number, got '" + text + "'");
  return value;
}

double Args::get_double(const std::string& name, double fallback) const {
  auto value = optional_double(name);
  return value ? *value : fallback;
}

long long Args::get_int(const std::string& name, long long fallback) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0')
    throw UsageError("--" + name + " expects an integer, got '" + text + "'");
  return value;
}

Args Args::parse(const CommandSpec& spec, const std::vector<std::string>& argv) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& token = argv[i];
    if (token.rfind("--", 0) != 0 || token == "--") {
      if (token == "--") {
        for (size_t j = i + 1; j < argv.size(); ++j) args.positional_.push_back(argv[j]);
        break;
      }
      args.positional_.push_back(token);
      continue;
    }
    std::string name = token.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* option = find_option(spec, name);
    if (!option) throw UsageError("unknown option --" + name + " for '" + spec.name + "'");
    if (option->value.empty()) {
      if (inline_value) throw UsageError("option --" + name + " takes no value");
      args.values_[name].push_back("");
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value (" + option->value + ")");
      value = argv[++i];
    }
    auto& slot = args.values_[name];
    if (!slot.empty() && !option->repeatable)
      throw UsageError("option --" + name + " given more than once");
    slot.push_back(value);
  }
  return args;
}

std::string command_help(const CommandSpec& spec) {
  std::ostringstream out;
  out << "Usage: terrasynth " << spec.name << " " << spec.usage << "\n\n";
  if (!spec.description.empty()) out << spec.description << "\n\n";
  out << "Options:\n";
  auto print = [&](const OptionSpec& option) {
    std::string left = "  --" + option.name + (option.value.empty() ? "" : " " + option.value);
    out << left;
    if (left.size() < 28) out << std::string(28 - left.size(), ' ');
    else out << "\n" << std::string(28, ' ');
    out << option.help << (option.repeatable ? " (repeatable)" : "") << "\n";
  };
  for (const auto& option : spec.options) print(option);
  print(*find_option(spec, "json"));
  print(*find_option(spec, "help"));
  out << "\nExit codes: 0 success, 1 failure, 2 usage error, 130 cancelled.\n";
  return out.str();
}

void Output::info(const std::string& line) const {
  if (!json_) std::cout << line << std::endl;
}

void Output::warning(const std::string& line) const { std::cerr << "warning: " << line << std::endl; }

void Output::result(const nlohmann::json& document, const std::string& text) const {
  if (json_) std::cout << document.dump(2) << std::endl;
  else if (!text.empty()) std::cout << text << std::endl;
}

ProgressPrinter::ProgressPrinter(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}

ProgressPrinter::~ProgressPrinter() { finish(); }

void ProgressPrinter::update(double fraction, const std::string& label) {
  if (quiet_) return;
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  const int percent = static_cast<int>(fraction * 100.0 + 1e-9);
  if (percent == last_percent_ && label == last_label_) return;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '#');
    bar += std::string(kWidth - filled, '-');
    std::fprintf(stderr, "\r[%s] %3d%% %-40.40s", bar.c_str(), percent, label.c_str());
    std::fflush(stderr);
    open_line_ = true;
  } else if (percent != last_percent_ || label != last_label_) {
    std::fprintf(stderr, "progress %3d%% %s\n", percent, label.c_str());
  }
  last_percent_ = percent;
  last_label_ = label;
}

void ProgressPrinter::finish() {
  if (open_line_) {
    std::fputc('\n', stderr);
    open_line_ = false;
  }
}

namespace {
std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signals{0};

extern "C" void on_interrupt(int signal_number) {
  if (g_signals.fetch_add(1) >= 1) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  g_interrupted.store(true);
  static const char kMessage[] = "\ninterrupted: cancelling (press Ctrl-C again to abort)\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  (void)ignored;
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

const std::atomic<bool>& interrupt_flag() { return g_interrupted; }
bool interrupted() { return g_interrupted.load(); }

std::pair<std::string, std::string> split_path_layer(const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return {value, ""};
  if (colon == 1 && value.size() > 2 && (value[2] == '\\' || value[2] == '/')) return {value, ""};
  const std::string layer = value.substr(colon + 1);
  if (layer.find('/') != std::string::npos) return {value, ""};
  return {value.substr(0, colon), layer};
}

std::vector<double> parse_number_list(const std::string& option, const std::string& value,
                                      size_t expected) {
  std::vector<double> numbers;
  std::stringstream stream(value);
  std::string item;
  while (std::getline(stream, item, ',')) {
    char* end = nullptr;
    const double number = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || number != number)
      throw UsageError("--" + option + ": '" + item + "' is not a number");
    numbers.push_back(number);
  }
  if (numbers.size() != expected)
    throw UsageError("--" + option + " expects " + std::to_string(expected) +
                     " comma-separated numbers, got '" + value + "'");
  return numbers;
}

}  // namespace terrasynth::cli
