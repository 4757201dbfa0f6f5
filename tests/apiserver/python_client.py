"""Debian's python3-kubernetes against llmscale's embedded API server (run by
python_client_test.cc): list, watch with bookmarks, patch of the scale subresource, a 409 on a
stale update, a 410 on a watch from a compacted resourceVersion. Prints one line per check and
exits non-zero on the first failure."""
import sys
import threading

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

config = client.Configuration()
config.host = sys.argv[1]
api_client = client.ApiClient(config)
apps = client.AppsV1Api(api_client)
core = client.CoreV1Api(api_client)

deployment = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "llm", "labels": {"app": "llm"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "llm"}},
        "template": {
            "metadata": {"labels": {"app": "llm"}},
            "spec": {"containers": [{"name": "server", "image": "vllm/vllm-openai:v0.6.3"}]},
        },
    },
}
created = apps.create_namespaced_deployment("default", deployment)
print("created", created.metadata.name, created.metadata.resource_version)

namespaces = core.list_namespace()
print("namespaces", [n.metadata.name for n in namespaces.items])

listed = apps.list_namespaced_deployment("default")
print("listed", len(listed.items), "at", listed.metadata.resource_version)

events = []
def watch_deployments():
    w = watch.Watch()
    for event in w.stream(apps.list_namespaced_deployment, "default",
                          resource_version=listed.metadata.resource_version,
                          allow_watch_bookmarks=True, timeout_seconds=3):
        replicas = event["object"].spec.replicas if event["type"] != "BOOKMARK" else None
        events.append((event["type"], replicas))
        if event["type"] == "MODIFIED" and replicas == 3:
            w.stop()

watcher = threading.Thread(target=watch_deployments)
watcher.start()
scale = apps.patch_namespaced_deployment_scale("llm", "default", {"spec": {"replicas": 3}})
print("scaled", scale.spec.replicas, scale.status.selector)
watcher.join(timeout=10)
print("watched", events)
assert ("MODIFIED", 3) in events, events

stale = created
stale.spec.replicas = 5
try:
    apps.replace_namespaced_deployment("llm", "default", stale)
    print("no conflict")
    sys.exit(1)
except ApiException as e:
    print("conflict", e.status, e.reason)
    assert e.status == 409

# Enough writes to push resourceVersion 1 out of the server's short history.
for replicas in range(2, 12):
    apps.patch_namespaced_deployment_scale("llm", "default", {"spec": {"replicas": replicas}})
try:
    w = watch.Watch()
    for event in w.stream(apps.list_namespaced_deployment, "default", resource_version="1",
                          timeout_seconds=2):
        print("unexpected", event["type"])
    print("no expiry")
    sys.exit(1)
except ApiException as e:
    print("expired", e.status)
    assert e.status == 410
print("ok")
