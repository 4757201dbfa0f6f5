// The Prometheus HTTP API's JSON, both ways: what our query API writes and what the remote
// QueryEngine reads back from a real Prometheus.
//
// Writing follows Prometheus 2.42 byte for byte (cross-checked against the Debian binary):
//  * vector and matrix points: `[<seconds>.<3-digit millis>, "<value>"]` — the timestamp is the
//    millisecond integer with the fraction always written as three digits when non-zero
//    (1700000000.390, 1700000000), the value Go's 'f' format, or 'e' below 1e-6 and from 1e21
//    (jsoniter's marshalPointJSON): "1", "0.30000000000000004", "1e-07", "NaN", "+Inf";
//  * scalar and string results: `[<seconds as a JSON float>, "<value>"]` with the value in 'f'
//    format (promql.Scalar.MarshalJSON): [1700000000.123, "0.0000001"];
//  * strings escaped as Go's encoding/json does (HTML-safe \u003c \u003e \u0026, \u2028,
//    \u2029, invalid UTF-8 as \ufffd, control bytes as \u00XX);
//  * envelopes {"status":"success","data":...,"warnings":[...]} and
//    {"status":"error","errorType":"bad_data","error":"..."}.
// Reading accepts what any Prometheus-compatible server sends (values as strings, "NaN",
// "+Inf", timestamps as numbers) and reports shape errors with kUnavailable (a peer problem).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "prom/exposition/labels.h"
#include "prom/promql/query_engine.h"

namespace llmscale::prom {

// Appends `text` as a JSON string (quotes included), escaped as Go's encoding/json does.
void append_json_string(std::string& out, std::string_view text);
// {"name":"value",...} in label order.
void append_json_labels(std::string& out, const Labels& labels);
// A sample value as the API writes it in points.
void append_point_value(std::string& out, double value);
// A millisecond timestamp as the API writes it in points ("1700000000.390").
void append_point_timestamp(std::string& out, std::int64_t t_ms);

// {"resultType":"vector","result":[...]} (the `data` member of a query answer).
std::string encode_query_data(const QueryResult& result);
// The full success envelope around an already encoded `data` value.
std::string encode_success(std::string_view data_json, const std::vector<std::string>& warnings);
// {"status":"error","errorType":"...","error":"..."}.
std::string encode_error(std::string_view error_type, std::string_view message);
// JSON arrays of label sets / strings (series, labels, label values answers).
std::string encode_label_sets(const std::vector<Labels>& sets);
std::string encode_strings(const std::vector<std::string>& values);

// Reading a Prometheus answer body: the `data` of a successful query, or the error it reports
// (mapped back: bad_data -> kInvalidArgument, execution -> kFailedPrecondition, timeout ->
// kDeadlineExceeded, canceled -> kCancelled, unavailable -> kUnavailable, not_found ->
// kNotFound, internal and others -> kInternal).
core::Result<QueryResult> decode_query_answer(std::string_view body);
core::Result<std::vector<Labels>> decode_series_answer(std::string_view body);
core::Result<std::vector<std::string>> decode_strings_answer(std::string_view body);
// The error code for an API errorType string.
core::ErrorCode error_code_for_api_type(std::string_view error_type);

}  // namespace llmscale::prom
