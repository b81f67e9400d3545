// Adversarial training of the detail decoder (runtime/detail_decoder.h): the decoder re-renders
// real photos from their area-averaged 1/factor version (sometimes blurred or noisy), the layout
// and the GSD; two patch discriminators (full and half resolution) that also see the layout
// tell its output from the photos. Least-squares GAN losses, feature matching on the
// discriminators' activations, a low-pass consistency and a pixel L1 (weights in the config).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "runtime/conditioning.h"
#include "runtime/detail_decoder.h"
#include "terrasynth/engine/detail.h"
#include "terrasynth/engine/error.h"
#include "train/train_support.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace terrasynth::engine {

namespace {

using Clock = std::chrono::steady_clock;

using train_support::fail;
using train_support::read;

// A patch discriminator: three stride-2 4x4 convolutions, then two 3x3; instance normalisation
// on the inner layers. Returns the activations of every layer, the logits last.
struct PatchDiscriminatorImpl : torch::nn::Module {
  explicit PatchDiscriminatorImpl(int in_channels) {
    auto conv = [](int in, int out, int kernel, int stride) {
      return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(1));
    };
    auto norm = [](int channels) {
      return torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(channels).affine(true));
    };
    c1 = register_module("c1", conv(in_channels, 32, 4, 2));
    c2 = register_module("c2", conv(32, 64, 4, 2));
    n2 = register_module("n2", norm(64));
    c3 = register_module("c3", conv(64, 128, 4, 2));
    n3 = register_module("n3", norm(128));
    c4 = register_module("c4", conv(128, 128, 3, 1));
    n4 = register_module("n4", norm(128));
    out = register_module("out", conv(128, 1, 3, 1));
  }
  std::vector<torch::Tensor> forward(const torch::Tensor& x) {
    std::vector<torch::Tensor> features;
    features.push_back(torch::leaky_relu(c1(x), 0.2));
    features.push_back(torch::leaky_relu(n2(c2(features.back())), 0.2));
    features.push_back(torch::leaky_relu(n3(c3(features.back())), 0.2));
    features.push_back(torch::leaky_relu(n4(c4(features.back())), 0.2));
    features.push_back(out(features.back()));
    return features;
  }
  torch::nn::Conv2d c1{nullptr}, c2{nullptr}, c3{nullptr}, c4{nullptr}, out{nullptr};
  torch::nn::InstanceNorm2d n2{nullptr}, n3{nullptr}, n4{nullptr};
};
TORCH_MODULE(PatchDiscriminator);

struct DiscriminatorsImpl : torch::nn::Module {
  explicit DiscriminatorsImpl(int in_channels)
      : full(register_module("full", PatchDiscriminator(in_channels))),
        half(register_module("half", PatchDiscriminator(in_channels))) {}
  // images [B,3,H,W] in [0,1] and layout fractions [B,K,H,W].
  std::vector<std::vector<torch::Tensor>> forward(const torch::Tensor& images, const torch::Tensor& layout) {
    auto x = torch::cat({(images - 0.5) * 2.0, layout}, 1);
    return {full(x), half(torch::avg_pool2d(x, 2))};
  }
  PatchDiscriminator full, half;
};
TORCH_MODULE(Discriminators);

struct Batch {
  torch::Tensor real;     // [B,3,H,W]
  torch::Tensor lowres;   // degraded input [B,3,H/f,W/f]
  torch::Tensor layout;   // [B,K,H,W]
  torch::Tensor cond;     // [B,S+2]
  std::vector<torch::Tensor> noise;  // the decoder's noise inputs
};

// Standard deviation of the detail finer than a 1.5 px Gaussian, per image, averaged.
double fine_detail(const torch::Tensor& images) {
  auto grey = images.mean(1, true);
  return (grey - blur_pixels(grey, 1.5)).std({1, 2, 3}).mean().item<double>();
}

