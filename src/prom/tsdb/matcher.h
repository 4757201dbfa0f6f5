// Label matchers: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.
//
// Prometheus: regular expressions are fully anchored (`^(?:re)$`) and use RE2 syntax, so
// `job=~"api|web"` matches exactly "api" or "web". A matcher that matches the empty string also
// matches series that lack the label (`foo=""`, `foo!="bar"`, `foo=~".*"`).
// Immutable after construction; the compiled regex is shared between copies; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "prom/exposition/labels.h"

namespace re2 {
class RE2;
}

namespace llmscale::prom {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// "=", "!=", "=~", "!~".
std::string_view match_type_string(MatchType type);

class Matcher {
 public:
  // Compiles the regex for =~ and !~; a bad regex is an error naming the pattern.
  static core::Result<Matcher> make(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  bool matches(std::string_view value) const;
  bool matches(const Labels& labels) const { return matches(labels.get(name_)); }
  bool matches_empty() const { return matches_empty_; }

  // name="value" with the value Go-quoted, as PromQL prints it.
  std::string to_string() const;

 private:
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  bool matches_empty_ = false;
  std::shared_ptr<const re2::RE2> regex_;
  // A regex that is an alternation of plain literals (`pod=~"a|b|c"`, what prometheus-adapter
  // generates for many pods) matches by set lookup, without compiling or running a regex.
  std::shared_ptr<const std::vector<std::string>> literals_;  // sorted
};

// Anchors and compiles a Prometheus regex (RE2 syntax, full match). Shared by relabeling and
// label_replace().
core::Result<std::shared_ptr<const re2::RE2>> compile_anchored_regex(std::string_view pattern);

// Go's Regexp.Expand of `tmpl` for a match of `regex` on `src`, given the submatches.
std::string expand_regex_template(const re2::RE2& regex, std::string_view tmpl,
                                  const std::vector<std::string_view>& groups);

}  // namespace llmscale::prom
