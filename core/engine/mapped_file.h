#pragma once
// A read-only memory map of a whole file (RAII). Weights files are mapped,
// never read into memory: tensors are views into the mapping, and only the
// pages a kernel touches are read from disk.
//
// A file truncated in place while mapped makes reads past its new end raise
// SIGBUS, which would kill the process (the language server). Mappings are
// therefore registered with a process-wide SIGBUS handler (installed once, by
// the first open): a fault inside a registered mapping replaces the pages
// from the faulting one to the mapping's end with zero pages and marks the
// mapping changed, so the read goes on (no jump out of a kernel, no unwinding
// through locks or allocations) and callers that read a mapping check
// changed_while_mapped() / mapping_changed_at() afterwards and give
// kFileChangedWhileRead instead of figures. Faults elsewhere go to the handler
// that was installed before (or the default action).
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
  // True once a read of this mapping faulted because the file shrank under
  // it: the bytes from the fault on read as zeros, not as the file.
  bool changed_while_mapped() const;

 private:
  MappedFile() = default;
  void release();

  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  bool heap_ = false;  // data_ is new[]-allocated (copy_of), not a mapping
  std::string path_;
};

// Whether the registered mapping holding `address` changed while mapped (see
// above); false for addresses outside any mapping (heap copies, tests).
bool mapping_changed_at(const void* address);

// Maps the pages of [data, data + bytes) into the process before a kernel
// streams through them, when they lie in a registered mapping (a weights
// file): the CPU drops software prefetches to pages not mapped yet, so the
// first pass over a fresh mapping ran without them (per-tensor ARQ's scan
// at 5-6 GB/s instead of 15 on 2 threads; `--estimate` took twice as long).
// Pages not in the page cache are read from disk: call it only for bytes
// about to be read. True when the pages are mapped; false outside a
// registered mapping, after the file shrank, or on kernels before Linux 5.14
// (no MADV_POPULATE_READ), where reads still fault pages in one by one.
// `threads` > 1 splits a large range over that many threads (the page-table
// work scales: 42 -> 26 ms for 810 MB on 2 threads when the page cache holds
// small folios).
bool map_in_for_reading(const void* data, size_t bytes, unsigned threads = 1);

// Has the SIGBUS handler been installed (by the first MappedFile::open)?
bool mapped_file_guard_installed();

inline constexpr const char* kFileChangedWhileRead =
    "the weights file changed while it was read; estimates will be recomputed when it is rewritten";

}  // namespace amct::engine
