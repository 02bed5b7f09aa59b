// MappedFile's reading aids (core/engine/mapped_file.h): map_in_for_reading
// maps a file's pages into the process before a kernel streams through them.
// Whether pages are mapped is read from /proc/self/smaps (the mapping's Rss).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/engine/mapped_file.h"
#include "support/temp_dir.h"

namespace amct::engine {
namespace {

constexpr size_t kFileBytes = size_t{2} << 20;  // 512 pages of 4 KB

// Resident KB of the mapping that starts at `data` (-1: not found).
long mapped_kb(const void* data) {
  char start[32];
  std::snprintf(start, sizeof start, "%lx-", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(data)));
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    if (line.rfind(start, 0) == 0) {
      inside = true;
    } else if (inside && line.rfind("Rss:", 0) == 0) {
      std::istringstream fields(line.substr(4));
      long kb = -1;
      fields >> kb;
      return kb;
    }
  }
  return -1;
}

// False (with a warning) where the kernel has no MADV_POPULATE_READ (before 5.14).
bool kernel_maps_in() {
  test::TempDir dir;
  std::string error;
  const std::optional<MappedFile> probe = MappedFile::open(dir.write("probe.bin", std::string(4096, 'p')), error);
  if (probe && map_in_for_reading(probe->data(), probe->size())) return true;
  WARN("this kernel has no MADV_POPULATE_READ: map_in_for_reading is a no-op here");
  return false;
}

}  // namespace

// The kernel maps page-cache folios whole (up to 2 MB here when a file was
// written in one piece), so a part may bring in more than its own pages.
TEST_CASE("map_in_for_reading maps a weights file's pages before they are read", "[engine][mapped-file]") {
  if (!kernel_maps_in()) return;
  test::TempDir dir;
  const std::string path = dir.write("w.bin", std::string(kFileBytes, 'w'));
  std::string error;
  std::optional<MappedFile> file = MappedFile::open(path, error);
  REQUIRE(file);
  REQUIRE(mapped_kb(file->data()) == 0);
  const size_t from = kFileBytes / 4 + 100, bytes = kFileBytes / 2;
  CHECK(map_in_for_reading(file->data() + from, bytes));
  CHECK(mapped_kb(file->data()) >= static_cast<long>(bytes / 1024));
  CHECK(map_in_for_reading(file->data(), kFileBytes));
  CHECK(mapped_kb(file->data()) == static_cast<long>(kFileBytes / 1024));

  // A new mapping of the same file, usually at the same address: the range
  // this thread mapped in last is no longer mapped, and is mapped in again.
  const unsigned char* first_address = file->data();
  file.reset();
  file = MappedFile::open(path, error);
  REQUIRE(file);
  if (file->data() != first_address) WARN("the new mapping is elsewhere: the same-address case is not exercised");
  REQUIRE(mapped_kb(file->data()) == 0);
  CHECK(map_in_for_reading(file->data(), kFileBytes));
  CHECK(mapped_kb(file->data()) == static_cast<long>(kFileBytes / 1024));
}

TEST_CASE("map_in_for_reading splits a large range over threads, all of it mapped", "[engine][mapped-file]") {
  if (!kernel_maps_in()) return;
  test::TempDir dir;
  const size_t bytes = (size_t{40} << 20) + 3 * 4096;  // above the 32 MB split, not a multiple of 2 MB
  std::string error;
  const std::optional<MappedFile> file = MappedFile::open(dir.write("big.bin", std::string(bytes, 'b')), error);
  REQUIRE(file);
  REQUIRE(mapped_kb(file->data()) == 0);
  CHECK(map_in_for_reading(file->data(), bytes, 3));
  CHECK(mapped_kb(file->data()) == static_cast<long>(bytes / 1024));
}

TEST_CASE("map_in_for_reading leaves memory that is not a weights mapping alone", "[engine][mapped-file]") {
  const MappedFile copy = MappedFile::copy_of(std::string(8192, 'c'), "copy.bin");
  CHECK_FALSE(map_in_for_reading(copy.data(), copy.size()));
  const std::string heap(8192, 'h');
  CHECK_FALSE(map_in_for_reading(heap.data(), heap.size()));
}

TEST_CASE("map_in_for_reading on a file truncated while mapped: false, no SIGBUS", "[engine][mapped-file][sigbus]") {
  test::TempDir dir;
  const std::string path = dir.write("t.bin", std::string(kFileBytes, 't'));
  std::string error;
  const std::optional<MappedFile> file = MappedFile::open(path, error);
  REQUIRE(file);
  if (!kernel_maps_in()) return;
  REQUIRE(::truncate(path.c_str(), 4096) == 0);
  CHECK_FALSE(map_in_for_reading(file->data() + 8192, kFileBytes - 8192));
  CHECK_FALSE(file->changed_while_mapped());  // nothing was read past the end
}

}  // namespace amct::engine
