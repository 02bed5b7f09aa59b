#include "server/check_runner.h"

#include "core/amct/amct_checks.h"
#include "core/amct/config.h"
#include "core/engine/mapped_file.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <system_error>
#include <thread>

#include "core/parallel.h"
#include "core/syntax/utf.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace amct::server {
namespace fs = std::filesystem;

const std::vector<std::string>& checked_extensions() {
  static const std::vector<std::string> extensions = {".cfg", ".txtpb", ".textproto", ".pbtxt",
                                                      ".prototxt"};
  return extensions;
}

namespace {

bool has_checked_extension(const fs::path& path) {
  const std::string extension = path.extension().string();
  const auto& known = checked_extensions();
  return std::find(known.begin(), known.end(), extension) != known.end();
}

std::string extension_list() {
  std::string list;
  const auto& known = checked_extensions();
  for (size_t i = 0; i < known.size(); ++i) {
    if (i > 0) list += i + 1 == known.size() ? " or " : ", ";
    list += "*" + known[i];
  }
  return list;
}

// Regular files under `directory` with a checked extension, sorted by path.
// Symbolic links to directories are not followed (no cycles); unreadable
// subdirectories are skipped.
std::vector<std::string> files_under(const fs::path& directory, std::string& error) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(directory, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    error = "cannot read directory '" + directory.string() + "': " + ec.message();
    return files;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && has_checked_extension(it->path())) {
      files.push_back(it->path().string());
    }
  }
  if (ec) error = "cannot read directory '" + directory.string() + "': " + ec.message();
  std::sort(files.begin(), files.end());
  return files;
}

// Documents address text with 32-bit offsets: larger files are refused
// (with an I/O error) instead of being checked with wrapped offsets.
constexpr size_t kMaxFileBytes = size_t{2} << 30;

// Reads the whole file; returns false with a message naming the reason.
// A regular file is read in one go into a buffer of its size (a 35 MB
// config in 64 KB appends costs a copy per doubling of the string); other
// files (pipes, /proc) are read in chunks until EOF.
bool read_file(const std::string& path, std::string& contents, std::string& error) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) {
    error = std::strerror(errno);
    return false;
  }
  contents.clear();
  struct stat status {};
  if (::fstat(descriptor, &status) == 0 && S_ISREG(status.st_mode)) {
    if (static_cast<uint64_t>(status.st_size) > kMaxFileBytes) {
      ::close(descriptor);
      error = "the file is larger than 2 GiB, the most --check reads";
      return false;
    }
    contents.resize(static_cast<size_t>(status.st_size));
  }
  // [0, size) is read; the rest of `contents` is room (the file's size, or
  // chunks once it is full: the file grew, or its size was unknown).
  size_t size = 0;
  char chunk[1 << 16];
  while (true) {
    const bool room = size < contents.size();
    const ssize_t got = room ? ::read(descriptor, contents.data() + size, contents.size() - size)
                             : ::read(descriptor, chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int saved_errno = errno;
      ::close(descriptor);
      contents.clear();
      error = std::strerror(saved_errno);
      return false;
    }
    if (got == 0) break;
    if (!room) contents.append(chunk, static_cast<size_t>(got));
    size += static_cast<size_t>(got);
    if (size > kMaxFileBytes) {
      ::close(descriptor);
      contents.clear();
      error = "the file is larger than 2 GiB, the most --check reads";
      return false;
    }
  }
  ::close(descriptor);
  contents.resize(size);
  return true;
}

std::string describe_invalid_utf8(std::string_view text, ByteRange range) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[range.start]));
  return std::string("invalid UTF-8: byte ") + hex +
         " is not part of a valid UTF-8 character; text format files must be UTF-8 "
         "(is this a binary file or another encoding?)";
}

