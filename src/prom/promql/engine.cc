// PromQL evaluation, after prometheus/promql/engine.go and functions.go (v2.42): selectors,
// aggregations, binary operators with vector matching, functions.
#include "prom/promql/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <re2/re2.h>

#include "core/clock.h"
#include "core/strings.h"
#include "prom/exposition/float_text.h"
#include "prom/promql/functions.h"
#include "prom/promql/parser.h"
#include "prom/tsdb/matcher.h"

namespace llmscale::prom {
namespace {

// ---------------------------------------------------------------------------------------------
// Values during evaluation.

struct Sample {
  Labels metric;
  double v = 0;
  std::int64_t t = 0;  // the sample's own time for raw selector output, else the step time
};
using Vector = std::vector<Sample>;

// A range vector argument: one window per series, evaluated where a function consumes it.
struct Window {
  const Labels* metric;
  const Labels* metric_without_name;
  std::vector<SamplePoint> points;
};

using Value = std::variant<double, std::string, Vector>;

struct EvalError {
  core::ErrorCode code;
  std::string message;
};

[[noreturn]] void execution_error(std::string message) {
  throw EvalError{core::ErrorCode::kFailedPrecondition, std::move(message)};
}

Labels drop_metric_name(const Labels& l) {
  if (!l.has(kMetricNameLabel)) return l;
  std::vector<Label> kept;
  for (Label label : l) {
    if (label.name != kMetricNameLabel) kept.push_back(label);
  }
  return Labels::from_sorted(kept);
}

// Prometheus: "vector cannot contain metrics with the same labelset".
void check_unique(const Vector& v) {
  if (v.size() < 2) return;
  std::vector<std::string_view> keys;
  keys.reserve(v.size());
  for (const Sample& s : v) keys.push_back(s.metric.data());
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
    execution_error("vector cannot contain metrics with the same labelset");
  }
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Bucket {
  double upper;
  double count;
};

// Prometheus bucketQuantile (with coalesceBuckets and ensureMonotonic).
double bucket_quantile(double q, std::vector<Bucket>& buckets) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(q)) return nan;
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::stable_sort(buckets.begin(), buckets.end(),
                   [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
  if (!(std::isinf(buckets.back().upper) && buckets.back().upper > 0)) return nan;
  // coalesceBuckets
  std::vector<Bucket> merged;
  for (const Bucket& b : buckets) {
    if (!merged.empty() && merged.back().upper == b.upper) {
      merged.back().count += b.count;
    } else {
      merged.push_back(b);
    }
  }
  // ensureMonotonic
  double max = merged[0].count;
  for (std::size_t i = 1; i < merged.size(); ++i) {
    if (merged[i].count > max) {
      max = merged[i].count;
    } else if (merged[i].count < max) {
      merged[i].count = max;
    }
  }
  if (merged.size() < 2) return nan;
  double observations = merged.back().count;
  if (observations == 0) return nan;
  double rank = q * observations;
  std::size_t b =
      std::lower_bound(merged.begin(), merged.end() - 1, rank,
                       [](const Bucket& bucket, double r) { return bucket.count < r; }) -
      merged.begin();
  if (b == merged.size() - 1) return merged[merged.size() - 2].upper;
  if (b == 0 && merged[0].upper <= 0) return merged[0].upper;
  double bucket_start = 0;
  double bucket_end = merged[b].upper;
  double count = merged[b].count;
  if (b > 0) {
    bucket_start = merged[b - 1].upper;
    count -= merged[b - 1].count;
    rank -= merged[b - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

// Go container/heap over a vector with a Less function (topk/bottomk keep Prometheus' choice
// among equal values for a given input order).
template <class Less>
void heap_up(std::vector<Sample>& h, std::size_t j, Less less) {
  while (true) {
    if (j == 0) break;
    std::size_t i = (j - 1) / 2;
    if (i == j || !less(h[j], h[i])) break;
    std::swap(h[i], h[j]);
    j = i;
  }
}
template <class Less>
void heap_down(std::vector<Sample>& h, std::size_t i0, std::size_t n, Less less) {
  std::size_t i = i0;
  while (true) {
    std::size_t j1 = 2 * i + 1;
    if (j1 >= n) break;
    std::size_t j = j1;
    if (std::size_t j2 = j1 + 1; j2 < n && less(h[j2], h[j1])) j = j2;
    if (!less(h[j], h[i])) break;
    std::swap(h[i], h[j]);
    i = j;
  }
}
template <class Less>
void heap_push(std::vector<Sample>& h, Sample s, Less less) {
  h.push_back(std::move(s));
  heap_up(h, h.size() - 1, less);
}
template <class Less>
void heap_pop(std::vector<Sample>& h, Less less) {
  std::size_t n = h.size() - 1;
  std::swap(h[0], h[n]);
  heap_down(h, 0, n, less);
  h.pop_back();
}

// ---------------------------------------------------------------------------------------------

std::string label_signature(const Labels& l, const std::vector<std::string>& names, bool on) {
  std::string sig;
  for (Label label : l) {
    bool listed = std::find(names.begin(), names.end(), label.name) != names.end();
    bool include = on ? listed : !listed && label.name != kMetricNameLabel;
    if (!include) continue;
    sig.append(label.name);
    sig.push_back('\xff');
    sig.append(label.value);
    sig.push_back('\xff');
  }
  return sig;
}

bool drops_metric_name(BinaryOp op) {
  return op == BinaryOp::kAdd || op == BinaryOp::kSub || op == BinaryOp::kMul ||
         op == BinaryOp::kDiv || op == BinaryOp::kPow || op == BinaryOp::kMod;
}

double scalar_binop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd: return l + r;
    case BinaryOp::kSub: return l - r;
    case BinaryOp::kMul: return l * r;
    case BinaryOp::kDiv: return l / r;
    case BinaryOp::kPow: return go_pow(l, r);
    case BinaryOp::kMod: return std::fmod(l, r);
    case BinaryOp::kEql: return l == r ? 1 : 0;
    case BinaryOp::kNeq: return l != r ? 1 : 0;
    case BinaryOp::kGtr: return l > r ? 1 : 0;
    case BinaryOp::kLss: return l < r ? 1 : 0;
    case BinaryOp::kGte: return l >= r ? 1 : 0;
    case BinaryOp::kLte: return l <= r ? 1 : 0;
    case BinaryOp::kAtan2: return std::atan2(l, r);
    default: break;
  }
  execution_error("operator not allowed for scalar operations");
}

// vectorElemBinop: value and whether to keep the element.
std::pair<double, bool> elem_binop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kEql: return {l, l == r};
    case BinaryOp::kNeq: return {l, l != r};
    case BinaryOp::kGtr: return {l, l > r};
    case BinaryOp::kLss: return {l, l < r};
    case BinaryOp::kGte: return {l, l >= r};
    case BinaryOp::kLte: return {l, l <= r};
    default: return {scalar_binop(op, l, r), true};
  }
}

const Expr& unwrap_parens(const Expr& e) {
  const Expr* p = &e;
  while (p->kind == Expr::Kind::kParen) p = static_cast<const ParenExpr*>(p)->expr.get();
  return *p;
}

// ---------------------------------------------------------------------------------------------

class Evaluator {
 public:
  Evaluator(const Storage& storage, const QueryOptions& options, std::int64_t start,
            std::int64_t end, std::int64_t step)
      : storage_(storage), options_(options), start_(start), end_(end), step_(step) {
    lookback_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(options.lookback_delta).count();
    if (options.timeout.count() > 0 && options.clock != nullptr) {
      deadline_ = options.clock->monotonic_now() + options.timeout;
      has_deadline_ = true;
    }
  }

