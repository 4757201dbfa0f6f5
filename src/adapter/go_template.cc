// A Go text/template subset with << >> delimiters (prometheus-adapter's templates).
#include "adapter/go_template.h"

#include <cctype>
#include <optional>

#include "core/strings.h"

namespace llmscale::adapter {

struct Expr {
  enum class Kind { kDot, kField, kString, kInt, kIndex, kLen } kind = Kind::kDot;
  std::string text;        // field name or string literal
  long long number = 0;    // int literal
  std::vector<Expr> args;  // for index / len
};

struct GoTemplate::Node {
  enum class Kind { kText, kOutput, kRange, kIf } kind = Kind::kText;
  std::string text;
  Expr expr;
  std::vector<Node> body, else_body;
};

namespace {

using Node = GoTemplate::Node;
using Value = std::variant<std::string, std::vector<std::string>,
                           std::map<std::string, std::string>, long long>;

struct Action {
  std::string body;
  std::string_view source;  // for error messages
};

// Splits an action into words, keeping "quoted strings" whole.
core::Result<std::vector<std::string>> words(std::string_view action) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < action.size()) {
    if (std::isspace(static_cast<unsigned char>(action[i]))) {
      ++i;
      continue;
    }
    if (action[i] == '"') {
      std::string word = "\"";
      ++i;
      bool closed = false;
      while (i < action.size()) {
        char c = action[i++];
        if (c == '\\' && i < action.size()) {
          word += c;
          word += action[i++];
          continue;
        }
        word += c;
        if (c == '"') {
          closed = true;
          break;
        }
      }
      if (!closed)
        return core::invalid_argument("unterminated quoted string in <<" + std::string(action) +
                                      ">>");
      out.push_back(word);
      continue;
    }
    std::size_t start = i;
    while (i < action.size() && !std::isspace(static_cast<unsigned char>(action[i]))) ++i;
    out.emplace_back(action.substr(start, i - start));
  }
  return out;
}

core::Result<std::string> unquote(const std::string& word) {
  std::string out;
  for (std::size_t i = 1; i + 1 < word.size(); ++i) {
    if (word[i] == '\\') {
      ++i;
      switch (word[i]) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        default:
          return core::invalid_argument("unsupported escape \\" + std::string(1, word[i]) + " in " +
                                        word);
      }
    } else {
      out += word[i];
    }
  }
  return out;
}

core::Result<Expr> operand(const std::string& word) {
  Expr e;
  if (word == ".") return e;
  if (word.size() > 1 && word[0] == '.') {
    e.kind = Expr::Kind::kField;
    e.text = word.substr(1);
    for (char c : e.text) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        return core::invalid_argument("unsupported field reference " + word);
      }
    }
    return e;
  }
  if (word.front() == '"') {
    e.kind = Expr::Kind::kString;
    auto text = unquote(word);
    if (!text) return tl::unexpected(text.error());
    e.text = *text;
    return e;
  }
  bool digits = !word.empty();
  for (char c : word) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    e.kind = Expr::Kind::kInt;
    e.number = std::stoll(word);
    return e;
  }
  return core::invalid_argument("unsupported operand \"" + word + "\"");
}

core::Result<Expr> expression(const std::vector<std::string>& w, std::size_t from,
                              const std::string& action) {
  if (from >= w.size()) return core::invalid_argument("missing value in <<" + action + ">>");
  if (w[from] == "index" || w[from] == "len") {
    Expr e;
    e.kind = w[from] == "index" ? Expr::Kind::kIndex : Expr::Kind::kLen;
    for (std::size_t i = from + 1; i < w.size(); ++i) {
      auto arg = operand(w[i]);
      if (!arg) return tl::unexpected(arg.error());
      e.args.push_back(*arg);
    }
    if (e.kind == Expr::Kind::kIndex && e.args.size() < 2) {
      return core::invalid_argument("index needs a collection and a key in <<" + action + ">>");
    }
    if (e.kind == Expr::Kind::kLen && e.args.size() != 1) {
      return core::invalid_argument("len needs one argument in <<" + action + ">>");
    }
    return e;
  }
  if (from + 1 != w.size()) {
    return core::invalid_argument("unsupported template action <<" + action + ">> (function \"" +
                                  w[from] + "\" not available)");
  }
  return operand(w[from]);
}