class DetailTrainer {
 public:
  DetailTrainer(const DetailTrainConfig& config, TrainDataSource& data)
      : config_(config),
        data_(data),
        decoder_config_(DetailDecoderConfig::from_json(nlohmann::json::parse(config.decoder_config),
                                                       "training configuration 'decoder'")),
        device_(torch::kCPU),
        rng_(config.seed) {
    if (config.device.device == DeviceKind::Cuda && !torch::cuda::is_available())
      throw EngineError(EngineError::Kind::Unsupported, "training on CUDA requested but no CUDA device is available");
    if (config.device.device != DeviceKind::Cpu && torch::cuda::is_available()) device_ = torch::Device(torch::kCUDA);
    else configure_cpu_threads(config.device.threads);
    if (config.crop % (4 * decoder_config_.factor) != 0)
      fail("detail training", "'crop' must be a multiple of 4 x the decoder's factor (" +
                                  std::to_string(4 * decoder_config_.factor) + ")");
    torch::manual_seed(config.seed);
    generator_ = DetailNet(decoder_config_);
    ema_ = DetailNet(decoder_config_);
    discriminators_ = Discriminators(3 + decoder_config_.num_classes);
    generator_->to(device_);
    ema_->to(device_);
    discriminators_->to(device_);
    copy_parameters(*generator_, *ema_);
    ema_->eval();
    g_optimizer_ = std::make_unique<torch::optim::Adam>(
        generator_->parameters(), torch::optim::AdamOptions(config.learning_rate).betas({0.5, 0.999}));
    d_optimizer_ = std::make_unique<torch::optim::Adam>(
        discriminators_->parameters(),
        torch::optim::AdamOptions(config.discriminator_learning_rate).betas({0.5, 0.999}));
  }

