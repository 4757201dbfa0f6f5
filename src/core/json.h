// JSON values and configuration text -> JSON documents, shared by every module.
//
// Configuration and manifests are read the way kubectl reads them: YAML is converted to JSON
// first (libyaml, the parser go-yaml is ported from, with go-yaml v2's YAML 1.1 scalar
// resolution, so `on`, `yes`, `0x1F`, `1_000` mean what they mean to kubectl), then decoded
// as JSON with JsonReader. Keys keep their order (ordered_json) so what we write back follows
// the order we choose (Go's struct field order for Kubernetes objects).
//
// Include nlohmann/json.hpp only in .cc files; this header uses the forward declaration.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.h"

namespace llmscale::core {

using Json = nlohmann::ordered_json;

// How deeply containers (objects, arrays, YAML mappings and sequences) may nest in any document
// core parses. Go's encoding/json (and so apimachinery's JSON decoding) and go-yaml stop at
// 10000; we stop at 1000 because nlohmann's copy, dump and comparison recurse once per level, as
// do our YAML reader and the project's decoders. Under AddressSanitizer (-O0) nlohmann's copy, the
// deepest, takes about 1.8 KiB of stack per level: 1000 levels need under 2 MiB and run on half
// of the default 8 MiB thread stack (tests/core/json_test.cc runs every walker at the bound on a
// 4 MiB stack); 10000 levels would overflow any default stack. No real manifest, API answer or
// state file comes near 1000 levels.
inline constexpr int kMaxJsonDepth = 1000;

struct JsonLimits {
  int max_depth = kMaxJsonDepth;
  // sigs.k8s.io/json (the API server's strict decoding) reports duplicate fields; Go's plain
  // encoding/json keeps the last one. Off only for peers whose answers Go would accept.
  bool reject_duplicate_keys = true;
};

// One JSON value (RFC 8259, nothing after it), refused with a clear message before any
// recursive processing when containers nest deeper than limits.max_depth ("json: exceeded max
// depth of 1000 at byte 1001") or, by default, when an object repeats a key
// ("json: duplicate field \"spec.minReplicas\""). Remote answers should be decoded with this.
Result<Json> parse_json(std::string_view text, const JsonLimits& limits = {});

// Whether JSON text nests containers deeper than `max_depth`, found by a scan that skips
// strings, before any parser builds (and later walks) a value: for code that parses with
// nlohmann directly (request bodies, server answers).
Status check_json_depth(std::string_view text, int max_depth = kMaxJsonDepth);

// Parses JSON text (when it opens with '{' or '['; as parse_json), or YAML text with one or more
// `---`-separated documents; empty documents are skipped. Duplicate keys, invalid UTF-8,
// nesting deeper than kMaxJsonDepth and excessive aliasing (go-yaml v3's alias-ratio rule) are
// errors. Messages name the line: "yaml: line 3: ...".
Result<std::vector<Json>> parse_documents(std::string_view text);

// Where the values of a YAML document start: JSON pointer (RFC 6901, "/scrape_configs/0/job_name")
// -> 1-based line of the mapping key or sequence item; "" is the document itself. Values reached
// through aliases or merge keys are not recorded (their nearest recorded ancestor stands in).
using SourceLines = std::map<std::string, int>;

// As above, also filling `lines` with one map per returned document (nothing for JSON input),
// for error messages that name a line the way go-yaml does.
Result<std::vector<Json>> parse_documents(std::string_view text, std::vector<SourceLines>* lines);

// The line recorded for `pointer` or for its nearest recorded ancestor; 0 when there is none.
int source_line(const SourceLines& lines, std::string_view pointer);

// Exactly one document.
Result<Json> parse_document(std::string_view text);

// The length of `value` written as compact JSON, without writing it (no recursion; strings are
// counted unescaped, so this is a lower bound when they need escapes). For size limits such as
// the API server's request-body limit, checked before any work.
std::size_t compact_json_size(const Json& value);

// Two-space indentation (what `kubectl get -o json` looks like); invalid UTF-8 is replaced.
std::string to_pretty_json(const Json& value);
// Compact, invalid UTF-8 replaced.
std::string to_compact_json(const Json& value);

// Appends `text` as a JSON string the way Go's encoding/json writes it (what Kubernetes API
// servers send): quotes, \" \\ \b \f \n \r \t, other control characters as \u00XX, and the
// HTML-safe escapes \u003c \u003e \u0026 plus \u2028 \u2029; invalid UTF-8 becomes \ufffd.
// Go before 1.22 (what Prometheus 2.42 is built with) wrote \b and \f as \u0008 and \u000c.
enum class GoJsonEscapes { kGo122, kBeforeGo122 };
void append_go_json_string(std::string& out, std::string_view text,
                           GoJsonEscapes escapes = GoJsonEscapes::kGo122);

// Appends `text` as a JSON string the way Python's json.dumps(ensure_ascii=False) writes it (what
// FastAPI servers such as vLLM and SGLang send): \" \\ \b \f \n \r \t, other control characters
// as \u00XX, everything else as it is; invalid UTF-8 becomes \ufffd.
void append_python_json_string(std::string& out, std::string_view text);

// Go's encoding/json rendering of a float64 ("0.5", "1000", "1e+21").
std::string go_format_float(double value);

}  // namespace llmscale::core