// Parses nodes until `end`/`else` (returned in `stop`) or the end of the text.
core::Result<std::vector<Node>> parse_nodes(std::string_view text, std::size_t& pos,
                                            std::string& stop) {
  std::vector<Node> nodes;
  stop.clear();
  while (pos < text.size()) {
    std::size_t open = text.find("<<", pos);
    std::string_view literal =
        text.substr(pos, open == std::string_view::npos ? text.npos : open - pos);
    std::string literal_text(literal);
    if (open == std::string_view::npos) {
      if (!literal_text.empty()) nodes.push_back(Node{Node::Kind::kText, literal_text, {}, {}, {}});
      pos = text.size();
      break;
    }
    std::size_t close = open + 2;
    bool in_string = false;
    for (; close + 1 < text.size(); ++close) {
      if (text[close] == '"' && text[close - 1] != '\\') in_string = !in_string;
      if (!in_string && text[close] == '>' && text[close + 1] == '>') break;
    }
    if (close + 1 >= text.size())
      return core::invalid_argument("unclosed action starting at offset " + std::to_string(open));
    std::string action(text.substr(open + 2, close - open - 2));
    bool trim_left = action.size() >= 2 && action[0] == '-' &&
                     std::isspace(static_cast<unsigned char>(action[1]));
    bool trim_right = action.size() >= 2 && action.back() == '-' &&
                      std::isspace(static_cast<unsigned char>(action[action.size() - 2]));
    if (trim_left) {
      action = action.substr(1);
      while (!literal_text.empty() && std::isspace(static_cast<unsigned char>(literal_text.back())))
        literal_text.pop_back();
    }
    if (trim_right) action.pop_back();
    if (!literal_text.empty()) nodes.push_back(Node{Node::Kind::kText, literal_text, {}, {}, {}});
    pos = close + 2;
    if (trim_right) {
      while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    }
    std::string trimmed(core::trim(action));
    if (trimmed.rfind("/*", 0) == 0) continue;  // comment
    auto w = words(trimmed);
    if (!w) return tl::unexpected(w.error());
    if (w->empty()) return core::invalid_argument("empty action <<" + action + ">>");
    const std::string& head = (*w)[0];
    if (head == "end" || head == "else") {
      if (w->size() != 1)
        return core::invalid_argument("unsupported template action <<" + trimmed + ">>");
      stop = head;
      return nodes;
    }
    if (head == "range" || head == "if") {
      auto e = expression(*w, 1, trimmed);
      if (!e) return tl::unexpected(e.error());
      Node block{head == "range" ? Node::Kind::kRange : Node::Kind::kIf, "", *e, {}, {}};
      std::string inner_stop;
      auto body = parse_nodes(text, pos, inner_stop);
      if (!body) return body;
      block.body = std::move(*body);
      if (inner_stop == "else") {
        auto rest = parse_nodes(text, pos, inner_stop);
        if (!rest) return rest;
        block.else_body = std::move(*rest);
      }
      if (inner_stop != "end")
        return core::invalid_argument("missing <<end>> for <<" + trimmed + ">>");
      nodes.push_back(std::move(block));
      continue;
    }
    auto e = expression(*w, 0, trimmed);
    if (!e) return tl::unexpected(e.error());
    nodes.push_back(Node{Node::Kind::kOutput, "", *e, {}, {}});
  }
  return nodes;
}

std::string print(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* list = std::get_if<std::vector<std::string>>(&v))
    return "[" + core::join(*list, " ") + "]";
  if (const auto* n = std::get_if<long long>(&v)) return std::to_string(*n);
  const auto& m = std::get<std::map<std::string, std::string>>(v);
  std::vector<std::string> parts;
  for (const auto& [k, val] : m) parts.push_back(k + ":" + val);
  return "map[" + core::join(parts, " ") + "]";
}

bool truthy(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return !s->empty();
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) return !list->empty();
  if (const auto* n = std::get_if<long long>(&v)) return *n != 0;
  return !std::get<std::map<std::string, std::string>>(v).empty();
}

