#pragma once
// OpenStreetMap tags -> classes. A JSON file (resources/osm_classes.json is the default; users
// can give their own) holds an ordered list of rules; the first rule matching a feature's tags
// and geometry decides its class and, for lines and points, the width in metres they are
// buffered to. See docs/GEO.md for the format.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace terrasynth::geo {

enum class GeometryKind { Point, Line, ClosedLine, Area };

using Tags = std::map<std::string, std::string>;

struct OsmMatch {
  uint8_t class_id = 0;
  double width_m = 0;  // > 0: buffer the line/point to this width
  bool fill = false;   // a closed line filled as a polygon
  int priority = 0;    // higher wins where features overlap
  size_t rule = 0;     // index of the matching rule
};

class OsmMapping {
 public:
  // Throws GeoError::NotFound for a missing file, BadMapping naming the file, the rule index
  // and the problem (UnknownClass for a class outside the class set).
  static OsmMapping load(const std::string& path);
  static OsmMapping parse(const std::string& json_text, const std::string& source_name);
  // The shipped mapping: resource_path("osm_classes.json").
  static OsmMapping load_default();

  // The class of a feature with these tags, or nothing (not mapped, or mapped to null).
  std::optional<OsmMatch> match(const Tags& tags, GeometryKind kind) const;
  int priority(uint8_t class_id) const;
  size_t rule_count() const { return rules_.size(); }
  bool uses_points() const;    // some rule applies to points (the points layer must be read)
  double max_width_m() const;  // widest buffer any rule can produce
  const std::string& source() const { return source_; }

 private:
  struct Condition {
    std::string key;
    std::vector<std::string> values;  // empty = any non-empty value
  };
  struct Rule {
    std::vector<Condition> tags;
    std::vector<Condition> except;
    std::optional<uint8_t> class_id;  // nullopt: matching features are dropped
    double width_m = 0;
    std::string width_tag;
    double max_width_m = 0;
    bool area = false;
    bool points = false, lines = true, areas = true;
  };
  static bool matches(const Condition& condition, const Tags& tags);
  std::vector<Rule> rules_;
  std::vector<int> priorities_;
  std::string source_;
};

// Parses the "other_tags" column of GDAL's OSM driver ("k"=>"v","k2"=>"v2") into `tags`.
void parse_osm_other_tags(const std::string& text, Tags& tags);

}  // namespace terrasynth::geo
