// Label matchers over RE2 with Prometheus' anchoring.
#include "prom/matcher.h"

#include <algorithm>

#include <re2/re2.h>

namespace llmscale::prom {

std::string_view match_type_string(MatchType type) {
  switch (type) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

core::Result<std::shared_ptr<const re2::RE2>> compile_anchored_regex(std::string_view pattern) {
  // Prometheus: relabel.NewRegexp and labels.NewFastRegexMatcher anchor with ^(?:...)$.
  // RE2's C++ defaults match Go's regexp/syntax.Perl flags closely enough: '.' does not match
  // '\n', classes are Unicode-aware, input is UTF-8.
  re2::RE2::Options options;
  options.set_log_errors(false);
  std::string anchored = "^(?:";
  anchored.append(pattern);
  anchored.append(")$");
  auto regex = std::make_shared<re2::RE2>(anchored, options);
  if (!regex->ok()) {
    // Go's regexp/syntax wording: "error parsing regexp: <code>: `<fragment>`".
    std::string code;
    switch (regex->error_code()) {
      case re2::RE2::ErrorMissingParen: code = "missing closing )"; break;
      case re2::RE2::ErrorUnexpectedParen: code = "unexpected )"; break;
      case re2::RE2::ErrorMissingBracket: code = "missing closing ]"; break;
      case re2::RE2::ErrorBadEscape: code = "invalid escape sequence"; break;
      case re2::RE2::ErrorBadCharClass: code = "invalid character class"; break;
      case re2::RE2::ErrorBadCharRange: code = "invalid character class range"; break;
      case re2::RE2::ErrorRepeatArgument: code = "missing argument to repetition operator"; break;
      case re2::RE2::ErrorRepeatSize: code = "invalid repeat count"; break;
      case re2::RE2::ErrorRepeatOp: code = "invalid nested repetition operator"; break;
      case re2::RE2::ErrorBadPerlOp: code = "invalid or unsupported Perl syntax"; break;
      case re2::RE2::ErrorBadUTF8: code = "invalid UTF-8"; break;
      case re2::RE2::ErrorBadNamedCapture: code = "invalid named capture"; break;
      case re2::RE2::ErrorTrailingBackslash:
        code = "trailing backslash at end of expression";
        break;
      default: code = regex->error(); break;
    }
    return core::invalid_argument("error parsing regexp: " + code + ": `" + regex->error_arg() +
                                  "`");
  }
  return std::shared_ptr<const re2::RE2>(std::move(regex));
}

core::Result<Matcher> Matcher::make(MatchType type, std::string name, std::string value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    if (m.value_.find_first_of("\\.+*?()[]{}^$") == std::string::npos) {
      auto literals = std::make_shared<std::vector<std::string>>();
      std::size_t start = 0;
      while (true) {
        std::size_t bar = m.value_.find('|', start);
        literals->push_back(
            m.value_.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
        if (bar == std::string::npos) break;
        start = bar + 1;
      }
      std::sort(literals->begin(), literals->end());
      literals->erase(std::unique(literals->begin(), literals->end()), literals->end());
      m.literals_ = std::move(literals);
      m.matches_empty_ = m.matches(std::string_view());
      return m;
    }
    auto regex = compile_anchored_regex(m.value_);
    if (!regex) return tl::unexpected(regex.error());
    m.regex_ = std::move(*regex);
  }
  m.matches_empty_ = m.matches(std::string_view());
  return m;
}

bool Matcher::matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual: return value == value_;
    case MatchType::kNotEqual: return value != value_;
    case MatchType::kRegexMatch:
    case MatchType::kRegexNoMatch: {
      bool match;
      if (literals_) {
        match = std::binary_search(literals_->begin(), literals_->end(), value);
      } else {
        match = re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex_);
      }
      return type_ == MatchType::kRegexMatch ? match : !match;
    }
  }
  return false;
}

std::string Matcher::to_string() const {
  std::string out = name_;
  out.append(match_type_string(type_));
  append_quoted(out, value_);
  return out;
}

}  // namespace llmscale::prom
