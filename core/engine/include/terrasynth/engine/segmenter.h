#pragma once
// The evaluation network: a small land-cover segmenter trained by the project on the labelled
// pairs. It labels generated images (layout fidelity, mIoU) and its pooled features give a
// kernel-inception-style distance (realism). No torch types cross this header.
#include <memory>
#include <string>
#include <vector>

#include "terrasynth/engine/device.h"
#include "terrasynth/engine/image.h"
#include "terrasynth/engine/progress.h"
#include "terrasynth/engine/train.h"

namespace terrasynth::engine {

class Segmenter {
 public:
  // A folder with segmenter.json and segmenter.safetensors.
  static std::shared_ptr<Segmenter> load(const std::string& dir, const DeviceOptions& device = {});
  ~Segmenter();
  Segmenter(const Segmenter&) = delete;
  Segmenter& operator=(const Segmenter&) = delete;

  int num_classes() const;
  const std::vector<std::string>& classes() const;
  // Class ids for every pixel of each image (images of any size divisible by 16).
  std::vector<ClassMap> predict(const std::vector<Image>& images) const;
  // One fixed-length feature vector per image (pooled multi-level activations).
  std::vector<std::vector<float>> features(const std::vector<Image>& images) const;
  int feature_size() const;

  struct Impl;

 private:
  explicit Segmenter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SegmenterTrainOptions {
  std::string output_dir;
  std::vector<std::string> classes;
  uint64_t seed = 0;
  int steps = 2000;
  int batch_size = 16;
  int crop = 128;
  double learning_rate = 1e-3;
  DeviceOptions device;
};

struct SegmenterTrainReport {
  Status status = Status::Ok;
  int steps_done = 0;
  double first_loss = 0;
  double last_loss = 0;
  double seconds = 0;
  std::string model_dir;
};

SegmenterTrainReport train_segmenter(const SegmenterTrainOptions& options, TrainDataSource& data,
                                     const ProgressCallback& progress = {},
                                     const CancelToken* cancel = nullptr);

// Squared-MMD with the cubic polynomial kernel k(x,y) = (x.y/d + 1)^3 (the KID estimator of
// Binkowski et al.), averaged over `subsets` random subsets of `subset_size` (or all) samples.
double kernel_distance(const std::vector<std::vector<float>>& a,
                       const std::vector<std::vector<float>>& b, int subsets = 50,
                       int subset_size = 0, uint64_t seed = 0);

// Mean intersection-over-union over the classes present in either map set; pixels whose
// reference is unknown (255) are ignored.
struct IouReport {
  double mean_iou = 0;
  std::vector<double> per_class;  // NaN where a class is absent from both
  double pixel_accuracy = 0;
};
IouReport mean_iou(const std::vector<ClassMap>& predicted, const std::vector<ClassMap>& reference,
                   int num_classes);

}  // namespace terrasynth::engine