// Byte offset -> 1-based line and column, as Document::line_column_at, for
// the text of a check (with or without a Document). Columns are counted
// from the previous offset when it is on the same line and not after this
// one: 100,000 diagnostics on one 1 MB line (a long list) would otherwise be
// quadratic, minutes of work (hostile-config finding).
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) : text_(text) {
    line_starts_.push_back(0);
    const size_t size = text.size();
    // Room for a line per 16 bytes (the generated configs have one per 23):
    // growing the vector would copy it and take a new block.
    if (size < kParallelLineIndex) {
      line_starts_.reserve(size / 16 + 2);
      ascii_ = scan(text, 0, size, line_starts_);
      return;
    }
    // Two halves on two threads (a 35 MB config has 1.5 million lines: ~14
    // ms on one), the second's starts appended to the first's.
    std::vector<uint32_t> second_starts;
    bool first_ascii = true;
    bool second_ascii = true;
    const size_t half = size / 2;
    run_both(
        true,
        [&] {
          line_starts_.reserve(size / 16 + 2);
          first_ascii = scan(text, 0, half, line_starts_);
        },
        [&] {
          second_starts.reserve((size - half) / 16 + 1);
          second_ascii = scan(text, half, size, second_starts);
        });
    line_starts_.insert(line_starts_.end(), second_starts.begin(), second_starts.end());
    ascii_ = first_ascii && second_ascii;
  }
  std::string_view text() const { return text_; }
  // No byte >= 0x80: every byte is one character, one column.
  bool ascii() const { return ascii_; }
  // The line (0-based) holding `offset`.
  uint32_t line_of(uint32_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    return static_cast<uint32_t>(it - line_starts_.begin() - 1);
  }
  // The same, searching forward from `hint` (a line at or before the
  // offset's) in steps that double: offsets in position order cost a few
  // steps each instead of a binary search over 1.5 million lines.
  uint32_t line_of(uint32_t offset, uint32_t hint) const {
    if (hint >= line_starts_.size() || line_starts_[hint] > offset) return line_of(offset);
    size_t low = hint;  // line_starts_[low] <= offset
    size_t step = 1;
    while (low + step < line_starts_.size() && line_starts_[low + step] <= offset) {
      low += step;
      step *= 2;
    }
    const size_t high = std::min(low + step, line_starts_.size());  // line_starts_[high] > offset, or the end
    const auto it = std::upper_bound(line_starts_.begin() + static_cast<std::ptrdiff_t>(low),
                                     line_starts_.begin() + static_cast<std::ptrdiff_t>(high), offset);
    return static_cast<uint32_t>(it - line_starts_.begin() - 1);
  }
  uint32_t line_start(uint32_t line) const { return line_starts_[line]; }

 private:
  // From this size on, the two halves of the text are indexed on two threads.
  static constexpr size_t kParallelLineIndex = size_t{4} << 20;

  // Appends the start of each line that begins in [begin, end) (after a
  // newline in it) to `starts`; returns whether those bytes are all ASCII.
  // Newlines and bytes >= 0x80 in one pass, 16 bytes at a time.
  static bool scan(std::string_view text, size_t begin, size_t end, std::vector<uint32_t>& starts) {
    const char* data = text.data();
    size_t at = begin;
    bool ascii = true;
#if defined(__SSE2__)
    const __m128i newline = _mm_set1_epi8('\n');
    __m128i high = _mm_setzero_si128();
    for (; at + 16 <= end; at += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at));
      high = _mm_or_si128(high, bytes);
      for (unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, newline))); mask != 0;
           mask &= mask - 1)
        starts.push_back(static_cast<uint32_t>(at + static_cast<size_t>(__builtin_ctz(mask)) + 1));
    }
    ascii = _mm_movemask_epi8(high) == 0;
#endif
    for (; at < end; ++at) {
      if (data[at] == '\n') starts.push_back(static_cast<uint32_t>(at + 1));
      if (static_cast<unsigned char>(data[at]) >= 0x80) ascii = false;
    }
    return ascii;
  }

  std::string_view text_;
  std::vector<uint32_t> line_starts_;
  bool ascii_ = true;
};

