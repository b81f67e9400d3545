// The shape map tool driven by synthetic mouse events on a real (offscreen) map canvas.
#include <gtest/gtest.h>

#include <QApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <memory>

#include "map_tools.h"
#include "qgscoordinatereferencesystem.h"
#include "qgsmapcanvas.h"
#include "qgsmapmouseevent.h"
#include "qgsmaptopixel.h"

namespace terrasynth::plugin {
namespace {

class ShapeMapToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    canvas = std::make_unique<QgsMapCanvas>();
    canvas->setFrameStyle(QFrame::NoFrame);
    canvas->resize(400, 300);
    canvas->show();
    QApplication::processEvents();
    canvas->setDestinationCrs(QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631")));
    canvas->setExtent(QgsRectangle(500000, 5000000, 500400, 5000300));
    QApplication::processEvents();
    tool = std::make_unique<ShapeMapTool>(canvas.get(), ShapeMapTool::Shape::Rectangle);
    canvas->setMapTool(tool.get());
    QObject::connect(tool.get(), &ShapeMapTool::geometryFinished,
                     [this](const QgsGeometry& geometry) { finished.push_back(geometry); });
    QObject::connect(tool.get(), &ShapeMapTool::geometryChanged,
                     [this](const QgsGeometry& geometry) { changed.push_back(geometry); });
    QObject::connect(tool.get(), &ShapeMapTool::drawingCancelled, [this] { ++cancelled; });
  }
  void TearDown() override {
    canvas->unsetMapTool(tool.get());
    tool.reset();
    canvas.reset();
  }

  QgsPointXY map(int x, int y) const {
    return canvas->getCoordinateTransform()->toMapCoordinates(x, y);
  }
  void mouse(QEvent::Type type, int x, int y, Qt::MouseButton button = Qt::LeftButton) {
    QgsMapMouseEvent event(canvas.get(), type, QPoint(x, y),
                           type == QEvent::MouseMove ? Qt::NoButton : button,
                           type == QEvent::MouseButtonPress ? Qt::MouseButtons(button)
                                                            : Qt::MouseButtons());
    switch (type) {
      case QEvent::MouseButtonPress:
        tool->canvasPressEvent(&event);
        break;
      case QEvent::MouseButtonRelease:
        tool->canvasReleaseEvent(&event);
        break;
      case QEvent::MouseButtonDblClick:
        tool->canvasDoubleClickEvent(&event);
        break;
      default:
        tool->canvasMoveEvent(&event);
        break;
    }
  }
  void click(int x, int y, Qt::MouseButton button = Qt::LeftButton) {
    mouse(QEvent::MouseMove, x, y);
    mouse(QEvent::MouseButtonPress, x, y, button);
    mouse(QEvent::MouseButtonRelease, x, y, button);
  }

