// replicas.json: load and atomic save of the fleet sizes.
#include "up/fleet_sizes.h"

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/json.h"

namespace llmscale::up {

FleetSizesFile::FleetSizesFile(std::string path) : file_(std::move(path), "fleet sizes") {}

core::Result<FleetSizes> FleetSizesFile::load() const {
  FleetSizes sizes;
  auto text = core::read_file(file_.path());
  if (!text && text.error().code == core::ErrorCode::kNotFound) return sizes;  // first run
  if (!text) return tl::unexpected(text.error());
  auto doc = core::parse_document(*text);
  if (!doc || !doc->is_object())
    return core::invalid_argument(file_.path() + ": not a JSON object of fleet sizes");
  for (const auto& [key, value] : doc->items()) {
    if (!value.is_number_integer()) continue;
    auto n = value.get<std::int64_t>();
    if (n < 0 || n > INT32_MAX) continue;
    sizes[key] = static_cast<std::int32_t>(n);
  }
  return sizes;
}

core::Status FleetSizesFile::save(const FleetSizes& sizes) {
  core::Json doc = core::Json::object();
  for (const auto& [key, replicas] : sizes) doc[key] = replicas;
  std::string text = core::to_compact_json(doc) + "\n";
  if (text == saved_) return {};
  auto written = file_.write(text);
  if (written) saved_ = std::move(text);
  return written;
}

}  // namespace llmscale::up
