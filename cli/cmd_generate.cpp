// terrasynth generate: an extent (or a region) and a GSD -> a georeferenced synthetic RGB image.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <tuple>

#include "commands.h"
#include "sampler_tuning.h"
#include "terrasynth/geo/crs.h"
#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::cli {

namespace {

std::string crs_label(const std::string& wkt) {
  try {
    if (auto code = geo::crs_authority_code(wkt)) return *code;
    return geo::crs_name(wkt);
  } catch (const std::exception&) {
    return "custom CRS";
  }
}

std::string duration(double seconds) {
  std::ostringstream text;
  if (seconds < 90)
    text << static_cast<long>(std::ceil(seconds)) << " s";
  else if (seconds < 5400)
    text << static_cast<long>(std::round(seconds / 60)) << " min";
  else
    text << std::setprecision(3) << seconds / 3600 << " h";
  return text.str();
}

int positive_int(const Args& args, const std::string& name, int fallback, int minimum) {
  const long long value = args.get_int(name, fallback);
  if (value < minimum || value > 1000000)
    throw UsageError("--" + name + " must be at least " + std::to_string(minimum) + ", got " +
                     std::to_string(value));
  return static_cast<int>(value);
}

int run_generate(const Args& args, const Output& out) {
  pipeline::GenerateJob job;
  const bool by_extent = args.has("extent");
  if (by_extent == args.has("region"))
    throw UsageError("give where to generate: --extent X1,Y1,X2,Y2 --crs CRS, or --region FILE");
  if (by_extent) {
    const auto corners = parse_number_list("extent", args.require("extent"), 4);
    job.extent = std::array<double, 4>{corners[0], corners[1], corners[2], corners[3]};
    if (!args.has("crs")) throw UsageError("--extent needs --crs (e.g. EPSG:4326)");
  } else {
    std::tie(job.region_path, job.region_layer) = split_path_layer(args.require("region"));
  }
  job.crs = args.get("crs");
  const auto gsd = args.optional_double("gsd");
  if (!gsd) throw UsageError("--gsd M (metres per pixel) is required");
  if (!(*gsd > 0)) throw UsageError("--gsd must be a positive number of metres per pixel");
  job.gsd = *gsd;
  job.output = args.require("out");

  if (args.has("layout") && args.has("osm")) throw UsageError("give --layout or --osm, not both");
  if (args.has("layout")) {
    std::tie(job.layout.path, job.layout.layer) = split_path_layer(args.get("layout"));
    job.layout.class_field = args.get("class-field");
    if (args.has("osm-classes") || args.has("osm-background"))
      throw UsageError("--osm-classes and --osm-background go with --osm");
  } else if (args.has("osm")) {
    job.layout.path = args.get("osm");
    job.layout.osm_mapping = args.get("osm-classes");
    if (args.has("osm-background")) job.layout.osm_background = args.get("osm-background");
    if (args.has("class-field"))
      throw UsageError("--class-field is for vector layouts; --osm uses --osm-classes");
    if (!job.layout.is_osm())
      throw UsageError("--osm expects an OpenStreetMap extract (.osm or .pbf); use --layout for "
                       "other vector files");
  } else if (args.has("class-field") || args.has("osm-classes") || args.has("osm-background")) {
    throw UsageError("--class-field needs --layout; --osm-classes and --osm-background need --osm");
  }
  job.scene = args.get("scene");
  job.style = args.get("style");
  job.model = args.get("model");
  job.sampling.sampler = args.get("sampler");
  job.sampling.steps = args.has("steps") ? positive_int(args, "steps", 0, 1) : 0;
  job.sampling.guidance = args.get_double("guidance", -1);
  if (args.has("guidance") && !(job.sampling.guidance >= 0))
    throw UsageError("--guidance must be 0 or more (1 = no guidance)");
  const long long seed = args.get_int("seed", 0);
  if (seed < 0) throw UsageError("--seed must be 0 or more");
  job.sampling.seed = static_cast<uint64_t>(seed);
  job.tiles.tile = args.has("tile") ? positive_int(args, "tile", 0, 16) : 0;
  job.tiles.overlap = args.has("overlap") ? positive_int(args, "overlap", 0, 0) : -1;
  job.tiles.chunk = args.has("chunk") ? positive_int(args, "chunk", 0, 64) : 0;
  job.tiles.fast = args.flag("fast");
  job.device.device = args.get("device", "auto");
  job.device.threads = args.has("threads") ? positive_int(args, "threads", 0, 1) : 0;
  job.cog = args.flag("cog");
  job.force = args.flag("force");
  job.write_stac = !args.flag("no-stac");
  read_sampler_tuning(args, job.sampling);
  job.sampling.texture_bank = args.get("texture-bank");

  const pipeline::JobPlan plan = pipeline::plan_generate(job);
  {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1);
    text << "plan: " << plan.width << " x " << plan.height << " px ("
         << static_cast<double>(plan.width) * plan.height / 1e6 << " Mpx) in "
         << crs_label(plan.crs_wkt) << "; working grid " << plan.work_width << " x "
         << plan.work_height << " px at " << std::setprecision(3) << plan.work_gsd << " m/px in "
         << crs_label(plan.work_crs) << ", " << plan.chunks << " chunk(s); estimated "
         << duration(plan.estimated_seconds);
    if (out.json())
      std::cerr << text.str() << std::endl;
    else
      out.info(text.str());
  }
  if (plan.needs_force && !job.force)
    throw std::runtime_error("the output is " + std::to_string(plan.width) + " x " +
                             std::to_string(plan.height) + " px (working grid " +
                             std::to_string(plan.work_width) + " x " +
                             std::to_string(plan.work_height) + " px), about " +
                             duration(plan.estimated_seconds) +
                             " to generate: add --force to generate it");

