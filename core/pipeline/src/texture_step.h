#pragma once
// The texture step of generation: a texture bank (bank.json and its photos) and
// the rebuilding of a generated image's fine detail from it (image_ops' texture_by_example).
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image_ops.h"
#include "terrasynth/engine/image.h"

namespace terrasynth::pipeline::detail {

struct StyleBank {
  double gsd = 0;                 // metres per pixel of the photos
  std::vector<Example> examples;  // values 0 - 1, class ids of the model's class set
};

struct TextureBank {
  std::map<std::string, StyleBank> styles;
  double class_weight = 0.05;
  bool empty() const { return styles.empty(); }
};

// The bank in a folder (its bank.json and photos), read once per folder and process. Throws
// std::runtime_error naming the file and the problem for a missing or broken manifest or photo
// (wrong type, a file name with a path in it, sizes that differ, class ids the model lacks).
std::shared_ptr<const TextureBank> load_texture_bank(const std::string& folder, int num_classes);

// What apply_texture would do for this style and GSD: its provenance note, "" when it does not
// apply.
std::string texture_summary(const TextureBank& bank, const std::string& style, double gsd);

// Rebuilds the detail of `image` (values 0 - 1) where `mask` > 0 (all of it without a mask)
// from the style's photos, resampled from their GSD to `gsd`, matching the classes of `layout`
// (empty: colour only). Returns the provenance note; "" when the step does not apply (no photos
// of the style, or a GSD more than twice finer than the photos' or so coarse that they shrink
// below 32 pixels); nothing when cancelled (image unchanged).
std::optional<std::string> apply_texture(const TextureBank& bank, const std::string& style, double gsd,
                                         engine::Image& image, const engine::ClassMap& layout,
                                         const engine::Mask* mask, uint64_t seed,
                                         const std::function<bool()>& cancelled);

}  // namespace terrasynth::pipeline::detail
