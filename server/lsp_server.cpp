#include "server/lsp_server.h"

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/analysis.h"
#include "core/amct/amct_checks.h"
#include "core/amct/rules.h"
#include "core/ide/code_actions.h"
#include "core/ide/code_lens.h"
#include "core/ide/completion.h"
#include "core/ide/definition.h"
#include "core/ide/estimate_inlay_hints.h"
#include "core/ide/inlay_hints.h"
#include "core/model/binder.h"
#include "server/builtin_proto.h"
#include "server/estimate_service.h"
#include "server/idle_memory.h"
#include "server/diagnostic_docs.h"
#include <filesystem>
#include "core/ide/docs_language.h"
#include "core/ide/document_symbols.h"
#include "core/ide/formatting.h"
#include "core/ide/hover.h"
#include "core/schema/binding.h"
#include "core/ide/folding.h"
#include "core/ide/selection_range.h"
#include "core/ide/semantic_tokens.h"
#include "core/syntax/document.h"
#include "server/jsonrpc.h"
#include "server/lsp_convert.h"

namespace amct::server {

using nlohmann::json;
using syntax::PositionEncoding;

namespace {

// A file name as an LSP glob pattern that matches only itself: the glob's
// special characters in brackets.
std::string glob_literal(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool special = c == '*' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}';
    if (special) out += '[';
    out += c;
    if (special) out += ']';
  }
  return out;
}

// What a feature returns when it sent its result itself (reply_raw).
constexpr const char* kAlreadyAnswered = "\x01already answered";

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;
constexpr int kRequestCancelled = -32800;

// One version of a document, copied once and shared by every request and the
// check of that version (a 3.5 MB copy per request costs more than the request).
struct VersionSnapshot {
  explicit VersionSnapshot(syntax::Document copy) : document(std::move(copy)) {}
  const syntax::Document document;
  std::optional<std::string> soc_header() const;
  // soc_header() without the walk, when the caller knows the top level has no
  // header whose key names a SoC.
  void know_no_soc_header() const {
    std::call_once(soc_once_, [] {});
  }

 private:
  mutable std::once_flag soc_once_;
  mutable std::optional<std::string> soc_;
};

// When each step of one publish ended (see publish_trace).
struct PublishTimes {
  std::chrono::steady_clock::time_point change_arrived{}, change_applied{}, check_started{}, diagnostics_ready{},
      json_written{}, sent{};
  size_t diagnostics = 0;
};

// "Published 5611 diagnostics of file:///a.cfg version 12; ms after the
// change arrived: applied 0.91, check started 1.12, diagnostics ready 10.40,
// JSON 13.05, sent 14.61" — the server's own share of an edit's latency,
// for a client's trace (and lsp_bench). Without a change (an open, a
// setting): from the start of the check.
std::string publish_trace(const std::string& uri, int64_t version, const PublishTimes& times) {
  const bool after_change = times.change_arrived != std::chrono::steady_clock::time_point{} &&
                            times.change_arrived <= times.check_started;
  const auto origin = after_change ? times.change_arrived : times.check_started;
  auto ms = [&](std::chrono::steady_clock::time_point at) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", std::chrono::duration<double, std::milli>(at - origin).count());
    return std::string(buffer);
  };
  std::string out = "Published " + std::to_string(times.diagnostics) + " diagnostics of " + uri + " version " +
                    std::to_string(version) + "; ms after the " + (after_change ? "change arrived" : "check started") +
                    ": ";
  if (after_change) out += "applied " + ms(times.change_applied) + ", check started " + ms(times.check_started) + ", ";
  out += "diagnostics ready " + ms(times.diagnostics_ready) + ", JSON " + ms(times.json_written) + ", sent " +
         ms(times.sent);
  return out;
}

struct OpenDocument {
  explicit OpenDocument(syntax::Document text) : document(std::move(text)) {}
  syntax::Document document;
  std::shared_ptr<const VersionSnapshot> snapshot;  // of `snapshot_version`
  int64_t snapshot_version = -1;
  // Under the server's mutex.
  std::shared_ptr<const VersionSnapshot> current_snapshot() {
    if (!snapshot || snapshot_version != version) {
      snapshot = std::make_shared<const VersionSnapshot>(document.snapshot());
      snapshot_version = version;
    }
    return snapshot;
  }
  int64_t version = 0;
  std::string language_id;
  // The schema of the last check, reused by completion and hover so that a
  // keystroke does not re-bind (binding a 100k-block file walks all of it).
  std::optional<schema::Schema> schema;
  bool schema_known = false;
  // The last check, and the version it was of. Not const: publish() takes
  // its model back for the analyzer (features get const copies).
  std::shared_ptr<Analysis> analysis;
  int64_t analyzed_version = -1;
  // When the last didChange arrived and when it was applied: a publish's
  // trace says how long after it each step ended.
  std::chrono::steady_clock::time_point change_arrived{}, change_applied{};
  // Re-checks after edits re-bind only what changed; used by the
  // diagnostics thread alone.
  std::shared_ptr<IncrementalAnalyzer> analyzer = std::make_shared<IncrementalAnalyzer>();
  // The JSON of the last publish, whose unchanged diagnostics the next one
  // copies; used by the diagnostics thread alone.
  std::shared_ptr<DiagnosticsJsonCache> published_json = std::make_shared<DiagnosticsJsonCache>();
};

// What a feature needs besides the text: the schema and the settings.
struct FeatureContext {
  std::optional<schema::Schema> schema;
  std::shared_ptr<const Analysis> analysis;  // set when it is of this very version
  std::optional<std::string> soc;
  ide::DocsLanguage language = ide::DocsLanguage::English;
};

// The bound model of this version: from the last check when it is current.
const model::BoundDocument& bound_model(const syntax::Document& document, const FeatureContext& context) {
  if (context.analysis && context.analysis->bound) return *context.analysis->bound;
  thread_local model::BoundDocument fresh;
  fresh = model::bind(document, context.schema ? context.schema->root : nullptr);
  return fresh;
}

// Whether `key_text` (a header's key) is one soc_header() takes.
bool names_soc(std::string_view key_text) {
  return key_text.find("soc") != std::string_view::npos && key_text.find("proto") == std::string_view::npos;
}

// The value of a top-level `# soc:` header, which overrides the setting.
std::optional<std::string> soc_header(const syntax::Document& document) {
  std::optional<std::string> soc;
  TSTreeCursor cursor = ts_tree_cursor_new(document.root());
  if (ts_tree_cursor_goto_first_child(&cursor)) {
    do {
      TSNode node = ts_tree_cursor_current_node(&cursor);
      if (std::string_view(ts_node_type(node)) != "header") continue;
      TSNode key = ts_node_child_by_field_name(node, "key", 3);
      TSNode value = ts_node_child_by_field_name(node, "value", 5);
      if (ts_node_is_null(key) || ts_node_is_null(value)) continue;
      const std::string_view key_text = document.text_of(key);
      if (names_soc(key_text))
        soc = std::string(document.text_of(value));
    } while (ts_tree_cursor_goto_next_sibling(&cursor));
  }
  ts_tree_cursor_delete(&cursor);
  return soc;
}

std::optional<std::string> VersionSnapshot::soc_header() const {
  std::call_once(soc_once_, [this] { soc_ = amct::server::soc_header(document); });
  return soc_;
}

}  // namespace

struct LanguageServer::State {
  Send send;
  LanguageServerOptions options;

