// The SoC capability table and the layer-type table: the embedded data files
// load cleanly and answer what AMCT_FACTS.md says; the parsers reject bad lines.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/amct/capabilities.h"
#include "core/embedded_files.h"

using namespace amct;

namespace {
bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}
}  // namespace

TEST_CASE("embedded SoC table loads without errors", "[amct]") {
  const SocCatalog& catalog = soc_catalog();
  CHECK(catalog.load_errors.empty());
  CHECK(catalog.series.size() >= 5);
  CHECK(catalog.patterns.size() >= 10);
  for (const char* name : {"Ascend310P1", "Ascend310P3", "Ascend910B1", "Ascend910B2",
                           "Ascend910B3", "Ascend910B4", "Ascend910_9391", "Ascend910",
                           "Ascend910A", "Ascend910ProA", "Ascend910ProB", "Ascend910PremiumA",
                           "Ascend950PR", "Ascend950DT"}) {
    INFO(name);
    CHECK(contains(catalog.known_names, name));
  }
}

TEST_CASE("SoC names map to their series and capabilities", "[amct]") {
  const SocCatalog& catalog = soc_catalog();
  struct Expected {
    const char* soc;
    bool int4, int16, sparsity;
  };
  for (const Expected& e : {Expected{"Ascend310P3", true, false, false},
                            Expected{"Ascend310P1", true, false, false},
                            Expected{"Ascend910B2", false, false, true},
                            Expected{"Ascend910B4-1", false, false, true},
                            Expected{"Ascend910_9391", false, false, true},
                            Expected{"Ascend910", false, false, false},
                            Expected{"Ascend910A", false, false, false},
                            Expected{"Ascend910ProB", false, false, false},
                            Expected{"Ascend910PremiumA", false, false, false},
                            Expected{"Ascend950PR", false, false, false},
                            Expected{"Ascend950DT", false, false, false}}) {
    INFO(e.soc);
    const ProductSeries* series = catalog.find_series(e.soc);
    REQUIRE(series != nullptr);
    CHECK(series->int4 == e.int4);
    CHECK(series->int16 == e.int16);
    CHECK(series->sparsity_4_2 == e.sparsity);
  }
  CHECK(catalog.find_series("Ascend910B2")->id == "atlas-a2");
  CHECK(catalog.find_series("Ascend910_9392")->id == "atlas-a3");
  CHECK(catalog.find_series("Ascend910")->id == "atlas-training");
}

TEST_CASE("unknown SoC names find no series", "[amct]") {
  const SocCatalog& catalog = soc_catalog();
  for (const char* name : {"", "Ascend", "Ascend91", "ascend310p3", "Ascend910X", "Ascend310",
                           "Ascend910ProC", "Ascend9"}) {
    INFO(name);
    CHECK(catalog.find_series(name) == nullptr);
  }
}

TEST_CASE("an exact SoC pattern beats a prefix and a longer prefix beats a shorter one",
          "[amct]") {
  const SocCatalog catalog = parse_soc_catalog(
      "series\tbig\tyes\tno\tno\tBig\n"
      "series\tsmall\tno\tno\tyes\tSmall\n"
      "series\tone\tno\tyes\tno\tOne\n"
      "soc\tChip*\tbig\n"
      "soc\tChipX*\tsmall\n"
      "soc\tChipX7\tone\n");
  CHECK(catalog.load_errors.empty());
  CHECK(catalog.find_series("Chip1")->id == "big");
  CHECK(catalog.find_series("ChipX1")->id == "small");
  CHECK(catalog.find_series("ChipX7")->id == "one");
  CHECK(catalog.find_series("ChipX77")->id == "small");
}

TEST_CASE("a new chip is a data edit", "[amct]") {
  std::string text(embedded::find("soc_capabilities.tsv").value());
  text += "soc\tAscend999Z*\tatlas-a2\nknown\tAscend999Z1\n";
  const SocCatalog catalog = parse_soc_catalog(text);
  CHECK(catalog.load_errors.empty());
  REQUIRE(catalog.find_series("Ascend999Z1") != nullptr);
  CHECK(catalog.find_series("Ascend999Z1")->sparsity_4_2);
  CHECK(contains(catalog.known_names, "Ascend999Z1"));
}

TEST_CASE("malformed SoC table lines are reported and skipped", "[amct]") {
  const SocCatalog catalog = parse_soc_catalog(
      "# comment\n"
      "\n"
      "series\tok\tyes\tno\tno\tOK\n"
      "series\tbad\tmaybe\tno\tno\tBad\n"
      "series\tshort\tyes\n"
      "soc\tChip1\tok\n"
      "soc\tChip2\tmissing-series\n"
      "soc\n"
      "known\tChip1\n"
      "known\tNotAChip\n"
      "gadget\tx\n");
  CHECK(catalog.series.size() == 1);
  CHECK(catalog.patterns.size() == 1);
  CHECK(catalog.known_names == std::vector<std::string>{"Chip1"});
  REQUIRE(catalog.load_errors.size() == 6);
  CHECK(catalog.load_errors[0].rfind("line 4:", 0) == 0);
  CHECK(catalog.load_errors[1].rfind("line 5:", 0) == 0);
}

TEST_CASE("patterns_where lists the SoCs with or without a capability", "[amct]") {
  const SocCatalog& catalog = soc_catalog();
  const auto int4 = [](const ProductSeries& s) { return s.int4; };
  CHECK(catalog.patterns_where(int4, true) == std::vector<std::string>{"Ascend310P*"});
  const auto without = catalog.patterns_where(int4, false);
  CHECK(contains(without, "Ascend910B*"));
  CHECK_FALSE(contains(without, "Ascend310P*"));
}

TEST_CASE("embedded layer-type table matches AMCT's capability lists", "[amct]") {
  const LayerTypeTable& table = layer_type_table();
  CHECK(table.load_errors.empty());
  CHECK(table.types_for(Feature::Quantization) ==
        std::vector<std::string>{"Conv1d", "Conv2d", "Conv3d", "Linear", "ConvTranspose1d",
                                 "ConvTranspose2d", "LSTM", "GRU"});
  CHECK(table.types_for(Feature::FilterPruning) == std::vector<std::string>{"Conv2d", "Linear"});
  CHECK(table.types_for(Feature::SelectivePruning) ==
        std::vector<std::string>{"Conv2d", "Linear", "ConvTranspose2d"});
  CHECK_FALSE(table.find("Linear")->channel_wise_default());
  CHECK_FALSE(table.find("Linear")->channel_wise_allowed);
  CHECK(table.find("Conv2d")->channel_wise_default());
  CHECK(table.find("LSTM")->channel_wise_default());
  CHECK(table.find("conv2d") == nullptr);  // AMCT matches class names exactly
}

TEST_CASE("malformed layer-type lines are reported and skipped", "[amct]") {
  const LayerTypeTable table = parse_layer_type_table(
      "Conv2d\tyes\tyes\tyes\tdefault\tnote\n"
      "Conv2d\tyes\tno\tno\tdefault\n"
      "Linear\tyes\tyes\n"
      "GRU\tyes\tno\tno\tsometimes\n"
      "LSTM\tyes\tno\tno\tforbidden\n");
  CHECK(table.types.size() == 2);
  CHECK(table.find("Conv2d")->note == "note");
  CHECK_FALSE(table.find("LSTM")->channel_wise_allowed);
  CHECK(table.load_errors.size() == 3);
}
