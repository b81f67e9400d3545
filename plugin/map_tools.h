#pragma once
// The map tool that draws every shape the plugin needs: rectangles and polygons for a region,
// polygons and rotated boxes for a layout, polygons for an inpaint mask. The tool only draws:
// what the shape is for is decided by whoever listens to geometryFinished().
#include <QColor>
#include <QPoint>
#include <QVector>

#include "qgsgeometry.h"
#include "qgsmaptool.h"
#include "qgspointxy.h"

class QgsRubberBand;
class QgsCoordinateReferenceSystem;

namespace terrasynth::plugin {

class ShapeMapTool : public QgsMapTool {
  Q_OBJECT
 public:
  enum class Shape {
    Rectangle,   // press-drag-release, or click a corner then click the opposite corner
    Polygon,     // click vertices; right-click, double-click or Enter closes it
    RotatedBox,  // click two corners of one side, then click to set the width
  };

  ShapeMapTool(QgsMapCanvas* canvas, Shape shape, const QColor& colour = QColor(255, 128, 0));
  ~ShapeMapTool() override;

  Shape shape() const { return mShape; }
  void setShape(Shape shape);
  void setColour(const QColor& colour);
  // The shape as drawn so far, in the canvas CRS (a polygon once it has an area).
  QgsGeometry currentGeometry() const;
  // Forgets the shape being drawn.
  void reset();

  void canvasPressEvent(QgsMapMouseEvent* event) override;
  void canvasMoveEvent(QgsMapMouseEvent* event) override;
  void canvasReleaseEvent(QgsMapMouseEvent* event) override;
  void canvasDoubleClickEvent(QgsMapMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void deactivate() override;

 signals:
  // While drawing, after every click and mouse move.
  void geometryChanged(const QgsGeometry& geometry);
  // A complete shape (a valid polygon in the canvas CRS); the tool is ready for the next one.
  void geometryFinished(const QgsGeometry& geometry);
  void drawingCancelled();

 private:
  QgsGeometry geometryWith(const QgsPointXY& hover) const;
  void updateBand();
  void finish();
  void addVertex(const QgsPointXY& point);

  Shape mShape;
  QColor mColour;
  QVector<QgsPointXY> mPoints;
  QgsPointXY mHover;
  bool mHasHover = false;
  QPoint mPressPosition;
  QgsRubberBand* mBand = nullptr;
};

// The ground size of an extent, in pixels at a GSD, with a time estimate.
struct RegionSize {
  double widthMetres = 0;
  double heightMetres = 0;
  long long widthPixels = 0;
  long long heightPixels = 0;
  double areaKm2 = 0;
  double seconds = 0;  // 0 when unknown
};

// Metric CRSs are measured in their own units; geographic ones on the WGS 84 ellipsoid along
// the extent's centre lines.
RegionSize measureRegion(const QgsRectangle& extent, const QgsCoordinateReferenceSystem& crs,
                         double gsd, double secondsPerPixel);

// "1 234 × 567 px, 0.29 km², ~2 min".
QString describeRegionSize(const RegionSize& size);
// "45 s", "3 min", "1 h 20 min".
QString describeDuration(double seconds);

}  // namespace terrasynth::plugin
