// terrasynth bench: how fast the engine generates on this machine.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "terrasynth/engine/device.h"
#include "terrasynth/engine/model.h"
#include "terrasynth/pipeline/models.h"
#include "terrasynth/pipeline/texture.h"

namespace terrasynth::cli {

namespace {

// A layout with every class: blocks of buildings along a road grid, a river band, fields.
engine::ClassMap bench_layout(int width, int height, size_t classes) {
  engine::ClassMap map(height, width);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t id = 3;  // vegetation
      const int bx = x % 96, by = y % 96;
      if (bx < 10 || by < 10)
        id = 2;  // road
      else if (bx > 24 && bx < 70 && by > 24 && by < 70)
        id = 1;  // building
      if (y > height * 5 / 8 && y < height * 6 / 8) id = 4;  // water
      if (x > width * 3 / 4 && y < height / 3) id = 5;       // bare
      if (id >= classes) id = 0;
      map.at(y, x) = id;
    }
  return map;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

struct Run {
  std::string label;
  int steps = 0;
  double guidance = 0;
  std::vector<double> seconds;
  bool refiner = true;
  bool texture = false;  // the default run plus the texture step (--texture-bank)
  bool detail = true;    // the model's detail decoder, if it has one
  std::string ratio_key;   // JSON key of default / this run
  std::string ratio_text;  // its label in the text report
  double median() const {
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
  }
};

int run_bench(const Args& args, const Output& out) {
  const std::string model_dir = pipeline::resolve_model(args.get("model", "terrasynth-base"));
  engine::DeviceOptions device;
  device.device = engine::parse_device_kind(args.get("device", "auto"));
  const long long threads = args.get_int("threads", 0);
  if (threads < 0) throw UsageError("--threads must be 0 (all cores) or more");
  device.threads = static_cast<int>(threads);
  const long long size = args.get_int("size", 512);
  if (size < 32 || size > 8192) throw UsageError("--size must be between 32 and 8192 pixels");
  const long long repeat = args.get_int("repeat", 3);
  if (repeat < 1 || repeat > 100) throw UsageError("--repeat must be between 1 and 100");

  const auto load_start = std::chrono::steady_clock::now();
  const auto model = engine::Model::load(model_dir, device);
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const engine::ModelInfo& info = model->info();
  const long long steps = args.get_int("steps", info.default_steps);
  if (steps < 1 || steps > 1000) throw UsageError("--steps must be between 1 and 1000");
  const double guidance = args.get_double("guidance", info.default_guidance);
  if (!(guidance >= 0)) throw UsageError("--guidance must be 0 or more");

  engine::GenerateRequest request;
  request.width = request.height = static_cast<int>(size);
  request.layout = bench_layout(request.width, request.height, info.classes.size());
  request.gsd = info.native_gsd;
  request.sampler.name = args.get("sampler");
  request.sampler.seed = 1;

  engine::CancelToken cancel;
  auto progress = [&](const engine::ProgressEvent&) {
    if (interrupt_flag().load()) cancel.cancel();
  };
  // Timed configurations: the default one, and a single-pass baseline (guidance 1: one network
  // evaluation per step instead of two) measured in the same run for a ratio.
  std::vector<Run> runs = {{"default", static_cast<int>(steps), guidance, {}, true, false, true, "", ""}};
  if (guidance != 1.0 && !args.flag("no-baseline"))
    runs.push_back({"no-guidance baseline", static_cast<int>(steps), 1.0, {}, true, false, true,
                    "default_over_baseline", "default / baseline"});
  // A model with a refiner: the same default run with the main network on every step.
  if (info.refiner_below_timestep > 0 && !(info.detail_decoder && info.detail_skips_refiner) &&
      !args.flag("no-baseline"))
    runs.push_back({"without refiner", static_cast<int>(steps), guidance, {}, false, false, true,
                    "default_over_no_refiner", "default / no refiner"});
  // A model with a detail decoder: the same default run without it.
  if (info.detail_decoder && !args.flag("no-baseline"))
    runs.push_back({"without detail decoder", static_cast<int>(steps), guidance, {}, true, false, false,
                    "default_over_no_detail", "default / no detail"});
  // With a texture bank: the default run followed by the texture step, timed together.
  const std::string bank = args.get("texture-bank");
  if (!bank.empty())
    runs.push_back({"with texture bank", static_cast<int>(steps), guidance, {}, true, true, true, "", ""});
  std::string texture_note;

  out.info("bench: " + info.name + " on " + model->device_description() + ", " +
           std::to_string(size) + " x " + std::to_string(size) + " px, " +
           std::to_string(steps) + " steps");
  // Warm-up (allocator, kernels, CUDA context): one step.
  {
    engine::GenerateRequest warm = request;
    warm.sampler.steps = 1;
    warm.sampler.guidance = guidance;
    if (model->generate(warm, progress, &cancel).status == engine::Status::Cancelled)
      return kExitCancelled;
  }
  for (auto& run : runs) {
    request.sampler.steps = run.steps;
    request.sampler.guidance = run.guidance;
    request.sampler.refiner = run.refiner;
    request.sampler.detail = run.detail;
    for (long long i = 0; i < repeat; ++i) {
      auto result = model->generate(request, progress, &cancel);
      if (result.status == engine::Status::Cancelled) {
        std::cerr << "terrasynth bench: cancelled" << std::endl;
        return kExitCancelled;
      }
      double seconds = result.seconds;
      if (run.texture) {
        const auto started = std::chrono::steady_clock::now();
        const std::string style = info.default_style;
        const auto note = pipeline::apply_texture_bank(bank, static_cast<int>(info.classes.size()), style,
                                                       request.gsd, result.image, request.layout, 1,
                                                       &interrupt_flag());
        if (!note) {
          std::cerr << "terrasynth bench: cancelled" << std::endl;
          return kExitCancelled;
        }
        if (note->empty())
          throw UsageError(bank + ": no photos of style '" + style + "' usable at the model's GSD");
        texture_note = *note;
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      }
      run.seconds.push_back(seconds);
      out.info("  " + run.label + " run " + std::to_string(i + 1) + ": " +
               std::to_string(result.seconds) + " s");
    }
  }

  const double megapixels = static_cast<double>(size) * static_cast<double>(size) / 1e6;
  nlohmann::json list = nlohmann::json::array();
  std::ostringstream text;
  text << std::fixed << std::setprecision(3);
  text << info.name << " on " << model->device_description() << " (" << size << " x " << size
       << " px, " << steps << " steps, median of " << repeat << ")\n";
  for (const auto& run : runs) {
    const double seconds = run.median();
    list.push_back({{"label", run.label},
                    {"steps", run.steps},
                    {"guidance", run.guidance},
                    {"refiner", run.refiner && info.refiner_below_timestep > 0 &&
                                    !(run.detail && info.detail_decoder && info.detail_skips_refiner)},
                    {"detail_decoder", run.detail && info.detail_decoder},
                    {"seconds", seconds},
                    {"seconds_per_step", seconds / run.steps},
                    {"megapixels_per_second", megapixels / seconds},
                    {"all_seconds", run.seconds}});
    text << "  " << std::left << std::setw(22) << run.label << std::right << seconds << " s, "
         << seconds / run.steps << " s/step, " << megapixels / seconds << " Mpx/s\n";
  }
  const double seconds = runs.front().median();
  nlohmann::json document = {{"ok", true},
                             {"model", info.name},
                             {"model_dir", model_dir},
                             {"device", model->device_description()},
                             {"width", size},
                             {"height", size},
                             {"steps", steps},
                             {"sampler", request.sampler.name.empty() ? info.default_sampler
                                                                      : request.sampler.name},
                             {"guidance", guidance},
                             {"repeat", repeat},
                             {"load_seconds", load_seconds},
                             {"seconds", seconds},
                             {"seconds_per_step", seconds / static_cast<double>(steps)},
                             {"megapixels_per_second", megapixels / seconds},
                             {"peak_rss_mb", peak_rss_mb()},
                             {"runs", list}};
  for (const auto& run : runs) {
    if (&run == &runs.front()) continue;
    const double ratio = seconds / run.median();
    if (run.texture) {
      document["texture_over_default"] = run.median() / seconds;
      document["texture"] = texture_note;
      text << "  texture / default      " << run.median() / seconds << "x (" << texture_note << ")\n";
    } else {
      document[run.ratio_key] = ratio;
      text << "  " << std::left << std::setw(22) << run.ratio_text << std::right << " " << ratio << "x\n";
    }
  }
  text << "  model load " << load_seconds << " s, peak RSS " << std::setprecision(0)
       << peak_rss_mb() << " MB";
  out.result(document, text.str());
  return kExitOk;
}

}  // namespace

Command bench_command() {
  CommandSpec spec;
  spec.name = "bench";
  spec.summary = "measure generation speed on this machine";
  spec.usage =
      "[--model NAME|DIR] [--device auto|cpu|cuda] [--threads N] [--size PX] [--steps N]\n"
      "         [--sampler NAME] [--guidance G] [--repeat N] [--no-baseline] [--texture-bank DIR] [--json]";
  spec.description =
      "Loads a model, warms up with one step, then times the default generation of a\n"
      "--size x --size pixel image with a synthetic layout (median of --repeat runs) and, as a\n"
      "baseline measured in the same run, the same generation without guidance (one network\n"
      "evaluation per step) and, for a model with a refiner or a detail decoder, the default\n"
      "generation without each. With --texture-bank, also the default generation followed by the texture step. Reports\n"
      "seconds, seconds per step, megapixels per second, the ratios and the peak resident memory.";
  spec.options = {
      {"model", "NAME|DIR", "model name or folder (default: terrasynth-base)"},
      {"device", "auto|cpu|cuda", "compute device (default auto)"},
      {"threads", "N", "CPU threads (default: all cores)"},
      {"size", "PX", "image side in pixels (default 512)"},
      {"steps", "N", "denoising steps (default: the model's)"},
      {"sampler", "NAME", "sampler (default: the model's)"},
      {"guidance", "G", "guidance scale (default: the model's)"},
      {"repeat", "N", "timed runs per configuration (default 3)"},
      {"no-baseline", "", "skip the no-guidance, no-refiner and no-detail baselines"},
      {"texture-bank", "DIR", "also time the default generation followed by this bank's texture step"},
  };
  return Command{spec, run_bench};
}

}  // namespace terrasynth::cli
