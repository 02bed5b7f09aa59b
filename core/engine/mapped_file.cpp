#include "core/engine/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace amct::engine {

std::optional<MappedFile> MappedFile::open(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    error = "cannot map " + path + ": not a regular file";
    ::close(fd);
    return std::nullopt;
  }
  MappedFile file;
  file.path_ = path;
  file.size_ = static_cast<size_t>(info.st_size);
  if (file.size_ > 0) {
    void* mapping = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      error = "cannot map " + path + ": " + std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    // Kernels stream through tensors front to back.
    ::madvise(mapping, file.size_, MADV_SEQUENTIAL);
    file.data_ = static_cast<const unsigned char*>(mapping);
  }
  ::close(fd);  // the mapping keeps the file alive
  return file;
}

MappedFile MappedFile::copy_of(std::string_view bytes, std::string name) {
  MappedFile file;
  file.path_ = std::move(name);
  file.size_ = bytes.size();
  if (!bytes.empty()) {
    auto* copy = new unsigned char[bytes.size()];
    std::memcpy(copy, bytes.data(), bytes.size());
    file.data_ = copy;
    file.heap_ = true;
  }
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_), size_(other.size_), heap_(other.heap_), path_(std::move(other.path_)) {
  other.data_ = nullptr;
  other.size_ = 0;
  other.heap_ = false;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = other.data_;
    size_ = other.size_;
    heap_ = other.heap_;
    path_ = std::move(other.path_);
    other.data_ = nullptr;
    other.size_ = 0;
    other.heap_ = false;
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
  if (data_ != nullptr) {
    if (heap_)
      delete[] data_;
    else
      ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  data_ = nullptr;
  size_ = 0;
  heap_ = false;
}

}  // namespace amct::engine
