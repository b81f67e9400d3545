#include "runtime/generation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "runtime/conditioning.h"
#include "sched/guidance.h"
#include "sched/inpaint.h"
#include "sched/noise.h"
#include "sched/sampler.h"
#include "terrasynth/engine/error.h"
#include "tiling/tiled_sampler.h"

namespace terrasynth::engine {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw EngineError(EngineError::Kind::InvalidArgument, message);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

int index_of(const std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

int64_t floor_div(int64_t value, int64_t divisor) {
  return value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor);
}

// A step's noise level, to change a network output through its clean-image estimate: x0() reads
// the estimate, output() gives the output the network would have returned for another estimate
// at the same x_t.
struct StepLevel {
  StepLevel(const sched::NoiseSchedule& schedule, double timestep)
      : type(schedule.prediction_type()),
        alpha(std::sqrt(schedule.alpha_bar_at(timestep))),
        sigma(std::sqrt(1.0 - schedule.alpha_bar_at(timestep))) {}
  torch::Tensor x0(const torch::Tensor& output, const torch::Tensor& input) const {
    return sched::split_prediction(type, output, input, alpha, sigma).x0;
  }
  torch::Tensor output(const torch::Tensor& x0, const torch::Tensor& input) const {
    return sched::prediction_target(type, x0, (input - alpha * x0) / sigma, alpha, sigma);
  }
  sched::PredictionType type;
  double alpha;
  double sigma;
};

}  // namespace

void validate_request(const Manifest& manifest, const GenerateRequest& request) {
  const ModelInfo& info = manifest.info;
  if (request.width <= 0 || request.height <= 0)
    invalid("canvas size must be positive, got " + std::to_string(request.width) + "x" +
            std::to_string(request.height));
  if (!request.layout.empty()) {
    if (!manifest.conditioning.layout) invalid("model '" + info.name + "' does not take a layout");
    if (request.layout.width != request.width || request.layout.height != request.height ||
        request.layout.data.size() != static_cast<size_t>(request.width) * request.height)
      invalid("layout is " + std::to_string(request.layout.width) + "x" + std::to_string(request.layout.height) +
              " but the canvas is " + std::to_string(request.width) + "x" + std::to_string(request.height));
    for (uint8_t id : request.layout.data)
      if (id != ClassMap::kUnknownClass && id >= info.classes.size())
        invalid("layout holds class id " + std::to_string(id) + "; valid ids are 0-" +
                std::to_string(info.classes.size() - 1) + " (" + join(info.classes) + ") and 255 (unknown)");
  }
  if (!request.style.empty() && index_of(info.styles, request.style) < 0)
    invalid("unknown style '" + request.style + "' (valid: " + join(info.styles) + ")");
  if (!request.scene.empty() && index_of(info.scenes, request.scene) < 0)
    invalid("unknown scene '" + request.scene + "' (valid: " + join(info.scenes) + ")");
  if (request.gsd < 0) invalid("gsd must be positive (or 0 for unknown)");
  const bool has_known = !request.known.empty();
  if (has_known != !request.mask.empty()) invalid("inpainting needs both known pixels and a mask");
  if (has_known) {
    if (request.known.channels != 3 || request.known.width != request.width ||
        request.known.height != request.height ||
        request.known.data.size() != static_cast<size_t>(3) * request.width * request.height)
      invalid("known image must be 3 x " + std::to_string(request.height) + " x " + std::to_string(request.width));
    if (request.mask.width != request.width || request.mask.height != request.height ||
        request.mask.data.size() != static_cast<size_t>(request.width) * request.height)
      invalid("inpainting mask must be " + std::to_string(request.width) + "x" + std::to_string(request.height));
  }
  const std::string sampler = request.sampler.name.empty() ? info.default_sampler : request.sampler.name;
  const auto names = sched::sampler_names();
  if (std::find(names.begin(), names.end(), sampler) == names.end())
    invalid("unknown sampler '" + sampler + "' (valid: " + join(names) + ")");
  if (request.sampler.steps < 0 || request.sampler.steps > 1000) invalid("steps must be in 1..1000");
  if (request.sampler.coarse_guidance > 100) invalid("coarse guidance must be at most 100");
  if (request.sampler.coarse_guidance_sigma > 64) invalid("coarse guidance sigma must be at most 64 pixels");
  if (request.sampler.coarse_guidance_sigma > 0 && manifest.conditioning.latent_type != "pixel_unshuffle")
    invalid("coarse guidance needs a pixel_unshuffle latent");
  if (request.sampler.eta > 1) invalid("eta must be between 0 (deterministic) and 1");
  if (request.sampler.eta_min_timestep > 1000) invalid("eta_min_timestep must be a timestep in 0..1000");
  if (request.sampler.chroma_smoothing > 16) invalid("chroma smoothing must be at most 16 pixels");
  if (request.sampler.chroma_smoothing > 0 && manifest.conditioning.latent_type != "pixel_unshuffle")
    invalid("chroma smoothing needs a pixel_unshuffle latent");
  if (request.tiling.tile < 0) invalid("tile size must be positive");
  if (request.resample_jumps < 0 || request.resample_jumps > 20) invalid("resample jumps must be in 0..20");
}