  ProgressPrinter printer(out.json());
  pipeline::JobControl control;
  control.cancel = &interrupt_flag();
  control.progress = [&](double fraction, const std::string& label) {
    printer.update(fraction, label);
  };
  control.warning = [&](const std::string& message) { out.warning(message); };
  const pipeline::JobResult result = pipeline::run_generate(job, control);
  printer.finish();
  if (result.cancelled) {
    std::cerr << "terrasynth generate: cancelled; no output written" << std::endl;
    return kExitCancelled;
  }
  nlohmann::json provenance = nlohmann::json::object();
  for (const auto& [key, value] : result.provenance) provenance[key] = value;
  nlohmann::json document{{"ok", true},
                          {"output", result.output},
                          {"stac", result.stac},
                          {"width", result.plan.width},
                          {"height", result.plan.height},
                          {"crs", crs_label(result.plan.crs_wkt)},
                          {"geotransform", result.plan.geotransform},
                          {"work_width", result.plan.work_width},
                          {"work_height", result.plan.work_height},
                          {"work_gsd", result.plan.work_gsd},
                          {"work_crs", crs_label(result.plan.work_crs)},
                          {"chunks", result.plan.chunks},
                          {"peak_rows_in_memory", result.peak_rows_in_memory},
                          {"seconds", result.seconds},
                          {"warnings", result.warnings},
                          {"provenance", provenance}};
  std::ostringstream text;
  text << "wrote " << result.output << ": " << result.plan.width << " x " << result.plan.height
       << " px, " << crs_label(result.plan.crs_wkt) << " (" << std::fixed << std::setprecision(1)
       << result.seconds << " s)";
  if (!result.stac.empty()) text << "\nSTAC item: " << result.stac;
  out.result(document, text.str());
  return kExitOk;
}

}  // namespace

