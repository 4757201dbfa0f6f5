// Name validation with upstream's exact messages.
#include "kube/names.h"

namespace llmscale::kube {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool matches_qualified_name(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool matches_dns1123_label(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_lower_alnum(c) && c != '-') return false;
  }
  return true;
}

bool matches_dns1123_subdomain(std::string_view s) {
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!matches_dns1123_label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string regex_error(const std::string& message, const std::string& format,
                        std::initializer_list<const char*> examples) {
  std::string out = message + " (e.g. ";
  bool first = true;
  for (const char* example : examples) {
    if (!first) out += " or ";
    first = false;
    out += "'" + std::string(example) + "', ";
  }
  return out + "regex used for validation is '" + format + "')";
}

std::string max_len_error(int n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

const std::string kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const std::string kQualifiedNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
const std::string kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

}  // namespace

std::vector<std::string> is_qualified_name(std::string_view value) {
  std::vector<std::string> errors;
  std::string_view name = value;
  std::size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errors.push_back(
          "a qualified name " +
          regex_error(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
          " with an optional DNS subdomain prefix and '/' (e.g. "
          "'example.com/MyName')");
      return errors;
    }
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errors.push_back("prefix part must be non-empty");
    } else {
      for (const auto& m : is_dns1123_subdomain(prefix)) errors.push_back("prefix part " + m);
    }
  }
  if (name.empty()) {
    errors.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errors.push_back("name part " + max_len_error(63));
  }
  if (!matches_qualified_name(name)) {
    errors.push_back("name part " + regex_error(kQualifiedNameMsg, kQualifiedNameFmt,
                                                {"MyName", "my.name", "123-abc"}));
  }
  return errors;
}

std::vector<std::string> is_valid_label_value(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > 63) errors.push_back(max_len_error(63));
  if (!value.empty() && !matches_qualified_name(value)) {
    errors.push_back(regex_error(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character",
        "(" + kQualifiedNameFmt + ")?", {"MyValue", "my_value", "12345"}));
  }
  return errors;
}

std::vector<std::string> is_dns1123_subdomain(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > 253) errors.push_back(max_len_error(253));
  if (!matches_dns1123_subdomain(value)) {
    errors.push_back(regex_error(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character",
        kDns1123LabelFmt + "(\\." + kDns1123LabelFmt + ")*", {"example.com"}));
  }
  return errors;
}

std::vector<std::string> is_dns1123_label(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > 63) errors.push_back(max_len_error(63));
  if (!matches_dns1123_label(value)) {
    errors.push_back(regex_error(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character",
        kDns1123LabelFmt, {"my-name", "123-abc"}));
  }
  return errors;
}

std::vector<std::string> is_valid_path_segment_name(std::string_view value) {
  if (value == ".") return {"may not be '.'"};
  if (value == "..") return {"may not be '..'"};
  std::vector<std::string> errors;
  if (value.find('/') != std::string_view::npos) errors.push_back("may not contain '/'");
  if (value.find('%') != std::string_view::npos) errors.push_back("may not contain '%'");
  return errors;
}

}  // namespace llmscale::kube