class LineColumnCursor {
 public:
  explicit LineColumnCursor(const LineIndex& index) : index_(index) {}
  syntax::LineColumn operator()(uint32_t offset) {
    const std::string_view text = index_.text();
    offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text.size()));
    const uint32_t line = line_ == UINT32_MAX ? index_.line_of(offset) : index_.line_of(offset, line_);
    // An ASCII text's column is the distance from the line start: the text
    // itself is not read (100,000 diagnostics of a 35 MB config: each
    // read of its line was a cache miss).
    if (index_.ascii()) {
      line_ = line;
      return {line + 1, offset - index_.line_start(line) + 1};
    }
    if (line != line_ || offset < at_) {
      line_ = line;
      at_ = index_.line_start(line);
      column_ = 1;
    }
    // In locals (the members would be stored and reloaded every byte), and
    // eight ASCII bytes at a time: each is one byte and one column.
    uint32_t at = at_;
    uint32_t column = column_;
    const char* data = text.data();
    while (at < offset) {
      uint64_t eight;
      if (offset - at >= 8) {
        std::memcpy(&eight, data + at, 8);
        if ((eight & 0x8080808080808080ull) == 0) {
          at += 8;
          column += 8;
          continue;
        }
      }
      at += static_cast<unsigned char>(data[at]) < 0x80 ? 1 : syntax::decode_utf8(text, at).length;
      ++column;
    }
    at_ = at;
    column_ = column;
    return {line_ + 1, column_};
  }

 private:
  const LineIndex& index_;
  uint32_t line_ = UINT32_MAX;
  uint32_t at_ = 0;
  uint32_t column_ = 1;
};

// One cursor per kind of offset: each kind comes in position order.
struct Locators {
  explicit Locators(const LineIndex& index) : start(index), end(index), related(index) {}
  LineColumnCursor start, end, related;
};

// Takes the strings of `diagnostic` (100,000 diagnostics: no copies), into
// `located` (in place in its vector: no temporary to move and destroy); the
// related list is released here, on the locating thread, so
// that the emptied diagnostics cost little to free afterwards.
void locate_into(Locators& locators, Diagnostic&& diagnostic, LocatedDiagnostic& located) {
  located.start = locators.start(diagnostic.range.start);
  located.end = locators.end(diagnostic.range.end);
  located.severity = diagnostic.severity;
  located.code = std::move(diagnostic.code);
  located.message = std::move(diagnostic.message);
  std::vector<RelatedInformation> related_list = std::move(diagnostic.related);
  located.related.reserve(related_list.size());
  for (RelatedInformation& related : related_list) {
    located.related.push_back({locators.related(related.range.start), locators.related(related.range.end),
                               std::move(related.message)});
  }
}

// From this many diagnostics on, the two halves are located on two threads
// (each with its own cursors: a cursor's answer does not depend on where it
// started).
constexpr size_t kParallelLocate = 8192;

// The diagnostics of `analysis`, located with `lines` (an index of the same
// text). Their strings and related lists are moved out; the emptied
// diagnostics stay in `analysis` and go with it (--check keeps it until
// exit: a walk over 100,000 of them here, on one thread, was ~3 ms of
// cache misses).
std::vector<LocatedDiagnostic> locate_all(const LineIndex& lines, Analysis& analysis) {
  std::vector<Diagnostic>& diagnostics = analysis.diagnostics;
  std::vector<LocatedDiagnostic> located(diagnostics.size());
  const auto locate_range = [&](size_t begin, size_t end) {
    Locators locators(lines);
    for (size_t i = begin; i < end; ++i) locate_into(locators, std::move(diagnostics[i]), located[i]);
  };
  const size_t half = diagnostics.size() / 2;
  run_both(
      diagnostics.size() >= kParallelLocate, [&] { locate_range(0, half); },
      [&] { locate_range(half, diagnostics.size()); });
  return located;
}

// Adds the model-aware checks to an AMCT config's diagnostics, in position order.
void add_model_checks(const syntax::Document& document, const AnalysisOptions& options,
                      const std::vector<engine::ModelLayerInfo>& model_layers, Analysis& analysis) {
  if (model_layers.empty() || !analysis.bound || !is_amct_config(*analysis.bound)) return;
  engine::ModelCheckOptions check;
  check.resolve.api = resolve_amct_options(document, {options.soc, options.api}).context.api;
  for (Diagnostic& diagnostic :
       engine::check_config_against_model(extract_config(analysis.bound->root), model_layers, check)) {
    analysis.diagnostics.push_back(std::move(diagnostic));
  }
  std::stable_sort(analysis.diagnostics.begin(), analysis.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });
}

