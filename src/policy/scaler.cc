// make_scaler: policy names to configured policies (scaler.h).
#include "policy/scaler.h"

namespace llmscale::policy {

const std::vector<std::string>& scaler_names() {
  static const std::vector<std::string> kNames = {
      "slo", "slo+credit", "slo+predict", "slo+credit+predict", "kpa", "keda-llmd", "aibrix-apa"};
  return kNames;
}

core::Result<std::unique_ptr<Scaler>> make_scaler(std::string_view name,
                                                  const ScalerOptions& options) {
  if (name.substr(0, 3) == "slo") {
    SloPolicyConfig c = options.slo;
    std::string_view rest = name.substr(3);
    c.credit = rest.find("+credit") != std::string_view::npos;
    c.predict = rest.find("+predict") != std::string_view::npos;
    std::string canonical =
        std::string("slo") + (c.credit ? "+credit" : "") + (c.predict ? "+predict" : "");
    if (canonical != name)
      return core::invalid_argument("scaler \"" + std::string(name) + "\": did you mean " +
                                    canonical + "?");
    if (!c.profile) return core::invalid_argument("scaler " + canonical + ": no engine profile");
    return std::unique_ptr<Scaler>(std::make_unique<SloPolicy>(std::move(c)));
  }
  if (name == "kpa") return std::unique_ptr<Scaler>(std::make_unique<KpaScaler>(options.kpa));
  if (name == "keda-llmd") {
    KedaLlmdConfig c = options.keda;
    c.ttft_s = options.slo.ttft_s;
    c.tpot_s = options.slo.itl_s;
    return std::unique_ptr<Scaler>(std::make_unique<KedaLlmdScaler>(c));
  }
  if (name == "aibrix-apa")
    return std::unique_ptr<Scaler>(std::make_unique<ApaScaler>(options.apa));
  std::string known;
  for (const auto& n : scaler_names()) known += (known.empty() ? "" : ", ") + n;
  return core::invalid_argument("unknown scaler \"" + std::string(name) + "\" (hpa, " + known +
                                ")");
}

}  // namespace llmscale::policy
