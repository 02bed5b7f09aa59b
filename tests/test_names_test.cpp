// CTest runs each test case by passing its name to the Catch2 binary; a name
// that starts with '-' is read as an option there, so the case fails under
// ctest while it passes when the binary is run directly.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

TEST_CASE("no test case name starts with '-' (ctest passes names as arguments)", "[suite]") {
  std::vector<std::string> bad;
  for (const Catch::TestCase& test : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
    if (!test.name.empty() && test.name.front() == '-') bad.push_back(test.name);
  }
  INFO("test cases named like options: " << Catch::Detail::stringify(bad));
  CHECK(bad.empty());
}
