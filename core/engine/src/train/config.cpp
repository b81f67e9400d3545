#include <nlohmann/json.hpp>

#include "terrasynth/engine/error.h"
#include "terrasynth/engine/train.h"
#include "train/train_support.h"

namespace terrasynth::engine {

using train_support::fail;
using train_support::read;

TrainConfig parse_train_config(const std::string& json_text, const std::string& label) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    fail(label, std::string("not valid JSON (") + error.what() + ")");
  }
  if (!root.is_object()) fail(label, "a training configuration is a JSON object");
  TrainConfig config;
  config.json_text = json_text;
  read(root, "output_dir", config.output_dir, label);
  read(root, "resume", config.resume, label);
  read(root, "seed", config.seed, label);
  read(root, "steps", config.steps, label);
  read(root, "batch_size", config.batch_size, label);
  read(root, "crop", config.crop, label);
  read(root, "learning_rate", config.learning_rate, label);
  read(root, "weight_decay", config.weight_decay, label);
  read(root, "warmup_steps", config.warmup_steps, label);
  read(root, "ema_decay", config.ema_decay, label);
  read(root, "checkpoint_every", config.checkpoint_every, label);
  read(root, "sample_every", config.sample_every, label);
  read(root, "log_every", config.log_every, label);
  read(root, "layout_dropout", config.layout_dropout, label);
  read(root, "style_dropout", config.style_dropout, label);
  read(root, "scene_dropout", config.scene_dropout, label);
  read(root, "gsd_dropout", config.gsd_dropout, label);
  read(root, "inpaint_probability", config.inpaint_probability, label);
  read(root, "min_snr_gamma", config.min_snr_gamma, label);
  read(root, "max_timestep", config.max_timestep, label);
  std::string device = "auto";
  read(root, "device", device, label);
  config.device.device = parse_device_kind(device);
  read(root, "threads", config.device.threads, label);

  if (config.output_dir.empty()) fail(label, "'output_dir' is required");
  if (config.steps <= 0) fail(label, "'steps' must be positive");
  if (config.batch_size <= 0) fail(label, "'batch_size' must be positive");
  if (config.crop <= 0 || config.crop % 32 != 0) fail(label, "'crop' must be a positive multiple of 32");
  if (!(config.learning_rate > 0)) fail(label, "'learning_rate' must be positive");
  if (config.ema_decay < 0 || config.ema_decay >= 1) fail(label, "'ema_decay' must be in [0, 1)");
  if (config.max_timestep < 0) fail(label, "'max_timestep' must be 0 (all timesteps) or positive");
  for (double p : {config.layout_dropout, config.style_dropout, config.scene_dropout,
                   config.gsd_dropout, config.inpaint_probability})
    if (p < 0 || p > 1) fail(label, "dropout and inpaint probabilities must be in [0, 1]");

  for (const char* key : {"model", "unet", "scheduler"})
    if (!root.contains(key) || !root[key].is_object())
      fail(label, std::string("'") + key + "' must be an object (model.json, UNet config.json, scheduler_config.json)");
  config.model_manifest = root["model"].dump();
  config.unet_config = root["unet"].dump();
  config.scheduler_config = root["scheduler"].dump();
  return config;
}

}  // namespace terrasynth::engine
