#include "core/engine/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace amct::engine {
namespace {

// ---- the registry of mappings the SIGBUS handler may repair ----------------------
// Fixed slots of lock-free atomics: the handler only loads and stores them.

struct GuardedMapping {
  std::atomic<uintptr_t> begin{0};  // 0: free slot
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> changed{false};
};
constexpr size_t kGuardedMappings = 256;  // more mappings at once: the rest unguarded
GuardedMapping g_mappings[kGuardedMappings];
struct sigaction g_previous_action {};
std::atomic<bool> g_installed{false};
uintptr_t g_page_size = 4096;
// Bumped by every (un)registration: a range mapped in before may now be
// another mapping at the same address.
std::atomic<uint64_t> g_mappings_generation{0};

GuardedMapping* mapping_holding(uintptr_t address) {
  for (GuardedMapping& m : g_mappings) {
    const uintptr_t begin = m.begin.load(std::memory_order_acquire);
    if (begin != 0 && begin <= address && address < m.end.load(std::memory_order_acquire)) return &m;
  }
  return nullptr;
}

void forward_to_previous(int signal, siginfo_t* info, void* context) {
  const struct sigaction& previous = g_previous_action;
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(signal, info, context);
  } else if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL &&
             previous.sa_handler != SIG_IGN && previous.sa_handler != nullptr) {
    previous.sa_handler(signal);
  } else {
    // The default action: restore it; returning re-runs the faulting access,
    // which then terminates the process as it would have without us.
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(SIGBUS, &fallback, nullptr);
    if (info == nullptr || info->si_code <= 0) ::raise(SIGBUS);  // sent, not a fault: send it again
  }
}

// Only async-signal-safe work: atomics and mmap (a system call).
void on_sigbus(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const uintptr_t address = info ? reinterpret_cast<uintptr_t>(info->si_addr) : 0;
  GuardedMapping* mapping = (info && info->si_code > 0) ? mapping_holding(address) : nullptr;
  if (mapping != nullptr) {
    const uintptr_t page = address & ~(g_page_size - 1);
    const uintptr_t end = mapping->end.load(std::memory_order_acquire);
    // Zero pages in place of the vanished part of the file: the read resumes.
    void* zeros = ::mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zeros != MAP_FAILED) {
      mapping->changed.store(true, std::memory_order_release);
      errno = saved_errno;
      return;
    }
  }
  errno = saved_errno;
  forward_to_previous(signal, info, context);
}

void install_guard() {
  static std::once_flag once;
  std::call_once(once, [] {
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page > 0) g_page_size = static_cast<uintptr_t>(page);
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (::sigaction(SIGBUS, &action, &g_previous_action) == 0) g_installed.store(true);
  });
}

void register_mapping(const unsigned char* data, size_t size) {
  install_guard();
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  for (GuardedMapping& m : g_mappings) {
    uintptr_t expected = 0;
    // Claim the slot with a placeholder end first so the handler never sees a
    // begin without its end.
    if (m.end.load(std::memory_order_acquire) != 0) continue;
    if (!m.end.compare_exchange_strong(expected, begin + size, std::memory_order_acq_rel)) continue;
    m.changed.store(false, std::memory_order_relaxed);
    m.begin.store(begin, std::memory_order_release);
    ++g_mappings_generation;
    return;
  }
}

void unregister_mapping(const unsigned char* data) {
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  for (GuardedMapping& m : g_mappings) {
    if (m.begin.load(std::memory_order_acquire) != begin) continue;
    m.begin.store(0, std::memory_order_release);
    m.changed.store(false, std::memory_order_relaxed);
    m.end.store(0, std::memory_order_release);
    ++g_mappings_generation;
    return;
  }
}

}  // namespace

bool mapping_changed_at(const void* address) {
  const GuardedMapping* m = mapping_holding(reinterpret_cast<uintptr_t>(address));
  return m != nullptr && m->changed.load(std::memory_order_acquire);
}

namespace {

// Every thread maps in its share of [begin, end) (page-aligned), the caller
// the first. False if any part failed.
bool populate_on_threads(uintptr_t begin, uintptr_t end, unsigned threads) {
#ifdef MADV_POPULATE_READ
  constexpr int kPopulateRead = MADV_POPULATE_READ;
#else
  constexpr int kPopulateRead = 22;  // Linux 5.14; older kernels answer EINVAL
#endif
  auto populate = [](uintptr_t from, uintptr_t to) {
    return from >= to || ::madvise(reinterpret_cast<void*>(from), to - from, kPopulateRead) == 0;
  };
  const uintptr_t share = ((end - begin) / threads + g_page_size - 1) & ~(g_page_size - 1);
  std::vector<std::thread> helpers;
  std::atomic<bool> helpers_ok{true};
  for (unsigned t = 1; t < threads; ++t) {
    const uintptr_t from = std::min(end, begin + t * share), to = std::min(end, from + share);
    helpers.emplace_back([&, from, to] {
      if (!populate(from, to)) helpers_ok = false;
    });
  }
  const bool ok = populate(begin, std::min(end, begin + share));
  for (std::thread& helper : helpers) helper.join();
  return ok && helpers_ok;
}

}  // namespace

bool map_in_for_reading(const void* data, size_t bytes, unsigned threads) {
  // Below this a second thread costs more than it saves.
  constexpr size_t kSplitBytes = size_t{32} << 20;
  // The range this thread mapped in last: an estimate maps in a layer's next
  // weight, then that weight again as the next layer's own; walking mapped
  // pages again costs 10-70 ns a page (1.4 ms for ResNet-50's weights).
  struct Range {
    uintptr_t begin = 0, end = 0;
    uint64_t generation = 0;
  };
  thread_local Range last;
  const uintptr_t address = reinterpret_cast<uintptr_t>(data);
  const GuardedMapping* mapping = mapping_holding(address);
  if (mapping == nullptr || bytes == 0) return false;
  const uintptr_t begin = address & ~(g_page_size - 1);
  const uintptr_t end = std::min<uintptr_t>(address + bytes, mapping->end.load(std::memory_order_acquire));
  const uint64_t generation = g_mappings_generation.load();
  if (last.generation == generation && last.begin <= begin && end <= last.end) return true;
  // A shrunk file gives EFAULT here, not SIGBUS: the guard sees the read.
  if (!populate_on_threads(begin, end, end - begin >= kSplitBytes ? std::max(1u, threads) : 1)) return false;
  last = {begin, end, generation};
  return true;
}

bool mapped_file_guard_installed() { return g_installed.load(); }

bool MappedFile::changed_while_mapped() const { return !heap_ && data_ != nullptr && mapping_changed_at(data_); }

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
    register_mapping(file.data_, file.size_);
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
    if (heap_) {
      delete[] data_;
    } else {
      unregister_mapping(data_);
      ::munmap(const_cast<unsigned char*>(data_), size_);
    }
  }
  data_ = nullptr;
  size_ = 0;
  heap_ = false;
}

}  // namespace amct::engine
