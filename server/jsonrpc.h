#pragma once
// JSON-RPC 2.0 base protocol framing: `Content-Length: N\r\n\r\n<N bytes>`.
// The reader is a byte-stream state machine: it never holds more than one
// message, refuses (and skips without storing) bodies over the limit, and
// resynchronises on the next header after garbage.
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace amct::server {

struct FramingLimits {
  size_t max_content_length = 64u << 20;  // larger messages are skipped, not read into memory
  size_t max_header_bytes = 8192;
};

struct FramedEvent {
  enum class Kind { Message, Error };
  Kind kind = Kind::Message;
  std::string body;   // the JSON text of a message
  std::string error;  // what was wrong with the framing
};

class MessageReader {
 public:
  explicit MessageReader(FramingLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view bytes);
  std::optional<FramedEvent> next();
  // Called at end of input: a message cut short becomes an error event.
  void finish();

 private:
  void parse();

  FramingLimits limits_;
  std::string buffer_;
  size_t skip_remaining_ = 0;  // bytes of an oversized body still to discard
  std::deque<FramedEvent> events_;
};

std::string frame_message(std::string_view body);

// True when the JSON text nests arrays/objects deeper than `limit` (strings
// are skipped). Checked before parsing: copying, dumping or destroying a
// parsed value recurses once per level, and a million-deep message would
// overflow the stack. LSP messages nest a few levels.
inline constexpr size_t kMaxJsonDepth = 512;
bool exceeds_json_depth(std::string_view body, size_t limit = kMaxJsonDepth);

}  // namespace amct::server
