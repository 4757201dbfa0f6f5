// Label sets: the identity of a time series (`__name__` plus its labels).
//
// Labels is an immutable, sorted-by-name set stored in one compact buffer (length-prefixed
// name/value pairs, like Prometheus' "stringlabels" build), so a series costs one allocation for
// all its labels, equality is a byte compare and hashing is one xxh3 call over the buffer.
// Prometheus: a label with an empty value is the same as no label, so builders drop empty values.
// LabelsBuilder edits a set (set/del/keep) and produces a new Labels.
//
// Value types; thread-compatible (const methods may be called concurrently).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmscale::prom {

// Prometheus: model.MetricNameLabel.
inline constexpr std::string_view kMetricNameLabel = "__name__";
// Prometheus: model.BucketLabel and model.QuantileLabel.
inline constexpr std::string_view kBucketLabel = "le";
inline constexpr std::string_view kQuantileLabel = "quantile";

struct Label {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const Label&, const Label&) = default;
};

class Labels {
 public:
  class Iterator {
   public:
    using value_type = Label;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const char* p, const char* end) : p_(p), end_(end) { decode(); }
    Label operator*() const { return current_; }
    Iterator& operator++() {
      p_ = next_;
      decode();
      return *this;
    }
    Iterator operator++(int) {
      Iterator copy = *this;
      ++*this;
      return copy;
    }
    bool operator==(const Iterator& other) const { return p_ == other.p_; }

   private:
    void decode();
    const char* p_ = nullptr;
    const char* end_ = nullptr;
    const char* next_ = nullptr;
    Label current_;
  };

  Labels() = default;
  // Sorts by name; for duplicate names the last one wins; empty values are dropped.
  Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);
  static Labels from_pairs(std::vector<std::pair<std::string, std::string>> pairs);
  static Labels from_map(const std::map<std::string, std::string>& map);
  // REQUIRES: `labels` sorted by name, names unique, values non-empty.
  static Labels from_sorted(const std::vector<Label>& labels);

  Iterator begin() const { return Iterator(data_.data(), data_.data() + data_.size()); }
  Iterator end() const {
    return Iterator(data_.data() + data_.size(), data_.data() + data_.size());
  }

  // The value of `name`, or "" when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  std::string_view metric_name() const { return get(kMetricNameLabel); }
  std::size_t size() const;
  bool empty() const { return data_.empty(); }

  // xxh3 of the encoded form; equal sets hash equally.
  std::uint64_t hash() const;
  // The encoded form (stable within a process; a good hash-map key).
  const std::string& data() const { return data_; }
  std::size_t bytes() const { return data_.capacity(); }

  // Prometheus' labels.Labels.String(): {__name__="up", job="x"} with Go-quoted values.
  std::string to_string() const;
  // PromQL series notation: up{job="x"} (the name outside the braces), "{}" when empty.
  std::string to_series_string() const;

  std::vector<std::pair<std::string, std::string>> to_pairs() const;
  std::map<std::string, std::string> to_map() const;

  // Prometheus' labels.Compare: label by label, name then value, then length.
  friend int compare(const Labels& a, const Labels& b);
  friend bool operator==(const Labels& a, const Labels& b) { return a.data_ == b.data_; }
  friend bool operator<(const Labels& a, const Labels& b) { return compare(a, b) < 0; }

 private:
  friend class LabelsBuilder;
  std::string data_;
};

// Edits a label set. Not thread-safe.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) { reset(base); }

  void reset(const Labels& base);
  // An empty value deletes the label (Prometheus semantics).
  LabelsBuilder& set(std::string_view name, std::string_view value);
  LabelsBuilder& del(std::string_view name);
  // Keeps only the given names.
  LabelsBuilder& keep(const std::vector<std::string>& names);
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const { return !get(name).empty(); }
  // Calls fn(name, value) for each label, in name order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [name, value] : entries_) fn(std::string_view(name), std::string_view(value));
  }

  Labels labels() const;

 private:
  // Sorted by name, unique, values non-empty.
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Prometheus: model.LabelName.IsValid, [a-zA-Z_][a-zA-Z0-9_]*.
bool is_valid_label_name(std::string_view name);
// Prometheus: model.IsValidMetricName, [a-zA-Z_:][a-zA-Z0-9_:]*.
bool is_valid_metric_name(std::string_view name);

// Appends the Go-quoted form of `value` ("a\"b"), as Prometheus prints label values.
void append_quoted(std::string& out, std::string_view value);

}  // namespace llmscale::prom
