#pragma once
// The model.json manifest of a Terrasynth model package: what the generator needs to know beyond
// the networks' own config.json files.
#include <nlohmann/json.hpp>

#include <string>

#include "terrasynth/engine/model.h"

namespace terrasynth::engine {

// How images and conditions are fed to the denoiser (model.json "conditioning").
struct ConditioningSpec {
  std::string latent_type = "pixel_unshuffle";  // or "autoencoder_tiny", "autoencoder_kl"
  int latent_factor = 4;                        // pixels per latent pixel along each axis
  int latent_channels = 48;
  std::string vae_folder;                       // for autoencoder latents
  double latent_scale = 1.0;                    // "scaling_factor": latent = encode(image) * scale
  bool layout = true;                           // class-fraction channels after the latent
  bool inpaint = true;                          // masked known latent + mask channel
  bool class_vector = true;                     // styles + scenes + gsd projected to the time embedding
  double gsd_reference = 0.5;                   // gsd feature = log2(gsd / reference) * gsd_feature_scale
  double gsd_feature_scale = 0.5;

  int layout_channels(int num_classes) const { return layout ? num_classes : 0; }
  int inpaint_channels() const { return inpaint ? latent_channels + 1 : 0; }
};

struct Manifest {
  ModelInfo info;
  ConditioningSpec conditioning;
  std::string unet_folder = "unet";
  std::string scheduler_folder = "scheduler";
  // Optional refiner (model.json "refiner": {"folder", "below_timestep"}): a full-resolution
  // network on the same samples rearranged to pixels (pixel_unshuffle latents only) that takes
  // over the steps whose timestep is below info.refiner_below_timestep.
  std::string refiner_folder;
  // > 0: the refiner gives only the detail finer than a Gaussian of this many pixels, the main
  // network (with the layout and guidance) the rest; 0: the refiner's estimate replaces it.
  double refiner_detail_sigma = 0;
  // The refiner also takes the layout at full resolution (one channel per class, after RGB).
  bool refiner_layout = false;
  // Classifier-free guidance of a layout-taking refiner by its layout (1 = none).
  double refiner_guidance = 1.0;
  // Optional detail decoder (model.json "detail_decoder": {"folder"}): re-renders the fine
  // detail of the generated image from its 1/factor version and the layout
  // (runtime/detail_decoder.h).
  std::string detail_folder;
  nlohmann::json raw;
};

// Parses and validates model.json text; `label` names the file in errors.
Manifest parse_manifest(const std::string& json_text, const std::string& label,
                        const std::string& dir = "");
Manifest read_manifest(const std::string& dir);
// The manifest as JSON (for writing a package).
nlohmann::json manifest_to_json(const Manifest& manifest);

// Size of the class vector fed to the projection class embedding.
int class_vector_size(const Manifest& manifest);

}  // namespace terrasynth::engine
