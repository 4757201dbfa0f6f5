// Field selectors: parsing and matching (see field_selector.h).
#include "kube/field_selector.h"

#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace llmscale::kube {

core::Result<FieldSelector> parse_field_selector(std::string_view text,
                                                 const std::vector<std::string>& supported) {
  FieldSelector out;
  if (core::trim(text).empty()) return out;
  for (std::string_view part : core::split(text, ',')) {
    FieldRequirement r;
    std::size_t at = part.find("!=");
    std::size_t skip = 2;
    if (at != std::string_view::npos) {
      r.equal = false;
    } else if ((at = part.find("==")) == std::string_view::npos) {
      at = part.find('=');
      skip = 1;
    }
    if (at == std::string_view::npos)
      return core::invalid_argument("invalid selector: '" + std::string(text) +
                                    "'; can't understand '" + std::string(part) + "'");
    r.field = std::string(core::trim(part.substr(0, at)));
    r.value = std::string(core::trim(part.substr(at + skip)));
    bool known = r.field == "metadata.name" || r.field == "metadata.namespace";
    for (const std::string& f : supported) known = known || f == r.field;
    if (!known) return core::invalid_argument("field label not supported: " + r.field);
    out.push_back(std::move(r));
  }
  return out;
}

std::string field_value(const core::Json& object, std::string_view field) {
  const core::Json* node = &object;
  for (std::string_view part : core::split(field, '.')) {
    if (!node->is_object()) return "";
    auto it = node->find(std::string(part));
    if (it == node->end()) return "";
    node = &*it;
  }
  if (node->is_string()) return node->get<std::string>();
  if (node->is_number_integer()) return std::to_string(node->get<std::int64_t>());
  if (node->is_boolean()) return node->get<bool>() ? "true" : "false";
  return "";
}

bool matches(const FieldSelector& selector, const core::Json& object) {
  for (const FieldRequirement& f : selector)
    if ((field_value(object, f.field) == f.value) != f.equal) return false;
  return true;
}

}  // namespace llmscale::kube
