// Defaulting and validation of HorizontalPodAutoscaler, following
// pkg/apis/autoscaling/v2/defaults.go and pkg/apis/autoscaling/validation/validation.go.
#include "kube/hpa_validation.h"

#include <set>

#include "core/strings.h"
#include "kube/names.h"

namespace llmscale::kube {
namespace {

constexpr std::int32_t kMaxPeriodSeconds = 1800;
constexpr std::int32_t kMaxStabilizationWindowSeconds = 3600;
constexpr std::int32_t kDefaultCpuUtilization = 80;

HPAScalingRules copy_set_fields(const std::optional<HPAScalingRules>& from, HPAScalingRules to) {
  if (!from) return to;
  if (from->select_policy) to.select_policy = from->select_policy;
  if (from->stabilization_window_seconds) {
    to.stabilization_window_seconds = from->stabilization_window_seconds;
  }
  if (from->policies) to.policies = from->policies;
  if (from->tolerance) to.tolerance = from->tolerance;
  return to;
}

std::string quantity_value(const Quantity& q) {
  return quoted_value(q.to_string());
}

void validate_reference(const CrossVersionObjectReference& ref, const std::string& path,
                        FieldErrors& errors) {
  if (ref.kind.empty()) {
    errors.push_back(required(path + ".kind", ""));
  } else {
    for (const auto& m : is_valid_path_segment_name(ref.kind)) {
      errors.push_back(invalid(path + ".kind", quoted_value(ref.kind), m));
    }
  }
  if (ref.name.empty()) {
    errors.push_back(required(path + ".name", ""));
  } else {
    for (const auto& m : is_valid_path_segment_name(ref.name)) {
      errors.push_back(invalid(path + ".name", quoted_value(ref.name), m));
    }
  }
}

void validate_identifier(const MetricIdentifier& id, const std::string& path, FieldErrors& errors) {
  if (id.name.empty()) {
    errors.push_back(required(path + ".name", "must specify a metric name"));
  } else {
    for (const auto& m : is_valid_path_segment_name(id.name)) {
      errors.push_back(invalid(path + ".name", quoted_value(id.name), m));
    }
  }
}

void validate_target(const MetricTarget& t, const std::string& path, FieldErrors& errors) {
  if (t.type.empty())
    errors.push_back(required(path + ".type", "must specify a metric target type"));
  if (t.type != "Utilization" && t.type != "Value" && t.type != "AverageValue") {
    errors.push_back(invalid(path + ".type", quoted_value(t.type),
                             "must be either Utilization, Value, or AverageValue"));
  }
  if (t.value && t.value->sign() != 1) {
    errors.push_back(invalid(path + ".value", quantity_value(*t.value), "must be positive"));
  }
  if (t.average_value && t.average_value->sign() != 1) {
    errors.push_back(
        invalid(path + ".averageValue", quantity_value(*t.average_value), "must be positive"));
  }
  if (t.average_utilization && *t.average_utilization < 1) {
    errors.push_back(invalid(path + ".averageUtilization", std::to_string(*t.average_utilization),
                             "must be greater than 0"));
  }
}

bool is_standard_container_resource(const std::string& name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
         name.rfind("hugepages-", 0) == 0;
}

void validate_metric_spec(const MetricSpec& spec, const std::string& path, FieldErrors& errors) {
  static const std::vector<std::string> kSourceTypes = {"ContainerResource", "External", "Object",
                                                        "Pods", "Resource"};
  if (spec.type.empty()) {
    errors.push_back(required(path + ".type", "must specify a metric source type"));
  }
  bool known = std::find(kSourceTypes.begin(), kSourceTypes.end(), spec.type) != kSourceTypes.end();
  if (!known)
    errors.push_back(not_supported(path + ".type", quoted_value(spec.type), kSourceTypes));

  // Only the first populated source is validated, in upstream's order.
  std::vector<std::string> present;
  if (spec.object) {
    present.push_back("object");
    if (present.size() == 1) {
      const auto& src = *spec.object;
      std::string p = path + ".object";
      validate_reference(src.described_object, p + ".describedObject", errors);
      validate_identifier(src.metric, p + ".metric", errors);
      validate_target(src.target, p + ".target", errors);
      if (!src.target.value && !src.target.average_value) {
        errors.push_back(
            required(p + ".target.averageValue", "must set either a target value or averageValue"));
      }
    }
  }
  if (spec.external) {
    present.push_back("external");
    if (present.size() == 1) {
      const auto& src = *spec.external;
      std::string p = path + ".external";
      validate_identifier(src.metric, p + ".metric", errors);
      validate_target(src.target, p + ".target", errors);
      if (!src.target.value && !src.target.average_value) {
        errors.push_back(required(p + ".target.averageValue",
                                  "must set either a target value for metric or a per-pod target"));
      }
      if (src.target.value && src.target.average_value) {
        errors.push_back(
            forbidden(p + ".target.value",
                      "may not set both a target value for metric and a per-pod target"));
      }
    }
  }
  if (spec.pods) {
    present.push_back("pods");
    if (present.size() == 1) {
      const auto& src = *spec.pods;
      std::string p = path + ".pods";
      validate_identifier(src.metric, p + ".metric", errors);
      validate_target(src.target, p + ".target", errors);
      if (!src.target.average_value) {
        errors.push_back(
            required(p + ".target.averageValue", "must specify a positive target averageValue"));
      }
    }
  }
  auto validate_resource_target = [&](const MetricTarget& target, const std::string& p) {
    validate_target(target, p + ".target", errors);
    if (!target.average_utilization && !target.average_value) {
      errors.push_back(required(p + ".target.averageUtilization",
                                "must set either a target raw value or a target utilization"));
    }
    if (target.average_utilization && target.average_value) {
      errors.push_back(forbidden(p + ".target.averageValue",
                                 "may not set both a target raw value and a target utilization"));
    }
  };
  if (spec.resource) {
    present.push_back("resource");
    if (present.size() == 1) {
      std::string p = path + ".resource";
      if (spec.resource->name.empty()) {
        errors.push_back(required(p + ".name", "must specify a resource name"));
      }
      validate_resource_target(spec.resource->target, p);
    }
  }
  if (spec.container_resource) {
    present.push_back("containerResource");
    if (present.size() == 1) {
      const auto& src = *spec.container_resource;
      std::string p = path + ".containerResource";
      if (src.name.empty()) {
        errors.push_back(required(p + ".name", "must specify a resource name"));
      } else if (!is_standard_container_resource(src.name) &&
                 src.name.find('/') == std::string::npos) {
        errors.push_back(invalid(p + ".name", quoted_value(src.name),
                                 "must be a standard resource type or fully qualified"));
      }
      if (src.container.empty()) {
        errors.push_back(required(p + ".container", "must specify a container"));
      } else {
        for (const auto& m : is_dns1123_label(src.container)) {
          errors.push_back(invalid(p + ".container", quoted_value(src.container), m));
        }
      }
      validate_resource_target(src.target, p);
    }
  }

  std::string expected;
  auto require_source = [&](bool has, const std::string& field) {
    if (!has) {
      errors.push_back(
          required(path + "." + field, "must populate information for the given metric source"));
    }
    expected = field;
  };
  if (spec.type == "Object")
    require_source(spec.object.has_value(), "object");
  else if (spec.type == "Pods")
    require_source(spec.pods.has_value(), "pods");
  else if (spec.type == "Resource")
    require_source(spec.resource.has_value(), "resource");
  else if (spec.type == "External")
    require_source(spec.external.has_value(), "external");
  else if (spec.type == "ContainerResource")
    require_source(spec.container_resource.has_value(), "containerResource");
  else
    errors.push_back(not_supported(path + ".type", quoted_value(spec.type), kSourceTypes));

  if (present.size() != 1) {
    std::set<std::string> others(present.begin(), present.end());
    others.erase(expected);
    for (const auto& other : others) {
      errors.push_back(forbidden(path + "." + other, "must populate the given metric source only"));
    }
  }
}

void validate_rules(const std::optional<HPAScalingRules>& rules, const std::string& path,
                    FieldErrors& errors) {
  if (!rules) return;
  if (rules->stabilization_window_seconds) {
    auto w = *rules->stabilization_window_seconds;
    if (w < 0) {
      errors.push_back(invalid(path + ".stabilizationWindowSeconds", std::to_string(w),
                               "must be greater than or equal to zero"));
    }
    if (w > kMaxStabilizationWindowSeconds) {
      errors.push_back(invalid(
          path + ".stabilizationWindowSeconds", std::to_string(w),
          "must be less than or equal to " + std::to_string(kMaxStabilizationWindowSeconds)));
    }
  }
  if (rules->select_policy && *rules->select_policy != "Max" && *rules->select_policy != "Min" &&
      *rules->select_policy != "Disabled") {
    errors.push_back(not_supported(path + ".selectPolicy", quoted_value(*rules->select_policy),
                                   {"Disabled", "Max", "Min"}));
  }
  if (!rules->policies || rules->policies->empty()) {
    errors.push_back(required(path + ".policies", "must specify at least one Policy"));
  }
  if (rules->policies) {
    for (std::size_t i = 0; i < rules->policies->size(); ++i) {
      const auto& policy = (*rules->policies)[i];
      std::string p = path + ".policies[" + std::to_string(i) + "]";
      if (policy.type != "Pods" && policy.type != "Percent") {
        errors.push_back(
            not_supported(p + ".type", quoted_value(policy.type), {"Percent", "Pods"}));
      }
      if (policy.value <= 0) {
        errors.push_back(
            invalid(p + ".value", std::to_string(policy.value), "must be greater than zero"));
      }
      if (policy.period_seconds <= 0) {
        errors.push_back(invalid(p + ".periodSeconds", std::to_string(policy.period_seconds),
                                 "must be greater than zero"));
      }
      if (policy.period_seconds > kMaxPeriodSeconds) {
        errors.push_back(
            invalid(p + ".periodSeconds", std::to_string(policy.period_seconds),
                    "must be less than or equal to " + std::to_string(kMaxPeriodSeconds)));
      }
    }
  }
  if (rules->tolerance && rules->tolerance->sign() < 0) {
    errors.push_back(invalid(path + ".tolerance", quantity_value(*rules->tolerance),
                             "must be greater than or equal to zero"));
  }
}

void validate_metadata(const ObjectMeta& meta, FieldErrors& errors) {
  if (meta.name.empty() && meta.generate_name.empty()) {
    errors.push_back(required("metadata.name", "name or generateName is required"));
  } else if (!meta.name.empty()) {
    for (const auto& m : is_dns1123_subdomain(meta.name)) {
      errors.push_back(invalid("metadata.name", quoted_value(meta.name), m));
    }
  }
  if (meta.namespace_.empty()) {
    errors.push_back(required("metadata.namespace", ""));
  } else {
    for (const auto& m : is_dns1123_label(meta.namespace_)) {
      errors.push_back(invalid("metadata.namespace", quoted_value(meta.namespace_), m));
    }
  }
  for (const auto& [key, value] : meta.labels) {
    for (const auto& m : is_qualified_name(key)) {
      errors.push_back(invalid("metadata.labels", quoted_value(key), m));
    }
    for (const auto& m : is_valid_label_value(value)) {
      errors.push_back(invalid("metadata.labels", quoted_value(value), m));
    }
  }
  for (const auto& [key, value] : meta.annotations) {
    std::string lower = core::to_lower(key);
    for (const auto& m : is_qualified_name(lower)) {
      errors.push_back(invalid("metadata.annotations", quoted_value(key), m));
    }
  }
}

}  // namespace

HPAScalingRules default_scale_up_rules(const std::optional<HPAScalingRules>& rules) {
  HPAScalingRules defaults;
  defaults.stabilization_window_seconds = 0;
  defaults.select_policy = "Max";
  defaults.policies = std::vector<HPAScalingPolicy>{{"Pods", 4, 15}, {"Percent", 100, 15}};
  return copy_set_fields(rules, defaults);
}

HPAScalingRules default_scale_down_rules(const std::optional<HPAScalingRules>& rules) {
  HPAScalingRules defaults;
  // The window stays unset: the controller fills in its downscale stabilization flag.
  defaults.select_policy = "Max";
  defaults.policies = std::vector<HPAScalingPolicy>{{"Percent", 100, 15}};
  return copy_set_fields(rules, defaults);
}

void apply_hpa_defaults(HorizontalPodAutoscaler& hpa) {
  if (!hpa.spec.min_replicas) hpa.spec.min_replicas = 1;
  if (hpa.spec.metrics.empty()) {
    MetricSpec cpu;
    cpu.type = "Resource";
    cpu.resource =
        ResourceMetricSource{"cpu", MetricTarget{"Utilization", {}, {}, kDefaultCpuUtilization}};
    hpa.spec.metrics.push_back(cpu);
  }
  if (hpa.spec.behavior) {
    hpa.spec.behavior->scale_up = default_scale_up_rules(hpa.spec.behavior->scale_up);
    hpa.spec.behavior->scale_down = default_scale_down_rules(hpa.spec.behavior->scale_down);
  }
}

void drop_disabled_fields(HorizontalPodAutoscaler& hpa, const ApiServerGates& gates) {
  if (gates.hpa_configurable_tolerance || !hpa.spec.behavior) return;
  if (hpa.spec.behavior->scale_up) hpa.spec.behavior->scale_up->tolerance.reset();
  if (hpa.spec.behavior->scale_down) hpa.spec.behavior->scale_down->tolerance.reset();
}

FieldErrors validate_hpa(const HorizontalPodAutoscaler& hpa, const ApiServerGates& gates) {
  FieldErrors errors;
  validate_metadata(hpa.metadata, errors);
  const auto& spec = hpa.spec;
  std::int32_t min_bound = gates.hpa_scale_to_zero ? 0 : 1;
  if (spec.min_replicas && *spec.min_replicas < min_bound) {
    errors.push_back(invalid("spec.minReplicas", std::to_string(*spec.min_replicas),
                             "must be greater than or equal to " + std::to_string(min_bound)));
  }
  if (spec.max_replicas < 1) {
    errors.push_back(
        invalid("spec.maxReplicas", std::to_string(spec.max_replicas), "must be greater than 0"));
  }
  if (spec.min_replicas && spec.max_replicas < *spec.min_replicas) {
    errors.push_back(invalid("spec.maxReplicas", std::to_string(spec.max_replicas),
                             "must be greater than or equal to `minReplicas`"));
  }
  validate_reference(spec.scale_target_ref, "spec.scaleTargetRef", errors);
  bool has_object_or_external = false;
  for (std::size_t i = 0; i < spec.metrics.size(); ++i) {
    validate_metric_spec(spec.metrics[i], "spec.metrics[" + std::to_string(i) + "]", errors);
    has_object_or_external |=
        spec.metrics[i].type == "Object" || spec.metrics[i].type == "External";
  }
  if (spec.min_replicas && *spec.min_replicas == 0 && !has_object_or_external) {
    errors.push_back(forbidden(
        "spec.metrics",
        "must specify at least one Object or External metric to support scaling to zero replicas"));
  }
  if (spec.behavior) {
    validate_rules(spec.behavior->scale_up, "spec.behavior.scaleUp", errors);
    validate_rules(spec.behavior->scale_down, "spec.behavior.scaleDown", errors);
  }
  return errors;
}

}  // namespace llmscale::kube
