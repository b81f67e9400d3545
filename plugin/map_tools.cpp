#include "map_tools.h"

#include <QCoreApplication>
#include <QKeyEvent>
#include <QLocale>
#include <cmath>

#include "qgscoordinatereferencesystem.h"
#include "qgsdistancearea.h"
#include "qgsmapcanvas.h"
#include "qgsmapmouseevent.h"
#include "qgsproject.h"
#include "qgsrubberband.h"
#include "qgsunittypes.h"

namespace terrasynth::plugin {

namespace {
// A press and release closer than this (in screen pixels) is a click, not a drag.
constexpr int kClickTolerance = 4;

QgsPointXY offset(const QgsPointXY& point, double dx, double dy) {
  return QgsPointXY(point.x() + dx, point.y() + dy);
}
}  // namespace

ShapeMapTool::ShapeMapTool(QgsMapCanvas* canvas, Shape shape, const QColor& colour)
    : QgsMapTool(canvas), mShape(shape), mColour(colour) {
  setCursor(Qt::CrossCursor);
}

ShapeMapTool::~ShapeMapTool() { delete mBand; }

void ShapeMapTool::setShape(Shape shape) {
  reset();
  mShape = shape;
}

void ShapeMapTool::setColour(const QColor& colour) {
  mColour = colour;
  updateBand();
}

void ShapeMapTool::reset() {
  mPoints.clear();
  mHasHover = false;
  delete mBand;
  mBand = nullptr;
}

QgsGeometry ShapeMapTool::currentGeometry() const {
  return mHasHover ? geometryWith(mHover) : geometryWith(mPoints.isEmpty() ? QgsPointXY()
                                                                           : mPoints.last());
}

QgsGeometry ShapeMapTool::geometryWith(const QgsPointXY& hover) const {
  if (mPoints.isEmpty()) return QgsGeometry();
  switch (mShape) {
    case Shape::Rectangle: {
      const QgsRectangle rect(mPoints.first(), hover);
      if (rect.width() <= 0 || rect.height() <= 0) return QgsGeometry();
      return QgsGeometry::fromRect(rect);
    }
    case Shape::Polygon: {
      QgsPolylineXY ring(mPoints.begin(), mPoints.end());
      if (ring.isEmpty() || !(ring.last() == hover)) ring << hover;
      if (ring.size() < 3) return QgsGeometry::fromPolylineXY(ring);
      ring << ring.first();
      return QgsGeometry::fromPolygonXY({ring});
    }
    case Shape::RotatedBox: {
      if (mPoints.size() == 1) return QgsGeometry::fromPolylineXY({mPoints.first(), hover});
      const QgsPointXY a = mPoints.at(0);
      const QgsPointXY b = mPoints.at(1);
      const double length = std::hypot(b.x() - a.x(), b.y() - a.y());
      if (length <= 0) return QgsGeometry();
      // Unit normal of the first side; the width is the hover point's signed distance to it.
      const double nx = -(b.y() - a.y()) / length;
      const double ny = (b.x() - a.x()) / length;
      const double width = (hover.x() - a.x()) * nx + (hover.y() - a.y()) * ny;
      if (width == 0) return QgsGeometry::fromPolylineXY({a, b});
      const QgsPointXY c = offset(b, nx * width, ny * width);
      const QgsPointXY d = offset(a, nx * width, ny * width);
      return QgsGeometry::fromPolygonXY({{a, b, c, d, a}});
    }
  }
  return QgsGeometry();
}

void ShapeMapTool::updateBand() {
  const QgsGeometry geometry = currentGeometry();
  if (geometry.isNull()) {
    delete mBand;
    mBand = nullptr;
    return;
  }
  const QgsWkbTypes::GeometryType type = geometry.type();
  if (!mBand) mBand = new QgsRubberBand(mCanvas, type);
  mBand->reset(type);
  QColor fill = mColour;
  fill.setAlpha(60);
  mBand->setFillColor(fill);
  mBand->setStrokeColor(mColour);
  mBand->setWidth(2);
  mBand->setToGeometry(geometry, nullptr);
  mBand->show();
}

void ShapeMapTool::addVertex(const QgsPointXY& point) {
  if (!mPoints.isEmpty() && mPoints.last() == point) return;  // a double-click's second click
  mPoints << point;
}

void ShapeMapTool::canvasPressEvent(QgsMapMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  mPressPosition = event->pos();
  if (mShape == Shape::Rectangle && mPoints.isEmpty()) {
    mPoints << event->mapPoint();
    mHover = event->mapPoint();
    mHasHover = true;
  }
}

void ShapeMapTool::canvasMoveEvent(QgsMapMouseEvent* event) {
  if (mPoints.isEmpty()) return;
  mHover = event->mapPoint();
  mHasHover = true;
  updateBand();
  emit geometryChanged(currentGeometry());
}

void ShapeMapTool::canvasReleaseEvent(QgsMapMouseEvent* event) {
  const QgsPointXY point = event->mapPoint();
  if (event->button() == Qt::RightButton) {
    if (mShape == Shape::Polygon && mPoints.size() >= 3) {
      mHasHover = false;
      finish();
    } else {
      reset();
      emit drawingCancelled();
    }
    return;
  }
  if (event->button() != Qt::LeftButton) return;
  mHover = point;
  mHasHover = true;
  switch (mShape) {
    case Shape::Rectangle: {
      const QPoint moved = event->pos() - mPressPosition;
      const QgsPointXY start = mPoints.isEmpty() ? point : mPoints.first();
      const QPoint startScreen = toCanvasCoordinates(start);
      const QPoint fromStart = event->pos() - startScreen;
      // A drag ends the rectangle; so does a second click away from the first corner.
      if (moved.manhattanLength() > kClickTolerance ||
          fromStart.manhattanLength() > kClickTolerance) {
        finish();
        return;
      }
      break;
    }
    case Shape::Polygon:
      addVertex(point);
      break;
    case Shape::RotatedBox:
      if (mPoints.size() < 2) {
        addVertex(point);
      } else {
        finish();
        return;
      }
      break;
  }
  updateBand();
  emit geometryChanged(currentGeometry());
}

void ShapeMapTool::canvasDoubleClickEvent(QgsMapMouseEvent* event) {
  if (mShape != Shape::Polygon) return;
  addVertex(event->mapPoint());
  if (mPoints.size() >= 3) {
    mHasHover = false;
    finish();
  }
}

void ShapeMapTool::keyPressEvent(QKeyEvent* event) {
  switch (event->key()) {
    case Qt::Key_Escape:
      reset();
      emit drawingCancelled();
      event->accept();
      return;
    case Qt::Key_Backspace:
    case Qt::Key_Delete:
      if (!mPoints.isEmpty()) {
        mPoints.removeLast();
        if (mPoints.isEmpty()) mHasHover = false;
        updateBand();
        emit geometryChanged(currentGeometry());
      }
      event->accept();
      return;
    case Qt::Key_Return:
    case Qt::Key_Enter:
      if (mShape == Shape::Polygon && mPoints.size() >= 3) {
        mHasHover = false;
        finish();
        event->accept();
        return;
      }
      break;
    default:
      break;
  }
  event->ignore();
}

void ShapeMapTool::deactivate() {
  reset();
  QgsMapTool::deactivate();
}

void ShapeMapTool::finish() {
  QgsGeometry geometry = currentGeometry();
  reset();
  if (geometry.isNull() || geometry.type() != QgsWkbTypes::PolygonGeometry ||
      geometry.area() <= 0) {
    emit drawingCancelled();
    return;
  }
  if (!geometry.isGeosValid()) geometry = geometry.makeValid();
  emit geometryFinished(geometry);
}

RegionSize measureRegion(const QgsRectangle& extent, const QgsCoordinateReferenceSystem& crs,
                         double gsd, double secondsPerPixel) {
  RegionSize size;
  if (extent.isEmpty() || !crs.isValid()) return size;
  const QgsUnitTypes::DistanceUnit units = crs.mapUnits();
  if (!crs.isGeographic() && QgsUnitTypes::unitType(units) == QgsUnitTypes::Standard &&
      units != QgsUnitTypes::DistanceUnknownUnit) {
    const double factor =
        QgsUnitTypes::fromUnitToUnitFactor(units, QgsUnitTypes::DistanceMeters);
    size.widthMetres = extent.width() * factor;
    size.heightMetres = extent.height() * factor;
  } else {
    QgsDistanceArea distance;
    distance.setSourceCrs(crs, QgsProject::instance()->transformContext());
    distance.setEllipsoid(QStringLiteral("EPSG:7030"));
    const QgsPointXY centre = extent.center();
    size.widthMetres = distance.measureLine(QgsPointXY(extent.xMinimum(), centre.y()),
                                            QgsPointXY(extent.xMaximum(), centre.y()));
    size.heightMetres = distance.measureLine(QgsPointXY(centre.x(), extent.yMinimum()),
                                             QgsPointXY(centre.x(), extent.yMaximum()));
  }
  size.areaKm2 = size.widthMetres * size.heightMetres / 1e6;
  if (gsd > 0) {
    size.widthPixels = static_cast<long long>(std::ceil(size.widthMetres / gsd - 1e-9));
    size.heightPixels = static_cast<long long>(std::ceil(size.heightMetres / gsd - 1e-9));
    size.seconds = secondsPerPixel * static_cast<double>(size.widthPixels) *
                   static_cast<double>(size.heightPixels);
  }
  return size;
}

QString describeDuration(double seconds) {
  if (seconds < 90) {
    return QCoreApplication::translate("Terrasynth", "%1 s").arg(std::max(1.0, std::round(seconds)));
  }
  const double minutes = std::round(seconds / 60);
  if (minutes < 90) return QCoreApplication::translate("Terrasynth", "%1 min").arg(minutes);
  const long long total = static_cast<long long>(minutes);
  return QCoreApplication::translate("Terrasynth", "%1 h %2 min").arg(total / 60).arg(total % 60);
}

QString describeRegionSize(const RegionSize& size) {
  const QLocale locale;
  QString text = QCoreApplication::translate("Terrasynth", "%1 × %2 px, %3 km²")
                     .arg(locale.toString(size.widthPixels), locale.toString(size.heightPixels),
                          locale.toString(size.areaKm2, 'g', 3));
  if (size.seconds > 0) {
    text += QCoreApplication::translate("Terrasynth", ", ~%1").arg(describeDuration(size.seconds));
  }
  return text;
}

}  // namespace terrasynth::plugin
