#pragma once
// Typed access to a diffusers config.json: absent keys and JSON null take the default, wrong
// types throw EngineError(ModelFormat) naming the file and the key.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace terrasynth::engine::nn {

class ConfigReader {
 public:
  // `label` names the config in messages, e.g. "unet/config.json".
  ConfigReader(nlohmann::json config, std::string label);

  static ConfigReader from_file(const std::string& path);

  const nlohmann::json& json() const { return config_; }
  const std::string& label() const { return label_; }

  bool has(const std::string& key) const;  // present and not null
  int64_t get_int(const std::string& key, int64_t fallback) const;
  std::optional<int64_t> get_optional_int(const std::string& key) const;
  double get_double(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::optional<std::string> get_optional_string(const std::string& key) const;
  std::vector<int64_t> get_int_list(const std::string& key,
                                    const std::vector<int64_t>& fallback) const;
  std::vector<std::string> get_string_list(const std::string& key,
                                           const std::vector<std::string>& fallback) const;
  // An int repeated `count` times or a list of exactly `count` ints (diffusers accepts both).
  std::vector<int64_t> get_int_or_list(const std::string& key, int64_t fallback,
                                       size_t count) const;

  // Throws EngineError(Unsupported) when `key` is present and differs from its neutral value.
  void require_absent(const std::string& key, const std::string& why) const;
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  [[noreturn]] void unsupported(const std::string& key, const std::string& problem) const;

 private:
  const nlohmann::json* find(const std::string& key) const;

  nlohmann::json config_;
  std::string label_;
};

}  // namespace terrasynth::engine::nn
