#pragma once
// Data files from data/ compiled into the binary (see cmake/EmbedFiles.cmake).
#include <optional>
#include <string_view>
#include <vector>

namespace amct::embedded {

struct EmbeddedFile {
  std::string_view name;
  std::string_view contents;
};

const std::vector<EmbeddedFile>& files();
std::optional<std::string_view> find(std::string_view name);

}  // namespace amct::embedded
