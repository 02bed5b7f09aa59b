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
        const size_t next = buffer_.find("Content-Length", 1);
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
      events_.push_back({FramedEvent::Kind::Error, {},
                         length ? "malformed header line" : "missing or invalid Content-Length header"});
      // Resynchronise on the next header after this block.
      const size_t next = buffer_.find("Content-Length", header_end);
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

}  // namespace amct::server
