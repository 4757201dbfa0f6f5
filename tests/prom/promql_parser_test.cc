// PromQL parser: printing round trips, precedence and associativity, literals, type checks and
// error messages with line:column.
#include "prom/promql/parser.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "prom/promql/functions.h"

namespace llmscale::prom {
namespace {

std::string print(std::string_view q) {
  auto e = parse_promql(q);
  return e ? to_string(**e) : "error: " + e.error().message;
}

// Fully parenthesized structure, to pin precedence.
std::string tree(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return "(" + tree(*b.lhs) + " " + std::string(binary_op_string(b.op)) + " " + tree(*b.rhs) +
             ")";
    }
    case Expr::Kind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      return std::string("(") + (u.negate ? "-" : "+") + tree(*u.expr) + ")";
    }
    case Expr::Kind::kParen: return tree(*static_cast<const ParenExpr&>(e).expr);
    default: return to_string(e);
  }
}

std::string structure(std::string_view q) {
  auto e = parse_promql(q);
  return e ? tree(**e) : "error: " + e.error().message;
}

std::string error_of(std::string_view q) {
  auto e = parse_promql(q);
  return e ? "no error: " + to_string(**e) : e.error().message;
}

TEST(PromqlParserTest, PrintsLikePrometheus) {
  EXPECT_EQ(print("up"), "up");
  EXPECT_EQ(print("vllm:num_requests_waiting{model_name=\"m\", engine='0'}"),
            "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"}");
  EXPECT_EQ(print("{__name__=~\"vllm:.*\",job!=\"x\"}"), "{__name__=~\"vllm:.*\",job!=\"x\"}");
  EXPECT_EQ(print("rate(http_requests_total[5m] offset 1h)"),
            "rate(http_requests_total[5m] offset 1h)");
  EXPECT_EQ(print("x offset -90s"), "x offset -1m30s");
  EXPECT_EQ(
      print(
          "avg(vllm:gpu_cache_usage_perc{namespace=\"default\",pod=~\"vllm-0|vllm-1\"}) by (pod)"),
      "avg by (pod) (vllm:gpu_cache_usage_perc{namespace=\"default\",pod=~\"vllm-0|vllm-1\"})");
  EXPECT_EQ(print("sum without(instance, job)(x)"), "sum without (instance, job) (x)");
  EXPECT_EQ(print("topk(3, x)"), "topk(3, x)");
  EXPECT_EQ(print("count_values(\"value\", x)"), "count_values(\"value\", x)");
  EXPECT_EQ(print("histogram_quantile(0.9, sum by (le) (rate(h_bucket[1m])))"),
            "histogram_quantile(0.9, sum by (le) (rate(h_bucket[1m])))");
  EXPECT_EQ(print("a / on(pod) group_left(node) b"), "a / on (pod) group_left (node) b");
  EXPECT_EQ(print("a > bool ignoring(x) b"), "a > bool ignoring (x) b");
  EXPECT_EQ(print("a and on() b"), "a and on () b");
  EXPECT_EQ(print("label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")"),
            "label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")");
  EXPECT_EQ(print("-(1 + 2)"), "-(1 + 2)");
  EXPECT_EQ(print("# a comment\nup # another"), "up");
}

TEST(PromqlParserTest, NumberLiterals) {
  auto value = [](std::string_view q) {
    auto e = parse_promql(q);
    EXPECT_TRUE(e.has_value()) << q;
    EXPECT_EQ((*e)->kind, Expr::Kind::kNumber);
    return static_cast<const NumberLiteral&>(**e).value;
  };
  EXPECT_EQ(value("1"), 1);
  EXPECT_EQ(value("-1.5"), -1.5);
  EXPECT_EQ(value(".5e3"), 500);
  EXPECT_EQ(value("0x1F"), 31);
  EXPECT_EQ(value("010"), 8);  // Go's ParseInt with base 0: octal
  EXPECT_EQ(value("09"), 9);   // ...falling back to ParseFloat
  EXPECT_EQ(value("Inf"), INFINITY);
  EXPECT_EQ(value("-inf"), -INFINITY);
  EXPECT_TRUE(std::isnan(value("NaN")));
  EXPECT_EQ(value("1e3"), 1000);
}

