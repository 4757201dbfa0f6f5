// PromQL lexer and parser with Prometheus' precedence, type checks and error wording.
#include "prom/promql/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/duration.h"
#include "core/strings.h"
#include "prom/exposition/float_text.h"
#include "prom/promql/functions.h"

namespace llmscale::prom {
namespace {

enum class Tok {
  kEof,
  kIdentifier,
  kMetricIdentifier,
  kNumber,
  kDuration,
  kString,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kComma,
  kColon,
  kAt,
  kAssign,    // =
  kEqlRegex,  // =~
  kNeqRegex,  // !~
  // Binary operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,  // ==
  kNeq,   // !=
  kLss,
  kLte,
  kGtr,
  kGte,
  kAnd,
  kOr,
  kUnless,
  kAtan2,
  // Keywords.
  kAggregator,
  kBy,
  kWithout,
  kOn,
  kIgnoring,
  kGroupLeft,
  kGroupRight,
  kBool,
  kOffset,
};

struct Token {
  Tok type = Tok::kEof;
  std::size_t pos = 0;
  std::string_view text;
  AggregateOp agg = AggregateOp::kSum;
  std::string value;  // unquoted string literal
};

bool is_keyword_token(Tok t) {
  return t == Tok::kBy || t == Tok::kWithout || t == Tok::kOn || t == Tok::kIgnoring ||
         t == Tok::kGroupLeft || t == Tok::kGroupRight || t == Tok::kBool || t == Tok::kOffset;
}
bool is_operator_token(Tok t) {
  return t >= Tok::kAdd && t <= Tok::kAtan2;
}

// Prometheus' Item.desc(): how a token is named in "unexpected ..." messages.
std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::kEof: return "end of input";
    case Tok::kIdentifier: return "identifier " + core::go_quote(t.text);
    case Tok::kMetricIdentifier: return "metric identifier " + core::go_quote(t.text);
    case Tok::kNumber: return "number " + core::go_quote(t.text);
    case Tok::kDuration: return "duration " + core::go_quote(t.text);
    case Tok::kString: return "string " + core::go_quote(t.text);
    case Tok::kAggregator: return "<aggr:" + std::string(t.text) + ">";
    default: break;
  }
  if (is_operator_token(t.type)) return "<op:" + std::string(t.text) + ">";
  if (is_keyword_token(t.type)) return "<" + std::string(t.text) + ">";
  return core::go_quote(t.text);
}

