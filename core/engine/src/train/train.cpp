// The trainer: diffusion training of a model package's denoiser on CPU or CUDA, with EMA
// weights, resumable checkpoints, a loss log and periodic sample grids.
#include "terrasynth/engine/train.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "runtime/conditioning.h"
#include "runtime/manifest.h"
#include "runtime/network.h"
#include "runtime/sample_grid.h"
#include "sched/schedule.h"
#include "terrasynth/engine/error.h"
#include "train/masks.h"
#include "train/train_support.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;

namespace terrasynth::engine {

namespace {

using Clock = std::chrono::steady_clock;

torch::Device pick_device(const DeviceOptions& options) {
  if (options.device == DeviceKind::Cuda) {
    if (!torch::cuda::is_available())
      throw EngineError(EngineError::Kind::Unsupported, "training on CUDA requested but no CUDA device is available");
    return torch::Device(torch::kCUDA);
  }
  if (options.device == DeviceKind::Auto && torch::cuda::is_available()) return torch::Device(torch::kCUDA);
  return torch::Device(torch::kCPU);
}

struct Batch {
  torch::Tensor input;        // denoiser input
  torch::Tensor timesteps;    // [B] int64
  torch::Tensor class_labels; // [B, D] or undefined
  torch::Tensor target;       // [B, C, h, w]
  torch::Tensor weights;      // [B] loss weights
};

class Trainer {
 public:
  Trainer(const TrainConfig& config, TrainDataSource& data)
      : config_(config),
        data_(data),
        manifest_(parse_manifest(config.model_manifest, "training configuration 'model'")),
        unet_config_(nlohmann::json::parse(config.unet_config)),
        schedule_(sched::ScheduleConfig::from_json(nlohmann::json::parse(config.scheduler_config),
                                                   "training configuration 'scheduler'")),
        device_(pick_device(config.device)),
        rng_(config.seed) {
    if (device_.is_cpu()) configure_cpu_threads(config.device.threads);
    const int expected_in = denoiser_input_channels(manifest_);
    if (unet_config_.value("in_channels", 0) != expected_in)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "UNet in_channels is " + std::to_string(unet_config_.value("in_channels", 0)) +
                            " but the conditioning needs " + std::to_string(expected_in));
    const int class_dim = class_vector_size(manifest_);
    if (class_dim > 0 && unet_config_.value("projection_class_embeddings_input_dim", 0) != class_dim)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "UNet projection_class_embeddings_input_dim must be " + std::to_string(class_dim));
    if (config.max_timestep > schedule_.num_train_timesteps())
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "max_timestep " + std::to_string(config.max_timestep) + " is beyond the schedule's " +
                            std::to_string(schedule_.num_train_timesteps()) + " timesteps");
    torch::manual_seed(config.seed);
    net_ = std::make_unique<DenoiserNetwork>(unet_config_);
    net_->module().to(device_);
    ema_ = std::make_unique<DenoiserNetwork>(unet_config_);
    ema_->module().to(device_);
    copy_parameters(net_->module(), ema_->module());
    ema_->module().eval();
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        net_->module().parameters(),
        torch::optim::AdamWOptions(config.learning_rate).weight_decay(config.weight_decay).betas({0.9, 0.99}));
  }

  TrainReport run(const ProgressCallback& progress, const CancelToken* cancel,
                  const SampleGridCallback& samples) {
    TrainReport report;
    const auto started = Clock::now();
    fs::create_directories(fs::path(config_.output_dir) / "checkpoints");
    int step = 0;
    std::string resume = config_.resume;
    if (resume == "auto") resume = train_support::latest_checkpoint(fs::path(config_.output_dir) / "checkpoints");
    if (!resume.empty()) step = load_checkpoint(resume);
    report.first_step = step;
    write_package_files(fs::path(config_.output_dir) / "model");

    std::ofstream log(fs::path(config_.output_dir) / "loss.tsv", std::ios::app);
    if (step == 0) log << "step\tloss\tlearning_rate\tseconds\tsamples_per_second\n";
    std::mt19937_64 sample_rng(config_.seed ^ 0x5eedULL);
    preview_samples_ = draw_preview_set(sample_rng);
    // A fixed batch (its own samples, noise and timesteps) whose loss is measured before and after
    // training: unlike the training loss it does not depend on which batches were drawn.
    {
      std::mt19937_64 fixed_rng(config_.seed ^ 0xf1bedULL);
      torch::manual_seed(config_.seed ^ 0xf1bedULL);
      fixed_batch_ = make_batch(fixed_rng);
      torch::manual_seed(config_.seed + static_cast<uint64_t>(step));
      report.fixed_loss_before = fixed_loss();
    }

    double window_loss = 0;
    int window_count = 0;
    auto window_start = Clock::now();
    net_->module().train();
    while (step < config_.steps) {
      if (cancel && cancel->cancelled()) {
        report.status = Status::Cancelled;
        break;
      }
      set_learning_rate(step);
      Batch batch = make_batch(rng_);
      optimizer_->zero_grad();
      auto prediction = net_->forward(batch.input, batch.timesteps, batch.class_labels);
      auto per_sample = (prediction - batch.target).pow(2).mean({1, 2, 3});
      auto loss = (per_sample * batch.weights).mean();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(net_->module().parameters(), 1.0);
      optimizer_->step();
      ++step;
      update_ema(step);

      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value))
        throw EngineError(EngineError::Kind::Internal, "training diverged: loss is not finite at step " +
                                                           std::to_string(step));
      window_loss += loss_value;
      ++window_count;
      if (step % config_.log_every == 0 || step == config_.steps) {
        const double seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
        const double mean = window_loss / window_count;
        if (report.first_loss == 0) report.first_loss = mean;
        report.last_loss = mean;
        log << step << '\t' << mean << '\t' << current_lr_ << '\t'
            << std::chrono::duration<double>(Clock::now() - started).count() << '\t'
            << (window_count * config_.batch_size) / std::max(seconds, 1e-9) << std::endl;
        window_loss = 0;
        window_count = 0;
        window_start = Clock::now();
      }
      if (progress) {
        ProgressEvent event;
        event.phase = "train";
        event.step = step;
        event.total_steps = config_.steps;
        event.fraction = double(step) / config_.steps;
        std::ostringstream message;
        message << "loss " << std::setprecision(4) << report.last_loss;
        event.message = message.str();
        progress(event);
      }
      if (step % config_.checkpoint_every == 0 || step == config_.steps)
        report.checkpoint = save_checkpoint(step);
      if (samples && config_.sample_every > 0 && config_.max_timestep == 0 && (step % config_.sample_every == 0 || step == config_.steps))
        samples(step, render_samples());
    }
    if (report.status == Status::Cancelled && step > report.first_step) report.checkpoint = save_checkpoint(step);
    report.steps_done = step;
    report.fixed_loss_after = fixed_loss();
    if (!report.checkpoint.empty()) {
      report.model_dir = (fs::path(config_.output_dir) / "model").string();
      export_package(fs::path(report.model_dir));
    }
    report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return report;
  }

 private:
  static void copy_parameters(torch::nn::Module& from, torch::nn::Module& to) {
    torch::NoGradGuard no_grad;
    auto source = from.named_parameters();
    for (auto& item : to.named_parameters()) item.value().copy_(source[item.key()]);
    auto source_buffers = from.named_buffers();
    for (auto& item : to.named_buffers()) item.value().copy_(source_buffers[item.key()]);
  }

  void update_ema(int step) {
    torch::NoGradGuard no_grad;
    // Warm-up of the decay so early EMA weights are not dominated by the random initialisation.
    const double decay = std::min(config_.ema_decay, (1.0 + step) / (10.0 + step));
    auto source = net_->module().named_parameters();
    for (auto& item : ema_->module().named_parameters())
      item.value().mul_(decay).add_(source[item.key()].detach(), 1.0 - decay);
  }

  void set_learning_rate(int step) {
    double lr = config_.learning_rate;
    if (config_.warmup_steps > 0 && step < config_.warmup_steps)
      lr *= double(step + 1) / config_.warmup_steps;
    // Cosine decay to 10 % over the last 30 % of the run.
    const int decay_start = static_cast<int>(config_.steps * 0.7);
    if (step > decay_start) {
      const double progress = double(step - decay_start) / std::max(1, config_.steps - decay_start);
      lr *= 0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    current_lr_ = lr;
    for (auto& group : optimizer_->param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }

  Batch make_batch(std::mt19937_64& rng_) {
    const int batch = config_.batch_size, size = config_.crop;
    const int num_classes = static_cast<int>(manifest_.info.classes.size());
    auto images = torch::empty({batch, 3, size, size});
    auto classes = torch::full({batch, size, size}, 255, torch::kUInt8);
    auto masks = torch::ones({batch, 1, size, size});
    std::vector<int> styles(batch), scenes(batch);
    std::vector<double> gsds(batch);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int b = 0; b < batch; ++b) {
      TrainSample sample = data_.sample(rng_, size);
      if (sample.image.channels != 3 || sample.image.height != size || sample.image.width != size)
        throw EngineError(EngineError::Kind::Internal, "data source returned a sample of the wrong size");
      images[b].copy_(torch::from_blob(sample.image.data.data(), {3, size, size}, torch::kFloat));
      const bool drop_content = unit(rng_) < config_.layout_dropout;
      if (!sample.layout.empty() && !drop_content)
        classes[b].copy_(torch::from_blob(sample.layout.data.data(), {size, size}, torch::kUInt8));
      styles[b] = unit(rng_) < config_.style_dropout ? -1 : sample.style;
      scenes[b] = (drop_content || unit(rng_) < config_.scene_dropout) ? -1 : sample.scene;
      gsds[b] = unit(rng_) < config_.gsd_dropout ? 0.0 : sample.gsd;
      if (manifest_.conditioning.inpaint && unit(rng_) < config_.inpaint_probability)
        masks[b].copy_(random_inpaint_mask(rng_, size, size));
    }
    const auto& spec = manifest_.conditioning;
    auto x0 = pixels_to_latent(images, spec);
    auto layout = layout_fractions(classes, num_classes, spec.latent_factor);
    auto inpaint = inpaint_channels(images, masks, spec);

    const int timestep_end = config_.max_timestep > 0 ? config_.max_timestep : schedule_.num_train_timesteps();
    auto timesteps = torch::randint(0, timestep_end, {batch}, torch::kLong);
    auto noise = torch::randn_like(x0);
    auto x_t = schedule_.add_noise(x0, noise, timesteps);

    Batch out;
    out.target = schedule_.training_target(x0, noise, timesteps);
    // Min-SNR weighting (Hang et al. 2023), expressed for the schedule's prediction type.
    const torch::Tensor snr = schedule_.snr(timesteps).to(torch::kFloat).view({batch});
    const torch::Tensor clipped = config_.min_snr_gamma > 0 ? snr.clamp_max(config_.min_snr_gamma) : snr;
    switch (schedule_.prediction_type()) {
      case sched::PredictionType::Epsilon:
        out.weights = config_.min_snr_gamma > 0 ? clipped / snr : torch::ones({batch});
        break;
      case sched::PredictionType::VPrediction:
        out.weights = config_.min_snr_gamma > 0 ? clipped / (snr + 1.0) : torch::ones({batch});
        break;
      case sched::PredictionType::Sample:
        out.weights = config_.min_snr_gamma > 0 ? clipped : torch::ones({batch});
        break;
    }
    out.input = denoiser_input(x_t, layout, inpaint, spec).to(device_);
    out.timesteps = timesteps.to(device_);
    if (manifest_.conditioning.class_vector)
      out.class_labels = class_vectors(manifest_, styles, scenes, gsds).to(device_);
    out.target = out.target.to(device_);
    out.weights = out.weights.to(device_);
    return out;
  }

  double fixed_loss() {
    torch::NoGradGuard no_grad;
    const bool was_training = net_->module().is_training();
    net_->module().eval();
    auto prediction = net_->forward(fixed_batch_.input, fixed_batch_.timesteps, fixed_batch_.class_labels);
    const double loss = ((prediction - fixed_batch_.target).pow(2).mean({1, 2, 3}) * fixed_batch_.weights).mean().item<double>();
    if (was_training) net_->module().train();
    return loss;
  }

  std::vector<TrainSample> draw_preview_set(std::mt19937_64& rng) {
    std::vector<TrainSample> set;
    for (int i = 0; i < 4; ++i) set.push_back(data_.sample(rng, config_.crop));
    return set;
  }

  Image render_samples() {
    torch::NoGradGuard no_grad;
    return render_preview_grid(*ema_, manifest_, schedule_, preview_samples_, config_.seed);
  }

  std::string save_checkpoint(int step) {
    StateDict tensors;
    for (const auto& item : net_->module().named_parameters()) tensors.insert("model." + item.key(), item.value().detach().cpu());
    for (const auto& item : net_->module().named_buffers()) tensors.insert("model." + item.key(), item.value().detach().cpu());
    for (const auto& item : ema_->module().named_parameters()) tensors.insert("ema." + item.key(), item.value().detach().cpu());
    for (const auto& item : ema_->module().named_buffers()) tensors.insert("ema." + item.key(), item.value().detach().cpu());
    const fs::path dir = fs::path(config_.output_dir) / "checkpoints";
    const fs::path path = dir / (train_support::step_name(step) + ".safetensors");
    save_safetensors(path.string(), tensors,
                     {{"step", std::to_string(step)}, {"format", "terrasynth-checkpoint"},
                      {"model", config_.model_manifest}, {"unet", config_.unet_config},
                      {"scheduler", config_.scheduler_config}});
    const fs::path optimizer_path = dir / (train_support::step_name(step) + ".optimizer.pt");
    const fs::path temporary = optimizer_path.string() + ".tmp";
    torch::save(*optimizer_, temporary.string());
    fs::rename(temporary, optimizer_path);
    train_support::prune_checkpoints(dir, 3, {".optimizer.pt"});  // the three newest stay
    return path.string();
  }

  int load_checkpoint(const std::string& path) {
    StateDict tensors = load_safetensors(path);
    StateDict model, ema;
    for (const auto& item : tensors) {
      if (item.key().rfind("model.", 0) == 0) model.insert(item.key().substr(6), item.value());
      else if (item.key().rfind("ema.", 0) == 0) ema.insert(item.key().substr(4), item.value());
    }
    load_state_dict(net_->module(), model, true, path + " (model)");
    load_state_dict(ema_->module(), ema, true, path + " (ema)");
    fs::path optimizer_path = path;
    optimizer_path.replace_extension(".optimizer.pt");
    if (fs::exists(optimizer_path)) torch::load(*optimizer_, optimizer_path.string());
    return train_support::checkpoint_step(path);
  }

  void write_package_files(const fs::path& dir) const {
    fs::create_directories(dir / manifest_.unet_folder);
    fs::create_directories(dir / manifest_.scheduler_folder);
    std::ofstream(dir / "model.json") << nlohmann::json::parse(config_.model_manifest).dump(2) << '\n';
    std::ofstream(dir / manifest_.unet_folder / "config.json") << unet_config_.dump(2) << '\n';
    std::ofstream(dir / manifest_.scheduler_folder / "scheduler_config.json")
        << nlohmann::json::parse(config_.scheduler_config).dump(2) << '\n';
  }

  void export_package(const fs::path& dir) const {
    write_package_files(dir);
    StateDict tensors;
    for (const auto& item : ema_->module().named_parameters())
      tensors.insert(item.key(), item.value().detach().cpu().to(torch::kHalf));
    save_safetensors((dir / manifest_.unet_folder / "diffusion_pytorch_model.safetensors").string(), tensors,
                     {{"format", "pt"}});
  }

  const TrainConfig& config_;
  TrainDataSource& data_;
  Manifest manifest_;
  nlohmann::json unet_config_;
  sched::NoiseSchedule schedule_;
  torch::Device device_;
  std::mt19937_64 rng_;
  std::unique_ptr<DenoiserNetwork> net_;
  std::unique_ptr<DenoiserNetwork> ema_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  double current_lr_ = 0;
  std::vector<TrainSample> preview_samples_;
  Batch fixed_batch_;
};

}  // namespace

TrainReport train(const TrainConfig& config, TrainDataSource& data, const ProgressCallback& progress,
                  const CancelToken* cancel, const SampleGridCallback& samples) {
  Trainer trainer(config, data);
  return trainer.run(progress, cancel, samples);
}

}  // namespace terrasynth::engine
