// Prometheus API JSON: a hand-written encoder (exact number and string forms, no DOM) and an
// nlohmann-based decoder for answers from remote servers.
#include "prom/api/json.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/strings.h"
#include "prom/exposition/float_text.h"

namespace llmscale::prom {

void append_json_string(std::string& out, std::string_view s) {
  core::append_go_json_string(out, s, core::GoJsonEscapes::kBeforeGo122);
}

void append_json_labels(std::string& out, const Labels& labels) {
  out.push_back('{');
  bool first = true;
  for (Label l : labels) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, l.name);
    out.push_back(':');
    append_json_string(out, l.value);
  }
  out.push_back('}');
}

void append_point_value(std::string& out, double v) {
  out.push_back('"');
  double abs = std::fabs(v);
  if (abs != 0 && std::isfinite(v) && (abs < 1e-6 || abs >= 1e21)) {
    out += format_go_float(v);  // 'g' with shortest precision is 'e' in these ranges
  } else {
    out += format_go_float_fixed(v);
  }
  out.push_back('"');
}

void append_point_timestamp(std::string& out, std::int64_t t) {
  // Prometheus' marshalTimestamp: integer seconds, then the millisecond remainder as 3 digits.
  std::uint64_t magnitude =
      t < 0 ? 0 - static_cast<std::uint64_t>(t) : static_cast<std::uint64_t>(t);
  if (t < 0) out.push_back('-');
  out += std::to_string(magnitude / 1000);
  std::uint64_t fraction = magnitude % 1000;
  if (fraction != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03u", static_cast<unsigned>(fraction));
    out += buf;
  }
}

namespace {

void append_point(std::string& out, std::int64_t t, double v) {
  out.push_back('[');
  append_point_timestamp(out, t);
  out.push_back(',');
  append_point_value(out, v);
  out.push_back(']');
}

// json.Marshal(float64(t) / 1000).
std::string json_seconds(std::int64_t t) {
  return core::go_format_float(static_cast<double>(t) / 1000.0);
}

}  // namespace

std::string encode_query_data(const QueryResult& result) {
  std::string out = "{\"resultType\":\"";
  out += result_type_name(result.type());
  out += "\",\"result\":";
  switch (result.type()) {
    case ResultType::kVector: {
      out.push_back('[');
      bool first = true;
      for (const auto& s : result.vector()) {
        if (!first) out.push_back(',');
        first = false;
        out += "{\"metric\":";
        append_json_labels(out, s.metric);
        out += ",\"value\":";
        append_point(out, s.t, s.value);
        out.push_back('}');
      }
      out.push_back(']');
      break;
    }
    case ResultType::kMatrix: {
      out.push_back('[');
      bool first = true;
      for (const auto& series : result.matrix()) {
        if (!first) out.push_back(',');
        first = false;
        out += "{\"metric\":";
        append_json_labels(out, series.metric);
        out += ",\"values\":[";
        for (std::size_t i = 0; i < series.points.size(); ++i) {
          if (i > 0) out.push_back(',');
          append_point(out, series.points[i].t, series.points[i].v);
        }
        out += "]}";
      }
      out.push_back(']');
      break;
    }
    case ResultType::kScalar: {
      out.push_back('[');
      out += json_seconds(result.scalar().t);
      out += ",\"";
      out += format_go_float_fixed(result.scalar().value);
      out += "\"]";
      break;
    }
    case ResultType::kString: {
      out.push_back('[');
      out += json_seconds(result.string().t);
      out.push_back(',');
      append_json_string(out, result.string().value);
      out.push_back(']');
      break;
    }
  }
  out.push_back('}');
  return out;
}

std::string encode_success(std::string_view data_json, const std::vector<std::string>& warnings) {
  std::string out = "{\"status\":\"success\",\"data\":";
  out += data_json;
  if (!warnings.empty()) {
    out += ",\"warnings\":";
    out += encode_strings(warnings);
  }
  out.push_back('}');
  return out;
}

std::string encode_error(std::string_view error_type, std::string_view message) {
  std::string out = "{\"status\":\"error\",\"errorType\":";
  append_json_string(out, error_type);
  out += ",\"error\":";
  append_json_string(out, message);
  out.push_back('}');
  return out;
}

std::string encode_label_sets(const std::vector<Labels>& sets) {
  std::string out = "[";
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_labels(out, sets[i]);
  }
  out.push_back(']');
  return out;
}

std::string encode_strings(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_string(out, values[i]);
  }
  out.push_back(']');
  return out;
}

// ---- decoding ---------------------------------------------------------------------------------

core::ErrorCode error_code_for_api_type(std::string_view type) {
  if (type == "bad_data") return core::ErrorCode::kInvalidArgument;
  if (type == "execution") return core::ErrorCode::kFailedPrecondition;
  if (type == "timeout") return core::ErrorCode::kDeadlineExceeded;
  if (type == "canceled") return core::ErrorCode::kCancelled;
  if (type == "unavailable") return core::ErrorCode::kUnavailable;
  if (type == "not_found") return core::ErrorCode::kNotFound;
  return core::ErrorCode::kInternal;
}