struct ParseError {
  std::size_t pos;
  std::string message;
};

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Go strconv.Unquote for the three PromQL quote styles.
bool unquote(std::string_view raw, std::string& out, std::string& error) {
  char quote = raw.front();
  std::string_view body = raw.substr(1, raw.size() - 2);
  out.clear();
  if (quote == '`') {
    out.assign(body);
    return true;
  }
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      if (c == '\n') {
        error = "invalid syntax";
        return false;
      }
      out.push_back(c);
      continue;
    }
    if (++i >= body.size()) {
      error = "invalid syntax";
      return false;
    }
    char e = body[i];
    auto hex = [&](int digits) -> long {
      if (i + static_cast<std::size_t>(digits) >= body.size()) return -1;
      long v = 0;
      for (int k = 1; k <= digits; ++k) {
        if (i + static_cast<std::size_t>(k) >= body.size()) return -1;
        char h = body[i + static_cast<std::size_t>(k)];
        int d = is_digit(h)              ? h - '0'
                : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                         : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
      }
      i += static_cast<std::size_t>(digits);
      return v;
    };
    auto put_rune = [&](long r) {
      if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return false;
      auto u = static_cast<std::uint32_t>(r);
      if (u < 0x80) {
        out.push_back(static_cast<char>(u));
      } else if (u < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (u >> 6)));
        out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
      } else if (u < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (u >> 12)));
        out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (u >> 18)));
        out.push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
      }
      return true;
    };
    switch (e) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': out.push_back('\\'); break;
      case '"':
      case '\'':
        if (e != quote) {
          error = "invalid syntax";
          return false;
        }
        out.push_back(e);
        break;
      case 'x': {
        long v = hex(2);
        if (v < 0) {
          error = "invalid syntax";
          return false;
        }
        out.push_back(static_cast<char>(v));
        break;
      }
      case 'u':
      case 'U': {
        long v = hex(e == 'u' ? 4 : 8);
        if (v < 0 || !put_rune(v)) {
          error = "invalid syntax";
          return false;
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 >= body.size()) {
            error = "invalid syntax";
            return false;
          }
          int v = 0;
          for (int k = 0; k < 3; ++k) {
            char o = body[i + static_cast<std::size_t>(k)];
            if (o < '0' || o > '7') {
              error = "invalid syntax";
              return false;
            }
            v = v * 8 + (o - '0');
          }
          if (v > 255) {
            error = "invalid syntax";
            return false;
          }
          i += 2;
          out.push_back(static_cast<char>(v));
          break;
        }
        error = "invalid syntax";
        return false;
    }
  }
  return true;
}

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  // Tokenizes everything; throws ParseError.
  std::vector<Token> run() {
    std::vector<Token> out;
    int parens = 0;
    int brackets = 0;
    std::size_t open_paren = 0;
    bool in_braces = false;
    std::size_t brace_pos = 0;
    while (true) {
      skip_space_and_comments();
      if (pos_ >= in_.size()) {
        if (in_braces) throw ParseError{pos_, "unexpected end of input inside braces"};
        if (parens > 0) throw ParseError{open_paren, "unclosed left parenthesis"};
        if (brackets > 0) throw ParseError{pos_, "unclosed left bracket"};
        out.push_back(Token{Tok::kEof, pos_, {}, {}, {}});
        return out;
      }
      std::size_t start = pos_;
      char c = in_[pos_];
      auto single = [&](Tok t) {
        ++pos_;
        out.push_back(Token{t, start, in_.substr(start, 1), {}, {}});
      };
      auto pair = [&](Tok t) {
        pos_ += 2;
        out.push_back(Token{t, start, in_.substr(start, 2), {}, {}});
      };
      char n = pos_ + 1 < in_.size() ? in_[pos_ + 1] : '\0';
      switch (c) {
        case '(':
          if (parens++ == 0) open_paren = start;
          single(Tok::kLParen);
          continue;
        case ')':
          if (--parens < 0) throw ParseError{start, "unexpected right parenthesis ')'"};
          single(Tok::kRParen);
          continue;
        case '{':
          if (in_braces) throw ParseError{start, "unexpected left brace '{'"};
          in_braces = true;
          brace_pos = start;
          single(Tok::kLBrace);
          continue;
        case '}':
          if (!in_braces) throw ParseError{start, "unexpected right brace '}'"};
          in_braces = false;
          single(Tok::kRBrace);
          continue;
        case '[':
          if (brackets > 0) throw ParseError{start, "unexpected left bracket '['"};
          ++brackets;
          single(Tok::kLBracket);
          continue;
        case ']':
          if (brackets == 0) throw ParseError{start, "unexpected right bracket ']'"};
          --brackets;
          single(Tok::kRBracket);
          continue;
        case ',': single(Tok::kComma); continue;
        case ':':
          if (brackets > 0) {
            single(Tok::kColon);
            continue;
          }
          break;  // a metric name may start with ':'
        case '@': single(Tok::kAt); continue;
        case '+': single(Tok::kAdd); continue;
        case '-': single(Tok::kSub); continue;
        case '*': single(Tok::kMul); continue;
        case '/': single(Tok::kDiv); continue;
        case '%': single(Tok::kMod); continue;
        case '^': single(Tok::kPow); continue;
        case '=':
          if (n == '=') {
            pair(Tok::kEqlc);
          } else if (n == '~') {
            pair(Tok::kEqlRegex);
          } else {
            single(Tok::kAssign);
          }
          continue;
        case '!':
          if (n == '=') {
            pair(Tok::kNeq);
          } else if (n == '~') {
            pair(Tok::kNeqRegex);
          } else {
            throw ParseError{start, "unexpected character after '!': " + quote_rune(n)};
          }
          continue;
        case '<':
          if (n == '=') {
            pair(Tok::kLte);
          } else {
            single(Tok::kLss);
          }
          continue;
        case '>':
          if (n == '=') {
            pair(Tok::kGte);
          } else {
            single(Tok::kGtr);
          }
          continue;
        case '"':
        case '\'':
        case '`': out.push_back(lex_string(c)); continue;
        default: break;
      }
      if (is_digit(c) || (c == '.' && is_digit(n))) {
        out.push_back(lex_number_or_duration());
        continue;
      }
      if (is_alpha(c) || c == ':') {
        out.push_back(lex_word(in_braces));
        continue;
      }
      (void)brace_pos;
      if (in_braces)
        throw ParseError{start, "unexpected character inside braces: " + quote_rune(c)};
      throw ParseError{start, "unexpected character: " + quote_rune(c)};
    }
  }

 private:
  static std::string quote_rune(char c) {
    if (c == '\0') return "end of input";
    if (c == '\'') return "'\\''";
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "'\\x%02x'", u);
      return buf;
    }
    return std::string("'") + c + "'";
  }

  void skip_space_and_comments() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < in_.size() && in_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  Token lex_string(char quote) {
    std::size_t start = pos_++;
    while (true) {
      if (pos_ >= in_.size()) throw ParseError{start, "unterminated quoted string"};
      char c = in_[pos_];
      if (c == '\\' && quote != '`') {
        pos_ += 2;
        continue;
      }
      if (c == '\n' && quote != '`') throw ParseError{start, "unterminated quoted string"};
      ++pos_;
      if (c == quote) break;
    }
    Token t{Tok::kString, start, in_.substr(start, pos_ - start), {}, {}};
    std::string error;
    if (!unquote(t.text, t.value, error)) throw ParseError{start, error};
    if (core::find_invalid_utf8(t.value) != std::string::npos) {
      throw ParseError{start, "invalid UTF-8 rune"};
    }
    return t;
  }

  Token lex_number_or_duration() {
    std::size_t start = pos_;
    // Prometheus scanNumber: [0x]digits[.digits][e[+-]digits], not followed by an alnum.
    std::string_view digits = "0123456789";
    if (in_[pos_] == '0' && pos_ + 1 < in_.size() &&
        (in_[pos_ + 1] == 'x' || in_[pos_ + 1] == 'X')) {
      pos_ += 2;
      digits = "0123456789abcdefABCDEF";
    }
    auto accept_run = [&](std::string_view set) {
      while (pos_ < in_.size() && set.find(in_[pos_]) != std::string_view::npos) ++pos_;
    };
    accept_run(digits);
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      accept_run(digits);
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      accept_run("0123456789");
    }
    if (pos_ >= in_.size() || !is_alnum(in_[pos_])) {
      return Token{Tok::kNumber, start, in_.substr(start, pos_ - start), {}, {}};
    }
    // A duration: digits and units.
    pos_ = start;
    while (pos_ < in_.size() && is_alnum(in_[pos_])) ++pos_;
    std::string_view text = in_.substr(start, pos_ - start);
    if (!core::parse_prometheus_duration(text)) {
      throw ParseError{start, "bad number or duration syntax: " + core::go_quote(text)};
    }
    return Token{Tok::kDuration, start, text, {}, {}};
  }

  Token lex_word(bool in_braces) {
    std::size_t start = pos_;
    while (pos_ < in_.size() && (is_alnum(in_[pos_]) || in_[pos_] == ':')) ++pos_;
    std::string_view word = in_.substr(start, pos_ - start);
    Token t{Tok::kIdentifier, start, word, {}, {}};
    if (in_braces) {
      if (word.find(':') != std::string_view::npos) t.type = Tok::kMetricIdentifier;
      return t;
    }
    std::string w = lower(word);
    struct Keyword {
      std::string_view word;
      Tok tok;
    };
    static constexpr Keyword kKeywords[] = {
        {"and", Tok::kAnd},
        {"or", Tok::kOr},
        {"unless", Tok::kUnless},
        {"atan2", Tok::kAtan2},
        {"by", Tok::kBy},
        {"without", Tok::kWithout},
        {"on", Tok::kOn},
        {"ignoring", Tok::kIgnoring},
        {"group_left", Tok::kGroupLeft},
        {"group_right", Tok::kGroupRight},
        {"bool", Tok::kBool},
        {"offset", Tok::kOffset},
    };
    for (const auto& k : kKeywords) {
      if (w == k.word) {
        t.type = k.tok;
        return t;
      }
    }
    struct Agg {
      std::string_view word;
      AggregateOp op;
    };
    static constexpr Agg kAggregators[] = {
        {"sum", AggregateOp::kSum},           {"avg", AggregateOp::kAvg},
        {"min", AggregateOp::kMin},           {"max", AggregateOp::kMax},
        {"count", AggregateOp::kCount},       {"count_values", AggregateOp::kCountValues},
        {"topk", AggregateOp::kTopK},         {"bottomk", AggregateOp::kBottomK},
        {"quantile", AggregateOp::kQuantile}, {"group", AggregateOp::kGroup},
        {"stddev", AggregateOp::kStddev},     {"stdvar", AggregateOp::kStdvar},
    };
    for (const auto& a : kAggregators) {
      if (w == a.word) {
        t.type = Tok::kAggregator;
        t.agg = a.op;
        return t;
      }
    }
    if (w == "inf" || w == "nan") {
      t.type = Tok::kNumber;
      return t;
    }
    if (word.find(':') != std::string_view::npos) t.type = Tok::kMetricIdentifier;
    return t;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

// Prometheus parser.number(): strconv.ParseInt(val, 0, 64), falling back to ParseFloat.
std::optional<double> parse_number(std::string_view text) {
  std::string_view body = text;
  int base = 10;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
    base = 16;
    body.remove_prefix(2);
  } else if (body.size() > 2 && body[0] == '0' && (body[1] == 'o' || body[1] == 'O')) {
    base = 8;
    body.remove_prefix(2);
  } else if (body.size() > 2 && body[0] == '0' && (body[1] == 'b' || body[1] == 'B')) {
    base = 2;
    body.remove_prefix(2);
  } else if (body.size() > 1 && body[0] == '0') {
    base = 8;
    body.remove_prefix(1);
  }
  std::int64_t v = 0;
  auto res = std::from_chars(body.data(), body.data() + body.size(), v, base);
  if (res.ec == std::errc() && res.ptr == body.data() + body.size() && !body.empty()) {
    return static_cast<double>(v);
  }
  return parse_prom_float(text);
}

