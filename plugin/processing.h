#pragma once
// The "Terrasynth" Processing provider (id "terrasynth") and its algorithms: one class per
// generation mode, UPPERCASE parameter keys, progress and cancel through QgsProcessingFeedback,
// errors as QgsProcessingException.
#include "qgsprocessingalgorithm.h"
#include "qgsprocessingprovider.h"
#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::plugin {

struct JobSpec;

class TerrasynthProvider : public QgsProcessingProvider {
  Q_OBJECT
 public:
  explicit TerrasynthProvider(QObject* parent = nullptr);
  QString id() const override;
  QString name() const override;
  QString longName() const override;
  QIcon icon() const override;
  QString svgIconPath() const override;
  QStringList supportedOutputRasterLayerExtensions() const override;

 protected:
  void loadAlgorithms() override;
};

// Parameters every generation algorithm shares: model, GSD, scene, style, sampling, device,
// tiling, output format and the output raster.
class TerrasynthAlgorithm : public QgsProcessingAlgorithm {
 public:
  QString group() const override;
  QString groupId() const override;
  QIcon icon() const override;
  QString svgIconPath() const override;

 protected:
  void addCommonParameters(bool withScene);
  // Generation only: a texture bank folder (`terrasynth textures`), optional.
  void addTextureBankParameter();
  // Fills the shared fields of the job from the parameters (generate or inpaint part).
  void readCommonParameters(const QVariantMap& parameters, QgsProcessingContext& context,
                            JobSpec& spec) const;
  // Reads an extent parameter in its own CRS (the project's when it names none).
  void readExtent(const QVariantMap& parameters, const QString& name,
                  QgsProcessingContext& context, pipeline::GenerateJob& job);
  // Runs the job with the feedback's progress and cancel; returns the output map.
  QVariantMap execute(const JobSpec& spec, QgsProcessingFeedback* feedback) const;
};

class GenerateExtentAlgorithm : public TerrasynthAlgorithm {
 public:
  QString name() const override;
  QString displayName() const override;
  QString shortHelpString() const override;
  GenerateExtentAlgorithm* createInstance() const override;

 protected:
  void initAlgorithm(const QVariantMap& configuration = QVariantMap()) override;
  QVariantMap processAlgorithm(const QVariantMap& parameters, QgsProcessingContext& context,
                               QgsProcessingFeedback* feedback) override;
};

class GenerateLayoutAlgorithm : public TerrasynthAlgorithm {
 public:
  QString name() const override;
  QString displayName() const override;
  QString shortHelpString() const override;
  GenerateLayoutAlgorithm* createInstance() const override;

 protected:
  void initAlgorithm(const QVariantMap& configuration = QVariantMap()) override;
  QVariantMap processAlgorithm(const QVariantMap& parameters, QgsProcessingContext& context,
                               QgsProcessingFeedback* feedback) override;
};

class GenerateOsmAlgorithm : public TerrasynthAlgorithm {
 public:
  QString name() const override;
  QString displayName() const override;
  QString shortHelpString() const override;
  GenerateOsmAlgorithm* createInstance() const override;

 protected:
  void initAlgorithm(const QVariantMap& configuration = QVariantMap()) override;
  QVariantMap processAlgorithm(const QVariantMap& parameters, QgsProcessingContext& context,
                               QgsProcessingFeedback* feedback) override;
};

class InpaintAlgorithm : public TerrasynthAlgorithm {
 public:
  QString name() const override;
  QString displayName() const override;
  QString shortHelpString() const override;
  InpaintAlgorithm* createInstance() const override;

 protected:
  void initAlgorithm(const QVariantMap& configuration = QVariantMap()) override;
  QVariantMap processAlgorithm(const QVariantMap& parameters, QgsProcessingContext& context,
                               QgsProcessingFeedback* feedback) override;
};

}  // namespace terrasynth::plugin
