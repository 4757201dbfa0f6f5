// Label sets: the identity of a time series (`__name__` plus its labels).
//
// Labels is an immutable, sorted-by-name set stored in one compact, reference-counted buffer
// (length-prefixed name/value pairs, like Prometheus' "stringlabels" build): a series costs one
// allocation for all its labels, a copy is an atomic increment, equality is a byte compare and
// hashing is one xxh3 call over the buffer.
// Prometheus: a label with an empty value is the same as no label, so builders drop empty values.
// LabelsBuilder edits a set (set/del/keep) and produces a new Labels.
//
// Value types; thread-compatible (const methods may be called concurrently; copies of one set
// may be used and destroyed on different threads).
#pragma once

#include <atomic>
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

  Labels(const Labels& other) : rep_(other.rep_) {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Labels(Labels&& other) noexcept : rep_(other.rep_) { other.rep_ = nullptr; }
  Labels& operator=(const Labels& other) {
    Labels copy(other);
    std::swap(rep_, copy.rep_);
    return *this;
  }
  Labels& operator=(Labels&& other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  ~Labels() { release(); }

  Iterator begin() const { return Iterator(data().data(), data().data() + data().size()); }
  Iterator end() const {
    return Iterator(data().data() + data().size(), data().data() + data().size());
  }

  // The value of `name`, or "" when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  std::string_view metric_name() const { return get(kMetricNameLabel); }
  std::size_t size() const;
  bool empty() const { return rep_ == nullptr; }

  // xxh3 of the encoded form; equal sets hash equally.
  std::uint64_t hash() const;
  // The encoded form (stable for the lifetime of this set; a good hash-map key).
  std::string_view data() const {
    return rep_ == nullptr ? std::string_view()
                           : std::string_view(reinterpret_cast<const char*>(rep_ + 1), rep_->size);
  }
  // Heap bytes owned (shared between copies).
  std::size_t bytes() const { return rep_ == nullptr ? 0 : sizeof(Rep) + rep_->size; }

  // Prometheus' labels.Labels.String(): {__name__="up", job="x"} with Go-quoted values.
  std::string to_string() const;
  // PromQL series notation: up{job="x"} (the name outside the braces), "{}" when empty.
  std::string to_series_string() const;

  std::vector<std::pair<std::string, std::string>> to_pairs() const;
  std::map<std::string, std::string> to_map() const;

  // Prometheus' labels.Compare: label by label, name then value, then length.
  friend int compare(const Labels& a, const Labels& b);
  friend bool operator==(const Labels& a, const Labels& b) {
    return a.rep_ == b.rep_ || a.data() == b.data();
  }
  friend bool operator<(const Labels& a, const Labels& b) { return compare(a, b) < 0; }

 private:
  friend class LabelsBuilder;
  // Immutable encoded bytes follow the header; shared by copies (atomic count), so copying a
  // label set costs one atomic increment and no allocation.
  struct Rep {
    std::atomic<std::uint32_t> refs;
    std::uint32_t size;
  };
  static Labels allocate(std::size_t size, char*& out);
  void release() {
    if (rep_ != nullptr && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      rep_->~Rep();
      ::operator delete(rep_);
    }
    rep_ = nullptr;
  }
  Rep* rep_ = nullptr;
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

// Prometheus' strutil.SanitizeLabelName: every byte outside [a-zA-Z0-9_] becomes '_' (what
// service discovery does to Kubernetes label keys in __meta_kubernetes_pod_label_<key>).
std::string sanitize_label_name(std::string_view name);

// Appends the Go-quoted form of `value` ("a\"b"), as Prometheus prints label values.
void append_quoted(std::string& out, std::string_view value);

}  // namespace llmscale::prom
