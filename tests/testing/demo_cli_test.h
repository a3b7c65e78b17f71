// A fixture for tests of the `nenep` CLI against a real server holding the
// shipped demo data set (tools/demo/demo.jsonl, 361 events):
//
//   class MyTest : public testing::DemoCliTest {};
//   TEST_F(MyTest, X) { std::string out; ASSERT_EQ(Nenep({"status"}, &out), 0);
//   }
#pragma once

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/process.h"
#include "tests/testing/test_server.h"

namespace nenep::testing {

class DemoCliTest : public ::testing::Test {
 protected:
  DemoCliTest() {
    std::string out, err;
    EXPECT_EQ(Nenep({"import",
                     std::string(NENEP_SOURCE_DIR) + "/tools/demo/demo.jsonl"},
                    &out, &err),
              0)
        << err;
  }
  // Runs `nenep --server=... args`; its exit code.
  int Nenep(std::vector<std::string> args, std::string* out,
            std::string* err = nullptr) {
    std::vector<std::string> argv = {BinaryPath("tools/nenep"),
                                     "--server=" + server_.address()};
    for (auto& a : args) argv.push_back(std::move(a));
    return RunCommand(argv, out, err);
  }
  TestServer server_;  // with projections
};

}  // namespace nenep::testing
