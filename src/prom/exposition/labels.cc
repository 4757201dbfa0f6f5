// Label sets in one length-prefixed buffer: encoding, lookup, ordering, printing.
#include "prom/exposition/labels.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

#include <xxhash.h>

#include "core/strings.h"

namespace llmscale::prom {
namespace {

// Lengths are stored as LEB128 varints: one byte for the usual short names and values.
std::size_t get_varint(const char*& p) {
  std::size_t n = 0;
  int shift = 0;
  while (true) {
    auto byte = static_cast<unsigned char>(*p++);
    n |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return n;
    shift += 7;
  }
}

std::size_t varint_size(std::size_t n) {
  std::size_t k = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++k;
  }
  return k;
}

char* put_varint(char* out, std::size_t n) {
  while (n >= 0x80) {
    *out++ = static_cast<char>((n & 0x7f) | 0x80);
    n >>= 7;
  }
  *out++ = static_cast<char>(n);
  return out;
}

char* encode_to(char* out, std::string_view name, std::string_view value) {
  out = put_varint(out, name.size());
  std::memcpy(out, name.data(), name.size());
  out += name.size();
  out = put_varint(out, value.size());
  std::memcpy(out, value.data(), value.size());
  return out + value.size();
}

std::size_t encoded_size(std::string_view name, std::string_view value) {
  return varint_size(name.size()) + name.size() + varint_size(value.size()) + value.size();
}

// Sorts by name, keeps the last of duplicate names, drops empty values.
void normalize(std::vector<std::pair<std::string, std::string>>& pairs) {
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(pairs.size());
  for (auto& p : pairs) {
    if (!out.empty() && out.back().first == p.first) {
      out.back() = std::move(p);
    } else {
      out.push_back(std::move(p));
    }
  }
  std::erase_if(out, [](const auto& p) { return p.second.empty(); });
  pairs = std::move(out);
}

}  // namespace

void Labels::Iterator::decode() {
  if (p_ == nullptr || p_ >= end_) {
    next_ = p_;
    return;
  }
  const char* p = p_;
  std::size_t n = get_varint(p);
  current_.name = std::string_view(p, n);
  p += n;
  n = get_varint(p);
  current_.value = std::string_view(p, n);
  p += n;
  next_ = p;
}

Labels::Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::vector<std::pair<std::string, std::string>> v;
  v.reserve(pairs.size());
  for (const auto& [n, val] : pairs) v.emplace_back(std::string(n), std::string(val));
  *this = from_pairs(std::move(v));
}

Labels Labels::allocate(std::size_t size, char*& out) {
  Labels l;
  if (size == 0) {
    out = nullptr;
    return l;
  }
  void* memory = ::operator new(sizeof(Rep) + size);
  l.rep_ = new (memory) Rep{{1}, static_cast<std::uint32_t>(size)};
  out = reinterpret_cast<char*>(l.rep_ + 1);
  return l;
}

Labels Labels::from_pairs(std::vector<std::pair<std::string, std::string>> pairs) {
  normalize(pairs);
  std::size_t size = 0;
  for (const auto& [n, v] : pairs) size += encoded_size(n, v);
  char* out;
  Labels l = allocate(size, out);
  for (const auto& [n, v] : pairs) out = encode_to(out, n, v);
  return l;
}

Labels Labels::from_map(const std::map<std::string, std::string>& map) {
  std::size_t size = 0;
  for (const auto& [n, v] : map) {
    if (!v.empty()) size += encoded_size(n, v);
  }
  char* out;
  Labels l = allocate(size, out);
  for (const auto& [n, v] : map) {
    if (!v.empty()) out = encode_to(out, n, v);
  }
  return l;
}

Labels Labels::from_sorted(const std::vector<Label>& labels) {
  std::size_t size = 0;
  for (const auto& label : labels) size += encoded_size(label.name, label.value);
  char* out;
  Labels l = allocate(size, out);
  for (const auto& label : labels) {
    assert(!label.value.empty());
    out = encode_to(out, label.name, label.value);
  }
  return l;
}

std::string_view Labels::get(std::string_view name) const {
  for (Label l : *this) {
    if (l.name == name) return l.value;
  }
  return {};
}

bool Labels::has(std::string_view name) const {
  return !get(name).empty();
}

std::size_t Labels::size() const {
  std::size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::uint64_t Labels::hash() const {
  std::string_view d = data();
  return XXH3_64bits(d.data(), d.size());
}

void append_quoted(std::string& out, std::string_view value) {
  // Fast path: nothing to escape.
  bool plain = true;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u >= 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out.push_back('"');
    out.append(value);
    out.push_back('"');
  } else {
    out += core::go_quote(value);
  }
}

std::string Labels::to_string() const {
  std::string out = "{";
  bool first = true;
  for (Label l : *this) {
    if (!first) out += ", ";
    first = false;
    out.append(l.name);
    out.push_back('=');
    append_quoted(out, l.value);
  }
  out.push_back('}');
  return out;
}

std::string Labels::to_series_string() const {
  std::string out(metric_name());
  bool has_other = false;
  for (Label l : *this) {
    if (l.name == kMetricNameLabel) continue;
    out.push_back(has_other ? ',' : '{');
    has_other = true;
    out.append(l.name);
    out.push_back('=');
    append_quoted(out, l.value);
  }
  if (has_other) {
    out.push_back('}');
  } else if (out.empty()) {
    out = "{}";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Labels::to_pairs() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (Label l : *this) out.emplace_back(std::string(l.name), std::string(l.value));
  return out;
}

std::map<std::string, std::string> Labels::to_map() const {
  std::map<std::string, std::string> out;
  for (Label l : *this) out.emplace(std::string(l.name), std::string(l.value));
  return out;
}

int compare(const Labels& a, const Labels& b) {
  auto ia = a.begin(), ib = b.begin();
  auto ea = a.end(), eb = b.end();
  for (; ia != ea && ib != eb; ++ia, ++ib) {
    Label la = *ia, lb = *ib;
    if (int c = la.name.compare(lb.name); c != 0) return c < 0 ? -1 : 1;
    if (int c = la.value.compare(lb.value); c != 0) return c < 0 ? -1 : 1;
  }
  if (ia == ea && ib == eb) return 0;
  return ia == ea ? -1 : 1;
}

void LabelsBuilder::reset(const Labels& base) {
  entries_.clear();
  for (Label l : base) entries_.emplace_back(std::string(l.name), std::string(l.value));
}

LabelsBuilder& LabelsBuilder::set(std::string_view name, std::string_view value) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it != entries_.end() && it->first == name) {
    if (value.empty()) {
      entries_.erase(it);
    } else {
      it->second.assign(value);
    }
  } else if (!value.empty()) {
    entries_.emplace(it, std::string(name), std::string(value));
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::del(std::string_view name) {
  return set(name, {});
}

LabelsBuilder& LabelsBuilder::keep(const std::vector<std::string>& names) {
  std::erase_if(entries_, [&](const auto& e) {
    return std::find(names.begin(), names.end(), e.first) == names.end();
  });
  return *this;
}

std::string_view LabelsBuilder::get(std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it != entries_.end() && it->first == name) return it->second;
  return {};
}

Labels LabelsBuilder::labels() const {
  std::size_t size = 0;
  for (const auto& [n, v] : entries_) size += encoded_size(n, v);
  char* out;
  Labels l = Labels::allocate(size, out);
  for (const auto& [n, v] : entries_) out = encode_to(out, n, v);
  return l;
}

bool is_valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool is_valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string sanitize_label_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      c = '_';
    }
  }
  return out;
}

}  // namespace llmscale::prom