GenerateResult run_generation(const GenerationContext& context, const GenerateRequest& request,
                              const ProgressCallback& progress, const CancelToken* cancel) {
  const auto started = std::chrono::steady_clock::now();
  const Manifest& manifest = *context.manifest;
  const ModelInfo& info = manifest.info;
  const ConditioningSpec& spec = manifest.conditioning;
  validate_request(manifest, request);
  torch::NoGradGuard no_grad;

  const int64_t f = spec.latent_factor;
  const int64_t net_multiple = context.network->spatial_multiple();
  const int64_t multiple = std::max<int64_t>(info.pixel_multiple, f * net_multiple);
  const int64_t width = round_up(request.width, multiple), height = round_up(request.height, multiple);
  const int64_t latent_w = width / f, latent_h = height / f;
  const int num_classes = static_cast<int>(info.classes.size());

  // Conditions in pixel space, padded right and bottom (unknown layout, regenerated padding).
  auto classes = torch::full({1, height, width}, static_cast<int64_t>(ClassMap::kUnknownClass), torch::kUInt8);
  if (!request.layout.empty()) {
    auto given = torch::from_blob(const_cast<uint8_t*>(request.layout.data.data()),
                                  {request.height, request.width}, torch::kUInt8);
    classes[0].narrow(0, 0, request.height).narrow(1, 0, request.width).copy_(given);
  }
  const bool has_known = !request.known.empty();
  auto known = torch::zeros({1, 3, height, width});
  auto mask = torch::ones({1, 1, height, width});
  if (has_known) {
    known[0].narrow(1, 0, request.height).narrow(2, 0, request.width).copy_(
        torch::from_blob(const_cast<float*>(request.known.data.data()), {3, request.height, request.width}, torch::kFloat));
    mask[0][0].narrow(0, 0, request.height).narrow(1, 0, request.width).copy_(
        torch::from_blob(const_cast<float*>(request.mask.data.data()), {request.height, request.width}, torch::kFloat)
            .clamp(0.0, 1.0));
  }
  const auto options = torch::TensorOptions().device(context.device).dtype(context.dtype);
  const torch::Tensor layout_latent = layout_fractions(classes, num_classes, static_cast<int>(f)).to(options);
  const torch::Tensor inpaint_latent = inpaint_channels(known, mask, spec).to(options);
  const torch::Tensor no_layout = torch::zeros_like(layout_latent);

  const int style = request.style.empty() ? index_of(info.styles, info.default_style)
                                          : index_of(info.styles, request.style);
  const int scene = request.scene.empty() ? -1 : index_of(info.scenes, request.scene);
  torch::Tensor class_cond, class_uncond;
  if (spec.class_vector) {
    class_cond = class_vectors(manifest, {style}, {scene}, {request.gsd}).to(options);
    class_uncond = class_vectors(manifest, {style}, {-1}, {request.gsd}).to(options);
  }

  DenoiserNetwork& network = *context.network;
  sched::ModelFn window_model = [&](const torch::Tensor& input, const sched::ModelCall& call) {
    const int64_t n = input.size(0);
    std::vector<torch::Tensor> parts, vectors;
    for (int64_t i = 0; i < n; ++i) {
      const sched::Region& r = call.regions.at(static_cast<size_t>(i));
      const bool uncond = call.branch(static_cast<size_t>(i)) == sched::Branch::Unconditional;
      auto crop = [&](const torch::Tensor& t) { return t.narrow(2, r.y, r.height).narrow(3, r.x, r.width); };
      parts.push_back(denoiser_input(input.narrow(0, i, 1), crop(uncond ? no_layout : layout_latent),
                                     crop(inpaint_latent), spec));
      if (spec.class_vector) vectors.push_back(uncond ? class_uncond : class_cond);
    }
    auto batch = torch::cat(parts, 0);
    auto timesteps = torch::full({n}, call.timestep, torch::TensorOptions().device(context.device).dtype(torch::kFloat));
    auto labels = spec.class_vector ? torch::cat(vectors, 0) : torch::Tensor();
    try {
      return network.forward(batch, timesteps, labels);
    } catch (const c10::Error& error) {
      const std::string what = error.what();
      if (what.find("out of memory") != std::string::npos)
        throw EngineError(EngineError::Kind::OutOfMemory,
                          "the device ran out of memory for a batch of " + std::to_string(n) + " windows of " +
                              std::to_string(input.size(2) * f) + "x" + std::to_string(input.size(3) * f) +
                              " px; try a smaller --tile or a batch of 1");
      throw;
    }
  };

  const double guidance = request.sampler.guidance < 0 ? info.default_guidance : request.sampler.guidance;
  sched::GuidanceOptions guidance_options;
  guidance_options.scale = guidance;
  guidance_options.interval_start =
      request.sampler.guidance_start >= 0 ? request.sampler.guidance_start : info.guidance_interval[0];
  guidance_options.interval_end =
      request.sampler.guidance_end >= 0 ? request.sampler.guidance_end : info.guidance_interval[1];
  // Guidance by frequency: the guidance's coarse part (a Gaussian blur of its pixels) gets its
  // own, lower scale, so large areas keep their colours while small structures are guided.
  const double coarse_sigma =
      request.sampler.coarse_guidance_sigma >= 0 ? request.sampler.coarse_guidance_sigma : info.coarse_guidance_sigma;
  if (coarse_sigma > 0) {
    guidance_options.coarse_scale =
        request.sampler.coarse_guidance >= 0 ? request.sampler.coarse_guidance : info.coarse_guidance;
    guidance_options.coarse = [&spec, coarse_sigma](const torch::Tensor& difference) {
      return blur_latent(difference, spec, coarse_sigma);
    };
  }
  sched::ModelFn guided = sched::classifier_free_guidance(window_model, guidance_options);

  // The refiner sees the same windows as pixels (pixel_shuffle is a permutation, so its output
  // rearranged back is the prediction for the latent), with the layout at full resolution if it
  // takes one: below its timestep the image is formed and what is left is detail and noise.
  const bool use_detail = context.detail && request.sampler.detail;
  const bool use_refiner = request.sampler.refiner && context.refiner && !(use_detail && info.detail_skips_refiner);
  const int refine_below = use_refiner ? info.refiner_below_timestep : 0;
  sched::ModelFn stepped = guided;
  if (refine_below > 0) {
    DenoiserNetwork& refiner = *context.refiner;
    const bool refiner_classes = refiner.config().value("projection_class_embeddings_input_dim", 0) > 0;
    const torch::Tensor layout_pixels =
        manifest.refiner_layout ? layout_fractions(classes, num_classes, 1).to(options) : torch::Tensor();
    stepped = [&, refine_below, refiner_classes, layout_pixels](const torch::Tensor& input,
                                                                const sched::ModelCall& call) {
      if (!(call.timestep < refine_below)) return guided(input, call);
      const int64_t n = input.size(0);
      auto timesteps = torch::full({n}, call.timestep, torch::TensorOptions().device(context.device).dtype(torch::kFloat));
      auto labels = refiner_classes ? class_cond.expand({n, class_cond.size(1)}).contiguous() : torch::Tensor();
      auto pixels = torch::pixel_shuffle(input, f);
      if (layout_pixels.defined()) {
        std::vector<torch::Tensor> windows;
        for (int64_t i = 0; i < n; ++i) {
          const sched::Region& r = call.regions.at(static_cast<size_t>(i));
          windows.push_back(layout_pixels.narrow(2, r.y * f, r.height * f).narrow(3, r.x * f, r.width * f));
        }
        pixels = torch::cat({pixels, torch::cat(windows, 0).to(pixels.dtype())}, 1);
      }
      torch::Tensor refined;
      const double refiner_guidance = manifest.refiner_guidance;
      if (layout_pixels.defined() && refiner_guidance != 1.0) {
        // Guidance by the layout: the refiner with and without it (it learned both by dropout).
        auto without = pixels.clone();
        without.narrow(1, 3, num_classes).zero_();
        auto both = refiner.forward(torch::cat({pixels, without}, 0), torch::cat({timesteps, timesteps}, 0),
                                    labels.defined() ? torch::cat({labels, labels}, 0) : labels);
        auto cond = both.narrow(0, 0, n), uncond = both.narrow(0, n, n);
        refined = torch::pixel_unshuffle(uncond + refiner_guidance * (cond - uncond), f);
      } else {
        refined = torch::pixel_unshuffle(refiner.forward(pixels, timesteps, labels), f);
      }
      if (!(manifest.refiner_detail_sigma > 0)) return refined;
      // Structure (layout, guidance) from the main network, the finer detail from the refiner.
      const auto main = guided(input, call);
      const StepLevel level(*context.schedule, call.timestep);
      return level.output(merge_detail(level.x0(main, input), level.x0(refined, input), spec,
                                       manifest.refiner_detail_sigma),
                          input);
    };
  }
  tiling::TiledOptions tiled;
  tiled.mode = request.tiling.mode;
  const int64_t tile_px = request.tiling.tile > 0 ? request.tiling.tile : info.tile_size;
  tiled.window = std::max<int64_t>(net_multiple, round_up(tile_px, multiple) / f);
  const int64_t overlap_px = request.tiling.overlap >= 0 ? request.tiling.overlap : info.tile_overlap;
  tiled.overlap = std::min<int64_t>(tiled.window - 1, std::max<int64_t>(0, overlap_px / f));
  tiled.multiple = net_multiple;
  tiled.batch = request.tiling.batch > 0 ? request.tiling.batch : (context.device.is_cuda() ? 4 : 1);
  // With a detail decoder the sampling is the first 95 % of the progress, the decoder the rest.
  ProgressCallback sampling_progress = progress;
  if (use_detail && progress)
    sampling_progress = [&progress](const ProgressEvent& event) {
      ProgressEvent scaled = event;
      scaled.fraction = 0.95 * event.fraction;
      progress(scaled);
    };
  tiled.progress = sampling_progress;
  tiled.cancel = cancel;
  // Colour smoothing of each step's clean-image estimate (x0), the rest of the prediction kept:
  // out' is the output the network would have given for the smoothed x0 and the same x_t.
  const double chroma_sigma = request.sampler.chroma_smoothing >= 0 ? request.sampler.chroma_smoothing
                                                                    : info.chroma_smoothing;
  sched::ModelFn smoothed = stepped;
  if (chroma_sigma > 0) {
    const sched::NoiseSchedule& schedule = *context.schedule;
    smoothed = [&, chroma_sigma](const torch::Tensor& input, const sched::ModelCall& call) {
      const torch::Tensor out = stepped(input, call);
      const StepLevel level(schedule, call.timestep);
      if (!(level.sigma > 1e-6)) return out;
      return level.output(smooth_chroma(level.x0(out, input), spec, chroma_sigma), input);
    };
  }
  sched::ModelFn canvas_model = tiling::tiled_model(smoothed, tiled);

  sched::SamplerOptions sampler_options;
  sampler_options.steps = request.sampler.steps > 0 ? request.sampler.steps : info.default_steps;
  sampler_options.eta = request.sampler.eta >= 0 ? request.sampler.eta : info.default_eta;
  sampler_options.eta_min_timestep =
      request.sampler.eta_min_timestep >= 0 ? request.sampler.eta_min_timestep : info.eta_min_timestep;
  sampler_options.karras = request.sampler.karras;
  const std::string sampler_name = request.sampler.name.empty() ? info.default_sampler : request.sampler.name;
  auto sampler = sched::make_sampler(sampler_name, *context.schedule, sampler_options);

  const sched::CounterNoise generator(request.sampler.seed);
  sched::NoiseFn noise = sched::canvas_noise(generator, floor_div(request.origin_x, f), floor_div(request.origin_y, f),
                                             latent_w, latent_h, spec.latent_channels, context.device, context.dtype);
  sched::SampleCallbacks callbacks;
  callbacks.model = canvas_model;
  callbacks.noise = noise;
  callbacks.cancel = cancel;
  callbacks.progress = sampling_progress;
  torch::Tensor x = sched::initial_sample(*sampler, noise);
  sched::SampleResult sampled;
  if (has_known) {
    sched::InpaintOptions inpaint;
    inpaint.known = pixels_to_latent(known, spec).to(options);
    inpaint.mask = sched::mask_to_latent(mask, static_cast<int>(f)).to(options);
    inpaint.resample_jumps = request.resample_jumps;
    sampled = sched::sample_inpaint(*sampler, x, inpaint, callbacks);
  } else {
    sampled = sched::sample(*sampler, x, callbacks);
  }
  GenerateResult result;
  if (sampled.status == Status::Cancelled) {
    result.status = Status::Cancelled;
    return result;
  }
  auto pixels = latent_to_pixels(sampled.sample.to(torch::kCPU).to(torch::kFloat), spec)[0]
                    .narrow(1, 0, request.height)
                    .narrow(2, 0, request.width)
                    .contiguous();
  if (use_detail) {
    // The fine detail re-rendered from the image's 1/factor version, the layout, style and GSD.
    ProgressCallback detail_progress;
    if (progress)
      detail_progress = [&progress](const ProgressEvent& event) {
        ProgressEvent scaled = event;
        scaled.fraction = 0.95 + 0.05 * event.fraction;
        progress(scaled);
      };
    const int64_t detail_window = std::max<int64_t>(64, request.tiling.tile > 0 ? request.tiling.tile : info.tile_size);
    const DetailDecoder::Placement placement{request.sampler.seed, request.origin_x, request.origin_y};
    pixels = context.detail->apply(pixels.unsqueeze(0),
                                   classes.narrow(1, 0, request.height).narrow(2, 0, request.width), style,
                                   request.gsd, placement, static_cast<int>(detail_window), detail_progress, cancel);
    if (!pixels.defined()) {
      result.status = Status::Cancelled;
      return result;
    }
    pixels = pixels[0].contiguous();
  }
  result.image = Image(3, request.height, request.width);
  std::memcpy(result.image.data.data(), pixels.data_ptr<float>(), result.image.data.size() * sizeof(float));
  if (has_known) result.image = sched::composite_known(result.image, request.known, request.mask);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace terrasynth::engine