  std::mutex mutex;
  std::condition_variable wake;      // worker: work arrived
  std::condition_variable idle_cv;   // wait_idle(): no work left
  std::map<std::string, OpenDocument> documents;
  std::set<std::string> dirty;                       // need diagnostics published
  std::deque<std::pair<json, std::function<void()>>> tasks;  // (request id, work)
  std::set<std::string> cancelled;                   // request ids (dumped json)
  // Requests and diagnostics run on two threads, so a completion never
  // waits behind the check of a large document.
  bool requests_busy = false;
  bool diagnostics_busy = false;
  bool is_idle() const { return tasks.empty() && dirty.empty() && !requests_busy && !diagnostics_busy; }
  bool stopping = false;

  enum class Phase { Uninitialized, Running, ShutDown } phase = Phase::Uninitialized;
  std::atomic<bool> exit_flag{false};
  std::atomic<int> exit_code{1};
  PositionEncoding encoding = PositionEncoding::Utf16;
  // $/setTrace / initialize `trace`: 0 off, 1 messages, 2 verbose. Read on
  // the worker threads, which send responses.
  std::atomic<int> trace_level{0};
  std::mutex trace_mutex;
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> traced_requests;
  // amct.diagnosticsDocsUrl; unset: the page in the cache directory.
  std::optional<std::string> docs_url_setting;
  std::string client_locale;
  std::string docs_language_setting = "auto";
  std::string workspace_root;
  AnalysisOptions base_options;
  std::chrono::steady_clock::time_point last_edit{};
  // Leading-edge debounce: an edit that finds the diagnostics thread with
  // nothing to do, and no check started within the debounce, is checked at
  // once; other edits wait until the edits pause for the debounce, then
  // coalesce into one check.
  bool leading_edge = false;
  std::chrono::steady_clock::time_point last_check_start{};
  // A check runs and has not sent its publish yet. Unlike diagnostics_busy,
  // cleared before the publish is sent: an edit the client sends as soon as
  // it has the publish must not count as part of a burst because the thread
  // is still freeing the previous version.
  bool checking = false;
  // Set by an edit: the diagnostics thread stops parsing a checked version's
  // whole tree in its idle time (see publish()) and checks the edit.
  std::atomic<size_t> background_parse_cancel{0};
  // Call before marking the document dirty.
  void note_edit() {
    background_parse_cancel.store(1);
    last_edit = std::chrono::steady_clock::now();
    leading_edge = dirty.empty() && !checking && last_edit - last_check_start >= options.diagnostics_debounce;
  }
  void check_done() {
    std::lock_guard lock(mutex);
    checking = false;
  }

  std::thread request_worker;
  std::thread diagnostics_worker;

  void set_trace(const json& value) {
    if (!value.is_string()) return;
    const std::string level = value;
    trace_level = level == "verbose" ? 2 : level == "messages" ? 1 : 0;
  }
  // $/logTrace (LSP 3.17): what the server received and answered, when the
  // client asked for a trace. `verbose` only at trace level verbose.
  void log_trace(std::string message, const json* details) {
    const int level = trace_level;
    if (level == 0) return;
    json params = {{"message", std::move(message)}};
    if (level == 2 && details) {
      std::string text = details->dump(-1, ' ', false, json::error_handler_t::replace);
      // A didOpen of a 3.5 MB file is not worth echoing in full.
      constexpr size_t kLimit = 4096;
      if (text.size() > kLimit) text = text.substr(0, kLimit) + "... (" + std::to_string(text.size()) + " bytes)";
      params["verbose"] = std::move(text);
    }
    notify("$/logTrace", std::move(params));
  }
  void trace_received(const json& message, const std::string& method) {
    if (trace_level == 0) return;
    const json params = message.value("params", json(nullptr));
    if (message.contains("id")) {
      {
        std::lock_guard lock(trace_mutex);
        traced_requests[message["id"].dump()] = {method, std::chrono::steady_clock::now()};
      }
      log_trace("Received request '" + method + " - (" + message["id"].dump() + ")'.", &params);
    } else {
      log_trace("Received notification '" + method + "'.", &params);
    }
  }
  void trace_response(const json& id, const json* result) {
    if (trace_level == 0) return;
    std::string method = "";
    std::string took;
    {
      std::lock_guard lock(trace_mutex);
      auto it = traced_requests.find(id.dump());
      if (it != traced_requests.end()) {
        method = it->second.first + " - ";
        const auto elapsed = std::chrono::steady_clock::now() - it->second.second;
        took = " Processing request took " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()) + "ms";
        traced_requests.erase(it);
      }
    }
    log_trace("Sending response '" + method + "(" + id.dump() + ")'." + took, result);
  }
  std::string docs_base() {
    {
      std::lock_guard lock(mutex);
      if (docs_url_setting) return *docs_url_setting;
    }
    return default_diagnostics_docs_base();
  }

  // What the client can do beyond the basics (from initialize).
  struct ClientSupport {
    bool pull_diagnostics = false;        // textDocument.diagnostic: it pulls, so the server does not push
    bool diagnostic_refresh = false;      // workspace.diagnostics.refreshSupport
    bool code_lens_refresh = false;       // workspace.codeLens.refreshSupport
    bool work_done_progress = false;      // window.workDoneProgress
    bool watched_files_registration = false;  // workspace.didChangeWatchedFiles.dynamicRegistration
    bool relative_patterns = false;           // workspace.didChangeWatchedFiles.relativePatternSupport
    bool inlay_hint_refresh = false;          // workspace.inlayHint.refreshSupport
  } client;
  // amct.estimatesIn: "inlayHint" shows the estimates as inlay hints instead of code lenses.
  std::atomic<bool> estimates_in_inlay_hints{false};
  bool initialized_received = false;
  // The model files the client watches for us (registered dynamically).
  std::vector<std::string> watched_model_files;
  void update_model_watch();
  // Pull clients: the diagnostics last served or computed per document, so a
  // change not caused by an edit (settings, the model) triggers a refresh.
  struct ServedDiagnostics {
    int64_t version = 0;
    std::string items;  // JSON text
  };
  std::map<std::string, ServedDiagnostics> served_diagnostics;
  std::atomic<int> next_engine_request{1};

  // $/progress of the estimates: the token is usable once the client has
  // answered window/workDoneProgress/create.
  struct Progress {
    std::mutex mutex;
    std::string token;
    std::string create_id;
    bool begun = false;
    std::string title;
    unsigned percent = 0;
    std::string message;
  } progress;
  void progress_begin(const std::string& title);
  void progress_created(const std::string& create_id);
  void progress_report(unsigned percent, const std::string& message);
  void progress_end();
  void send_request(const std::string& id_prefix, const std::string& method, json params);

  // amct.weights / amct.manifest; declared last so that it stops first.
  std::unique_ptr<EstimateService> estimates;
  void start_estimates();
  std::optional<std::string> weights_setting, manifest_setting;
  EstimateSettings estimate_settings() const;
  // The document's diagnostics with the model-aware ones, as a pull or a push answer.
  Analysis analyze_with_model(const syntax::Document& document, const AnalysisOptions& options);
  // `text`: the whole publishDiagnostics notification when the client does
  // not pull, else the JSON array of the diagnostics.
  void deliver_diagnostics(const std::string& uri, int64_t version, const std::string& text);
  json estimate_lenses(const syntax::Document& d, const FeatureContext& context, PositionEncoding enc);
  // The estimate hints of an AMCT config from what is cached now (none without a model).
  std::vector<ide::EstimateHint> current_estimate_hints(const syntax::Document& d, const FeatureContext& context);

  void reply(const json& id, json result) {
    trace_response(id, &result);
    send(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}.dump(-1, ' ', false,
                                                                                   json::error_handler_t::replace));
  }
  // A result already written as JSON text (large results skip the JSON tree).
  void reply_raw(const json& id, const std::string& result_text) {
    trace_response(id, nullptr);
    std::string body = "{\"jsonrpc\":\"2.0\",\"id\":" + id.dump() + ",\"result\":";
    body += result_text;
    body += '}';
    send(body);
  }
  void reply_error(const json& id, int code, const std::string& message) {
    if (!id.is_null()) trace_response(id, nullptr);
    send(json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}}.dump(
        -1, ' ', false, json::error_handler_t::replace));
  }
  void notify(const std::string& method, json params) {
    send(json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}}.dump(
        -1, ' ', false, json::error_handler_t::replace));
  }
  void log(int type, const std::string& message) {
    notify("window/logMessage", {{"type", type}, {"message", message}});
  }

  // amct.schemaMappings: files matching a glob use that .proto and message.
  struct SchemaMapping {
    std::string glob;
    std::string proto_file;
    std::string message;
  };
  std::vector<SchemaMapping> schema_mappings;
  bool client_pulls_configuration = false;
  int next_server_request = 1;

  AnalysisOptions options_for(const std::string& uri) {
    AnalysisOptions options = base_options;
    options.path = uri_to_path(uri);
    options.workspace_root = workspace_root;
    std::string relative = options.path;
    if (!workspace_root.empty() && relative.starts_with(workspace_root + "/"))
      relative = relative.substr(workspace_root.size() + 1);
    const std::string base_name = relative.substr(relative.find_last_of('/') + 1);
    for (const SchemaMapping& mapping : schema_mappings) {
      // `*` crosses folders, so `**/*.pbtxt` and `*.pbtxt` both match nested files.
      if (fnmatch(mapping.glob.c_str(), relative.c_str(), 0) == 0 ||
          fnmatch(mapping.glob.c_str(), options.path.c_str(), 0) == 0 ||
          fnmatch(mapping.glob.c_str(), base_name.c_str(), 0) == 0) {
        std::string proto = mapping.proto_file;
        if (!proto.empty() && proto[0] != '/' && !workspace_root.empty()) proto = workspace_root + "/" + proto;
        options.proto_file = proto;
        options.message_name = mapping.message;
        break;
      }
    }
    return options;
  }

  // For the worker threads: settings change under the mutex.
  AnalysisOptions locked_options_for(const std::string& uri) {
    std::lock_guard lock(mutex);
    return options_for(uri);
  }

  void request_configuration() {
    send(json{{"jsonrpc", "2.0"},
              {"id", "amct-configuration-" + std::to_string(next_server_request++)},
              {"method", "workspace/configuration"},
              {"params", {{"items", {{{"section", "amct"}}}}}}}
             .dump());
  }

  // Queues `feature` to run on the worker against a snapshot of the
  // document; its result is the reply (null for a document not open).
  using Feature = std::function<json(const syntax::Document&, const std::string& uri)>;
  void queue_document_request(const json& id, const json& params, Feature feature);
  using SchemaFeature = std::function<json(const syntax::Document&, const FeatureContext&)>;
  void queue_schema_request(const json& id, const json& params, SchemaFeature feature);

  // Where a .proto file of a schema is on disk (the built-in one is written
  // to the cache directory on first use).
  std::optional<std::string> proto_path_on_disk(const schema::Schema& schema, const std::string& file_name);

  void request_loop();
  void diagnostics_loop();
  void publish(const std::string& uri);
  void handle(const json& message);
  void handle_request(const json& id, const std::string& method, const json& params);
  void handle_notification(const std::string& method, const json& params);
  void apply_settings(const json& settings);
};