struct BinopInfo {
  BinaryOp op;
  int prec;
  bool right_assoc;
};

std::optional<BinopInfo> binop_of(Tok t) {
  switch (t) {
    case Tok::kOr: return BinopInfo{BinaryOp::kOr, 1, false};
    case Tok::kAnd: return BinopInfo{BinaryOp::kAnd, 2, false};
    case Tok::kUnless: return BinopInfo{BinaryOp::kUnless, 2, false};
    case Tok::kEqlc: return BinopInfo{BinaryOp::kEql, 3, false};
    case Tok::kNeq: return BinopInfo{BinaryOp::kNeq, 3, false};
    case Tok::kLss: return BinopInfo{BinaryOp::kLss, 3, false};
    case Tok::kLte: return BinopInfo{BinaryOp::kLte, 3, false};
    case Tok::kGtr: return BinopInfo{BinaryOp::kGtr, 3, false};
    case Tok::kGte: return BinopInfo{BinaryOp::kGte, 3, false};
    case Tok::kAdd: return BinopInfo{BinaryOp::kAdd, 4, false};
    case Tok::kSub: return BinopInfo{BinaryOp::kSub, 4, false};
    case Tok::kMul: return BinopInfo{BinaryOp::kMul, 5, false};
    case Tok::kDiv: return BinopInfo{BinaryOp::kDiv, 5, false};
    case Tok::kMod: return BinopInfo{BinaryOp::kMod, 5, false};
    case Tok::kAtan2: return BinopInfo{BinaryOp::kAtan2, 5, false};
    case Tok::kPow: return BinopInfo{BinaryOp::kPow, 6, true};
    default: return std::nullopt;
  }
}
constexpr int kMulPrec = 5;

