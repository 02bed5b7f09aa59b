#include "server/estimate_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <unordered_set>

#include "core/amct/amct_checks.h"
#include "core/engine/estimate.h"

namespace amct::server {
namespace {

int64_t nanoseconds(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

// Size, modification and change times (ns) and inode of a file; size -1 when
// it cannot be read. The inode and change time tell a file replaced by a
// rename; the change time, one whose modification time was set back.
template <typename State>
void stat_file(const std::string& path, State& state) {
  struct stat info {};
  state = State{};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return;
  state.size = static_cast<int64_t>(info.st_size);
  state.mtime = nanoseconds(info.st_mtim);
  state.ctime = nanoseconds(info.st_ctim);
  state.inode = static_cast<uint64_t>(info.st_ino);
}

}  // namespace

EstimateService::EstimateService(EstimateEvents events) : events_(std::move(events)) {
  worker_ = std::thread([this] { run(); });
}

EstimateService::~EstimateService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cancel_running_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void EstimateService::configure(const EstimateSettings& settings) {
  std::lock_guard lock(mutex_);
  settings_ = settings;
}

bool EstimateService::enabled() const {
  std::lock_guard lock(mutex_);
  return settings_.weights.has_value();
}

std::shared_ptr<const LoadedModel> EstimateService::model() {
  std::unique_lock lock(mutex_);
  FileStamp stamp;
  if (settings_.weights) {
    stamp.weights = *settings_.weights;
    stat_file(stamp.weights, stamp.weights_state);
    if (settings_.manifest) {
      stamp.manifest = *settings_.manifest;
      stat_file(stamp.manifest, stamp.manifest_state);
    }
  }
  if (loaded_ && stamp == stamp_ && !force_reload_) return loaded_;
  // The same files, changed on disk (rather than other files named by the settings).
  const bool changed_on_disk = loaded_ && stamp.weights == stamp_.weights && stamp.manifest == stamp_.manifest;
  force_reload_ = false;
  // (Re)load. Loading maps the file and validates its header: milliseconds,
  // so it is done here rather than making every caller handle "loading".
  auto fresh = std::make_shared<LoadedModel>();
  if (settings_.weights) {
    fresh->weights_path = *settings_.weights;
    engine::LoadResult result = engine::load_weights({*settings_.weights, settings_.manifest, {}});
    if (result.model) {
      for (const engine::ModelLayer& layer : result.model->layers)
        fresh->layers.push_back({layer.name, layer.type, layer.groups});
      fresh->model = std::make_shared<const engine::WeightsModel>(std::move(*result.model));
    } else {
      fresh->error = result.error.empty() ? "cannot load " + *settings_.weights : result.error;
    }
  }
  loaded_ = fresh;
  stamp_ = stamp;
  ++generation_;
  cancel_running_ = true;  // a running job computes for the old model: its results would be dropped
  cache_.clear();  // keys name tensors by address: a new mapping may reuse one
  scans_.clear();
  std::string report;
  if (!fresh->error.empty() && fresh->error != last_reported_error_) report = fresh->error;
  last_reported_error_ = fresh->error;
  lock.unlock();
  if (!report.empty() && events_.load_failed) events_.load_failed(report);
  if (changed_on_disk && events_.model_reloaded) events_.model_reloaded();
  return fresh;
}

void EstimateService::files_changed() {
  {
    std::lock_guard lock(mutex_);
    if (!settings_.weights) return;
    force_reload_ = true;
  }
  model();
}

std::vector<std::string> EstimateService::watched_files() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> files;
  if (settings_.weights) files.push_back(*settings_.weights);
  if (settings_.weights && settings_.manifest) files.push_back(*settings_.manifest);
  return files;
}

void EstimateService::add_model_diagnostics(const syntax::Document& document, const AnalysisOptions& options,
                                            Analysis& analysis) {
  if (!enabled() || !analysis.bound || !is_amct_config(*analysis.bound)) return;
  const std::shared_ptr<const LoadedModel> loaded = model();
  if (!loaded->model) return;
  engine::ModelCheckOptions check;
  check.resolve.api = resolve_amct_options(document, {options.soc, options.api}).context.api;
  for (Diagnostic& diagnostic :
       engine::check_config_against_model(extract_config(analysis.bound->root), loaded->layers, check))
    analysis.diagnostics.push_back(std::move(diagnostic));
  std::stable_sort(analysis.diagnostics.begin(), analysis.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });
}

