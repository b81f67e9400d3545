#pragma once
// Shared helpers of the network tests: fixture paths, parity comparison, real images via GDAL.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "terrasynth/test_paths.h"
#include "weights/state_dict.h"

#if TERRASYNTH_TESTS_HAVE_GDAL
#include <gdal.h>
#endif

namespace nn_test {

inline std::string shared_path(const std::string& relative) {
  return std::string(TERRASYNTH_TEST_SHARED_DIR) + "/" + relative;
}

inline std::string fixture(const std::string& name) {
  return shared_path("fixtures/diffusers/" + name);
}

inline terrasynth::engine::StateDict load_io(const std::string& name) {
  return terrasynth::engine::load_safetensors(fixture(name) + "/io.safetensors");
}

inline torch::Tensor tensor(const terrasynth::engine::StateDict& tensors, const std::string& key) {
  const auto* found = tensors.find(key);
  if (!found) throw std::runtime_error("fixture tensor missing: " + key);
  return *found;
}

// diffusers parity: |actual - reference| <= atol + rtol * |reference| with atol = atol_scale *
// max|reference|.
inline ::testing::AssertionResult matches_reference(const torch::Tensor& actual,
                                                    const torch::Tensor& reference,
                                                    double rtol = 1e-5, double atol_scale = 1e-5) {
  if (!actual.sizes().equals(reference.sizes())) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " vs reference " << reference.sizes();
  }
  auto a = actual.detach().to(torch::kFloat64).cpu();
  auto r = reference.to(torch::kFloat64);
  const double atol = atol_scale * r.abs().max().item<double>();
  auto excess = (a - r).abs() - (atol + rtol * r.abs());
  const double worst = excess.max().item<double>();
  if (worst > 0) {
    return ::testing::AssertionFailure()
           << "max |diff| " << (a - r).abs().max().item<double>() << " exceeds tolerance (atol "
           << atol << ", rtol " << rtol << ") by " << worst;
  }
  return ::testing::AssertionSuccess();
}

// PSNR in dB of images in [0, 1].
inline double psnr(const torch::Tensor& a, const torch::Tensor& b) {
  const double mse = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).pow(2).mean().item<double>();
  return 10.0 * std::log10(1.0 / mse);
}

// Mean absolute gradient across the given borders (a border at b measures pixels b-1 -> b) over
// the mean absolute gradient elsewhere, along rows (dim 2) and columns (dim 3) together.
inline double seam_score(const torch::Tensor& image, const std::vector<int64_t>& row_borders,
                         const std::vector<int64_t>& col_borders) {
  auto img = image.to(torch::kFloat64);
  auto dy = (img.slice(2, 1) - img.slice(2, 0, -1)).abs().mean({0, 1, 3});  // [H-1]
  auto dx = (img.slice(3, 1) - img.slice(3, 0, -1)).abs().mean({0, 1, 2});  // [W-1]
  auto border_y = torch::zeros({dy.size(0)}, torch::kBool);
  auto border_x = torch::zeros({dx.size(0)}, torch::kBool);
  for (auto b : row_borders) {
    if (b > 0 && b < img.size(2)) border_y[b - 1] = true;
  }
  for (auto b : col_borders) {
    if (b > 0 && b < img.size(3)) border_x[b - 1] = true;
  }
  const double across =
      (dy.masked_select(border_y).sum() + dx.masked_select(border_x).sum()).item<double>() /
      static_cast<double>(border_y.sum().item<int64_t>() + border_x.sum().item<int64_t>());
  const double elsewhere =
      (dy.masked_select(~border_y).sum() + dx.masked_select(~border_x).sum()).item<double>() /
      static_cast<double>((~border_y).sum().item<int64_t>() + (~border_x).sum().item<int64_t>());
  return across / elsewhere;
}

#if TERRASYNTH_TESTS_HAVE_GDAL
// A size x size RGB crop of an 8-bit image as [1, 3, size, size] in [0, 1].
inline torch::Tensor read_rgb_crop(const std::string& path, int x0, int y0, int size) {
  GDALAllRegister();
  GDALDatasetH dataset = GDALOpen(path.c_str(), GA_ReadOnly);
  if (!dataset) throw std::runtime_error(path + ": GDAL cannot open it");
  std::vector<uint8_t> pixels(static_cast<size_t>(3) * size * size);
  int bands[3] = {1, 2, 3};
  const CPLErr error = GDALDatasetRasterIO(dataset, GF_Read, x0, y0, size, size, pixels.data(),
                                           size, size, GDT_Byte, 3, bands, 0, 0, 0);
  GDALClose(dataset);
  if (error != CE_None) throw std::runtime_error(path + ": cannot read the crop");
  return torch::from_blob(pixels.data(), {1, 3, size, size}, torch::kUInt8)
      .to(torch::kFloat32)
      .div(255.0);
}
#endif

}  // namespace nn_test
