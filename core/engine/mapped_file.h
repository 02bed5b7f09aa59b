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
  // A heap copy of `bytes` standing in for the file `name` (fuzzing, tests,
  // buffers that are not files): exactly `bytes.size()` bytes are allocated,
  // so a read past the end is a heap overflow AddressSanitizer reports
  // (with a mapping it would land in the page's zero tail, unnoticed).
  static MappedFile copy_of(std::string_view bytes, std::string name);

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
  bool heap_ = false;  // data_ is new[]-allocated (copy_of), not a mapping
  std::string path_;
};

}  // namespace amct::engine