LanguageServer::LanguageServer(Send send, LanguageServerOptions options) : state_(std::make_unique<State>()) {
  state_->send = std::move(send);
  state_->options = options;
  state_->request_worker = std::thread([state = state_.get()] { state->request_loop(); });
  state_->diagnostics_worker = std::thread([state = state_.get()] { state->diagnostics_loop(); });
  state_->start_estimates();
}

LanguageServer::~LanguageServer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  state_->request_worker.join();
  state_->diagnostics_worker.join();
}

void LanguageServer::State::request_loop() {
  std::unique_lock lock(mutex);
  for (;;) {
    wake.wait(lock, [&] { return stopping || !tasks.empty(); });
    if (stopping) return;
    requests_busy = true;
    auto [id, work] = std::move(tasks.front());
    tasks.pop_front();
    const bool was_cancelled = !id.is_null() && cancelled.erase(id.dump());
    lock.unlock();
    if (was_cancelled) {
      reply_error(id, kRequestCancelled, "request cancelled");
    } else {
      try {
        work();
      } catch (const std::exception& e) {
        if (!id.is_null()) reply_error(id, kInternalError, e.what());
      }
    }
    lock.lock();
    requests_busy = false;
    if (is_idle()) idle_cv.notify_all();
  }
}

void LanguageServer::State::diagnostics_loop() {
  std::unique_lock lock(mutex);
  for (;;) {
    wake.wait(lock, [&] { return stopping || !dirty.empty(); });
    if (stopping) return;
    // Debounce a burst only (see leading_edge): the edit users wait for is
    // checked at once, the rest of a burst once typing pauses.
    const auto quiet_until = last_edit + options.diagnostics_debounce;
    if (!leading_edge && std::chrono::steady_clock::now() < quiet_until) {
      wake.wait_until(lock, quiet_until);
      continue;
    }
    diagnostics_busy = true;
    checking = true;
    leading_edge = false;
    last_check_start = std::chrono::steady_clock::now();
    const std::string uri = *dirty.begin();
    dirty.erase(dirty.begin());
    lock.unlock();
    publish(uri);
    // Before the next edit's check, which would otherwise pay for it.
    merge_freed_small_blocks();
    lock.lock();
    checking = false;
    diagnostics_busy = false;
    if (is_idle()) idle_cv.notify_all();
  }
}

void LanguageServer::State::queue_document_request(const json& id, const json& params, Feature feature) {
  const std::string uri = params.at("textDocument").at("uri");
  std::lock_guard lock(mutex);
  tasks.emplace_back(id, [this, id, uri, feature = std::move(feature)] {
    std::shared_ptr<const VersionSnapshot> snapshot;
    {
      std::lock_guard inner(mutex);
      auto it = documents.find(uri);
      if (it != documents.end()) snapshot = it->second.current_snapshot();
    }
    reply(id, snapshot ? feature(snapshot->document, uri) : json(nullptr));
  });
  wake.notify_all();
}

void LanguageServer::State::queue_schema_request(const json& id, const json& params, SchemaFeature feature) {
  const std::string uri = params.at("textDocument").at("uri");
  std::lock_guard lock(mutex);
  tasks.emplace_back(id, [this, id, uri, feature = std::move(feature)] {
    std::shared_ptr<const VersionSnapshot> snapshot;
    FeatureContext context;
    bool schema_known = false;
    AnalysisOptions analysis_options;
    {
      std::lock_guard inner(mutex);
      auto it = documents.find(uri);
      if (it == documents.end()) {
        reply(id, nullptr);
        return;
      }
      snapshot = it->second.current_snapshot();
      context.schema = it->second.schema;
      schema_known = it->second.schema_known;
      if (it->second.analyzed_version == it->second.version) context.analysis = it->second.analysis;
      context.soc = base_options.soc;
      context.language = ide::docs_language(docs_language_setting, client_locale);
      analysis_options = options_for(uri);
    }
    if (!schema_known) {
      context.schema = schema::bind_schema(snapshot->document, binding_options_of(analysis_options)).schema;
    }
    if (auto soc = snapshot->soc_header()) context.soc = soc;
    json result = feature(snapshot->document, context);
    if (result != json(kAlreadyAnswered)) reply(id, std::move(result));
  });
  wake.notify_all();
}

