// Configuration text to JSON: JSON directly, YAML through libyaml events with go-yaml v2's
// scalar resolution, anchors, aliases and merge keys.
#include "core/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <unordered_set>

#include <yaml.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace llmscale::core {
namespace {

// go-yaml v3 decode.go (and the go-yaml v2 fork sigs.k8s.io/yaml uses) refuses "billion laughs"
// documents by the share of decode operations that come from alias expansion: up to 99% for
// documents of at most 400,000 decodes, sliding to 10% at 4,000,000 (allowedAliasRatio), checked
// once more than 100 aliased decodes and 1000 decodes in all have happened.
constexpr double kAliasRatioRangeLow = 400'000;
constexpr double kAliasRatioRangeHigh = 4'000'000;

double allowed_alias_ratio(std::size_t decode_count) {
  double count = static_cast<double>(decode_count);
  if (count <= kAliasRatioRangeLow) return 0.99;
  if (count >= kAliasRatioRangeHigh) return 0.10;
  return 0.99 -
         0.89 * ((count - kAliasRatioRangeLow) / (kAliasRatioRangeHigh - kAliasRatioRangeLow));
}

// Go shares a string between every place an alias puts it; an expanded alias here is a copy.
// So llmscale also bounds the bytes (scalars and keys) that aliases copy, which go-yaml's node
// count cannot see: one long scalar repeated by many aliases.
constexpr std::size_t kMaxAliasedBytes = 16u << 20;

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

// strconv.ParseInt/ParseUint(s, 0, 64) after removing underscores.
bool parse_go_integer(std::string_view text, Json& out) {
  std::string plain;
  for (char c : text) {
    if (c != '_') plain.push_back(c);
  }
  std::string_view s = plain;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    if (s[1] == 'x' || s[1] == 'X') {
      base = 16;
      s.remove_prefix(2);
    } else if (s[1] == 'b' || s[1] == 'B') {
      base = 2;
      s.remove_prefix(2);
    } else if (s[1] == 'o' || s[1] == 'O') {
      base = 8;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return false;
  std::uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  if (negative) {
    if (magnitude > std::uint64_t(1) << 63) return false;
    out = std::int64_t(0 - magnitude);
  } else if (magnitude <= std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
    out = std::int64_t(magnitude);
  } else {
    out = magnitude;
  }
  return true;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool is_yaml_style_float(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

std::string line_prefix(const yaml_mark_t& mark) {
  return "yaml: line " + std::to_string(mark.line + 1) + ": ";
}

// go-yaml v2's resolve() for a plain (unquoted, untagged) scalar.
// Takes the text by value so that a string result moves it instead of copying (a scalar can be
// tens of megabytes).
Result<Json> resolve_plain(std::string in, const yaml_mark_t& mark) {
  if (is_one_of(in, {"", "~", "null", "Null", "NULL"})) return Json(nullptr);
  if (is_one_of(in, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
    return Json(true);
  }
  if (is_one_of(in, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
    return Json(false);
  }
  if (is_one_of(in, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
                     ".nan", ".NaN", ".NAN"})) {
    return invalid_argument(line_prefix(mark) + "json: unsupported value: " + in);
  }
  char first = in[0];
  bool numeric_hint = (first >= '0' && first <= '9') || first == '+' || first == '-';
  if (numeric_hint) {
    Json integer;
    if (parse_go_integer(in, integer)) return integer;
  }
  if (first == '.' || numeric_hint) {
    std::string plain;
    for (char c : in) {
      if (c != '_' || first == '.') plain.push_back(c);
    }
    if (first == '.' || is_yaml_style_float(plain)) {
      char* end = nullptr;
      double v = std::strtod(plain.c_str(), &end);
      if (end == plain.c_str() + plain.size() && std::isfinite(v)) return Json(v);
    }
  }
  return Json(std::move(in));
}

std::string key_text(const Json& key) {
  if (key.is_string()) return key.get<std::string>();
  if (key.is_null()) return "null";
  return key.dump();
}

// Builds JSON documents from libyaml's event stream.
class YamlReader {
 public:
  explicit YamlReader(std::string_view text, std::vector<SourceLines>* lines = nullptr)
      : lines_(lines) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~YamlReader() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  YamlReader(const YamlReader&) = delete;
  YamlReader& operator=(const YamlReader&) = delete;

  Result<std::vector<Json>> read_stream() {
    std::vector<Json> documents;
    if (auto s = next(); !s) return tl::unexpected(s.error());
    if (event_.type != YAML_STREAM_START_EVENT) return unexpected_event();
    while (true) {
      if (auto s = next(); !s) return tl::unexpected(s.error());
      if (event_.type == YAML_STREAM_END_EVENT) return documents;
      if (event_.type != YAML_DOCUMENT_START_EVENT) return unexpected_event();
      anchors_.clear();
      SourceLines document_lines;
      pointer_.clear();
      current_lines_ = lines_ != nullptr ? &document_lines : nullptr;
      if (auto s = next(); !s) return tl::unexpected(s.error());
      note_line(pointer_, event_.start_mark);
      auto value = read_node(0);
      if (!value) return tl::unexpected(value.error());
      if (auto s = next(); !s) return tl::unexpected(s.error());
      if (event_.type != YAML_DOCUMENT_END_EVENT) return unexpected_event();
      if (!value->is_null()) {
        documents.push_back(std::move(*value));
        if (lines_ != nullptr) lines_->push_back(std::move(document_lines));
      }
    }
  }

 private:
  Status next() {
    if (has_event_) {
      yaml_event_delete(&event_);
      has_event_ = false;
    }
    if (!yaml_parser_parse(&parser_, &event_)) {
      const char* problem = parser_.problem ? parser_.problem : "unknown error";
      yaml_mark_t mark = parser_.problem_mark;
      // go-yaml reports the context line when there is one.
      if (parser_.context != nullptr && parser_.problem_mark.line == 0 &&
          parser_.context_mark.line > 0) {
        mark = parser_.context_mark;
      }
      return invalid_argument(line_prefix(mark) + problem);
    }
    has_event_ = true;
    return {};
  }

  void note_line(const std::string& pointer, const yaml_mark_t& mark) {
    if (current_lines_ != nullptr && aliased_ == 0) {
      current_lines_->emplace(pointer, static_cast<int>(mark.line) + 1);
    }
  }
  // RFC 6901: '~' -> "~0", '/' -> "~1".
  static void append_pointer_token(std::string& pointer, std::string_view token) {
    pointer.push_back('/');
    for (char c : token) {
      if (c == '~') {
        pointer += "~0";
      } else if (c == '/') {
        pointer += "~1";
      } else {
        pointer.push_back(c);
      }
    }
  }

  tl::unexpected<Error> unexpected_event() {
    return invalid_argument(line_prefix(event_.start_mark) + "unexpected YAML event");
  }

  // go-yaml's check, run after every decode and before an alias's value is copied: the share of
  // aliased decodes only grows while one alias expands, so checking the expansion's total is
  // checking each of its nodes.
  Status check_aliasing() const {
    if (aliased_nodes_ > 100 && nodes_ > 1000 &&
        static_cast<double>(aliased_nodes_) / static_cast<double>(nodes_) >
            allowed_alias_ratio(nodes_)) {
      return invalid_argument("yaml: document contains excessive aliasing");
    }
    if (aliased_bytes_ > kMaxAliasedBytes) {
      return invalid_argument(
          "yaml: document contains excessive aliasing (aliases copy more than " +
          std::to_string(kMaxAliasedBytes >> 20) + " MiB)");
    }
    return {};
  }

  std::string anchor_of(const yaml_char_t* anchor) {
    return anchor ? std::string(reinterpret_cast<const char*>(anchor)) : std::string();
  }

  // Reads the node whose first event is the current one.
  // `depth` is the number of containers around the node. Recursion stops at kMaxJsonDepth
  // open containers, before anything of the deeper one is read. The recursion runs through
  // read_node -> read_sequence/read_mapping only; everything else lives in frames that are gone
  // before the next level starts, so a level costs little stack even under AddressSanitizer.
  Result<Json> read_node(int depth) {
    ++nodes_;
    if (auto s = check_aliasing(); !s) return tl::unexpected(s.error());
    switch (event_.type) {
      case YAML_ALIAS_EVENT: return read_alias();
      case YAML_SCALAR_EVENT: return read_scalar();
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        if (depth + 1 > kMaxJsonDepth) {
          return invalid_argument(line_prefix(event_.start_mark) + "exceeded max depth of " +
                                  std::to_string(kMaxJsonDepth));
        }
        return event_.type == YAML_SEQUENCE_START_EVENT ? read_sequence(depth)
                                                        : read_mapping(depth);
      default: return unexpected_event();
    }
  }

  [[gnu::noinline]] Result<Json> read_alias() {
    std::string name = anchor_of(event_.data.alias.anchor);
    auto it = anchors_.find(name);
    if (it == anchors_.end()) {
      return invalid_argument(line_prefix(event_.start_mark) + "unknown anchor '" + name +
                              "' referenced");
    }
    // Counted, and refused, before the value is copied.
    nodes_ += it->second.size;
    aliased_nodes_ += it->second.size;
    bytes_ += it->second.bytes;
    aliased_bytes_ += it->second.bytes;
    if (auto s = check_aliasing(); !s) return tl::unexpected(s.error());
    return it->second.value;
  }

  [[gnu::noinline]] Result<Json> read_scalar() {
    std::string anchor = anchor_of(event_.data.scalar.anchor);
    std::string text(reinterpret_cast<const char*>(event_.data.scalar.value),
                     event_.data.scalar.length);
    std::string tag =
        event_.data.scalar.tag ? reinterpret_cast<const char*>(event_.data.scalar.tag) : "";
    bool plain = event_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    const std::size_t size = text.size();
    bytes_ += size;
    // One copy of the text at most: it moves into the value.
    Result<Json> value = Json(nullptr);
    if (tag == "tag:yaml.org,2002:str" || tag == "!!str") {
      value = Json(std::move(text));
    } else if ((plain && tag.empty()) || (!tag.empty() && tag != "!")) {
      // Plain scalars resolve as go-yaml v2 does; explicit tags resolve the text as that type
      // would (!!int, !!bool, !!null...).
      value = resolve_plain(std::move(text), event_.start_mark);
    } else {
      value = Json(std::move(text));
    }
    if (value && !anchor.empty()) anchors_[anchor] = {*value, 1, size};
    return value;
  }

  [[gnu::noinline]] void remember_anchor(const yaml_char_t* anchor, const Json& value,
                                         std::size_t nodes_before, std::size_t bytes_before) {
    if (anchor == nullptr) return;
    // The container itself was counted before nodes_before was taken.
    anchors_[anchor_of(anchor)] = {value, nodes_ - nodes_before + 1, bytes_ - bytes_before};
  }

  [[gnu::noinline]] void enter_item(std::size_t index) {
    if (current_lines_ == nullptr) return;
    append_pointer_token(pointer_, std::to_string(index));
    note_line(pointer_, event_.start_mark);
  }

  Result<Json> read_sequence(int depth) {
    const yaml_char_t* anchor = event_.data.sequence_start.anchor;
    std::unique_ptr<yaml_char_t, decltype(&std::free)> anchor_copy(
        anchor ? reinterpret_cast<yaml_char_t*>(strdup(reinterpret_cast<const char*>(anchor)))
               : nullptr,
        &std::free);
    const std::size_t before = nodes_;
    const std::size_t bytes_before = bytes_;
    Json list = Json::array();
    while (true) {
      if (auto s = next(); !s) return tl::unexpected(s.error());
      if (event_.type == YAML_SEQUENCE_END_EVENT) break;
      const std::size_t saved = pointer_.size();
      enter_item(list.size());
      auto item = read_node(depth + 1);
      pointer_.resize(saved);
      if (!item) return item;
      list.push_back(std::move(*item));
    }
    remember_anchor(anchor_copy.get(), list, before, bytes_before);
    return list;
  }

  // Reads one key of a mapping (the current event); false at the mapping's end.
  struct MappingKey {
    std::string name;
    yaml_mark_t mark{};
    bool merge = false;
  };
  [[gnu::noinline]] Result<bool> read_key(int depth, MappingKey& key) {
    if (auto s = next(); !s) return tl::unexpected(s.error());
    if (event_.type == YAML_MAPPING_END_EVENT) return false;
    key.mark = event_.start_mark;
    key.merge =
        event_.type == YAML_SCALAR_EVENT && event_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        event_.data.scalar.length == 2 &&
        std::string_view(reinterpret_cast<const char*>(event_.data.scalar.value), 2) == "<<";
    ++aliased_;  // keys themselves have no pointer
    auto value = read_node(depth + 1);
    --aliased_;
    if (!value) return tl::unexpected(value.error());
    key.name = key_text(*value);
    if (current_lines_ != nullptr) {
      append_pointer_token(pointer_, key.name);
      if (!key.merge) note_line(pointer_, key.mark);
    }
    if (auto s = next(); !s) return tl::unexpected(s.error());
    return true;
  }

  [[gnu::noinline]] Status add_entry(Json& map, std::vector<Json>& merges, const MappingKey& key,
                                     Json&& value) {
    if (key.merge) {
      merges.push_back(std::move(value));
      return {};
    }
    if (map.contains(key.name)) {
      return invalid_argument(line_prefix(key.mark) + "key " + go_quote(key.name) +
                              " already set in map");
    }
    map[key.name] = std::move(value);
    return {};
  }

  // Merge keys (<<: *base, or a list of them): earlier sources win, explicit keys win.
  [[gnu::noinline]] static Status apply_merges(Json& map, const std::vector<Json>& merges) {
    for (const Json& merge : merges) {
      std::vector<const Json*> sources;
      if (merge.is_object()) {
        sources.push_back(&merge);
      } else if (merge.is_array()) {
        for (const Json& m : merge) sources.push_back(&m);
      }
      for (const Json* source : sources) {
        if (!source->is_object()) {
          return invalid_argument("yaml: map merge requires map or sequence of maps as the value");
        }
        for (auto it = source->begin(); it != source->end(); ++it) {
          if (!map.contains(it.key())) map[it.key()] = it.value();
        }
      }
    }
    return {};
  }

  Result<Json> read_mapping(int depth) {
    const yaml_char_t* anchor = event_.data.mapping_start.anchor;
    std::unique_ptr<yaml_char_t, decltype(&std::free)> anchor_copy(
        anchor ? reinterpret_cast<yaml_char_t*>(strdup(reinterpret_cast<const char*>(anchor)))
               : nullptr,
        &std::free);
    const std::size_t before = nodes_;
    const std::size_t bytes_before = bytes_;
    Json map = Json::object();
    std::vector<Json> merges;
    MappingKey key;
    while (true) {
      const std::size_t saved = pointer_.size();
      auto more = read_key(depth, key);
      if (!more) return tl::unexpected(more.error());
      if (!*more) break;
      if (key.merge) ++aliased_;
      auto value = read_node(depth + 1);
      if (key.merge) --aliased_;
      pointer_.resize(saved);
      if (!value) return value;
      if (auto s = add_entry(map, merges, key, std::move(*value)); !s) {
        return tl::unexpected(s.error());
      }
    }
    if (auto s = apply_merges(map, merges); !s) return tl::unexpected(s.error());
    remember_anchor(anchor_copy.get(), map, before, bytes_before);
    return map;
  }

  struct Anchored {
    Json value;
    std::size_t size;   // decodes that expanding it costs (go-yaml counts every node again)
    std::size_t bytes;  // scalar and key bytes it holds
  };

  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool has_event_ = false;
  std::map<std::string, Anchored> anchors_;
  std::size_t nodes_ = 0;          // go-yaml's decodeCount
  std::size_t aliased_nodes_ = 0;  // go-yaml's aliasCount
  std::size_t bytes_ = 0;
  std::size_t aliased_bytes_ = 0;
  std::vector<SourceLines>* lines_ = nullptr;
  SourceLines* current_lines_ = nullptr;
  std::string pointer_;
  int aliased_ = 0;  // > 0 while reading keys or merged values (nothing recorded)
};

// The field path of the key being read, for duplicate-field errors: "spec.metrics[0].type".
struct JsonFrame {
  bool object = false;
  std::string key;
  std::size_t index = 0;
  std::unordered_set<std::string> keys;  // seen so far
};

std::string frames_path(const std::vector<JsonFrame>& frames) {
  std::string path;
  for (const JsonFrame& f : frames) {
    if (f.object) {
      if (!path.empty()) path += '.';
      path += f.key;
    } else {
      path += "[" + std::to_string(f.index) + "]";
    }
  }
  return path;
}

struct DuplicateKey {
  std::string path;
};

bool looks_like_json(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

}  // namespace

Result<Json> parse_json(std::string_view text, const JsonLimits& limits) {
  if (auto depth = check_json_depth(text, limits.max_depth); !depth) {
    return tl::unexpected(depth.error());
  }
  try {
    if (!limits.reject_duplicate_keys) return Json::parse(text.begin(), text.end());
    // sigs.k8s.io/json's strict decoding: `duplicate field "spec.minReplicas"`.
    std::vector<JsonFrame> frames;
    auto element_done = [&frames] {
      if (!frames.empty() && !frames.back().object) ++frames.back().index;
    };
    Json::parser_callback_t callback = [&](int, Json::parse_event_t event, Json& parsed) {
      switch (event) {
        case Json::parse_event_t::object_start: frames.push_back(JsonFrame{true, {}, 0, {}}); break;
        case Json::parse_event_t::array_start: frames.push_back(JsonFrame{false, {}, 0, {}}); break;
        case Json::parse_event_t::key: {
          JsonFrame& top = frames.back();
          top.key = parsed.get<std::string>();
          if (!top.keys.insert(top.key).second) throw DuplicateKey{frames_path(frames)};
          break;
        }
        case Json::parse_event_t::object_end:
        case Json::parse_event_t::array_end:
          frames.pop_back();
          element_done();
          break;
        case Json::parse_event_t::value: element_done(); break;
      }
      return true;
    };
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const DuplicateKey& e) {
    return invalid_argument("json: duplicate field " + go_quote(e.path));
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("json: ") + e.what());
  }
}

std::size_t compact_json_size(const Json& value) {
  std::size_t size = 0;
  std::vector<const Json*> pending{&value};
  while (!pending.empty()) {
    const Json* node = pending.back();
    pending.pop_back();
    switch (node->type()) {
      case Json::value_t::object:
        size += 2 + (node->empty() ? 0 : node->size() - 1);  // braces, commas
        for (auto it = node->begin(); it != node->end(); ++it) {
          size += it.key().size() + 3;  // "key":
          pending.push_back(&it.value());
        }
        break;
      case Json::value_t::array:
        size += 2 + (node->empty() ? 0 : node->size() - 1);
        for (const Json& item : *node) pending.push_back(&item);
        break;
      case Json::value_t::string: size += node->get_ref<const std::string&>().size() + 2; break;
      default: size += node->dump().size(); break;  // a number, a bool or null
    }
  }
  return size;
}

Result<std::vector<Json>> parse_documents(std::string_view text) {
  return parse_documents(text, nullptr);
}

int source_line(const SourceLines& lines, std::string_view pointer) {
  while (true) {
    auto it = lines.find(std::string(pointer));
    if (it != lines.end()) return it->second;
    if (pointer.empty()) return 0;
    auto slash = pointer.rfind('/');
    pointer = pointer.substr(0, slash == std::string_view::npos ? 0 : slash);
  }
}

Result<std::vector<Json>> parse_documents(std::string_view text, std::vector<SourceLines>* lines) {
  // Like kubectl's YAMLOrJSONDecoder: text that opens with '{' or '[' is JSON, strictly.
  if (looks_like_json(text)) {
    // Not `std::vector<Json>{Json::parse(...)}`: an initializer list copies, and nlohmann's copy
    // recurses once per level, which is how 100000 nested arrays used to overflow the stack.
    auto document = parse_json(text);
    if (!document) return tl::unexpected(document.error());
    std::vector<Json> documents;
    documents.push_back(std::move(*document));
    if (lines != nullptr) lines->emplace_back();
    return documents;
  }
  // go-yaml refuses text that is not UTF-8; so do we, before any string reaches JSON.
  if (auto bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    std::size_t line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
    return invalid_argument("yaml: line " + std::to_string(line) +
                            ": invalid UTF-8 byte at offset " + std::to_string(bad));
  }
  YamlReader reader(text, lines);
  return reader.read_stream();
}

Result<Json> parse_document(std::string_view text) {
  auto documents = parse_documents(text);
  if (!documents) return tl::unexpected(documents.error());
  if (documents->size() != 1) {
    return invalid_argument("expected exactly one document, found " +
                            std::to_string(documents->size()));
  }
  return std::move((*documents)[0]);
}

std::string to_pretty_json(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace);
}

std::string to_compact_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

// The one JSON string writer behind Go's and Python's flavours. `go` adds Go's HTML-safe
// escapes (< > & U+2028 U+2029); `short_bf` writes \b and \f in their short forms.
void append_json_string(std::string& out, std::string_view text, bool go, bool short_bf) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += short_bf ? "\\b" : "\\u0008"; break;
        case '\f': out += short_bf ? "\\f" : "\\u000c"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || (go && (c == '<' || c == '>' || c == '&'))) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    std::size_t bad = find_invalid_utf8(text.substr(i, 4));
    std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (bad == 0 || i + length > text.size()) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    std::string_view rune = text.substr(i, length);
    if (go && rune == "\xE2\x80\xA8") {
      out += "\\u2028";
    } else if (go && rune == "\xE2\x80\xA9") {
      out += "\\u2029";
    } else {
      out += rune;
    }
    i += length;
  }
  out += '"';
}

}  // namespace