namespace {

using Json = nlohmann::json;

tl::unexpected<core::Error> bad_answer(const std::string& what) {
  return core::make_error(core::ErrorCode::kUnavailable, "malformed Prometheus answer: " + what);
}

// The `data` member of a success envelope, or the error the envelope carries.
core::Result<Json> envelope_data(std::string_view body) {
  if (auto depth = core::check_json_depth(body); !depth) return bad_answer(depth.error().message);
  Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad_answer("not a JSON object");
  auto status = doc.find("status");
  if (status == doc.end() || !status->is_string()) return bad_answer("no status");
  if (*status == "error") {
    std::string type = doc.value("errorType", "");
    std::string message = doc.value("error", "");
    return core::make_error(error_code_for_api_type(type), message);
  }
  if (*status != "success") return bad_answer("status " + status->dump());
  auto data = doc.find("data");
  if (data == doc.end()) return bad_answer("no data");
  return *data;
}

core::Result<Labels> decode_labels(const Json& node) {
  if (!node.is_object()) return bad_answer("a label set is not an object");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->is_string()) return bad_answer("label " + it.key() + " is not a string");
    pairs.emplace_back(it.key(), it->get<std::string>());
  }
  return Labels::from_pairs(std::move(pairs));
}

core::Result<std::int64_t> decode_timestamp(const Json& node) {
  if (!node.is_number()) return bad_answer("a timestamp is not a number");
  return static_cast<std::int64_t>(std::llround(node.get<double>() * 1000.0));
}

core::Result<SamplePoint> decode_point(const Json& node) {
  if (!node.is_array() || node.size() != 2 || !node[1].is_string()) {
    return bad_answer("a point is not [time, \"value\"]");
  }
  auto t = decode_timestamp(node[0]);
  if (!t) return tl::unexpected(t.error());
  auto v = parse_prom_float(node[1].get<std::string>());
  if (!v) return bad_answer("value " + node[1].dump() + " is not a number");
  return SamplePoint{*t, *v};
}

}  // namespace

core::Result<QueryResult> decode_query_answer(std::string_view body) {
  auto data = envelope_data(body);
  if (!data) return tl::unexpected(data.error());
  if (!data->is_object()) return bad_answer("data is not an object");
  std::string type = data->value("resultType", "");
  auto result_it = data->find("result");
  if (result_it == data->end()) return bad_answer("no result");
  const Json& result = *result_it;
  QueryResult out;
  if (type == "vector" || type == "matrix") {
    if (!result.is_array()) return bad_answer("result is not a list");
    std::vector<VectorSample> vector;
    std::vector<MatrixSeries> matrix;
    for (const auto& item : result) {
      if (!item.is_object() || !item.contains("metric"))
        return bad_answer("a series has no metric");
      auto metric = decode_labels(item["metric"]);
      if (!metric) return tl::unexpected(metric.error());
      if (type == "vector") {
        if (!item.contains("value")) {
          return bad_answer("a vector sample has no value (native histograms are not supported)");
        }
        auto point = decode_point(item["value"]);
        if (!point) return tl::unexpected(point.error());
        vector.push_back(VectorSample{std::move(*metric), point->v, point->t});
      } else {
        MatrixSeries series{std::move(*metric), {}};
        if (!item.contains("values") || !item["values"].is_array()) {
          return bad_answer("a matrix series has no values (native histograms are not supported)");
        }
        for (const auto& p : item["values"]) {
          auto point = decode_point(p);
          if (!point) return tl::unexpected(point.error());
          series.points.push_back(*point);
        }
        matrix.push_back(std::move(series));
      }
    }
    if (type == "vector") {
      out.value = std::move(vector);
    } else {
      out.value = std::move(matrix);
    }
  } else if (type == "scalar") {
    auto point = decode_point(result);
    if (!point) return tl::unexpected(point.error());
    out.value = ScalarValue{point->t, point->v};
  } else if (type == "string") {
    if (!result.is_array() || result.size() != 2 || !result[1].is_string()) {
      return bad_answer("a string result is not [time, \"text\"]");
    }
    auto t = decode_timestamp(result[0]);
    if (!t) return tl::unexpected(t.error());
    out.value = StringValue{*t, result[1].get<std::string>()};
  } else {
    return bad_answer("unknown resultType " + core::go_quote(type));
  }
  return out;
}

core::Result<std::vector<Labels>> decode_series_answer(std::string_view body) {
  auto data = envelope_data(body);
  if (!data) return tl::unexpected(data.error());
  std::vector<Labels> out;
  if (data->is_null()) return out;
  if (!data->is_array()) return bad_answer("data is not a list");
  for (const auto& item : *data) {
    auto labels = decode_labels(item);
    if (!labels) return tl::unexpected(labels.error());
    out.push_back(std::move(*labels));
  }
  return out;
}

core::Result<std::vector<std::string>> decode_strings_answer(std::string_view body) {
  auto data = envelope_data(body);
  if (!data) return tl::unexpected(data.error());
  std::vector<std::string> out;
  if (data->is_null()) return out;
  if (!data->is_array()) return bad_answer("data is not a list");
  for (const auto& item : *data) {
    if (!item.is_string()) return bad_answer("a list item is not a string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace llmscale::prom
