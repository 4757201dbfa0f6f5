// Label selectors: metav1.LabelSelector (matchLabels + matchExpressions) and labels.Selector,
// the parsed form with its string syntax `app=x,tier in (a,b),!canary`.
//
// Parsing, validation, matching and printing follow apimachinery/pkg/labels: requirements are
// sorted by key, values of in/notin print sorted, errors carry upstream's messages
// ("unable to parse requirement: ..."). Value types; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace llmscale::kube {

using Labels = std::map<std::string, std::string>;

enum class SelectorOperator {
  kIn,
  kNotIn,
  kEquals,
  kDoubleEquals,
  kNotEquals,
  kExists,
  kDoesNotExist,
  kGreaterThan,
  kLessThan,
};

struct Requirement {
  std::string key;
  SelectorOperator op = SelectorOperator::kEquals;
  std::vector<std::string> values;

  bool matches(const Labels& labels) const;
  std::string to_string() const;
};

class Selector {
 public:
  // Matches everything (the empty selector "").
  Selector() = default;
  static Selector everything() { return Selector(); }
  // Matches nothing (a nil metav1.LabelSelector).
  static Selector nothing();

  // labels.Parse.
  static core::Result<Selector> parse(std::string_view text);
  // labels.ValidatedSelectorFromSet: key=value for each entry.
  static core::Result<Selector> from_set(const Labels& labels);
  // labels.NewRequirement, with its validation.
  static core::Result<Requirement> make_requirement(std::string key, SelectorOperator op,
                                                    std::vector<std::string> values);

  bool matches(const Labels& labels) const;
  bool empty() const { return !nothing_ && requirements_.empty(); }
  bool is_nothing() const { return nothing_; }
  std::string to_string() const;
  const std::vector<Requirement>& requirements() const { return requirements_; }

  // Returns a copy with `more` added, kept sorted by key.
  Selector add(std::vector<Requirement> more) const;

 private:
  bool nothing_ = false;
  std::vector<Requirement> requirements_;
};

// metav1.LabelSelectorRequirement: operator is In, NotIn, Exists or DoesNotExist.
struct LabelSelectorRequirement {
  std::string key;
  std::string op;
  std::vector<std::string> values;
};

// metav1.LabelSelector.
struct LabelSelector {
  Labels match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
};

// metav1.LabelSelectorAsSelector: a null selector matches nothing, an empty one everything.
core::Result<Selector> to_selector(const std::optional<LabelSelector>& selector);

// metav1.ParseToLabelSelector(selector.String()): = and == become matchLabels, in/notin/exists/
// !key matchExpressions (values sorted); != and the numeric operators are refused with
// upstream's messages.
core::Result<LabelSelector> to_label_selector(const Selector& selector);

// The selector as Go's %+v prints a *metav1.LabelSelector, which the HPA controller puts into
// its external metric descriptions: &LabelSelector{MatchLabels:map[string]string{a: b,},...}.
std::string go_debug_string(const std::optional<LabelSelector>& selector);

}  // namespace llmscale::kube