std::optional<std::string> LanguageServer::State::proto_path_on_disk(const schema::Schema& schema,
                                                                     const std::string& file_name) {
  namespace fs = std::filesystem;
  if (schema.is_amct) return materialize_builtin_proto();
  if (fs::path(file_name).is_absolute()) return file_name;
  std::vector<fs::path> roots;
  if (!schema.proto_path.empty()) {
    if (fs::path(schema.proto_path).filename() == fs::path(file_name).filename() &&
        schema.proto_path.ends_with(file_name))
      return schema.proto_path;
    roots.push_back(fs::path(schema.proto_path).parent_path());
  }
  {
    std::lock_guard lock(mutex);
    for (const auto& root : base_options.import_roots) roots.emplace_back(root);
    if (!workspace_root.empty()) roots.emplace_back(workspace_root);
  }
  for (const auto& root : roots) {
    std::error_code error;
    const fs::path candidate = root / file_name;
    if (fs::exists(candidate, error)) return candidate.string();
  }
  return std::nullopt;
}

void LanguageServer::State::publish(const std::string& uri) {
  std::shared_ptr<const VersionSnapshot> snapshot;
  int64_t version = 0;
  AnalysisOptions analysis_options;
  std::shared_ptr<IncrementalAnalyzer> analyzer;
  std::shared_ptr<DiagnosticsJsonCache> published_json;
  // Freed after the publish: its thousands of diagnostics take a millisecond.
  std::shared_ptr<Analysis> retired;
  PublishTimes times;
  {
    std::lock_guard lock(mutex);
    auto it = documents.find(uri);
    if (it == documents.end()) return;
    snapshot = it->second.current_snapshot();
    version = it->second.version;
    analysis_options = options_for(uri);
    analyzer = it->second.analyzer;
    published_json = it->second.published_json;
    times.change_arrived = it->second.change_arrived;
    times.change_applied = it->second.change_applied;
    it->second.change_arrived = {};  // a later check of this version (a setting) is timed from its start
    // A check of an older version serves no feature any more.
    if (it->second.analyzed_version != version) retired = std::move(it->second.analysis);
  }
  // Dropped when the document changed or closed meanwhile: a newer check follows.
  auto still_current = [&](const std::map<std::string, OpenDocument>::iterator& it) {
    return it != documents.end() && it->second.version == version && !dirty.count(uri);
  };
  auto send = [&](const std::vector<Diagnostic>& diagnostics) {
    // Written as text, copying the JSON of the diagnostics the last publish
    // had: a DOM of thousands of diagnostics costs more than the check.
    // Pushed, the notification is written around them in the same buffer.
    std::string before;
    if (!client.pull_diagnostics) {
      before = "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":{\"uri\":";
      append_json_string(before, uri);
      before += ",\"version\":" + std::to_string(version) + ",\"diagnostics\":";
    }
    times.diagnostics_ready = std::chrono::steady_clock::now();
    times.diagnostics = diagnostics.size();
    const std::string& text = published_json->text(snapshot->document, uri, diagnostics, encoding, docs_base(),
                                                   JsonFrame{before, before.empty() ? "" : "}}"});
    times.json_written = std::chrono::steady_clock::now();
    check_done();
    deliver_diagnostics(uri, version, text);
    times.sent = std::chrono::steady_clock::now();
  };
  // Without model-aware diagnostics to add, the diagnostics go out as soon
  // as they are known; the analyzer finishes the model after (features of
  // this version read it only once it is stored below).
  bool sent = false, dropped = false;
  IncrementalAnalyzer::DiagnosticsReady send_early;
  if (!estimates->enabled()) {
    send_early = [&](const std::vector<Diagnostic>& diagnostics) {
      {
        std::lock_guard lock(mutex);
        dropped = !still_current(documents.find(uri));
      }
      if (dropped) return;
      send(diagnostics);
      sent = true;
    };
  }
  // Its model, held by nothing else, goes back to the analyzer, which then
  // moves it instead of binding everything again. (Features copy the
  // analysis under the lock only, and it is out of the document now.)
  if (retired && retired.use_count() == 1) retired->bound.reset();
  times.check_started = std::chrono::steady_clock::now();
  Analysis checked = analyzer->analyze(snapshot->document, analysis_options, send_early);
  estimates->add_model_diagnostics(snapshot->document, analysis_options, checked);
  auto analysis = std::make_shared<Analysis>(std::move(checked));
  // Freed after the lock is released (declared before it).
  std::unique_ptr<TSTree, syntax::Document::TreeDeleter> replaced_tree;
  {
    std::lock_guard lock(mutex);
    auto it = documents.find(uri);
    // The next parse starts from this tree rather than from an older one.
    // (A check that parsed only the fields around the edit left no tree.)
    if (it != documents.end() && it->second.version == version && snapshot->document.is_parsed())
      replaced_tree = it->second.document.adopt_tree(snapshot->document);
    // A newer version may have come since the early publish: its check follows.
    if (dropped || (!sent && !still_current(it))) return;
    if (it != documents.end() && it->second.version == version) {
      it->second.schema = analysis->schema;
      it->second.schema_known = true;
      it->second.analysis = analysis;
      it->second.analyzed_version = version;
    }
  }
  if (!sent) send(analysis->diagnostics);
  retired.reset();
  if (trace_level > 0) log_trace(publish_trace(uri, version, times), nullptr);
  // After the publish, which the user waits for.
  if (estimates->enabled() && analysis->bound && is_amct_config(*analysis->bound))
    estimates->schedule(uri, version, extract_config(analysis->bound->root),
                        ResolveOptions{resolve_amct_options(snapshot->document, {analysis_options.soc, analysis_options.api}).context.api});
  // Computed here, not in the next completion. The analysis saw every
  // top-level header (the outline has them all, with the key's `#`, `:` and
  // blanks trimmed, which cannot make or break "soc" or "proto"): without one
  // naming a SoC, no walk is needed.
  const schema::DocumentOutline& outline = analyzer->last_outline();
  if (std::none_of(outline.headers.begin(), outline.headers.end(),
                   [](const schema::SchemaHeader& header) { return names_soc(header.key); }))
    snapshot->know_no_soc_header();
  else
    (void)snapshot->soc_header();
  // A version checked from the fields around the edit has no tree yet: it
  // is parsed now, while the user reads the diagnostics, so that the next
  // completion or hover finds it (a 10,000-block file takes ~25 ms), and
  // its tree becomes the start of the next incremental parse. An edit
  // stops it; the edit's own check does not need the tree.
  if (snapshot->document.is_parsed()) return;
  {
    std::lock_guard lock(mutex);
    if (!still_current(documents.find(uri))) return;
    background_parse_cancel.store(0);
  }
  if (!snapshot->document.parse_unless_cancelled(background_parse_cancel)) return;
  // The older tree it replaces is freed when this returns, after the lock.
  std::unique_ptr<TSTree, syntax::Document::TreeDeleter> replaced;
  {
    std::lock_guard lock(mutex);
    auto it = documents.find(uri);
    if (it != documents.end() && it->second.version == version) replaced = it->second.document.adopt_tree(snapshot->document);
  }
}

void LanguageServer::on_message(std::string_view body) {
  if (exceeds_json_depth(body)) {  // before parsing: deep values overflow the stack (issue 7)
    state_->reply_error(nullptr, kParseError, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return;
  }
  json message = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) {
    state_->reply_error(nullptr, kParseError, "invalid JSON");
    return;
  }
  if (message.is_array()) {
    state_->reply_error(nullptr, kInvalidRequest, "batch requests are not supported by LSP");
    return;
  }
  try {
    state_->handle(message);
  } catch (const std::exception& e) {
    const json id = message.is_object() && message.contains("id") ? message["id"] : json(nullptr);
    state_->reply_error(id, kInvalidParams, std::string("invalid message: ") + e.what());
  }
}

void LanguageServer::on_framing_error(const std::string& error) {
  state_->reply_error(nullptr, kParseError, error);
}

void LanguageServer::on_end_of_input() { state_->exit_flag = true; }

bool LanguageServer::exit_requested() const { return state_->exit_flag; }
int LanguageServer::exit_code() const { return state_->exit_code; }

bool LanguageServer::document_tree_parsed(const std::string& uri) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->documents.find(uri);
  return it != state_->documents.end() && it->second.document.is_parsed();
}

