// terrasynth inpaint: regenerates the masked part of a raster from the real pixels around it.
#include <iomanip>
#include <iostream>
#include <sstream>
#include <tuple>

#include "commands.h"
#include "sampler_tuning.h"
#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::cli {

namespace {

int bounded_int(const Args& args, const std::string& name, int minimum) {
  const long long value = args.get_int(name, minimum);
  if (value < minimum || value > 1000000)
    throw UsageError("--" + name + " must be at least " + std::to_string(minimum) + ", got " +
                     std::to_string(value));
  return static_cast<int>(value);
}

int run_inpaint(const Args& args, const Output& out) {
  pipeline::InpaintJob job;
  job.raster = args.require("raster");
  std::tie(job.mask_path, job.mask_layer) = split_path_layer(args.require("mask"));
  job.output = args.require("out");
  if (args.has("layout") && args.has("osm")) throw UsageError("give --layout or --osm, not both");
  if (args.has("layout")) {
    std::tie(job.layout.path, job.layout.layer) = split_path_layer(args.get("layout"));
    job.layout.class_field = args.get("class-field");
  } else if (args.has("osm")) {
    job.layout.path = args.get("osm");
    job.layout.osm_mapping = args.get("osm-classes");
    if (args.has("osm-background")) job.layout.osm_background = args.get("osm-background");
    if (!job.layout.is_osm())
      throw UsageError("--osm expects an OpenStreetMap extract (.osm or .pbf)");
  }
  if (args.has("class-field") && !args.has("layout"))
    throw UsageError("--class-field needs --layout");
  if (args.has("osm-classes") && !args.has("osm")) throw UsageError("--osm-classes needs --osm");
  if (args.has("osm-background") && !args.has("osm")) throw UsageError("--osm-background needs --osm");
  job.grow_m = args.get_double("grow", 0);
  if (!(job.grow_m >= 0)) throw UsageError("--grow must be 0 or more metres");
  job.feather_m = args.get_double("feather", -1);
  if (args.has("feather") && !(job.feather_m >= 0))
    throw UsageError("--feather must be 0 or more metres");
  job.gsd = args.get_double("gsd", 0);
  if (args.has("gsd") && !(job.gsd > 0))
    throw UsageError("--gsd must be a positive number of metres per pixel");
  job.scene = args.get("scene");
  job.style = args.get("style");
  job.model = args.get("model");
  job.sampling.sampler = args.get("sampler");
  job.sampling.steps = args.has("steps") ? bounded_int(args, "steps", 1) : 0;
  job.sampling.guidance = args.get_double("guidance", -1);
  if (args.has("guidance") && !(job.sampling.guidance >= 0))
    throw UsageError("--guidance must be 0 or more (1 = no guidance)");
  const long long seed = args.get_int("seed", 0);
  if (seed < 0) throw UsageError("--seed must be 0 or more");
  job.sampling.seed = static_cast<uint64_t>(seed);
  job.tiles.tile = args.has("tile") ? bounded_int(args, "tile", 16) : 0;
  job.tiles.overlap = args.has("overlap") ? bounded_int(args, "overlap", 0) : -1;
  job.tiles.chunk = args.has("chunk") ? bounded_int(args, "chunk", 64) : 0;
  job.tiles.fast = args.flag("fast");
  job.device.device = args.get("device", "auto");
  job.device.threads = args.has("threads") ? bounded_int(args, "threads", 1) : 0;
  job.cog = args.flag("cog");
  job.write_stac = !args.flag("no-stac");
  job.auto_layout = !args.flag("no-auto-layout");
  job.harmonise = !args.flag("no-harmonise");
  job.texture = !args.flag("no-texture");
  read_sampler_tuning(args, job.sampling);

  ProgressPrinter printer(out.json());
  pipeline::JobControl control;
  control.cancel = &interrupt_flag();
  control.progress = [&](double fraction, const std::string& label) {
    printer.update(fraction, label);
  };
  control.warning = [&](const std::string& message) { out.warning(message); };
  const pipeline::JobResult result = pipeline::run_inpaint(job, control);
  printer.finish();
  if (result.cancelled) {
    std::cerr << "terrasynth inpaint: cancelled; no output written" << std::endl;
    return kExitCancelled;
  }
  nlohmann::json provenance = nlohmann::json::object();
  for (const auto& [key, value] : result.provenance) provenance[key] = value;
  nlohmann::json document{{"ok", true},
                          {"output", result.output},
                          {"stac", result.stac},
                          {"width", result.plan.width},
                          {"height", result.plan.height},
                          {"work_width", result.plan.work_width},
                          {"work_height", result.plan.work_height},
                          {"work_gsd", result.plan.work_gsd},
                          {"seconds", result.seconds},
                          {"warnings", result.warnings},
                          {"provenance", provenance}};
  std::ostringstream text;
  text << "wrote " << result.output << ": " << result.plan.width << " x " << result.plan.height
       << " px; regenerated at " << std::setprecision(3) << result.plan.work_gsd << " m/px on "
       << result.plan.work_width << " x " << result.plan.work_height << " working px ("
       << std::fixed << std::setprecision(1) << result.seconds << " s)";
  if (!result.stac.empty()) text << "\nSTAC item: " << result.stac;
  out.result(document, text.str());
  return kExitOk;
}

}  // namespace

