// A small Go text/template for prometheus-adapter's `metricsQuery` and `resources.template`,
// with its `<<` `>>` delimiters.
//
// Supported: literal text; `<<.Field>>`; `<<index .Map "key">>` and `<<index .Slice N>>`;
// `<<len .Field>>`; `<<range .Slice>>...<<.>>...<<end>>`; `<<if .Field>>...<<else>>...<<end>>`;
// `<<"string">>`; `<<- ... ->>` whitespace trimming. Values print as Go prints them: slices as
// `[a b]`, maps as `map[k:v k2:v2]` with sorted keys. Anything else is a parse error naming the
// action — the same templates are rejected that Go would not accept, or that this subset does
// not implement.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace llmscale::adapter {

using TemplateValue =
    std::variant<std::string, std::vector<std::string>, std::map<std::string, std::string>>;
using TemplateData = std::map<std::string, TemplateValue>;

class GoTemplate {
 public:
  static core::Result<GoTemplate> parse(std::string_view text);
  core::Result<std::string> render(const TemplateData& data) const;
  // Field names the template reads (".Resource" -> "Resource").
  std::vector<std::string> fields() const;

  struct Node;

 private:
  std::shared_ptr<const std::vector<Node>> nodes_;
};

}  // namespace llmscale::adapter
