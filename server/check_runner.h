#pragma once
// `amct-lsp --check`: expands the command-line paths into files, checks them
// in parallel (one amct::analyze per file) and returns the results in a
// deterministic order: argument order, files of a directory sorted by path.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "core/engine/model_checks.h"
#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::server {

// File name endings that directories are searched for.
const std::vector<std::string>& checked_extensions();  // ".cfg", ".txtpb", ...

struct CheckInputs {
  std::vector<std::string> files;   // in checking order
  std::vector<std::string> errors;  // one message per unusable argument
};

// Files are taken as given (any name); directories recurse over
// checked_extensions(), sorted by path. A missing path or a directory without
// a matching file gives an error message (and no file).
CheckInputs collect_check_inputs(const std::vector<std::string>& paths);

struct LocatedRelated {
  syntax::LineColumn start;
  syntax::LineColumn end;
  std::string message;
};

// A diagnostic with its byte range turned into 1-based line/column
// (columns count Unicode code points).
struct LocatedDiagnostic {
  syntax::LineColumn start;
  syntax::LineColumn end;
  Severity severity = Severity::Error;
  std::string code;
  std::string message;
  std::vector<LocatedRelated> related;
};

struct FileReport {
  std::string path;                        // as given / as found in the directory
  std::optional<std::string> read_error;   // set when the file could not be checked
  std::string schema;                      // Analysis::schema_description
  std::vector<LocatedDiagnostic> diagnostics;
  // The file's analysis (bound model and all; its diagnostics are emptied:
  // their strings were moved into `diagnostics` above), kept so that a caller about to exit can skip
  // taking it apart (see keep_until_exit); null when the file was checked on
  // the tree-sitter path.
  std::shared_ptr<const Analysis> analysis;
};

struct CheckRequest {
  std::vector<std::string> files;  // from collect_check_inputs
  AnalysisOptions analysis;        // `path` is set per file
  unsigned jobs = 0;               // worker threads; 0 = all cores
  // Layers of the model given with --weights: AMCT configs also get the
  // model-aware checks (core/engine/model_checks.h). Empty: none.
  std::vector<engine::ModelLayerInfo> model_layers;
};

struct CheckSummary {
  int files_checked = 0;  // files that were read and analysed
  int files_failed = 0;   // files that could not be read
  int errors = 0;
  int warnings = 0;
};

// Checks every file of the request; reports[i] belongs to request.files[i].
std::vector<FileReport> check_files(const CheckRequest& request);

CheckSummary summarize(const std::vector<FileReport>& reports);

// For a process that exits right after reporting: the analyses and the
// located diagnostics stay allocated (reachable, so leak checkers stay quiet)
// instead of being freed one block at a time, which costs a quarter of
// checking a 100,000-block file. `reports` keeps paths, schemas and counts.
void keep_until_exit(std::vector<FileReport>& reports);

// The exit status of --check: 2 after a usage or I/O failure (even when
// other files had errors), else 1 when any error was found, else 0
// (warnings alone pass).
int check_exit_status(const CheckSummary& summary, bool io_failure);

// The first byte sequence of `text` that is not UTF-8 (overlong forms,
// surrogates and values above U+10FFFF are invalid too), as a byte range
// covering the maximal invalid subpart (at least one byte).
std::optional<ByteRange> first_invalid_utf8(std::string_view text);

// Checks one document in memory: amct::analyze plus the `invalid-utf8` error
// at the first byte that is not UTF-8 (the Document accepts any bytes).
Analysis check_document(const syntax::Document& document, const AnalysisOptions& options);

}  // namespace amct::server