class Parser {
 public:
  Parser(std::string_view input, std::vector<Token> tokens)
      : input_(input), tokens_(std::move(tokens)) {}

  ExprPtr parse_top() {
    if (peek().type == Tok::kEof) throw ParseError{0, "no expression found in input"};
    ExprPtr e = parse_expr(0);
    if (peek().type != Tok::kEof) unexpected("");
    return e;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    std::size_t i = std::min(index_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& next() {
    const Token& t = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    return t;
  }
  [[noreturn]] void unexpected(std::string_view context, std::string_view expected = {}) {
    const Token& t = peek();
    std::string msg = "unexpected " + describe(t);
    if (!context.empty()) msg += " in " + std::string(context);
    if (!expected.empty()) msg += ", expected " + std::string(expected);
    throw ParseError{t.pos, msg};
  }
  [[noreturn]] static void fail(const Expr& at, std::string message) {
    throw ParseError{at.start, std::move(message)};
  }
  std::size_t end_of_previous() const {
    const Token& t = tokens_[index_ == 0 ? 0 : index_ - 1];
    return t.pos + t.text.size();
  }

  // Bounds of the query (promql_parser.h); Prometheus' yacc parser has none, but without them one
  // POST of `1+1+...` overflows the stack of every recursive walker.
  static std::string nesting_error() {
    return "expression nesting exceeds " + std::to_string(kMaxExprHeight) + " levels";
  }
  // Bounds the parser's own recursion: every level of recursion passes through parse_unary()
  // once (parentheses, unary operators, calls, aggregations, right operands). `-` before a
  // number folds into the literal, so this is checked besides the height of the tree.
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxExprHeight) throw ParseError{parser.peek().pos, nesting_error()};
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };
  // Counts one expression, label matcher or label name against kMaxExprElements.
  void count_element(std::size_t pos) {
    if (++elements_ > kMaxExprElements) {
      throw ParseError{pos, "query has more than " + std::to_string(kMaxExprElements) +
                                " expressions, label matchers and label names"};
    }
  }
  // An inner node over children of height `child_height`: sets its height and type cache, and
  // rejects a tree higher than kMaxExprHeight (a left-deep chain `a+b+c+...` is built by the loop
  // in parse_expr, not by recursion, so only this check bounds it).
  void admit(Expr& e, std::uint32_t child_height, std::size_t pos) {
    count_element(pos);
    e.height = child_height + 1;
    if (e.height > kMaxExprHeight) throw ParseError{pos, nesting_error()};
  }

