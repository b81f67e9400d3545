#include "terrasynth/geo/osm_mapping.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/error.h"
#include "terrasynth/geo/resources.h"

namespace terrasynth::geo {

namespace {

constexpr const char* kFormat = "terrasynth-osm-classes";

[[noreturn]] void fail(const std::string& source, const std::string& where,
                       const std::string& problem) {
  throw GeoError(
      GeoError::Kind::BadMapping,
      "OSM class mapping " + source + (where.empty() ? "" : ", " + where) + ": " + problem);
}

std::optional<double> parse_width(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string normalised = text;
  std::replace(normalised.begin(), normalised.end(), ',', '.');
  char* end = nullptr;
  const double value = std::strtod(normalised.c_str(), &end);
  if (end == normalised.c_str() || !(value > 0)) return std::nullopt;
  while (*end == ' ') ++end;
  if (*end == 'm' && end[1] == '\0') ++end;
  if (*end != '\0') return std::nullopt;  // feet, inches, ranges: not trusted
  return value;
}

}  // namespace

bool OsmMapping::matches(const Condition& condition, const Tags& tags) {
  const auto it = tags.find(condition.key);
  if (it == tags.end() || it->second.empty()) return false;
  if (condition.values.empty()) return true;
  return std::find(condition.values.begin(), condition.values.end(), it->second) !=
         condition.values.end();
}

OsmMapping OsmMapping::load(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error))
    throw GeoError(GeoError::Kind::NotFound, "OSM class mapping not found: " + path);
  std::ifstream file(path);
  if (!file) throw GeoError(GeoError::Kind::Io, "cannot read OSM class mapping " + path);
  std::stringstream text;
  text << file.rdbuf();
  return parse(text.str(), path);
}

OsmMapping OsmMapping::load_default() {
  return load(resource_path("osm_classes.json"));
}

OsmMapping OsmMapping::parse(const std::string& json_text, const std::string& source_name) {
  using nlohmann::json;
  json document;
  try {
    document = json::parse(json_text);
  } catch (const json::parse_error& error) {
    fail(source_name, "", std::string("not valid JSON: ") + error.what());
  }
  if (!document.is_object()) fail(source_name, "", "the document must be a JSON object");
  if (document.value("format", "") != kFormat)
    fail(source_name, "", std::string("\"format\" must be \"") + kFormat + "\"");
  if (!document.contains("version") || document["version"] != 1)
    fail(source_name, "", "\"version\" must be 1");

  OsmMapping mapping;
  mapping.source_ = source_name;
  for (size_t i = 0; i < class_names().size(); ++i)
    mapping.priorities_.push_back(class_priority(static_cast<uint8_t>(i)));
  if (document.contains("priority")) {
    const json& priority = document["priority"];
    if (!priority.is_object())
      fail(source_name, "\"priority\"", "must be an object class -> number");
    for (const auto& [name, value] : priority.items()) {
      const uint8_t id = parse_class(name, "OSM class mapping " + source_name + ", \"priority\"");
      if (!value.is_number_integer())
        fail(source_name, "priority of " + name, "must be an integer");
      mapping.priorities_[id] = value.get<int>();
    }
  }

  if (!document.contains("rules") || !document["rules"].is_array() || document["rules"].empty())
    fail(source_name, "", "\"rules\" must be a non-empty array");
  auto read_conditions = [&](const json& object, const std::string& where) {
    std::vector<Condition> conditions;
    if (!object.is_object() || object.empty())
      fail(source_name, where, "must be a non-empty object of tag -> value, [values] or \"*\"");
    for (const auto& [key, value] : object.items()) {
      Condition condition{key, {}};
      if (value.is_string()) {
        if (value.get<std::string>() != "*") condition.values.push_back(value.get<std::string>());
      } else if (value.is_array() && !value.empty()) {
        for (const auto& item : value) {
          if (!item.is_string()) fail(source_name, where + " tag " + key, "values must be strings");
          condition.values.push_back(item.get<std::string>());
        }
      } else {
        fail(source_name, where + " tag " + key, "must be a string, \"*\" or a non-empty array");
      }
      conditions.push_back(std::move(condition));
    }
    return conditions;
  };

  size_t index = 0;
  for (const json& item : document["rules"]) {
    const std::string where = "rule " + std::to_string(index);
    if (!item.is_object()) fail(source_name, where, "must be an object");
    for (const auto& [key, value] : item.items()) {
      static const char* const kKnown[] = {"tags",      "except", "class",    "width",  "width_tag",
                                           "max_width", "area",   "geometry", "comment"};
      if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
        fail(source_name, where,
             "unknown key \"" + key +
                 "\" (known: tags, except, class, width, width_tag, max_width, "
                 "area, geometry, comment)");
    }
    Rule rule;
    if (!item.contains("tags")) fail(source_name, where, "needs \"tags\"");
    rule.tags = read_conditions(item["tags"], where + " \"tags\"");
    if (item.contains("except"))
      rule.except = read_conditions(item["except"], where + " \"except\"");
    if (!item.contains("class"))
      fail(source_name, where, "needs \"class\" (a class name, or null to drop)");
    const json& cls = item["class"];
    if (cls.is_string()) {
      rule.class_id =
          parse_class(cls.get<std::string>(), "OSM class mapping " + source_name + ", " + where);
    } else if (cls.is_number_integer()) {
      rule.class_id = parse_class(std::to_string(cls.get<int>()),
                                  "OSM class mapping " + source_name + ", " + where);
    } else if (!cls.is_null()) {
      fail(source_name, where, "\"class\" must be a class name, an id or null");
    }
    if (item.contains("width")) {
      if (!item["width"].is_number() || !(item["width"].get<double>() > 0))
        fail(source_name, where, "\"width\" must be a positive number of metres");
      rule.width_m = item["width"].get<double>();
    }
    if (item.contains("width_tag")) {
      if (!item["width_tag"].is_string())
        fail(source_name, where, "\"width_tag\" must be a tag name");
      rule.width_tag = item["width_tag"].get<std::string>();
    }
    rule.max_width_m = std::max(rule.width_m * 10.0, 100.0);
    if (item.contains("max_width")) {
      if (!item["max_width"].is_number() || !(item["max_width"].get<double>() > 0))
        fail(source_name, where, "\"max_width\" must be a positive number of metres");
      rule.max_width_m = item["max_width"].get<double>();
    }
    if (item.contains("area")) {
      if (!item["area"].is_boolean()) fail(source_name, where, "\"area\" must be true or false");
      rule.area = item["area"].get<bool>();
    }
    if (item.contains("geometry")) {
      const json& kinds = item["geometry"];
      if (!kinds.is_array() || kinds.empty())
        fail(source_name, where, "\"geometry\" must be a non-empty array of point, line, area");
      rule.points = rule.lines = rule.areas = false;
      for (const auto& kind : kinds) {
        const std::string name = kind.is_string() ? kind.get<std::string>() : "";
        if (name == "point")
          rule.points = true;
        else if (name == "line")
          rule.lines = true;
        else if (name == "area")
          rule.areas = true;
        else
          fail(source_name, where, "\"geometry\" entries must be point, line or area");
      }
    }
    if (rule.points && rule.class_id && rule.width_m <= 0)
      fail(source_name, where, "a rule for points needs a \"width\"");
    mapping.rules_.push_back(std::move(rule));
    ++index;
  }
  return mapping;
}

