// terrasynth textures: builds a model's texture bank from the training split of the data.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "terrasynth/pipeline/texture.h"

namespace terrasynth::cli {

namespace {

int run_textures_command(const Args& args, const Output& out) {
  pipeline::TextureBankOptions options;
  options.data_root = args.require("data");
  options.out_dir = args.require("out");
  if (args.has("styles")) {
    options.styles.clear();
    std::stringstream list(args.get("styles"));
    std::string style;
    while (std::getline(list, style, ','))
      if (!style.empty()) options.styles.push_back(style);
    if (options.styles.empty()) throw UsageError("--styles needs at least one source name");
  }
  const long long per_style = args.get_int("per-style", 40);
  if (per_style < 1 || per_style > 256) throw UsageError("--per-style must be between 1 and 256");
  options.per_style = static_cast<int>(per_style);
  const long long size = args.get_int("size", 256);
  if (size < 32 || size > 1024) throw UsageError("--size must be between 32 and 1024");
  options.size = static_cast<int>(size);
  const long long seed = args.get_int("seed", 0);
  if (seed < 0) throw UsageError("--seed must be 0 or more");
  options.seed = static_cast<uint64_t>(seed);
  ProgressPrinter printer(out.json());
  options.progress = [&](double fraction, const std::string& label) { printer.update(fraction, label); };
  options.cancel = &interrupt_flag();
  const pipeline::TextureBankReport report = pipeline::build_texture_bank(options);
  printer.finish();
  if (report.cancelled) {
    std::cerr << "terrasynth textures: cancelled" << std::endl;
    return kExitCancelled;
  }
  nlohmann::json styles = nlohmann::json::object();
  std::ostringstream text;
  text << std::fixed << std::setprecision(3) << "texture bank in " << options.out_dir << "\n";
  for (const auto& [style, shares] : report.class_shares) {
    styles[style] = {{"items", report.items.at(style)}, {"class_shares", shares}};
    text << "  " << style << ": " << report.items.at(style).size() << " photos;";
    for (const auto& [name, share] : shares)
      if (share > 0) text << " " << name << " " << share;
    text << "\n";
  }
  out.result({{"ok", true}, {"out", options.out_dir}, {"styles", styles}}, text.str());
  return kExitOk;
}

}  // namespace

Command textures_command() {
  CommandSpec spec;
  spec.name = "textures";
  spec.summary = "build a model's texture bank from the training split of the data";
  spec.usage = "--data DIR --out DIR [--styles a,b] [--per-style N] [--size PX] [--seed S] [--json]";
  spec.description =
      "Chooses, per style, the training-split crops of the labelled pairs under DIR/pairs/ that\n"
      "together cover the classes most evenly and writes them (photo and class map PNGs) with a\n"
      "bank.json manifest into --out. A model folder's texture/ holds such a bank; generation\n"
      "rebuilds the fine detail of its images from these photos (docs/SAMPLING.md, texture step).";
  spec.options = {
      {"data", "DIR", "data folder holding pairs/<source>/ (e.g. ../shared/data)"},
      {"out", "DIR", "output folder (e.g. resources/models/terrasynth-base/texture)"},
      {"styles", "LIST", "comma-separated sources (default recife,landcoverai,dubai)"},
      {"per-style", "N", "photos per style (default 40)"},
      {"size", "PX", "photo size in pixels (default 256)"},
      {"seed", "S", "tie-breaking seed (default 0)"},
  };
  return Command{spec, run_textures_command};
}

}  // namespace terrasynth::cli
