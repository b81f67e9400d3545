// The evaluation segmenter: a small encoder-decoder trained with cross-entropy on the labelled
// pairs, and the distances computed from its outputs.
#include "terrasynth/engine/segmenter.h"

#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>

#include "terrasynth/engine/error.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;

namespace terrasynth::engine {

namespace {

struct ConvBlockImpl : torch::nn::Module {
  ConvBlockImpl(int in, int out)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)))),
        norm1(register_module("norm1", torch::nn::GroupNorm(torch::nn::GroupNormOptions(8, out)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1)))),
        norm2(register_module("norm2", torch::nn::GroupNorm(torch::nn::GroupNormOptions(8, out)))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::silu(norm1(conv1(x)));
    return torch::silu(norm2(conv2(x)));
  }
  torch::nn::Conv2d conv1;
  torch::nn::GroupNorm norm1;
  torch::nn::Conv2d conv2;
  torch::nn::GroupNorm norm2;
};
TORCH_MODULE(ConvBlock);

torch::nn::Conv2d down_conv(int in, int out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(2).padding(1));
}

struct SegNetImpl : torch::nn::Module {
  explicit SegNetImpl(int num_classes)
      : stem(register_module("stem", down_conv(3, 32))),
        enc1(register_module("enc1", ConvBlock(32, 32))),
        down1(register_module("down1", down_conv(32, 64))),
        enc2(register_module("enc2", ConvBlock(64, 64))),
        down2(register_module("down2", down_conv(64, 128))),
        enc3(register_module("enc3", ConvBlock(128, 128))),
        down3(register_module("down3", down_conv(128, 192))),
        enc4(register_module("enc4", ConvBlock(192, 192))),
        dec3(register_module("dec3", ConvBlock(192 + 128, 128))),
        dec2(register_module("dec2", ConvBlock(128 + 64, 64))),
        dec1(register_module("dec1", ConvBlock(64 + 32, 32))),
        head(register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, num_classes, 1)))) {}

  struct Output {
    torch::Tensor logits;
    torch::Tensor features;
  };

  static torch::Tensor up(const torch::Tensor& x) {
    return torch::nn::functional::interpolate(
        x, torch::nn::functional::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
  }

  Output forward(const torch::Tensor& images) {
    auto x = (images - 0.5) / 0.25;
    auto e1 = enc1(torch::silu(stem(x)));
    auto e2 = enc2(down1(e1));
    auto e3 = enc3(down2(e2));
    auto e4 = enc4(down3(e3));
    auto d3 = dec3(torch::cat({up(e4), e3}, 1));
    auto d2 = dec2(torch::cat({up(d3), e2}, 1));
    auto d1 = dec1(torch::cat({up(d2), e1}, 1));
    auto logits = torch::nn::functional::interpolate(
        head(d1), torch::nn::functional::InterpolateFuncOptions()
                      .scale_factor(std::vector<double>{2.0, 2.0})
                      .mode(torch::kBilinear)
                      .align_corners(false));
    auto features = torch::cat({e4.mean({2, 3}), e4.std({2, 3}), e3.mean({2, 3})}, 1);
    return {logits, features};
  }

  torch::nn::Conv2d stem;
  ConvBlock enc1;
  torch::nn::Conv2d down1;
  ConvBlock enc2;
  torch::nn::Conv2d down2;
  ConvBlock enc3;
  torch::nn::Conv2d down3;
  ConvBlock enc4, dec3, dec2, dec1;
  torch::nn::Conv2d head;
};
TORCH_MODULE(SegNet);

constexpr int kFeatureSize = 192 + 192 + 128;

torch::Tensor stack_images(const std::vector<Image>& images) {
  std::vector<torch::Tensor> parts;
  for (const auto& image : images) {
    if (image.channels != 3 || image.height % 16 != 0 || image.width % 16 != 0)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "segmenter input must be RGB with sides divisible by 16, got " +
                            std::to_string(image.channels) + "x" + std::to_string(image.height) + "x" +
                            std::to_string(image.width));
    parts.push_back(torch::from_blob(const_cast<float*>(image.data.data()),
                                     {3, image.height, image.width}, torch::kFloat));
  }
  return torch::stack(parts);
}