void LanguageServer::wait_idle() {
  std::unique_lock lock(state_->mutex);
  state_->idle_cv.wait(lock, [&] { return state_->is_idle(); });
}

void LanguageServer::State::handle(const json& message) {
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0") {
    const json id = message.is_object() && message.contains("id") ? message["id"] : json(nullptr);
    reply_error(id, kInvalidRequest, "not a JSON-RPC 2.0 message");
    return;
  }
  const bool has_id = message.contains("id");
  if (!message.contains("method")) {
    // A response to one of our requests: only workspace/configuration is sent.
    if (has_id && message["id"].is_string() && message["id"].get<std::string>().starts_with("amct-configuration-") &&
        message.contains("result") && message["result"].is_array() && !message["result"].empty()) {
      apply_settings(message["result"][0]);
      wake.notify_all();
    }
    if (has_id && message["id"].is_string() && message.contains("result"))
      progress_created(message["id"].get<std::string>());
    return;
  }
  if (!message["method"].is_string()) {
    if (has_id) reply_error(message["id"], kInvalidRequest, "'method' must be a string");
    return;
  }
  const std::string method = message["method"];
  const json params = message.value("params", json::object());
  trace_received(message, method);
  if (has_id) {
    const json& id = message["id"];
    if (!id.is_string() && !id.is_number_integer()) {
      reply_error(nullptr, kInvalidRequest, "'id' must be an integer or a string");
      return;
    }
    handle_request(id, method, params);
  } else {
    handle_notification(method, params);
  }
}

void LanguageServer::State::apply_settings(const json& settings) {
  const json amct = settings.contains("amct") ? settings["amct"] : settings;
  if (!amct.is_object()) return;
  std::lock_guard lock(mutex);
  auto optional_string = [&](const char* key) -> std::optional<std::string> {
    if (amct.contains(key) && amct[key].is_string() && !amct[key].get<std::string>().empty())
      return amct[key].get<std::string>();
    return std::nullopt;
  };
  base_options.soc = optional_string("socVersion");
  base_options.api = optional_string("api");
  if (auto language = optional_string("docsLanguage")) docs_language_setting = *language;
  docs_url_setting = optional_string("diagnosticsDocsUrl");
  base_options.import_roots.clear();
  if (amct.contains("importRoots") && amct["importRoots"].is_array())
    for (const auto& root : amct["importRoots"])
      if (root.is_string()) base_options.import_roots.push_back(root);
  schema_mappings.clear();
  if (amct.contains("schemaMappings")) {
    const json& mappings = amct["schemaMappings"];
    // Either [{"glob","proto","message"}] or {"glob": {"proto","message"}}.
    auto add = [&](const std::string& glob, const json& target) {
      if (!target.is_object()) return;
      const std::string proto = target.value("proto", target.value("protoFile", ""));
      const std::string message = target.value("message", "");
      if (!glob.empty() && !proto.empty() && !message.empty()) schema_mappings.push_back({glob, proto, message});
    };
    if (mappings.is_array()) {
      for (const json& item : mappings)
        if (item.is_object() && item.contains("glob") && item["glob"].is_string()) add(item["glob"], item);
    } else if (mappings.is_object()) {
      for (const auto& [glob, target] : mappings.items()) add(glob, target);
    }
  }
  weights_setting = optional_string("weights");
  manifest_setting = optional_string("manifest");
  estimates_in_inlay_hints = optional_string("estimatesIn") == "inlayHint";
  estimates->configure(estimate_settings());
  for (const auto& [uri, doc] : documents) dirty.insert(uri);
  update_model_watch();
}

