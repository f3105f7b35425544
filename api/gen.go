package api

// The .proto files under proto/ are the source of truth for the wire types;
// the generated packages (mesospb, schedulerpb, executorpb, masterpb, quotapb, agentpb) are
// committed so that building needs no protoc. Regenerate with
// `go generate ./api` (needs /usr/bin/protoc, Debian package
// protobuf-compiler).
//go:generate sh -c "/usr/bin/protoc -I proto --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=. --go_opt=module=github.com/cairnhq/cairn/api proto/mesos/v1/mesos.proto proto/mesos/v1/scheduler/scheduler.proto proto/mesos/v1/executor/executor.proto proto/mesos/v1/master/master.proto proto/mesos/v1/quota/quota.proto proto/mesos/v1/agent/agent.proto"