void append_go_json_string(std::string& out, std::string_view text, GoJsonEscapes escapes) {
  append_json_string(out, text, /*go=*/true, escapes == GoJsonEscapes::kGo122);
}

void append_python_json_string(std::string& out, std::string_view text) {
  append_json_string(out, text, /*go=*/false, /*short_bf=*/true);
}

std::string go_format_float(double value) {
  if (value == 0) return "0";
  double magnitude = std::fabs(value);
  char buf[64];
  if (magnitude < 1e-6 || magnitude >= 1e21) {
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string s(buf, ptr);
    // Go writes e-07 as e-7 and keeps the sign: 1e+21.
    auto e = s.find('e');
    std::string mantissa = s.substr(0, e);
    std::string exponent = s.substr(e + 1);
    char sign = '+';
    if (exponent[0] == '-' || exponent[0] == '+') {
      sign = exponent[0];
      exponent.erase(0, 1);
    }
    while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
    return mantissa + "e" + sign + exponent;
  }
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  return std::string(buf, ptr);
}

// Containers open at once, found by a scan that skips strings: refused before nlohmann builds
// anything. Go's encoding/json scanner stops the same way ("exceeded max depth").
Status check_json_depth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return invalid_argument("json: exceeded max depth of " + std::to_string(max_depth) +
                                " at byte " + std::to_string(i));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return {};
}

}  // namespace llmscale::core