void EstimateService::schedule(const std::string& uri, int64_t version, const AmctConfig& config,
                               const ResolveOptions& resolve) {
  {
    std::lock_guard lock(mutex_);
    if (!loaded_ || !loaded_->model) return;
    auto same = std::find_if(queue_.begin(), queue_.end(), [&](const Job& job) { return job.uri == uri; });
    if (same != queue_.end()) queue_.erase(same);
    queue_.push_back({uri, version, config, resolve});
    if (running_uri_ == uri) cancel_running_ = true;
  }
  wake_.notify_all();
}

void EstimateService::cancel(const std::string& uri) {
  std::lock_guard lock(mutex_);
  if (running_uri_ == uri) cancel_running_ = true;
}

std::vector<ide::EstimateHint> EstimateService::hints(const AmctConfig& config, const ResolveOptions& resolve) {
  std::lock_guard lock(mutex_);
  if (!loaded_ || !loaded_->model) return {};
  ide::EstimateHintOptions options;
  options.resolve = resolve;
  return ide::estimate_hints(config, *loaded_->model, cache_, options);
}

void EstimateService::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void EstimateService::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    running_uri_ = job.uri;
    cancel_running_ = false;
    const std::shared_ptr<const LoadedModel> loaded = loaded_;
    const uint64_t generation = generation_;
    ide::EstimateHintOptions options;
    options.resolve = job.resolve;
    std::vector<ide::PendingEstimate> pending;
    if (loaded && loaded->model) pending = ide::layers_to_estimate(job.config, *loaded->model, cache_, options, &scans_);
    const unsigned threads =
        settings_.threads ? settings_.threads : std::max(1u, std::thread::hardware_concurrency() - 1);
    lock.unlock();

    bool cancelled = false;
    bool weights_changed = false;
    if (!pending.empty()) {
      uint64_t total = 0, done = 0;
      for (const ide::PendingEstimate& p : pending) total += loaded->model->layers[p.layer_index].weight.elements;
      if (events_.progress_begin) events_.progress_begin("Estimating errors");
      for (size_t i = 0; i < pending.size(); ++i) {
        if (cancel_running_) {
          cancelled = true;
          break;
        }
        const ide::PendingEstimate& p = pending[i];
        const engine::ModelLayer& layer = loaded->model->layers[p.layer_index];
        auto estimate = std::make_shared<const engine::LayerEstimate>(ide::estimate_pending(*loaded->model, p, threads));
        const bool estimate_used_scan = estimate->used_known_scan;
        if (estimate->weights_changed) {
          // Truncated in place while read (the mapping's SIGBUS guard gave
          // zeros): nothing of this mapping is worth caching; reload below.
          weights_changed = true;
          break;
        }
        {
          std::lock_guard inner(mutex_);
          if (generation == generation_) {
            ide::keep_scan(scans_, p, *estimate);
            cache_[p.key] = std::move(estimate);
          }
        }
        ++layers_computed_;
        if (estimate_used_scan) ++scans_reused_;
        done += layer.weight.elements;
        if (events_.progress_report)
          events_.progress_report(total ? static_cast<unsigned>(done * 100 / total) : 100,
                                  std::to_string(i + 1) + "/" + std::to_string(pending.size()) + " layers");
      }
      if (events_.progress_end) events_.progress_end();
    }
    if (weights_changed) {
      // Say so once, and drop the model: the truncated file fails to load
      // (no stale figures shown); rewritten, it loads and is estimated again.
      if (events_.load_failed) events_.load_failed(engine::kFileChangedWhileRead);
      {
        std::lock_guard inner(mutex_);
        force_reload_ = true;
      }
      model();
      cancelled = true;
    }

    lock.lock();
    // Bound the cache: once it holds far more than one model's worth, keep
    // only what this job's config uses.
    if (!cancelled && loaded && loaded->model && generation == generation_ &&
        cache_.size() > 4 * loaded->model->layers.size() + 64) {
      std::unordered_set<std::string> used;
      for (const ide::PendingEstimate& p : ide::layers_to_estimate(job.config, *loaded->model, {}, options))
        used.insert(p.key);
      std::erase_if(cache_, [&](const auto& entry) { return !used.count(entry.first); });
    }
    const bool changed = !cancelled && !pending.empty() && generation == generation_;
    lock.unlock();
    if (changed && events_.estimates_changed) events_.estimates_changed(job.uri, job.version);
    lock.lock();
    busy_ = false;
    running_uri_.clear();
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace amct::server
