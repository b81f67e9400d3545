// terrasynth train: trains the default model, its detail decoder or the evaluation segmenter from a
// configuration.
#include <nlohmann/json.hpp>

#include <sstream>

#include "commands.h"
#include "terrasynth/pipeline/training.h"

namespace terrasynth::cli {

namespace {

int run_train(const Args& args, const Output& out) {
  const std::string config = args.require("config");
  nlohmann::json overrides = nlohmann::json::object();
  if (args.has("steps")) overrides["steps"] = args.get_int("steps", 0);
  if (args.has("output")) overrides["output_dir"] = args.get("output");
  if (args.has("resume")) overrides["resume"] = args.get("resume");
  if (args.has("threads")) overrides["threads"] = args.get_int("threads", 0);
  if (args.has("device")) overrides["device"] = args.get("device");
  if (args.has("limit")) overrides["data"]["limit"] = args.get_int("limit", 0);
  if (args.has("set")) {
    for (const auto& item : args.all("set")) {
      const auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError("--set expects KEY=JSON, got '" + item + "'");
      try {
        overrides[item.substr(0, eq)] = nlohmann::json::parse(item.substr(eq + 1));
      } catch (const nlohmann::json::exception&) {
        overrides[item.substr(0, eq)] = item.substr(eq + 1);
      }
    }
  }
  ProgressPrinter printer(out.json());
  pipeline::JobControl control;
  control.cancel = &interrupt_flag();
  control.progress = [&](double fraction, const std::string& label) { printer.update(fraction, label); };
  const auto result = pipeline::run_training(config, overrides.dump(), control);
  printer.finish();
  nlohmann::json doc{{"ok", !result.cancelled},
                     {"cancelled", result.cancelled},
                     {"kind", result.kind},
                     {"first_step", result.first_step},
                     {"steps", result.steps_done},
                     {"first_loss", result.first_loss},
                     {"last_loss", result.last_loss},
                     {"fixed_loss_before", result.fixed_loss_before},
                     {"fixed_loss_after", result.fixed_loss_after},
                     {"checkpoint", result.checkpoint},
                     {"model_dir", result.model_dir},
                     {"training_items", result.training_items},
                     {"seconds", result.seconds}};
  if (result.kind == "detail") {
    doc["low_pass_error_before"] = result.low_pass_error_before;
    doc["low_pass_error_after"] = result.low_pass_error_after;
    doc["detail_ratio_before"] = result.detail_ratio_before;
    doc["detail_ratio_after"] = result.detail_ratio_after;
  }
  std::ostringstream text;
  text << (result.cancelled ? "cancelled" : "trained") << " " << result.kind << " to step "
       << result.steps_done << " (loss " << result.first_loss << " -> " << result.last_loss << ", "
       << result.training_items << " training items, " << result.seconds << " s)";
  if (result.kind == "diffusion")
    text << "\nfixed-batch loss " << result.fixed_loss_before << " -> " << result.fixed_loss_after;
  if (result.kind == "detail")
    text << "\nfixed batch: low-pass error " << result.low_pass_error_before << " -> " << result.low_pass_error_after
         << ", fine detail / photos' " << result.detail_ratio_before << " -> " << result.detail_ratio_after;
  if (!result.model_dir.empty()) text << "\nmodel: " << result.model_dir;
  if (!result.checkpoint.empty()) text << "\ncheckpoint: " << result.checkpoint;
  out.result(doc, text.str());
  return result.cancelled ? kExitCancelled : kExitOk;
}

}  // namespace

Command train_command() {
  return {{"train",
           "train the default model, its detail decoder or the evaluation segmenter",
           "--config FILE [--steps N] [--output DIR] [--resume CHECKPOINT|auto] [--threads N]",
           "Trains with the project's own engine networks on folders in the ../shared data format.\n"
           "Checkpoints are resumable; a loss log (loss.tsv) and sample grids (samples/) are written\n"
           "to the output folder. Ctrl-C stops cleanly after the current step and saves a checkpoint.",
           {{"config", "FILE", "training configuration (JSON, see docs/TRAINING.md)"},
            {"steps", "N", "override the number of steps"},
            {"output", "DIR", "override the output folder"},
            {"resume", "CHECKPOINT", "resume from a checkpoint file, or 'auto' for the latest"},
            {"threads", "N", "CPU threads (default: all cores)"},
            {"device", "auto|cpu|cuda", "compute device"},
            {"limit", "N", "use at most N items per data source"},
            {"set", "KEY=JSON", "override any top-level configuration key", true}}},
          run_train};
}

}  // namespace terrasynth::cli
