#pragma once
// The detail decoder's config.json (see runtime/detail_decoder.h), parsed without libtorch so it
// can be fuzzed with the model manifest (fuzz/fuzz_model_manifest.cpp).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace terrasynth::engine {

struct DetailDecoderConfig {
  int factor = 4;                      // a power of two: 2, 4 or 8
  int num_classes = 7;                 // layout channels (fractions of each class)
  int num_styles = 0;                  // one-hot style tokens in the condition vector
  std::vector<int> channels{64, 48, 32};  // per level, lowest resolution first (log2(factor) + 1)
  int blocks = 6;                      // residual blocks at the lowest resolution
  int stage_blocks = 1;                // residual blocks after each upsampling stage
  // One channel of Gaussian noise joins the layout at each upsampling stage, so the decoder can
  // draw texture the input does not determine. In generation it is counter-based noise of the
  // run's seed at global pixel positions (same seed, same pixels, whatever the windows).
  bool noise = true;
  double gsd_reference = 0.5;          // the GSD feature is log2(gsd / reference) * gsd_scale
  double gsd_scale = 0.5;
  // Gaussian blur (sigma, in low-resolution pixels) of the low-resolution input before it is
  // decoded, in training and generation alike: the decoder then draws all detail finer than
  // that itself, from the layout and what it learned, instead of following the input's.
  double input_blur = 0.0;

  static DetailDecoderConfig from_json(const nlohmann::json& json, const std::string& label);
  nlohmann::json to_json() const;
  int levels() const { return static_cast<int>(channels.size()); }
  int cond_channels() const { return num_styles + 2; }
  // Full-resolution pixels on each side of a window that influence its pixels.
  int halo_pixels() const;
};

}  // namespace terrasynth::engine