// The single-pass check of `text` into `report`; false when that path
// declines (syntax errors, invalid UTF-8, ...), where only the tree-sitter
// path is exact. The line index is built after the analysis: built beside
// it, on a third thread, it took its time from the two threads of the
// parse (~20 ms later on a 35 MB config with two cores).
bool check_without_tree(std::string_view text, const AnalysisOptions& options, FileReport& report) {
  std::optional<Analysis> fast_analysis = analyze_without_tree(text, options);
  if (!fast_analysis) return false;
  report.schema = fast_analysis->schema_description;
  const LineIndex lines(text);
  report.diagnostics = locate_all(lines, *fast_analysis);
  report.analysis = std::make_shared<const Analysis>(std::move(*fast_analysis));
  return true;
}

// From this size on, a file is mapped instead of read.
constexpr size_t kMapFromBytes = size_t{1} << 20;

// The file mapped for reading, when it is a regular file of at least
// kMapFromBytes and of a size --check reads; nullopt otherwise (then
// read_file() reads it or names the error). Mapping spares the copy of the
// bytes (and as much fresh memory: a 35 MB config); a file shrunk while
// mapped is noticed (MappedFile's SIGBUS handling) and read again. Small
// files are read: a mapping costs more than their copy.
std::optional<engine::MappedFile> map_file(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode) ||
      static_cast<uint64_t>(status.st_size) < kMapFromBytes)
    return std::nullopt;
  std::string ignored;
  std::optional<engine::MappedFile> mapped = engine::MappedFile::open(path, ignored);
  if (mapped && mapped->size() > kMaxFileBytes) mapped.reset();
  return mapped;
}

FileReport check_one_file(const std::string& path, const AnalysisOptions& base_options,
                          const std::vector<engine::ModelLayerInfo>& model_layers) {
  FileReport report;
  report.path = path;
  AnalysisOptions options = base_options;
  options.path = path;
  // The single-pass path answers for most files. Model checks read the API
  // mode from the Document's headers, so a check against a model takes the
  // tree-sitter path.
  const bool single_pass = model_layers.empty();
  std::optional<engine::MappedFile> mapped;
  if (single_pass) mapped = map_file(path);
  std::string contents;
  bool declined = false;  // the single pass declined the file's bytes: `contents` holds them
  try {
    if (mapped) {
      const bool answered = check_without_tree(mapped->bytes(), options, report);
      if (answered && !mapped->changed_while_mapped()) return report;
      if (!answered) contents.assign(mapped->bytes());  // the Document's own copy
      if (mapped->changed_while_mapped()) {  // not the file's bytes (a zero tail): read the file as it is now
        report = FileReport();
        report.path = path;
        contents.clear();
      } else {
        declined = true;
      }
      mapped.reset();
    }
  } catch (const std::exception& exception) {
    report.read_error = "internal error while checking '" + path + "': " + exception.what();
    report.diagnostics.clear();
    return report;
  }
  std::string error;
  if (!declined && !read_file(path, contents, error)) {
    report.read_error = "cannot read '" + path + "': " + error;
    return report;
  }
  try {
    if (single_pass && !declined && check_without_tree(contents, options, report)) return report;
    syntax::Document document(std::move(contents));
    Analysis analysis = check_document(document, options);
    add_model_checks(document, options, model_layers, analysis);
    report.schema = analysis.schema_description;
    report.diagnostics = locate_all(LineIndex(document.text()), analysis);
  } catch (const std::exception& exception) {
    // Parsing never fails by contract; if a layer still throws (out of
    // memory, a bug), report it for this file and go on with the others.
    report.read_error = "internal error while checking '" + path + "': " + exception.what();
    report.diagnostics.clear();
  }
  return report;
}

// Runs task(0..count-1) on `jobs` threads. The threads get a large stack
// (address space only, committed on use): analysis walks trees recursively
// and deeply nested input (10,000 levels and more) must not overflow it.
void run_parallel(size_t count, unsigned jobs, const std::function<void(size_t)>& task) {
  std::atomic<size_t> next{0};
  std::function<void()> work = [&] {
    for (size_t i = next++; i < count; i = next++) task(i);
  };
  auto entry = [](void* argument) -> void* {
    (*static_cast<std::function<void()>*>(argument))();
    return nullptr;
  };
  constexpr size_t kStackBytes = size_t{512} << 20;
  unsigned threads = std::max(1u, std::min<unsigned>(jobs, static_cast<unsigned>(count)));
  std::vector<pthread_t> started;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kStackBytes);
  for (unsigned i = 0; i < threads; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, &attributes, entry, &work) == 0) started.push_back(thread);
  }
  pthread_attr_destroy(&attributes);
  if (started.empty()) work();  // no thread could be created: do it here
  for (pthread_t thread : started) pthread_join(thread, nullptr);
}

}  // namespace

