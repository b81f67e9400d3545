#pragma once
// Model callbacks with known answers, shared by the sampling and tiling tests.
#include <torch/torch.h>

#include <cmath>

#include "sched/sampler.h"
#include "sched/schedule.h"

namespace terrasynth::engine::test {

// Runs the scope's torch CPU work on one thread. The sampling tests make many small tensor
// operations, which torch would split over threads; on a busy shared machine the thread
// hand-offs then cost more than the work. Results do not depend on the thread count.
class SingleThreaded {
 public:
  SingleThreaded() : previous_(at::get_num_threads()) { at::set_num_threads(1); }
  ~SingleThreaded() { at::set_num_threads(previous_); }
  SingleThreaded(const SingleThreaded&) = delete;
  SingleThreaded& operator=(const SingleThreaded&) = delete;

 private:
  int previous_;
};

// The SD-1.x schedule of the diffusers fixtures, with a chosen prediction type and spacing.
inline sched::ScheduleConfig sd_config(sched::PredictionType prediction,
                                       sched::TimestepSpacing spacing = sched::TimestepSpacing::Linspace) {
  sched::ScheduleConfig c;
  c.num_train_timesteps = 1000;
  c.beta_start = 0.00085;
  c.beta_end = 0.012;
  c.beta_schedule = sched::BetaSchedule::ScaledLinear;
  c.prediction_type = prediction;
  c.steps_offset = 1;
  c.timestep_spacing = spacing;
  c.set_alpha_to_one = false;
  c.clip_sample = false;
  return c;
}

// The ideal denoiser for data x0 ~ N(mu, s^2) independently per value. For the
// variance-preserving input x = a x0 + sigma eps (a^2 = alpha_bar(t), the level the timestep
// names), E[x0 | x] = mu + a s^2 (x - a mu) / (a^2 s^2 + sigma^2); the output is that estimate
// expressed in the schedule's prediction type. It is pointwise: each output value depends on the
// input value at the same place only.
inline sched::ModelFn gaussian_denoiser(const sched::NoiseSchedule& schedule, double mu, double s) {
  return [&schedule, mu, s](const torch::Tensor& x, const sched::ModelCall& call) {
    const double ab = schedule.alpha_bar_at(call.timestep);
    const double a = std::sqrt(ab);
    const double sigma = std::sqrt(1 - ab);
    const torch::Tensor x0 = mu + (a * s * s / (a * a * s * s + sigma * sigma)) * (x - a * mu);
    const torch::Tensor eps = (x - a * x0) / sigma;
    return sched::prediction_target(schedule.prediction_type(), x0, eps, a, sigma);
  };
}

}  // namespace terrasynth::engine::test
