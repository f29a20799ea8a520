#!/usr/bin/env bash
# Writes corpus/fuzz_envelope/*: one valid chime.v1.Envelope per body kind,
# encoded by protoc from the text below. Re-run after changing the proto.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto_dir=$here/../../proto
out=$here/corpus/fuzz_envelope
mkdir -p "$out"
seed() {  # NAME TEXT
  printf '%s\n' "$2" | protoc --proto_path="$proto_dir" --encode=chime.v1.Envelope \
    chime/v1/chime.proto > "$out/$1"
}
seed hello 'protocol: PROTOCOL_V1 hello { worker_id: "host-42" host: "host" pid: 42 queues: "default" queues: "email" slots: 8 free_slots: 8 kinds: "http" version: "1.0" started_at_ms: 1700000000000 }'
seed capacity 'protocol: PROTOCOL_V1 capacity { worker_id: "host-42" free_slots: 3 }'
seed heartbeat 'protocol: PROTOCOL_V1 heartbeat { worker_id: "host-42" free_slots: 2 running_jobs: 17 running_jobs: 18 sent_at_ms: 1700000000000 }'
seed result 'protocol: PROTOCOL_V1 result { worker_id: "host-42" job_id: 17 attempt: 1 kind: "http" queue: "default" outcome: PARTIAL duration_ms: 12 summary_json: "{\"ok\":1}" errors: "timeout" accepted: true pickup_latency_ms: 5 }'
seed goodbye 'protocol: PROTOCOL_V1 goodbye { worker_id: "host-42" reason: "SIGTERM" }'
seed hello_ack 'protocol: PROTOCOL_V1 hello_ack { heartbeat_interval_ms: 1000 forget_after_ms: 10000 scheduler_id: "s1" }'
seed dispatch 'protocol: PROTOCOL_V1 dispatch { queues: "default" max_jobs: 4 }'
seed reconnect 'protocol: PROTOCOL_V1 reconnect {}'
seed admin_request 'protocol: PROTOCOL_V1 correlation_id: 7 admin_request { timestamp_ms: 1700000000000 nonce: "0123456789abcdef" body: "\n\x04\n\x02hi" signature: "0123456789abcdef0123456789abcdef" }'
seed admin_reply_show 'protocol: PROTOCOL_V1 correlation_id: 7 admin_reply { show { job { id: 1 kind: "http" state: "running" } runs { id: 2 job_id: 1 attempt: 1 errors: "e" } children_by_state { key: "running" value: 2 } children_by_state { key: "succeeded" value: 5 } } }'
seed admin_reply_error 'protocol: PROTOCOL_V1 admin_reply { error { code: NOT_FOUND message: "job 7 not found" } }'
seed error 'protocol: PROTOCOL_V1 error { code: INVALID_ARGUMENT message: "frame: empty" }'