CheckInputs collect_check_inputs(const std::vector<std::string>& paths) {
  CheckInputs inputs;
  for (const std::string& path : paths) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      std::string reason = ec ? ec.message() : "No such file or directory";
      inputs.errors.push_back("cannot open '" + path + "': " + reason);
      continue;
    }
    if (fs::is_directory(status)) {
      std::string error;
      std::vector<std::string> found = files_under(path, error);
      if (!error.empty()) inputs.errors.push_back(error);
      if (found.empty() && error.empty()) {
        inputs.errors.push_back("no " + extension_list() + " files in directory '" + path + "'");
      }
      inputs.files.insert(inputs.files.end(), found.begin(), found.end());
      continue;
    }
    inputs.files.push_back(path);  // a file named explicitly is checked whatever its name
  }
  return inputs;
}

int check_exit_status(const CheckSummary& summary, bool io_failure) {
  if (io_failure || summary.files_failed > 0) return 2;
  return summary.errors > 0 ? 1 : 0;
}

std::optional<ByteRange> first_invalid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return ByteRange{static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)};
    }
    size_t j = 1;
    for (; j < length; ++j) {
      if (i + j >= size) break;
      unsigned char byte = bytes[i + j];
      unsigned char min = j == 1 ? low : 0x80, max = j == 1 ? high : 0xBF;
      if (byte < min || byte > max) break;
    }
    if (j < length) return ByteRange{static_cast<uint32_t>(i), static_cast<uint32_t>(i + j)};
    i += length;
  }
  return std::nullopt;
}

Analysis check_document(const syntax::Document& document, const AnalysisOptions& options) {
  Analysis analysis = analyze(document, options);
  bool reported = std::any_of(analysis.diagnostics.begin(), analysis.diagnostics.end(),
                              [](const Diagnostic& d) { return d.code == "invalid-utf8"; });
  if (!reported) {
    if (std::optional<ByteRange> bad = first_invalid_utf8(document.text())) {
      Diagnostic diagnostic;
      diagnostic.range = *bad;
      diagnostic.severity = Severity::Error;
      diagnostic.code = "invalid-utf8";
      diagnostic.message = describe_invalid_utf8(document.text(), *bad);
      auto position = std::upper_bound(
          analysis.diagnostics.begin(), analysis.diagnostics.end(), diagnostic,
          [](const Diagnostic& a, const Diagnostic& b) {
            return a.range.start != b.range.start ? a.range.start < b.range.start
                                                  : a.range.end < b.range.end;
          });
      analysis.diagnostics.insert(position, std::move(diagnostic));
    }
  }
  return analysis;
}

std::vector<FileReport> check_files(const CheckRequest& request) {
  std::vector<FileReport> reports(request.files.size());
  unsigned jobs = request.jobs != 0 ? request.jobs : std::max(1u, std::thread::hardware_concurrency());
  run_parallel(request.files.size(), jobs, [&](size_t i) {
    reports[i] = check_one_file(request.files[i], request.analysis, request.model_layers);
  });
  return reports;
}

void keep_until_exit(std::vector<FileReport>& reports) {
  static auto* kept = new std::vector<std::shared_ptr<const Analysis>>();  // never freed, on purpose
  static auto* kept_diagnostics = new std::vector<std::vector<LocatedDiagnostic>>();  // the same
  for (FileReport& report : reports) {
    if (report.analysis) kept->push_back(std::move(report.analysis));
    if (!report.diagnostics.empty()) kept_diagnostics->push_back(std::move(report.diagnostics));
  }
}

CheckSummary summarize(const std::vector<FileReport>& reports) {
  CheckSummary summary;
  for (const FileReport& report : reports) {
    if (report.read_error) {
      ++summary.files_failed;
      continue;
    }
    ++summary.files_checked;
    for (const LocatedDiagnostic& diagnostic : report.diagnostics) {
      if (diagnostic.severity == Severity::Error) ++summary.errors;
      if (diagnostic.severity == Severity::Warning) ++summary.warnings;
    }
  }
  return summary;
}

}  // namespace amct::server
