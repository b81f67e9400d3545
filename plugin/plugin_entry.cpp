// The entry points QGIS looks up in a C++ plugin library, and the one the Processing shim
// (a small Python plugin, see packaging/) calls to register the provider in qgis_process.
#include <QCoreApplication>

#include "qgis.h"
#include "qgisinterface.h"
#include "qgisplugin.h"
#include "terrasynth/version.h"
#include "terrasynth_plugin.h"

namespace {
const QString kName = QStringLiteral("Terrasynth");
const QString kDescription =
    QStringLiteral("Generates synthetic satellite and aerial imagery into georeferenced rasters");
const QString kCategory = QStringLiteral("Raster");
const QString kVersion = QStringLiteral(TERRASYNTH_VERSION);
const QString kIcon = QStringLiteral(":/terrasynth/icons/terrasynth.svg");
}  // namespace

QGISEXTERN QgisPlugin* classFactory(QgisInterface* iface) {
  return new terrasynth::plugin::TerrasynthPlugin(iface);
}
QGISEXTERN const QString* name() { return &kName; }
QGISEXTERN const QString* description() { return &kDescription; }
QGISEXTERN const QString* category() { return &kCategory; }
QGISEXTERN int type() { return QgisPlugin::UI; }
QGISEXTERN const QString* version() { return &kVersion; }
QGISEXTERN const QString* icon() { return &kIcon; }
QGISEXTERN void unload(QgisPlugin* plugin) { delete plugin; }

// Registers the "terrasynth" Processing provider with the running QGIS application. Returns 1
// when it was added, 0 when a provider with that id is already registered, -1 without a
// QGIS application.
extern "C" Q_DECL_EXPORT int terrasynth_register_processing_provider() {
  if (!QCoreApplication::instance()) return -1;
  terrasynth::plugin::installTranslation();
  return terrasynth::plugin::registerProvider() ? 1 : 0;
}

extern "C" Q_DECL_EXPORT void terrasynth_unregister_processing_provider() {
  terrasynth::plugin::unregisterProvider();
}