// Photometric augmentation so the segmenter is not thrown by small colour or noise differences
// between sources (and between real and generated images).
torch::Tensor jitter(const torch::Tensor& images, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<torch::Tensor> out;
  for (int64_t b = 0; b < images.size(0); ++b) {
    auto x = images[b];
    const double brightness = 0.85 + 0.3 * unit(rng), contrast = 0.8 + 0.4 * unit(rng);
    const double saturation = 0.7 + 0.6 * unit(rng);
    auto mean = x.mean();
    x = (x - mean) * contrast + mean * brightness;
    auto grey = x.mean(0, true);
    x = grey + (x - grey) * saturation;
    if (unit(rng) < 0.3) x = x + torch::randn_like(x) * (0.01 + 0.03 * unit(rng));
    if (unit(rng) < 0.2) x = torch::avg_pool2d(x.unsqueeze(0), 3, 1, 1, false, false).squeeze(0);
    out.push_back(x.clamp(0.0, 1.0));
  }
  return torch::stack(out);
}

}  // namespace

struct Segmenter::Impl {
  SegNet net{nullptr};
  std::vector<std::string> classes;
  torch::Device device{torch::kCPU};
};

Segmenter::Segmenter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Segmenter::~Segmenter() = default;

std::shared_ptr<Segmenter> Segmenter::load(const std::string& dir, const DeviceOptions& device) {
  const fs::path manifest_path = fs::path(dir) / "segmenter.json";
  std::ifstream in(manifest_path);
  if (!in) throw EngineError(EngineError::Kind::Io, manifest_path.string() + ": segmenter manifest not found");
  nlohmann::json manifest;
  try {
    in >> manifest;
  } catch (const nlohmann::json::exception& error) {
    throw EngineError(EngineError::Kind::ModelFormat, manifest_path.string() + ": " + error.what());
  }
  auto impl = std::make_unique<Impl>();
  if (!manifest.contains("classes") || !manifest["classes"].is_array() || manifest["classes"].empty())
    throw EngineError(EngineError::Kind::ModelFormat, manifest_path.string() + ": missing classes");
  for (const auto& name : manifest["classes"]) impl->classes.push_back(name.get<std::string>());
  impl->net = SegNet(static_cast<int>(impl->classes.size()));
  load_state_dict(*impl->net, load_safetensors((fs::path(dir) / "segmenter.safetensors").string()), true,
                  (fs::path(dir) / "segmenter.safetensors").string());
  if (device.device != DeviceKind::Cpu && torch::cuda::is_available()) impl->device = torch::Device(torch::kCUDA);
  else configure_cpu_threads(device.threads);
  impl->net->to(impl->device);
  impl->net->eval();
  return std::shared_ptr<Segmenter>(new Segmenter(std::move(impl)));
}

int Segmenter::num_classes() const { return static_cast<int>(impl_->classes.size()); }
const std::vector<std::string>& Segmenter::classes() const { return impl_->classes; }
int Segmenter::feature_size() const { return kFeatureSize; }

std::vector<ClassMap> Segmenter::predict(const std::vector<Image>& images) const {
  torch::NoGradGuard no_grad;
  std::vector<ClassMap> out;
  for (const auto& image : images) {
    auto logits = impl_->net->forward(stack_images({image}).to(impl_->device)).logits;
    auto ids = logits.argmax(1)[0].to(torch::kCPU).to(torch::kUInt8).contiguous();
    ClassMap map(image.height, image.width);
    std::memcpy(map.data.data(), ids.data_ptr<uint8_t>(), map.data.size());
    out.push_back(std::move(map));
  }
  return out;
}