  DetailTrainReport run(const ProgressCallback& progress, const CancelToken* cancel,
                        const SampleGridCallback& samples) {
    DetailTrainReport report;
    const auto started = Clock::now();
    const fs::path out_dir(config_.output_dir);
    fs::create_directories(out_dir / "checkpoints");
    int step = 0;
    std::string resume = config_.resume;
    if (resume == "auto") resume = train_support::latest_checkpoint(out_dir / "checkpoints");
    if (!resume.empty()) step = load_checkpoint(resume);
    report.first_step = step;

    {
      std::mt19937_64 fixed_rng(config_.seed ^ 0xf1bedULL);
      torch::manual_seed(config_.seed ^ 0xf1bedULL);
      fixed_ = make_batch(fixed_rng, /*degrade=*/false, /*dropout=*/false);
      std::mt19937_64 preview_rng(config_.seed ^ 0x5eedULL);
      preview_ = make_batch(preview_rng, false, false, 4);
      torch::manual_seed(config_.seed + static_cast<uint64_t>(step));
    }
    fixed_metrics(report.low_pass_error_before, report.detail_ratio_before);

    std::ofstream log(out_dir / "loss.tsv", std::ios::app);
    if (step == 0)
      log << "step\tloss_g\tloss_d\tadversarial\tfeature_matching\tlow_pass\tpixel\tlearning_rate\tseconds\n";
    std::array<double, 6> window{};
    int window_count = 0;
    generator_->train();
    discriminators_->train();
    while (step < config_.steps) {
      if (cancel && cancel->cancelled()) {
        report.status = Status::Cancelled;
        break;
      }
      const double lr_scale = learning_rate_scale(step);
      set_lr(*g_optimizer_, config_.learning_rate * lr_scale);
      set_lr(*d_optimizer_, config_.discriminator_learning_rate * lr_scale);
      Batch batch = make_batch(rng_, true, true);
      auto fake = generator_->forward(batch.lowres, batch.layout, batch.cond, batch.noise);

      // Discriminators: real -> 1, decoded -> 0.
      d_optimizer_->zero_grad();
      auto d_real = discriminators_->forward(batch.real, batch.layout);
      auto d_fake = discriminators_->forward(fake.detach(), batch.layout);
      torch::Tensor loss_d = torch::zeros({}, fake.options());
      for (size_t k = 0; k < d_real.size(); ++k)
        loss_d = loss_d + 0.5 * ((d_real[k].back() - 1.0).pow(2).mean() + d_fake[k].back().pow(2).mean());
      loss_d.backward();
      d_optimizer_->step();

      // Decoder: fool the discriminators, match their features on the photos, keep the low pass.
      g_optimizer_->zero_grad();
      std::vector<std::vector<torch::Tensor>> g_real;
      {
        torch::NoGradGuard no_grad;  // the photos' features under the updated discriminators
        g_real = discriminators_->forward(batch.real, batch.layout);
      }
      auto g_fake = discriminators_->forward(fake, batch.layout);
      torch::Tensor adversarial = torch::zeros({}, fake.options());
      torch::Tensor matching = torch::zeros({}, fake.options());
      for (size_t k = 0; k < g_fake.size(); ++k) {
        adversarial = adversarial + (g_fake[k].back() - 1.0).pow(2).mean();
        const size_t layers = g_fake[k].size() - 1;
        for (size_t l = 0; l < layers; ++l)
          matching = matching + (g_fake[k][l] - g_real[k][l]).abs().mean() / static_cast<double>(layers);
      }
      // The output must agree with the photo through the same operator that made the input.
      auto low_pass = (detail_input(decoder_config_, fake) - detail_input(decoder_config_, batch.real)).abs().mean();
      auto pixel = (fake - batch.real).abs().mean();
      auto loss_g = config_.adversarial_weight * adversarial + config_.feature_matching_weight * matching +
                    config_.low_pass_weight * low_pass + config_.pixel_weight * pixel;
      loss_g.backward();
      torch::nn::utils::clip_grad_norm_(generator_->parameters(), 10.0);
      g_optimizer_->step();
      ++step;
      update_ema(step);

      const std::array<double, 6> values{loss_g.item<double>(),      loss_d.item<double>(),
                                         adversarial.item<double>(), matching.item<double>(),
                                         low_pass.item<double>(),    pixel.item<double>()};
      for (double v : values)
        if (!std::isfinite(v))
          throw EngineError(EngineError::Kind::Internal,
                            "detail training diverged: a loss is not finite at step " + std::to_string(step));
      for (size_t i = 0; i < values.size(); ++i) window[i] += values[i];
      ++window_count;
      if (step % config_.log_every == 0 || step == config_.steps) {
        if (report.first_loss == 0) report.first_loss = window[0] / window_count;
        report.last_loss = window[0] / window_count;
        log << step;
        for (double v : window) log << '\t' << v / window_count;
        log << '\t' << config_.learning_rate * lr_scale << '\t'
            << std::chrono::duration<double>(Clock::now() - started).count() << std::endl;
        window.fill(0);
        window_count = 0;
      }
      if (progress) {
        ProgressEvent event;
        event.phase = "train";
        event.step = step;
        event.total_steps = config_.steps;
        event.fraction = double(step) / config_.steps;
        std::ostringstream message;
        message << "decoder loss " << std::setprecision(4) << values[0] << ", discriminators " << values[1];
        event.message = message.str();
        progress(event);
      }
      if (step % config_.checkpoint_every == 0 || step == config_.steps) report.checkpoint = save_checkpoint(step);
      if (samples && config_.sample_every > 0 && (step % config_.sample_every == 0 || step == config_.steps))
        samples(step, preview_grid());
    }
    if (report.status == Status::Cancelled && step > report.first_step) report.checkpoint = save_checkpoint(step);
    report.steps_done = step;
    fixed_metrics(report.low_pass_error_after, report.detail_ratio_after);
    if (!report.checkpoint.empty()) report.model_dir = export_decoder(out_dir / "detail");
    report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return report;
  }

 private:
  static void copy_parameters(torch::nn::Module& from, torch::nn::Module& to) {
    torch::NoGradGuard no_grad;
    auto source = from.named_parameters();
    for (auto& item : to.named_parameters()) item.value().copy_(source[item.key()]);
  }

  static void set_lr(torch::optim::Adam& optimizer, double lr) {
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }

  // Flat, then a cosine decay to 10 % over the last 30 % of the run.
  double learning_rate_scale(int step) const {
    const int decay_start = static_cast<int>(config_.steps * 0.7);
    if (step <= decay_start) return 1.0;
    const double progress = double(step - decay_start) / std::max(1, config_.steps - decay_start);
    return 0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progress));
  }

  void update_ema(int step) {
    torch::NoGradGuard no_grad;
    const double decay = std::min(config_.ema_decay, (1.0 + step) / (10.0 + step));
    auto source = generator_->named_parameters();
    for (auto& item : ema_->named_parameters()) item.value().mul_(decay).add_(source[item.key()].detach(), 1.0 - decay);
  }

  Batch make_batch(std::mt19937_64& rng, bool degrade, bool dropout, int count = 0) {
    const int batch = count > 0 ? count : config_.batch_size, size = config_.crop;
    const int k = decoder_config_.num_classes;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto images = torch::empty({batch, 3, size, size});
    auto classes = torch::full({batch, size, size}, 255, torch::kUInt8);
    std::vector<int> styles(batch);
    std::vector<double> gsds(batch);
    for (int b = 0; b < batch; ++b) {
      TrainSample sample = data_.sample(rng, size);
      if (sample.image.channels != 3 || sample.image.height != size || sample.image.width != size)
        throw EngineError(EngineError::Kind::Internal, "data source returned a sample of the wrong size");
      images[b].copy_(torch::from_blob(sample.image.data.data(), {3, size, size}, torch::kFloat));
      if (!sample.layout.empty() && !(dropout && unit(rng) < config_.layout_dropout))
        classes[b].copy_(torch::from_blob(sample.layout.data.data(), {size, size}, torch::kUInt8));
      styles[b] = dropout && unit(rng) < config_.style_dropout ? -1 : sample.style;
      gsds[b] = dropout && unit(rng) < config_.gsd_dropout ? 0.0 : sample.gsd;
    }
    Batch out;
    out.real = images;
    auto lowres = detail_input(decoder_config_, images);
    if (degrade) {
      std::vector<torch::Tensor> parts;
      for (int b = 0; b < batch; ++b) {
        auto x = lowres.narrow(0, b, 1);
        if (unit(rng) < config_.blur_probability)
          x = blur_pixels(x, config_.blur_sigma[0] + (config_.blur_sigma[1] - config_.blur_sigma[0]) * unit(rng));
        if (unit(rng) < config_.noise_probability) x = x + torch::randn_like(x) * (config_.noise_sigma * unit(rng));
        if (unit(rng) < config_.blotch_probability) {
          auto blotches = blur_pixels(torch::randn_like(x), config_.blotch_scale);
          x = x + blotches / blotches.std().clamp_min(1e-6) * (config_.blotch_sigma * unit(rng));
        }
        parts.push_back(x.clamp(0.0, 1.0));
      }
      lowres = torch::cat(parts, 0);
    }
    out.lowres = lowres.to(device_);
    out.real = out.real.to(device_);
    out.layout = layout_fractions(classes, k, 1).to(device_);
    out.cond = detail_condition(decoder_config_, styles, gsds).to(device_);
    out.noise = generator_->random_noise(out.lowres);
    return out;
  }

  void fixed_metrics(double& low_pass_error, double& detail_ratio) {
    torch::NoGradGuard no_grad;
    auto fake = ema_->forward(fixed_.lowres, fixed_.layout, fixed_.cond, fixed_.noise).clamp(0.0, 1.0);
    low_pass_error =
        (detail_input(decoder_config_, fake) - detail_input(decoder_config_, fixed_.real)).abs().mean().item<double>();
    detail_ratio = fine_detail(fake) / std::max(1e-6, fine_detail(fixed_.real));
  }

  // Rows of [bilinear upsampling of the input | decoded | real photo].
  Image preview_grid() {
    torch::NoGradGuard no_grad;
    const int f = decoder_config_.factor;
    auto fake = ema_->forward(preview_.lowres, preview_.layout, preview_.cond, preview_.noise).clamp(0.0, 1.0);
    auto base = F::interpolate(preview_.lowres, F::InterpolateFuncOptions()
                                                    .scale_factor(std::vector<double>{double(f), double(f)})
                                                    .mode(torch::kBilinear)
                                                    .align_corners(false));
    auto rows = torch::cat({base, fake, preview_.real}, 3);                       // [N,3,H,3W]
    auto grid = rows.permute({1, 0, 2, 3}).reshape({3, -1, rows.size(3)}).to(torch::kCPU).contiguous();
    Image image(3, static_cast<int>(grid.size(1)), static_cast<int>(grid.size(2)));
    std::memcpy(image.data.data(), grid.data_ptr<float>(), image.data.size() * sizeof(float));
    return image;
  }

  std::string save_checkpoint(int step) {
    StateDict tensors;
    for (const auto& item : generator_->named_parameters()) tensors.insert("g." + item.key(), item.value().detach().cpu());
    for (const auto& item : ema_->named_parameters()) tensors.insert("ema." + item.key(), item.value().detach().cpu());
    for (const auto& item : discriminators_->named_parameters())
      tensors.insert("d." + item.key(), item.value().detach().cpu());
    const fs::path dir = fs::path(config_.output_dir) / "checkpoints";
    const fs::path path = dir / (train_support::step_name(step) + ".safetensors");
    save_safetensors(path.string(), tensors,
                     {{"step", std::to_string(step)},
                      {"format", "terrasynth-detail-checkpoint"},
                      {"decoder", decoder_config_.to_json().dump()}});
    for (const auto& [optimizer, suffix] :
         {std::pair<torch::optim::Adam*, const char*>{g_optimizer_.get(), ".g_optimizer.pt"},
          std::pair<torch::optim::Adam*, const char*>{d_optimizer_.get(), ".d_optimizer.pt"}}) {
      const fs::path target = dir / (train_support::step_name(step) + suffix);
      const fs::path temporary = target.string() + ".tmp";
      torch::save(*optimizer, temporary.string());
      fs::rename(temporary, target);
    }
    train_support::prune_checkpoints(dir, 3, {".g_optimizer.pt", ".d_optimizer.pt"});  // the three newest stay
    return path.string();
  }

  int load_checkpoint(const std::string& path) {
    StateDict tensors = load_safetensors(path);
    StateDict g, ema, d;
    for (const auto& item : tensors) {
      const std::string& key = item.key();
      if (key.rfind("g.", 0) == 0) g.insert(key.substr(2), item.value());
      else if (key.rfind("ema.", 0) == 0) ema.insert(key.substr(4), item.value());
      else if (key.rfind("d.", 0) == 0) d.insert(key.substr(2), item.value());
    }
    load_state_dict(*generator_, g, true, path + " (decoder)");
    load_state_dict(*ema_, ema, true, path + " (averaged decoder)");
    load_state_dict(*discriminators_, d, true, path + " (discriminators)");
    const std::string stem = (fs::path(path).parent_path() / fs::path(path).stem()).string();
    if (fs::exists(stem + ".g_optimizer.pt")) torch::load(*g_optimizer_, stem + ".g_optimizer.pt");
    if (fs::exists(stem + ".d_optimizer.pt")) torch::load(*d_optimizer_, stem + ".d_optimizer.pt");
    return train_support::checkpoint_step(path);
  }

  std::string export_decoder(const fs::path& dir) const {
    fs::create_directories(dir);
    StateDict tensors;
    for (const auto& item : ema_->named_parameters())
      tensors.insert(item.key(), item.value().detach().cpu().to(torch::kHalf));
    save_safetensors((dir / "detail.safetensors").string(), tensors, {{"format", "pt"}});
    const fs::path config = dir / "config.json";
    const fs::path temporary = config.string() + ".tmp";
    std::ofstream(temporary) << decoder_config_.to_json().dump(2) << '\n';
    fs::rename(temporary, config);
    return dir.string();
  }

  const DetailTrainConfig& config_;
  TrainDataSource& data_;
  DetailDecoderConfig decoder_config_;
  torch::Device device_;
  std::mt19937_64 rng_;
  DetailNet generator_{nullptr};
  DetailNet ema_{nullptr};
  Discriminators discriminators_{nullptr};
  std::unique_ptr<torch::optim::Adam> g_optimizer_;
  std::unique_ptr<torch::optim::Adam> d_optimizer_;
  Batch fixed_;
  Batch preview_;
};

}  // namespace

