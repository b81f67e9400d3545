#include "runtime/detail_decoder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/conditioning.h"
#include "sched/noise.h"
#include "terrasynth/engine/error.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace terrasynth::engine {

namespace {

torch::nn::Conv2d conv3(int in, int out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

torch::Tensor lrelu(const torch::Tensor& x) { return torch::leaky_relu(x, 0.2); }

int64_t floor_div(int64_t value, int64_t divisor) {
  return value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor);
}

}  // namespace

DetailNetImpl::DetailNetImpl(const DetailDecoderConfig& c) : config(c) {
  const int k = config.num_classes;
  conv_in = register_module("conv_in", conv3(3 + k + config.cond_channels(), config.channels[0]));
  block_convs = register_module("blocks", torch::nn::ModuleList());
  for (int b = 0; b < config.blocks; ++b) {
    block_convs->push_back(conv3(config.channels[0], config.channels[0]));
    block_convs->push_back(conv3(config.channels[0], config.channels[0]));
  }
  up_convs = register_module("up", torch::nn::ModuleList());
  mix_convs = register_module("mix", torch::nn::ModuleList());
  stage_convs = register_module("stage_blocks", torch::nn::ModuleList());
  for (int s = 1; s < config.levels(); ++s) {
    up_convs->push_back(conv3(config.channels[s - 1], config.channels[s]));
    mix_convs->push_back(conv3(config.channels[s] + k + (config.noise ? 1 : 0), config.channels[s]));
    for (int b = 0; b < config.stage_blocks; ++b) {
      stage_convs->push_back(conv3(config.channels[s], config.channels[s]));
      stage_convs->push_back(conv3(config.channels[s], config.channels[s]));
    }
  }
  conv_out = register_module("conv_out", conv3(config.channels.back(), 3));
  // Residual branches start small and the output at zero: an untrained decoder returns the
  // bilinear upsampling of its input.
  torch::NoGradGuard no_grad;
  for (size_t i = 1; i < block_convs->size(); i += 2)
    block_convs[i]->as<torch::nn::Conv2d>()->weight.mul_(0.1);
  for (size_t i = 1; i < stage_convs->size(); i += 2)
    stage_convs[i]->as<torch::nn::Conv2d>()->weight.mul_(0.1);
  conv_out->weight.zero_();
  conv_out->bias.zero_();
}

std::vector<torch::Tensor> DetailNetImpl::random_noise(const torch::Tensor& lowres) const {
  std::vector<torch::Tensor> out;
  if (!config.noise) return out;
  for (int64_t s = 1, scale = 2; s < config.levels(); ++s, scale *= 2)
    out.push_back(torch::randn({lowres.size(0), 1, lowres.size(2) * scale, lowres.size(3) * scale}, lowres.options()));
  return out;
}

torch::Tensor DetailNetImpl::forward(const torch::Tensor& lowres, const torch::Tensor& layout,
                                     const torch::Tensor& cond, const std::vector<torch::Tensor>& noise) {
  const int f = config.factor;
  const int64_t n = lowres.size(0), h = lowres.size(2), w = lowres.size(3);
  if (layout.size(2) != h * f || layout.size(3) != w * f)
    throw EngineError(EngineError::Kind::InvalidArgument, "detail decoder: the layout must be factor x the input size");
  if (config.noise && noise.size() != up_convs->size())
    throw EngineError(EngineError::Kind::InvalidArgument, "detail decoder: one noise input per upsampling stage is needed");
  auto planes = cond.view({n, cond.size(1), 1, 1}).expand({n, cond.size(1), h, w});
  auto x = conv_in(torch::cat({(lowres - 0.5) * 2.0, torch::avg_pool2d(layout, f), planes}, 1));
  for (size_t b = 0; b + 1 < block_convs->size(); b += 2) {
    auto r = block_convs[b]->as<torch::nn::Conv2d>()->forward(lrelu(x));
    x = x + block_convs[b + 1]->as<torch::nn::Conv2d>()->forward(lrelu(r));
  }
  x = lrelu(x);
  int scale = f;
  for (size_t s = 0; s < up_convs->size(); ++s) {
    scale /= 2;
    x = F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
    x = lrelu(up_convs[s]->as<torch::nn::Conv2d>()->forward(x));
    auto lay = scale > 1 ? torch::avg_pool2d(layout, scale) : layout;
    x = lrelu(mix_convs[s]->as<torch::nn::Conv2d>()->forward(
        config.noise ? torch::cat({x, lay, noise[s].to(x.dtype())}, 1) : torch::cat({x, lay}, 1)));
    for (int b = 0; b < config.stage_blocks; ++b) {
      const size_t i = 2 * (s * config.stage_blocks + b);
      auto r = stage_convs[i]->as<torch::nn::Conv2d>()->forward(x);
      x = lrelu(x + stage_convs[i + 1]->as<torch::nn::Conv2d>()->forward(lrelu(r)));
    }
  }
  auto base = F::interpolate(lowres, F::InterpolateFuncOptions()
                                         .size(std::vector<int64_t>{h * f, w * f})
                                         .mode(torch::kBilinear)
                                         .align_corners(false));
  return base + conv_out(x);
}

