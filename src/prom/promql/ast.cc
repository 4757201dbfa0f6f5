// PromQL syntax tree helpers: types, operator names, the function table, printing.
#include "prom/promql/ast.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/duration.h"
#include "core/strings.h"
#include "prom/exposition/float_text.h"
#include "prom/promql/functions.h"

namespace llmscale::prom {

std::string_view documented_type(ValueType type) {
  switch (type) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    case ValueType::kString: return "string";
    case ValueType::kNone: break;
  }
  return "none";
}

std::string_view binary_op_string(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "^";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kEql: return "==";
    case BinaryOp::kNeq: return "!=";
    case BinaryOp::kGtr: return ">";
    case BinaryOp::kLss: return "<";
    case BinaryOp::kGte: return ">=";
    case BinaryOp::kLte: return "<=";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kUnless: return "unless";
  }
  return "?";
}

bool is_comparison(BinaryOp op) {
  return op == BinaryOp::kEql || op == BinaryOp::kNeq || op == BinaryOp::kGtr ||
         op == BinaryOp::kLss || op == BinaryOp::kGte || op == BinaryOp::kLte;
}

bool is_set_operator(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

std::string_view aggregate_op_string(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kAvg: return "avg";
    case AggregateOp::kMin: return "min";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kCountValues: return "count_values";
    case AggregateOp::kTopK: return "topk";
    case AggregateOp::kBottomK: return "bottomk";
    case AggregateOp::kQuantile: return "quantile";
    case AggregateOp::kGroup: return "group";
    case AggregateOp::kStddev: return "stddev";
    case AggregateOp::kStdvar: return "stdvar";
  }
  return "?";
}

ValueType Expr::type() const {
  switch (kind) {
    case Kind::kNumber: return ValueType::kScalar;
    case Kind::kString: return ValueType::kString;
    case Kind::kVectorSelector: return ValueType::kVector;
    case Kind::kMatrixSelector: return ValueType::kMatrix;
    case Kind::kAggregate: return ValueType::kVector;
    case Kind::kBinary: {
      if (cached_type != ValueType::kNone) return cached_type;
      const auto& b = static_cast<const BinaryExpr&>(*this);
      return b.lhs->type() == ValueType::kScalar && b.rhs->type() == ValueType::kScalar
                 ? ValueType::kScalar
                 : ValueType::kVector;
    }
    case Kind::kUnary:
      if (cached_type != ValueType::kNone) return cached_type;
      return static_cast<const UnaryExpr&>(*this).expr->type();
    case Kind::kParen:
      if (cached_type != ValueType::kNone) return cached_type;
      return static_cast<const ParenExpr&>(*this).expr->type();
    case Kind::kCall: return static_cast<const Call&>(*this).func->return_type;
  }
  return ValueType::kNone;
}

namespace {

std::string duration_string(std::int64_t ms) {
  return core::format_prometheus_duration(std::chrono::milliseconds(ms));
}

std::string offset_string(const VectorSelector& vs) {
  if (!vs.has_offset || vs.offset_ms == 0) return "";
  if (vs.offset_ms > 0) return " offset " + duration_string(vs.offset_ms);
  return " offset -" + duration_string(-vs.offset_ms);
}

std::string selector_body(const VectorSelector& vs) {
  std::vector<std::string> parts;
  for (const Matcher& m : vs.matchers) {
    if (m.name() == kMetricNameLabel && m.type() == MatchType::kEqual && m.value() == vs.name) {
      continue;
    }
    parts.push_back(m.to_string());
  }
  if (parts.empty()) return vs.name;
  std::sort(parts.begin(), parts.end());
  return vs.name + "{" + core::join(parts, ",") + "}";
}

std::string join_labels(const std::vector<std::string>& labels) {
  return core::join(labels, ", ");
}

}  // namespace

std::string to_string(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kNumber: {
      // Prometheus prints +Inf as "+Inf", which reparses as a unary plus that binds looser
      // than `^` ("+Inf ^ x" != (+Inf) ^ x); "Inf" reparses to the same literal.
      double v = static_cast<const NumberLiteral&>(e).value;
      if (std::isinf(v) && v > 0) return "Inf";
      return format_go_float(v);
    }
    case Expr::Kind::kString: return core::go_quote(static_cast<const StringLiteral&>(e).value);
    case Expr::Kind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      return selector_body(vs) + offset_string(vs);
    }
    case Expr::Kind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      return selector_body(*ms.selector) + "[" + duration_string(ms.range_ms) + "]" +
             offset_string(*ms.selector);
    }
    case Expr::Kind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      std::string out(aggregate_op_string(a.op));
      if (a.without) {
        out += " without (" + join_labels(a.grouping) + ") ";
      } else if (!a.grouping.empty()) {
        out += " by (" + join_labels(a.grouping) + ") ";
      }
      out += "(";
      if (a.param) out += to_string(*a.param) + ", ";
      out += to_string(*a.expr) + ")";
      return out;
    }
    case Expr::Kind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      std::string matching;
      if (b.matching && (!b.matching->matching_labels.empty() || b.matching->on)) {
        matching = std::string(" ") + (b.matching->on ? "on" : "ignoring") + " (" +
                   join_labels(b.matching->matching_labels) + ")";
        if (b.matching->card == Cardinality::kManyToOne ||
            b.matching->card == Cardinality::kOneToMany) {
          matching += std::string(" group_") +
                      (b.matching->card == Cardinality::kManyToOne ? "left" : "right") + " (" +
                      join_labels(b.matching->include) + ")";
        }
      }
      return to_string(*b.lhs) + " " + std::string(binary_op_string(b.op)) +
             (b.return_bool ? " bool" : "") + matching + " " + to_string(*b.rhs);
    }
    case Expr::Kind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      std::string out(u.negate ? "-" : "+");
      out += to_string(*u.expr);
      return out;
    }
    case Expr::Kind::kParen: {
      std::string out = "(";
      out += to_string(*static_cast<const ParenExpr&>(e).expr);
      out += ")";
      return out;
    }
    case Expr::Kind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      std::vector<std::string> args;
      for (const auto& a : c.args) args.push_back(to_string(*a));
      return std::string(c.func->name) + "(" + core::join(args, ", ") + ")";
    }
  }
  return "";
}

}  // namespace llmscale::prom
