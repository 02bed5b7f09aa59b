// LSP latency through the real binary over pipes, on a generated config with
// 10,000 override blocks (issue 4): one-character didChange -> the
// publishDiagnostics of that version (p50/p99; until its bytes have
// arrived, before this client parses them), completion, hover and code
// lens latency (p50/p99), and the server's resident memory.
//   lsp_bench [--layers N] [--edits N] [--requests N] [--server-stages]
// --server-stages: also the server's own timing of each edit's publish,
// from its $/logTrace (trace level "messages"): p50 of when each step ended
// after the change arrived, which this machine's other load disturbs less
// than the round trip.
// AMCT_LSP_BINARY_UNDER_TEST=PATH measures another build of amct-lsp.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "support/config_generator.h"
#include "support/lsp_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5));
  return values[index];
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

// CPU time (user + system) the process has used, in ms: on a shared
// machine wall-clock latency mostly measures the other processes.
double cpu_ms(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t after_name = text.rfind(')');
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(text.substr(after_name + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field && i <= 15; ++i)
    if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);  // utime, stime
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// With the first sample: a one-time cost (a table loaded on first use) shows there.
void print(const char* what, const std::vector<double>& samples) {
  std::printf("  %-34s p50 %8.1f ms   p99 %8.1f ms   (n=%zu, first %.1f ms)\n", what, percentile(samples, 0.5),
              percentile(samples, 0.99), samples.size(), samples.empty() ? 0.0 : samples.front());
}

// From the server's traces of the publishes after a change ("... ms after
// the change arrived: applied 0.91, check started 1.12, ...").
void print_server_stages(const std::vector<nlohmann::json>& messages, const std::string& uri) {
  static const char* const kSteps[] = {"applied", "check started", "diagnostics ready", "JSON", "sent"};
  std::vector<double> ends[std::size(kSteps)];
  const std::string marker = " diagnostics of " + uri + " version ";
  for (const nlohmann::json& m : messages) {
    if (m.value("method", "") != "$/logTrace") continue;
    const std::string message = m["params"].value("message", "");
    const size_t after = message.find("; ms after the change arrived: ");
    if (!message.starts_with("Published ") || message.find(marker) == std::string::npos || after == std::string::npos)
      continue;
    for (size_t step = 0; step < std::size(kSteps); ++step) {
      const size_t at = message.find(std::string(kSteps[step]) + " ", after);
      if (at != std::string::npos) ends[step].push_back(std::strtod(message.c_str() + at + std::strlen(kSteps[step]) + 1, nullptr));
    }
  }
  std::printf("    the server's own timing, p50 of when each step ended after the change arrived (n=%zu):\n     ",
              ends[0].size());
  for (size_t step = 0; step < std::size(kSteps); ++step) std::printf(" %s %.2f", kSteps[step], percentile(ends[step], 0.5));
  std::printf(" ms\n");
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 10000, edits = 20, requests = 50;
  bool server_stages = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--server-stages")) server_stages = true;
    else if (i + 1 >= argc) break;
    else if (!std::strcmp(argv[i], "--layers")) layers = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--edits")) edits = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[++i]);
  }
  const std::string text = amct::bench::generate_config(layers, 42);
  const std::string uri = "file:///tmp/lsp_bench_" + std::to_string(layers) + ".cfg";
  const char* other = std::getenv("AMCT_LSP_BINARY_UNDER_TEST");
  std::printf("lsp_bench: %d override blocks, %zu bytes, binary %s\n", layers, text.size(),
              other && *other ? other : AMCT_LSP_BINARY);

  amct::test::LspProcess server;
  const int init = server.request("initialize", {{"processId", nullptr},
                                                {"rootUri", nullptr},
                                                {"capabilities", json::object()},
                                                {"trace", server_stages ? "messages" : "off"}});
  if (!server.wait_for_response(init)) return std::fprintf(stderr, "no initialize response\n"), 1;
  server.notify("initialized", json::object());

  auto published = [&](int version) {
    return server.wait_for(
        [&](const json& m) {
          return m.value("method", "") == "textDocument/publishDiagnostics" && m["params"].value("version", -1) == version;
        },
        std::chrono::minutes(5));
  };
  const auto open_start = Clock::now();
  server.notify("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"languageId", "amct-cfg"}, {"version", 1}, {"text", text}}}});
  if (!published(1)) return std::fprintf(stderr, "no diagnostics after open\n"), 1;
  std::printf("  %-34s %8.1f ms\n", "didOpen -> first diagnostics", ms_since(open_start));

  // One-character edits at the start of line 3, alternately inserting and deleting.
  std::vector<double> edit_latency;
  std::optional<json> last_publish;
  const double edits_cpu_start = cpu_ms(server.pid());
  for (int i = 0; i < edits; ++i) {
    const int version = 2 + i;
    const bool insert = i % 2 == 0;
    json change = {{"range", {{"start", {{"line", 3}, {"character", 0}}}, {"end", {{"line", 3}, {"character", insert ? 0 : 1}}}}},
                   {"text", insert ? " " : ""}};
    const auto start = Clock::now();
    server.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}}, {"contentChanges", {change}}});
    last_publish = published(version);
    if (!last_publish) return std::fprintf(stderr, "no diagnostics for version %d\n", version), 1;
    // Until the publish of this version had arrived, not until this client
    // had parsed it (3 MB of JSON): the version is checked after the parse.
    edit_latency.push_back(std::chrono::duration<double, std::milli>(server.last_arrival - start).count());
  }
  print("didChange -> publishDiagnostics", edit_latency);
  if (server_stages) print_server_stages(server.seen, uri);
  std::printf("  %-34s %8.1f ms per edit (mean over the edits)\n", "  server CPU time",
              (cpu_ms(server.pid()) - edits_cpu_start) / std::max(1, edits));
  // Not counted in the latency above: this client's own parse of each publish.
  if (last_publish) {
    const std::string body = last_publish->dump();
    const auto parse_start = Clock::now();
    const json parsed = json::parse(body);
    std::printf("  %-34s %8.1f ms   (%zu diagnostics, %.1f MB)\n", "  client JSON parse (not counted)", ms_since(parse_start),
                parsed["params"]["diagnostics"].size(), static_cast<double>(body.size()) / 1e6);
  }

  // Whether the reader keeps reading while an edit is parsed and checked: a
  // hover in another (small) document sent right behind each edit.
  {
    const std::string small_uri = "file:///tmp/lsp_bench_small.cfg";
    server.notify("textDocument/didOpen", {{"textDocument",
                                            {{"uri", small_uri},
                                             {"languageId", "amct-cfg"},
                                             {"version", 1},
                                             {"text", amct::bench::generate_config(3, 7)}}}});
    auto small_published = server.wait_for([&](const json& m) {
      return m.value("method", "") == "textDocument/publishDiagnostics" && m["params"].value("uri", "") == small_uri;
    });
    if (!small_published) return std::fprintf(stderr, "no diagnostics for the small document\n"), 1;
    std::vector<double> hover_latency;
    for (int i = 0; i < edits; ++i) {
      const int version = 2 + edits + i;
      const bool insert = i % 2 == 0;
      json change = {{"range", {{"start", {{"line", 3}, {"character", 0}}}, {"end", {{"line", 3}, {"character", insert ? 0 : 1}}}}},
                     {"text", insert ? " " : ""}};
      server.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}}, {"contentChanges", {change}}});
      const auto start = Clock::now();
      const int id = server.request("textDocument/hover", {{"textDocument", {{"uri", small_uri}}},
                                                          {"position", {{"line", 3}, {"character", 2}}}});
      if (!server.wait_for_response(id)) return std::fprintf(stderr, "no hover response\n"), 1;
      hover_latency.push_back(ms_since(start));
      // The publish may have come before the hover's answer.
      const auto is_publish = [&](const json& m) {
        return m.value("method", "") == "textDocument/publishDiagnostics" && m["params"].value("version", -1) == version;
      };
      const bool seen = std::any_of(server.seen.begin(), server.seen.end(), is_publish);
      server.seen.clear();
      if (!seen && !server.wait_for(is_publish, std::chrono::minutes(5)))
        return std::fprintf(stderr, "no diagnostics for version %d\n", version), 1;
    }
    print("hover in another document, sent right behind an edit", hover_latency);
  }

  // A position inside the first override block's weight block.
  int line = 0, target = -1;
  for (size_t at = 0, next; (next = text.find('\n', at)) != std::string::npos; at = next + 1, ++line) {
    if (text.compare(at, next - at, "override_layer_configs {") == 0 || text.find("override_layer_configs", at) == at) {
      target = line + 1;
      break;
    }
  }
  const json position = {{"textDocument", {{"uri", uri}}}, {"position", {{"line", target}, {"character", 4}}}};
  auto time_requests = [&](const char* method, const json& params) {
    std::vector<double> samples;
    for (int i = 0; i < requests; ++i) {
      const auto start = Clock::now();
      if (!server.wait_for_response(server.request(method, params))) break;
      samples.push_back(ms_since(start));
    }
    return samples;
  };
  print("completion", time_requests("textDocument/completion", position));
  print("hover", time_requests("textDocument/hover", position));
  print("codeLens (whole document)", time_requests("textDocument/codeLens", {{"textDocument", {{"uri", uri}}}}));
  std::printf("  %-34s %8.1f MiB\n", "server resident memory", resident_kib(server.pid()) / 1024.0);

  server.wait_for_response(server.request("shutdown", nullptr));
  server.notify("exit", nullptr);
  return server.wait_exit();
}
