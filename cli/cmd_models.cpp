// terrasynth models inspect: the tensors of a weights file or the components of a model folder.
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "commands.h"
#include "terrasynth/engine/safetensors.h"
#include "terrasynth/pipeline/models.h"

namespace terrasynth::cli {

namespace {

namespace fs = std::filesystem;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// 1234567 -> "1.23 M"
std::string short_count(uint64_t count) {
  static const char* const kUnits[] = {"", " K", " M", " G", " T"};
  double value = static_cast<double>(count);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  std::ostringstream text;
  if (unit == 0)
    text << count;
  else
    text << std::fixed << std::setprecision(2) << value << kUnits[unit];
  return text.str();
}

// Left-aligned columns; the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  return out.str();
}

int inspect_file(const std::string& path, const Output& out) {
  const engine::WeightsFileInfo info = engine::inspect_weights_file(path);
  const uint64_t parameters = info.parameter_count();

  nlohmann::json tensors = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {{"NAME", "DTYPE", "SHAPE", "PARAMETERS"}};
  for (const auto& tensor : info.tensors) {
    tensors.push_back({{"name", tensor.name},
                       {"dtype", tensor.dtype},
                       {"shape", tensor.shape},
                       {"parameters", tensor.element_count()}});
    rows.push_back({tensor.name, tensor.dtype, shape_text(tensor.shape),
                    std::to_string(tensor.element_count())});
  }
  const nlohmann::json document = {{"ok", true},
                                   {"kind", "file"},
                                   {"path", path},
                                   {"format", info.format},
                                   {"file_size", info.file_size},
                                   {"metadata", info.metadata},
                                   {"tensor_count", info.tensors.size()},
                                   {"parameters", parameters},
                                   {"tensors", tensors}};

  std::ostringstream text;
  text << path << ": " << info.format << ", " << info.tensors.size() << " tensors, " << parameters
       << " parameters (" << short_count(parameters) << "), " << info.file_size << " bytes\n";
  for (const auto& [key, value] : info.metadata)
    text << "  metadata " << key << " = " << value << "\n";
  text << "\n" << table(rows);
  std::string body = text.str();
  body.pop_back();
  out.result(document, body);
  return kExitOk;
}

int inspect_folder(const std::string& path, const Output& out) {
  const engine::ModelFolderInfo info = engine::inspect_model_folder(path);
  uint64_t parameters = 0;
  nlohmann::json components = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {
      {"COMPONENT", "CLASS", "TENSORS", "PARAMETERS", "DTYPE", "WEIGHTS"}};
  for (const auto& component : info.components) {
    parameters += component.parameters;
    components.push_back({{"name", component.name},
                          {"class_name", component.class_name},
                          {"weights", component.weights},
                          {"tensors", component.tensors},
                          {"parameters", component.parameters},
                          {"dtype", component.dtype}});
    const std::string weights =
        component.weights.empty() ? "-" : fs::path(component.weights).filename().string();
    rows.push_back({component.name, component.class_name.empty() ? "-" : component.class_name,
                    std::to_string(component.tensors), short_count(component.parameters),
                    component.dtype.empty() ? "-" : component.dtype, weights});
  }
  const nlohmann::json document = {{"ok", true},
                                   {"kind", "folder"},
                                   {"path", path},
                                   {"name", info.name},
                                   {"has_manifest", info.has_manifest},
                                   {"parameters", parameters},
                                   {"components", components}};
  std::ostringstream text;
  text << path << ": model '" << info.name << "'"
       << (info.has_manifest ? " (model.json)" : " (no model.json)") << ", "
       << info.components.size() << " components, " << parameters << " parameters ("
       << short_count(parameters) << ")\n\n"
       << table(rows);
  std::string body = text.str();
  body.pop_back();
  out.result(document, body);
  return kExitOk;
}

std::string gsd_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

int list_models(const Args& args, const Output& out) {
  for (const auto& folder : args.all("model-path")) pipeline::add_model_folder(folder);
  const std::vector<engine::ModelInfo> models = pipeline::list_models();
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "VERSION", "GSD (M/PX)", "CLASSES", "STYLES", "LICENCE", "FOLDER"}};
  for (const auto& model : models) {
    nlohmann::json palette = nlohmann::json::array();
    for (const auto& colour : model.palette) palette.push_back({colour[0], colour[1], colour[2]});
    list.push_back({{"name", model.name},
                    {"version", model.version},
                    {"description", model.description},
                    {"dir", model.dir},
                    {"gsd", {{"native", model.native_gsd},
                             {"min", model.min_gsd},
                             {"max", model.max_gsd}}},
                    {"classes", model.classes},
                    {"palette", palette},
                    {"styles", model.styles},
                    {"default_style", model.default_style},
                    {"scenes", model.scenes},
                    {"tile", {{"size", model.tile_size}, {"overlap", model.tile_overlap}}},
                    {"sampler", {{"name", model.default_sampler},
                                 {"steps", model.default_steps},
                                 {"guidance", model.default_guidance},
                                 {"guidance_interval", model.guidance_interval},
                                 {"coarse_guidance", model.coarse_guidance},
                                 {"coarse_guidance_sigma", model.coarse_guidance_sigma},
                                 {"eta", model.default_eta},
                                 {"eta_min_timestep", model.eta_min_timestep},
                                 {"chroma_smoothing", model.chroma_smoothing},
                                 {"refiner_below_timestep", model.refiner_below_timestep},
                                 {"refiner_detail_sigma", model.refiner_detail_sigma}}},
                    {"detail_decoder", model.detail_decoder},
                    {"detail_skips_refiner", model.detail_skips_refiner},
                    {"layout", model.supports_layout},
                    {"inpaint", model.supports_inpaint},
                    {"licence", model.licence},
                    {"licence_note", model.licence_note},
                    {"training", model.training_summary}});
    std::string classes;
    for (const auto& name : model.classes) classes += (classes.empty() ? "" : ",") + name;
    std::string styles;
    for (const auto& name : model.styles) styles += (styles.empty() ? "" : ",") + name;
    rows.push_back({model.name, model.version.empty() ? "-" : model.version,
                    gsd_text(model.native_gsd) + " (" + gsd_text(model.min_gsd) + "-" +
                        gsd_text(model.max_gsd) + ")",
                    classes, styles.empty() ? "-" : styles,
                    model.licence.empty() ? "-" : model.licence, model.dir});
  }
  nlohmann::json search = pipeline::model_search_path();
  const nlohmann::json document = {{"ok", true}, {"models", list}, {"search_path", search}};
  std::string body;
  if (models.empty()) {
    body = "no models found; searched:";
    for (const auto& folder : pipeline::model_search_path()) body += "\n  " + folder;
  } else {
    body = table(rows);
    body.pop_back();
  }
  out.result(document, body);
  return kExitOk;
}

