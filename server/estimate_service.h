#pragma once
// The reference engine behind the language server (amct.weights,
// amct.manifest): the loaded model, shared by every document and reloaded when
// the file's size or modification time changes; model-aware diagnostics; and
// error estimates computed on a thread of their own, per document version,
// cancelled by a newer version, cached by tensor + effective config
// (core/ide/estimate_hints.h) so that an edit recomputes only what changed.
// Nothing here blocks the threads that publish diagnostics or answer
// completion: they read the model and the cache, never wait for estimates.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/amct/config.h"
#include "core/amct/resolver.h"
#include "core/analysis.h"
#include "core/engine/model_checks.h"
#include "core/engine/weights_model.h"
#include "core/ide/estimate_hints.h"
#include "core/syntax/document.h"

namespace amct::server {

struct LoadedModel {
  std::shared_ptr<const engine::WeightsModel> model;  // null when off or failed
  std::vector<engine::ModelLayerInfo> layers;
  std::string error;  // why loading failed ("" when fine or off)
  std::string weights_path;
};

struct EstimateEvents {
  // A job finished with new figures for this document version: the client
  // should ask for code lenses again.
  std::function<void(const std::string& uri, int64_t version)> estimates_changed;
  // Progress of the running job: begin (title), report (percent, message), end.
  std::function<void(const std::string& title)> progress_begin;
  std::function<void(unsigned percent, const std::string& message)> progress_report;
  std::function<void()> progress_end;
  // The model could not be loaded (once per distinct error).
  std::function<void(const std::string& error)> load_failed;
  // The weights or manifest file changed on disk and the model was reloaded
  // (not called for a change of the settings): every document's diagnostics
  // and estimates are stale. Called without the service's lock held.
  std::function<void()> model_reloaded;
};

struct EstimateSettings {
  std::optional<std::string> weights;   // absolute path; none: the engine is off
  std::optional<std::string> manifest;  // absolute path
  unsigned threads = 0;                 // 0: one less than the cores (at least one)
};

class EstimateService {
 public:
  explicit EstimateService(EstimateEvents events);
  ~EstimateService();
  EstimateService(const EstimateService&) = delete;
  EstimateService& operator=(const EstimateService&) = delete;

  // Takes effect at the next model(): the model is (re)loaded lazily.
  void configure(const EstimateSettings& settings);
  bool enabled() const;

  // The current model; stats the files and reloads them when their size,
  // modification or change time or inode changed. Cheap when nothing changed
  // (two stats at most). Loading maps the file and validates its header; no
  // tensor is read.
  std::shared_ptr<const LoadedModel> model();
  // The client says a watched file changed (workspace/didChangeWatchedFiles):
  // reloads even when the stamps look the same (timestamps are coarse).
  void files_changed();
  // The files whose changes matter: weights and manifest (absolute paths).
  std::vector<std::string> watched_files() const;

  // Adds the model-aware diagnostics (engine/model_checks.h) to an analysis of
  // an AMCT config, in position order. No-op without a model.
  void add_model_diagnostics(const syntax::Document& document, const AnalysisOptions& options, Analysis& analysis);

  // Starts estimating the layers of `config` missing from the cache, for this
  // document version; a job already running for the same document is cancelled.
  void schedule(const std::string& uri, int64_t version, const AmctConfig& config, const ResolveOptions& resolve);
  // A newer version exists: stop the document's job between layers.
  void cancel(const std::string& uri);

  // The hints for `config` from what is cached now (never computes).
  std::vector<ide::EstimateHint> hints(const AmctConfig& config, const ResolveOptions& resolve);

  // Blocks until no job is queued or running (tests).
  void wait_idle();
  // Layers estimated so far by jobs (tests: an edit recomputes only what changed).
  uint64_t layers_computed() const { return layers_computed_; }
  // Of which those that reused their weight's scan from an earlier estimate
  // (tests: a config change reads the tensor once).
  uint64_t scans_reused() const { return scans_reused_; }

 private:
  struct Job {
    std::string uri;
    int64_t version = 0;
    AmctConfig config;
    ResolveOptions resolve;
  };
  void run();

  EstimateEvents events_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  EstimateSettings settings_;
  std::shared_ptr<const LoadedModel> loaded_;
  struct FileState {
    int64_t size = -1, mtime = 0, ctime = 0;
    uint64_t inode = 0;
    bool operator==(const FileState&) const = default;
  };
  struct FileStamp {
    std::string weights, manifest;
    FileState weights_state, manifest_state;
    bool operator==(const FileStamp&) const = default;
  } stamp_;
  bool force_reload_ = false;
  std::string last_reported_error_;
  ide::EstimateCache cache_;
  ide::TensorScanCache scans_;  // cleared with cache_ (keys name tensors by address)
  std::deque<Job> queue_;  // at most one job per document
  uint64_t generation_ = 0;  // bumped when the model is reloaded: older jobs' results are dropped
  std::string running_uri_;
  std::atomic<bool> cancel_running_{false};
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<uint64_t> layers_computed_{0};
  std::atomic<uint64_t> scans_reused_{0};
  std::thread worker_;
};

}  // namespace amct::server