  std::unique_ptr<QgsMapCanvas> canvas;
  std::unique_ptr<ShapeMapTool> tool;
  std::vector<QgsGeometry> finished;
  std::vector<QgsGeometry> changed;
  int cancelled = 0;
};

TEST_F(ShapeMapToolTest, CanvasMapsOneMetrePerPixel) {
  EXPECT_NEAR(canvas->mapUnitsPerPixel(), 1.0, 1e-9);
  EXPECT_NEAR(map(0, 0).x(), 500000, 1e-6);
  EXPECT_NEAR(map(0, 0).y(), 5000300, 1e-6);
}

TEST_F(ShapeMapToolTest, DraggedRectangleGivesItsExtent) {
  mouse(QEvent::MouseButtonPress, 50, 40);
  mouse(QEvent::MouseMove, 100, 80);
  ASSERT_FALSE(changed.empty());
  EXPECT_NEAR(changed.back().boundingBox().width(), 50, 1e-6);  // live while dragging
  mouse(QEvent::MouseMove, 250, 140);
  mouse(QEvent::MouseButtonRelease, 250, 140);
  ASSERT_EQ(finished.size(), 1u);
  const QgsRectangle box = finished[0].boundingBox();
  EXPECT_NEAR(box.xMinimum(), 500050, 1e-6);
  EXPECT_NEAR(box.xMaximum(), 500250, 1e-6);
  EXPECT_NEAR(box.yMaximum(), 5000260, 1e-6);
  EXPECT_NEAR(box.yMinimum(), 5000160, 1e-6);
  EXPECT_NEAR(finished[0].area(), 200.0 * 100.0, 1e-6);
  EXPECT_TRUE(tool->currentGeometry().isNull());  // ready for the next shape
}

TEST_F(ShapeMapToolTest, RectangleFromTwoClicks) {
  click(300, 200);
  EXPECT_TRUE(finished.empty());
  mouse(QEvent::MouseMove, 330, 250);
  click(380, 290);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_NEAR(finished[0].boundingBox().width(), 80, 1e-6);
  EXPECT_NEAR(finished[0].boundingBox().height(), 90, 1e-6);
}

TEST_F(ShapeMapToolTest, PolygonClosedByRightClick) {
  tool->setShape(ShapeMapTool::Shape::Polygon);
  click(100, 100);
  click(200, 100);
  click(200, 200);
  click(150, 250);
  EXPECT_TRUE(finished.empty());
  click(150, 250, Qt::RightButton);
  ASSERT_EQ(finished.size(), 1u);
  const QgsGeometry polygon = finished[0];
  EXPECT_EQ(polygon.type(), QgsWkbTypes::PolygonGeometry);
  EXPECT_EQ(polygon.constGet()->nCoordinates(), 5);  // four vertices, closed
  // Shoelace area of (100,100) (200,100) (200,200) (150,250) in pixels = metres here:
  // |(-10000) + 20000 + 20000 + (-10000)| / 2.
  EXPECT_NEAR(polygon.area(), 10000, 1e-6);
  EXPECT_TRUE(polygon.boundingBox().contains(map(150, 250)));
}

TEST_F(ShapeMapToolTest, PolygonClosedByDoubleClickIgnoresTheRepeatedVertex) {
  tool->setShape(ShapeMapTool::Shape::Polygon);
  click(10, 10);
  click(110, 10);
  click(110, 60);
  mouse(QEvent::MouseButtonDblClick, 110, 60);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].constGet()->nCoordinates(), 4);
  EXPECT_NEAR(finished[0].area(), 0.5 * 100 * 50, 1e-6);
}

TEST_F(ShapeMapToolTest, RotatedBoxFromASideAndAWidth) {
  tool->setShape(ShapeMapTool::Shape::RotatedBox);
  click(100, 200);
  click(200, 100);  // a side of 100·√2 m at 45°
  EXPECT_TRUE(finished.empty());
  click(250, 150);  // 50·√2 m away from that side
  ASSERT_EQ(finished.size(), 1u);
  const QgsGeometry box = finished[0];
  EXPECT_NEAR(box.area(), (100 * std::sqrt(2.0)) * (50 * std::sqrt(2.0)), 1e-6);
  EXPECT_EQ(box.constGet()->nCoordinates(), 5);
  const QgsPointXY a = map(100, 200);
  const QgsPointXY c = map(250, 150);
  EXPECT_TRUE(box.boundingBox().contains(a));
  EXPECT_TRUE(box.boundingBox().contains(c));
}

TEST_F(ShapeMapToolTest, EscapeAndShortPolygonsCancel) {
  tool->setShape(ShapeMapTool::Shape::Polygon);
  click(10, 10);
  click(50, 10);
  QKeyEvent escape(QEvent::KeyPress, Qt::Key_Escape, Qt::NoModifier);
  tool->keyPressEvent(&escape);
  EXPECT_EQ(cancelled, 1);
  click(10, 10);
  click(50, 10);
  click(50, 10, Qt::RightButton);  // two vertices are no polygon
  EXPECT_EQ(cancelled, 2);
  EXPECT_TRUE(finished.empty());
}