void LanguageServer::State::handle_request(const json& id, const std::string& method, const json& params) {
  if (method == "initialize") {
    if (phase != Phase::Uninitialized) {
      reply_error(id, kInvalidRequest, "initialize was already received");
      return;
    }
    const json encodings = params.contains("capabilities")
                               ? params["capabilities"].value("/general/positionEncodings"_json_pointer, json::array())
                               : json::array();
    for (const auto& offered : encodings)
      if (offered == "utf-8") encoding = PositionEncoding::Utf8;
    if (params.contains("rootUri") && params["rootUri"].is_string()) workspace_root = uri_to_path(params["rootUri"]);
    if (params.contains("workspaceFolders") && params["workspaceFolders"].is_array() &&
        !params["workspaceFolders"].empty() && params["workspaceFolders"][0].contains("uri"))
      workspace_root = uri_to_path(params["workspaceFolders"][0]["uri"]);
    if (params.contains("initializationOptions") && params["initializationOptions"].is_object())
      apply_settings(params["initializationOptions"]);
    if (params.contains("trace")) set_trace(params["trace"]);
    client_pulls_configuration =
        params.value("/capabilities/workspace/configuration"_json_pointer, json(false)) == json(true);
    if (params.contains("locale") && params["locale"].is_string()) client_locale = params["locale"];
    if (params.contains("capabilities") && params["capabilities"].is_object()) {
      const json& capabilities = params["capabilities"];
      auto is_true = [&](const char* pointer) {
        return capabilities.value(json::json_pointer(pointer), json(false)) == json(true);
      };
      client.pull_diagnostics = capabilities.value("/textDocument/diagnostic"_json_pointer, json()).is_object();
      client.diagnostic_refresh = is_true("/workspace/diagnostics/refreshSupport");
      client.code_lens_refresh = is_true("/workspace/codeLens/refreshSupport");
      client.work_done_progress = is_true("/window/workDoneProgress");
      client.watched_files_registration = is_true("/workspace/didChangeWatchedFiles/dynamicRegistration");
      client.relative_patterns = is_true("/workspace/didChangeWatchedFiles/relativePatternSupport");
      client.inlay_hint_refresh = is_true("/workspace/inlayHint/refreshSupport");
    }
    phase = Phase::Running;
    reply(id, {{"capabilities", server_capabilities(encoding)},
               {"serverInfo", {{"name", "amct-lsp"}, {"version", AMCT_LSP_VERSION}}}});
    return;
  }
  if (phase == Phase::Uninitialized) {
    reply_error(id, kServerNotInitialized, "the server is not initialized: send 'initialize' first");
    return;
  }
  if (phase == Phase::ShutDown) {
    reply_error(id, kInvalidRequest, "the server is shut down: only 'exit' is accepted");
    return;
  }
  if (method == "shutdown") {
    phase = Phase::ShutDown;
    reply(id, nullptr);
    return;
  }
  // One line per feature: the pure function from core/ide and its JSON conversion.
  const auto enc = encoding;
  if (method == "textDocument/diagnostic") {
    const std::string uri = params.at("textDocument").at("uri");
    queue_schema_request(id, params, [this, uri](const syntax::Document& document, const FeatureContext& context) {
      // The published check of this very version, when there is one.
      std::shared_ptr<const Analysis> analysis = context.analysis;
      if (!analysis) analysis = std::make_shared<const Analysis>(analyze_with_model(document, locked_options_for(uri)));
      json items = diagnostics_to_json(document, uri, analysis->diagnostics, encoding, docs_base());
      {
        std::lock_guard lock(mutex);
        auto open = documents.find(uri);
        if (open != documents.end()) served_diagnostics[uri] = {open->second.version, items.dump()};
      }
      return json{{"kind", "full"}, {"items", std::move(items)}};
    });
    return;
  }
  if (method == "textDocument/completion") {
    const syntax::Position position = position_from_json(params.at("position"));
    queue_schema_request(id, params, [this, enc, position](const syntax::Document& d, const FeatureContext& context) {
      ide::CompletionOptions options;
      if (context.schema) {
        options.root_type = context.schema->root;
        options.schema_file = context.schema->is_amct ? nullptr : context.schema->root->file();
        options.is_amct = context.schema->is_amct;
      }
      options.soc = context.soc;
      options.language = context.language;
      if (estimates->enabled())
        for (const engine::ModelLayerInfo& layer : estimates->model()->layers) options.model_layers.push_back({layer.name, layer.type});
      return json{{"isIncomplete", false},
                  {"items", completion_items_to_json(d, ide::complete(d, d.offset_at(position, enc), options), enc)}};
    });
    return;
  }
  if (method == "textDocument/hover") {
    const syntax::Position position = position_from_json(params.at("position"));
    queue_schema_request(id, params, [enc, position](const syntax::Document& d, const FeatureContext& context) {
      ide::HoverOptions options;
      options.root_type = context.schema ? context.schema->root : nullptr;
      options.language = context.language;
      const auto result = ide::hover(d, d.offset_at(position, enc), options);
      if (!result) return json(nullptr);
      return json{{"contents", {{"kind", "markdown"}, {"value", result->markdown}}},
                  {"range", range_to_json(d.range_of(result->range, enc))}};
    });
    return;
  }
  if (method == "textDocument/inlayHint") {
    const syntax::Range range = range_from_json(params.at("range"));
    queue_schema_request(id, params, [this, enc, range](const syntax::Document& d, const FeatureContext& context) {
      json out = json::array();
      if (!context.schema) return out;
      ide::InlayHintOptions options;
      options.range = ByteRange{d.offset_at(range.start, enc), d.offset_at(range.end, enc)};
      std::vector<ide::InlayHint> hints = ide::inlay_hints(bound_model(d, context), options);
      if (estimates_in_inlay_hints) {
        for (ide::InlayHint& hint : ide::estimate_inlay_hints(d, current_estimate_hints(d, context), options))
          hints.push_back(std::move(hint));
        std::stable_sort(hints.begin(), hints.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
      }
      for (const ide::InlayHint& hint : hints) {
        const syntax::Position p = d.position_at(hint.offset, enc);
        out.push_back({{"position", {{"line", p.line}, {"character", p.character}}},
                       {"label", hint.label},
                       {"tooltip", hint.tooltip},
                       {"paddingLeft", true}});
      }
      return out;
    });
    return;
  }
  if (method == "textDocument/definition") {
    const syntax::Position position = position_from_json(params.at("position"));
    queue_schema_request(id, params, [this, enc, position](const syntax::Document& d, const FeatureContext& context) {
      if (!context.schema) return json(nullptr);
      const auto target = ide::definition(d, d.offset_at(position, enc), context.schema->root);
      if (!target) return json(nullptr);
      const auto path = proto_path_on_disk(*context.schema, target->proto_file);
      if (!path) return json(nullptr);
      // Protobuf's spans count columns in bytes (ASCII .proto files).
      return json{{"uri", path_to_uri(*path)},
                  {"range", range_to_json({{target->line, target->column}, {target->end_line, target->end_column}})}};
    });
    return;
  }
  if (method == "textDocument/codeAction") {
    const syntax::Range range = range_from_json(params.at("range"));
    const std::string uri = params.at("textDocument").at("uri");
    queue_schema_request(id, params, [this, enc, range, uri](const syntax::Document& d, const FeatureContext& context) {
      std::shared_ptr<const Analysis> analysis = context.analysis;
      if (!analysis) analysis = std::make_shared<const Analysis>(analyze(d, locked_options_for(uri)));
      ide::CodeActionInput input;
      input.diagnostics = &analysis->diagnostics;
      input.bound = analysis->bound.get();
      input.has_schema = analysis->schema.has_value();
      input.range = ByteRange{d.offset_at(range.start, enc), d.offset_at(range.end, enc)};
      const json diagnostics = diagnostics_to_json(d, uri, analysis->diagnostics, enc, docs_base());
      json out = json::array();
      for (const ide::CodeAction& action : ide::code_actions(d, input)) {
        json edits = json::array();
        for (const ide::TextEdit& edit : action.edits)
          edits.push_back({{"range", range_to_json(d.range_of(edit.range, enc))}, {"newText", edit.new_text}});
        json item = {{"title", action.title}, {"kind", action.kind}, {"edit", {{"changes", {{uri, edits}}}}}};
        if (action.preferred) item["isPreferred"] = true;
        if (!action.diagnostics.empty()) {
          item["diagnostics"] = json::array();
          for (size_t index : action.diagnostics) item["diagnostics"].push_back(diagnostics[index]);
        }
        out.push_back(std::move(item));
      }
      return out;
    });
    return;
  }
  if (method == "textDocument/codeLens") {
    std::optional<std::string> api_setting;
    {
      std::lock_guard lock(mutex);
      api_setting = base_options.api;
    }
    queue_schema_request(id, params, [this, id, enc, api_setting](const syntax::Document& d, const FeatureContext& context) {
      if (!context.schema || !context.schema->is_amct) return json::array();
      ide::CodeLensOptions options;
      if (api_setting) options.api = parse_amct_api(*api_setting).value_or(AmctApi::Compressed);
      std::string lenses = code_lenses_json_text(d, ide::code_lenses(bound_model(d, context), options), enc);
      // The error estimates (amct.weights) after the precedence lenses.
      for (const json& lens : estimates_in_inlay_hints ? json::array() : estimate_lenses(d, context, enc)) {
        lenses.pop_back();  // ']'
        if (lenses.back() != '[') lenses += ',';  // separate appends: GCC 12's -Wrestrict misfires on a + chain
        lenses += lens.dump(-1, ' ', false, json::error_handler_t::replace);
        lenses += ']';
      }
      reply_raw(id, lenses);
      return json(kAlreadyAnswered);
    });
    return;
  }
  if (method == "textDocument/formatting" || method == "textDocument/rangeFormatting") {
    ide::FormattingOptions options;
    const json& requested = params.at("options");
    options.tab_size = static_cast<uint32_t>(std::clamp<int64_t>(requested.value("tabSize", 4), 1, 16));
    options.insert_spaces = requested.value("insertSpaces", true);
    std::optional<syntax::Range> range;
    if (method == "textDocument/rangeFormatting") range = range_from_json(params.at("range"));
    queue_document_request(id, params, [enc, options, range](const syntax::Document& d, const std::string&) {
      const std::vector<ide::TextEdit> edits =
          range ? ide::format_range(d, ByteRange{d.offset_at(range->start, enc), d.offset_at(range->end, enc)}, options)
                : ide::format_document(d, options);
      json out = json::array();
      for (const ide::TextEdit& edit : edits)
        out.push_back({{"range", range_to_json(d.range_of(edit.range, enc))}, {"newText", edit.new_text}});
      return out;
    });
    return;
  }
  if (method == "textDocument/documentSymbol") {
    queue_document_request(id, params, [enc](const syntax::Document& d, const std::string&) {
      return symbols_to_json(d, ide::document_symbols(d), enc);
    });
    return;
  }
  if (method == "textDocument/foldingRange") {
    queue_document_request(id, params, [](const syntax::Document& d, const std::string&) {
      return folding_ranges_to_json(ide::folding_ranges(d));
    });
    return;
  }
  if (method == "textDocument/selectionRange") {
    const json positions = params.at("positions");
    queue_document_request(id, params, [enc, positions](const syntax::Document& d, const std::string&) {
      json out = json::array();
      for (const json& p : positions) {
        const uint32_t offset = d.offset_at(position_from_json(p), enc);
        out.push_back(selection_range_to_json(d, ide::selection_ranges(d, offset), enc));
      }
      return out;
    });
    return;
  }
  if (method == "textDocument/semanticTokens/full") {
    queue_document_request(id, params, [enc](const syntax::Document& d, const std::string&) {
      return json{{"data", semantic_tokens_to_json(d, ide::semantic_tokens(d), enc)}};
    });
    return;
  }
  if (method == "textDocument/semanticTokens/range") {
    const syntax::Range range = range_from_json(params.at("range"));
    queue_document_request(id, params, [enc, range](const syntax::Document& d, const std::string&) {
      const ByteRange bytes{d.offset_at(range.start, enc), d.offset_at(range.end, enc)};
      return json{{"data", semantic_tokens_to_json(d, ide::semantic_tokens(d, bytes), enc)}};
    });
    return;
  }
  reply_error(id, kMethodNotFound, "method not supported: " + method);
}

void LanguageServer::State::handle_notification(const std::string& method, const json& params) {
  if (method == "exit") {
    exit_code = phase == Phase::ShutDown ? 0 : 1;
    exit_flag = true;
    return;
  }
  if (phase != Phase::Running) return;  // notifications before initialize are dropped
  if (method == "initialized") {
    {
      std::lock_guard lock(mutex);
      initialized_received = true;
      update_model_watch();
    }
    if (client_pulls_configuration) request_configuration();
    log(3, std::string("amct-lsp ") + AMCT_LSP_VERSION + " ready (position encoding " +
               (encoding == PositionEncoding::Utf8 ? "utf-8" : "utf-16") + ")");
    return;
  }
  if (method == "$/setTrace") {
    if (params.contains("value")) set_trace(params["value"]);
    return;
  }
  if (method == "$/cancelRequest") {
    if (params.is_object() && params.contains("id")) {
      std::lock_guard lock(mutex);
      // Only a request still queued can be cancelled; remembering other ids
      // (answered, never sent) would grow the set without bound.
      const json& id = params["id"];
      if (std::any_of(tasks.begin(), tasks.end(), [&](const auto& task) { return task.first == id; }))
        cancelled.insert(id.dump());
    }
    return;
  }
  if (method == "workspace/didChangeConfiguration") {
    // Push (settings in the notification) or pull (ask the client for them).
    if (params.contains("settings") && params["settings"].is_object() && params["settings"].contains("amct"))
      apply_settings(params["settings"]);
    else if (client_pulls_configuration)
      request_configuration();
    wake.notify_all();
    return;
  }
  if (method == "textDocument/didOpen") {
    const json& item = params.at("textDocument");
    const std::string uri = item.at("uri");
    std::lock_guard lock(mutex);
    OpenDocument opened(syntax::Document(item.at("text").get<std::string>()));
    opened.version = item.value("version", 0);
    opened.language_id = item.value("languageId", "");
    documents.insert_or_assign(uri, std::move(opened));
    note_edit();
    dirty.insert(uri);
    wake.notify_all();
    return;
  }
  if (method == "textDocument/didChange") {
    const auto arrived = std::chrono::steady_clock::now();
    const std::string uri = params.at("textDocument").at("uri");
    const int64_t version = params.at("textDocument").value("version", 0);
    std::lock_guard lock(mutex);
    auto it = documents.find(uri);
    if (it == documents.end()) return;  // a change for a document that is not open: ignored
    if (version <= it->second.version) return;  // out of order: an older version is never applied
    for (const auto& change : params.at("contentChanges")) {
      syntax::TextChange text_change;
      text_change.text = change.at("text").get<std::string>();
      if (change.contains("range")) text_change.range = range_from_json(change["range"]);
      it->second.document.apply_change(text_change, encoding);
    }
    it->second.version = version;
    it->second.change_arrived = arrived;
    it->second.change_applied = std::chrono::steady_clock::now();
    note_edit();
    estimates->cancel(uri);
    dirty.insert(uri);
    wake.notify_all();
    return;
  }
  if (method == "textDocument/didClose") {
    const std::string uri = params.at("textDocument").at("uri");
    std::lock_guard lock(mutex);
    documents.erase(uri);
    dirty.erase(uri);
    estimates->cancel(uri);
    served_diagnostics.erase(uri);
    if (!client.pull_diagnostics) notify("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}});
    return;
  }
  if (method == "workspace/didChangeWatchedFiles") {
    // Only the model files are watched; a change of either reloads the model
    // (and its model_reloaded event marks every document for a new check).
    const std::vector<std::string> watched = estimates->watched_files();
    bool model_changed = false;
    if (params.contains("changes") && params["changes"].is_array())
      for (const json& change : params["changes"])
        if (change.is_object() && change.contains("uri") && change["uri"].is_string())
          model_changed |= std::find(watched.begin(), watched.end(), uri_to_path(change["uri"])) != watched.end();
    if (model_changed) estimates->files_changed();
    return;
  }
  if (method == "textDocument/didSave") {
    const std::string uri = params.at("textDocument").at("uri");
    std::lock_guard lock(mutex);
    if (documents.count(uri)) dirty.insert(uri);
    wake.notify_all();
    return;
  }
  // Other notifications (e.g. $/progress from the client) are ignored, as the spec allows.
}

// ---- the reference engine (amct.weights) and diagnostics delivery ------------

void LanguageServer::State::start_estimates() {
  EstimateEvents events;
  events.estimates_changed = [this](const std::string&, int64_t) {
    if (estimates_in_inlay_hints) {
      if (client.inlay_hint_refresh) send_request("amct-refresh-", "workspace/inlayHint/refresh", nullptr);
    } else if (client.code_lens_refresh) {
      send_request("amct-refresh-", "workspace/codeLens/refresh", nullptr);
    }
  };
  events.progress_begin = [this](const std::string& title) { progress_begin(title); };
  events.progress_report = [this](unsigned percent, const std::string& message) { progress_report(percent, message); };
  events.progress_end = [this] { progress_end(); };
  events.model_reloaded = [this] {
    std::lock_guard lock(mutex);
    for (const auto& [uri, doc] : documents) dirty.insert(uri);
    wake.notify_all();
  };
  events.load_failed = [this](const std::string& error) {
    notify("window/showMessage", {{"type", 1}, {"message", "amct.weights: " + error}});
    log(1, "amct.weights: " + error);
  };
  estimates = std::make_unique<EstimateService>(std::move(events));
}

EstimateSettings LanguageServer::State::estimate_settings() const {
  auto absolute = [&](const std::optional<std::string>& path) -> std::optional<std::string> {
    if (!path) return std::nullopt;
    if ((*path)[0] == '/' || workspace_root.empty()) return *path;
    return workspace_root + "/" + *path;
  };
  EstimateSettings settings;
  settings.weights = absolute(weights_setting);
  settings.manifest = absolute(manifest_setting);
  return settings;
}

Analysis LanguageServer::State::analyze_with_model(const syntax::Document& document, const AnalysisOptions& options) {
  Analysis analysis = analyze(document, options);
  estimates->add_model_diagnostics(document, options, analysis);
  return analysis;
}

void LanguageServer::State::deliver_diagnostics(const std::string& uri, int64_t version, const std::string& text) {
  if (!client.pull_diagnostics) {
    send(text);
    return;
  }
  // The client pulls after every edit; what it cannot know about is a change
  // of the same version's result (settings, the model): ask it to pull again.
  // Compared in one JSON spelling (the pull answer is written by dump()).
  std::string items = json::parse(text, nullptr, false).dump();
  bool changed = false;
  {
    std::lock_guard lock(mutex);
    auto served = served_diagnostics.find(uri);
    changed = served != served_diagnostics.end() && served->second.version == version && served->second.items != items;
    if (served == served_diagnostics.end() || served->second.version <= version)
      served_diagnostics[uri] = {version, std::move(items)};
  }
  if (changed && client.diagnostic_refresh) send_request("amct-refresh-", "workspace/diagnostic/refresh", nullptr);
}

json LanguageServer::State::estimate_lenses(const syntax::Document& d, const FeatureContext& context,
                                            PositionEncoding enc) {
  json out = json::array();
  if (!estimates->enabled()) return out;
  const std::shared_ptr<const LoadedModel> loaded = estimates->model();
  if (!loaded->model) {
    out.push_back({{"range", range_to_json(d.range_of(ByteRange{0, 0}, enc))},
                   {"command", {{"title", "⚠ amct.weights: " + loaded->error}, {"command", ""}}}});
    return out;
  }
  for (const ide::EstimateHint& hint : current_estimate_hints(d, context))
    out.push_back({{"range", range_to_json(d.range_of(hint.range, enc))},
                   {"command", {{"title", hint.label}, {"command", ""}}}});
  return out;
}

std::vector<ide::EstimateHint> LanguageServer::State::current_estimate_hints(const syntax::Document& d,
                                                                             const FeatureContext& context) {
  if (!estimates->enabled() || !estimates->model()->model) return {};
  const model::BoundDocument& bound = bound_model(d, context);
  if (!is_amct_config(bound)) return {};
  std::optional<std::string> api;
  {
    std::lock_guard lock(mutex);
    api = base_options.api;
  }
  ResolveOptions resolve;
  resolve.api = resolve_amct_options(d, {context.soc, api}).context.api;
  return estimates->hints(extract_config(bound.root), resolve);
}

// Asks the client to watch the weights and manifest files (once initialized,
// and again when the settings name other files). Under `mutex`.
void LanguageServer::State::update_model_watch() {
  if (!client.watched_files_registration || !initialized_received) return;
  const std::vector<std::string> files = estimates->watched_files();
  if (files == watched_model_files) return;
  const std::string registration = "amct-model-files";
  if (!watched_model_files.empty())
    send_request("amct-unregister-", "client/unregisterCapability",
                 {{"unregisterations", {{{"id", registration}, {"method", "workspace/didChangeWatchedFiles"}}}}});
  watched_model_files = files;
  if (files.empty()) return;
  json watchers = json::array();
  for (const std::string& file : files) {
    const size_t slash = file.find_last_of('/');
    json pattern;
    if (client.relative_patterns && slash != std::string::npos) {
      pattern = {{"baseUri", path_to_uri(slash == 0 ? "/" : file.substr(0, slash))}, {"pattern", glob_literal(file.substr(slash + 1))}};
    } else {
      pattern = glob_literal(file);
    }
    watchers.push_back({{"globPattern", pattern}, {"kind", 7}});  // create | change | delete
  }
  send_request("amct-register-", "client/registerCapability",
               {{"registrations", {{{"id", registration},
                                    {"method", "workspace/didChangeWatchedFiles"},
                                    {"registerOptions", {{"watchers", watchers}}}}}}});
}

void LanguageServer::State::send_request(const std::string& id_prefix, const std::string& method, json params) {
  json message = {{"jsonrpc", "2.0"}, {"id", id_prefix + std::to_string(next_engine_request++)}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  send(message.dump(-1, ' ', false, json::error_handler_t::replace));
}

void LanguageServer::State::progress_begin(const std::string& title) {
  if (!client.work_done_progress) return;
  std::lock_guard lock(progress.mutex);
  const int n = next_engine_request++;
  progress.token = "amct-estimate-" + std::to_string(n);
  progress.create_id = "amct-progress-" + std::to_string(n);
  progress.begun = false;
  progress.title = title;
  progress.percent = 0;
  progress.message.clear();
  send(json{{"jsonrpc", "2.0"}, {"id", progress.create_id}, {"method", "window/workDoneProgress/create"},
            {"params", {{"token", progress.token}}}}
           .dump());
}

void LanguageServer::State::progress_created(const std::string& create_id) {
  std::lock_guard lock(progress.mutex);
  if (progress.token.empty() || create_id != progress.create_id || progress.begun) return;
  progress.begun = true;
  notify("$/progress", {{"token", progress.token},
                        {"value", {{"kind", "begin"}, {"title", progress.title}, {"cancellable", false},
                                   {"message", progress.message}, {"percentage", progress.percent}}}});
}

void LanguageServer::State::progress_report(unsigned percent, const std::string& message) {
  std::lock_guard lock(progress.mutex);
  progress.percent = percent;
  progress.message = message;
  if (!progress.begun) return;
  notify("$/progress", {{"token", progress.token},
                        {"value", {{"kind", "report"}, {"message", message}, {"percentage", percent}}}});
}

void LanguageServer::State::progress_end() {
  std::lock_guard lock(progress.mutex);
  if (progress.begun) notify("$/progress", {{"token", progress.token}, {"value", {{"kind", "end"}}}});
  progress.token.clear();
  progress.begun = false;
}

void LanguageServer::wait_estimates_idle() {
  wait_idle();
  state_->estimates->wait_idle();
}

int run_stdio_server() {
#ifdef F_SETPIPE_SZ
  // A publish of a large config is megabytes: through the default 64 KB pipe
  // the client would be woken ~50 times per publish, and the server blocked
  // as often. Not a pipe, or beyond the system's limit: the default stays.
  (void)::fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
#endif
  std::mutex output_mutex;
  // The header and the body in one writev: a publish is megabytes, and
  // framing it by copying would cost a copy (and its page faults) per edit.
  auto write_all = [&](const std::string& body) {
    const std::string header = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    std::lock_guard lock(output_mutex);
    size_t written = 0;
    const size_t total = header.size() + body.size();
    while (written < total) {
      iovec parts[2];
      int count = 0;
      if (written < header.size()) parts[count++] = {const_cast<char*>(header.data()) + written, header.size() - written};
      const size_t body_written = written > header.size() ? written - header.size() : 0;
      parts[count++] = {const_cast<char*>(body.data()) + body_written, body.size() - body_written};
      const ssize_t n = ::writev(STDOUT_FILENO, parts, count);
      if (n <= 0) return;  // the client is gone
      written += static_cast<size_t>(n);
    }
  };
  LanguageServer server(write_all);
  MessageReader reader;
  asio::io_context io;
  asio::posix::stream_descriptor input(io, ::dup(STDIN_FILENO));
  std::array<char, 65536> buffer;
  std::function<void()> read_more = [&] {
    input.async_read_some(asio::buffer(buffer), [&](const asio::error_code& error, size_t bytes) {
      if (!error) reader.feed(std::string_view(buffer.data(), bytes));
      else reader.finish();
      while (auto event = reader.next()) {
        if (event->kind == FramedEvent::Kind::Message) server.on_message(event->body);
        else server.on_framing_error(event->error);
        if (server.exit_requested()) return;
      }
      if (error) {
        server.on_end_of_input();
        return;
      }
      read_more();
    });
  };
  read_more();
  io.run();
  return server.exit_code();
}

}  // namespace amct::server