  void preload(const Expr& e, std::int64_t range_ms = 0) {
    switch (e.kind) {
      case Expr::Kind::kVectorSelector: {
        const auto& vs = static_cast<const VectorSelector&>(e);
        SelectorData data;
        std::int64_t maxt = end_ - vs.offset_ms;
        if (range_ms == 0 && start_ == end_) {
          data.series = storage_.select_latest(vs.matchers, maxt - lookback_ms_, maxt);
        } else {
          std::int64_t mint = start_ - vs.offset_ms - (range_ms > 0 ? range_ms : lookback_ms_);
          data.series = storage_.select(vs.matchers, mint, maxt);
        }
        for (const auto& s : data.series) loaded_samples_ += s.samples.size();
        if (loaded_samples_ > options_.max_samples) {
          throw EvalError{core::ErrorCode::kResourceExhausted,
                          "query processing would load too many samples into memory in query "
                          "execution"};
        }
        check_deadline();
        selectors_.emplace(&vs, std::move(data));
        return;
      }
      case Expr::Kind::kMatrixSelector: {
        const auto& ms = static_cast<const MatrixSelector&>(e);
        preload(*ms.selector, ms.range_ms);
        return;
      }
      case Expr::Kind::kAggregate: {
        const auto& a = static_cast<const AggregateExpr&>(e);
        if (a.param) preload(*a.param);
        preload(*a.expr);
        return;
      }
      case Expr::Kind::kBinary: {
        const auto& b = static_cast<const BinaryExpr&>(e);
        preload(*b.lhs);
        preload(*b.rhs);
        return;
      }
      case Expr::Kind::kUnary: preload(*static_cast<const UnaryExpr&>(e).expr); return;
      case Expr::Kind::kParen: preload(*static_cast<const ParenExpr&>(e).expr); return;
      case Expr::Kind::kCall: {
        const auto& c = static_cast<const Call&>(e);
        for (const auto& a : c.args) preload(*a);
        if (c.func->vector_op == VectorOp::kLabelReplace) prepare_label_replace(c);
        return;
      }
      case Expr::Kind::kNumber:
      case Expr::Kind::kString: return;
    }
  }

  void check_deadline() const {
    if (!has_deadline_) return;
    if (options_.clock->monotonic_now() > deadline_) {
      throw EvalError{core::ErrorCode::kDeadlineExceeded,
                      "query timed out in expression evaluation"};
    }
  }

  // Counts `units` of work against options.max_work, and checks the deadline every
  // kDeadlineCheckEvery units, so one long step (a huge expression) still times out.
  void charge(std::size_t units) {
    work_ += units;
    if (work_ > options_.max_work) {
      throw EvalError{core::ErrorCode::kResourceExhausted,
                      "query processing would touch too many samples and expressions in query "
                      "execution (limit " +
                          std::to_string(options_.max_work) + ")"};
    }
    if (work_ >= next_deadline_check_) {
      next_deadline_check_ = work_ + kDeadlineCheckEvery;
      check_deadline();
    }
  }

  // Every node evaluation goes through here: one unit for the node, one per sample it returns.
  // Recursion depth is the tree's height, bounded by the parser (kMaxExprHeight).
  Value eval(const Expr& e, std::int64_t ts) {
    charge(1);
    Value v = eval_node(e, ts);
    if (const auto* vec = std::get_if<Vector>(&v)) charge(vec->size());
    return v;
  }

 private:
  Value eval_node(const Expr& e, std::int64_t ts) {
    switch (e.kind) {
      case Expr::Kind::kNumber: return static_cast<const NumberLiteral&>(e).value;
      case Expr::Kind::kString: return static_cast<const StringLiteral&>(e).value;
      case Expr::Kind::kParen: return eval(*static_cast<const ParenExpr&>(e).expr, ts);
      case Expr::Kind::kVectorSelector:
        return eval_selector(static_cast<const VectorSelector&>(e), ts);
      case Expr::Kind::kMatrixSelector:
        execution_error("range vector cannot be evaluated as an instant value");
      case Expr::Kind::kUnary: return eval_unary(static_cast<const UnaryExpr&>(e), ts);
      case Expr::Kind::kBinary: return eval_binary(static_cast<const BinaryExpr&>(e), ts);
      case Expr::Kind::kAggregate: return eval_aggregate(static_cast<const AggregateExpr&>(e), ts);
      case Expr::Kind::kCall: return eval_call(static_cast<const Call&>(e), ts);
    }
    execution_error("unhandled expression");
  }

 public:
  // The raw samples of a range selector at `ts` (instant query of `x[5m]`).
  std::vector<MatrixSeries> eval_matrix(const MatrixSelector& ms, std::int64_t ts) {
    std::vector<MatrixSeries> out;
    for (Window& w : windows(ms, ts)) {
      out.push_back(MatrixSeries{*w.metric, std::move(w.points)});
    }
    return out;
  }

 private:
  struct SelectorData {
    std::vector<SeriesSamples> series;
    std::vector<Labels> without_name;  // filled on first use
  };

