// HPA manifests through the API server's decode -> default -> validate pipeline.
#include "kube/hpa_manifest.h"

#include <nlohmann/json.hpp>

#include "kube/json_codec.h"

namespace llmscale::kube {

core::Status check_request_size(const core::Json& document) {
  if (core::compact_json_size(document) > kMaxRequestBodyBytes) {
    return core::make_error(
        core::ErrorCode::kResourceExhausted,
        "Request entity too large: limit is " + std::to_string(kMaxRequestBodyBytes));
  }
  return {};
}

core::Result<HorizontalPodAutoscaler> admit_hpa(HorizontalPodAutoscaler hpa,
                                                const HpaLoadOptions& options) {
  if (hpa.metadata.namespace_.empty()) hpa.metadata.namespace_ = options.default_namespace;
  drop_disabled_fields(hpa, options.gates);
  apply_hpa_defaults(hpa);
  FieldErrors errors = validate_hpa(hpa, options.gates);
  if (!errors.empty()) {
    return core::invalid_argument(
        invalid_object_message("HorizontalPodAutoscaler", hpa.metadata.name, errors));
  }
  return hpa;
}

core::Result<HorizontalPodAutoscaler> load_hpa(const core::Json& document,
                                               const HpaLoadOptions& options) {
  if (auto size = check_request_size(document); !size) return tl::unexpected(size.error());
  auto hpa = decode_hpa(document, options.strict);
  if (!hpa) {
    return core::invalid_argument(
        "HorizontalPodAutoscaler in version \"v2\" cannot be handled as a "
        "HorizontalPodAutoscaler: " +
        hpa.error().message);
  }
  return admit_hpa(std::move(*hpa), options);
}

core::Result<std::vector<HorizontalPodAutoscaler>> load_hpa_manifests(
    std::string_view text, const HpaLoadOptions& options) {
  auto documents = core::parse_documents(text);
  if (!documents) return tl::unexpected(documents.error());
  std::vector<HorizontalPodAutoscaler> hpas;
  for (const core::Json& doc : *documents) {
    if (doc.is_object()) {
      auto kind = doc.find("kind");
      bool is_hpa = kind == doc.end() || !kind->is_string() ||
                    kind->get<std::string>() == "HorizontalPodAutoscaler";
      if (!is_hpa) continue;
    }
    auto hpa = load_hpa(doc, options);
    if (!hpa) return tl::unexpected(hpa.error());
    hpas.push_back(std::move(*hpa));
  }
  if (hpas.empty()) return core::invalid_argument("no HorizontalPodAutoscaler found");
  return hpas;
}

}  // namespace llmscale::kube