  ExprPtr parse_expr(int min_prec) {
    ExprPtr lhs = parse_unary();
    while (true) {
      auto info = binop_of(peek().type);
      if (!info || info->prec < min_prec) return lhs;
      const Token& op_token = next();
      auto bin = std::make_unique<BinaryExpr>();
      bin->op = info->op;
      std::size_t op_pos = op_token.pos;
      VectorMatching matching;
      bool has_matching_clause = false;
      if (peek().type == Tok::kBool) {
        next();
        bin->return_bool = true;
      }
      if (peek().type == Tok::kOn || peek().type == Tok::kIgnoring) {
        matching.on = next().type == Tok::kOn;
        matching.matching_labels = parse_label_list("grouping opts");
        has_matching_clause = true;
        if (peek().type == Tok::kGroupLeft || peek().type == Tok::kGroupRight) {
          matching.card =
              next().type == Tok::kGroupLeft ? Cardinality::kManyToOne : Cardinality::kOneToMany;
          if (peek().type == Tok::kLParen) matching.include = parse_label_list("grouping opts");
        }
      }
      ExprPtr rhs = parse_expr(info->right_assoc ? info->prec : info->prec + 1);
      admit(*bin, std::max(lhs->height, rhs->height), op_pos);
      bin->start = lhs->start;
      bin->end = rhs->end;
      bin->lhs = std::move(lhs);
      bin->rhs = std::move(rhs);
      check_binary(*bin, matching, has_matching_clause, op_pos);
      bin->cached_type =
          bin->lhs->type() == ValueType::kScalar && bin->rhs->type() == ValueType::kScalar
              ? ValueType::kScalar
              : ValueType::kVector;
      lhs = std::move(bin);
    }
  }

