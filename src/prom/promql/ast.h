// PromQL syntax tree, value types and the function table, after prometheus/promql/parser (v2.42).
//
// Nodes own their children (unique_ptr); a parsed tree is immutable and may be evaluated by many
// threads at once. to_string() prints an expression the way Prometheus' String() methods do
// (`sum by (pod) (rate(x{job="a"}[1m]))`), which the parser tests use for round trips.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prom/tsdb/matcher.h"

namespace llmscale::prom {

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };
// Prometheus' DocumentedType: "scalar", "instant vector", "range vector", "string".
std::string_view documented_type(ValueType type);

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kAnd,
  kOr,
  kUnless,
};
std::string_view binary_op_string(BinaryOp op);
bool is_comparison(BinaryOp op);
bool is_set_operator(BinaryOp op);

enum class AggregateOp {
  kSum,
  kAvg,
  kMin,
  kMax,
  kCount,
  kCountValues,
  kTopK,
  kBottomK,
  kQuantile,
  kGroup,
  kStddev,
  kStdvar,
};
std::string_view aggregate_op_string(AggregateOp op);

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  std::vector<std::string> matching_labels;  // on(...) / ignoring(...)
  bool on = false;
  std::vector<std::string> include;  // group_left(...) / group_right(...)
};

// A function's types and implementation: promql_functions.h.
struct FunctionSpec;

struct Expr {
  enum class Kind {
    kNumber,
    kString,
    kVectorSelector,
    kMatrixSelector,
    kAggregate,
    kBinary,
    kUnary,
    kParen,
    kCall
  };
  explicit Expr(Kind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  ValueType type() const;

  const Kind kind;
  std::size_t start = 0;  // byte offsets of the node in the query
  std::size_t end = 0;
  // Set by the parser: nodes on the longest path from here down to a leaf (1 for a leaf). The
  // parser rejects trees higher than kMaxExprHeight (promql_parser.h), so every recursive walker
  // (printer, type(), evaluator, destructor) recurses at most that deep.
  std::uint32_t height = 1;
  // Set by the parser on binary, unary and paren nodes so type() does not walk the subtree (a
  // chain `1+1+...` would otherwise cost O(n^2)); kNone: type() computes it.
  ValueType cached_type = ValueType::kNone;
};
using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral : Expr {
  NumberLiteral() : Expr(Kind::kNumber) {}
  double value = 0;
};

struct StringLiteral : Expr {
  StringLiteral() : Expr(Kind::kString) {}
  std::string value;
};

struct VectorSelector : Expr {
  VectorSelector() : Expr(Kind::kVectorSelector) {}
  std::string name;  // from `name{...}`; also present as a matcher
  std::vector<Matcher> matchers;
  std::int64_t offset_ms = 0;
  bool has_offset = false;
};

struct MatrixSelector : Expr {
  MatrixSelector() : Expr(Kind::kMatrixSelector) {}
  std::unique_ptr<VectorSelector> selector;
  std::int64_t range_ms = 0;
};

struct AggregateExpr : Expr {
  AggregateExpr() : Expr(Kind::kAggregate) {}
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile: scalar; count_values: string
  std::vector<std::string> grouping;
  bool without = false;
  bool has_grouping = false;  // "by ()" was written
};

struct BinaryExpr : Expr {
  BinaryExpr() : Expr(Kind::kBinary) {}
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  // Set when both sides are instant vectors (Prometheus drops it otherwise).
  std::optional<VectorMatching> matching;
};

struct UnaryExpr : Expr {
  UnaryExpr() : Expr(Kind::kUnary) {}
  bool negate = true;
  ExprPtr expr;
};

struct ParenExpr : Expr {
  ParenExpr() : Expr(Kind::kParen) {}
  ExprPtr expr;
};

struct Call : Expr {
  Call() : Expr(Kind::kCall) {}
  const FunctionSpec* func = nullptr;
  std::vector<ExprPtr> args;
};

std::string to_string(const Expr& expr);

}  // namespace llmscale::prom