torch::Tensor detail_downsample(const torch::Tensor& images, int factor) {
  return factor > 1 ? torch::avg_pool2d(images, factor) : images;
}

torch::Tensor detail_input(const DetailDecoderConfig& config, const torch::Tensor& images) {
  return blur_pixels(detail_downsample(images, config.factor), config.input_blur);
}

torch::Tensor detail_condition(const DetailDecoderConfig& config, const std::vector<int>& styles,
                               const std::vector<double>& gsds) {
  const int64_t n = static_cast<int64_t>(std::max(styles.size(), gsds.size()));
  auto out = torch::zeros({n, config.cond_channels()});
  for (int64_t i = 0; i < n; ++i) {
    const int style = i < static_cast<int64_t>(styles.size()) ? styles[i] : -1;
    if (style >= 0 && style < config.num_styles) out[i][style] = 1.0;
    const double gsd = i < static_cast<int64_t>(gsds.size()) ? gsds[i] : 0.0;
    if (gsd > 0) {
      out[i][config.num_styles] = 1.0;
      out[i][config.num_styles + 1] = std::log2(gsd / config.gsd_reference) * config.gsd_scale;
    }
  }
  return out;
}

DetailDecoder::DetailDecoder(const DetailDecoderConfig& config) : config_(config), net_(config) { net_->eval(); }

DetailDecoderConfig DetailDecoder::read_config(const std::string& folder) {
  const fs::path config_path = fs::path(folder) / "config.json";
  std::ifstream in(config_path, std::ios::binary);
  if (!in) throw EngineError(EngineError::Kind::ModelFormat, config_path.string() + ": detail decoder config not found");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20))
    throw EngineError(EngineError::Kind::ModelFormat, config_path.string() + ": config larger than 1 MiB");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& error) {
    throw EngineError(EngineError::Kind::ModelFormat, config_path.string() + ": not valid JSON (" + error.what() + ")");
  }
  return DetailDecoderConfig::from_json(json, config_path.string());
}

std::unique_ptr<DetailDecoder> DetailDecoder::load(const std::string& folder) {
  auto decoder = std::make_unique<DetailDecoder>(read_config(folder));
  const fs::path weights = fs::path(folder) / "detail.safetensors";
  load_state_dict(*decoder->net_, load_safetensors(weights.string()), true, weights.string());
  decoder->net_->eval();
  return decoder;
}

void DetailDecoder::to(const torch::Device& device, torch::ScalarType dtype) {
  device_ = device;
  dtype_ = dtype;
  net_->to(device, dtype);
}