std::vector<std::vector<float>> Segmenter::features(const std::vector<Image>& images) const {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<float>> out;
  for (const auto& image : images) {
    auto features = impl_->net->forward(stack_images({image}).to(impl_->device)).features[0].to(torch::kCPU).contiguous();
    out.emplace_back(features.data_ptr<float>(), features.data_ptr<float>() + features.numel());
  }
  return out;
}

SegmenterTrainReport train_segmenter(const SegmenterTrainOptions& options, TrainDataSource& data,
                                     const ProgressCallback& progress, const CancelToken* cancel) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  if (options.classes.empty()) throw EngineError(EngineError::Kind::InvalidArgument, "segmenter needs classes");
  if (options.crop % 16 != 0) throw EngineError(EngineError::Kind::InvalidArgument, "segmenter crop must be divisible by 16");
  configure_cpu_threads(options.device.threads);
  torch::manual_seed(options.seed);
  std::mt19937_64 rng(options.seed);
  const int num_classes = static_cast<int>(options.classes.size());
  SegNet net(num_classes);
  net->train();
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(options.learning_rate).weight_decay(1e-4));
  fs::create_directories(options.output_dir);
  std::ofstream log(fs::path(options.output_dir) / "segmenter_loss.tsv");
  log << "step\tloss\n";
  SegmenterTrainReport report;
  double window = 0;
  int count = 0;
  int step = 0;
  for (; step < options.steps; ++step) {
    if (cancel && cancel->cancelled()) {
      report.status = Status::Cancelled;
      break;
    }
    const double lr = options.learning_rate * 0.5 * (1.0 + std::cos(M_PI * step / options.steps));
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    auto images = torch::empty({options.batch_size, 3, options.crop, options.crop});
    auto targets = torch::full({options.batch_size, options.crop, options.crop}, 255, torch::kLong);
    for (int b = 0; b < options.batch_size; ++b) {
      TrainSample sample;
      do sample = data.sample(rng, options.crop);
      while (sample.layout.empty());
      images[b].copy_(torch::from_blob(sample.image.data.data(), {3, options.crop, options.crop}, torch::kFloat));
      targets[b].copy_(torch::from_blob(sample.layout.data.data(), {options.crop, options.crop}, torch::kUInt8).to(torch::kLong));
    }
    targets = torch::where(targets < num_classes, targets, torch::full_like(targets, 255));
    optimizer.zero_grad();
    auto logits = net->forward(jitter(images, rng)).logits;
    auto loss = torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(255));
    loss.backward();
    optimizer.step();
    window += loss.item<double>();
    ++count;
    if ((step + 1) % 20 == 0 || step + 1 == options.steps) {
      const double mean = window / count;
      if (report.first_loss == 0) report.first_loss = mean;
      report.last_loss = mean;
      log << step + 1 << '\t' << mean << std::endl;
      window = 0;
      count = 0;
    }
    if (progress) {
      ProgressEvent event;
      event.phase = "train";
      event.step = step + 1;
      event.total_steps = options.steps;
      event.fraction = double(step + 1) / options.steps;
      progress(event);
    }
  }
  report.steps_done = step;
  StateDict tensors;
  for (const auto& item : net->named_parameters()) tensors.insert(item.key(), item.value().detach().to(torch::kHalf));
  for (const auto& item : net->named_buffers()) tensors.insert(item.key(), item.value().detach());
  save_safetensors((fs::path(options.output_dir) / "segmenter.safetensors").string(), tensors);
  nlohmann::json manifest{{"format", "terrasynth-segmenter"},
                          {"format_version", 1},
                          {"classes", options.classes},
                          {"steps", step},
                          {"crop", options.crop},
                          {"batch_size", options.batch_size},
                          {"feature_size", kFeatureSize}};
  std::ofstream(fs::path(options.output_dir) / "segmenter.json") << manifest.dump(2) << '\n';
  report.model_dir = options.output_dir;
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