int run_models(const Args& args, const Output& out) {
  const auto& positional = args.positional();
  if (positional.empty())
    throw UsageError("missing action: terrasynth models list | terrasynth models inspect PATH");
  if (positional[0] == "list") {
    if (positional.size() != 1) throw UsageError("'models list' takes no PATH");
    return list_models(args, out);
  }
  if (positional[0] != "inspect")
    throw UsageError("unknown action '" + positional[0] + "' (expected 'list' or 'inspect')");
  if (positional.size() != 2) throw UsageError("'models inspect' takes exactly one PATH");
  const std::string& path = positional[1];
  std::error_code error;
  if (fs::is_directory(path, error)) return inspect_folder(path, out);
  return inspect_file(path, out);
}

}  // namespace

Command models_command() {
  CommandSpec spec;
  spec.name = "models";
  spec.summary = "list installed models; inspect weights files and model folders";
  spec.usage = "list [--model-path DIR]... [--json]\n       terrasynth models inspect PATH [--json]";
  spec.description =
      "'list' shows the models found on the search path (TERRASYNTH_MODEL_PATH, --model-path, "
      "~/.local/share/terrasynth/models, the installed models and the source tree's "
      "resources/models) with their ground resolution, classes, styles and licence. "
      "'inspect' lists the tensors (name, dtype, shape) and the parameter count of a .safetensors file or "
      "a PyTorch .pth/.pt state dict, or the components of a model folder (model.json and "
      "subfolders such as unet/, vae/, controlnet/ holding config.json and weights; a folder "
      "that is itself one component works too). A malformed file is reported on one line and "
      "exits with code 1.";
  spec.options = {{"model-path", "DIR", "also search this folder of models (list)", true}};
  return Command{spec, run_models};
}

}  // namespace terrasynth::cli
