#include "server/jsonrpc.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace amct::server {

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Position of the first "Content-Length" (any case) in `text` at or after `from`.
size_t find_content_length(std::string_view text, size_t from) {
  static constexpr std::string_view kName = "content-length";
  for (size_t i = from; i + kName.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < kName.size() && std::tolower(static_cast<unsigned char>(text[i + j])) == kName[j]) ++j;
    if (j == kName.size()) return i;
  }
  return std::string::npos;
}

}  // namespace

void MessageReader::feed(std::string_view bytes) {
  if (skip_remaining_ > 0) {
    const size_t skipped = std::min(skip_remaining_, bytes.size());
    skip_remaining_ -= skipped;
    bytes.remove_prefix(skipped);
  }
  buffer_.append(bytes);
  parse();
}

void MessageReader::parse() {
  for (;;) {
    if (skip_remaining_ > 0) {
      const size_t skipped = std::min(skip_remaining_, buffer_.size());
      skip_remaining_ -= skipped;
      buffer_.erase(0, skipped);
      if (skip_remaining_ > 0) return;
    }
    const size_t header_end = buffer_.find("\r\n\r\n");
    if (header_end == std::string::npos) {
      if (buffer_.size() > limits_.max_header_bytes) {
        events_.push_back({FramedEvent::Kind::Error, {}, "header block too long or not terminated by CRLF CRLF"});
        // Keep only a tail that may hold the start of the next header.
        const size_t next = find_content_length(buffer_, 1);
        buffer_.erase(0, next == std::string::npos ? buffer_.size() : next);
      }
      return;
    }
    std::optional<size_t> length;
    bool malformed = false;
    std::string_view headers(buffer_.data(), header_end);
    while (!headers.empty()) {
      const size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 2);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        malformed = true;
        continue;
      }
      if (lowercase(line.substr(0, colon)) == "content-length") {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
        size_t parsed = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        if (ec != std::errc() || end != value.data() + value.size()) {
          malformed = true;
        } else {
          length = parsed;
        }
      }
    }
    if (!length || malformed) {
      // Bytes before a Content-Length header in this block are the rest of
      // a message whose Content-Length was wrong (or other garbage): drop
      // them and read the block from that header, so one bad length costs
      // one message, not every message after it.
      const size_t last_header = [&] {
        size_t found = std::string::npos;
        for (size_t at = find_content_length(std::string_view(buffer_).substr(0, header_end), 0);
             at != std::string::npos; at = find_content_length(std::string_view(buffer_).substr(0, header_end), at + 1))
          found = at;
        return found;
      }();
      if (last_header != std::string::npos && last_header > 0) {
        events_.push_back({FramedEvent::Kind::Error, {}, "unexpected bytes before a Content-Length header; skipped"});
        buffer_.erase(0, last_header);
        continue;
      }
      events_.push_back({FramedEvent::Kind::Error, {},
                         length ? "malformed header line" : "missing or invalid Content-Length header"});
      // Resynchronise on the next header after this block.
      const size_t next = find_content_length(buffer_, header_end);
      buffer_.erase(0, next == std::string::npos ? header_end + 4 : next);
      continue;
    }
    const size_t body_start = header_end + 4;
    if (*length > limits_.max_content_length) {
      events_.push_back({FramedEvent::Kind::Error, {},
                         "message of " + std::to_string(*length) + " bytes exceeds the limit of " +
                             std::to_string(limits_.max_content_length) + " bytes; skipped"});
      buffer_.erase(0, body_start);
      skip_remaining_ = *length;
      continue;
    }
    if (buffer_.size() - body_start < *length) return;  // wait for the rest
    events_.push_back({FramedEvent::Kind::Message, buffer_.substr(body_start, *length), {}});
    buffer_.erase(0, body_start + *length);
  }
}

void MessageReader::finish() {
  if (skip_remaining_ > 0 || !buffer_.empty()) {
    std::string tail = buffer_;
    bool only_space = std::all_of(tail.begin(), tail.end(), [](unsigned char c) { return std::isspace(c); });
    if (skip_remaining_ > 0 || !only_space)
      events_.push_back({FramedEvent::Kind::Error, {}, "end of input in the middle of a message"});
    buffer_.clear();
    skip_remaining_ = 0;
  }
}

std::optional<FramedEvent> MessageReader::next() {
  if (events_.empty()) return std::nullopt;
  FramedEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::string frame_message(std::string_view body) {
  std::string out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out.append(body);
  return out;
}

bool exceeds_json_depth(std::string_view body, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace amct::server