TEST(PromqlParserTest, PrecedenceAndAssociativity) {
  EXPECT_EQ(structure("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(structure("a * b + c"), "((a * b) + c)");
  EXPECT_EQ(structure("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(structure("a / b / c"), "((a / b) / c)");
  EXPECT_EQ(structure("a ^ b ^ c"), "(a ^ (b ^ c))");  // right-associative
  EXPECT_EQ(structure("a * b ^ c"), "(a * (b ^ c))");
  EXPECT_EQ(structure("a or b and c"), "(a or (b and c))");
  EXPECT_EQ(structure("a and b unless c"), "((a and b) unless c)");
  EXPECT_EQ(structure("a > b + c"), "(a > (b + c))");
  EXPECT_EQ(structure("a + b > c or d"), "(((a + b) > c) or d)");
  EXPECT_EQ(structure("a atan2 b * c"), "((a atan2 b) * c)");
  // Unary minus binds like multiplication.
  EXPECT_EQ(structure("-a * b"), "((-a) * b)");
  EXPECT_EQ(structure("-a ^ b"), "(-(a ^ b))");
  EXPECT_EQ(structure("-a + b"), "((-a) + b)");
  EXPECT_EQ(structure("-2 ^ 2"), "(-(2 ^ 2))");
  EXPECT_EQ(structure("2 * -3"), "(2 * -3)");
  EXPECT_EQ(structure("-x offset 5m"), "(-x offset 5m)");
}

TEST(PromqlParserTest, TypesOfExpressions) {
  auto type = [](std::string_view q) { return (*parse_promql(q))->type(); };
  EXPECT_EQ(type("1 + 2"), ValueType::kScalar);
  EXPECT_EQ(type("x + 2"), ValueType::kVector);
  EXPECT_EQ(type("x[5m]"), ValueType::kMatrix);
  EXPECT_EQ(type("scalar(x)"), ValueType::kScalar);
  EXPECT_EQ(type("\"s\""), ValueType::kString);
  EXPECT_EQ(type("-(1)"), ValueType::kScalar);
  EXPECT_EQ(type("time()"), ValueType::kScalar);
}

TEST(PromqlParserTest, ErrorsPointAtTheColumn) {
  EXPECT_EQ(error_of("rate(x)"),
            "1:6: parse error: expected type range vector in call to function \"rate\", got "
            "instant vector");
  EXPECT_EQ(error_of("foo(x)"), "1:1: parse error: unknown function with name \"foo\"");
  EXPECT_EQ(error_of("1 + "), "1:5: parse error: unexpected end of input");
  EXPECT_EQ(error_of("sum(x"), "1:4: parse error: unclosed left parenthesis");
  EXPECT_EQ(error_of("sum(x))"), "1:7: parse error: unexpected right parenthesis ')'");
  EXPECT_EQ(error_of("x{a=\"1\""), "1:8: parse error: unexpected end of input inside braces");
  EXPECT_EQ(error_of("x{a}"),
            "1:4: parse error: unexpected \"}\" in label matching, expected label matching "
            "operator");
  EXPECT_EQ(error_of("x{a=1}"),
            "1:5: parse error: unexpected number \"1\" in label matching, expected string");
  EXPECT_EQ(error_of("{}"),
            "1:1: parse error: vector selector must contain at least one non-empty matcher");
  EXPECT_EQ(error_of("{a=~\".*\"}"),
            "1:1: parse error: vector selector must contain at least one non-empty matcher");
  EXPECT_EQ(error_of("x{__name__=\"y\"}"),
            "1:1: parse error: metric name must not be set twice: \"x\" or \"y\"");
  EXPECT_EQ(error_of("1 == 1"),
            "1:3: parse error: comparisons between scalars must use BOOL modifier");
  EXPECT_EQ(error_of("x + bool y"),
            "1:3: parse error: bool modifier can only be used on comparison operators");
  EXPECT_EQ(error_of("x and 1"),
            "1:1: parse error: set operator \"and\" not allowed in binary scalar expression");
  EXPECT_EQ(error_of("x * on(a) group_left(a) y"),
            "1:3: parse error: label \"a\" must not occur in ON and GROUP clause at once");
  EXPECT_EQ(error_of("x and on(a) group_left y"),
            "1:1: parse error: no grouping allowed for \"and\" operation");
  EXPECT_EQ(error_of("1 + on(a) x"),
            "1:1: parse error: vector matching only allowed between instant vectors");
  EXPECT_EQ(error_of("x offset 5m offset 1m"),
            "1:13: parse error: offset may not be set multiple times");
  EXPECT_EQ(error_of("rate(x offset 5m [1m])"),
            "1:6: parse error: no offset modifiers allowed before range");
  EXPECT_EQ(error_of("(x)[5m]"), "1:1: parse error: ranges only allowed for vector selectors");
  EXPECT_EQ(error_of("x[5m:1m]"), "1:2: parse error: subqueries are not supported");
  EXPECT_EQ(error_of("x @ 100"), "1:3: parse error: @ modifier is not supported");
  EXPECT_EQ(error_of("topk(x)"),
            "1:1: parse error: wrong number of arguments for aggregate expression provided, "
            "expected 2, got 1");
  EXPECT_EQ(error_of("sum(x[5m])"),
            "1:5: parse error: expected type instant vector in aggregation expression, got range "
            "vector");
  EXPECT_EQ(error_of("topk(x, y)"),
            "1:6: parse error: expected type scalar in aggregation parameter, got instant vector");
  EXPECT_EQ(error_of("x $ y"), "1:3: parse error: unexpected character: '$'");
  EXPECT_EQ(error_of("\"unterminated"), "1:1: parse error: unterminated quoted string");
  EXPECT_EQ(error_of("1 +* 2"), "1:4: parse error: unexpected <op:*>");
  EXPECT_EQ(error_of("x[5]"),
            "1:3: parse error: unexpected number \"5\" in range, expected duration");
  EXPECT_EQ(error_of("x offset 5"),
            "1:10: parse error: unexpected number \"5\" in offset, expected duration");
  EXPECT_EQ(error_of("rate(x[5m], 1)"),
            "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2");
  EXPECT_EQ(error_of("round()"),
            "1:1: parse error: expected at least 1 argument(s) in call to \"round\", got 0");
  EXPECT_EQ(error_of("round(x, 1, 2)"),
            "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3");
  EXPECT_EQ(error_of("-x[5m]"),
            "1:1: parse error: unary expression only allowed on expressions of type scalar or "
            "instant vector, got \"range vector\"");
  EXPECT_EQ(error_of("x[5m] + 1"),
            "1:1: parse error: binary expression must contain only scalar and instant vector "
            "types");
  EXPECT_EQ(error_of("sum by (a b) (x)"),
            "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or "
            "\")\"");
  EXPECT_EQ(error_of("x{a=~\"(\"}"),
            "1:3: parse error: error parsing regexp: missing closing ): `^(?:()$`");
  EXPECT_EQ(error_of(""), "1:1: parse error: no expression found in input");
  EXPECT_EQ(error_of("x\n+ bool y"),
            "2:1: parse error: bool modifier can only be used on comparison operators");
  EXPECT_EQ(error_of("x{a=\"\\q\"}"), "1:5: parse error: invalid syntax");
}

TEST(PromqlParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  deep += "1" + std::string(100000, ')');
  EXPECT_EQ(error_of(deep), "1:1001: parse error: expression nesting exceeds 1000 levels");
  std::string minus(100000, '-');
  minus += "1";
  EXPECT_EQ(error_of(minus), "1:1001: parse error: expression nesting exceeds 1000 levels");
  std::string ok(999, '(');
  ok += "1" + std::string(999, ')');
  EXPECT_EQ(print(ok).substr(0, 3), "(((");
}

// `n` terms joined by `op`.
std::string chain(std::string_view term, std::string_view op, int n) {
  std::string out(term);
  for (int i = 1; i < n; ++i) out.append(op).append(term);
  return out;
}
// `open` n times, `middle`, `close` n times.
std::string nest(std::string_view open, std::string_view middle, std::string_view close, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += open;
  out += middle;
  for (int i = 0; i < n; ++i) out += close;
  return out;
}

// Issue 11 item 1: a chain of binary operators is built by a loop, not by recursion, so only
// the tree-height bound stops `1+1+...` (7,000 terms overflowed the evaluator's stack; 100,000
// took over a minute in a quadratic type check). Every construct answers a parse error.
TEST(PromqlParserTest, BinaryChainsAreBoundedByTreeHeight) {
  // The 1000th `+` would make the tree 1001 levels high: column 2000.
  EXPECT_EQ(error_of(chain("1", "+", 7000)),
            "1:2000: parse error: expression nesting exceeds 1000 levels");
  EXPECT_EQ(error_of(chain("1", "+", 100000)),
            "1:2000: parse error: expression nesting exceeds 1000 levels");
  // `good and ` is 9 bytes; the 1000th `and` starts at byte 9 * 999 + 5.
  EXPECT_EQ(error_of(chain("good", " and ", 10000)),
            "1:8997: parse error: expression nesting exceeds 1000 levels");
  EXPECT_EQ(error_of(chain("a", " or ", 5000)).substr(0, 7), "1:4998:");
  // Right-associative `^` recurses: bounded by the parser's depth.
  EXPECT_NE(error_of(chain("2", "^", 5000)).find("expression nesting exceeds 1000 levels"),
            std::string::npos);
  // At the bound: 1000 levels parse, print and keep the scalar type.
  auto at_bound = parse_promql(chain("1", "+", 1000));
  ASSERT_TRUE(at_bound.has_value()) << at_bound.error().message;
  EXPECT_EQ((*at_bound)->height, 1000u);
  EXPECT_EQ((*at_bound)->type(), ValueType::kScalar);
  EXPECT_EQ(to_string(**at_bound), chain("1", " + ", 1000));
  auto vectors = parse_promql(chain("x", " / ", 1000));
  ASSERT_TRUE(vectors.has_value());
  EXPECT_EQ((*vectors)->type(), ValueType::kVector);
}

TEST(PromqlParserTest, EveryNestingConstructIsBounded) {
  const std::string want = "expression nesting exceeds 1000 levels";
  for (const std::string& q : {
           nest("abs(", "x", ")", 5000),
           nest("sum(", "x", ")", 5000),
           nest("sum by (a) (", "x", ")", 5000),
           nest("topk(1, ", "x", ")", 5000),
           nest("-(", "1", ")", 100000),
           nest("-(", "x", ")", 5000),
           nest("+", "x", "", 5000),
           nest("(", "x", ")", 5000),
           nest("clamp(", "x", ", 1, 2)", 5000),
           nest("label_replace(", "x", R"q(, "a", "$1", "b", "(.*)"))q", 5000),
           nest("scalar(", "x", ")", 2000),
           nest("vector(", "1", ")", 2000),
           nest("histogram_quantile(0.9, ", "x", ")", 5000),
           nest("rate(x[5m]) + (", "x", ")", 5000),
           nest("x + on(a) group_left(b) (", "x", ")", 5000),
           nest("1 + (", "1", ")", 5000),
       }) {
    EXPECT_NE(error_of(q).find(want), std::string::npos) << q.substr(0, 40) << ": " << error_of(q);
  }
  // One level below the bound still parses (the innermost selector is level 1000).
  EXPECT_TRUE(parse_promql(nest("abs(", "x", ")", 999)).has_value());
  EXPECT_TRUE(parse_promql(nest("sum(", "x", ")", 999)).has_value());
  EXPECT_TRUE(parse_promql(nest("-(", "x", ")", 499)).has_value());
  // Subqueries are not supported at all: a clear error, not a crash.
  EXPECT_EQ(error_of(nest("max_over_time(", "x[5m:1m]", ")", 3000)),
            "1:14001: parse error: expression nesting exceeds 1000 levels");
  EXPECT_EQ(error_of("max_over_time(x[5m:1m])"), "1:16: parse error: subqueries are not supported");
}

TEST(PromqlParserTest, QuerySizeIsBounded) {
  // Matchers, label names and expressions count against one budget of 10,000 elements.
  std::string matchers = "x{" + chain("a=\"1\"", ",", 20000) + "}";
  std::string error = error_of(matchers);
  EXPECT_NE(error.find("parse error: query has more than 10000 expressions, label matchers and "
                       "label names"),
            std::string::npos)
      << error;
  EXPECT_NE(error_of("sum by (" + chain("a", ",", 20000) + ") (x)").find("more than 10000"),
            std::string::npos);
  EXPECT_NE(error_of("x + on(" + chain("a", ",", 20000) + ") x").find("more than 10000"),
            std::string::npos);
  // Wide but shallow: 600 groups of 20 terms is 24,000 elements, 600 levels.
  std::string wide = chain("(" + chain("1", "+", 20) + ")", "+", 600);
  EXPECT_NE(error_of(wide).find("more than 10000"), std::string::npos);
  EXPECT_TRUE(parse_promql("x{" + chain("a=\"1\"", ",", 9000) + "}").has_value());
}

TEST(PromqlParserTest, StringsUseGoEscapes) {
  auto str = [](std::string_view q) {
    auto e = parse_promql(q);
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message);
    return static_cast<const StringLiteral&>(**e).value;
  };
  EXPECT_EQ(str(R"("a\"b\n\t\\")"), "a\"b\n\t\\");
  EXPECT_EQ(str(R"('it\'s')"), "it's");
  EXPECT_EQ(str(R"(`raw\n`)"), "raw\\n");
  EXPECT_EQ(str(R"("\x41\u00e9\101")"),
            "A\xc3\xa9"
            "A");
}

TEST(PromqlParserTest, KeywordsAsLabelNames) {
  EXPECT_EQ(print("sum by (on, group, bool) (x{by=\"1\",offset=\"2\"})"),
            "sum by (on, group, bool) (x{by=\"1\",offset=\"2\"})");
}

TEST(PromqlParserTest, SeriesSelectors) {
  auto m = parse_series_selector("up{job=~\"a|b\"}");
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[1].to_string(), "__name__=\"up\"");
  EXPECT_FALSE(parse_series_selector("sum(up)").has_value());
  EXPECT_FALSE(parse_series_selector("up offset 5m").has_value());
}

TEST(PromqlParserTest, FunctionTableIsSortedAndComplete) {
  for (const char* f : {"rate",
                        "irate",
                        "increase",
                        "delta",
                        "idelta",
                        "deriv",
                        "avg_over_time",
                        "min_over_time",
                        "max_over_time",
                        "sum_over_time",
                        "count_over_time",
                        "last_over_time",
                        "quantile_over_time",
                        "histogram_quantile",
                        "clamp",
                        "clamp_min",
                        "clamp_max",
                        "abs",
                        "ceil",
                        "floor",
                        "round",
                        "scalar",
                        "vector",
                        "time",
                        "timestamp",
                        "label_replace",
                        "absent",
                        "label_join",
                        "sort",
                        "sort_desc",
                        "sqrt",
                        "exp",
                        "ln",
                        "log2",
                        "log10",
                        "sgn",
                        "changes",
                        "resets",
                        "predict_linear",
                        "stddev_over_time",
                        "stdvar_over_time",
                        "present_over_time",
                        "pi"}) {
    EXPECT_NE(find_function(f), nullptr) << f;
  }
  EXPECT_EQ(find_function("holt_winters"), nullptr);
}

// One table serves the parser and the engine: every row has the implementation its shape needs,
// range functions take exactly one range vector, and names are sorted and unique (find_function
// searches by bisection).
TEST(FunctionTableTest, EveryFunctionHasAnImplementationOfItsShape) {
  std::string_view previous;
  for (const FunctionSpec& f : all_functions()) {
    EXPECT_LT(previous, f.name);
    previous = f.name;
    EXPECT_EQ(find_function(f.name), &f);
    int matrices =
        static_cast<int>(std::count(f.arg_types.begin(), f.arg_types.end(), ValueType::kMatrix));
    switch (f.shape) {
      case FunctionShape::kElementwise:
        EXPECT_NE(f.elementwise, nullptr) << f.name;
        ASSERT_FALSE(f.arg_types.empty()) << f.name;
        EXPECT_EQ(f.arg_types[0], ValueType::kVector) << f.name;
        EXPECT_EQ(matrices, 0) << f.name;
        break;
      case FunctionShape::kRange:
        EXPECT_NE(f.range, nullptr) << f.name;
        EXPECT_EQ(matrices, 1) << f.name;
        break;
      case FunctionShape::kVector:
        EXPECT_NE(f.vector_op, VectorOp::kNone) << f.name;
        EXPECT_EQ(matrices, 0) << f.name;
        break;
    }
  }
  EXPECT_EQ(all_functions().size(), 43u);
}

}  // namespace
}  // namespace llmscale::prom