double kernel_distance(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b,
                       int subsets, int subset_size, uint64_t seed) {
  if (a.size() < 2 || b.size() < 2)
    throw EngineError(EngineError::Kind::InvalidArgument, "kernel distance needs at least 2 samples per set");
  const size_t d = a[0].size();
  for (const auto* set : {&a, &b})
    for (const auto& v : *set)
      if (v.size() != d) throw EngineError(EngineError::Kind::InvalidArgument, "feature sizes differ");
  auto to_tensor = [d](const std::vector<std::vector<float>>& set) {
    auto t = torch::empty({static_cast<int64_t>(set.size()), static_cast<int64_t>(d)}, torch::kDouble);
    for (size_t i = 0; i < set.size(); ++i)
      for (size_t k = 0; k < d; ++k) t[i][k] = static_cast<double>(set[i][k]);
    return t;
  };
  auto x_all = to_tensor(a), y_all = to_tensor(b);
  const int64_t m = std::min<int64_t>({static_cast<int64_t>(a.size()), static_cast<int64_t>(b.size()),
                                       subset_size > 0 ? subset_size : std::numeric_limits<int64_t>::max()});
  std::mt19937_64 rng(seed);
  auto kernel = [d](const torch::Tensor& x, const torch::Tensor& y) {
    return (x.matmul(y.t()) / static_cast<double>(d) + 1.0).pow(3);
  };
  double total = 0;
  const int runs = (m == static_cast<int64_t>(a.size()) && m == static_cast<int64_t>(b.size())) ? 1 : std::max(1, subsets);
  for (int r = 0; r < runs; ++r) {
    std::vector<int64_t> ia(a.size()), ib(b.size());
    std::iota(ia.begin(), ia.end(), 0);
    std::iota(ib.begin(), ib.end(), 0);
    std::shuffle(ia.begin(), ia.end(), rng);
    std::shuffle(ib.begin(), ib.end(), rng);
    auto x = x_all.index_select(0, torch::tensor(std::vector<int64_t>(ia.begin(), ia.begin() + m)));
    auto y = y_all.index_select(0, torch::tensor(std::vector<int64_t>(ib.begin(), ib.begin() + m)));
    auto kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
    const double n = static_cast<double>(m);
    const double sxx = (kxx.sum() - kxx.diagonal().sum()).item<double>() / (n * (n - 1));
    const double syy = (kyy.sum() - kyy.diagonal().sum()).item<double>() / (n * (n - 1));
    const double sxy = kxy.sum().item<double>() / (n * n);
    total += sxx + syy - 2 * sxy;
  }
  return total / runs;
}

IouReport mean_iou(const std::vector<ClassMap>& predicted, const std::vector<ClassMap>& reference, int num_classes) {
  if (predicted.size() != reference.size())
    throw EngineError(EngineError::Kind::InvalidArgument, "mean_iou: different numbers of maps");
  std::vector<double> intersection(num_classes, 0), union_(num_classes, 0);
  double correct = 0, counted = 0;
  for (size_t i = 0; i < predicted.size(); ++i) {
    const auto& p = predicted[i];
    const auto& r = reference[i];
    if (p.height != r.height || p.width != r.width)
      throw EngineError(EngineError::Kind::InvalidArgument, "mean_iou: map sizes differ");
    for (size_t k = 0; k < r.data.size(); ++k) {
      const int ref = r.data[k];
      if (ref >= num_classes) continue;
      const int pred = p.data[k];
      counted += 1;
      if (pred == ref) {
        correct += 1;
        intersection[ref] += 1;
        union_[ref] += 1;
      } else {
        union_[ref] += 1;
        if (pred < num_classes) union_[pred] += 1;
      }
    }
  }
  IouReport report;
  double sum = 0;
  int present = 0;
  for (int c = 0; c < num_classes; ++c) {
    if (union_[c] == 0) {
      report.per_class.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const double iou = intersection[c] / union_[c];
    report.per_class.push_back(iou);
    sum += iou;
    ++present;
  }
  report.mean_iou = present ? sum / present : 0.0;
  report.pixel_accuracy = counted > 0 ? correct / counted : 0.0;
  return report;
}

}  // namespace terrasynth::engine