core::Result<Value> eval(const Expr& e, const TemplateData& data, const Value& dot) {
  switch (e.kind) {
    case Expr::Kind::kDot: return dot;
    case Expr::Kind::kString: return Value(e.text);
    case Expr::Kind::kInt: return Value(e.number);
    case Expr::Kind::kField: {
      auto it = data.find(e.text);
      if (it == data.end()) return core::invalid_argument("can't evaluate field " + e.text);
      return std::visit([](const auto& x) { return Value(x); }, it->second);
    }
    case Expr::Kind::kLen: {
      auto v = eval(e.args[0], data, dot);
      if (!v) return v;
      if (const auto* s = std::get_if<std::string>(&*v)) return Value((long long)s->size());
      if (const auto* l = std::get_if<std::vector<std::string>>(&*v))
        return Value((long long)l->size());
      if (const auto* m = std::get_if<std::map<std::string, std::string>>(&*v))
        return Value((long long)m->size());
      return core::invalid_argument("len of a number");
    }
    case Expr::Kind::kIndex: {
      auto collection = eval(e.args[0], data, dot);
      if (!collection) return collection;
      Value current = *collection;
      for (std::size_t i = 1; i < e.args.size(); ++i) {
        auto key = eval(e.args[i], data, dot);
        if (!key) return key;
        if (const auto* m = std::get_if<std::map<std::string, std::string>>(&current)) {
          const auto* k = std::get_if<std::string>(&*key);
          if (k == nullptr) return core::invalid_argument("index of a map needs a string key");
          auto it = m->find(*k);
          current = Value(it == m->end() ? std::string() : it->second);  // Go: zero value
        } else if (const auto* l = std::get_if<std::vector<std::string>>(&current)) {
          const auto* n = std::get_if<long long>(&*key);
          if (n == nullptr) return core::invalid_argument("index of a slice needs an integer");
          if (*n < 0 || *n >= (long long)l->size()) {
            return core::invalid_argument("error calling index: index out of range: " +
                                          std::to_string(*n));
          }
          current = Value((*l)[std::size_t(*n)]);
        } else {
          return core::invalid_argument("can't index item of type string");
        }
      }
      return current;
    }
  }
  return core::invalid_argument("bad expression");
}

core::Status render_nodes(const std::vector<Node>& nodes, const TemplateData& data,
                          const Value& dot, std::string& out) {
  for (const Node& node : nodes) {
    switch (node.kind) {
      case Node::Kind::kText: out += node.text; break;
      case Node::Kind::kOutput: {
        auto v = eval(node.expr, data, dot);
        if (!v) return tl::unexpected(v.error());
        out += print(*v);
        break;
      }
      case Node::Kind::kIf: {
        auto v = eval(node.expr, data, dot);
        if (!v) return tl::unexpected(v.error());
        auto s = render_nodes(truthy(*v) ? node.body : node.else_body, data, dot, out);
        if (!s) return s;
        break;
      }
      case Node::Kind::kRange: {
        auto v = eval(node.expr, data, dot);
        if (!v) return tl::unexpected(v.error());
        std::vector<Value> items;
        if (const auto* l = std::get_if<std::vector<std::string>>(&*v)) {
          for (const auto& x : *l) items.emplace_back(x);
        } else if (const auto* m = std::get_if<std::map<std::string, std::string>>(&*v)) {
          for (const auto& [k, x] : *m) items.emplace_back(x);
        } else {
          return core::invalid_argument("range can't iterate over " + print(*v));
        }
        if (items.empty()) {
          auto s = render_nodes(node.else_body, data, dot, out);
          if (!s) return s;
        }
        for (const auto& item : items) {
          auto s = render_nodes(node.body, data, item, out);
          if (!s) return s;
        }
        break;
      }
    }
  }
  return {};
}

void collect_fields(const Expr& e, std::vector<std::string>& out) {
  if (e.kind == Expr::Kind::kField) out.push_back(e.text);
  for (const auto& a : e.args) collect_fields(a, out);
}

void collect_fields(const std::vector<Node>& nodes, std::vector<std::string>& out) {
  for (const auto& n : nodes) {
    if (n.kind != Node::Kind::kText) collect_fields(n.expr, out);
    collect_fields(n.body, out);
    collect_fields(n.else_body, out);
  }
}

}  // namespace

core::Result<GoTemplate> GoTemplate::parse(std::string_view text) {
  std::size_t pos = 0;
  std::string stop;
  auto nodes = parse_nodes(text, pos, stop);
  if (!nodes) return tl::unexpected(nodes.error());
  if (!stop.empty()) return core::invalid_argument("unexpected <<" + stop + ">>");
  GoTemplate t;
  t.nodes_ = std::make_shared<const std::vector<Node>>(std::move(*nodes));
  return t;
}

core::Result<std::string> GoTemplate::render(const TemplateData& data) const {
  std::string out;
  auto s = render_nodes(*nodes_, data, Value(std::string()), out);
  if (!s) return tl::unexpected(s.error());
  return out;
}

std::vector<std::string> GoTemplate::fields() const {
  std::vector<std::string> out;
  collect_fields(*nodes_, out);
  return out;
}

}  // namespace llmscale::adapter