  void check_binary(BinaryExpr& b, VectorMatching matching, bool has_clause, std::size_t op_pos) {
    ValueType lt = b.lhs->type();
    ValueType rt = b.rhs->type();
    if (b.return_bool && !is_comparison(b.op)) {
      throw ParseError{op_pos, "bool modifier can only be used on comparison operators"};
    }
    if (is_comparison(b.op) && !b.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      throw ParseError{op_pos, "comparisons between scalars must use BOOL modifier"};
    }
    if (is_set_operator(b.op) && matching.card == Cardinality::kOneToOne) {
      matching.card = Cardinality::kManyToMany;
    }
    if (matching.on) {
      for (const auto& l1 : matching.matching_labels) {
        for (const auto& l2 : matching.include) {
          if (l1 == l2) {
            throw ParseError{op_pos, "label " + core::go_quote(l1) +
                                         " must not occur in ON and GROUP clause at once"};
          }
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      fail(*b.lhs, "binary expression must contain only scalar and instant vector types");
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      fail(*b.rhs, "binary expression must contain only scalar and instant vector types");
    }
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (has_clause && (!matching.matching_labels.empty() || matching.on)) {
        fail(b, "vector matching only allowed between instant vectors");
      }
      if (is_set_operator(b.op)) {
        fail(b, "set operator " + core::go_quote(binary_op_string(b.op)) +
                    " not allowed in binary scalar expression");
      }
      return;  // no matching for scalar operands
    }
    if (is_set_operator(b.op) &&
        (matching.card == Cardinality::kOneToMany || matching.card == Cardinality::kManyToOne)) {
      fail(b, "no grouping allowed for " + core::go_quote(binary_op_string(b.op)) + " operation");
    }
    b.matching = std::move(matching);
  }

  ExprPtr parse_unary() {
    DepthGuard guard(*this);
    Tok t = peek().type;
    if (t == Tok::kAdd || t == Tok::kSub) {
      const Token& op = next();
      std::size_t start = op.pos;
      ExprPtr operand = parse_expr(kMulPrec + 1);
      if (operand->kind == Expr::Kind::kNumber) {
        auto& n = static_cast<NumberLiteral&>(*operand);
        if (t == Tok::kSub) n.value = -n.value;
        n.start = start;
        return operand;
      }
      ValueType type = operand->type();
      if (type != ValueType::kScalar && type != ValueType::kVector) {
        throw ParseError{start,
                         "unary expression only allowed on expressions of type scalar or "
                         "instant vector, got " +
                             core::go_quote(documented_type(type))};
      }
      auto u = std::make_unique<UnaryExpr>();
      admit(*u, operand->height, start);
      u->cached_type = type;
      u->negate = t == Tok::kSub;
      u->start = start;
      u->end = operand->end;
      u->expr = std::move(operand);
      return u;
    }
    return parse_postfix(parse_primary());
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      Tok t = peek().type;
      if (t == Tok::kLBracket) {
        std::size_t bracket = next().pos;
        const Token& d = peek();
        if (d.type != Tok::kDuration) unexpected("range", "duration");
        auto range = core::parse_prometheus_duration(next().text);
        if (peek().type == Tok::kColon) {
          throw ParseError{bracket, "subqueries are not supported"};
        }
        if (peek().type != Tok::kRBracket) unexpected("range", "\"]\"");
        next();
        if (e->kind != Expr::Kind::kVectorSelector) {
          throw ParseError{e->start, "ranges only allowed for vector selectors"};
        }
        auto& vs = static_cast<VectorSelector&>(*e);
        if (vs.has_offset) throw ParseError{e->start, "no offset modifiers allowed before range"};
        auto ms = std::make_unique<MatrixSelector>();
        admit(*ms, e->height, e->start);
        ms->start = e->start;
        ms->end = end_of_previous();
        ms->range_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*range).count();
        ms->selector.reset(static_cast<VectorSelector*>(e.release()));
        e = std::move(ms);
        continue;
      }
      if (t == Tok::kOffset) {
        std::size_t offset_pos = next().pos;
        bool negative = false;
        if (peek().type == Tok::kSub) {
          next();
          negative = true;
        }
        if (peek().type != Tok::kDuration) unexpected("offset", "duration");
        auto d = core::parse_prometheus_duration(next().text);
        std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
        if (negative) ms = -ms;
        VectorSelector* vs = nullptr;
        if (e->kind == Expr::Kind::kVectorSelector) {
          vs = static_cast<VectorSelector*>(e.get());
        } else if (e->kind == Expr::Kind::kMatrixSelector) {
          vs = static_cast<MatrixSelector*>(e.get())->selector.get();
        } else {
          throw ParseError{offset_pos,
                           "offset modifier must be preceded by an instant vector selector or "
                           "range vector selector or a subquery"};
        }
        if (vs->has_offset) throw ParseError{offset_pos, "offset may not be set multiple times"};
        vs->has_offset = true;
        vs->offset_ms = ms;
        e->end = end_of_previous();
        continue;
      }
      if (t == Tok::kAt) throw ParseError{peek().pos, "@ modifier is not supported"};
      return e;
    }
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    switch (t.type) {
      case Tok::kNumber: {
        count_element(t.pos);
        auto n = std::make_unique<NumberLiteral>();
        n->start = t.pos;
        n->end = t.pos + t.text.size();
        auto v = parse_number(t.text);
        if (!v) throw ParseError{t.pos, "error parsing number: " + std::string(t.text)};
        n->value = *v;
        next();
        return n;
      }
      case Tok::kString: {
        count_element(t.pos);
        auto s = std::make_unique<StringLiteral>();
        s->start = t.pos;
        s->end = t.pos + t.text.size();
        s->value = t.value;
        next();
        return s;
      }
      case Tok::kLParen: {
        std::size_t start = next().pos;
        auto p = std::make_unique<ParenExpr>();
        p->expr = parse_expr(0);
        if (peek().type != Tok::kRParen) unexpected("paren expression", "\")\"");
        admit(*p, p->expr->height, start);
        p->cached_type = p->expr->type();
        p->start = start;
        p->end = next().pos + 1;
        return p;
      }
      case Tok::kLBrace: return parse_selector("", t.pos);
      case Tok::kAggregator: return parse_aggregate();
      case Tok::kIdentifier:
        if (peek(1).type == Tok::kLParen) return parse_call();
        [[fallthrough]];
      case Tok::kMetricIdentifier: {
        std::string name(t.text);
        std::size_t pos = t.pos;
        next();
        return parse_selector(name, pos);
      }
      default: unexpected("");
    }
  }

  // A label name: identifiers and keywords (Prometheus' maybe_label).
  bool is_label_token(const Token& t) const {
    if (t.type == Tok::kIdentifier || t.type == Tok::kAggregator || is_keyword_token(t.type)) {
      return true;
    }
    return t.type == Tok::kAnd || t.type == Tok::kOr || t.type == Tok::kUnless ||
           t.type == Tok::kAtan2 || (t.type == Tok::kNumber && is_alpha(t.text[0]));
  }

  std::vector<std::string> parse_label_list(std::string_view context) {
    if (peek().type != Tok::kLParen) unexpected(context, "\"(\"");
    next();
    std::vector<std::string> labels;
    while (true) {
      if (peek().type == Tok::kRParen) break;
      if (!is_label_token(peek())) unexpected(context, "label");
      count_element(peek().pos);
      labels.emplace_back(next().text);
      if (peek().type == Tok::kComma) {
        next();
        continue;
      }
      if (peek().type != Tok::kRParen) unexpected(context, "\",\" or \")\"");
    }
    next();
    return labels;
  }

  ExprPtr parse_selector(const std::string& name, std::size_t start) {
    count_element(start);
    auto vs = std::make_unique<VectorSelector>();
    vs->start = start;
    vs->name = name;
    std::vector<std::pair<std::size_t, Matcher>> matchers;
    if (peek().type == Tok::kLBrace) {
      next();
      while (true) {
        if (peek().type == Tok::kRBrace) break;
        const Token& label = peek();
        if (label.type != Tok::kIdentifier) {
          unexpected("label matching", "identifier or \"}\"");
        }
        std::string label_name(label.text);
        std::size_t label_pos = label.pos;
        count_element(label_pos);
        next();
        MatchType type;
        switch (peek().type) {
          case Tok::kAssign: type = MatchType::kEqual; break;
          case Tok::kNeq: type = MatchType::kNotEqual; break;
          case Tok::kEqlRegex: type = MatchType::kRegexMatch; break;
          case Tok::kNeqRegex: type = MatchType::kRegexNoMatch; break;
          default: unexpected("label matching", "label matching operator");
        }
        next();
        if (peek().type != Tok::kString) unexpected("label matching", "string");
        std::string value = next().value;
        auto m = Matcher::make(type, label_name, value);
        if (!m) throw ParseError{label_pos, m.error().message};
        matchers.emplace_back(label_pos, std::move(*m));
        if (peek().type == Tok::kComma) {
          next();
          continue;
        }
        if (peek().type != Tok::kRBrace) unexpected("label matching", "\",\" or \"}\"");
      }
      next();
    }
    vs->end = end_of_previous();
    for (auto& [pos, m] : matchers) vs->matchers.push_back(std::move(m));
    if (!name.empty()) {
      for (const Matcher& m : vs->matchers) {
        if (m.name() == kMetricNameLabel) {
          throw ParseError{start, "metric name must not be set twice: " + core::go_quote(name) +
                                      " or " + core::go_quote(m.value())};
        }
      }
      vs->matchers.push_back(
          Matcher::make(MatchType::kEqual, std::string(kMetricNameLabel), name).value());
    } else {
      bool non_empty = false;
      for (const Matcher& m : vs->matchers) {
        if (!m.matches_empty()) non_empty = true;
      }
      if (!non_empty) {
        throw ParseError{start, "vector selector must contain at least one non-empty matcher"};
      }
    }
    return vs;
  }

  std::vector<ExprPtr> parse_args(std::string_view context) {
    if (peek().type != Tok::kLParen) unexpected(context, "\"(\"");
    next();
    std::vector<ExprPtr> args;
    while (peek().type != Tok::kRParen) {
      args.push_back(parse_expr(0));
      if (peek().type == Tok::kComma) {
        next();
        continue;
      }
      if (peek().type != Tok::kRParen) unexpected(context, "\",\" or \")\"");
    }
    next();
    return args;
  }

  ExprPtr parse_call() {
    const Token& name = next();
    const FunctionSpec* spec = find_function(name.text);
    if (spec == nullptr) {
      throw ParseError{name.pos, "unknown function with name " + core::go_quote(name.text)};
    }
    auto call = std::make_unique<Call>();
    call->start = name.pos;
    call->func = spec;
    call->args = parse_args("function call");
    call->end = end_of_previous();
    std::uint32_t child_height = 0;
    for (const auto& a : call->args) child_height = std::max(child_height, a->height);
    admit(*call, child_height, call->start);
    check_call(*call);
    return call;
  }

  void check_call(const Call& call) {
    const FunctionSpec& f = *call.func;
    std::size_t n = call.args.size();
    std::size_t expected = f.arg_types.size();
    std::string quoted = core::go_quote(f.name);
    if (f.variadic == 0) {
      if (n != expected) {
        fail(call, "expected " + std::to_string(expected) + " argument(s) in call to " + quoted +
                       ", got " + std::to_string(n));
      }
    } else {
      std::size_t min = expected - 1;
      if (n < min) {
        fail(call, "expected at least " + std::to_string(min) + " argument(s) in call to " +
                       quoted + ", got " + std::to_string(n));
      }
      std::size_t max = min + static_cast<std::size_t>(f.variadic);
      if (f.variadic > 0 && n > max) {
        fail(call, "expected at most " + std::to_string(max) + " argument(s) in call to " + quoted +
                       ", got " + std::to_string(n));
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      ValueType want = i < expected ? f.arg_types[i] : f.arg_types.back();
      check_type(*call.args[i], want, "call to function " + quoted);
    }
  }

  static void check_type(const Expr& e, ValueType want, const std::string& context) {
    ValueType got = e.type();
    if (got != want) {
      fail(e, "expected type " + std::string(documented_type(want)) + " in " + context + ", got " +
                  std::string(documented_type(got)));
    }
  }

  ExprPtr parse_aggregate() {
    const Token& op = next();
    auto agg = std::make_unique<AggregateExpr>();
    agg->start = op.pos;
    agg->op = op.agg;
    auto modifier = [&] {
      agg->without = next().type == Tok::kWithout;
      agg->has_grouping = true;
      agg->grouping = parse_label_list("grouping opts");
    };
    if (peek().type == Tok::kBy || peek().type == Tok::kWithout) modifier();
    if (peek().type != Tok::kLParen) unexpected("aggregation", "\"(\"");
    std::vector<ExprPtr> args = parse_args("aggregation");
    if ((peek().type == Tok::kBy || peek().type == Tok::kWithout)) {
      if (agg->has_grouping) unexpected("aggregation");
      modifier();
    }
    agg->end = end_of_previous();
    bool with_param = agg->op == AggregateOp::kTopK || agg->op == AggregateOp::kBottomK ||
                      agg->op == AggregateOp::kQuantile || agg->op == AggregateOp::kCountValues;
    std::size_t want = with_param ? 2 : 1;
    if (args.size() != want) {
      throw ParseError{agg->start,
                       "wrong number of arguments for aggregate expression provided, expected " +
                           std::to_string(want) + ", got " + std::to_string(args.size())};
    }
    if (with_param) {
      agg->param = std::move(args[0]);
      agg->expr = std::move(args[1]);
      check_type(*agg->param,
                 agg->op == AggregateOp::kCountValues ? ValueType::kString : ValueType::kScalar,
                 "aggregation parameter");
    } else {
      agg->expr = std::move(args[0]);
    }
    admit(*agg, std::max(agg->expr->height, agg->param ? agg->param->height : 0u), agg->start);
    check_type(*agg->expr, ValueType::kVector, "aggregation expression");
    return agg;
  }

  std::string_view input_;
  std::vector<Token> tokens_;
  std::size_t index_ = 0;
  std::uint32_t depth_ = 0;
  std::size_t elements_ = 0;
};

