#pragma once
// Runs the built `terrasynth` binary and captures its exit code, stdout and stderr.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "terrasynth/test_paths.h"

namespace terrasynth::cli::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::stringstream stream(err);
    for (std::string line; std::getline(stream, line);)
      if (!line.empty()) lines.push_back(line);
    return lines;
  }
};

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "terrasynth-cli-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

inline std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs `terrasynth ARGS...` from the repository root (relative fixture paths as in the docs).
inline RunResult run_cli(const std::vector<std::string>& arguments) {
  TempDir capture;
  std::string command =
      "cd " + shell_quote(TERRASYNTH_TEST_SOURCE_DIR) + " && " + shell_quote(TERRASYNTH_CLI_PATH);
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

inline std::string shared(const std::string& relative) {
  return std::string(TERRASYNTH_TEST_SHARED_DIR) + "/" + relative;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace terrasynth::cli::testing
