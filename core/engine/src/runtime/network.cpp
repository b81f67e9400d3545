#include "runtime/network.h"

#include "nn/loading.h"
#include "nn/unet.h"
#include "weights/state_dict.h"

namespace terrasynth::engine {

struct DenoiserNetwork::Impl {
  nn::UNet2DConditionModel unet{nullptr};
};

DenoiserNetwork::DenoiserNetwork(const nlohmann::json& unet_config)
    : config_(unet_config), impl_(std::make_shared<Impl>()) {
  impl_->unet = nn::UNet2DConditionModel(unet_config, "UNet config");
}

std::unique_ptr<DenoiserNetwork> DenoiserNetwork::load(const std::string& folder) {
  auto network = std::make_unique<DenoiserNetwork>(nn::read_component_config(folder, "UNet2DConditionModel"));
  nn::load_into(*network->impl_->unet, load_weights(nn::find_weights_file(folder)),
                nn::find_weights_file(folder));
  network->impl_->unet->eval();
  return network;
}

torch::Tensor DenoiserNetwork::forward(const torch::Tensor& input, const torch::Tensor& timesteps,
                                       const torch::Tensor& class_labels) {
  return impl_->unet->forward(input, timesteps, {}, class_labels);
}

torch::nn::Module& DenoiserNetwork::module() { return *impl_->unet; }
int DenoiserNetwork::in_channels() const { return static_cast<int>(impl_->unet->config().in_channels); }
int DenoiserNetwork::out_channels() const { return static_cast<int>(impl_->unet->config().out_channels); }
int DenoiserNetwork::spatial_multiple() const { return static_cast<int>(impl_->unet->spatial_multiple()); }

}  // namespace terrasynth::engine
