#pragma once
// Small text helpers shared by the layers of core/.
#include <cstddef>
#include <string>
#include <string_view>

namespace amct {

// Without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text);

// ASCII lower case.
std::string lowercase(std::string_view text);

// Levenshtein distance, ASCII letters compared case-insensitively (for
// did-you-mean suggestions).
size_t edit_distance_ignoring_case(std::string_view a, std::string_view b);

}  // namespace amct
