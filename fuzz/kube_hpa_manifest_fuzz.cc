// Fuzzes the HPA manifest loader (YAML/JSON -> decode -> default -> validate): errors, no crashes.
#include <cstdint>
#include <string_view>

#include "kube/hpa_manifest.h"
#include "kube/json_codec.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto hpas = llmscale::kube::load_hpa_manifests(text, {});
  if (hpas) {
    for (const auto& hpa : *hpas) (void)llmscale::kube::encode_hpa(hpa);
  }
  return 0;
}
