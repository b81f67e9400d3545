#include <gtest/gtest.h>

#include "terrasynth/engine/device.h"
#include "terrasynth/engine/error.h"

using namespace terrasynth::engine;

TEST(Device, ParsesKnownNamesAndRejectsOthers) {
  EXPECT_EQ(parse_device_kind("cpu"), DeviceKind::Cpu);
  EXPECT_EQ(parse_device_kind("cuda"), DeviceKind::Cuda);
  EXPECT_EQ(parse_device_kind("auto"), DeviceKind::Auto);
  try {
    parse_device_kind("tpu");
    FAIL() << "expected an error";
  } catch (const EngineError& error) {
    EXPECT_EQ(error.kind(), EngineError::Kind::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("tpu"), std::string::npos);
  }
}

TEST(Device, ConfiguresRequestedThreadCount) {
  EXPECT_EQ(configure_cpu_threads(2), 2);
  DeviceOptions cpu;
  cpu.device = DeviceKind::Cpu;
  cpu.threads = 2;
  EXPECT_EQ(describe_device(cpu), "CPU, 2 threads");
}
