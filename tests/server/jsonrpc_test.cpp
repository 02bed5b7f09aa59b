// The JSON-RPC framing reader: messages in any chunking, errors that cost
// one message, oversized bodies skipped without being stored.
#include "server/jsonrpc.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using amct::server::FramedEvent;
using amct::server::FramingLimits;
using amct::server::exceeds_json_depth;
using amct::server::frame_message;
using amct::server::MessageReader;

namespace {

// "M:<body>" for a message, "E" for an error.
std::vector<std::string> read_all(const std::string& stream, size_t chunk = 1, FramingLimits limits = {}) {
  MessageReader reader(limits);
  std::vector<std::string> out;
  auto drain = [&] {
    while (auto event = reader.next())
      out.push_back(event->kind == FramedEvent::Kind::Message ? "M:" + event->body : "E");
  };
  for (size_t at = 0; at < stream.size(); at += chunk) {
    reader.feed(std::string_view(stream).substr(at, chunk));
    drain();
  }
  reader.finish();
  drain();
  return out;
}

}  // namespace

TEST_CASE("framing: messages in one piece and byte by byte", "[lsp][jsonrpc]") {
  const std::string stream = frame_message("{\"a\":1}") + "content-length: 2\r\nContent-Type: x\r\n\r\n{}";
  const std::vector<std::string> expected{"M:{\"a\":1}", "M:{}"};
  CHECK(read_all(stream, stream.size()) == expected);
  CHECK(read_all(stream, 1) == expected);
}

TEST_CASE("framing: a wrong Content-Length costs that message only", "[lsp][jsonrpc][abuse]") {
  const std::string good1 = frame_message("{\"id\":1}");
  const std::string good2 = frame_message("{\"id\":2}");
  const std::string good3 = frame_message("{\"id\":3}");
  SECTION("too big: the body swallows the start of the next message") {
    // Regression: the reader used to drop every later message, each header
    // block starting with the rest of the message before it.
    // 30 bytes: its own 8, the 21 of the next header and one byte of the next body.
    const std::string bad = "Content-Length: 30\r\n\r\n{\"id\":0}";
    const auto events = read_all(bad + good1 + good2 + good3, 7);
    CHECK(events == std::vector<std::string>{"M:{\"id\":0}" + good1.substr(0, 22), "E", "M:{\"id\":2}", "M:{\"id\":3}"});
  }
  SECTION("too small: the rest of the body is skipped") {
    const std::string bad = "Content-Length: 4\r\n\r\n{\"id\":0,\"x\":\"yyyy\"}";
    const auto events = read_all(bad + good1 + good2, 5);
    CHECK(events == std::vector<std::string>{"M:{\"id", "E", "M:{\"id\":1}", "M:{\"id\":2}"});
  }
  SECTION("garbage line before a header") {
    const auto events = read_all("garbage\r\n" + good1, 3);
    CHECK(events == std::vector<std::string>{"E", "M:{\"id\":1}"});
  }
  SECTION("not a number") {
    const auto events = read_all("Content-Length: 1x\r\n\r\n{}" + good1, 64);
    CHECK(events.back() == "M:{\"id\":1}");
    CHECK(events.front() == "E");
  }
}

TEST_CASE("framing: oversized bodies are skipped without being stored", "[lsp][jsonrpc][abuse]") {
  FramingLimits limits;
  limits.max_content_length = 100;
  const std::string huge = "Content-Length: 100000\r\n\r\n" + std::string(100000, 'x');
  const auto events = read_all(huge + frame_message("{}"), 4096, limits);
  CHECK(events == std::vector<std::string>{"E", "M:{}"});
}

TEST_CASE("framing: end of input in the middle of a message is an error", "[lsp][jsonrpc][abuse]") {
  CHECK(read_all("Content-Length: 10\r\n\r\n{\"a\"") == std::vector<std::string>{"E"});
  CHECK(read_all("Content-Len") == std::vector<std::string>{"E"});
  CHECK(read_all(frame_message("{}") + "\r\n").size() == 1);  // trailing blank: not an error
}

TEST_CASE("framing: JSON nesting depth is measured before parsing", "[lsp][jsonrpc][abuse]") {
  CHECK_FALSE(exceeds_json_depth("{\"a\":[1,{\"b\":[]}]}", 4));
  CHECK(exceeds_json_depth("{\"a\":[1,{\"b\":[]}]}", 3));
  // Brackets inside strings, escaped quotes included, do not count.
  CHECK_FALSE(exceeds_json_depth("{\"a\":\"[[[[\\\"[[[[\"}", 1));
  CHECK(exceeds_json_depth(std::string(100000, '['), 512));
  CHECK_FALSE(exceeds_json_depth(std::string(512, '[') + std::string(512, ']')));
}
