#include "nn/config.h"

#include <fstream>
#include <sstream>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace {

std::string type_name(const nlohmann::json& value) {
  return value.type_name();
}

}  // namespace

ConfigReader::ConfigReader(nlohmann::json config, std::string label)
    : config_(std::move(config)), label_(std::move(label)) {
  if (!config_.is_object()) {
    throw EngineError(EngineError::Kind::ModelFormat,
                      label_ + ": expected a JSON object, found " + type_name(config_));
  }
}

ConfigReader ConfigReader::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw EngineError(EngineError::Kind::Io, path + ": cannot open the network config");
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& error) {
    throw EngineError(EngineError::Kind::ModelFormat,
                      path + ": not valid JSON (" + std::string(error.what()) + ")");
  }
  return ConfigReader(std::move(parsed), path);
}

const nlohmann::json* ConfigReader::find(const std::string& key) const {
  auto it = config_.find(key);
  if (it == config_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool ConfigReader::has(const std::string& key) const {
  return find(key) != nullptr;
}

void ConfigReader::fail(const std::string& key, const std::string& problem) const {
  throw EngineError(EngineError::Kind::ModelFormat, label_ + ": key '" + key + "' " + problem);
}

void ConfigReader::unsupported(const std::string& key, const std::string& problem) const {
  throw EngineError(EngineError::Kind::Unsupported, label_ + ": key '" + key + "' " + problem);
}

int64_t ConfigReader::get_int(const std::string& key, int64_t fallback) const {
  auto value = get_optional_int(key);
  return value ? *value : fallback;
}

std::optional<int64_t> ConfigReader::get_optional_int(const std::string& key) const {
  const auto* value = find(key);
  if (!value) return std::nullopt;
  if (value->is_number_integer()) return value->get<int64_t>();
  if (value->is_number_float()) {
    double number = value->get<double>();
    if (number == static_cast<double>(static_cast<int64_t>(number))) {
      return static_cast<int64_t>(number);
    }
  }
  fail(key, "must be an integer, found " + value->dump());
}

double ConfigReader::get_double(const std::string& key, double fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  if (!value->is_number()) fail(key, "must be a number, found " + value->dump());
  return value->get<double>();
}

bool ConfigReader::get_bool(const std::string& key, bool fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  if (!value->is_boolean()) fail(key, "must be true or false, found " + value->dump());
  return value->get<bool>();
}

std::string ConfigReader::get_string(const std::string& key, const std::string& fallback) const {
  auto value = get_optional_string(key);
  return value ? *value : fallback;
}

std::optional<std::string> ConfigReader::get_optional_string(const std::string& key) const {
  const auto* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_string()) fail(key, "must be a string, found " + value->dump());
  return value->get<std::string>();
}

std::vector<int64_t> ConfigReader::get_int_list(const std::string& key,
                                                const std::vector<int64_t>& fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  if (!value->is_array()) fail(key, "must be a list of integers, found " + value->dump());
  std::vector<int64_t> out;
  for (const auto& item : *value) {
    if (!item.is_number_integer()) fail(key, "must be a list of integers, found " + value->dump());
    out.push_back(item.get<int64_t>());
  }
  return out;
}

std::vector<std::string> ConfigReader::get_string_list(
    const std::string& key, const std::vector<std::string>& fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  if (!value->is_array()) fail(key, "must be a list of strings, found " + value->dump());
  std::vector<std::string> out;
  for (const auto& item : *value) {
    if (!item.is_string()) fail(key, "must be a list of strings, found " + value->dump());
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<int64_t> ConfigReader::get_int_or_list(const std::string& key, int64_t fallback,
                                                   size_t count) const {
  const auto* value = find(key);
  if (!value) return std::vector<int64_t>(count, fallback);
  if (value->is_number_integer()) return std::vector<int64_t>(count, value->get<int64_t>());
  auto list = get_int_list(key, {});
  if (list.size() != count) {
    fail(key, "must be an integer or a list of " + std::to_string(count) + " integers, found " +
                  value->dump());
  }
  return list;
}

void ConfigReader::require_absent(const std::string& key, const std::string& why) const {
  const auto* value = find(key);
  if (!value) return;
  if (value->is_boolean() && !value->get<bool>()) return;
  unsupported(key, "= " + value->dump() + " is not supported (" + why + ")");
}

}  // namespace terrasynth::engine::nn
