// terrasynth evaluate: layout fidelity and realism of a model on a folder of pairs.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "sampler_tuning.h"
#include "terrasynth/pipeline/evaluate.h"

namespace terrasynth::cli {

namespace {

int run_evaluate_command(const Args& args, const Output& out) {
  pipeline::EvaluateOptions options;
  options.model = args.get("model", "terrasynth-base");
  options.pairs = args.require("pairs");
  options.dataset = args.require("dataset");
  if (options.dataset != "recife" && options.dataset != "landcoverai" && options.dataset != "dubai")
    throw UsageError("--dataset must be recife, landcoverai or dubai, got '" + options.dataset +
                     "'");
  options.segmenter = args.get("segmenter");
  const long long limit = args.get_int("limit", 0);
  if (limit < 0) throw UsageError("--limit must be 0 (all) or more");
  options.limit = static_cast<size_t>(limit);
  const long long seed = args.get_int("seed", 0);
  if (seed < 0) throw UsageError("--seed must be 0 or more");
  options.seed = static_cast<uint64_t>(seed);
  options.sampling.seed = options.seed;
  const long long size = args.get_int("size", 256);
  if (size < 64 || size > 2048 || size % 32 != 0)
    throw UsageError("--size must be a multiple of 32 between 64 and 2048");
  options.size = static_cast<int>(size);
  options.gallery = args.get("gallery");
  const long long rows = args.get_int("gallery-rows", 8);
  if (rows < 1 || rows > 64) throw UsageError("--gallery-rows must be between 1 and 64");
  options.gallery_rows = static_cast<int>(rows);
  options.sampling.sampler = args.get("sampler");
  const long long steps = args.get_int("steps", 0);
  if (steps < 0 || steps > 1000) throw UsageError("--steps must be between 1 and 1000");
  options.sampling.steps = static_cast<int>(steps);
  options.sampling.guidance = args.get_double("guidance", -1);
  if (args.has("guidance") && !(options.sampling.guidance >= 0))
    throw UsageError("--guidance must be 0 or more (1 = no guidance)");
  read_sampler_tuning(args, options.sampling);
  options.sampling.texture_bank = args.get("texture-bank");
  options.device.device = args.get("device", "auto");
  const long long threads = args.get_int("threads", 0);
  if (threads < 0) throw UsageError("--threads must be 0 (all cores) or more");
  options.device.threads = static_cast<int>(threads);

  ProgressPrinter printer(out.json());
  pipeline::JobControl control;
  control.cancel = &interrupt_flag();
  control.progress = [&](double fraction, const std::string& label) {
    printer.update(fraction, label);
  };
  control.warning = [&](const std::string& message) { out.warning(message); };
  const pipeline::EvaluateReport report = pipeline::run_evaluate(options, control);
  printer.finish();
  if (report.cancelled) {
    std::cerr << "terrasynth evaluate: cancelled" << std::endl;
    return kExitCancelled;
  }
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < report.classes.size(); ++c) {
    per_class[report.classes[c]] = {
        {"iou_generated", c < report.iou_generated_per_class.size()
                              ? nlohmann::json(report.iou_generated_per_class[c])
                              : nlohmann::json()},
        {"iou_real", c < report.iou_real_per_class.size()
                         ? nlohmann::json(report.iou_real_per_class[c])
                         : nlohmann::json()}};
  }
  const nlohmann::json document = {{"ok", true},
                                   {"model", report.model},
                                   {"dataset", report.dataset},
                                   {"pairs", report.pairs},
                                   {"pairs_found", report.pairs_found},
                                   {"skipped_training", report.skipped_training},
                                   {"evaluated", report.evaluated},
                                   {"size", options.size},
                                   {"seed", options.seed},
                                   {"miou_generated", report.miou_generated},
                                   {"miou_real", report.miou_real},
                                   {"fidelity_ratio", report.fidelity_ratio},
                                   {"kid", report.kid},
                                   {"kid_real_baseline", report.kid_real_baseline},
                                   {"per_class", per_class},
                                   {"gallery", report.gallery},
                                   {"texture", report.texture},
                                   {"seconds", report.seconds},
                                   {"seconds_per_image", report.seconds_per_image}};
  std::ostringstream text;
  text << std::fixed << std::setprecision(4);
  text << report.model << " on " << report.dataset << ": " << report.evaluated << " pairs ("
       << report.pairs_found << " found, " << report.skipped_training
       << " skipped as training data)\n";
  text << "  miou_generated     " << report.miou_generated << "\n";
  text << "  miou_real          " << report.miou_real << "\n";
  text << "  ratio              " << report.fidelity_ratio << "\n";
  text << "  kid                " << report.kid << "\n";
  text << "  kid_real_baseline  " << report.kid_real_baseline << "\n";
  text << std::setprecision(1) << "  time               " << report.seconds << " s ("
       << report.seconds_per_image << " s per image)";
  if (!report.gallery.empty()) text << "\n  gallery            " << report.gallery;
  out.result(document, text.str());
  return kExitOk;
}

}  // namespace

Command evaluate_command() {
  CommandSpec spec;
  spec.name = "evaluate";
  spec.summary = "measure a model's layout fidelity and realism on a folder of pairs";
  spec.usage =
      "--pairs DIR --dataset recife|landcoverai|dubai [--model NAME|DIR] [--limit N] [--seed S]\n"
      "         [--gallery OUT.png] [--segmenter DIR] [--size PX] [--steps N] [--json]";
  spec.description =
      "Generates an image from the layout of each pair (centre crop of --size pixels, the\n"
      "dataset's style and ground resolution) and reports: miou_generated, the mIoU of the\n"
      "project's segmentation network on the generated images against the conditioning layout;\n"
      "miou_real, the same network's mIoU on the real images; their ratio; kid, a kernel\n"
      "(KID-style) distance between features of generated and real images; and\n"
      "kid_real_baseline, the same distance between two disjoint halves of the real images.\n"
      "Pairs listed in the model's training_items.json are skipped, so a training folder is\n"
      "measured on its validation blocks only. --gallery writes layout | real | generated rows.";
  spec.options = {
      {"model", "NAME|DIR", "model name or folder (default: terrasynth-base)"},
      {"pairs", "DIR", "folder of NAME.jpg + NAME_label.png pairs"},
      {"dataset", "NAME", "label colours, GSD and style of the pairs: recife, landcoverai, dubai"},
      {"limit", "N", "evaluate at most N pairs (default: all)"},
      {"seed", "S", "random seed of the generation (default 0)"},
      {"gallery", "OUT.png", "write a gallery of layout | real | generated"},
      {"gallery-rows", "N", "rows in the gallery (default 8)"},
      {"segmenter", "DIR", "segmentation network folder (default: the model's eval/)"},
      {"size", "PX", "centre crop evaluated, in pixels (default 256)"},
      {"sampler", "NAME", "sampler (default: the model's)"},
      {"steps", "N", "denoising steps (default: the model's)"},
      {"guidance", "G", "guidance scale (default: the model's)"},
      {"texture-bank", "DIR", "rebuild the fine detail from this bank's photos (terrasynth textures)"},
      {"device", "auto|cpu|cuda", "compute device (default auto)"},
      {"threads", "N", "CPU threads (default: all cores)"},
  };
  const auto tuning = sampler_tuning_options();
  spec.options.insert(spec.options.end() - 2, tuning.begin(), tuning.end());  // before device, threads
  return Command{spec, run_evaluate_command};
}

}  // namespace terrasynth::cli
