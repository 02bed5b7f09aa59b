#pragma once
// A read-only memory map of a whole file (RAII). Weights files are mapped,
// never read into memory: tensors are views into the mapping, and only the
// pages a kernel touches are read from disk.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace amct::engine {

class MappedFile {
 public:
  // The mapping of `path`, or nullopt with `error` set ("cannot open x: ...").
  // An empty file is mapped as an empty view.
  static std::optional<MappedFile> open(const std::string& path, std::string& error);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view bytes() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  void release();

  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace amct::engine
