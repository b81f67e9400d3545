#pragma once
// The translation context ("Terrasynth") of plugin code outside QObject classes: Text::tr().
#include <QCoreApplication>

namespace terrasynth::plugin {

class Text {
  Q_DECLARE_TR_FUNCTIONS(Terrasynth)
};

}  // namespace terrasynth::plugin