TEST_F(ShapeMapToolTest, BackspaceRemovesTheLastVertex) {
  tool->setShape(ShapeMapTool::Shape::Polygon);
  click(0, 0);
  click(100, 0);
  click(300, 300);
  QKeyEvent backspace(QEvent::KeyPress, Qt::Key_Backspace, Qt::NoModifier);
  tool->keyPressEvent(&backspace);
  click(100, 100);
  QKeyEvent enter(QEvent::KeyPress, Qt::Key_Return, Qt::NoModifier);
  tool->keyPressEvent(&enter);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_NEAR(finished[0].area(), 0.5 * 100 * 100, 1e-6);
}

TEST_F(ShapeMapToolTest, EventsSentToTheCanvasReachTheTool) {
  // The route the self-test hook takes: real mouse events on the canvas viewport.
  auto send = [this](QEvent::Type type, int x, int y) {
    QMouseEvent event(type, QPointF(x, y), canvas->viewport()->mapToGlobal(QPoint(x, y)),
                      type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton,
                      type == QEvent::MouseButtonRelease ? Qt::MouseButtons() : Qt::LeftButton,
                      Qt::NoModifier);
    QApplication::sendEvent(canvas->viewport(), &event);
  };
  send(QEvent::MouseButtonPress, 20, 20);
  send(QEvent::MouseMove, 120, 70);
  send(QEvent::MouseButtonRelease, 120, 70);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_NEAR(finished[0].area(), 100 * 50, 1e-6);
}

TEST(RegionSize, MetricExtentInPixelsAndTime) {
  const RegionSize size =
      measureRegion(QgsRectangle(500000, 5000000, 501000, 5000500),
                    QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631")), 0.5, 1e-4);
  EXPECT_DOUBLE_EQ(size.widthMetres, 1000);
  EXPECT_DOUBLE_EQ(size.heightMetres, 500);
  EXPECT_EQ(size.widthPixels, 2000);
  EXPECT_EQ(size.heightPixels, 1000);
  EXPECT_DOUBLE_EQ(size.areaKm2, 0.5);
  EXPECT_NEAR(size.seconds, 200, 1e-9);
}

TEST(RegionSize, FeetAreConvertedToMetres) {
  // NAD83 / Texas North Central (ftUS)
  const RegionSize size = measureRegion(QgsRectangle(0, 0, 1000, 1000),
                                        QgsCoordinateReferenceSystem(QStringLiteral("EPSG:2276")),
                                        1.0, 0);
  EXPECT_NEAR(size.widthMetres, 304.8006, 1e-3);
  EXPECT_EQ(size.widthPixels, 305);
}

TEST(RegionSize, GeographicExtentMeasuredOnTheEllipsoid) {
  // 0.01° of longitude at the equator is 1113.2 m; 0.01° of latitude is 1105.7 m.
  const RegionSize size =
      measureRegion(QgsRectangle(10.0, -0.005, 10.01, 0.005),
                    QgsCoordinateReferenceSystem(QStringLiteral("EPSG:4326")), 1.0, 0);
  EXPECT_NEAR(size.widthMetres, 1113.2, 1.0);
  EXPECT_NEAR(size.heightMetres, 1105.7, 1.0);
  EXPECT_EQ(size.seconds, 0);
}

TEST(RegionSize, DescribedInWords) {
  EXPECT_EQ(describeDuration(12.4), QStringLiteral("12 s"));
  EXPECT_EQ(describeDuration(600), QStringLiteral("10 min"));
  EXPECT_EQ(describeDuration(3 * 3600 + 120), QStringLiteral("3 h 2 min"));
  RegionSize size;
  size.widthPixels = 2000;
  size.heightPixels = 1000;
  size.areaKm2 = 0.5;
  size.seconds = 200;
  const QString text = describeRegionSize(size);
  EXPECT_TRUE(text.contains(QStringLiteral("px"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("3 min"))) << text.toStdString();
}

}  // namespace
}  // namespace terrasynth::plugin