std::optional<OsmMatch> OsmMapping::match(const Tags& tags, GeometryKind kind) const {
  for (size_t index = 0; index < rules_.size(); ++index) {
    const Rule& rule = rules_[index];
    // A dropping rule (class null) applies to every geometry its "geometry" list allows; a
    // classifying rule only to geometries it can give an area (lines and points need a width).
    const bool drops = !rule.class_id.has_value();
    bool fill = false;
    switch (kind) {
      case GeometryKind::Point:
        if (!rule.points || (!drops && rule.width_m <= 0)) continue;
        break;
      case GeometryKind::Line:
        if (!rule.lines || (!drops && rule.width_m <= 0)) continue;
        break;
      case GeometryKind::ClosedLine:
        if (!rule.lines || (!drops && !rule.area && rule.width_m <= 0)) continue;
        fill = rule.area;
        break;
      case GeometryKind::Area:
        if (!rule.areas) continue;
        fill = true;
        break;
    }
    bool all = true;
    for (const auto& condition : rule.tags) all = all && matches(condition, tags);
    if (!all) continue;
    bool excluded = false;
    for (const auto& condition : rule.except) excluded = excluded || matches(condition, tags);
    if (excluded) continue;
    if (!rule.class_id) return std::nullopt;
    OsmMatch result;
    result.class_id = *rule.class_id;
    result.fill = fill;
    result.rule = index;
    result.priority = priority(result.class_id);
    if (!fill) {
      result.width_m = rule.width_m;
      if (!rule.width_tag.empty()) {
        const auto it = tags.find(rule.width_tag);
        if (it != tags.end())
          if (auto width = parse_width(it->second))
            result.width_m = std::min(*width, rule.max_width_m);
      }
    }
    return result;
  }
  return std::nullopt;
}

int OsmMapping::priority(uint8_t class_id) const {
  return class_id < priorities_.size() ? priorities_[class_id] : 0;
}

bool OsmMapping::uses_points() const {
  return std::any_of(rules_.begin(), rules_.end(), [](const Rule& rule) { return rule.points; });
}

double OsmMapping::max_width_m() const {
  double widest = 0;
  for (const auto& rule : rules_)
    widest = std::max(
        widest, rule.width_tag.empty() ? rule.width_m : std::max(rule.width_m, rule.max_width_m));
  return widest;
}

void parse_osm_other_tags(const std::string& text, Tags& tags) {
  // "key"=>"value","key2"=>"value2" with \" and \\ escapes inside the quotes.
  size_t i = 0;
  auto read_quoted = [&](std::string& out) {
    out.clear();
    if (i >= text.size() || text[i] != '"') return false;
    ++i;
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      out += text[i++];
    }
    if (i >= text.size()) return false;
    ++i;
    return true;
  };
  std::string key, value;
  while (i < text.size()) {
    if (!read_quoted(key)) return;
    if (text.compare(i, 2, "=>") != 0) return;
    i += 2;
    if (!read_quoted(value)) return;
    tags[key] = value;
    if (i < text.size() && text[i] == ',') ++i;
  }
}

}  // namespace terrasynth::geo