  const SelectorData& data_for(const VectorSelector& vs) { return selectors_.at(&vs); }
  const std::vector<Labels>& names_dropped(const VectorSelector& vs) {
    SelectorData& d = selectors_.at(&vs);
    if (d.without_name.size() != d.series.size()) {
      d.without_name.clear();
      for (const auto& s : d.series) d.without_name.push_back(drop_metric_name(s.labels));
    }
    return d.without_name;
  }

  Vector eval_selector(const VectorSelector& vs, std::int64_t ts) {
    const SelectorData& d = data_for(vs);
    std::int64_t ref = ts - vs.offset_ms;
    Vector out;
    out.reserve(d.series.size());
    for (const SeriesSamples& s : d.series) {
      const auto& pts = s.samples;
      auto it = std::upper_bound(pts.begin(), pts.end(), ref,
                                 [](std::int64_t t, const SamplePoint& p) { return t < p.t; });
      if (it == pts.begin()) continue;
      const SamplePoint& p = *(it - 1);
      if (p.t < ref - lookback_ms_ || is_stale_nan(p.v)) continue;
      out.push_back(Sample{s.labels, p.v, p.t});
    }
    return out;
  }

  std::vector<Window> windows(const MatrixSelector& ms, std::int64_t ts) {
    const VectorSelector& vs = *ms.selector;
    const SelectorData& d = data_for(vs);
    const std::vector<Labels>& dropped = names_dropped(vs);
    std::int64_t maxt = ts - vs.offset_ms;
    std::int64_t mint = maxt - ms.range_ms;
    std::vector<Window> out;
    for (std::size_t i = 0; i < d.series.size(); ++i) {
      const auto& pts = d.series[i].samples;
      auto lo = std::lower_bound(pts.begin(), pts.end(), mint,
                                 [](const SamplePoint& p, std::int64_t t) { return p.t < t; });
      auto hi = std::upper_bound(lo, pts.end(), maxt,
                                 [](std::int64_t t, const SamplePoint& p) { return t < p.t; });
      charge(static_cast<std::size_t>(hi - lo) + 1);
      Window w{&d.series[i].labels, &dropped[i], {}};
      for (auto it = lo; it != hi; ++it) {
        if (!is_stale_nan(it->v)) w.points.push_back(*it);
      }
      if (!w.points.empty()) out.push_back(std::move(w));
    }
    return out;
  }

  static double scalar_of(const Value& v) { return std::get<double>(v); }

  Vector vector_of(const Expr& e, std::int64_t ts) { return std::get<Vector>(eval(e, ts)); }

  Value eval_unary(const UnaryExpr& u, std::int64_t ts) {
    Value v = eval(*u.expr, ts);
    if (auto* d = std::get_if<double>(&v)) return u.negate ? -*d : *d;
    Vector vec = std::get<Vector>(std::move(v));
    if (u.negate) {
      for (Sample& s : vec) {
        s.metric = drop_metric_name(s.metric);
        s.v = -s.v;
        s.t = ts;
      }
      check_unique(vec);
    }
    return vec;
  }

  Value eval_binary(const BinaryExpr& b, std::int64_t ts) {
    Value lv = eval(*b.lhs, ts);
    Value rv = eval(*b.rhs, ts);
    bool ls = std::holds_alternative<double>(lv);
    bool rs = std::holds_alternative<double>(rv);
    if (ls && rs) {
      return scalar_binop(b.op, scalar_of(lv), scalar_of(rv));
    }
    if (ls || rs) {
      double scalar = ls ? scalar_of(lv) : scalar_of(rv);
      Vector vec = std::get<Vector>(ls ? std::move(rv) : std::move(lv));
      Vector out = vector_scalar_binop(b.op, std::move(vec), scalar, /*swap=*/ls, b.return_bool);
      for (Sample& s : out) s.t = ts;
      check_unique(out);
      return out;
    }
    Vector l = std::get<Vector>(std::move(lv));
    Vector r = std::get<Vector>(std::move(rv));
    const VectorMatching& m = *b.matching;
    Vector out;
    switch (b.op) {
      case BinaryOp::kAnd: out = vector_and(std::move(l), r, m); break;
      case BinaryOp::kOr: out = vector_or(std::move(l), std::move(r), m); break;
      case BinaryOp::kUnless: out = vector_unless(std::move(l), r, m); break;
      default: out = vector_binop(b.op, std::move(l), std::move(r), m, b.return_bool); break;
    }
    for (Sample& s : out) s.t = ts;
    check_unique(out);
    return out;
  }

  Vector vector_scalar_binop(BinaryOp op, Vector vec, double scalar, bool swap, bool return_bool) {
    Vector out;
    out.reserve(vec.size());
    for (Sample& s : vec) {
      double lv = s.v, rv = scalar;
      if (swap) std::swap(lv, rv);
      auto [value, keep] = elem_binop(op, lv, rv);
      // Comparisons with the scalar on the left keep the vector's value.
      if (is_comparison(op) && swap) value = rv;
      if (return_bool) {
        value = keep ? 1.0 : 0.0;
        keep = true;
      }
      if (!keep) continue;
      s.v = value;
      if (drops_metric_name(op) || return_bool) s.metric = drop_metric_name(s.metric);
      out.push_back(std::move(s));
    }
    return out;
  }

  static Vector vector_and(Vector l, const Vector& r, const VectorMatching& m) {
    if (l.empty() || r.empty()) return {};
    std::unordered_set<std::string> right;
    for (const Sample& s : r) right.insert(label_signature(s.metric, m.matching_labels, m.on));
    Vector out;
    for (Sample& s : l) {
      if (right.count(label_signature(s.metric, m.matching_labels, m.on)))
        out.push_back(std::move(s));
    }
    return out;
  }

  static Vector vector_or(Vector l, Vector r, const VectorMatching& m) {
    if (l.empty()) return r;
    if (r.empty()) return l;
    std::unordered_set<std::string> left;
    for (const Sample& s : l) left.insert(label_signature(s.metric, m.matching_labels, m.on));
    Vector out = std::move(l);
    for (Sample& s : r) {
      if (!left.count(label_signature(s.metric, m.matching_labels, m.on)))
        out.push_back(std::move(s));
    }
    return out;
  }

