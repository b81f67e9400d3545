#pragma once
// Plain image buffers exchanged with the engine: no torch types cross this boundary.
#include <cstdint>
#include <vector>

namespace terrasynth::engine {

// Planar float image, channel-major (CHW), values in [0, 1].
struct Image {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> data;  // channels * height * width

  Image() = default;
  Image(int c, int h, int w, float fill = 0.f)
      : channels(c), height(h), width(w), data(static_cast<size_t>(c) * h * w, fill) {}
  float& at(int c, int y, int x) { return data[(static_cast<size_t>(c) * height + y) * width + x]; }
  float at(int c, int y, int x) const {
    return data[(static_cast<size_t>(c) * height + y) * width + x];
  }
  bool empty() const { return data.empty(); }
};

// Per-pixel class ids of the model's class set; kUnknownClass where nothing is known.
struct ClassMap {
  static constexpr uint8_t kUnknownClass = 255;
  int height = 0;
  int width = 0;
  std::vector<uint8_t> data;  // height * width, row-major

  ClassMap() = default;
  ClassMap(int h, int w, uint8_t fill = kUnknownClass)
      : height(h), width(w), data(static_cast<size_t>(h) * w, fill) {}
  uint8_t& at(int y, int x) { return data[static_cast<size_t>(y) * width + x]; }
  uint8_t at(int y, int x) const { return data[static_cast<size_t>(y) * width + x]; }
  bool empty() const { return data.empty(); }
};

// Soft mask in [0, 1]: 1 = regenerate, 0 = keep the known pixel.
struct Mask {
  int height = 0;
  int width = 0;
  std::vector<float> data;

  Mask() = default;
  Mask(int h, int w, float fill = 0.f) : height(h), width(w), data(static_cast<size_t>(h) * w, fill) {}
  float& at(int y, int x) { return data[static_cast<size_t>(y) * width + x]; }
  float at(int y, int x) const { return data[static_cast<size_t>(y) * width + x]; }
  bool empty() const { return data.empty(); }
};

}  // namespace terrasynth::engine
