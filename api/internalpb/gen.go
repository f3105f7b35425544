// Package internalpb holds the generated types of Cairn's master↔agent
// protocol (internal.proto). Regenerate with `go generate ./api/...`.
package internalpb

//go:generate sh -c "protoc -I ../proto -I . --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=. --go_opt=paths=source_relative --go_opt=Minternal.proto=github.com/cairnhq/cairn/api/internalpb internal.proto"