Command generate_command() {
  CommandSpec spec;
  spec.name = "generate";
  spec.summary = "generate a georeferenced synthetic image of an extent or a region";
  spec.usage =
      "(--extent X1,Y1,X2,Y2 --crs CRS | --region FILE[:LAYER]) --gsd M --out OUT.tif\n"
      "         [--layout FILE[:LAYER] [--class-field NAME] | --osm FILE.osm|.pbf "
      "[--osm-classes MAPPING.json] [--osm-background CLASS|none]]\n"
      "         [--scene CLASS] [--style NAME] [--model NAME|DIR] [--sampler NAME --steps N "
      "--guidance G --seed S]\n"
      "         [--tile PX --overlap PX] [--device auto|cpu|cuda] [--threads N] [--cog] [--force]";
  spec.description =
      "Generates an RGB GeoTIFF covering the extent (or the region's polygons, with an alpha band\n"
      "that is 0 outside them) at --gsd metres per pixel, snapped to whole pixels. A projected CRS\n"
      "is kept; an extent in a geographic CRS stays in that CRS with square pixels of --gsd metres\n"
      "on the ground at its centre. The image is generated on a working grid in a metric CRS at a\n"
      "GSD inside the model's trained range (with a warning when the request is outside it) and\n"
      "resampled to the output grid when they differ. Layouts: vector files whose class field\n"
      "holds class names or ids (rotated boxes or painted polygons), or OpenStreetMap extracts\n"
      "mapped by resources/osm_classes.json (land no rule maps is generated as --osm-background,\n"
      "'other' by default). Large outputs are generated in chunks that continue\n"
      "each other seamlessly and stream to disk; very large ones need --force. Provenance goes to\n"
      "the GeoTIFF tags and to a STAC Item beside the output (OUT.json). Ctrl-C leaves no file.";
  spec.options = {
      {"extent", "X1,Y1,X2,Y2", "area to generate, in --crs"},
      {"crs", "CRS", "CRS of --extent (and of the output), e.g. EPSG:32632 or EPSG:4326"},
      {"region", "FILE[:LAYER]", "polygons to generate (their extent; alpha 0 outside)"},
      {"gsd", "M", "ground resolution in metres per pixel"},
      {"layout", "FILE[:LAYER]", "vector layout whose features carry a class"},
      {"class-field", "NAME", "attribute with class names or ids (default: 'class' if present)"},
      {"osm", "FILE", "OpenStreetMap extract (.osm, .pbf) as the layout"},
      {"osm-classes", "MAPPING.json", "OSM tag-to-class mapping (default: the shipped one)"},
      {"osm-background", "CLASS|none", "class of land no OSM rule maps (default: other)"},
      {"scene", "CLASS", "scene class for layout-free generation, e.g. forest"},
      {"style", "NAME", "style or region token, e.g. recife (default: the model's)"},
      {"model", "NAME|DIR", "model name or folder (default: terrasynth-base)"},
      {"sampler", "NAME", "ddim, euler, euler_karras, euler_ancestral, dpmpp_2m or dpmpp_2m_karras (default: the model's)"},
      {"steps", "N", "denoising steps (default: the model's)"},
      {"guidance", "G", "classifier-free guidance scale (default: the model's)"},
      {"texture-bank", "DIR", "rebuild the fine detail from this bank's photos (terrasynth textures)"},
      {"seed", "S", "random seed (default: 0)"},
      {"tile", "PX", "window size in pixels (default: the model's)"},
      {"overlap", "PX", "window overlap in pixels (default: the model's)"},
      {"fast", "", "shifted windows instead of fully fused ones"},
      {"chunk", "PX", "chunk size in working pixels (default: 1024 on CPU, 2048 on CUDA)"},
      {"device", "auto|cpu|cuda", "compute device (default: auto)"},
      {"threads", "N", "CPU threads (default: all cores)"},
      {"cog", "", "write a Cloud Optimized GeoTIFF"},
      {"force", "", "allow very large outputs"},
      {"no-stac", "", "do not write the STAC Item"},
      {"out", "OUT.tif", "output GeoTIFF"},
  };
  const auto tuning = sampler_tuning_options();
  spec.options.insert(spec.options.end() - 1, tuning.begin(), tuning.end());
  return {spec, run_generate};
}

}  // namespace terrasynth::cli