core::Error make_parse_error(std::string_view query, const ParseError& e) {
  std::size_t pos = std::min(e.pos, query.size());
  std::size_t line = 1;
  std::size_t last_break = std::string_view::npos;
  for (std::size_t i = 0; i < pos; ++i) {
    if (query[i] == '\n') {
      ++line;
      last_break = i;
    }
  }
  std::size_t col = last_break == std::string_view::npos ? pos + 1 : pos - last_break;
  return core::Error{
      core::ErrorCode::kInvalidArgument,
      std::to_string(line) + ":" + std::to_string(col) + ": parse error: " + e.message};
}

}  // namespace

core::Result<ExprPtr> parse_promql(std::string_view query) {
  try {
    Lexer lexer(query);
    Parser parser(query, lexer.run());
    return parser.parse_top();
  } catch (const ParseError& e) {
    return tl::unexpected(make_parse_error(query, e));
  }
}

core::Result<std::vector<Matcher>> parse_series_selector(std::string_view selector) {
  auto expr = parse_promql(selector);
  if (!expr) return tl::unexpected(expr.error());
  if ((*expr)->kind != Expr::Kind::kVectorSelector) {
    return core::invalid_argument("1:1: parse error: expected a series selector, got " +
                                  to_string(**expr));
  }
  auto& vs = static_cast<VectorSelector&>(**expr);
  if (vs.has_offset) return core::invalid_argument("1:1: parse error: offset is not allowed here");
  return std::move(vs.matchers);
}

}  // namespace llmscale::prom