  static Vector vector_unless(Vector l, const Vector& r, const VectorMatching& m) {
    if (l.empty() || r.empty()) return l;
    std::unordered_set<std::string> right;
    for (const Sample& s : r) right.insert(label_signature(s.metric, m.matching_labels, m.on));
    Vector out;
    for (Sample& s : l) {
      if (!right.count(label_signature(s.metric, m.matching_labels, m.on)))
        out.push_back(std::move(s));
    }
    return out;
  }

  Vector vector_binop(BinaryOp op, Vector lhs, Vector rhs, const VectorMatching& m,
                      bool return_bool) {
    if (lhs.empty() || rhs.empty()) return {};
    bool one_to_many = m.card == Cardinality::kOneToMany;
    if (one_to_many) std::swap(lhs, rhs);
    // rhs is the "one" side.
    std::unordered_map<std::string, std::size_t> right;
    for (std::size_t i = 0; i < rhs.size(); ++i) {
      std::string sig = label_signature(rhs[i].metric, m.matching_labels, m.on);
      auto [it, inserted] = right.emplace(std::move(sig), i);
      if (!inserted) {
        const Sample& dup = rhs[it->second];
        LabelsBuilder match_labels;
        for (Label l : rhs[i].metric) {
          bool listed = std::find(m.matching_labels.begin(), m.matching_labels.end(), l.name) !=
                        m.matching_labels.end();
          if (m.on ? listed : (!listed && l.name != kMetricNameLabel)) {
            match_labels.set(l.name, l.value);
          }
        }
        execution_error("found duplicate series for the match group " +
                        match_labels.labels().to_string() + " on the " +
                        (one_to_many ? "left" : "right") + " hand-side of the operation: [" +
                        rhs[i].metric.to_string() + ", " + dup.metric.to_string() +
                        "];many-to-many matching not allowed: matching labels must be unique on "
                        "one side");
      }
    }
    // Result metric cache and duplicate detection (matchedSigs).
    std::unordered_map<std::string, std::unordered_set<std::string>> matched;
    Vector out;
    for (Sample& ls : lhs) {
      std::string sig = label_signature(ls.metric, m.matching_labels, m.on);
      auto found = right.find(sig);
      if (found == right.end()) continue;
      const Sample& rs = rhs[found->second];
      double vl = ls.v, vr = rs.v;
      if (one_to_many) std::swap(vl, vr);
      auto [value, keep] = elem_binop(op, vl, vr);
      if (return_bool) {
        value = keep ? 1.0 : 0.0;
      } else if (!keep) {
        continue;
      }
      Labels metric = result_metric(ls.metric, rs.metric, op, m);
      if (return_bool) metric = drop_metric_name(metric);
      auto [entry, first] = matched.try_emplace(sig);
      if (m.card == Cardinality::kOneToOne) {
        if (!first) {
          execution_error(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
      } else if (!entry->second.insert(std::string(metric.data())).second) {
        execution_error("multiple matches for labels: grouping labels must ensure unique matches");
      }
      out.push_back(Sample{std::move(metric), value, 0});
    }
    return out;
  }

  static Labels result_metric(const Labels& lhs, const Labels& rhs, BinaryOp op,
                              const VectorMatching& m) {
    LabelsBuilder b(lhs);
    if (drops_metric_name(op)) b.del(kMetricNameLabel);
    if (m.card == Cardinality::kOneToOne) {
      if (m.on) {
        b.keep(m.matching_labels);
      } else {
        for (const auto& l : m.matching_labels) b.del(l);
      }
    }
    for (const auto& l : m.include) {
      std::string_view v = rhs.get(l);
      if (!v.empty()) {
        b.set(l, v);
      } else {
        b.del(l);
      }
    }
    return b.labels();
  }

  // ---- Aggregation ----

  struct Group {
    Labels labels;
    double value = 0;
    double mean = 0;
    std::int64_t count = 0;
    std::vector<Sample> heap;
    std::vector<double> values;
  };

  Value eval_aggregate(const AggregateExpr& a, std::int64_t ts) {
    double param = 0;
    std::string label_param;
    if (a.param) {
      Value p = eval(*a.param, ts);
      if (auto* d = std::get_if<double>(&p)) {
        param = *d;
      } else {
        label_param = std::get<std::string>(p);
      }
    }
    Vector in = vector_of(*a.expr, ts);
    Vector out = aggregate(a, param, label_param, in);
    for (Sample& s : out) s.t = ts;
    // Unique by construction: groups are keyed by their output labels.
    return out;
  }

  // The labels a group keeps, in name order (views into `metric`).
  static void group_labels(const Labels& metric, const std::vector<std::string>& grouping,
                           bool without, std::vector<Label>& out) {
    out.clear();
    for (Label l : metric) {
      bool listed = std::find(grouping.begin(), grouping.end(), l.name) != grouping.end();
      if (without ? (!listed && l.name != kMetricNameLabel) : listed) out.push_back(l);
    }
  }
  static void group_key(const std::vector<Label>& labels, std::string& key) {
    key.clear();
    for (const Label& l : labels) {
      key.append(l.name);
      key.push_back('\xff');
      key.append(l.value);
      key.push_back('\xff');
    }
  }

  Vector aggregate(const AggregateExpr& a, double param, const std::string& value_label,
                   const Vector& vec) {
    AggregateOp op = a.op;
    std::int64_t k = 0;
    if (op == AggregateOp::kTopK || op == AggregateOp::kBottomK) {
      if (!(param <= 9223372036854774784.0 && param >= -9223372036854775808.0)) {
        execution_error("Scalar value " + format_go_float(param) + " overflows int64");
      }
      k = static_cast<std::int64_t>(param);
      if (k < 1) return {};
    }
    std::vector<std::string> grouping = a.grouping;
    std::sort(grouping.begin(), grouping.end());
    if (op == AggregateOp::kCountValues) {
      if (!is_valid_label_name(value_label)) {
        execution_error("invalid label name " + core::go_quote(value_label));
      }
      if (!a.without) {
        grouping.push_back(value_label);
        std::sort(grouping.begin(), grouping.end());
      }
    }
    auto less_topk = [](const Sample& x, const Sample& y) {
      if (std::isnan(x.v)) return true;
      return x.v < y.v;
    };
    auto less_bottomk = [](const Sample& x, const Sample& y) {
      if (std::isnan(x.v)) return true;
      return x.v > y.v;
    };
    std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> index;
    index.reserve(vec.size());
    std::vector<Group> groups;
    std::vector<Label> kept;
    std::string key;
    for (const Sample& s : vec) {
      Labels metric = s.metric;
      if (op == AggregateOp::kCountValues) {
        LabelsBuilder b(metric);
        b.set(value_label, format_go_float_fixed(s.v));
        metric = b.labels();
      }
      group_labels(metric, grouping, a.without, kept);
      group_key(kept, key);
      auto it = index.find(std::string_view(key));
      bool inserted = it == index.end();
      if (inserted) it = index.emplace(key, groups.size()).first;
      if (inserted) {
        Group g;
        g.labels = Labels::from_sorted(kept);
        g.value = s.v;
        g.mean = s.v;
        g.count = 1;
        switch (op) {
          case AggregateOp::kStddev:
          case AggregateOp::kStdvar: g.value = 0; break;
          case AggregateOp::kTopK:
          case AggregateOp::kBottomK: g.heap.push_back(Sample{s.metric, s.v, 0}); break;
          case AggregateOp::kQuantile: g.values.push_back(s.v); break;
          case AggregateOp::kGroup: g.value = 1; break;
          default: break;
        }
        groups.push_back(std::move(g));
        continue;
      }
      Group& g = groups[it->second];
      switch (op) {
        case AggregateOp::kSum: g.value += s.v; break;
        case AggregateOp::kAvg: {
          ++g.count;
          if (std::isinf(g.mean)) {
            if (std::isinf(s.v) && (g.mean > 0) == (s.v > 0)) break;
            if (!std::isinf(s.v) && !std::isnan(s.v)) break;
          }
          double n = static_cast<double>(g.count);
          g.mean += s.v / n - g.mean / n;
          break;
        }
        case AggregateOp::kGroup: break;
        case AggregateOp::kMax:
          if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
          break;
        case AggregateOp::kMin:
          if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
          break;
        case AggregateOp::kCount:
        case AggregateOp::kCountValues: ++g.count; break;
        case AggregateOp::kStddev:
        case AggregateOp::kStdvar: {
          ++g.count;
          double delta = s.v - g.mean;
          g.mean += delta / static_cast<double>(g.count);
          g.value += delta * (s.v - g.mean);
          break;
        }
        case AggregateOp::kTopK:
          if (static_cast<std::int64_t>(g.heap.size()) < k || g.heap[0].v < s.v ||
              std::isnan(g.heap[0].v)) {
            if (static_cast<std::int64_t>(g.heap.size()) == k) {
              if (k == 1) {
                g.heap[0] = Sample{s.metric, s.v, 0};
                break;
              }
              heap_pop(g.heap, less_topk);
            }
            heap_push(g.heap, Sample{s.metric, s.v, 0}, less_topk);
          }
          break;
        case AggregateOp::kBottomK:
          if (static_cast<std::int64_t>(g.heap.size()) < k || g.heap[0].v > s.v ||
              std::isnan(g.heap[0].v)) {
            if (static_cast<std::int64_t>(g.heap.size()) == k) {
              if (k == 1) {
                g.heap[0] = Sample{s.metric, s.v, 0};
                break;
              }
              heap_pop(g.heap, less_bottomk);
            }
            heap_push(g.heap, Sample{s.metric, s.v, 0}, less_bottomk);
          }
          break;
        case AggregateOp::kQuantile: g.values.push_back(s.v); break;
      }
    }
    Vector out;
    for (Group& g : groups) {
      switch (op) {
        case AggregateOp::kAvg: g.value = g.mean; break;
        case AggregateOp::kCount:
        case AggregateOp::kCountValues: g.value = static_cast<double>(g.count); break;
        case AggregateOp::kStdvar: g.value = g.value / static_cast<double>(g.count); break;
        case AggregateOp::kStddev:
          g.value = std::sqrt(g.value / static_cast<double>(g.count));
          break;
        case AggregateOp::kTopK:
        case AggregateOp::kBottomK: {
          // Highest (topk) / lowest (bottomk) first; NaN last.
          bool top = op == AggregateOp::kTopK;
          std::stable_sort(g.heap.begin(), g.heap.end(), [top](const Sample& x, const Sample& y) {
            if (std::isnan(x.v)) return false;
            if (std::isnan(y.v)) return true;
            return top ? x.v > y.v : x.v < y.v;
          });
          for (Sample& s : g.heap) out.push_back(std::move(s));
          continue;
        }
        case AggregateOp::kQuantile: g.value = quantile(param, g.values); break;
        default: break;
      }
      out.push_back(Sample{std::move(g.labels), g.value, 0});
    }
    return out;
  }

  // ---- Functions ----

  struct ReplaceState {
    std::shared_ptr<const re2::RE2> regex;
    std::string error;
  };

  void prepare_label_replace(const Call& c) {
    ReplaceState st;
    const auto& regex = static_cast<const StringLiteral&>(unwrap_parens(*c.args[4])).value;
    const auto& dst = static_cast<const StringLiteral&>(unwrap_parens(*c.args[1])).value;
    auto compiled = compile_anchored_regex(regex);
    if (!compiled) {
      st.error = "invalid regular expression in label_replace(): " + regex;
    } else if (!is_valid_label_name(dst)) {
      st.error = "invalid destination label name in label_replace(): " + dst;
    } else {
      st.regex = *compiled;
    }
    replace_.emplace(&c, std::move(st));
  }

  static const std::string& string_arg(const Expr& e) {
    return static_cast<const StringLiteral&>(unwrap_parens(e)).value;
  }

  // Dispatch through the function table (promql_functions.h).
  Value eval_call(const Call& c, std::int64_t ts) {
    const FunctionSpec& f = *c.func;
    if (f.shape == FunctionShape::kRange) {
      // The range argument is a matrix selector (the parser's type check).
      std::size_t matrix_arg = 0;
      while (matrix_arg < c.args.size() &&
             unwrap_parens(*c.args[matrix_arg]).kind != Expr::Kind::kMatrixSelector) {
        ++matrix_arg;
      }
      if (matrix_arg == c.args.size())
        execution_error("expected a range vector in " + std::string(f.name));
      Vector out = eval_range_function(c, matrix_arg, ts);
      check_unique(out);
      return out;
    }
    if (f.shape == FunctionShape::kElementwise) {
      Vector in = vector_of(*c.args[0], ts);
      std::vector<double> scalars;
      for (std::size_t i = 1; i < c.args.size(); ++i) {
        scalars.push_back(std::get<double>(eval(*c.args[i], ts)));
      }
      Vector out;
      if (f.elementwise_valid != nullptr && !f.elementwise_valid(scalars)) return out;
      out.reserve(in.size());
      for (Sample& s : in) {
        out.push_back(Sample{drop_metric_name(s.metric), f.elementwise(s.v, scalars), ts});
      }
      check_unique(out);
      return out;
    }
    Vector out;
    switch (f.vector_op) {
      case VectorOp::kTime: return static_cast<double>(ts) / 1000;
      case VectorOp::kPi: return std::numbers::pi;
      case VectorOp::kVector:
        return Vector{Sample{Labels{}, std::get<double>(eval(*c.args[0], ts)), ts}};
      case VectorOp::kScalar: {
        Vector v = vector_of(*c.args[0], ts);
        return v.size() == 1 ? v[0].v : std::numeric_limits<double>::quiet_NaN();
      }
      case VectorOp::kTimestamp: {
        // A bare selector keeps its samples' own timestamps; anything else was evaluated at ts.
        const Expr& arg = unwrap_parens(*c.args[0]);
        Vector in = vector_of(arg, ts);
        for (Sample& s : in) {
          double t = arg.kind == Expr::Kind::kVectorSelector ? static_cast<double>(s.t) / 1000
                                                             : static_cast<double>(ts) / 1000;
          out.push_back(Sample{drop_metric_name(s.metric), t, ts});
        }
        break;
      }
      case VectorOp::kAbsent: {
        Vector in = vector_of(*c.args[0], ts);
        if (in.empty()) out.push_back(Sample{absent_labels(*c.args[0]), 1, ts});
        break;
      }
      case VectorOp::kHistogramQuantile: {
        double q = std::get<double>(eval(*c.args[0], ts));
        out = histogram_quantile(q, vector_of(*c.args[1], ts), ts);
        break;
      }
      case VectorOp::kLabelReplace: out = label_replace(c, vector_of(*c.args[0], ts), ts); break;
      case VectorOp::kLabelJoin: out = label_join(c, vector_of(*c.args[0], ts), ts); break;
      case VectorOp::kSort:
      case VectorOp::kSortDesc: {
        out = vector_of(*c.args[0], ts);
        bool desc = f.vector_op == VectorOp::kSortDesc;
        std::stable_sort(out.begin(), out.end(), [desc](const Sample& x, const Sample& y) {
          if (std::isnan(x.v)) return false;
          if (std::isnan(y.v)) return true;
          return desc ? x.v > y.v : x.v < y.v;
        });
        for (Sample& s : out) s.t = ts;
        break;
      }
      case VectorOp::kNone:
        execution_error("function " + std::string(f.name) + " is not implemented");
    }
    check_unique(out);
    return out;
  }

  // absent(): the equality matchers of a selector argument become the labels (minus
  // __name__); a label matched twice or by another matcher type is left out.
  static Labels absent_labels(const Expr& arg) {
    const Expr& e = unwrap_parens(arg);
    const VectorSelector* vs = nullptr;
    if (e.kind == Expr::Kind::kVectorSelector) vs = static_cast<const VectorSelector*>(&e);
    if (e.kind == Expr::Kind::kMatrixSelector) {
      vs = static_cast<const MatrixSelector*>(&e)->selector.get();
    }
    if (vs == nullptr) return {};
    LabelsBuilder b;
    std::vector<std::string> empty;
    for (const Matcher& m : vs->matchers) {
      if (m.name() == kMetricNameLabel) continue;
      if (m.type() == MatchType::kEqual && !b.has(m.name())) {
        b.set(m.name(), m.value());
      } else {
        empty.push_back(m.name());
      }
    }
    for (const auto& n : empty) b.del(n);
    return b.labels();
  }

  Vector histogram_quantile(double q, const Vector& in, std::int64_t ts) {
    struct HistogramGroup {
      Labels metric;
      std::vector<Bucket> buckets;
    };
    std::unordered_map<std::string, std::size_t> index;
    std::vector<HistogramGroup> groups;
    for (const Sample& s : in) {
      auto upper = parse_prom_float(s.metric.get(kBucketLabel));
      if (!upper) continue;  // no or malformed `le`: skipped, as Prometheus does
      std::string key = label_signature(s.metric, {std::string(kBucketLabel)}, false);
      key.append(s.metric.metric_name());
      auto [it, inserted] = index.try_emplace(std::move(key), groups.size());
      if (inserted) {
        LabelsBuilder b(s.metric);
        b.del(kMetricNameLabel);
        b.del(kBucketLabel);
        groups.push_back(HistogramGroup{b.labels(), {}});
      }
      groups[it->second].buckets.push_back(Bucket{*upper, s.v});
    }
    Vector out;
    for (HistogramGroup& g : groups) {
      out.push_back(Sample{std::move(g.metric), bucket_quantile(q, g.buckets), ts});
    }
    return out;
  }

  Vector label_replace(const Call& c, Vector in, std::int64_t ts) {
    const ReplaceState& st = replace_.at(&c);
    if (!st.error.empty()) execution_error(st.error);
    const std::string& dst = string_arg(*c.args[1]);
    const std::string& repl = string_arg(*c.args[2]);
    const std::string& src = string_arg(*c.args[3]);
    const re2::RE2& re = *st.regex;
    int ngroups = re.NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> sub(static_cast<std::size_t>(ngroups));
    Vector out;
    for (Sample& s : in) {
      std::string src_value(s.metric.get(src));
      re2::StringPiece input(src_value);
      if (re.Match(input, 0, input.size(), re2::RE2::ANCHOR_BOTH, sub.data(), ngroups)) {
        std::vector<std::string_view> groups;
        groups.reserve(sub.size());
        for (const auto& g : sub) {
          groups.push_back(g.data() == nullptr ? std::string_view()
                                               : std::string_view(g.data(), g.size()));
        }
        std::string res = expand_regex_template(re, repl, groups);
        LabelsBuilder b(s.metric);
        b.del(dst);
        if (!res.empty()) b.set(dst, res);
        s.metric = b.labels();
      }
      s.t = ts;
      out.push_back(std::move(s));
    }
    return out;
  }

  Vector label_join(const Call& c, Vector in, std::int64_t ts) {
    const std::string& dst = string_arg(*c.args[1]);
    const std::string& sep = string_arg(*c.args[2]);
    std::vector<std::string> srcs;
    for (std::size_t i = 3; i < c.args.size(); ++i) {
      const std::string& src = string_arg(*c.args[i]);
      if (!is_valid_label_name(src)) {
        execution_error("invalid source label name in label_join(): " + src);
      }
      srcs.push_back(src);
    }
    if (!is_valid_label_name(dst)) {
      execution_error("invalid destination label name in label_join(): " + dst);
    }
    Vector out;
    for (Sample& s : in) {
      std::string joined;
      for (std::size_t i = 0; i < srcs.size(); ++i) {
        if (i > 0) joined += sep;
        joined.append(s.metric.get(srcs[i]));
      }
      LabelsBuilder b(s.metric);
      b.set(dst, joined);
      s.metric = b.labels();
      s.t = ts;
      out.push_back(std::move(s));
    }
    return out;
  }

  Vector eval_range_function(const Call& c, std::size_t matrix_arg, std::int64_t ts) {
    const FunctionSpec& f = *c.func;
    std::vector<double> scalars(c.args.size(), 0);
    for (std::size_t i = 0; i < c.args.size(); ++i) {
      if (i != matrix_arg) scalars[i] = std::get<double>(eval(*c.args[i], ts));
    }
    const auto& ms = static_cast<const MatrixSelector&>(unwrap_parens(*c.args[matrix_arg]));
    std::int64_t range_end = ts - ms.selector->offset_ms;
    std::int64_t range_start = range_end - ms.range_ms;
    bool keep_name = f.keeps_name;
    Vector out;
    for (Window& w : windows(ms, ts)) {
      std::optional<double> v =
          f.range(RangeInput{w.points, range_start, range_end, ms.range_ms, ts, scalars});
      if (!v) continue;
      const Labels& metric = keep_name ? *w.metric : *w.metric_without_name;
      // Prometheus checks the whole output matrix: two input series that map to one output
      // label set are an error even at different steps.
      if (!keep_name && start_ != end_) track_range_output(c, metric, *w.metric);
      out.push_back(Sample{metric, *v, ts});
    }
    return out;
  }

  void track_range_output(const Call& c, const Labels& out, const Labels& source) {
    auto& seen = range_outputs_[&c];
    auto [it, inserted] = seen.try_emplace(std::string(out.data()), std::string(source.data()));
    if (!inserted && it->second != source.data()) {
      execution_error("vector cannot contain metrics with the same labelset");
    }
  }

  const Storage& storage_;
  const QueryOptions& options_;
  std::int64_t start_;
  std::int64_t end_;
  std::int64_t step_;
  std::int64_t lookback_ms_ = 0;
  static constexpr std::size_t kDeadlineCheckEvery = 4096;
  bool has_deadline_ = false;
  core::MonotonicTime deadline_;
  std::size_t loaded_samples_ = 0;
  std::size_t work_ = 0;
  std::size_t next_deadline_check_ = kDeadlineCheckEvery;
  std::unordered_map<const VectorSelector*, SelectorData> selectors_;
  std::unordered_map<const Call*, ReplaceState> replace_;
  std::unordered_map<const Call*, std::unordered_map<std::string, std::string>> range_outputs_;

 public:
  std::int64_t step() const { return step_; }
};

std::int64_t to_ms(core::Time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

core::Result<std::vector<std::vector<Matcher>>> parse_matchers(
    const std::vector<std::string>& match) {
  std::vector<std::vector<Matcher>> sets;
  for (const auto& m : match) {
    auto set = parse_series_selector(m);
    if (!set) return tl::unexpected(set.error());
    sets.push_back(std::move(*set));
  }
  return sets;
}

QueryResult vector_result(Vector v, std::int64_t t) {
  std::vector<VectorSample> out;
  out.reserve(v.size());
  for (Sample& s : v) out.push_back(VectorSample{std::move(s.metric), s.v, t});
  QueryResult r;
  r.value = std::move(out);
  return r;
}

}  // namespace

double go_pow(double x, double y) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto is_odd_int = [](double v) {
    if (std::fabs(v) >= 9007199254740992.0) return false;
    double i;
    double f = std::modf(v, &i);
    return f == 0 && std::fmod(i, 2) != 0;
  };
  if (y == 0 || x == 1) return 1;
  if (y == 1) return x;
  if (std::isnan(x) || std::isnan(y)) return nan;
  if (x == 0) {
    if (y < 0) return std::signbit(x) && is_odd_int(y) ? -inf : inf;
    if (y > 0) return std::signbit(x) && is_odd_int(y) ? x : 0;
  }
  if (std::isinf(y)) {
    if (x == -1) return 1;
    if ((std::fabs(x) < 1) == (y > 0)) return 0;
    return inf;
  }
  if (std::isinf(x)) {
    if (x < 0) return go_pow(1 / x, -y);
    if (y < 0) return 0;
    if (y > 0) return inf;
  }
  if (y == 0.5) return std::sqrt(x);
  if (y == -0.5) return 1 / std::sqrt(x);
  double yi;
  double yf = std::modf(std::fabs(y), &yi);
  if (yf != 0 && x < 0) return nan;
  if (yi >= 9223372036854775808.0) {
    if (x == -1) return 1;
    if ((std::fabs(x) < 1) == (y > 0)) return 0;
    return inf;
  }
  double a1 = 1.0;
  int ae = 0;
  if (yf != 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = std::exp(yf * std::log(x));
  }
  int xe = 0;
  double x1 = std::frexp(x, &xe);
  for (auto i = static_cast<std::int64_t>(yi); i != 0; i >>= 1) {
    if (xe < -(1 << 12) || (1 << 12) < xe) {
      ae += xe;
      break;
    }
    if ((i & 1) == 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe <<= 1;
    if (x1 < .5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return std::ldexp(a1, ae);
}

std::string_view result_type_name(ResultType type) {
  switch (type) {
    case ResultType::kVector: return "vector";
    case ResultType::kMatrix: return "matrix";
    case ResultType::kScalar: return "scalar";
    case ResultType::kString: return "string";
  }
  return "?";
}

std::string_view api_error_type(const core::Error& error) {
  switch (error.code) {
    case core::ErrorCode::kInvalidArgument: return "bad_data";
    case core::ErrorCode::kFailedPrecondition:
    case core::ErrorCode::kResourceExhausted: return "execution";
    case core::ErrorCode::kDeadlineExceeded: return "timeout";
    case core::ErrorCode::kCancelled: return "canceled";
    case core::ErrorCode::kUnavailable: return "unavailable";
    default: return "internal";
  }
}

int api_http_status(const core::Error& error) {
  switch (error.code) {
    case core::ErrorCode::kInvalidArgument: return 400;
    case core::ErrorCode::kFailedPrecondition:
    case core::ErrorCode::kResourceExhausted: return 422;
    case core::ErrorCode::kDeadlineExceeded:
    case core::ErrorCode::kCancelled:
    case core::ErrorCode::kUnavailable: return 503;
    default: return 500;
  }
}

namespace {

// A timeout is measured on the caller's clock (QueryOptions::clock); none given is a caller bug
// reported as a value, not a deadline silently ignored.
core::Status check_timeout_clock(const QueryOptions& options) {
  if (options.timeout.count() > 0 && options.clock == nullptr)
    return core::invalid_argument("query timeout without a clock to measure it on");
  return {};
}

}  // namespace

core::Result<QueryResult> LocalQueryEngine::instant_query_ms(std::string_view expr,
                                                             std::int64_t t_ms,
                                                             const QueryOptions& options) const {
  if (auto st = check_timeout_clock(options); !st) return tl::unexpected(st.error());
  auto parsed = parse_promql(expr);
  if (!parsed) return tl::unexpected(parsed.error());
  const Expr& root = **parsed;
  try {
    Evaluator ev(storage_, options, t_ms, t_ms, 1);
    ev.preload(root);
    const Expr& top = unwrap_parens(root);
    if (top.kind == Expr::Kind::kMatrixSelector) {
      QueryResult r;
      r.value = ev.eval_matrix(static_cast<const MatrixSelector&>(top), t_ms);
      return r;
    }
    Value v = ev.eval(root, t_ms);
    if (auto* d = std::get_if<double>(&v)) {
      QueryResult r;
      r.value = ScalarValue{t_ms, *d};
      return r;
    }
    if (auto* s = std::get_if<std::string>(&v)) {
      QueryResult r;
      r.value = StringValue{t_ms, *s};
      return r;
    }
    return vector_result(std::get<Vector>(std::move(v)), t_ms);
  } catch (const EvalError& e) {
    return core::make_error(e.code, e.message);
  }
}

core::Result<QueryResult> LocalQueryEngine::range_query_ms(std::string_view expr,
                                                           std::int64_t start_ms,
                                                           std::int64_t end_ms,
                                                           std::int64_t step_ms,
                                                           const QueryOptions& options) const {
  if (auto st = check_timeout_clock(options); !st) return tl::unexpected(st.error());
  if (step_ms <= 0) {
    return core::invalid_argument(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if (end_ms < start_ms)
    return core::invalid_argument("end timestamp must not be before start time");
  if ((end_ms - start_ms) / step_ms > 11000) {
    return core::invalid_argument(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)");
  }
  auto parsed = parse_promql(expr);
  if (!parsed) return tl::unexpected(parsed.error());
  const Expr& root = **parsed;
  ValueType type = root.type();
  if (type != ValueType::kVector && type != ValueType::kScalar) {
    return core::invalid_argument("invalid expression type " +
                                  core::go_quote(documented_type(type)) +
                                  " for range query, must be Scalar or instant Vector");
  }
  try {
    Evaluator ev(storage_, options, start_ms, end_ms, step_ms);
    ev.preload(root);
    std::unordered_map<std::string, std::size_t> index;
    std::vector<MatrixSeries> series;
    std::size_t points = 0;
    for (std::int64_t ts = start_ms; ts <= end_ms; ts += step_ms) {
      ev.check_deadline();
      Value v = ev.eval(root, ts);
      if (auto* d = std::get_if<double>(&v)) {
        if (series.empty()) series.push_back(MatrixSeries{Labels{}, {}});
        series[0].points.push_back(SamplePoint{ts, *d});
        ++points;
        continue;
      }
      for (Sample& s : std::get<Vector>(v)) {
        auto [it, inserted] = index.try_emplace(std::string(s.metric.data()), series.size());
        if (inserted) series.push_back(MatrixSeries{std::move(s.metric), {}});
        series[it->second].points.push_back(SamplePoint{ts, s.v});
        ++points;
      }
      if (points > options.max_samples) {
        return core::make_error(core::ErrorCode::kResourceExhausted,
                                "query processing would load too many samples into memory in "
                                "query execution");
      }
    }
    std::sort(series.begin(), series.end(),
              [](const MatrixSeries& a, const MatrixSeries& b) { return a.metric < b.metric; });
    QueryResult r;
    r.value = std::move(series);
    return r;
  } catch (const EvalError& e) {
    return core::make_error(e.code, e.message);
  }
}

core::Result<QueryResult> LocalQueryEngine::instant_query(std::string_view expr, core::Time time,
                                                          const QueryOptions& options) {
  return instant_query_ms(expr, to_ms(time), options);
}

core::Result<QueryResult> LocalQueryEngine::range_query(std::string_view expr, core::Time start,
                                                        core::Time end, core::Duration step,
                                                        const QueryOptions& options) {
  return range_query_ms(expr, to_ms(start), to_ms(end),
                        std::chrono::duration_cast<std::chrono::milliseconds>(step).count(),
                        options);
}

core::Result<std::vector<Labels>> LocalQueryEngine::series(const std::vector<std::string>& match,
                                                           core::Time start, core::Time end) {
  if (match.empty()) return core::invalid_argument("no match[] parameter provided");
  auto sets = parse_matchers(match);
  if (!sets) return tl::unexpected(sets.error());
  return storage_.series(*sets, to_ms(start), to_ms(end));
}

core::Result<std::vector<std::string>> LocalQueryEngine::label_names(
    const std::vector<std::string>& match, core::Time start, core::Time end) {
  auto sets = parse_matchers(match);
  if (!sets) return tl::unexpected(sets.error());
  return storage_.label_names(*sets, to_ms(start), to_ms(end));
}

core::Result<std::vector<std::string>> LocalQueryEngine::label_values(
    std::string_view name, const std::vector<std::string>& match, core::Time start,
    core::Time end) {
  if (!is_valid_label_name(name)) {
    return core::invalid_argument("invalid label name: " + core::go_quote(name));
  }
  auto sets = parse_matchers(match);
  if (!sets) return tl::unexpected(sets.error());
  return storage_.label_values(name, *sets, to_ms(start), to_ms(end));
}

}  // namespace llmscale::prom