Command inpaint_command() {
  CommandSpec spec;
  spec.name = "inpaint";
  spec.summary = "regenerate the masked part of a raster from its surroundings";
  spec.usage =
      "--raster IN.tif --mask FILE[:LAYER]|MASK.tif --out OUT.tif [--layout FILE[:LAYER] | --osm "
      "FILE]\n"
      "         [--grow M] [--feather M] [--gsd M] [--scene CLASS] [--style NAME] [--model "
      "NAME|DIR]\n"
      "         [--sampler NAME --steps N --guidance G --seed S] [--device auto|cpu|cuda] "
      "[--threads N] [--cog]\n"
      "         [--no-auto-layout] [--no-harmonise] [--no-texture]";
  spec.description =
      "Regenerates the pixels under the mask (polygons of a vector layer, or the non-zero pixels\n"
      "of a raster of the same size), grown by --grow metres and blended over --feather metres,\n"
      "conditioned on the real pixels around them. Every other pixel of the output equals the\n"
      "input byte for byte; CRS, geotransform, bands, data type and nodata are kept, and nodata\n"
      "pixels never change. The masked area and its context are processed at a GSD inside the\n"
      "model's trained range and resampled back (with a warning when the raster is much finer or\n"
      "coarser). Bands beyond RGB (e.g. near infrared) are predicted from the new RGB by a linear\n"
      "regression fitted on the surrounding pixels; non-8-bit RGB is scaled by robust percentiles\n"
      "of the surroundings and back. Images without georeferencing need --gsd.\n"
      "Without --layout or --osm, the model's segmenter labels the surroundings and their classes\n"
      "are continued into the masked area as its layout, so roads, fields and tree lines go on\n"
      "across it. The regenerated pixels are then harmonised with their surroundings: local tone\n"
      "matched along the border (the correction fades smoothly inwards) and pixel-level grain\n"
      "reduced to the surroundings' level. Last, their fine detail is rebuilt from patches of the\n"
      "real pixels around them, chosen to follow the generated content (guided texture synthesis),\n"
      "so the filled area carries the photo's own texture.";
  spec.options = {
      {"raster", "IN.tif", "input raster (never modified)"},
      {"mask", "FILE[:LAYER]", "vector mask (polygons) or a raster mask of the raster's size"},
      {"out", "OUT.tif", "output GeoTIFF (not the input)"},
      {"layout", "FILE[:LAYER]", "vector layout for the regenerated area"},
      {"class-field", "NAME", "attribute with class names or ids"},
      {"osm", "FILE", "OpenStreetMap extract (.osm, .pbf) as the layout"},
      {"osm-classes", "MAPPING.json", "OSM tag-to-class mapping"},
      {"osm-background", "CLASS|none", "class of land no OSM rule maps (default: other)"},
      {"grow", "M", "grow the mask by this many metres (default: 0)"},
      {"feather", "M", "blend width in metres (default: two working pixels)"},
      {"gsd", "M", "ground resolution of an image without georeferencing"},
      {"scene", "CLASS", "scene class, e.g. forest"},
      {"style", "NAME", "style or region token (default: the model's)"},
      {"model", "NAME|DIR", "model name or folder (default: terrasynth-base)"},
      {"sampler", "NAME", "ddim, euler, euler_karras, euler_ancestral, dpmpp_2m or dpmpp_2m_karras"},
      {"steps", "N", "denoising steps"},
      {"guidance", "G", "classifier-free guidance scale"},
      {"seed", "S", "random seed (default: 0)"},
      {"tile", "PX", "window size in pixels"},
      {"overlap", "PX", "window overlap in pixels"},
      {"fast", "", "shifted windows instead of fully fused ones"},
      {"chunk", "PX", "chunk size in working pixels"},
      {"device", "auto|cpu|cuda", "compute device"},
      {"threads", "N", "CPU threads (default: all cores)"},
      {"cog", "", "write a Cloud Optimized GeoTIFF"},
      {"no-stac", "", "do not write the STAC Item"},
      {"no-auto-layout", "", "without a layout, do not continue the surroundings' classes"},
      {"no-harmonise", "", "do not match tone and grain to the surroundings"},
      {"no-texture", "", "keep the generated detail instead of the surroundings' texture"},
  };
  const auto tuning = sampler_tuning_options();
  spec.options.insert(spec.options.end(), tuning.begin(), tuning.end());
  return {spec, run_inpaint};
}

}  // namespace terrasynth::cli
