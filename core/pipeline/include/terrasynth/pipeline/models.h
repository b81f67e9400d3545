#pragma once
// Finding model packages by name. Search order: folders in TERRASYNTH_MODEL_PATH (':'-separated),
// folders added by the caller (e.g. the plugin's settings), the user's
// ~/.local/share/terrasynth/models, the installed share/terrasynth/models, and the source tree's
// resources/models.
#include <string>
#include <vector>

#include "terrasynth/engine/model.h"

namespace terrasynth::pipeline {

constexpr const char* kDefaultModelName = "terrasynth-base";

void add_model_folder(const std::string& folder);
std::vector<std::string> model_search_path();
// A folder path is returned as is (after checking it holds a model.json); a name is looked up.
// Throws naming the searched folders when nothing matches.
std::string resolve_model(const std::string& name_or_dir);
std::vector<engine::ModelInfo> list_models();

}  // namespace terrasynth::pipeline