torch::Tensor DetailDecoder::apply(const torch::Tensor& image, const torch::Tensor& classes, int style, double gsd,
                                   const Placement& placement, int window, const ProgressCallback& progress,
                                   const CancelToken* cancel) {
  torch::NoGradGuard no_grad;
  const int f = config_.factor;
  const int64_t height = image.size(2), width = image.size(3);
  if (image.dim() != 4 || image.size(0) != 1 || image.size(1) != 3 || classes.dim() != 3 ||
      classes.size(1) != height || classes.size(2) != width)
    throw EngineError(EngineError::Kind::InvalidArgument, "detail decoder: expected one RGB image and its class map");
  const int64_t padded_h = (height + f - 1) / f * f, padded_w = (width + f - 1) / f * f;
  auto padded = image.to(torch::kFloat);
  if (padded_h != height || padded_w != width)
    padded = F::pad(padded, F::PadFuncOptions({0, padded_w - width, 0, padded_h - height}).mode(torch::kReplicate));
  auto padded_classes = torch::full({1, padded_h, padded_w}, 255, torch::kUInt8);
  padded_classes.narrow(1, 0, height).narrow(2, 0, width).copy_(classes);
  const auto options = torch::TensorOptions().device(device_).dtype(dtype_);
  const auto lowres = detail_input(config_, padded).to(options);
  const auto layout = layout_fractions(padded_classes, config_.num_classes, 1).to(options);
  const auto cond = detail_condition(config_, {style}, {gsd}).to(options);

  const int64_t low_h = padded_h / f, low_w = padded_w / f;
  const sched::CounterNoise generator(placement.seed);
  const int64_t core = std::max<int64_t>(1, window / f), halo = config_.halo_pixels() / f;
  auto out = torch::empty({1, 3, padded_h, padded_w});
  const int64_t rows = (low_h + core - 1) / core, columns = (low_w + core - 1) / core;
  int64_t done = 0;
  for (int64_t y0 = 0; y0 < low_h; y0 += core) {
    for (int64_t x0 = 0; x0 < low_w; x0 += core) {
      if (cancel && cancel->cancelled()) return {};
      const int64_t y1 = std::min(low_h, y0 + core), x1 = std::min(low_w, x0 + core);
      const int64_t ya = std::max<int64_t>(0, y0 - halo), yb = std::min(low_h, y1 + halo);
      const int64_t xa = std::max<int64_t>(0, x0 - halo), xb = std::min(low_w, x1 + halo);
      // Noise at global positions: the same value for a pixel whatever window computes it.
      std::vector<torch::Tensor> noise;
      if (config_.noise)
        for (int64_t s = 1, scale = 2; s < config_.levels(); ++s, scale *= 2)
          noise.push_back(generator.window(floor_div(placement.origin_x * scale, f) + xa * scale,
                                           floor_div(placement.origin_y * scale, f) + ya * scale, (xb - xa) * scale,
                                           (yb - ya) * scale, 1,
                                           sched::noise_stream(sched::NoiseUse::Detail, static_cast<int>(s), 0))
                              .to(options));
      auto result = net_->forward(lowres.narrow(2, ya, yb - ya).narrow(3, xa, xb - xa),
                                  layout.narrow(2, ya * f, (yb - ya) * f).narrow(3, xa * f, (xb - xa) * f), cond,
                                  noise);
      out.narrow(2, y0 * f, (y1 - y0) * f)
          .narrow(3, x0 * f, (x1 - x0) * f)
          .copy_(result.narrow(2, (y0 - ya) * f, (y1 - y0) * f).narrow(3, (x0 - xa) * f, (x1 - x0) * f).to(torch::kCPU, torch::kFloat));
      ++done;
      if (progress) {
        ProgressEvent event;
        event.phase = "detail";
        event.step = static_cast<int>(done);
        event.total_steps = static_cast<int>(rows * columns);
        event.fraction = static_cast<double>(done) / static_cast<double>(rows * columns);
        progress(event);
      }
    }
  }
  if (cancel && cancel->cancelled()) return {};  // asked for during the last window
  return out.narrow(2, 0, height).narrow(3, 0, width).clamp(0.0, 1.0).contiguous();
}

}  // namespace terrasynth::engine
