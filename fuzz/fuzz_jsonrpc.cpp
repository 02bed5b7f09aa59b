// Fuzz target (c): JSON-RPC framing and LSP dispatch, in process.
//
// The input is used twice:
//   1. as a raw byte stream fed to a MessageReader in chunks (framing:
//      headers, lengths, resynchronisation, end of input);
//   2. as a scripted session: each line is one JSON body, framed correctly,
//      fed through a MessageReader to a LanguageServer (dispatch, lifecycle,
//      document sync and every feature), then the server drains (wait_idle).
// Each reply must be valid JSON; nothing may crash, hang or leak.
#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "server/jsonrpc.h"
#include "server/lsp_server.h"

using namespace amct::server;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The server may materialise the built-in .proto under the user cache
  // directory (go to definition): keep that in a scratch folder.
  const std::string cache = (std::filesystem::temp_directory_path() / "amct-fuzz-cache").string();
  setenv("XDG_CACHE_HOME", cache.c_str(), 1);
  return 0;
}

namespace {

void feed_in_chunks(MessageReader& reader, std::string_view bytes, uint32_t seed,
                    const std::function<void(FramedEvent&)>& on_event) {
  size_t chunk = 1 + seed % 97;
  while (!bytes.empty()) {
    const size_t n = std::min(chunk, bytes.size());
    reader.feed(bytes.substr(0, n));
    bytes.remove_prefix(n);
    while (auto event = reader.next()) on_event(*event);
    chunk = 1 + (chunk * 31 + 7) % 4096;
  }
  reader.finish();
  while (auto event = reader.next()) on_event(*event);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 32 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const uint32_t seed = size ? data[0] : 0;

  // 1. Framing alone, with small limits so the oversized path is reachable.
  {
    FramingLimits limits;
    limits.max_content_length = 256;
    limits.max_header_bytes = 128;
    MessageReader reader(limits);
    feed_in_chunks(reader, bytes, seed, [&](FramedEvent& event) {
      if (event.kind == FramedEvent::Kind::Message && event.body.size() > limits.max_content_length) std::abort();
    });
  }

  // 2. A scripted session: one JSON body per line.
  std::string stream;
  size_t line_start = 0;
  while (line_start < bytes.size()) {
    size_t line_end = bytes.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = bytes.size();
    stream += frame_message(bytes.substr(line_start, line_end - line_start));
    line_start = line_end + 1;
  }
  LanguageServerOptions options;
  options.diagnostics_debounce = std::chrono::milliseconds(0);
  LanguageServer server(
      [](const std::string& body) {
        if (nlohmann::json::parse(body, nullptr, false).is_discarded()) std::abort();
      },
      options);
  MessageReader reader;
  bool exited = false;
  feed_in_chunks(reader, stream, seed, [&](FramedEvent& event) {
    if (exited) return;
    if (event.kind == FramedEvent::Kind::Message) server.on_message(event.body);
    else server.on_framing_error(event.error);
    exited = server.exit_requested();
  });
  server.on_end_of_input();
  server.wait_idle();
  return 0;
}