DetailTrainConfig parse_detail_train_config(const std::string& json_text, const std::string& label) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    fail(label, std::string("not valid JSON (") + error.what() + ")");
  }
  if (!root.is_object()) fail(label, "a training configuration is a JSON object");
  DetailTrainConfig config;
  read(root, "output_dir", config.output_dir, label);
  read(root, "resume", config.resume, label);
  read(root, "seed", config.seed, label);
  read(root, "steps", config.steps, label);
  read(root, "batch_size", config.batch_size, label);
  read(root, "crop", config.crop, label);
  read(root, "learning_rate", config.learning_rate, label);
  read(root, "discriminator_learning_rate", config.discriminator_learning_rate, label);
  read(root, "ema_decay", config.ema_decay, label);
  read(root, "checkpoint_every", config.checkpoint_every, label);
  read(root, "sample_every", config.sample_every, label);
  read(root, "log_every", config.log_every, label);
  read(root, "layout_dropout", config.layout_dropout, label);
  read(root, "style_dropout", config.style_dropout, label);
  read(root, "gsd_dropout", config.gsd_dropout, label);
  if (root.contains("degrade")) {
    const auto& degrade = root.at("degrade");
    if (!degrade.is_object()) fail(label, "'degrade' must be an object");
    read(degrade, "blur_probability", config.blur_probability, label);
    read(degrade, "blur_sigma", config.blur_sigma, label);
    read(degrade, "noise_probability", config.noise_probability, label);
    read(degrade, "noise_sigma", config.noise_sigma, label);
    read(degrade, "blotch_probability", config.blotch_probability, label);
    read(degrade, "blotch_sigma", config.blotch_sigma, label);
    read(degrade, "blotch_scale", config.blotch_scale, label);
  }
  if (root.contains("loss")) {
    const auto& loss = root.at("loss");
    if (!loss.is_object()) fail(label, "'loss' must be an object");
    read(loss, "adversarial", config.adversarial_weight, label);
    read(loss, "feature_matching", config.feature_matching_weight, label);
    read(loss, "low_pass", config.low_pass_weight, label);
    read(loss, "pixel", config.pixel_weight, label);
  }
  std::string device = "auto";
  read(root, "device", device, label);
  config.device.device = parse_device_kind(device);
  read(root, "threads", config.device.threads, label);

  if (config.output_dir.empty()) fail(label, "'output_dir' is required");
  if (config.steps <= 0) fail(label, "'steps' must be positive");
  if (config.batch_size <= 0 || config.batch_size > 4096) fail(label, "'batch_size' must be in 1..4096");
  if (config.crop < 16 || config.crop > 4096) fail(label, "'crop' must be in 16..4096");
  if (!(config.learning_rate > 0) || !(config.discriminator_learning_rate > 0))
    fail(label, "learning rates must be positive");
  if (config.ema_decay < 0 || config.ema_decay >= 1) fail(label, "'ema_decay' must be in [0, 1)");
  if (config.checkpoint_every <= 0 || config.log_every <= 0 || config.sample_every < 0)
    fail(label, "'checkpoint_every' and 'log_every' must be positive, 'sample_every' 0 or more");
  for (double p : {config.layout_dropout, config.style_dropout, config.gsd_dropout, config.blur_probability,
                   config.noise_probability, config.blotch_probability})
    if (!(p >= 0 && p <= 1)) fail(label, "dropout and degradation probabilities must be in [0, 1]");
  if (!(config.blur_sigma[0] >= 0 && config.blur_sigma[0] <= config.blur_sigma[1] && config.blur_sigma[1] <= 8))
    fail(label, "'degrade.blur_sigma' must be [low, high] with 0 <= low <= high <= 8");
  if (!(config.noise_sigma >= 0 && config.noise_sigma <= 1)) fail(label, "'degrade.noise_sigma' must be in [0, 1]");
  if (!(config.blotch_sigma >= 0 && config.blotch_sigma <= 1)) fail(label, "'degrade.blotch_sigma' must be in [0, 1]");
  if (!(config.blotch_scale > 0 && config.blotch_scale <= 8))
    fail(label, "'degrade.blotch_scale' must be in (0, 8] low-resolution pixels");
  for (double w : {config.adversarial_weight, config.feature_matching_weight, config.low_pass_weight,
                   config.pixel_weight})
    if (!(w >= 0 && w <= 1000)) fail(label, "loss weights must be in [0, 1000]");
  if (!root.contains("decoder") || !root["decoder"].is_object())
    fail(label, "'decoder' must be an object (the detail decoder's config.json)");
  nlohmann::json decoder = root["decoder"];
  if (!decoder.contains("format")) decoder["format"] = "terrasynth-detail-decoder";
  try {
    DetailDecoderConfig::from_json(decoder, label + " 'decoder'");
  } catch (const EngineError& error) {
    fail(label, error.what());
  }
  config.decoder_config = decoder.dump();
  return config;
}

DetailTrainReport train_detail_decoder(const DetailTrainConfig& config, TrainDataSource& data,
                                       const ProgressCallback& progress, const CancelToken* cancel,
                                       const SampleGridCallback& samples) {
  DetailTrainer trainer(config, data);
  return trainer.run(progress, cancel, samples);
}

}  // namespace terrasynth::engine
