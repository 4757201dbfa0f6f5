// Label matchers over RE2 with Prometheus' anchoring.
#include "prom/tsdb/matcher.h"

#include <algorithm>

#include <re2/re2.h>

namespace llmscale::prom {
namespace {

// Go regexp's extract(): a leading "name" or "{name}"; name is letters, digits and '_'.
bool extract_name(std::string_view str, std::string_view& name, int& num, std::size_t& consumed) {
  if (str.empty()) return false;
  bool brace = false;
  std::size_t start = 0;
  if (str[0] == '{') {
    brace = true;
    start = 1;
  }
  std::size_t i = start;
  while (i < str.size()) {
    auto c = static_cast<unsigned char>(str[i]);
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c >= 0x80;
    if (!word) break;
    ++i;
  }
  if (i == start) return false;
  name = str.substr(start, i - start);
  if (brace) {
    if (i >= str.size() || str[i] != '}') return false;
    ++i;
  }
  num = 0;
  for (char c : name) {
    if (c < '0' || c > '9' || num >= 100000000) {
      num = -1;
      break;
    }
    num = num * 10 + (c - '0');
  }
  if (name[0] == '0' && name.size() > 1) num = -1;
  consumed = i;
  return true;
}

}  // namespace

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

std::string expand_regex_template(const re2::RE2& regex, std::string_view tmpl,
                                  const std::vector<std::string_view>& groups) {
  std::string out;
  while (!tmpl.empty()) {
    std::size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view name;
    int num = 0;
    std::size_t consumed = 0;
    if (!extract_name(tmpl, name, num, consumed)) {
      out.push_back('$');  // malformed: '$' is literal
      continue;
    }
    tmpl.remove_prefix(consumed);
    if (num >= 0) {
      if (static_cast<std::size_t>(num) < groups.size())
        out.append(groups[static_cast<std::size_t>(num)]);
    } else {
      const auto& names = regex.NamedCapturingGroups();
      auto it = names.find(std::string(name));
      if (it != names.end() && static_cast<std::size_t>(it->second) < groups.size()) {
        out.append(groups[static_cast<std::size_t>(it->second)]);
      }
    }
  }
  out.append(tmpl);
  return out;
}

}  // namespace llmscale::prom
