// events.k8s.io/v1 Events over the core/v1 Event storage, converted field by field as
// kube-apiserver converts them (pkg/apis/events/v1/conversion.go): involvedObject <->
// regarding, message <-> note, source <-> deprecatedSource, firstTimestamp/lastTimestamp/count
// <-> deprecatedFirstTimestamp/deprecatedLastTimestamp/deprecatedCount, reportingComponent <->
// reportingController; the rest keep their names.
#pragma once

#include "apiserver/status.h"
#include "core/json.h"

namespace llmscale::apiserver {

ApiResult<core::Json> event_v1_to_core(const core::Json& event);
core::Json event_core_to_v1(const core::Json& stored);

}  // namespace llmscale::apiserver
