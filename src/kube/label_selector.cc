// Label selector parsing and matching (apimachinery/pkg/labels/selector.go).
#include "kube/label_selector.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/strings.h"
#include "kube/field_error.h"
#include "kube/names.h"

namespace llmscale::kube {
namespace {

using core::Result;

const char* operator_text(SelectorOperator op) {
  switch (op) {
    case SelectorOperator::kIn: return "in";
    case SelectorOperator::kNotIn: return "notin";
    case SelectorOperator::kEquals: return "=";
    case SelectorOperator::kDoubleEquals: return "==";
    case SelectorOperator::kNotEquals: return "!=";
    case SelectorOperator::kExists: return "exists";
    case SelectorOperator::kDoesNotExist: return "!";
    case SelectorOperator::kGreaterThan: return "gt";
    case SelectorOperator::kLessThan: return "lt";
  }
  return "";
}

bool parse_int64(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  std::string_view digits = text;
  if (digits[0] == '+') digits.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty();
}

// Go's %v of a []string: [a b c].
std::string go_string_slice(const std::vector<std::string>& values) {
  return "[" + core::join(values, " ") + "]";
}

void sort_by_key(std::vector<Requirement>& requirements) {
  std::stable_sort(requirements.begin(), requirements.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

// ---- lexer -------------------------------------------------------------------------------

enum class Token {
  kError,
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Item {
  Token token;
  std::string literal;
};

bool literal_token(std::string_view s, Token& token) {
  static const std::pair<std::string_view, Token> kTokens[] = {
      {")", Token::kClosedPar},     {",", Token::kComma},    {"!", Token::kDoesNotExist},
      {"==", Token::kDoubleEquals}, {"=", Token::kEquals},   {">", Token::kGreaterThan},
      {"in", Token::kIn},           {"<", Token::kLessThan}, {"!=", Token::kNotEquals},
      {"notin", Token::kNotIn},     {"(", Token::kOpenPar}};
  for (const auto& [text, t] : kTokens) {
    if (text == s) {
      token = t;
      return true;
    }
  }
  return false;
}

bool is_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_special(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

std::vector<Item> lex(std::string_view s) {
  std::vector<Item> items;
  std::size_t pos = 0;
  while (true) {
    while (pos < s.size() && is_whitespace(s[pos])) ++pos;
    // Go reads a NUL byte as end of input.
    if (pos >= s.size() || s[pos] == '\0') {
      items.push_back({Token::kEnd, ""});
      return items;
    }
    if (is_special(s[pos])) {
      std::string buffer;
      Item last{Token::kError, ""};
      while (pos < s.size() && is_special(s[pos])) {
        buffer.push_back(s[pos]);
        ++pos;
        Token t;
        if (literal_token(buffer, t)) {
          last = {t, buffer};
        } else if (last.token != Token::kError) {
          --pos;
          break;
        }
      }
      if (last.token == Token::kError) {
        items.push_back({Token::kError, "error expected: keyword found '" + buffer + "'"});
      } else {
        items.push_back(last);
      }
      continue;
    }
    std::string buffer;
    while (pos < s.size() && s[pos] != '\0' && !is_special(s[pos]) && !is_whitespace(s[pos])) {
      buffer.push_back(s[pos]);
      ++pos;
    }
    Token t;
    if (literal_token(buffer, t)) {
      items.push_back({t, buffer});
    } else {
      items.push_back({Token::kIdentifier, buffer});
    }
  }
}

// ---- parser ------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string_view text) : items_(lex(text)) {}

  Result<std::vector<Requirement>> parse();

 private:
  enum class Context { kKeyAndOperator, kValues };

  Item lookahead(Context context) const {
    Item item = items_[std::min(position_, items_.size() - 1)];
    if (context == Context::kValues && (item.token == Token::kIn || item.token == Token::kNotIn)) {
      item.token = Token::kIdentifier;
    }
    return item;
  }
  Item consume(Context context) {
    Item item = lookahead(context);
    if (position_ < items_.size() - 1) ++position_;
    return item;
  }

  Result<Requirement> parse_requirement();
  Result<std::set<std::string>> parse_values();
  Result<std::set<std::string>> parse_identifiers();
  Result<std::set<std::string>> parse_exact_value();

  std::vector<Item> items_;
  std::size_t position_ = 0;
};

std::string found(const std::string& literal) {
  return "found '" + literal + "'";
}

Result<std::vector<Requirement>> Parser::parse() {
  std::vector<Requirement> requirements;
  while (true) {
    Item item = lookahead(Context::kValues);
    switch (item.token) {
      case Token::kIdentifier:
      case Token::kDoesNotExist: {
        auto requirement = parse_requirement();
        if (!requirement) {
          return core::invalid_argument("unable to parse requirement: " +
                                        requirement.error().message);
        }
        requirements.push_back(std::move(*requirement));
        Item next = consume(Context::kValues);
        if (next.token == Token::kEnd) return requirements;
        if (next.token == Token::kComma) {
          Item after = lookahead(Context::kValues);
          if (after.token != Token::kIdentifier && after.token != Token::kDoesNotExist) {
            return core::invalid_argument(found(after.literal) +
                                          ", expected: identifier after ','");
          }
          break;
        }
        return core::invalid_argument(found(next.literal) + ", expected: ',' or 'end of string'");
      }
      case Token::kEnd: return requirements;
      default:
        return core::invalid_argument(found(item.literal) +
                                      ", expected: !, identifier, or 'end of string'");
    }
  }
}

Result<Requirement> Parser::parse_requirement() {
  // Key, with the operator inferred for `key` and `!key`.
  std::optional<SelectorOperator> op;
  Item item = consume(Context::kValues);
  if (item.token == Token::kDoesNotExist) {
    op = SelectorOperator::kDoesNotExist;
    item = consume(Context::kValues);
  }
  if (item.token != Token::kIdentifier) {
    return core::invalid_argument(found(item.literal) + ", expected: identifier");
  }
  std::string key = item.literal;
  if (auto errors = is_qualified_name(key); !errors.empty()) {
    return core::invalid_argument(
        invalid("<nil>", quoted_value(key), core::join(errors, "; ")).to_string());
  }
  Token next = lookahead(Context::kValues).token;
  if (next == Token::kEnd || next == Token::kComma) {
    if (!op) op = SelectorOperator::kExists;
  }
  if (op == SelectorOperator::kExists || op == SelectorOperator::kDoesNotExist) {
    return Selector::make_requirement(key, *op, {});
  }
  // Binary operator.
  Item op_item = consume(Context::kKeyAndOperator);
  switch (op_item.token) {
    case Token::kIn: op = SelectorOperator::kIn; break;
    case Token::kEquals: op = SelectorOperator::kEquals; break;
    case Token::kDoubleEquals: op = SelectorOperator::kDoubleEquals; break;
    case Token::kGreaterThan: op = SelectorOperator::kGreaterThan; break;
    case Token::kLessThan: op = SelectorOperator::kLessThan; break;
    case Token::kNotIn: op = SelectorOperator::kNotIn; break;
    case Token::kNotEquals: op = SelectorOperator::kNotEquals; break;
    default:
      return core::invalid_argument(found(op_item.literal) +
                                    ", expected: in, notin, =, ==, !=, gt, lt");
  }
  Result<std::set<std::string>> values =
      (*op == SelectorOperator::kIn || *op == SelectorOperator::kNotIn) ? parse_values()
                                                                        : parse_exact_value();
  if (!values) return tl::unexpected(values.error());
  return Selector::make_requirement(key, *op,
                                    std::vector<std::string>(values->begin(), values->end()));
}

Result<std::set<std::string>> Parser::parse_values() {
  Item item = consume(Context::kValues);
  if (item.token != Token::kOpenPar) {
    return core::invalid_argument(found(item.literal) + " expected: '('");
  }
  Item next = lookahead(Context::kValues);
  switch (next.token) {
    case Token::kIdentifier:
    case Token::kComma: {
      auto values = parse_identifiers();
      if (!values) return values;
      if (consume(Context::kValues).token != Token::kClosedPar) {
        return core::invalid_argument(found(next.literal) + ", expected: ')'");
      }
      return values;
    }
    case Token::kClosedPar: consume(Context::kValues); return std::set<std::string>{""};
    default:
      return core::invalid_argument(found(next.literal) + ", expected: ',', ')' or identifier");
  }
}

Result<std::set<std::string>> Parser::parse_identifiers() {
  std::set<std::string> values;
  while (true) {
    Item item = consume(Context::kValues);
    switch (item.token) {
      case Token::kIdentifier: {
        values.insert(item.literal);
        Item next = lookahead(Context::kValues);
        if (next.token == Token::kComma) continue;
        if (next.token == Token::kClosedPar) return values;
        return core::invalid_argument(found(next.literal) + ", expected: ',' or ')'");
      }
      case Token::kComma: {
        if (values.empty()) values.insert("");
        Token next = lookahead(Context::kValues).token;
        if (next == Token::kClosedPar) {
          values.insert("");
          return values;
        }
        if (next == Token::kComma) {
          consume(Context::kValues);
          values.insert("");
        }
        break;
      }
      default:
        return core::invalid_argument(found(item.literal) + ", expected: ',', or identifier");
    }
  }
}

Result<std::set<std::string>> Parser::parse_exact_value() {
  Token next = lookahead(Context::kValues).token;
  if (next == Token::kEnd || next == Token::kComma) return std::set<std::string>{""};
  Item item = consume(Context::kValues);
  if (item.token == Token::kIdentifier) return std::set<std::string>{item.literal};
  return core::invalid_argument(found(item.literal) + ", expected: identifier");
}

}  // namespace

bool Requirement::matches(const Labels& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  auto has_value = [&](const std::string& v) {
    return std::find(values.begin(), values.end(), v) != values.end();
  };
  switch (op) {
    case SelectorOperator::kIn:
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals: return has && has_value(it->second);
    case SelectorOperator::kNotIn:
    case SelectorOperator::kNotEquals: return !has || !has_value(it->second);
    case SelectorOperator::kExists: return has;
    case SelectorOperator::kDoesNotExist: return !has;
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan: {
      std::int64_t label_value, bound;
      if (!has || values.size() != 1 || !parse_int64(it->second, label_value) ||
          !parse_int64(values[0], bound)) {
        return false;
      }
      return op == SelectorOperator::kGreaterThan ? label_value > bound : label_value < bound;
    }
  }
  return false;
}

std::string Requirement::to_string() const {
  std::string out;
  if (op == SelectorOperator::kDoesNotExist) out += "!";
  out += key;
  switch (op) {
    case SelectorOperator::kEquals: out += "="; break;
    case SelectorOperator::kDoubleEquals: out += "=="; break;
    case SelectorOperator::kNotEquals: out += "!="; break;
    case SelectorOperator::kIn: out += " in "; break;
    case SelectorOperator::kNotIn: out += " notin "; break;
    case SelectorOperator::kGreaterThan: out += ">"; break;
    case SelectorOperator::kLessThan: out += "<"; break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist: return out;
  }
  bool set_based = op == SelectorOperator::kIn || op == SelectorOperator::kNotIn;
  if (set_based) out += "(";
  std::vector<std::string> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  out += core::join(sorted, ",");
  if (set_based) out += ")";
  return out;
}

Selector Selector::nothing() {
  Selector s;
  s.nothing_ = true;
  return s;
}

core::Result<Selector> Selector::parse(std::string_view text) {
  Parser parser(text);
  auto requirements = parser.parse();
  if (!requirements) return tl::unexpected(requirements.error());
  Selector s;
  s.requirements_ = std::move(*requirements);
  sort_by_key(s.requirements_);
  return s;
}

core::Result<Selector> Selector::from_set(const Labels& labels) {
  Selector s;
  for (const auto& [key, value] : labels) {
    auto r = make_requirement(key, SelectorOperator::kEquals, {value});
    if (!r) return tl::unexpected(r.error());
    s.requirements_.push_back(std::move(*r));
  }
  return s;
}

core::Result<Requirement> Selector::make_requirement(std::string key, SelectorOperator op,
                                                     std::vector<std::string> values) {
  FieldErrors errors;
  if (auto msgs = is_qualified_name(key); !msgs.empty()) {
    errors.push_back(invalid("key", quoted_value(key), core::join(msgs, "; ")));
  }
  switch (op) {
    case SelectorOperator::kIn:
    case SelectorOperator::kNotIn:
      if (values.empty()) {
        errors.push_back(invalid("values", go_string_slice(values),
                                 "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals:
    case SelectorOperator::kNotEquals:
      if (values.size() != 1) {
        errors.push_back(invalid("values", go_string_slice(values),
                                 "exact-match compatibility requires one single value"));
      }
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      if (!values.empty()) {
        errors.push_back(invalid("values", go_string_slice(values),
                                 "values set must be empty for exists and does not exist"));
      }
      break;
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan:
      if (values.size() != 1) {
        errors.push_back(invalid("values", go_string_slice(values),
                                 "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (std::size_t i = 0; i < values.size(); ++i) {
        std::int64_t ignored;
        if (!parse_int64(values[i], ignored)) {
          errors.push_back(invalid("values[" + std::to_string(i) + "]", quoted_value(values[i]),
                                   "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (auto msgs = is_valid_label_value(values[i]); !msgs.empty()) {
      errors.push_back(invalid("values[" + std::to_string(i) + "][" + key + "]",
                               quoted_value(values[i]), core::join(msgs, "; ")));
    }
  }
  if (!errors.empty()) return core::invalid_argument(aggregate(errors));
  return Requirement{std::move(key), op, std::move(values)};
}

bool Selector::matches(const Labels& labels) const {
  if (nothing_) return false;
  for (const auto& r : requirements_) {
    if (!r.matches(labels)) return false;
  }
  return true;
}

std::string Selector::to_string() const {
  std::vector<std::string> parts;
  for (const auto& r : requirements_) parts.push_back(r.to_string());
  return core::join(parts, ",");
}

Selector Selector::add(std::vector<Requirement> more) const {
  Selector s = *this;
  for (auto& r : more) s.requirements_.push_back(std::move(r));
  sort_by_key(s.requirements_);
  return s;
}

core::Result<Selector> to_selector(const std::optional<LabelSelector>& selector) {
  if (!selector) return Selector::nothing();
  if (selector->match_labels.empty() && selector->match_expressions.empty()) {
    return Selector::everything();
  }
  std::vector<Requirement> requirements;
  for (const auto& [key, value] : selector->match_labels) {
    auto r = Selector::make_requirement(key, SelectorOperator::kEquals, {value});
    if (!r) return tl::unexpected(r.error());
    requirements.push_back(std::move(*r));
  }
  for (const auto& expr : selector->match_expressions) {
    SelectorOperator op;
    if (expr.op == "In")
      op = SelectorOperator::kIn;
    else if (expr.op == "NotIn")
      op = SelectorOperator::kNotIn;
    else if (expr.op == "Exists")
      op = SelectorOperator::kExists;
    else if (expr.op == "DoesNotExist")
      op = SelectorOperator::kDoesNotExist;
    else
      return core::invalid_argument(core::go_quote(expr.op) +
                                    " is not a valid label selector operator");
    auto r = Selector::make_requirement(expr.key, op, expr.values);
    if (!r) return tl::unexpected(r.error());
    requirements.push_back(std::move(*r));
  }
  return Selector().add(std::move(requirements));
}

core::Result<LabelSelector> to_label_selector(const Selector& selector) {
  LabelSelector out;
  for (const auto& r : selector.requirements()) {
    std::string op;
    switch (r.op) {
      case SelectorOperator::kEquals:
      case SelectorOperator::kDoubleEquals:
        if (r.values.size() != 1) {
          return core::invalid_argument("equals operator must have exactly one value");
        }
        out.match_labels[r.key] = r.values[0];
        continue;
      case SelectorOperator::kIn: op = "In"; break;
      case SelectorOperator::kNotIn: op = "NotIn"; break;
      case SelectorOperator::kExists: op = "Exists"; break;
      case SelectorOperator::kDoesNotExist: op = "DoesNotExist"; break;
      case SelectorOperator::kGreaterThan:
      case SelectorOperator::kLessThan:
        return core::invalid_argument(core::go_quote(operator_text(r.op)) +
                                      " isn't supported in label selectors");
      case SelectorOperator::kNotEquals:
        return core::invalid_argument(core::go_quote(operator_text(r.op)) +
                                      " is not a valid label selector operator");
    }
    std::vector<std::string> values = r.values;
    std::sort(values.begin(), values.end());
    out.match_expressions.push_back({r.key, op, std::move(values)});
  }
  return out;
}

std::string go_debug_string(const std::optional<LabelSelector>& selector) {
  if (!selector) return "nil";
  // Generated String() of metav1.LabelSelector: keys sorted, each entry "k: v,".
  std::string out = "&LabelSelector{MatchLabels:map[string]string{";
  for (const auto& [k, v] : selector->match_labels) out += k + ": " + v + ",";
  out += "},MatchExpressions:[]LabelSelectorRequirement{";
  for (const auto& e : selector->match_expressions) {
    out += "LabelSelectorRequirement{Key:" + e.key + ",Operator:" + e.op + ",Values:[" +
           core::join(e.values, " ") + "],},";
  }
  out += "},}";
  return out;
}

}  // namespace llmscale::kube
