#pragma once
// The amct-lsp command line (DESIGN.md "Binaries and command line").
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amct::server {

// Dispatches to the language server, --check, --resolve, --estimate,
// --version or --help. Returns the process exit status
// (0 success / no errors, 1 errors found, 2 usage or I/O failure).
int run_main(int argc, char** argv);

// The --help text: every mode and option of DESIGN.md.
std::string usage_text();

// ---- Option parsing shared by the modes ----------------------------------

struct OptionSpec {
  std::string_view name;  // "--format", "-I"
  bool takes_value = false;
};

struct ParsedArguments {
  std::map<std::string, std::vector<std::string>, std::less<>> options;  // name -> values in order
  std::vector<std::string> positionals;

  bool has(std::string_view name) const { return options.find(name) != options.end(); }
  // The last value given for `name` (a later option overrides an earlier one).
  std::optional<std::string> last(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
};

// Accepts `--name value`, `--name=value`, `-I DIR` and `-IDIR`; `--` ends the
// options. Returns nullopt and sets `error` for an unknown option or a missing
// value.
std::optional<ParsedArguments> parse_arguments(const std::vector<std::string>& arguments,
                                               const std::vector<OptionSpec>& specs,
                                               std::string& error);

}  // namespace amct::server
