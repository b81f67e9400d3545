"""Registers the Processing provider of the Terrasynth C++ plugin library.

qgis_process (QGIS 3.22) only loads Processing providers of Python plugins. This plugin loads
libterrasynthplugin.so with ctypes and calls its exported
``terrasynth_register_processing_provider()``, which adds the "terrasynth" provider to the
running application's Processing registry. It prints nothing, so ``qgis_process --json`` stays
valid JSON.

The library is looked up in this order: $TERRASYNTH_PLUGIN_LIBRARY, the path written at install
time in library_path.txt beside this file, the C++ plugin search paths of the QGIS settings,
and QGIS's own plugin folder.
"""
import ctypes
import os

LIBRARY_NAME = "libterrasynthplugin.so"


def _settings_search_paths():
    try:
        from qgis.core import QgsSettings
    except ImportError:
        return []
    paths = QgsSettings().value("plugins/searchPathsForPlugins", [])
    if isinstance(paths, str):
        paths = [paths]
    return [p for p in (paths or []) if p]


def _candidates():
    from_env = os.environ.get("TERRASYNTH_PLUGIN_LIBRARY")
    if from_env:
        yield from_env
    recorded = os.path.join(os.path.dirname(__file__), "library_path.txt")
    if os.path.exists(recorded):
        with open(recorded, encoding="utf-8") as handle:
            path = handle.read().strip()
            if path:
                yield path
    for folder in _settings_search_paths():
        yield os.path.join(folder, LIBRARY_NAME)
    try:
        from qgis.core import QgsApplication
        yield os.path.join(QgsApplication.pluginPath(), LIBRARY_NAME)
    except ImportError:
        pass


def find_library():
    for path in _candidates():
        if os.path.isfile(path):
            return path
    return None


class TerrasynthProcessingShim:
    def __init__(self, iface=None):
        self.iface = iface
        self.library = None
        self.registered = False

    def initProcessing(self):
        if self.library is not None:
            return
        path = find_library()
        if path is None:
            from qgis.core import Qgis, QgsMessageLog
            QgsMessageLog.logMessage(
                "Terrasynth: %s not found (set TERRASYNTH_PLUGIN_LIBRARY)" % LIBRARY_NAME,
                "Terrasynth", Qgis.Warning)
            return
        self.library = ctypes.CDLL(path)
        self.library.terrasynth_register_processing_provider.restype = ctypes.c_int
        self.registered = self.library.terrasynth_register_processing_provider() == 1

    def initGui(self):
        self.initProcessing()

    def unload(self):
        if self.library is not None and self.registered:
            self.library.terrasynth_unregister_processing_provider()
        self.registered = False


def classFactory(iface):
    return TerrasynthProcessingShim(iface)
