#include "terrasynth/geo/classes.h"

#include <cctype>
#include <cstdlib>

#include "terrasynth/geo/error.h"

namespace terrasynth::geo {

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names{"other", "building", "road", "vegetation",
                                              "water", "bare",     "sand"};
  return names;
}

const std::vector<std::array<uint8_t, 3>>& class_palette() {
  static const std::vector<std::array<uint8_t, 3>> palette{
      {{150, 150, 150}}, {{220, 40, 40}},  {{255, 255, 255}}, {{40, 160, 60}},
      {{40, 100, 220}},  {{170, 120, 70}}, {{240, 220, 130}}};
  return palette;
}

int class_priority(uint8_t class_id) {
  static const int priorities[] = {10, 50, 40, 20, 30, 20, 20};
  return class_id < 7 ? priorities[class_id] : 0;
}

std::string class_list() {
  std::string list;
  for (const auto& name : class_names()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

uint8_t parse_class(const std::string& name_or_id, const std::string& context) {
  std::string key;
  for (char c : name_or_id)
    if (!std::isspace(static_cast<unsigned char>(c)))
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto& names = class_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == key) return static_cast<uint8_t>(i);
  if (!key.empty()) {
    char* end = nullptr;
    const long id = std::strtol(key.c_str(), &end, 10);
    if (*end == '\0' && id >= 0 && id < static_cast<long>(names.size()))
      return static_cast<uint8_t>(id);
  }
  throw GeoError(GeoError::Kind::UnknownClass,
                 (context.empty() ? std::string() : context + ": ") + "unknown class '" +
                     name_or_id + "'; valid classes: " + class_list() + " (or their ids 0.." +
                     std::to_string(names.size() - 1) + ")");
}

RasterSpec class_raster_spec(const Grid& grid) {
  RasterSpec spec;
  spec.grid = grid;
  spec.bands = 1;
  spec.type = DataType::Byte;
  BandInfo band;
  band.description = "class";
  band.nodata = kUnknownClass;
  band.color = ColorInterp::Palette;
  band.color_table.assign(256, Rgba{0, 0, 0, 0});
  band.category_names.assign(256, "");
  for (size_t i = 0; i < class_names().size(); ++i) {
    const auto& c = class_palette()[i];
    band.color_table[i] = {c[0], c[1], c[2], 255};
    band.category_names[i] = class_names()[i];
    band.metadata["CLASS_" + std::to_string(i)] = class_names()[i];
  }
  band.category_names[kUnknownClass] = "unknown";
  spec.band.push_back(band);
  spec.metadata["TERRASYNTH_RASTER"] = "classes";
  spec.metadata["TERRASYNTH_CLASSES"] = class_list();
  return spec;
}

}  // namespace terrasynth::geo
