#pragma once
// Samplers in the stable-diffusion.cpp / k-diffusion style: a sampler never sees the network. It
// asks a model callback for the raw network output at each step and turns it into the next sample.
//
// Assembling a generation (see docs/SAMPLING.md):
//   NoiseSchedule schedule(ScheduleConfig::load(dir + "/scheduler"));
//   auto sampler = make_sampler("dpmpp_2m", schedule, {steps, eta, karras});
//   ModelFn model = classifier_free_guidance(network_fn, {scale});   // sched/guidance.h
//   model = tiled_model(model, tiling_options);                         // tiling/tiled_sampler.h
//   NoiseFn noise = canvas_noise(CounterNoise(seed), window, channels);  // sched/noise.h
//   SampleResult r = sample(*sampler, initial_sample(*sampler, noise), {model, noise, ...});
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sched/schedule.h"
#include "terrasynth/engine/progress.h"

namespace terrasynth::engine::sched {

// Where one batch entry of a model input lies on the canvas, in latent pixels relative to the
// canvas origin. A plain (untiled) call has one region covering the whole canvas.
struct Region {
  int64_t x = 0;
  int64_t y = 0;
  int64_t width = 0;
  int64_t height = 0;
  bool operator==(const Region& o) const {
    return x == o.x && y == o.y && width == o.width && height == o.height;
  }
};

// Which conditioning a batch entry is evaluated with (classifier-free guidance).
enum class Branch { Conditional, Unconditional };

struct ModelCall {
  double timestep = 0;   // the network's timestep input (fractional for Euler)
  int step = 0;          // index of the sampling step, 0-based
  int total_steps = 0;
  int pass = 0;          // repetition of this step (inpainting resampling jumps), 0-based
  int passes = 1;
  std::vector<Region> regions;   // one per batch entry
  std::vector<Branch> branches;  // one per batch entry; empty = all conditional
  Branch branch(size_t entry) const {
    return entry < branches.size() ? branches[entry] : Branch::Conditional;
  }
};

// The network as the samplers see it: `input` [B, C, H, W] is the sample already scaled like
// diffusers' scale_model_input (variance-preserving x_t); returns the RAW output [B, C, H, W] of
// the schedule's prediction type. An undefined tensor means "cancelled": the sampler stops.
using ModelFn = std::function<torch::Tensor(const torch::Tensor& input, const ModelCall& call)>;

// Where noise is used; with the step and the pass it selects an independent noise stream.
enum class NoiseUse : uint32_t {
  Initial = 0,  // the starting sample x_T
  Step = 1,     // noise injected by a step (ancestral samplers, DDIM with eta > 0)
  Known = 2,    // noise that brings the known region of an inpainting to a step's level
  Jump = 3,     // noise of a resampling jump back to the previous level
  Detail = 4,   // noise inputs of a detail decoder (step = its upsampling stage)
};
// Standard-normal noise shaped like the sample, on the sample's device and dtype.
using NoiseFn = std::function<torch::Tensor(NoiseUse use, int step, int pass)>;

// Called after every step with the new sample (which it may modify in place or replace);
// returning false stops sampling (cancelled).
using StepFn = std::function<bool(int step, torch::Tensor& sample)>;

// One sampler run: the timesteps, noise levels and update rule. Stateful only through the history
// of multistep methods, which is keyed by step index so a step may be repeated (resampling jumps).
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;

  int steps() const { return static_cast<int>(timesteps_.size()); }
  // The network's timestep input at each step.
  const std::vector<double>& timesteps() const { return timesteps_; }
  // Level of the sample entering step i; level(steps()) is the level of the final sample.
  const NoiseLevel& level(int i) const { return levels_.at(static_cast<size_t>(i)); }
  // Standard deviation of x_T relative to unit noise (diffusers' init_noise_sigma).
  double init_noise_sigma() const { return init_noise_sigma_; }
  // Whether step i needs a standard-normal noise tensor.
  virtual bool stochastic(int step) const { return false; }

  // diffusers' scale_model_input: the variance-preserving network input.
  torch::Tensor scale_model_input(const torch::Tensor& sample, int step) const;
  // Advances `sample` from level(i) to level(i + 1) given the raw model output for
  // scale_model_input(sample, i) and, when stochastic(i), standard-normal `noise`.
  virtual torch::Tensor step(int i, const torch::Tensor& model_output, const torch::Tensor& sample,
                             const torch::Tensor& noise) = 0;
  // The clean-sample estimate of the last step (diffusers' pred_original_sample).
  const torch::Tensor& predicted_x0() const { return predicted_x0_; }
  const NoiseSchedule& schedule() const { return schedule_; }

 protected:
  explicit Sampler(const NoiseSchedule& schedule) : schedule_(schedule) {}
  void check_step(int i) const;

  NoiseSchedule schedule_;
  std::vector<double> timesteps_;
  std::vector<NoiseLevel> levels_;  // steps() + 1 entries
  double init_noise_sigma_ = 1;
  torch::Tensor predicted_x0_;
};

struct SamplerOptions {
  int steps = 20;
  double eta = 0;       // DDIM: 0 = deterministic, 1 = DDPM-like
  bool karras = false;  // Karras sigmas for Euler, Euler ancestral and DPM-Solver++ (DDIM ignores it)
  // DDIM: eta applies to the steps whose timestep is at least this; the steps below it are
  // deterministic. 0 = every step.
  double eta_min_timestep = 0;
};

// One factory per sampler file.
std::unique_ptr<Sampler> make_ddim(const NoiseSchedule& schedule, const SamplerOptions& options);
std::unique_ptr<Sampler> make_euler(const NoiseSchedule& schedule, const SamplerOptions& options);
std::unique_ptr<Sampler> make_euler_ancestral(const NoiseSchedule& schedule,
                                              const SamplerOptions& options);
std::unique_ptr<Sampler> make_dpmpp_2m(const NoiseSchedule& schedule, const SamplerOptions& options);

// Registry: "ddim", "euler", "euler_karras", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_karras"
// (the _karras names force Karras sigmas). An unknown name throws
// EngineError(InvalidArgument) listing the valid ones. options.karras ORs with the config's
// use_karras_sigmas.
std::unique_ptr<Sampler> make_sampler(const std::string& name, const NoiseSchedule& schedule,
                                      const SamplerOptions& options);
std::vector<std::string> sampler_names();

struct SampleCallbacks {
  ModelFn model;                     // required
  NoiseFn noise;                     // required by stochastic samplers
  StepFn on_step;                    // optional
  const CancelToken* cancel = nullptr;
  ProgressCallback progress;         // phase "denoise", one event per step
};

struct SampleResult {
  Status status = Status::Ok;
  torch::Tensor sample;  // the final sample (the last finished step's when cancelled)
  int steps_done = 0;
};

// x_T = noise(Initial, 0, 0) * init_noise_sigma.
torch::Tensor initial_sample(const Sampler& sampler, const NoiseFn& noise);

// Runs every step from `x` (at level(0)). Cancellation (token, callback, undefined model output)
// stops before the next model call, so at most one step's work is spent after a cancel.
SampleResult sample(Sampler& sampler, torch::Tensor x, const SampleCallbacks& callbacks);

// One step i (pass `pass` of `passes`): scale, call the model, draw the step noise, update.
// Returns an undefined tensor when the model callback cancelled.
torch::Tensor model_step(Sampler& sampler, int i, const torch::Tensor& x,
                         const SampleCallbacks& callbacks, int pass = 0, int passes = 1);

}  // namespace terrasynth::engine::sched
